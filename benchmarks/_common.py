"""Shared helpers for benchmarks on the development phenopackets: loading, folds, metrics."""

from __future__ import annotations

import csv
import platform
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from raredx.case import Case, read_cases

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"
DEV_CASES = BENCH / "phenopackets-dev.jsonl.gz"
DEV_MANIFEST = BENCH / "phenopackets-dev.manifest.tsv"
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True, slots=True)
class DevCase:
    """One development case: the phenopacket as read by raredx, and its manifest row."""

    source: str
    case: Case
    cohort: str
    genes: tuple[str, ...]
    diseases: tuple[str, ...]
    heme: bool
    immuno: bool

    @property
    def heme_or_immune(self) -> bool:
        return self.heme or self.immuno


def read_manifest(path: Path = DEV_MANIFEST) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return {row["id"]: row for row in csv.DictReader(fh, delimiter="\t")}


def _split(value: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in value.replace(";", ",").split(",") if x.strip())


def load_dev_cases(
    cases: Path = DEV_CASES, manifest: Path = DEV_MANIFEST, limit: int | None = None
) -> tuple[list[DevCase], list[str]]:
    """Cases (with manifest rows) and the problems of cases that could not be read."""
    rows = read_manifest(manifest)
    out: list[DevCase] = []
    problems: list[str] = []
    with progress() as bar:
        task = bar.add_task("reading phenopackets", total=limit)
        for result in read_cases([cases]):
            if limit is not None and len(out) + len(problems) >= limit:
                break
            bar.advance(task)
            if result.case is None:
                problems.append(f"{result.source}: {result.error}")
                continue
            row = rows.get(result.case.id)
            if row is None:
                problems.append(f"{result.source}: {result.case.id} not in the manifest")
                continue
            out.append(
                DevCase(
                    source=result.source,
                    case=result.case,
                    cohort=row["cohort"],
                    genes=_split(row["genes"]),
                    diseases=_split(row["diseases"]),
                    heme=row["heme"] == "1",
                    immuno=row["immuno"] == "1",
                )
            )
    return out, problems


def progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    )


def cohort_folds(cases: Sequence[DevCase], k: int = 2, seed: int = 0) -> list[list[int]]:
    """Indices of `k` folds; cohorts sharing a disease stay together, so no disease (and no
    gene cohort) is in two folds."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for c in cases:
        a = find("cohort:" + c.cohort)
        for d in c.diseases:
            b = find("disease:" + d)
            if a != b:
                parent[b] = a
    components = sorted({find("cohort:" + c.cohort) for c in cases})
    random.Random(seed).shuffle(components)
    fold_of = {comp: i % k for i, comp in enumerate(components)}
    folds: list[list[int]] = [[] for _ in range(k)]
    for i, c in enumerate(cases):
        folds[fold_of[find("cohort:" + c.cohort)]].append(i)
    return folds


Rank = tuple[int, int]
"""(entries scoring strictly higher, other entries scoring exactly the same) for one case."""


def rank_metrics(ranks: Iterable[Rank | None]) -> dict[str, float | int]:
    """Top-1/3/10 (%) and mean reciprocal rank, in expectation over a random order of tied
    entries (a tie with 9 others at the top counts 0.1 for top-1); None counts as not found."""
    values = list(ranks)
    n = len(values)
    out: dict[str, float | int] = {"n": n, "top1": 0.0, "top3": 0.0, "top10": 0.0, "mrr": 0.0}
    if n == 0:
        return out
    for r in values:
        if r is None:
            continue
        greater, ties = r
        for k in (1, 3, 10):
            out[f"top{k}"] += 100.0 * min(1.0, max(0.0, (k - greater) / (ties + 1))) / n
        span = range(greater + 1, greater + ties + 2)
        out["mrr"] += sum(1.0 / x for x in span) / (ties + 1) / n
    return out


def expected_rank(r: Rank) -> float:
    """Mean rank over a random order of the tied entries."""
    return r[0] + 1 + r[1] / 2


def reliability(
    predicted: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> tuple[list[dict[str, Any]], float]:
    """Reliability table of top-1 probabilities (equal-width bins) and the expected
    calibration error (mean |accuracy - confidence| weighted by bin size)."""
    table: list[dict[str, Any]] = []
    n = len(predicted)
    ece = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, p in enumerate(predicted) if lo <= p < hi or (b == bins - 1 and p == 1.0)]
        if not idx:
            continue
        conf = sum(predicted[i] for i in idx) / len(idx)
        acc = sum(correct[i] for i in idx) / len(idx)
        ece += len(idx) / n * abs(acc - conf)
        table.append(
            {"bin": f"{lo:.1f}-{hi:.1f}", "n": len(idx), "predicted": conf, "observed": acc}
        )
    return table, ece


def machine() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
    }
