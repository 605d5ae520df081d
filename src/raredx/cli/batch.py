"""`raredx batch` and `raredx genome compile-inhouse`: cohorts on a Dask cluster.

Register with ``app.command("batch")(batch)`` and
``genome.app.command("compile-inhouse")(compile_inhouse)``. Both run on a `LocalCluster` of
worker processes (``--workers N``, default one per core) or on an existing Dask cluster
(``--scheduler ADDRESS``); progress goes to stderr, a summary to stdout. Exit code 2 for
unusable input or when any case failed (the others are still run), 130 when interrupted
(finished cases are kept: the same command resumes).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from raredx.batch import (
    SUMMARY_COLUMNS,
    BatchInterrupted,
    BatchItem,
    BatchReport,
    BatchSettings,
    InhouseReport,
    collect_inhouse,
    default_workers,
    plan_items,
    run_batch,
    store_items,
)
from raredx.batch.worker import store_url_for_workers
from raredx.cli._options import (
    CLINVAR_OPTION,
    FORMAT_OPTION,
    FREQUENCY_OPTION,
    KB_OPTION,
    LENIENT_OPTION,
    NO_VCF_OPTION,
)
from raredx.cli._output import OutputFormat, err_console, exit_on_error, out_console, print_json
from raredx.errors import InputError
from raredx.kb import load_kb

__all__ = ["batch", "compile_inhouse"]

_CASES = typer.Argument(
    None,
    help="Phenopacket files (.json, .json.gz), folders or JSON Lines (.jsonl, .jsonl.gz); "
    "with --store, the stored cases too.",
    show_default=False,
)
_WORKERS = typer.Option(
    None,
    "--workers",
    min=1,
    help="Worker processes of the local Dask cluster (default: one per core).",
)
_SCHEDULER = typer.Option(
    None,
    "--scheduler",
    help="Address of an existing Dask scheduler (e.g. tcp://10.0.0.5:8786) instead of a local "
    "cluster. Its workers need raredx with the same KB, and the input, VCF and output paths "
    "on shared storage.",
)
_TIMEOUT = typer.Option(
    10.0, "--timeout", min=0.1, help="Seconds to wait for the scheduler and its workers."
)
_STORE = typer.Option(
    None,
    "--store",
    help="Also take the cases of the case store the user may see: unsolved, solved or all.",
)
_USER = typer.Option(
    "admin",
    "--user",
    envvar="RAREDX_USER",
    help="Store user (with --store; default: $RAREDX_USER, else admin).",
)


@contextmanager
def _interruptible() -> Iterator[threading.Event]:
    """Ctrl-C (SIGINT) and SIGTERM (a scheduler killing the job, `kill`) end the run: finished
    cases are kept and summarised. The handler raises KeyboardInterrupt at once and also sets
    the yielded event, which the run checks as results arrive: a KeyboardInterrupt raised
    inside an object's finaliser (Dask futures have some) is printed and lost."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()
        raise KeyboardInterrupt

    try:
        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread
        yield stop
        return
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _progress_bar(label: str) -> tuple[Progress, Callable[[int, int], None]]:
    bar = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=not err_console.is_terminal,
        transient=True,
    )
    task = bar.add_task(label, total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return bar, update


def _stored(
    status: str, user: str, start: int, used: set[str]
) -> tuple[list[BatchItem], str | None]:
    """Items of the stored cases the user may see, and the URL workers open the store with."""
    from raredx.store import Store

    wanted = None if status == "all" else status
    if wanted not in (None, "unsolved", "solved"):
        raise InputError(f"--store {status!r}: use unsolved, solved or all")
    with Store.open() as store:
        rows: list[tuple[str, str]] = []
        for centre in store.visible_centres(user):
            for summary in store.list_cases(centre, wanted, user=user):
                rows.append((summary.id, summary.updated.isoformat()))
        url = store_url_for_workers(store)
    return store_items(rows, start=start, used=used), url


def _print_report(report: BatchReport, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.json:
        print_json(report.to_dict())
        return
    if fmt is OutputFormat.tsv:
        import csv

        writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
        writer.writerow(SUMMARY_COLUMNS)
        for o in report.outcomes:
            row = o.to_dict()
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in SUMMARY_COLUMNS])
        return
    counts = report.counts()
    table = Table(title=f"raredx batch: {escape(report.out)}", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("cases", str(counts["cases"]))
    table.add_row("ranked now", str(counts["done"]))
    table.add_row("finished before (skipped)", str(counts["finished_before"]))
    table.add_row("failed", str(counts["failed"]))
    if counts["pending"]:
        table.add_row("not run (interrupted)", str(counts["pending"]))
    table.add_row("KB", escape(report.settings.kb_version))
    table.add_row("wall time", f"{report.seconds:.1f} s")
    if counts["done"] + counts["failed"]:
        table.add_row("throughput on the cluster", f"{report.throughput:.1f} cases/s")
    out_console.print(table)
    if report.workers:
        workers = Table(title=f"Dask workers ({escape(report.scheduler)})")
        for col in ("worker", "cases", "busy s", "CPU s", "KB load s", "peak RSS MB"):
            workers.add_column(col, justify="left" if col == "worker" else "right")
        for w in report.workers:
            workers.add_row(
                escape(w.worker),
                str(w.cases),
                f"{w.busy_seconds:.1f}",
                f"{w.cpu_seconds:.1f}",
                f"{w.warm_seconds:.1f}",
                f"{w.peak_rss / 2**20:.0f}" if w.peak_rss else "?",
            )
        out_console.print(workers)
    failed = report.failed
    if failed:
        errors = Table(title=f"Failed cases ({len(failed)}; errors in <stem>.error.json)")
        errors.add_column("source", overflow="fold")
        errors.add_column("error", overflow="fold")
        for o in failed[:20]:
            errors.add_row(escape(o.source), escape((o.error or "").splitlines()[0][:300]))
        if len(failed) > 20:
            errors.add_row("...", f"and {len(failed) - 20} more in batch-summary.tsv")
        out_console.print(errors)
    out_console.print(
        f"Results in {escape(report.out)} (PhEval files and <stem>.json per case; "
        "batch-summary.tsv, batch.json).",
        style="dim",
    )


def batch(
    cases: list[Path] | None = _CASES,
    out: Path = typer.Option(
        ...,
        "--out",
        help="Folder for the results: PhEval files and <stem>.json per case (or "
        "<stem>.error.json), batch-summary.tsv and batch.json. A rerun skips finished cases.",
        file_okay=True,
        dir_okay=True,
    ),
    workers: int | None = _WORKERS,
    scheduler: str | None = _SCHEDULER,
    timeout: float = _TIMEOUT,
    from_store: str | None = _STORE,
    user: str = _USER,
    kb_version: str | None = KB_OPTION,
    lenient: bool = LENIENT_OPTION,
    no_vcf: bool = NO_VCF_OPTION,
    clinvar: Path | None = CLINVAR_OPTION,
    frequency: Path | None = FREQUENCY_OPTION,
    inhouse: Path | None = typer.Option(
        None,
        "--inhouse",
        help="An in-house frequency folder (`raredx genome compile-inhouse`): each case's VCF "
        "is filtered with the cohort's frequencies, its own family left out.",
    ),
    centre: str | None = typer.Option(
        None,
        "--centre",
        help="Centre of these cases in the in-house folder (finds a case's own family there; "
        "without it, by the VCF's checksum).",
    ),
    chunk_size: int | None = typer.Option(
        None,
        "--chunk-size",
        min=1,
        help="Cases per task (default: about a second of work, a VCF counting 50).",
    ),
    no_json: bool = typer.Option(False, "--no-json", help="PhEval files only, no <stem>.json."),
    fmt: OutputFormat = typer.Option(
        OutputFormat.table,
        "--format",
        "-f",
        help="table (summary), tsv (one row per case) or json (the batch report).",
    ),
) -> None:
    """Rank many cases on a Dask cluster (local processes or an existing cluster).

    The KB is loaded once per worker; each case's results are written atomically as soon as it
    is ranked; a failing case is recorded with its error and the batch goes on; a rerun of the
    same command skips the finished cases. Decision support: raredx supports, and never
    replaces, the clinician's judgement.
    """
    report: BatchReport | None = None
    with exit_on_error():
        if not cases and from_store is None:
            raise InputError("nothing to run", ["give phenopacket files or folders, or --store"])
        if workers is not None and scheduler is not None:
            raise InputError("give --workers (a local cluster) or --scheduler, not both")
        if inhouse is not None and not (inhouse / "manifest.json").is_file():
            raise InputError(
                f"--inhouse {inhouse}: not a built in-house folder (run "
                "`raredx genome compile-inhouse` first)"
            )
        for label, store_path in (("--clinvar", clinvar), ("--frequency", frequency)):
            if store_path is not None and not (store_path / "manifest.json").is_file():
                raise InputError(f"{label} {store_path}: not a compiled store (no manifest.json)")
        if out.exists() and not out.is_dir():
            raise InputError(f"--out {out}: exists and is not a folder")
        kb = load_kb(kb_version)
        items = plan_items(cases or [])
        store_url: str | None = None
        if from_store is not None:
            more, store_url = _stored(from_store, user, len(items), {i.stem for i in items})
            items += more
        if not items:
            raise InputError("nothing to run", ["no case found in the given inputs"])
        settings = BatchSettings(
            kb.version,
            out=str(out.resolve()),
            lenient=lenient,
            use_vcf=not no_vcf,
            clinvar=str(clinvar.resolve()) if clinvar else None,
            frequency=str(frequency.resolve()) if frequency else None,
            inhouse=str(inhouse.resolve()) if inhouse else None,
            centre=centre,
            write_json=not no_json,
            store_url=store_url,
            store_user=user,
        )
        where = scheduler or f"{workers or default_workers()} local workers"
        err_console.print(
            f"{len(items)} cases; KB {kb.version}; Dask: {where}", highlight=False, markup=False
        )
        bar, update = _progress_bar("ranking")
        try:
            with _interruptible() as stop, bar:
                report = run_batch(
                    items,
                    settings,
                    workers=workers,
                    scheduler=scheduler,
                    timeout=timeout,
                    chunk_size=chunk_size,
                    progress=update,
                    stop=stop,
                )
        except BatchInterrupted as interrupted:
            _print_report(interrupted.report, fmt)
            err_console.print(
                Text.assemble(("stopped: ", "bold red"), str(interrupted)), highlight=False
            )
            raise typer.Exit(code=130) from None
    assert report is not None
    _print_report(report, fmt)
    if report.failed:
        raise typer.Exit(code=2)


def _print_inhouse(report: InhouseReport, fmt: OutputFormat) -> None:
    statuses = ("collected", "unchanged", "no VCF", "failed", "pending")
    counts = {s: report.count(s) for s in statuses}
    payload: dict[str, Any] = {
        "folder": report.root,
        "counts": counts,
        "summary": report.summary,
        "seconds": round(report.seconds, 3),
        "interrupted": report.interrupted,
        "failed": [{"source": o.source, "error": o.error} for o in report.outcomes if o.error],
    }
    if fmt is OutputFormat.json:
        print_json(payload)
        return
    if fmt is OutputFormat.tsv:
        sys.stdout.write("source\tcase_id\tstatus\tvariants\terror\n")
        for o in report.outcomes:
            variants = "" if o.member is None else str(o.member.variants)
            error = (o.error or "").replace("\t", " ").replace("\n", " ")
            sys.stdout.write(f"{o.source}\t{o.case_id or ''}\t{o.status}\t{variants}\t{error}\n")
        return
    table = Table(title=f"In-house frequencies: {escape(report.root)}", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    for s in statuses:
        if counts[s] or s in ("collected", "failed"):
            table.add_row(f"cases {s}", str(counts[s]))
    summary = report.summary
    if summary:
        table.add_row("members (VCFs)", str(summary.get("members")))
        table.add_row("families (each counted once)", str(summary.get("families")))
        by_centre = summary.get("families_by_centre") or {}
        table.add_row("centres", escape(", ".join(f"{k}: {v}" for k, v in by_centre.items())))
        table.add_row("distinct alleles", f"{summary.get('alleles', 0):,}")
        table.add_row("assembly", escape(str(summary.get("assembly"))))
    table.add_row("wall time", f"{report.seconds:.1f} s")
    out_console.print(table)
    failed = [o for o in report.outcomes if o.status == "failed"]
    if failed:
        errors = Table(title=f"Failed cases ({len(failed)})")
        errors.add_column("source", overflow="fold")
        errors.add_column("error", overflow="fold")
        for o in failed[:20]:
            errors.add_row(escape(o.source), escape((o.error or "").splitlines()[0][:300]))
        out_console.print(errors)
    out_console.print(
        f"Use it with --inhouse {escape(report.root)} (raredx batch, leave-one-out) or "
        f"--frequency {escape(report.root)} (any command taking a frequency store).",
        style="dim",
    )


def compile_inhouse(
    cases: list[Path] | None = _CASES,
    out: Path = typer.Option(
        ...,
        "--out",
        help="The in-house folder (created, or updated: unchanged VCFs are not read again).",
    ),
    centre: str = typer.Option(
        "local", "--centre", help="Centre of the cases given as files (stored cases keep theirs)."
    ),
    workers: int | None = _WORKERS,
    scheduler: str | None = _SCHEDULER,
    timeout: float = _TIMEOUT,
    from_store: str | None = _STORE,
    user: str = _USER,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Aggregate the genotypes of a cohort's VCFs into in-house allele frequencies.

    Each family counts once (relatives are not independent); frequencies are kept overall and
    by centre (Parquet, queryable with DuckDB), and as a frequency store for --frequency and
    `raredx batch --inhouse` (which leaves each case's own family out).
    """
    with exit_on_error():
        if not cases and from_store is None:
            raise InputError(
                "nothing to collect", ["give phenopacket files or folders, or --store"]
            )
        if workers is not None and scheduler is not None:
            raise InputError("give --workers (a local cluster) or --scheduler, not both")
        if not centre.strip():
            raise InputError("--centre: give a centre code")
        items = plan_items(cases or [])
        centres: dict[int, str] = {}
        store_url: str | None = None
        if from_store is not None:
            more, store_url = _stored(from_store, user, len(items), {i.stem for i in items})
            from raredx.store import Store

            with Store.open() as store:
                for item in more:
                    if item.case_id is not None:
                        centres[item.index] = store.case_centre(item.case_id, user=user)
            items += more
        if not items:
            raise InputError("nothing to collect", ["no case found in the given inputs"])
        bar, update = _progress_bar("reading VCFs")
        with _interruptible() as stop, bar:
            report = collect_inhouse(
                items,
                out,
                centre=centre.strip(),
                centres=centres,
                workers=workers,
                scheduler=scheduler,
                timeout=timeout,
                store_url=store_url,
                user=user,
                progress=update,
                stop=stop,
            )
    _print_inhouse(report, fmt)
    if report.interrupted:
        err_console.print(
            Text.assemble(("stopped: ", "bold red"), report.interrupted), highlight=False
        )
        raise typer.Exit(code=130)
    if report.count("failed"):
        raise typer.Exit(code=2)
