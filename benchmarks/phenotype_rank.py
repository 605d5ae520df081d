"""Phenotype-only ranking on the development phenopackets: raredx against a Phenomizer baseline.

For every case (read with raredx's phenopacket reader, scored through `prepare_patient` and the
phenotype model exactly as `raredx.diagnose` does): the rank of the diagnosed disease (a hit
when the OMIM id is the candidate or one of its equivalent ids) and of the causal gene; the
same for a Resnik best-match-average baseline over the same KB and disease groups. Cases whose
disease is not in the KB are counted apart and left out of every metric. Also: calibration
(reliability of the top-1 probability, with the temperature cross-validated by cohort), the
time per case, and with --fit the cross-validated fit of the model's parameters.

    .venv/bin/python benchmarks/phenotype_rank.py [--limit N] [--fit]

Prints tables and writes benchmarks/results/phenotype_rank.json.
"""

from __future__ import annotations

import argparse
import gzip
import math
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    DEV_CASES,
    DEV_MANIFEST,
    RESULTS,
    DevCase,
    Rank,
    cohort_folds,
    load_dev_cases,
    machine,
    progress,
    rank_metrics,
    reliability,
)
from raredx.diagnosis import DEFAULT_PARAMETERS, diagnose, prepare_patient
from raredx.errors import InputError
from raredx.kb import KnowledgeBase, load_kb
from raredx.rank import PatientQuery, PhenotypeModel, RankParameters, phenotype_model
from raredx.rank.baseline import resnik_scores

console = Console(width=120)

FIT_GRID: dict[str, tuple[float, ...]] = {
    "noise": (0.2, 0.3, 0.4, 0.5, 0.6),
    "narrower_weight": (0.0, 0.1, 0.2, 0.4),
    "excluded_weight": (0.2, 0.3, 0.5, 0.7, 1.0),
    "examined_floor": (0.2, 0.35, 0.5, 0.7, 0.85),
    "examined_scale": (0.25, 0.5, 1.0),
    "absent_rate": (0.0, 0.05, 0.1, 0.2),
    "onset_smoothing": (0.2, 0.4, 0.6, 0.8),
}
"""Values the coordinate ascent of --fit tries for each parameter."""


@dataclass(slots=True)
class Item:
    """A case ready to score: its query, true disease groups and causal genes."""

    dev: DevCase
    query: PatientQuery
    groups: tuple[int, ...]
    genes: tuple[int, ...]


def _true_groups(kb: KnowledgeBase, model: PhenotypeModel, ids: tuple[str, ...]) -> tuple[int, ...]:
    found = {int(model.disease_group[kb.disease_index[d]]) for d in ids if d in kb.disease_index}
    return tuple(sorted(found))


def _true_genes(kb: KnowledgeBase, symbols: tuple[str, ...]) -> tuple[int, ...]:
    found: set[int] = set()
    for s in symbols:
        found.update(kb.gene_indices(s))
    return tuple(sorted(found))


def _rank(
    scores: np.ndarray, targets: tuple[int, ...], *, zero_missing: bool = False
) -> Rank | None:
    """(entries strictly higher, other entries tied) for the best target; None if there is no
    target (or, with `zero_missing`, when it scores 0: a gene linked to no disease)."""
    if not targets:
        return None
    best = max(float(scores[t]) for t in targets)
    if zero_missing and best == 0.0:
        return None
    return int((scores > best).sum()), int((scores == best).sum()) - 1


def _gene_max(model: PhenotypeModel, group_scores: np.ndarray) -> np.ndarray:
    out = np.zeros(model.kb.n_genes)
    np.maximum.at(out, model.gene_of_pair, group_scores[model.group_of_pair] + 1e-9)
    return out


def prepare(
    kb: KnowledgeBase, model: PhenotypeModel, dev: list[DevCase], lenient: bool
) -> tuple[list[Item], list[DevCase], list[str], int]:
    """Items whose disease is in the KB, cases whose disease is not, input errors, and how
    many cases needed `lenient` (terms skipped)."""
    items: list[Item] = []
    missing: list[DevCase] = []
    errors: list[str] = []
    skipped = 0
    for d in dev:
        try:
            patient = prepare_patient(d.case, kb=kb, lenient=lenient)
        except InputError as exc:
            errors.append(f"{d.source} ({d.case.id}): {exc}")
            continue
        skipped += any(w.endswith("skipped") for w in patient.warnings)
        groups = _true_groups(kb, model, d.diseases)
        if not groups:
            missing.append(d)
            continue
        items.append(Item(d, patient.query, groups, _true_genes(kb, d.genes)))
    return items, missing, errors, skipped


def disease_ranks(
    model: PhenotypeModel, items: list[Item], params: RankParameters
) -> list[Rank | None]:
    return [_rank(model.score(it.query, params).total, it.groups) for it in items]


def evaluate(model: PhenotypeModel, items: list[Item], params: RankParameters) -> dict[str, Any]:
    """Ranks, baseline ranks, posteriors and timings for every item."""
    rec: dict[str, Any] = {
        "disease": [],
        "gene": [],
        "base_disease": [],
        "base_gene": [],
        "top_p": [],
        "top_correct": [],
        "true_logit": [],
        "totals": [],
        "ms": [],
        "ms_warm": [],
    }
    with progress() as bar:
        task = bar.add_task("scoring", total=len(items))
        for it in items:
            model.clear_cache()  # time every case cold: no term evidence reused
            t0 = time.perf_counter()
            scores = model.score(it.query, params)
            rec["ms"].append(1000 * (time.perf_counter() - t0))
            t0 = time.perf_counter()
            model.score(it.query, params)
            rec["ms_warm"].append(1000 * (time.perf_counter() - t0))
            total, post = scores.total, scores.posterior
            rec["disease"].append(_rank(total, it.groups))
            rec["gene"].append(_rank(model.gene_scores(post), it.genes, zero_missing=True))
            top = int(np.argmax(total))
            rec["top_p"].append(float(post[top]))
            rec["top_correct"].append(top in it.groups)  # argmax: ties broken by index
            rec["totals"].append(total.astype(np.float32))
            base = resnik_scores(model, it.query.observed)
            rec["base_disease"].append(_rank(base, it.groups))
            rec["base_gene"].append(_rank(_gene_max(model, base), it.genes, zero_missing=True))
            bar.advance(task)
    return rec


def _nll(totals: list[np.ndarray], items: list[Item], t: float) -> float:
    out = 0.0
    for total, it in zip(totals, items, strict=True):
        z = total.astype(np.float64) / t
        top = float(z.max())
        lse = top + math.log(float(np.exp(z - top).sum()))
        out += lse - max(float(z[g]) for g in it.groups)
    return out / max(len(items), 1)


def fit_temperature(totals: list[np.ndarray], items: list[Item]) -> float:
    """Temperature minimising the mean negative log posterior of the diagnosed disease."""
    grid = np.exp(np.linspace(math.log(0.3), math.log(10.0), 36))
    losses = [_nll(totals, items, float(t)) for t in grid]
    k = int(np.argmin(losses))
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
    fine = np.exp(np.linspace(math.log(lo), math.log(hi), 21))
    return float(min(fine, key=lambda t: _nll(totals, items, float(t))))


def _top_prob(total: np.ndarray, t: float) -> tuple[int, float]:
    z = total.astype(np.float64) / t
    z = np.exp(z - z.max())
    k = int(np.argmax(z))
    return k, float(z[k] / z.sum())


def calibration(rec: dict[str, Any], items: list[Item], folds: list[list[int]]) -> dict[str, Any]:
    """Temperature fitted on each fold and applied to the others; reliability tables."""
    totals = rec["totals"]
    per_fold = []
    held_p: list[float] = [0.0] * len(items)
    held_ok: list[bool] = [False] * len(items)
    for f, test in enumerate(folds):
        train = [i for g, fold in enumerate(folds) if g != f for i in fold]
        t = fit_temperature([totals[i] for i in train], [items[i] for i in train])
        per_fold.append(
            {
                "fold": f,
                "temperature": t,
                "n_train": len(train),
                "n_test": len(test),
                "test_nll": _nll([totals[i] for i in test], [items[i] for i in test], t),
            }
        )
        for i in test:
            k, p = _top_prob(totals[i], t)
            held_p[i], held_ok[i] = p, k in items[i].groups
    t_all = fit_temperature(totals, items)
    table_cv, ece_cv = reliability(held_p, held_ok)
    table_used, ece_used = reliability(rec["top_p"], rec["top_correct"])
    return {
        "temperature_all": t_all,
        "folds": per_fold,
        "reliability_cross_validated": table_cv,
        "ece_cross_validated": ece_cv,
        "reliability_parameters_used": table_used,
        "ece_parameters_used": ece_used,
        "nll_parameters_used": _nll(totals, items, DEFAULT_PARAMETERS.temperature),
    }


def coordinate_ascent(
    model: PhenotypeModel, items: list[Item], start: RankParameters, rounds: int = 2
) -> tuple[RankParameters, float]:
    """Maximise the mean reciprocal rank of the diagnosed disease, one parameter at a time."""

    def mrr(p: RankParameters) -> float:
        return float(rank_metrics(disease_ranks(model, items, p))["mrr"])

    best, params = mrr(start), start
    for _ in range(rounds):
        changed = False
        for name, values in FIT_GRID.items():
            for v in values:
                if getattr(params, name) == v:
                    continue
                trial = params.replace(**{name: v})
                score = mrr(trial)
                if score > best + 1e-4:
                    best, params, changed = score, trial, True
            console.print(f"  {name} = {getattr(params, name)}  (MRR {best:.4f})")
        if not changed:
            break
    return params, best


def fit(model: PhenotypeModel, items: list[Item], folds: list[list[int]]) -> dict[str, Any]:
    """Cross-validated fit: per fold, fit on the others and score the held-out fold."""
    start = DEFAULT_PARAMETERS
    per_fold = []
    for f, test in enumerate(folds):
        train = [items[i] for g, fold in enumerate(folds) if g != f for i in fold]
        console.print(f"[bold]fold {f}[/]: fitting on {len(train)} cases")
        params, train_mrr = coordinate_ascent(model, train, start)
        held = [items[i] for i in test]
        ranks = disease_ranks(model, held, params)
        per_fold.append(
            {
                "fold": f,
                "parameters": _fitted(params),
                "train_mrr": train_mrr,
                "test": rank_metrics(ranks),
            }
        )
    console.print("[bold]all cases[/]")
    params, all_mrr = coordinate_ascent(model, items, start)
    return {"folds": per_fold, "all": {"parameters": _fitted(params), "mrr": all_mrr}}


def _fitted(p: RankParameters) -> dict[str, float]:
    return {name: getattr(p, name) for name in FIT_GRID}


def _metrics(rec: dict[str, Any], idx: list[int]) -> dict[str, Any]:
    def pick(key: str) -> list[Rank | None]:
        return [rec[key][i] for i in idx]

    return {
        "raredx_disease": rank_metrics(pick("disease")),
        "raredx_gene": rank_metrics(pick("gene")),
        "baseline_disease": rank_metrics(pick("base_disease")),
        "baseline_gene": rank_metrics(pick("base_gene")),
    }


def _print_metrics(title: str, blocks: dict[str, dict[str, Any]]) -> None:
    table = Table(title=title)
    for col in ("cases", "ranker", "target", "n", "top-1 %", "top-3 %", "top-10 %", "MRR"):
        left = col in ("cases", "ranker", "target")
        table.add_column(col, justify="left" if left else "right")
    for name, m in blocks.items():
        for key, ranker, target in (
            ("raredx_disease", "raredx", "disease"),
            ("baseline_disease", "Resnik BMA", "disease"),
            ("raredx_gene", "raredx", "gene"),
            ("baseline_gene", "Resnik BMA", "gene"),
        ):
            r = m[key]
            table.add_row(
                name,
                ranker,
                target,
                str(r["n"]),
                f"{r['top1']:.1f}",
                f"{r['top3']:.1f}",
                f"{r['top10']:.1f}",
                f"{r['mrr']:.3f}",
            )
    console.print(table)


def _print_reliability(cal: dict[str, Any]) -> None:
    table = Table(title="Calibration of the top-1 probability (parameters as shipped)")
    for col in ("bin", "cases", "mean predicted", "observed accuracy"):
        table.add_column(col, justify="right")
    for row in cal["reliability_parameters_used"]:
        table.add_row(
            row["bin"], str(row["n"]), f"{row['predicted']:.3f}", f"{row['observed']:.3f}"
        )
    console.print(table)
    folds = ", ".join(f"fold {f['fold']}: T={f['temperature']:.2f}" for f in cal["folds"])
    console.print(
        f"ECE as shipped {cal['ece_parameters_used']:.3f}; cross-validated temperature "
        f"({folds}) ECE {cal['ece_cross_validated']:.3f}; temperature fitted on all cases "
        f"{cal['temperature_all']:.2f} (shipped {DEFAULT_PARAMETERS.temperature:.2f})"
    )


_CLI = (
    "import typer\n"
    "from raredx.cli.diagnose import diagnose\n"
    "app = typer.Typer(add_completion=False)\n"
    "app.command()(diagnose)\n"
    "app()\n"
)


def cli_timing(cases: Path, n: int) -> dict[str, Any]:
    """Wall time of `diagnose FILE.jsonl --out DIR --lenient` on the first `n` phenopackets,
    in a fresh process (imports, KB load and model build included)."""
    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "cases.jsonl"
        with gzip.open(cases, "rb") as src, subset.open("wb") as dst:
            for _, line in zip(range(n), src, strict=False):
                dst.write(line)
        out = Path(tmp) / "pheval"
        cmd = [sys.executable, "-c", _CLI, str(subset), "--out", str(out), "--lenient", "-f", "tsv"]
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        written = len(list(out.glob("*-pheval_disease_result.tsv"))) if out.is_dir() else 0
    return {"cases": n, "wall_s": wall, "exit_code": done.returncode, "cases_written": written}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--cases", type=Path, default=DEV_CASES)
    ap.add_argument("--manifest", type=Path, default=DEV_MANIFEST)
    ap.add_argument("--limit", type=int, default=None, help="Only the first N cases.")
    ap.add_argument("--folds", type=int, default=2, help="Cross-validation folds (by cohort).")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--timing-cases",
        type=int,
        default=300,
        help="Cases timed through the full diagnose() front door.",
    )
    ap.add_argument(
        "--fit",
        action="store_true",
        help="Also re-fit the parameters with cross-validation (slow: ~1 h).",
    )
    ap.add_argument(
        "--cli-cases",
        type=int,
        default=1000,
        help="Phenopackets timed through the command line with --out (0: skip).",
    )
    ap.add_argument(
        "--strict",
        action="store_true",
        help="Reject cases with terms unknown to the KB instead of skipping those "
        "terms (as `diagnose --lenient` does).",
    )
    ap.add_argument("--out", type=Path, default=RESULTS / "phenotype_rank.json")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    kb = load_kb()
    t_kb = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = phenotype_model(kb)
    t_model = time.perf_counter() - t0
    dev, read_problems = load_dev_cases(args.cases, args.manifest, args.limit)
    items, missing, errors, lenient_cases = prepare(kb, model, dev, not args.strict)
    params = DEFAULT_PARAMETERS
    rec = evaluate(model, items, params)

    folds = cohort_folds([it.dev for it in items], args.folds, args.seed)
    cal = calibration(rec, items, folds) if len(items) >= 2 * args.folds else {}

    timed = [d for d in dev[: args.timing_cases]]
    front_ms: list[float] = []
    for d in timed:
        t = time.perf_counter()
        try:
            diagnose(d.case, kb=kb, parameters=params, lenient=not args.strict)
        except InputError:
            continue
        front_ms.append(1000 * (time.perf_counter() - t))

    all_idx = list(range(len(items)))
    heme_idx = [i for i, it in enumerate(items) if it.dev.heme_or_immune]
    blocks = {"all in KB": _metrics(rec, all_idx), "heme/immune in KB": _metrics(rec, heme_idx)}
    fold_blocks = {
        f"fold {f} (shipped parameters)": _metrics(rec, idx) for f, idx in enumerate(folds)
    }
    fitted = fit(model, items, folds) if args.fit else None
    cli = cli_timing(args.cases, args.cli_cases) if args.cli_cases > 0 else None

    console.print(
        f"[bold]{len(dev)} cases read[/] ({len(read_problems)} unreadable); "
        f"{len(items)} with the diagnosed disease in the KB (scored), "
        f"{len(missing)} whose disease is not in KB {kb.version} (not scored), "
        f"{len(errors)} rejected as input errors; {lenient_cases} scored after skipping terms "
        f"unknown to the KB or contradicted (lenient={not args.strict})"
    )
    _print_metrics("Phenotype-only ranking, development phenopackets", blocks)
    _print_metrics("Per cohort fold", fold_blocks)
    if cal:
        _print_reliability(cal)
    ms = rec["ms"]
    if ms:
        console.print(
            f"model build {t_model:.2f} s (KB load {t_kb:.2f} s); scoring every disease, cold: "
            f"{statistics.fmean(ms):.2f} ms/case mean, {statistics.median(ms):.2f} median, "
            f"{np.percentile(ms, 95):.2f} p95 (terms cached: "
            f"{statistics.fmean(rec['ms_warm']):.2f} ms); full diagnose() (top 20 explained, next "
            f"findings): {statistics.fmean(front_ms) if front_ms else float('nan'):.2f} ms/case "
            f"over {len(front_ms)} cases"
        )
    if cli:
        console.print(
            f"command line: {cli['cases']} phenopackets -> PhEval files in {cli['wall_s']:.1f} s "
            f"wall (fresh process; exit code {cli['exit_code']}, {cli['cases_written']} written)"
        )
    if fitted:
        for f in fitted["folds"]:
            t = f["test"]
            console.print(
                f"fit fold {f['fold']}: {f['parameters']} -> held-out top-1 "
                f"{t['top1']:.1f} top-10 {t['top10']:.1f} MRR {t['mrr']:.3f}"
            )
        console.print(f"fit on all: {fitted['all']}")

    payload = {
        "benchmark": "phenotype_rank",
        "kb_version": kb.version,
        "hpo_release": kb.hpo_release,
        "cases_file": str(args.cases),
        "limit": args.limit,
        "counts": {
            "read": len(dev),
            "unreadable": len(read_problems),
            "scored_in_kb": len(items),
            "disease_not_in_kb": len(missing),
            "input_errors": len(errors),
            "lenient_cases": lenient_cases,
            "lenient": not args.strict,
            "heme_immune_in_kb": len(heme_idx),
        },
        "note": "metrics are over cases whose diagnosed disease is in the KB; a disease hit is "
        "the OMIM id as the candidate or among its equivalent ids",
        "metrics": blocks,
        "folds": fold_blocks,
        "calibration": cal,
        "timing_ms": {
            "score_mean": statistics.fmean(ms) if ms else None,
            "score_median": statistics.median(ms) if ms else None,
            "score_p95": float(np.percentile(ms, 95)) if ms else None,
            "score_cached_mean": statistics.fmean(rec["ms_warm"]) if ms else None,
            "diagnose_mean": statistics.fmean(front_ms) if front_ms else None,
            "model_build_s": t_model,
            "kb_load_s": t_kb,
        },
        "cli": cli,
        "parameters": params.to_dict(),
        "kb_estimates": model.estimates.to_dict(),
        "fit": fitted,
        "input_errors": errors[:50],
        "machine": machine(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    options = orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY
    args.out.write_bytes(orjson.dumps(payload, option=options))
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
