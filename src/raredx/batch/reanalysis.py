"""Cohort reanalysis on a Dask cluster: `raredx reanalyze --scheduler ADDRESS | --workers N`.

`raredx.store.reanalysis.reanalyze` finds the due cases, compares and records; this module
only ranks them elsewhere (`cluster_reranker`). Workers load the KB once each and rank with
the same `rerank_case` as the single-process path; a case whose phenopacket names a file
(an attached VCF) gets its genotype evidence from the store, which the worker opens itself (the
store must be reachable from the workers: PostgreSQL, or the SQLite file on shared storage).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from raredx.batch.cluster import Cluster
from raredx.batch.plan import VCF_WEIGHT
from raredx.batch.worker import warm, worker_kb, worker_store
from raredx.errors import RaredxError
from raredx.kb import KnowledgeBase
from raredx.rank.model import phenotype_model
from raredx.rank.parameters import RankParameters
from raredx.store.reanalysis import Change, Reranker, RerankJob, RerankResult, rerank_case

__all__ = ["cluster_reranker", "rerank_chunk"]

_GROUP_WEIGHT = 40


def rerank_chunk(
    jobs: Sequence[RerankJob],
    kb_version: str,
    parameters: RankParameters,
    top: int,
    user: str,
    store_url: str | None,
) -> list[RerankResult]:
    """Rank `jobs` on this worker (see `rerank_case`); a case the store or the genome layer
    refuses is returned with an ``error`` change, never raised."""
    kb = worker_kb(kb_version)
    out: list[RerankResult] = []
    for job in jobs:
        try:
            store = worker_store(store_url) if job.case.files else None
            try:
                out.append(rerank_case(store, kb, job, parameters, top, user=user))
            except KeyError:  # the model's term cache evicted a needed entry: see worker._rank
                phenotype_model(kb).clear_cache()
                out.append(rerank_case(store, kb, job, parameters, top, user=user))
        except RaredxError as exc:
            out.append(RerankResult(job.case_id, change=Change("error", None, str(exc))))
    return out


def _groups(jobs: Sequence[RerankJob], n_workers: int) -> list[list[RerankJob]]:
    weights = [VCF_WEIGHT if job.case.files else 1 for job in jobs]
    target = max(1, min(_GROUP_WEIGHT, sum(weights) // max(1, 4 * n_workers)))
    groups: list[list[RerankJob]] = []
    group: list[RerankJob] = []
    weight = 0
    for job, w in zip(jobs, weights, strict=True):
        if group and weight + w > target:
            groups.append(group)
            group, weight = [], 0
        group.append(job)
        weight += w
    if group:
        groups.append(group)
    return groups


def cluster_reranker(cluster: Cluster, *, user: str, store_url: str | None) -> Reranker:
    """A `Reranker` running on `cluster` for `user`; workers open the store at `store_url`
    (see `raredx.batch.worker.store_url_for_workers`) only for cases with a file."""

    def rerank(
        jobs: Sequence[RerankJob], kb: KnowledgeBase, parameters: RankParameters, top: int
    ) -> Iterator[RerankResult]:
        if not jobs:
            return
        warmed = cluster.on_each_worker(warm, kb.version)
        groups = _groups(jobs, len(warmed))
        for group, result in cluster.map(
            rerank_chunk, groups, kb.version, parameters, top, user, store_url
        ):
            if isinstance(result, BaseException):
                reason = f"the worker failed ({type(result).__name__}: {result})"
                for job in group:
                    yield RerankResult(job.case_id, change=Change("error", None, reason))
            else:
                yield from result

    return rerank
