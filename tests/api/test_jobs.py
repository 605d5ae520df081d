"""The in-process job runner: states, errors, one job per case at a time, shutdown."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from raredx.api.rest.jobs import Job, JobRunner
from raredx.errors import InputError, KnowledgeBaseError


def _wait(runner: JobRunner, job_id: str) -> Job:
    for _ in range(500):
        job = runner.get(job_id)
        assert job is not None
        if not job.active:
            return job
        time.sleep(0.01)
    raise AssertionError("job did not finish")


def test_states_steps_and_results() -> None:
    runner = JobRunner(workers=1)
    release = threading.Event()
    seen: list[str | None] = []

    def work(step: Callable[[str], None]) -> Mapping[str, Any]:
        step("half way")
        release.wait(5)
        return {"answer": 42}

    job = runner.submit("analysis", work, centre="A", user="u", case_id="c1")
    assert job.state == "queued" and job.created is not None
    for _ in range(200):
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
    release.set()
    done = _wait(runner, job.id)
    assert done.state == "done" and done.result == {"answer": 42} and done.finished is not None
    assert runner.get("nope") is None
    runner.shutdown()


@pytest.mark.parametrize(
    ("error", "message", "problems"),
    [
        (InputError("bad input", ["one", "two"]), "bad input", ("one", "two")),
        (KnowledgeBaseError("no KB"), "no KB", ()),
        (RuntimeError("secret internals /etc/x"), "internal error (see the log)", ()),
    ],
)
def test_failures_report_their_error(
    error: Exception, message: str, problems: tuple[str, ...]
) -> None:
    runner = JobRunner(workers=1)

    def work(step: Callable[[str], None]) -> Mapping[str, Any]:
        raise error

    job = _wait(runner, runner.submit("x", work, centre="A", user="u").id)
    assert (job.state, job.error, job.problems, job.result) == ("failed", message, problems, None)
    runner.shutdown()


def test_shutdown_waits_for_running_jobs_and_cancels_queued_ones() -> None:
    runner = JobRunner(workers=1)
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
    assert runner.get(second.id).state == "failed"  # type: ignore[union-attr]
    with pytest.raises(RuntimeError):
        runner.submit("a", slow, centre="A", user="u")


def test_old_finished_jobs_are_forgotten() -> None:
    runner = JobRunner(workers=1, keep=3)
    ids = [
        runner.submit("k", lambda step: {}, centre="A", user="u", case_id=str(i)).id
        for i in range(6)
    ]
    for job_id in ids:
        if runner.get(job_id) is not None:
            _wait(runner, job_id)
    runner.submit("k", lambda step: {}, centre="A", user="u")
    assert sum(runner.get(i) is not None for i in ids) <= 4
    runner.shutdown()
