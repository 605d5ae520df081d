"""The job runner: runs work in this process' thread pool, keeps every state in the real store
(SQLite and PostgreSQL): states, errors, one job per case at a time, heartbeats, shutdown."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from sqlalchemy import select

from raredx.api.rest.jobs import SHUTDOWN_ERROR, Job, JobRunner
from raredx.errors import InputError, KnowledgeBaseError
from raredx.store import Store
from raredx.store.models import Job as JobRow
from tests.store.conftest import table_rows


@pytest.fixture
def store(make_store: Any) -> Store:
    """A store with centre A (users u and v) and centre B (user w)."""
    s: Store = make_store()
    for centre in ("A", "B"):
        s.add_centre(centre, f"centre {centre}")
    s.add_user("u", role="geneticist", centre="A")
    s.add_user("v", role="clinician", centre="A")
    s.add_user("w", role="geneticist", centre="B")
    return s


def _wait(runner: JobRunner, job_id: str) -> Job:
    for _ in range(1000):
        job = runner.get(job_id)
        assert job is not None
        if not job.active:
            return job
        time.sleep(0.01)
    raise AssertionError("job did not finish")


def test_states_steps_and_results(store: Store) -> None:
    runner = JobRunner(store, workers=1)
    release = threading.Event()
    seen: list[str | None] = []

    def work(step: Callable[[str], None]) -> Mapping[str, Any]:
        step("half way")
        release.wait(5)
        return {"answer": 42}

    job = runner.submit("analysis", work, centre="A", user="u", case_id="c1")
    assert job.state == "queued" and job.created is not None
    for _ in range(500):
        current = runner.get(job.id)
        assert current is not None
        seen.append(current.step)
        if current.step == "half way":
            assert current.state == "running" and current.started is not None
            break
        time.sleep(0.01)
    assert "half way" in seen
    # the same case's analysis is not started twice
    again = runner.submit("analysis", work, centre="A", user="v", case_id="c1")
    assert again.id == job.id
    # the store has it: another runner (as another server process would) sees it
    other = JobRunner(store, workers=1)
    assert other.get(job.id, centre="A") == runner.get(job.id)
    assert other.get(job.id, centre="B") is None
    release.set()
    done = _wait(runner, job.id)
    assert done.state == "done" and done.result == {"answer": 42} and done.finished is not None
    assert done.step is None and other.get(job.id) == done
    assert runner.get("nope") is None
    runner.shutdown()
    other.shutdown()
    assert JobRunner(store).get(job.id) == done  # kept after the runners stopped


@pytest.mark.parametrize(
    ("error", "message", "problems"),
    [
        (InputError("bad input", ["one", "two"]), "bad input", ("one", "two")),
        (KnowledgeBaseError("no KB"), "no KB", ()),
        (RuntimeError("secret internals /etc/x"), "internal error (see the log)", ()),
    ],
)
def test_failures_report_their_error(
    store: Store, error: Exception, message: str, problems: tuple[str, ...]
) -> None:
    runner = JobRunner(store, workers=1)

    def work(step: Callable[[str], None]) -> Mapping[str, Any]:
        raise error

    job = _wait(runner, runner.submit("x", work, centre="A", user="u").id)
    assert (job.state, job.error, job.problems, job.result) == ("failed", message, problems, None)
    runner.shutdown()


def test_a_result_the_store_cannot_hold_fails_the_job(store: Store) -> None:
    runner = JobRunner(store, workers=1)
    job = runner.submit("x", lambda step: {"score": float("nan")}, centre="A", user="u")
    done = _wait(runner, job.id)
    assert (done.state, done.error) == ("failed", "internal error (see the log)")
    runner.shutdown()


def test_unknown_users_and_centres_are_refused(store: Store) -> None:
    runner = JobRunner(store, workers=1)
    before = table_rows(store)
    for centre, user in (("A", "nobody"), ("Z", "u"), ("B", "u")):
        with pytest.raises(InputError):
            runner.submit("x", lambda step: {}, centre=centre, user=user)
    assert table_rows(store) == before
    runner.shutdown()


def test_running_jobs_get_heartbeats(store: Store) -> None:
    runner = JobRunner(store, workers=1, heartbeat_seconds=0.05)
    release = threading.Event()
    job = runner.submit("x", lambda step: {"ok": release.wait(10)}, centre="A", user="u")

    def beat() -> Any:
        with store.transaction() as s:
            return s.scalar(select(JobRow.heartbeat_at).where(JobRow.id == job.id))

    first = beat()
    for _ in range(500):
        if beat() > first:
            break
        time.sleep(0.01)
    assert beat() > first
    assert runner.start() == 0  # a server starting up leaves a live process' jobs alone
    release.set()
    assert _wait(runner, job.id).result == {"ok": True}
    runner.shutdown()


def test_shutdown_waits_for_running_jobs_and_cancels_queued_ones(store: Store) -> None:
    runner = JobRunner(store, workers=1)
    started = threading.Event()

    def slow(step: Callable[[str], None]) -> Mapping[str, Any]:
        started.set()
        time.sleep(0.2)
        return {}

    first = runner.submit("a", slow, centre="A", user="u", case_id="1")
    second = runner.submit("a", slow, centre="A", user="u", case_id="2")
    started.wait(5)
    runner.shutdown()
    assert runner.get(first.id).state == "done"  # type: ignore[union-attr]
    cancelled = runner.get(second.id)
    assert cancelled is not None and (cancelled.state, cancelled.error) == (
        "failed",
        SHUTDOWN_ERROR,
    )
    with pytest.raises(RuntimeError):
        runner.submit("a", slow, centre="A", user="u")
