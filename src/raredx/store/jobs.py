"""Background jobs kept in the store, so that every server process answers for every job.

A job (an analysis with a VCF, a reanalysis run) is *run* by the server process that accepted
the request, in its thread pool (`raredx.api.rest.jobs.JobRunner`), but every state change is
written to the ``jobs`` table and every read comes from it: with ``raredx serve --workers N``
any worker answers ``GET /api/v1/jobs/{id}``, and a restart keeps the jobs' history.

A job is ``queued``, ``running`` (with its current `step`), ``done`` (with a small JSON
`result`) or ``failed`` (with an `error` and the `problems` of bad input). It belongs to a
centre: `get_job` with another centre's code answers None, exactly as for a job that does
not exist. Only one job of a kind for a case (or, without a case, for a centre) is queued or
running at a time, across all processes: `create_job` returns the active one instead of
creating another (the ``active_key`` column, unique while the job is active and NULL
afterwards, settles races between processes).

Jobs of a dead process
----------------------

A process that dies (a crash, ``kill -9``, a restart while jobs run) leaves its jobs queued
or running for ever unless someone notices. Marking every active job as failed when a server
starts would be wrong: ``raredx serve --workers 2`` starts two processes that share the store,
and one's start-up would fail the jobs the other has just accepted. So each job records the
process that runs it -- `owner_host` (host name, plus on Linux the boot id and the PID
namespace, so that two containers or two boots of one machine never look like the same
host), `owner_pid` and `owner_token` (random, drawn once per process) -- and that process
refreshes the job's `heartbeat_at` every `HEARTBEAT_SECONDS` while it holds the job. An
active job is *orphaned*, and marked failed with the error `INTERRUPTED`, when:

1. its heartbeat is older than `STALE_AFTER` (the owner stopped beating: dead, or hung, on
   any host; this is the rule that covers other hosts, whose processes cannot be inspected);
2. or its owner is on this host and is *this* process id with another token: a previous
   process that had our PID (PID reuse, e.g. a container restarted) is certainly gone;
3. or its owner is on this host and no process has its PID any more (``kill(pid, 0)``; POSIX
   only, elsewhere rules 1 and 2 apply).

A live owner's jobs are never orphaned: its PID exists and it beats. A dead owner's jobs are
detected at once on the same host (rule 3 or 2) and within `STALE_AFTER` anywhere (rule 1).
The check runs when a server starts (`interrupt_orphaned_jobs`, every active job), when a
job is read (`get_job`: the poller learns at once) and when a job of the same kind and case
is requested (`create_job`: the dead one does not block a new one). The worst case is a live
owner whose heartbeats cannot be written for `STALE_AFTER` (e.g. the database unreachable
that long): its job is marked interrupted, and then marked done (or failed) with its real
outcome when it finishes, since the owner's own writes always win. Hosts sharing a
PostgreSQL store are assumed to keep their clocks within seconds of each other.

Retention: creating a job deletes the jobs that finished more than `JOB_RETENTION` (30 days)
ago. The recorded analyses themselves stay in the store for ever.

Jobs hold ids and summaries (case ids, analysis ids, the kinds of changes a reanalysis found),
not phenotypes or genotypes; reading them is not audited (a poll a second would flood the
audit log), while the analyses they record are, when they are written and when they are read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import socket
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, cast

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from raredx.errors import InputError
from raredx.store import models as m
from raredx.store.store import Store, StoreError

__all__ = [
    "ACTIVE_STATES",
    "HEARTBEAT_SECONDS",
    "INTERRUPTED",
    "JOB_RETENTION",
    "STALE_AFTER",
    "JobOwner",
    "JobRecord",
    "JobState",
    "create_job",
    "fail_job",
    "finish_job",
    "get_job",
    "heartbeat_jobs",
    "interrupt_orphaned_jobs",
    "set_job_step",
    "start_job",
    "this_process",
]

JobState = Literal["queued", "running", "done", "failed"]
"""The states of `raredx.store.models.JOB_STATES`."""

ACTIVE_STATES: tuple[JobState, ...] = ("queued", "running")
"""A job in one of these states has not finished."""

HEARTBEAT_SECONDS = 15.0
"""How often the process running jobs refreshes their `heartbeat_at`."""

STALE_AFTER = timedelta(minutes=2)
"""An active job whose heartbeat is older than this is orphaned (its process is gone)."""

JOB_RETENTION = timedelta(days=30)
"""Finished jobs older than this are deleted when a new job is created."""

INTERRUPTED = "interrupted: the server stopped before the job finished"
"""The error of a job whose process died while it was queued or running."""

_MAX_KIND = 32
_MAX_CASE_ID = 256
_MAX_STEP = 256
_MAX_ERROR = 4000
_MAX_PROBLEMS = 100
_MAX_PROBLEM = 1000
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True, slots=True)
class JobOwner:
    """The process running a job: its host (see the module docstring), PID and a random
    token drawn once per process."""

    host: str
    pid: int
    token: str


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A job read back from the store (a snapshot: read it again for its later states)."""

    id: str
    kind: str
    centre: str
    user: str
    case_id: str | None
    state: JobState
    created: datetime
    started: datetime | None = None
    finished: datetime | None = None
    step: str | None = None
    error: str | None = None
    problems: tuple[str, ...] = ()
    result: Mapping[str, Any] | None = None

    @property
    def active(self) -> bool:
        """True while the job is queued or running."""
        return self.state in ACTIVE_STATES


def _host_key() -> str:
    parts = [socket.gethostname() or "localhost"]
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        parts.append(f"boot={boot}")
    except OSError:
        pass
    with contextlib.suppress(OSError):
        parts.append(f"pidns={os.readlink('/proc/self/ns/pid')}")
    return " ".join(parts)[:512]


_owner: JobOwner | None = None
_owner_lock = threading.Lock()


def this_process() -> JobOwner:
    """The identity this process writes on the jobs it runs (a forked child gets its own)."""
    global _owner
    pid = os.getpid()
    with _owner_lock:
        if _owner is None or _owner.pid != pid:
            _owner = JobOwner(_host_key(), pid, secrets.token_hex(16))
        return _owner


def _pid_alive(pid: int) -> bool:
    """Whether a process with this PID exists on this host (True when it cannot be told)."""
    if os.name != "posix" or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, under another user
        return True
    return True


def _orphaned(row: m.Job, me: JobOwner, now: datetime) -> bool:
    """Whether an active job's process is gone (the three rules of the module docstring)."""
    if row.heartbeat_at < now - STALE_AFTER:
        return True
    if row.owner_host != me.host:
        return False
    if row.owner_pid == me.pid:
        return row.owner_token != me.token
    return not _pid_alive(row.owner_pid)


def _interrupt(row: m.Job, now: datetime) -> None:
    row.state = "failed"
    row.finished_at = now
    row.error = INTERRUPTED
    row.problems = []
    row.result = None
    row.active_key = None


def _record(row: m.Job) -> JobRecord:
    return JobRecord(
        id=row.id,
        kind=row.kind,
        centre=row.centre.code,
        user=row.user.name,
        case_id=row.case_id,
        state=cast(JobState, row.state),
        created=row.created_at,
        started=row.started_at,
        finished=row.finished_at,
        step=row.step,
        error=row.error,
        problems=tuple(row.problems or ()),
        result=dict(row.result) if row.result is not None else None,
    )


def _active_key(kind: str, centre_id: int, case_id: str | None) -> str:
    text = json.dumps([kind, centre_id, case_id], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _locked(s: Session, job_id: str) -> m.Job | None:
    """The job's row, locked until the transaction ends (PostgreSQL; SQLite transactions
    hold the database's write lock already)."""
    return s.get(m.Job, job_id, with_for_update=True, populate_existing=True)


def create_job(
    store: Store, *, kind: str, centre: str, user: str, case_id: str | None = None
) -> tuple[JobRecord, bool]:
    """A new queued job of `kind` for `user` of `centre` (and `case_id`), run by this process:
    ``(job, True)``. When a job of the same kind, centre and case is still queued or running
    (in any process), that job is returned instead: ``(job, False)``; if its process is gone
    it is marked failed (`INTERRUPTED`) and a new one is created.

    Also deletes the jobs that finished more than `JOB_RETENTION` ago. Raises `InputError`
    (nothing written) for an unknown centre or user, a user of another centre, an empty or
    over-long kind (32 characters) or case id (256).
    """
    problems: list[str] = []
    if not 1 <= len(kind) <= _MAX_KIND:
        problems.append(f"job kind {kind!r}: 1 to {_MAX_KIND} characters")
    if case_id is not None and not 1 <= len(case_id) <= _MAX_CASE_ID:
        problems.append(f"case id: 1 to {_MAX_CASE_ID} characters")
    me = this_process()
    with store.transaction() as s:
        centre_row = s.scalar(select(m.Centre).where(m.Centre.code == centre))
        user_row = s.scalar(select(m.User).where(m.User.name == user))
        if centre_row is None:
            problems.append(f"unknown centre {centre!r}")
        if user_row is None:
            problems.append(f"unknown user {user!r}")
        elif centre_row is not None and user_row.centre_id != centre_row.id:
            problems.append(f"user {user!r} is not a user of centre {centre!r}")
        if problems or centre_row is None or user_row is None:
            raise InputError("the job was not created", problems)
        now = m.utc_now()
        s.execute(delete(m.Job).where(m.Job.finished_at < now - JOB_RETENTION))
        key = _active_key(kind, centre_row.id, case_id)
        for _attempt in range(3):
            existing = s.scalar(select(m.Job).where(m.Job.active_key == key))
            if existing is not None:
                existing = _locked(s, existing.id)
            if existing is not None and existing.active_key == key:
                if not _orphaned(existing, me, now):
                    return _record(existing), False
                _interrupt(existing, now)
                s.flush()
            row = m.Job(
                id=secrets.token_urlsafe(12),
                kind=kind,
                centre_id=centre_row.id,
                user_id=user_row.id,
                case_id=case_id,
                state="queued",
                created_at=now,
                problems=[],
                active_key=key,
                owner_host=me.host,
                owner_pid=me.pid,
                owner_token=me.token,
                heartbeat_at=now,
            )
            try:
                with s.begin_nested():
                    s.add(row)
            except IntegrityError:
                continue  # another process created the active job meanwhile: read it
            return _record(row), True
    raise StoreError(f"could not create a {kind} job: the store kept refusing it")


def get_job(store: Store, job_id: str, *, centre: str | None) -> JobRecord | None:
    """The job `job_id` of `centre` (None: of any centre, for the code running it), or None
    when there is no such job or it is another centre's. A job left active by a process that
    is gone is marked failed (`INTERRUPTED`) first."""
    if not _JOB_ID.fullmatch(job_id):
        return None
    with store.transaction() as s:
        query = select(m.Job).where(m.Job.id == job_id)
        if centre is not None:
            query = query.join(m.Centre, m.Job.centre_id == m.Centre.id).where(
                m.Centre.code == centre
            )
        row = s.scalar(query)
        if row is None:
            return None
        now = m.utc_now()
        if row.state in ACTIVE_STATES and _orphaned(row, this_process(), now):
            row = _locked(s, job_id)  # read again under the lock: it may have moved on
            if row is None:
                return None
            if row.state in ACTIVE_STATES and _orphaned(row, this_process(), now):
                _interrupt(row, now)
        return _record(row)


def start_job(store: Store, job_id: str) -> bool:
    """Mark a queued job running (now); False when it is not queued any more (interrupted or
    cancelled meanwhile: do not run it)."""
    with store.transaction() as s:
        row = _locked(s, job_id)
        if row is None or row.state != "queued":
            return False
        now = m.utc_now()
        row.state = "running"
        row.started_at = now
        row.heartbeat_at = now
        return True


def set_job_step(store: Store, job_id: str, step: str) -> None:
    """Record what a running job is doing now (trimmed to 256 characters)."""
    with store.transaction() as s:
        s.execute(
            update(m.Job)
            .where(m.Job.id == job_id, m.Job.state.in_(ACTIVE_STATES))
            .values(step=step[:_MAX_STEP])
        )


def _json_object(value: Mapping[str, Any]) -> dict[str, Any]:
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError("the job's result is not JSON", [str(exc)]) from None
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise InputError("the job's result is not a JSON object")
    return loaded


def finish_job(store: Store, job_id: str, result: Mapping[str, Any]) -> JobRecord | None:
    """Mark the job done with `result` (a JSON object); None when there is no such job.

    The owner's word wins: a job wrongly marked interrupted (see the module docstring) gets
    its real outcome. A result that is not JSON (NaN, objects) is an `InputError`, and the
    job is left as it was.
    """
    return _end(store, job_id, "done", None, [], _json_object(result))


def fail_job(
    store: Store, job_id: str, error: str, problems: Sequence[str] = ()
) -> JobRecord | None:
    """Mark the job failed with `error` and `problems` (trimmed: 4000 characters, 100
    problems of 1000); None when there is no such job."""
    trimmed = [str(p)[:_MAX_PROBLEM] for p in list(problems)[:_MAX_PROBLEMS]]
    return _end(store, job_id, "failed", error[:_MAX_ERROR], trimmed, None)


def _end(
    store: Store,
    job_id: str,
    state: JobState,
    error: str | None,
    problems: list[str],
    result: dict[str, Any] | None,
) -> JobRecord | None:
    """Record a job's end (`state` done or failed; a failed job keeps the step it failed
    at); None when there is no such job."""
    with store.transaction() as s:
        row = _locked(s, job_id)
        if row is None:
            return None
        row.state = state
        row.finished_at = m.utc_now()
        if state == "done":
            row.step = None
        row.error = error
        row.problems = problems
        row.result = result
        row.active_key = None
        return _record(row)


def heartbeat_jobs(store: Store, job_ids: Iterable[str]) -> None:
    """Refresh the heartbeat of these jobs (those still queued or running): called by the
    process running them every `HEARTBEAT_SECONDS`."""
    ids = sorted(set(job_ids))
    if not ids:
        return
    with store.transaction() as s:
        s.execute(
            update(m.Job)
            .where(m.Job.id.in_(ids), m.Job.state.in_(ACTIVE_STATES))
            .values(heartbeat_at=m.utc_now())
        )


def interrupt_orphaned_jobs(store: Store) -> int:
    """Mark failed (`INTERRUPTED`) every queued or running job whose process is gone; returns
    how many. Safe while other processes run jobs: theirs are alive, so left alone. Called
    when a server starts."""
    me = this_process()
    count = 0
    with store.transaction() as s:
        ids = s.scalars(
            select(m.Job.id).where(m.Job.state.in_(ACTIVE_STATES)).order_by(m.Job.id)
        ).all()
        now = m.utc_now()
        for job_id in ids:
            row = _locked(s, job_id)
            if row is not None and row.state in ACTIVE_STATES and _orphaned(row, me, now):
                _interrupt(row, now)
                count += 1
    return count
