"""Running a batch: resume, groups of cases on the cluster, outcomes, summary files.

The output folder holds, per case, what `raredx diagnose --out` writes (PhEval disease and
gene files, and the variant file with a VCF) plus ``<stem>.json`` (the full result), or
``<stem>.error.json``; ``batch-summary.tsv`` and ``batch.json`` for the whole batch; and
``.raredx-batch/`` (a lock, and one marker per finished case, written last). A rerun skips a
case whose marker names the same input (bytes of the phenopacket, or stored case version), the
same settings (KB, options, stores) and an unchanged VCF, and whose files are all there.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

import raredx
from raredx._files import atomic_file, exclusive_lock
from raredx.batch.cluster import Cluster, ClusterError, open_cluster
from raredx.batch.plan import BatchItem, chunks
from raredx.batch.worker import (
    DONE_FOLDER,
    STATE_FOLDER,
    BatchSettings,
    CaseOutcome,
    result_files,
    run_chunk,
    warm,
    worker_cpu_seconds,
    worker_peak_rss,
)
from raredx.errors import InputError, RaredxError
from raredx.pheval import PHEVAL_ROWS, tsv_text

__all__ = [
    "SUMMARY_COLUMNS",
    "BatchInterrupted",
    "BatchReport",
    "WorkerStats",
    "run_batch",
    "settings_identity",
]

SUMMARY_COLUMNS = (
    "index",
    "source",
    "case_id",
    "stem",
    "status",
    "top_disease",
    "name",
    "posterior",
    "top_gene",
    "vcf",
    "seconds",
    "worker",
    "error",
)
_TARGET_SECONDS = 1.0
_SECONDS_PER_WEIGHT = 0.02
_TMP = re.compile(r"^\..+\.[A-Za-z0-9_]+\.tmp$")


class BatchInterrupted(RaredxError):
    """The batch was interrupted (Ctrl-C, SIGTERM, lost cluster): `report` holds what was
    finished (kept on disk: rerun the same command to resume)."""

    def __init__(self, message: str, report: BatchReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(slots=True)
class WorkerStats:
    """One worker: cases run, seconds spent in them, KB load, peak resident memory."""

    worker: str
    cases: int = 0
    busy_seconds: float = 0.0
    warm_seconds: float = 0.0
    peak_rss: int = 0
    cpu_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "worker": self.worker,
            "cases": self.cases,
            "busy_seconds": round(self.busy_seconds, 3),
            "warm_seconds": round(self.warm_seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "peak_rss_mb": round(self.peak_rss / 2**20, 1),
        }


@dataclass(slots=True)
class BatchReport:
    """The outcome of every case (in input order) and how the run went."""

    out: str
    settings: BatchSettings
    outcomes: list[CaseOutcome]
    scheduler: str = ""
    seconds: float = 0.0
    run_seconds: float = 0.0
    workers: list[WorkerStats] = field(default_factory=list)
    interrupted: str | None = None

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def failed(self) -> list[CaseOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def throughput(self) -> float:
        """Cases run per second of wall time on the cluster (resumed cases excluded)."""
        ran = self.count("done") + self.count("failed")
        return ran / self.run_seconds if self.run_seconds > 0 else 0.0

    def counts(self) -> dict[str, int]:
        return {
            "cases": len(self.outcomes),
            "done": self.count("done"),
            "finished_before": self.count("finished before"),
            "failed": self.count("failed"),
            "pending": self.count("pending"),
        }

    def to_dict(self, *, cases: bool = True) -> dict[str, Any]:
        s = self.settings
        out: dict[str, Any] = {
            "format": "raredx-batch",
            "raredx": raredx.__version__,
            "out": self.out,
            "kb_version": s.kb_version,
            "settings": {
                "lenient": s.lenient,
                "vcf": s.use_vcf,
                "clinvar": s.clinvar,
                "frequency": s.frequency,
                "inhouse": s.inhouse,
                "centre": s.centre,
                "json": s.write_json,
                "identity": s.identity,
            },
            "scheduler": self.scheduler,
            "counts": self.counts(),
            "seconds": round(self.seconds, 3),
            "run_seconds": round(self.run_seconds, 3),
            "cases_per_second": round(self.throughput, 3),
            "workers": [w.to_dict() for w in self.workers],
            "interrupted": self.interrupted,
            "failed": [{"source": o.source, "error": o.error} for o in self.failed],
        }
        if cases:
            out["cases"] = [o.to_dict() for o in self.outcomes]
        return out


# --------------------------------------------------------------------------------- settings
def _store_identity(path: str | None) -> str:
    """A frequency/ClinVar/in-house store: its path and manifest (changes when rebuilt)."""
    if path is None:
        return ""
    manifest = Path(path) / "manifest.json"
    try:
        return f"{Path(path).resolve()}:{hashlib.sha256(manifest.read_bytes()).hexdigest()}"
    except OSError as exc:
        raise InputError(f"{path}: not a compiled store ({exc.strerror or exc})") from None


def settings_identity(settings: BatchSettings) -> str:
    """The digest of everything that changes a case's results: raredx and KB versions, the
    options, the stores' manifests and the PhEval depth."""
    parts = {
        "raredx": raredx.__version__,
        "kb": settings.kb_version,
        "lenient": settings.lenient,
        "vcf": settings.use_vcf,
        "clinvar": _store_identity(settings.clinvar),
        "frequency": _store_identity(settings.frequency),
        "inhouse": _store_identity(settings.inhouse),
        "centre": settings.centre,
        "json": settings.write_json,
        "rows": PHEVAL_ROWS,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


# ------------------------------------------------------------------------------ the folder
def _prepare(out: Path) -> Path:
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder")
    try:
        (out / STATE_FOLDER / DONE_FOLDER).mkdir(parents=True, exist_ok=True)
        probe = out / STATE_FOLDER / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None
    return out


def _locked(out: Path) -> AbstractContextManager[None]:
    busy = f"--out {out}: another raredx batch is writing to this folder"
    return exclusive_lock(out / STATE_FOLDER / "lock", busy)


def _clean_temporaries(out: Path) -> None:
    """Half-written temporary files a killed worker left behind (we hold the lock)."""
    for folder in (out, out / STATE_FOLDER / DONE_FOLDER):
        for path in folder.iterdir():
            if path.is_file() and _TMP.match(path.name):
                path.unlink(missing_ok=True)


def _finished(out: Path, item: BatchItem, settings: BatchSettings) -> CaseOutcome | None:
    """The outcome recorded by an earlier run when it still holds for `item`, else None."""
    path = out / STATE_FOLDER / DONE_FOLDER / f"{item.stem}.json"
    try:
        marker = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if marker.get("input") != item.digest or marker.get("settings") != settings.identity:
        return None
    vcf = marker.get("vcf")
    if vcf is not None:
        try:
            info = Path(vcf["path"]).stat()
        except (OSError, KeyError, TypeError):
            return None
        if info.st_size != vcf.get("size") or info.st_mtime_ns != vcf.get("mtime_ns"):
            return None
    if not all(p.is_file() for p in result_files(out, item.stem, settings.write_json)):
        return None
    try:
        before = CaseOutcome.from_dict(marker["outcome"])
    except (KeyError, TypeError):
        return None
    return replace(before, index=item.index, source=item.source, status="finished before")


def _write_summary(report: BatchReport) -> None:
    out = Path(report.out)
    rows = [o.to_dict() for o in report.outcomes]
    table = [["" if row.get(c) is None else row.get(c) for c in SUMMARY_COLUMNS] for row in rows]
    with atomic_file(out / "batch-summary.tsv") as fh:
        fh.write(tsv_text(SUMMARY_COLUMNS, table))
    with atomic_file(out / "batch.json", binary=True) as bfh:
        bfh.write(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2))


# ------------------------------------------------------------------------------- running
def _group_target(weights: int, n_workers: int, chunk_size: int | None) -> int:
    if chunk_size is not None:
        return max(1, chunk_size)
    per_task = int(_TARGET_SECONDS / _SECONDS_PER_WEIGHT)  # about a second of work per task
    spread = max(1, weights // max(1, 4 * n_workers))  # at least 4 tasks per worker
    return max(1, min(per_task, spread))


Progress = Callable[[int, int], None]


def run_batch(
    items: Sequence[BatchItem],
    settings: BatchSettings,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    timeout: float = 10.0,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    cluster: Cluster | None = None,
    stop: threading.Event | None = None,
) -> BatchReport:
    """Run every item not finished by an earlier run on a Dask cluster (a new `LocalCluster`
    of `workers` processes, the cluster at `scheduler`, or `cluster` if given) and write the
    summary files. `progress(done, total)` is called as groups finish. Setting `stop` (a
    signal handler does) interrupts the run as Ctrl-C does, at the next finished group.

    Raises InputError for an unusable output folder, `ClusterError` when no cluster can be had,
    `BatchInterrupted` (with the report) on Ctrl-C or a lost cluster.
    """
    t_start = time.perf_counter()
    out = _prepare(Path(settings.out))
    if not settings.identity:
        settings = replace(settings, identity=settings_identity(settings))
    with _locked(out):
        _clean_temporaries(out)
        outcomes: dict[int, CaseOutcome] = {}
        todo: list[BatchItem] = []
        for item in items:
            before = _finished(out, item, settings)
            if before is not None:
                outcomes[item.index] = before
            else:
                todo.append(item)
        report = BatchReport(str(out), settings, [])
        total = len(items)
        if progress is not None:
            progress(len(outcomes), total)
        try:
            if todo:
                args = (todo, settings, outcomes, report, chunk_size, progress, total, stop)
                if cluster is not None:
                    _run(cluster, *args)
                else:
                    with open_cluster(workers=workers, scheduler=scheduler, timeout=timeout) as c:
                        _run(c, *args)
        except ClusterError as exc:
            if not report.scheduler:  # no cluster at all: nothing ran, a plain error
                raise
            report.interrupted = str(exc)
        except KeyboardInterrupt:
            report.interrupted = "interrupted"
        report.outcomes = [
            outcomes.get(item.index, CaseOutcome(item.index, item.source, item.stem, "pending"))
            for item in items
        ]
        report.seconds = time.perf_counter() - t_start
        _write_summary(report)
    if report.interrupted is not None:
        counts = report.counts()
        raise BatchInterrupted(
            f"batch {report.interrupted}: {counts['done'] + counts['finished_before']} of "
            f"{counts['cases']} cases finished and kept ({counts['failed']} failed, "
            f"{counts['pending']} not run); run the same command again to resume",
            report,
        )
    return report


def _run(
    cluster: Cluster,
    todo: list[BatchItem],
    settings: BatchSettings,
    outcomes: dict[int, CaseOutcome],
    report: BatchReport,
    chunk_size: int | None,
    progress: Progress | None,
    total: int,
    stop: threading.Event | None,
) -> None:
    report.scheduler = cluster.address
    warmed = cluster.on_each_worker(warm, settings.kb_version)
    stats = {
        info["worker"]: WorkerStats(info["worker"], warm_seconds=float(info["seconds"]))
        for info in warmed.values()
    }
    cpu_before = {info["worker"]: float(info["cpu"]) for info in warmed.values()}
    target = _group_target(sum(i.weight for i in todo), len(warmed), chunk_size)
    groups = list(chunks(todo, target))
    t0 = time.perf_counter()
    try:
        for group, result in cluster.map(run_chunk, groups, settings):
            if isinstance(result, BaseException):
                reason = (
                    "the worker running this case died (out of memory?)"
                    if type(result).__name__ == "KilledWorker"
                    else f"the task failed ({type(result).__name__}: {result})"
                )
                for item in group:
                    outcomes[item.index] = CaseOutcome(
                        item.index,
                        item.source,
                        item.stem,
                        "failed",
                        case_id=item.case_id,
                        error=f"{item.source}: {reason}",
                    )
            else:
                for outcome in result:
                    outcomes[outcome.index] = outcome
                    s = stats.setdefault(outcome.worker, WorkerStats(outcome.worker))
                    s.cases += 1
                    s.busy_seconds += outcome.seconds
            if progress is not None:
                progress(len(outcomes), total)
            if stop is not None and stop.is_set():
                # Normally the signal's own KeyboardInterrupt got here first, unless it was
                # raised where Python ignores exceptions (an object's finaliser).
                raise KeyboardInterrupt
    finally:
        report.run_seconds = time.perf_counter() - t0
        peaks = cluster.run(_peak)
        for info in peaks.values():
            if isinstance(info, dict) and info.get("worker") in stats:
                s = stats[info["worker"]]
                s.peak_rss = int(info["peak_rss"])
                s.cpu_seconds = float(info["cpu"]) - cpu_before.get(s.worker, 0.0)
        report.workers = sorted(stats.values(), key=lambda w: w.worker)


def _peak() -> dict[str, Any]:
    from raredx.batch.worker import _who

    return {"worker": _who(), "peak_rss": worker_peak_rss(), "cpu": worker_cpu_seconds()}
