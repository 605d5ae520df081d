"""Cohorts at scale: many cases ranked on a Dask cluster, local or remote (docs/batch.md).

>>> from raredx.batch import BatchSettings, plan_items, run_batch
>>> items = plan_items(["cases/"])                                   # doctest: +SKIP
>>> report = run_batch(items, BatchSettings("hpo-2025-01-16", out="results/"), workers=2)
>>> report.counts()                                                  # doctest: +SKIP
{'cases': 120, 'done': 118, 'finished_before': 0, 'failed': 2, 'pending': 0}

The client plans the cases (`plan_items`, `store_items`) without parsing them; workers load
the knowledge base once per process (`raredx.batch.worker`), rank groups of cases and write
each case's results atomically; a rerun skips finished cases.
"""

from raredx.batch.cluster import Cluster, ClusterError, default_workers, open_cluster
from raredx.batch.inhouse import CollectOutcome, InhouseReport, collect_inhouse
from raredx.batch.plan import VCF_WEIGHT, BatchItem, chunks, peek_case, plan_items, store_items
from raredx.batch.reanalysis import cluster_reranker
from raredx.batch.run import (
    SUMMARY_COLUMNS,
    BatchInterrupted,
    BatchReport,
    WorkerStats,
    run_batch,
    settings_identity,
)
from raredx.batch.worker import BatchSettings, CaseOutcome

__all__ = [
    "SUMMARY_COLUMNS",
    "VCF_WEIGHT",
    "BatchInterrupted",
    "BatchItem",
    "BatchReport",
    "BatchSettings",
    "CaseOutcome",
    "Cluster",
    "ClusterError",
    "CollectOutcome",
    "InhouseReport",
    "WorkerStats",
    "chunks",
    "cluster_reranker",
    "collect_inhouse",
    "default_workers",
    "open_cluster",
    "peek_case",
    "plan_items",
    "run_batch",
    "settings_identity",
    "store_items",
]
