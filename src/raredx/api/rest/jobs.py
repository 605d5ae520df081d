"""A small in-process job runner for the work a request should not wait for.

Analyses of cases with a VCF (reading a genome takes seconds to minutes) and reanalysis runs
go through here: the request gets ``202 {"job_id": ...}`` at once, a thread pool (two workers)
does the work, and ``GET /api/v1/jobs/{job_id}`` reports its state: ``queued``, ``running``
(with the current `step`), ``done`` (with a small `result`) or ``failed`` (with the error text
and problems of bad input; an unexpected error is logged and reported without internals).

Jobs live in memory only: a restart forgets them (the uploaded VCF and every recorded
analysis are in the store and on disk, so nothing of value is lost). Finished jobs are kept
for the `keep` most recent ones. Each job belongs to a centre: only users of that centre may
see it.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from raredx.errors import InputError, RaredxError

__all__ = ["Job", "JobRunner", "JobState", "Work"]

JobState = Literal["queued", "running", "done", "failed"]

Work = Callable[[Callable[[str], None]], Mapping[str, Any]]
"""A job's work: called with `step(text)` to report progress; returns the job's result."""

_log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Job:
    """A snapshot of one job (the runner keeps the live state; readers get copies)."""

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
    result: Mapping[str, Any] | None = field(default=None)

    @property
    def active(self) -> bool:
        """True while the job is queued or running."""
        return self.state in ("queued", "running")


class JobRunner:
    """Runs `Work` on a small thread pool and remembers each job's state."""

    def __init__(self, workers: int = 2, keep: int = 1000) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="raredx-job")
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._keep = keep
        self._closed = False

    def submit(
        self, kind: str, work: Work, *, centre: str, user: str, case_id: str | None = None
    ) -> Job:
        """Queue `work`; returns the queued job. A job of the same kind for the same centre
        and case that is still queued or running is returned instead of starting another."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the job runner is shut down")
            for job in self._jobs.values():
                if job.active and (job.kind, job.centre, job.case_id) == (kind, centre, case_id):
                    return job
            job = Job(
                id=secrets.token_urlsafe(12),
                kind=kind,
                centre=centre,
                user=user,
                case_id=case_id,
                state="queued",
                created=_now(),
            )
            self._jobs[job.id] = job
            self._prune()
        self._executor.submit(self._run, job.id, work)
        return job

    def get(self, job_id: str) -> Job | None:
        """The job's current state, or None if unknown (or forgotten)."""
        with self._lock:
            return self._jobs.get(job_id)

    def shutdown(self) -> None:
        """Cancel queued jobs and wait for the running ones (called when the app stops)."""
        with self._lock:
            self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            for job_id, job in self._jobs.items():
                if job.state == "queued":
                    self._jobs[job_id] = replace(
                        job, state="failed", finished=_now(), error="the server stopped"
                    )

    def _update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                self._jobs[job_id] = replace(job, **changes)

    def _run(self, job_id: str, work: Work) -> None:
        self._update(job_id, state="running", started=_now())
        try:
            result = dict(work(lambda text: self._update(job_id, step=text)))
        except InputError as exc:
            self._update(
                job_id,
                state="failed",
                finished=_now(),
                error=exc.message,
                problems=tuple(exc.problems),
            )
        except RaredxError as exc:
            self._update(job_id, state="failed", finished=_now(), error=str(exc))
        except Exception:
            _log.exception("job %s failed", job_id)
            self._update(
                job_id, state="failed", finished=_now(), error="internal error (see the log)"
            )
        else:
            self._update(job_id, state="done", finished=_now(), step=None, result=result)

    def _prune(self) -> None:
        """Forget the oldest finished jobs beyond `keep` (called with the lock held)."""
        finished = [k for k, j in self._jobs.items() if not j.active]
        for job_id in finished[: max(0, len(finished) - self._keep)]:
            del self._jobs[job_id]
