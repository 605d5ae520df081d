"""The job runner for the work a request should not wait for, with its jobs in the store.

Analyses of cases with a VCF (reading a genome takes seconds to minutes) and reanalysis runs
go through here: the request gets ``202 {"job_id": ...}`` at once, a thread pool (two workers)
of the process that accepted it does the work, and ``GET /api/v1/jobs/{job_id}`` reports its
state: ``queued``, ``running`` (with the current `step`), ``done`` (with a small `result`) or
``failed`` (with the error text and problems of bad input; an unexpected error is logged and
reported without internals).

Every state change is written to the case store (`raredx.store.jobs`) and every read comes
from it, so with ``raredx serve --workers N`` any worker process answers for any job, and a
restart keeps the jobs' history; a job whose process died is reported failed with
`raredx.store.jobs.INTERRUPTED` (how that is told apart from a job another live process
runs is explained there). While it holds jobs, the runner refreshes their heartbeat every
`raredx.store.jobs.HEARTBEAT_SECONDS` from a background thread. Finished jobs are kept
`raredx.store.jobs.JOB_RETENTION` (30 days). Each job belongs to a centre: only users of that
centre may see it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from raredx.errors import InputError, RaredxError
from raredx.store import Store, StoreError
from raredx.store import jobs as store_jobs
from raredx.store.jobs import JobRecord, JobState

__all__ = ["SHUTDOWN_ERROR", "Job", "JobRunner", "JobState", "Work"]

Job = JobRecord
"""A snapshot of one job, as the store holds it (read the job again for its later states)."""

Work = Callable[[Callable[[str], None]], Mapping[str, Any]]
"""A job's work: called with `step(text)` to report progress; returns the job's result."""

_log = logging.getLogger(__name__)
_T = TypeVar("_T")
_RETRIES = (0.5, 1.0, 2.0)
"""Pauses between attempts at a job's state write the store refused (unreachable, busy)."""

SHUTDOWN_ERROR = "the server stopped before the job started"
"""The error of a queued job cancelled because its server process stopped."""


class JobRunner:
    """Runs `Work` on a small thread pool and records each job's state in `store`."""

    def __init__(
        self,
        store: Store,
        workers: int = 2,
        *,
        heartbeat_seconds: float = store_jobs.HEARTBEAT_SECONDS,
    ) -> None:
        self._store = store
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="raredx-job")
        self._lock = threading.Lock()
        self._mine: set[str] = set()  # submitted here and not finished yet: they get heartbeats
        self._closed = False
        self._heartbeat_seconds = heartbeat_seconds
        self._stop = threading.Event()
        self._beating: threading.Thread | None = None

    @property
    def store(self) -> Store:
        """The store the jobs are kept in."""
        return self._store

    def start(self) -> int:
        """Mark failed the jobs left queued or running by a process that is gone (called when
        the app starts; other live processes' jobs are left alone); returns how many."""
        count = store_jobs.interrupt_orphaned_jobs(self._store)
        if count:
            _log.warning("%d job(s) of a stopped server process marked interrupted", count)
        return count

    def submit(
        self, kind: str, work: Work, *, centre: str, user: str, case_id: str | None = None
    ) -> Job:
        """Queue `work`; returns the queued job. A job of the same kind for the same centre
        and case that is still queued or running (in any server process) is returned instead
        of starting another. `InputError` for an unknown user or centre."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the job runner is shut down")
            job, created = store_jobs.create_job(
                self._store, kind=kind, centre=centre, user=user, case_id=case_id
            )
            if not created:
                return job
            self._mine.add(job.id)
            if self._beating is None:
                self._beating = threading.Thread(
                    target=self._heartbeat, name="raredx-job-heartbeat", daemon=True
                )
                self._beating.start()
            self._executor.submit(self._run, job.id, work)
        return job

    def get(self, job_id: str, *, centre: str | None = None) -> Job | None:
        """The job's current state from the store, or None if unknown (or forgotten, or, with
        `centre`, another centre's)."""
        return store_jobs.get_job(self._store, job_id, centre=centre)

    def shutdown(self) -> None:
        """Cancel queued jobs and wait for the running ones (called when the app stops)."""
        with self._lock:
            self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            left = sorted(self._mine)  # cancelled before they started
            self._mine.clear()
        for job_id in left:
            try:
                store_jobs.fail_job(self._store, job_id, SHUTDOWN_ERROR)
            except RaredxError:
                _log.exception("job %s: cannot record that it was cancelled", job_id)
        self._stop.set()
        if self._beating is not None:
            self._beating.join(timeout=10)

    def _heartbeat(self) -> None:
        while not self._stop.wait(self._heartbeat_seconds):
            with self._lock:
                ids = sorted(self._mine)
            if not ids:
                continue
            try:
                store_jobs.heartbeat_jobs(self._store, ids)
            except Exception:
                _log.warning("cannot refresh the heartbeat of jobs %s", ids, exc_info=True)

    def _write(self, what: Callable[..., _T], *args: Any) -> _T:
        """`what(store, *args)`, tried again a few times while the store is unavailable."""
        for pause in (*_RETRIES, None):
            try:
                return what(self._store, *args)
            except StoreError:
                if pause is None:
                    raise
                time.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover

    def _step(self, job_id: str, text: str) -> None:
        try:
            store_jobs.set_job_step(self._store, job_id, text)
        except StoreError:
            _log.warning("job %s: cannot record its step %r", job_id, text, exc_info=True)

    def _fail(self, job_id: str, error: str, problems: Sequence[str] = ()) -> None:
        self._write(store_jobs.fail_job, job_id, error, problems)

    def _run(self, job_id: str, work: Work) -> None:
        try:
            if self._write(store_jobs.start_job, job_id):
                self._outcome(job_id, work)
        except Exception:
            _log.exception("job %s: cannot record its state in the store", job_id)
        finally:
            with self._lock:
                self._mine.discard(job_id)

    def _outcome(self, job_id: str, work: Work) -> None:
        try:
            result = dict(work(lambda text: self._step(job_id, text)))
        except InputError as exc:
            self._fail(job_id, exc.message, exc.problems)
        except RaredxError as exc:
            self._fail(job_id, str(exc))
        except Exception:
            _log.exception("job %s failed", job_id)
            self._fail(job_id, "internal error (see the log)")
        else:
            try:
                self._write(store_jobs.finish_job, job_id, result)
            except InputError:
                _log.exception("job %s: its result cannot be stored", job_id)
                self._fail(job_id, "internal error (see the log)")
