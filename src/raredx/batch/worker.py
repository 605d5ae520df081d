"""What runs inside a Dask worker process: the knowledge base loaded once, cases ranked and
written where the client asked.

Everything a worker keeps between tasks lives in this module (one entry per process): the
knowledge base of the batch's version (loaded on first use, never sent through the scheduler),
the opened ClinVar, frequency and in-house stores, and the case store connection. Tasks carry
only the cases' bytes and the batch settings.
"""

from __future__ import annotations

import os
import resource
import socket
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from raredx._files import atomic_file
from raredx.batch.plan import BatchItem
from raredx.case import Case, read_phenopacket
from raredx.errors import InputError, RaredxError
from raredx.genome import ClinVarStore, FrequencyStore, GenomeEvidence, case_vcf
from raredx.kb import KnowledgeBase, load_kb
from raredx.pheval import PHEVAL_ROWS, write_pheval

__all__ = [
    "DONE_FOLDER",
    "STATE_FOLDER",
    "BatchSettings",
    "CaseOutcome",
    "read_item_case",
    "result_files",
    "run_chunk",
    "store_url_for_workers",
    "warm",
    "worker_cpu_seconds",
    "worker_kb",
    "worker_peak_rss",
    "worker_store",
]

STATE_FOLDER = ".raredx-batch"
"""Folder (inside the output folder) of the batch's own state: lock and per-case markers."""
DONE_FOLDER = "done"
"""Subfolder of `STATE_FOLDER` holding one marker per finished case (written last)."""


@dataclass(frozen=True, slots=True)
class BatchSettings:
    """What every case of a batch is run with; `identity` names what changes results (a rerun
    skips a finished case only when its input and this identity are unchanged)."""

    kb_version: str
    out: str
    lenient: bool = False
    use_vcf: bool = True
    clinvar: str | None = None
    frequency: str | None = None
    inhouse: str | None = None
    centre: str | None = None
    write_json: bool = True
    store_url: str | None = None
    store_user: str | None = None
    identity: str = ""


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    """What became of one case: ``done`` (results written), ``failed`` (error recorded) or,
    for the client's bookkeeping, ``finished before`` (skipped: done by an earlier run) and
    ``pending`` (not run: the batch was interrupted)."""

    index: int
    source: str
    stem: str
    status: str
    case_id: str | None = None
    top_disease: str | None = None
    name: str | None = None
    posterior: float | None = None
    top_gene: str | None = None
    vcf: str | None = None
    error: str | None = None
    seconds: float = 0.0
    worker: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaseOutcome:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


# ------------------------------------------------------------------------- per-process state
_KB: dict[tuple[str, str], KnowledgeBase] = {}
_STORES: dict[tuple[str, str, str], Any] = {}


def _who() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_kb(version: str) -> KnowledgeBase:
    """The knowledge base `version`, loaded once per process (and per raredx home); the ranking
    model and treatment index are built on first use and kept with it."""
    key = (version, os.environ.get("RAREDX_HOME", ""))
    kb = _KB.get(key)
    if kb is None:
        _KB.clear()  # one KB per worker: a batch has one version
        kb = _KB[key] = load_kb(version)
    return kb


def warm(version: str) -> dict[str, Any]:
    """Load the KB and build what ranking needs (model, treatments) on this worker; returns
    the process, the seconds it took and the resident memory after."""
    from raredx.diagnosis import prepare_kb

    # the batch runs cases side by side: one VCF-reading process per case, not several
    os.environ.setdefault("RAREDX_GENOME_WORKERS", "1")
    t0 = time.perf_counter()
    fresh = (version, os.environ.get("RAREDX_HOME", "")) not in _KB
    kb = worker_kb(version)
    if fresh:
        prepare_kb(kb)
    return {
        "worker": _who(),
        "pid": os.getpid(),
        "seconds": time.perf_counter() - t0,
        "loaded": fresh,
        "rss": _rss(),
        "cpu": worker_cpu_seconds(),
    }


def _rss() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def worker_cpu_seconds() -> float:
    """CPU seconds (user + system) this process has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return float(usage.ru_utime + usage.ru_stime)


def worker_peak_rss() -> int:
    """Peak resident memory of this process, in bytes."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) * (1 if os.uname().sysname == "Darwin" else 1024)


# ------------------------------------------------------------------------------- the files
def result_files(out: Path, stem: str, with_json: bool) -> list[Path]:
    """The files a finished case has in `out` (the variant file is optional)."""
    files = [
        out / f"{stem}-pheval_disease_result.tsv",
        out / f"{stem}-pheval_gene_result.tsv",
    ]
    if with_json:
        files.append(out / f"{stem}.json")
    return files


def _marker(out: Path, stem: str) -> Path:
    return out / STATE_FOLDER / DONE_FOLDER / f"{stem}.json"


def _write_bytes(path: Path, data: bytes) -> None:
    with atomic_file(path, binary=True, durable=False) as fh:
        fh.write(data)


def _clear(out: Path, stem: str) -> None:
    """Remove a case's results and marker (before recording an error for it)."""
    for path in (
        _marker(out, stem),
        *result_files(out, stem, True),
        out / f"{stem}-pheval_variant_result.tsv",
    ):
        path.unlink(missing_ok=True)


# ------------------------------------------------------------------------------ the inputs
def worker_store(url: str | None) -> Any:
    """The case store at `url` (None: ``RAREDX_DATABASE_URL``, else the SQLite file of the
    raredx home), opened once per process."""
    from raredx.store import Store

    key = (url or "", os.environ.get("RAREDX_DATABASE_URL", ""), os.environ.get("RAREDX_HOME", ""))
    store = _STORES.get(key)
    if store is None:
        store = _STORES[key] = Store.open(url)
    return store


def store_url_for_workers(store: Any) -> str | None:
    """How workers should open `store`: its URL, or None when the URL holds a password (no
    password travels with the tasks: the workers then use their own ``RAREDX_DATABASE_URL``)."""
    url = store.engine.url
    if url.password is not None:
        return None
    return str(url.render_as_string(hide_password=False))


def read_item_case(item: BatchItem, settings: BatchSettings) -> Case:
    """The case of an item: parsed from its bytes, or read from the store (as the batch's
    store user)."""
    if item.data is not None:
        return read_phenopacket(item.data, name=item.source)
    if item.source.startswith("store:") and item.case_id is not None:
        user = settings.store_user or "admin"
        case: Case = worker_store(settings.store_url).get_case(item.case_id, user=user)
        return case
    raise InputError(f"{item.source}: nothing to read")


_OPENED: dict[tuple[str, str], Any] = {}


def _opened(kind: str, path: str) -> Any:
    from raredx.genome.inhouse import InhouseStore

    key = (kind, path)
    found = _OPENED.get(key)
    if kind == "inhouse":
        # a rebuilt folder (new identity) is opened again
        ident = (Path(path) / "manifest.json").stat().st_mtime_ns
        if found is not None and found[0] == ident:
            return found[1]
        store = InhouseStore.open(path)
        _OPENED[key] = (ident, store)
        return store
    if found is None:
        found = _OPENED[key] = (
            ClinVarStore.open(path) if kind == "clinvar" else FrequencyStore.open(path)
        )
    return found


def _sample_keys(case: Case, vcf: Path, assembly: str | None) -> list[str]:
    from raredx.genome import bind_samples, pedigree_from_case, read_header
    from raredx.genome.inhouse import file_sha256

    header = read_header(vcf, assembly)
    pedigree, mapping = pedigree_from_case(case)
    bound = bind_samples(pedigree, header.samples, mapping, source=str(vcf))
    digest = file_sha256(vcf)
    return [f"{digest}:{m.sample}" for m in bound.members if m.sample is not None]


def _evidence(
    case: Case, item: BatchItem, settings: BatchSettings, kb: KnowledgeBase
) -> tuple[GenomeEvidence | None, str | None]:
    """The case's VCF evidence as `raredx diagnose` reads it (the VCF its files name, relative
    to the phenopacket's folder), with the batch's stores; (None, None) without a VCF."""
    from raredx.genome import evidence_from_case

    if not settings.use_vcf:
        return None, None
    try:
        vcf, named = case_vcf(case, item.base)
    except InputError:
        return None, None
    options: dict[str, Any] = {}
    if settings.clinvar:
        options["clinvar"] = _opened("clinvar", settings.clinvar)
    stores: list[FrequencyStore] = []
    if settings.frequency:
        stores.append(_opened("frequency", settings.frequency))
    if settings.inhouse:
        from raredx.genome.inhouse import CombinedFrequency

        inhouse = _opened("inhouse", settings.inhouse)
        family = inhouse.family_of(case, settings.centre)
        if family is None and vcf.is_file():
            family = inhouse.family_of(case, None, _sample_keys(case, vcf, named))
        view = inhouse.frequency()
        if family is not None:
            view = view.excluding(inhouse.family_doses(family), 2)
        stores.append(view)
        if len(stores) > 1:
            stores = [CombinedFrequency(stores)]
    if stores:
        options["frequency"] = stores[0]
    # one thread per worker: the batch runs cases side by side (no extra decompression thread)
    evidence = evidence_from_case(case, kb, base=item.base, threads=0, **options)
    return evidence, str(vcf)


# ------------------------------------------------------------------------------- the task
def run_chunk(items: Sequence[BatchItem], settings: BatchSettings) -> list[CaseOutcome]:
    """Rank `items` one after the other and write each case's results (PhEval files, JSON, then
    its marker) or its error file into the output folder; never raises for a bad case."""
    os.environ.setdefault("RAREDX_GENOME_WORKERS", "1")
    kb = worker_kb(settings.kb_version)
    out = Path(settings.out)
    return [_run_one(item, settings, kb, out) for item in items]


def _run_one(item: BatchItem, settings: BatchSettings, kb: KnowledgeBase, out: Path) -> CaseOutcome:
    t0 = time.perf_counter()
    case: Case | None = None
    vcf: str | None = None
    try:
        if item.error is not None:
            raise InputError(item.error)
        case = read_item_case(item, settings)
        evidence, vcf = _evidence(case, item, settings, kb)
        result = _rank(case, kb, PHEVAL_ROWS, settings.lenient, evidence)
        write_pheval(result, out, item.stem)
        if settings.write_json:
            payload = {"source": item.source, **result.to_dict()}
            _write_bytes(
                out / f"{item.stem}.json",
                orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS),
            )
        best = result.top
        outcome = CaseOutcome(
            item.index,
            item.source,
            item.stem,
            "done",
            case_id=case.id,
            top_disease=best.disease_id if best else None,
            name=best.name if best else None,
            posterior=round(best.posterior, 6) if best else None,
            top_gene=result.genes[0].symbol if result.genes else None,
            vcf=vcf,
            seconds=time.perf_counter() - t0,
            worker=_who(),
        )
        (out / f"{item.stem}.error.json").unlink(missing_ok=True)
        _write_marker(out, item, settings, outcome)
        return outcome
    except Exception as exc:
        detail: str | None = None
        if isinstance(exc, RaredxError):
            message = str(exc)
        else:  # a bug: recorded with its traceback, the batch goes on
            message = f"internal error ({type(exc).__name__}: {exc})"
            detail = traceback.format_exc()
        where = item.source if case is None else f"{item.source} ({case.id})"
        if not message.startswith(item.source):
            message = f"{where}: {message}"
        outcome = CaseOutcome(
            item.index,
            item.source,
            item.stem,
            "failed",
            case_id=case.id if case is not None else item.case_id,
            vcf=vcf,
            error=message,
            seconds=time.perf_counter() - t0,
            worker=_who(),
        )
        try:
            _clear(out, item.stem)
            record = {**outcome.to_dict(), "traceback": detail, "at": _now()}
            _write_bytes(
                out / f"{item.stem}.error.json",
                orjson.dumps(record, option=orjson.OPT_INDENT_2),
            )
        except OSError:
            pass  # the client records the outcome in its summary anyway
        return outcome


def _rank(
    case: Case, kb: KnowledgeBase, rows: int, lenient: bool, evidence: GenomeEvidence | None
) -> Any:
    """`diagnose` as `raredx diagnose --out` calls it. A worker ranks thousands of cases in one
    process: when the ranking model's bounded per-term cache evicts, while filling it, an entry
    the same case still needs (a KeyError in `PhenotypeModel._cached_evidence`), the case is
    ranked again with the cache emptied; the cache only saves work, the result is the same."""
    from raredx.diagnosis import diagnose
    from raredx.rank.model import phenotype_model

    def run() -> Any:
        return diagnose(
            case,
            kb=kb,
            top=rows,
            top_genes=rows,
            next_findings=0,
            explain=False,
            lenient=lenient,
            genome=evidence,
        )

    try:
        return run()
    except KeyError:
        phenotype_model(kb).clear_cache()
        return run()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_marker(
    out: Path, item: BatchItem, settings: BatchSettings, outcome: CaseOutcome
) -> None:
    vcf: dict[str, Any] | None = None
    if outcome.vcf is not None:
        try:
            info = Path(outcome.vcf).stat()
            vcf = {"path": outcome.vcf, "size": info.st_size, "mtime_ns": info.st_mtime_ns}
        except OSError:
            vcf = {"path": outcome.vcf, "size": -1, "mtime_ns": -1}
    marker = {
        "input": item.digest,
        "settings": settings.identity,
        "vcf": vcf,
        "outcome": outcome.to_dict(),
        "at": _now(),
    }
    path = _marker(out, item.stem)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_bytes(path, orjson.dumps(marker))
