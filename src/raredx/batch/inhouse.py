"""Building an in-house frequency folder from a cohort's VCFs on a Dask cluster.

Workers read each case's VCF (the genotypes of its family's sequenced members) into its own
Parquet file under the folder (`raredx.genome.inhouse.collect_member`); the client registers
the members and aggregates them with DuckDB (`InhouseStore.build`). A case whose VCF is
unchanged since it was collected is not read again, so adding a centre or a few new exomes
costs only their own reading plus the aggregation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from raredx.batch.cluster import Cluster, ClusterError, open_cluster
from raredx.batch.plan import BatchItem
from raredx.batch.worker import BatchSettings, read_item_case
from raredx.errors import InputError, RaredxError
from raredx.genome import case_vcf
from raredx.genome.inhouse import CohortMember, InhouseStore, collect_member, member_key

__all__ = ["CollectOutcome", "InhouseReport", "collect_chunk", "collect_inhouse"]


@dataclass(frozen=True, slots=True)
class CollectOutcome:
    """One case: ``collected`` (its VCF read), ``unchanged`` (collected before, same VCF),
    ``no VCF`` (its phenopacket names none) or ``failed`` (`error`)."""

    index: int
    source: str
    status: str
    case_id: str | None = None
    member: CohortMember | None = None
    error: str | None = None
    seconds: float = 0.0


@dataclass(slots=True)
class InhouseReport:
    """The outcome of every case and the folder's summary after the build."""

    root: str
    outcomes: list[CollectOutcome] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    interrupted: str | None = None

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)


def collect_chunk(
    tasks: Sequence[tuple[BatchItem, str, CohortMember | None]],
    root: str,
    store_url: str | None,
    user: str | None,
) -> list[CollectOutcome]:
    """Collect each (item, centre, previous member) on this worker; never raises."""
    settings = BatchSettings("", out="", store_url=store_url, store_user=user)
    out: list[CollectOutcome] = []
    for item, centre, previous in tasks:
        t0 = time.perf_counter()
        case_id = item.case_id
        try:
            if item.error is not None:
                raise InputError(item.error)
            case = read_item_case(item, settings)
            case_id = case.id
            try:
                case_vcf(case, item.base)
            except InputError:
                out.append(CollectOutcome(item.index, item.source, "no VCF", case_id))
                continue
            member = collect_member(
                case, root, centre=centre, source=item.source, base=item.base, previous=previous
            )
            status = "unchanged" if member is previous else "collected"
            out.append(
                CollectOutcome(
                    item.index,
                    item.source,
                    status,
                    case_id,
                    member,
                    seconds=time.perf_counter() - t0,
                )
            )
        except Exception as exc:
            message = str(exc) if isinstance(exc, RaredxError) else f"{type(exc).__name__}: {exc}"
            if not message.startswith(item.source):
                message = f"{item.source}: {message}"
            out.append(
                CollectOutcome(
                    item.index,
                    item.source,
                    "failed",
                    case_id,
                    error=message,
                    seconds=time.perf_counter() - t0,
                )
            )
    return out


def collect_inhouse(
    items: Sequence[BatchItem],
    root: str | Path,
    *,
    centre: str,
    centres: Mapping[int, str] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    timeout: float = 10.0,
    store_url: str | None = None,
    user: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    cluster: Cluster | None = None,
    stop: threading.Event | None = None,
) -> InhouseReport:
    """Collect the VCF genotypes of `items` into the in-house folder `root` (created when
    missing) on a Dask cluster, register them under `centre` (or `centres[item.index]`), and
    rebuild the frequencies. Interrupted (Ctrl-C, `stop` set, lost cluster): what was
    collected is registered and built, `report.interrupted` says why."""
    t0 = time.perf_counter()
    store = InhouseStore.create(root)
    report = InhouseReport(str(store.root))
    with store.lock():
        previous = dict(store.members)
        tasks = []
        for item in items:
            where = (centres or {}).get(item.index, centre)
            before = previous.get(member_key(where, item.case_id)) if item.case_id else None
            tasks.append((item, where, before))
        outcomes: dict[int, CollectOutcome] = {}
        groups = [[t] for t in tasks]
        try:
            if tasks:
                if cluster is not None:
                    _collect(cluster, groups, store, store_url, user, outcomes, progress, stop)
                else:
                    with open_cluster(workers=workers, scheduler=scheduler, timeout=timeout) as c:
                        _collect(c, groups, store, store_url, user, outcomes, progress, stop)
        except ClusterError as exc:
            if not outcomes:  # no cluster at all: nothing ran, a plain error
                raise
            report.interrupted = str(exc)
        except KeyboardInterrupt:
            report.interrupted = "interrupted"
        finally:
            members = [o.member for o in outcomes.values() if o.member is not None]
            if members:
                store.register(members)
        report.outcomes = [
            outcomes.get(item.index, CollectOutcome(item.index, item.source, "pending"))
            for item in items
        ]
        if store.members:
            report.summary = store.build()
    report.seconds = time.perf_counter() - t0
    return report


def _collect(
    cluster: Cluster,
    groups: list[list[tuple[BatchItem, str, CohortMember | None]]],
    store: InhouseStore,
    store_url: str | None,
    user: str | None,
    outcomes: dict[int, CollectOutcome],
    progress: Callable[[int, int], None] | None,
    stop: threading.Event | None,
) -> None:
    total = len(groups)
    for group, result in cluster.map(collect_chunk, groups, str(store.root), store_url, user):
        if isinstance(result, BaseException):
            for item, _, _ in group:
                outcomes[item.index] = CollectOutcome(
                    item.index,
                    item.source,
                    "failed",
                    item.case_id,
                    error=f"{item.source}: the task failed ({type(result).__name__}: {result})",
                )
        else:
            for outcome in result:
                outcomes[outcome.index] = outcome
        if progress is not None:
            progress(len(outcomes), total)
        if stop is not None and stop.is_set():  # the signal's own exception may be lost
            raise KeyboardInterrupt
