"""Background jobs in the store (`raredx.store.jobs`): states, one active job per kind and
case, centre isolation, retention, and jobs left behind by processes that are gone -- told
apart from the jobs of live processes with real child processes, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from raredx.errors import InputError
from raredx.store import (
    INTERRUPTED,
    JOB_RETENTION,
    Store,
    create_job,
    fail_job,
    finish_job,
    get_job,
    heartbeat_jobs,
    interrupt_orphaned_jobs,
    set_job_step,
    start_job,
)
from raredx.store.jobs import STALE_AFTER, this_process
from raredx.store.models import Job, utc_now
from tests.store.conftest import table_rows

# A job created by another process, which then exits or waits for a line on stdin.
_CHILD = """
import sys
from raredx.store import Store, create_job
url, kind, case, mode = sys.argv[1:]
with Store.open(url) as store:
    job, created = create_job(store, kind=kind, centre="C1", user="alice", case_id=case)
    print(job.id, created, flush=True)
    if mode == "wait":
        sys.stdin.readline()
"""


def _child_job(url: str, case: str, kind: str = "analysis") -> str:
    """A job created by a child process that has exited since."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, url, kind, case, "exit"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    job_id, created = done.stdout.split()
    assert created == "True"
    return job_id


def _set(store: Store, job_id: str, **values: Any) -> None:
    with store.transaction() as s:
        s.execute(update(Job).where(Job.id == job_id).values(**values))


def _column(store: Store, job_id: str, name: str) -> Any:
    with store.transaction() as s:
        return s.scalar(select(getattr(Job, name)).where(Job.id == job_id))


def test_a_job_goes_from_queued_to_running_to_done(store: Store) -> None:
    job, created = create_job(store, kind="analysis", centre="C1", user="bob", case_id="c1")
    assert created and job.state == "queued" and job.active
    assert (job.kind, job.centre, job.user, job.case_id) == ("analysis", "C1", "bob", "c1")
    assert job.started is None and job.finished is None and job.created.tzinfo is not None
    assert get_job(store, job.id, centre="C1") == job
    assert start_job(store, job.id) is True
    assert start_job(store, job.id) is False  # only a queued job starts
    set_job_step(store, job.id, "reading the VCF" + "!" * 1000)
    running = get_job(store, job.id, centre="C1")
    assert running is not None and running.state == "running" and running.started is not None
    assert running.step == ("reading the VCF" + "!" * 1000)[:256]
    done = finish_job(store, job.id, {"analysis_id": 7, "cases": ("a", "b"), "genome": True})
    assert done == get_job(store, job.id, centre="C1")
    assert done is not None and done.state == "done" and not done.active
    assert done.result == {"analysis_id": 7, "cases": ["a", "b"], "genome": True}
    assert done.step is None and done.finished is not None and done.finished >= done.created
    set_job_step(store, job.id, "late")  # a finished job's step does not change
    assert get_job(store, job.id, centre="C1") == done
    again, created = create_job(store, kind="analysis", centre="C1", user="bob", case_id="c1")
    assert created and again.id != job.id  # the first one has finished


def test_a_failed_job_keeps_its_error_and_problems(store: Store) -> None:
    job, _ = create_job(store, kind="reanalysis", centre="C1", user="bob")
    failed = fail_job(store, job.id, "bad input" + "x" * 5000, [f"p{i}" for i in range(150)])
    assert failed is not None and failed.state == "failed" and failed.result is None
    assert failed.error == ("bad input" + "x" * 5000)[:4000]
    assert failed.problems == tuple(f"p{i}" for i in range(100))
    assert get_job(store, job.id, centre="C1") == failed
    assert fail_job(store, "no-such-job", "x") is None
    assert finish_job(store, "no-such-job", {}) is None


def test_one_active_job_per_kind_centre_and_case(store: Store) -> None:
    store.add_user("carol", role="geneticist", centre="C2")
    first, created = create_job(store, kind="analysis", centre="C1", user="bob", case_id="c1")
    same, again = create_job(store, kind="analysis", centre="C1", user="alice", case_id="c1")
    assert created and not again and same == first
    start_job(store, first.id)
    same, again = create_job(store, kind="analysis", centre="C1", user="bob", case_id="c1")
    assert not again and same.id == first.id and same.state == "running"
    others = [
        create_job(store, kind="analysis", centre="C1", user="bob", case_id="c2"),
        create_job(store, kind="export", centre="C1", user="bob", case_id="c1"),
        create_job(store, kind="analysis", centre="C2", user="carol", case_id="c1"),
        create_job(store, kind="reanalysis", centre="C1", user="bob"),
    ]
    assert all(created for _, created in others)
    assert len({first.id, *(job.id for job, _ in others)}) == 5
    reanalysis = others[-1][0]
    assert create_job(store, kind="reanalysis", centre="C1", user="alice") == (reanalysis, False)


def test_another_centre_s_job_is_not_found(store: Store) -> None:
    store.add_user("carol", role="geneticist", centre="C2")
    job, _ = create_job(store, kind="analysis", centre="C1", user="bob", case_id="c1")
    assert get_job(store, job.id, centre="C2") is None  # exactly as a missing job
    assert get_job(store, job.id, centre="C9") is None
    assert get_job(store, job.id, centre="C1") == job
    assert get_job(store, job.id, centre=None) == job  # the runner's own reads
    for hostile in ("nope", "", "../x", "a" * 65, "x\x00y", "é", job.id + " "):
        assert get_job(store, hostile, centre="C1") is None


def test_bad_input_writes_nothing(store: Store) -> None:
    store.add_user("carol", role="geneticist", centre="C2")
    before = table_rows(store)
    bad: list[dict[str, Any]] = [
        {"kind": "analysis", "centre": "C9", "user": "bob"},
        {"kind": "analysis", "centre": "C1", "user": "zed"},
        {"kind": "analysis", "centre": "C1", "user": "carol"},
        {"kind": "", "centre": "C1", "user": "bob"},
        {"kind": "k" * 33, "centre": "C1", "user": "bob"},
        {"kind": "analysis", "centre": "C1", "user": "bob", "case_id": "c" * 257},
    ]
    for kwargs in bad:
        with pytest.raises(InputError, match="the job was not created"):
            create_job(store, **kwargs)
    with pytest.raises(InputError) as err:
        create_job(store, kind="", centre="C9", user="zed")
    assert err.value.problems == (
        "job kind '': 1 to 32 characters",
        "unknown centre 'C9'",
        "unknown user 'zed'",
    )
    assert table_rows(store) == before


def test_a_result_that_is_not_json_is_refused(store: Store) -> None:
    job, _ = create_job(store, kind="analysis", centre="C1", user="bob", case_id="c1")
    start_job(store, job.id)
    for result in ({"p": float("nan")}, {"x": object()}):
        with pytest.raises(InputError, match="not JSON"):
            finish_job(store, job.id, result)
    found = get_job(store, job.id, centre="C1")
    assert found is not None and found.state == "running" and found.result is None


def test_finished_jobs_are_deleted_after_the_retention(store: Store) -> None:
    old, _ = create_job(store, kind="analysis", centre="C1", user="bob", case_id="old")
    finish_job(store, old.id, {})
    recent, _ = create_job(store, kind="analysis", centre="C1", user="bob", case_id="recent")
    fail_job(store, recent.id, "x")
    waiting, _ = create_job(store, kind="analysis", centre="C1", user="bob", case_id="waiting")
    now = utc_now()
    _set(store, old.id, finished_at=now - JOB_RETENTION - timedelta(minutes=1))
    _set(store, recent.id, finished_at=now - JOB_RETENTION + timedelta(minutes=5))
    _set(store, waiting.id, created_at=now - JOB_RETENTION * 2)
    assert get_job(store, old.id, centre="C1") is not None  # reading deletes nothing
    create_job(store, kind="reanalysis", centre="C1", user="bob")
    assert get_job(store, old.id, centre="C1") is None
    assert get_job(store, recent.id, centre="C1") is not None
    assert get_job(store, waiting.id, centre="C1") is not None  # not finished: kept


def test_a_dead_process_s_job_is_interrupted_when_read(store: Store, store_url: str) -> None:
    job_id = _child_job(store_url, "c1")
    found = get_job(store, job_id, centre="C1")
    assert found is not None and found.state == "failed" and found.error == INTERRUPTED
    assert found.finished is not None and found.problems == () and found.result is None
    assert get_job(store, job_id, centre="C1") == found  # recorded, not recomputed
    assert get_job(store, job_id, centre="C2") is None
    # a dead process' active job does not block a new request for the same case
    blocked = _child_job(store_url, "c2")
    new, created = create_job(store, kind="analysis", centre="C1", user="bob", case_id="c2")
    assert created and new.id != blocked
    dead = get_job(store, blocked, centre="C1")
    assert dead is not None and (dead.state, dead.error) == ("failed", INTERRUPTED)
    assert interrupt_orphaned_jobs(store) == 0


def test_a_live_process_keeps_its_jobs_until_it_exits(store: Store, store_url: str) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", _CHILD, store_url, "analysis", "c1", "wait"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None and child.stdin is not None
        try:
            job_id, created = child.stdout.readline().split()
            assert created == "True"
            # another process starting up (here: this one) leaves a live process' job alone
            assert interrupt_orphaned_jobs(store) == 0
            found = get_job(store, job_id, centre="C1")
            assert found is not None and found.state == "queued"
            same, created_here = create_job(
                store, kind="analysis", centre="C1", user="bob", case_id="c1"
            )
            assert same.id == job_id and not created_here
        finally:
            child.stdin.write("exit\n")
            child.stdin.close()
            assert child.wait(timeout=60) == 0
    assert interrupt_orphaned_jobs(store) == 1
    found = get_job(store, job_id, centre="C1")
    assert found is not None and (found.state, found.error) == ("failed", INTERRUPTED)


def test_stale_heartbeats_and_reused_process_ids(store: Store) -> None:
    def job(case: str) -> str:
        return create_job(store, kind="analysis", centre="C1", user="bob", case_id=case)[0].id

    stale, reused, elsewhere, mine = job("stale"), job("reused"), job("elsewhere"), job("mine")
    now = utc_now()
    # no heartbeat for longer than STALE_AFTER: gone, whoever the owner was
    _set(store, stale, heartbeat_at=now - STALE_AFTER - timedelta(seconds=5))
    # this process id, another token: a previous process that had our pid
    _set(store, reused, owner_token="0" * 32)
    # another host, beating: cannot be inspected from here, and is alive
    _set(store, elsewhere, owner_host="another-host", owner_pid=1)
    assert interrupt_orphaned_jobs(store) == 2
    states = {i: get_job(store, i, centre="C1") for i in (stale, reused, elsewhere, mine)}
    assert {i: (j.state, j.error) for i, j in states.items() if j is not None} == {
        stale: ("failed", INTERRUPTED),
        reused: ("failed", INTERRUPTED),
        elsewhere: ("queued", None),
        mine: ("queued", None),
    }
    _set(store, elsewhere, heartbeat_at=now - STALE_AFTER - timedelta(seconds=5))
    found = get_job(store, elsewhere, centre="C1")
    assert found is not None and found.error == INTERRUPTED

    before = _column(store, mine, "heartbeat_at")
    heartbeat_jobs(store, [mine, stale, "no-such-job"])
    assert _column(store, mine, "heartbeat_at") > before
    assert _column(store, mine, "owner_pid") == this_process().pid
    assert _column(store, stale, "heartbeat_at") == now - STALE_AFTER - timedelta(seconds=5)


def test_the_owner_s_outcome_wins_over_a_wrong_interruption(store: Store) -> None:
    job, _ = create_job(store, kind="analysis", centre="C1", user="bob", case_id="c1")
    start_job(store, job.id)
    _set(store, job.id, heartbeat_at=utc_now() - STALE_AFTER * 2)  # e.g. the store was down
    interrupted = get_job(store, job.id, centre="C1")
    assert interrupted is not None and interrupted.error == INTERRUPTED
    assert start_job(store, job.id) is False
    done = finish_job(store, job.id, {"analysis_id": 1})
    assert done is not None and (done.state, done.error, done.result) == (
        "done",
        None,
        {"analysis_id": 1},
    )
