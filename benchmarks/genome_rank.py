"""Gene ranking with an exome: dev phenopackets' causal variants spiked into a real exome.

For every development case whose causal variants are all VCF-style (chrom/pos/ref/alt) and lift
over from GRCh38 to GRCh37 (`_spike.case_spikes`), the variants are written with the case's
zygosity into the real unannotated exome ../shared/bench/vcf/pfeiffer-exome-background.b37.vcf.gz
(IDs and dbSNP flags removed from every record, QUAL/INFO/FORMAT copied from a background record
of the same genotype: see `_spike`). Each case's own spiked VCF is then read through
`raredx.genome.collect_evidence` (a singleton pedigree with the case's sex) and ranked by
`raredx.diagnosis.diagnose(case, genome=evidence)`; the causal gene's rank is compared with the
phenotype-only rank on the same cases (ties: expected rank over a random order of tied genes, as
in phenotype_rank.py). Then the same for the VEP-annotated Scout trio with a spiked variant
(proband ADM1059A2; de novo when heterozygous, inherited otherwise: `_spike.trio_genotypes`);
the spiked trio record carries no VEP CSQ, SnpEff ANN or frequency (they would describe another
allele).

    .venv/bin/python benchmarks/genome_rank.py [--limit 300] [--seed 0] [--heme-immune]
        [--workers 2] [--trio-cases 50]

Prints tables (progress on stderr) and writes benchmarks/results/genome_rank.json.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    load_dev_cases,
    machine,
    progress,
    rank_metrics,
)
from _spike import BACKGROUND, SCOUT_TRIO, Background, Lifter, SpikeVariant, Trio, case_spikes
from raredx.case import Sex
from raredx.diagnosis import diagnose
from raredx.errors import InputError
from raredx.genome import GenomeEvidence, Pedigree, collect_evidence, parse_ped
from raredx.kb import KnowledgeBase, load_kb
from raredx.rank.model import phenotype_model
from raredx.rank.result import CandidateGene

console = Console(width=120)
err = Console(stderr=True)

_PED_SEX = {Sex.MALE: 1, Sex.FEMALE: 2}


@dataclass(frozen=True, slots=True)
class Task:
    """One case to run: the case, its spiked variants, and which VCF to spike them into."""

    dev: DevCase
    variants: tuple[SpikeVariant, ...]
    trio: bool
    tmp: str


_STATE: dict[str, Any] = {}
"""Per process: the KB, the background and trio templates (set before the pool forks)."""


def _targets(kb: KnowledgeBase, symbols: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for s in symbols:
        out.update(kb.gene_symbols[i] for i in kb.gene_indices(s))
    return out


def gene_rank(genes: Sequence[CandidateGene], targets: set[str]) -> Rank | None:
    """(genes scoring strictly higher, other genes tied) for the best causal gene; None when
    no causal gene is listed (score 0: linked to no disease the KB ranks)."""
    found = [g.score for g in genes if g.symbol in targets]
    if not found:
        return None
    best = max(found)
    return sum(g.score > best for g in genes), sum(g.score == best for g in genes) - 1


def top_k(ranks: Sequence[Rank | None], k: int) -> float:
    """% of cases with the causal gene in the top `k`, in expectation over tied orders."""
    if not ranks:
        return 0.0
    total = sum(min(1.0, max(0.0, (k - r[0]) / (r[1] + 1))) for r in ranks if r is not None)
    return 100.0 * total / len(ranks)


def metrics(ranks: Sequence[Rank | None]) -> dict[str, float | int]:
    m = rank_metrics(ranks)
    m["top5"] = top_k(ranks, 5)
    return m


def _spiked_status(ev: GenomeEvidence, variants: Sequence[SpikeVariant]) -> list[str]:
    """For each spiked variant: 'qualifying', the reasons it was set aside, or 'not seen'."""
    out = []
    for v in variants:
        status = "not seen (outside the bundled gene spans, or gene unknown)"
        try:
            found = ev.variants(v.gene) if v.gene else ()
        except InputError:
            found = ()
        for e in found:
            if e.pos == v.pos and e.ref == v.ref and e.alt == v.alt:
                status = (
                    "qualifying"
                    if e.qualifies
                    else "; ".join(f"{s.reason.value}: {s.detail}" for s in e.set_aside)
                )
                break
        out.append(status)
    return out


def run(task: Task) -> dict[str, Any]:
    """Spike, read, rank one case: ranks without and with the VCF, times, spiked status."""
    kb: KnowledgeBase = _STATE["kb"]
    dev = task.dev
    targets = _targets(kb, (*dev.genes, *(v.gene for v in task.variants if v.gene)))
    n = kb.n_genes
    model = phenotype_model(kb)
    rec: dict[str, Any] = {
        "id": dev.case.id,
        "genes": sorted(targets),
        "trio": task.trio,
        "heme_or_immune": dev.heme_or_immune,
        "gene_in_kb": any(len(model.gene_groups(i)) for s in targets for i in kb.gene_indices(s)),
    }
    try:
        t0 = time.perf_counter()
        base = diagnose(
            dev.case, kb=kb, top=1, top_genes=n, next_findings=0, explain=False, lenient=True
        )
        rec["rank_ms_phenotype"] = 1000 * (time.perf_counter() - t0)
    except InputError as exc:
        rec["error"] = f"phenotype: {exc}"
        return rec
    rec["without"] = gene_rank(base.genes, targets)
    sex = dev.case.subject.sex if dev.case.subject is not None else Sex.UNKNOWN_SEX
    fd, name = tempfile.mkstemp(suffix=".vcf.gz", dir=task.tmp)
    os.close(fd)
    path = Path(name)
    t0 = time.perf_counter()
    if task.trio:
        trio: Trio = _STATE["trio"]
        trio.spike(task.variants, sex is Sex.MALE, path)
        pedigree = parse_ped(trio.ped(_PED_SEX.get(sex, 0)))
    else:
        bg: Background = _STATE["background"]
        bg.spike(task.variants, path)
        pedigree = Pedigree.singleton(bg.vcf.samples[0], sex=sex)
    rec["spike_s"] = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        ev = collect_evidence(path, pedigree, kb)
        rec["read_s"] = time.perf_counter() - t0
        rec["records"] = ev.counts.get("records", 0)
        rec["spiked"] = _spiked_status(ev, task.variants)
        modes = ev.compatible_modes()
        idx = [i for s in targets for i in kb.gene_indices(s)]
        rec["genes_with_qualifying"] = len(modes)
        rec["genes_with_compatible_mode"] = sum(bool(m) for m in modes.values())
        rec["causal_compatible"] = any(modes.get(g) for g in idx)
        t0 = time.perf_counter()
        combined = diagnose(
            dev.case,
            kb=kb,
            top=1,
            top_genes=n,
            next_findings=0,
            explain=False,
            lenient=True,
            genome=ev,
        )
        rec["rank_ms_genome"] = 1000 * (time.perf_counter() - t0)
        rec["with"] = gene_rank(combined.genes, targets)
    except InputError as exc:
        rec["error"] = f"genome: {exc}"
    finally:
        path.unlink(missing_ok=True)
    return rec


def eligible_cases(
    dev: Sequence[DevCase], lifter: Lifter
) -> tuple[list[tuple[DevCase, list[SpikeVariant]]], Counter[str]]:
    out = []
    skipped: Counter[str] = Counter()
    for d in dev:
        variants, why = case_spikes(d.case, lifter)
        if why is not None:
            skipped[why] += 1
        else:
            out.append((d, variants))
    return out, skipped


def _block(recs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    done = [r for r in recs if "error" not in r]
    out: dict[str, Any] = {
        "cases": len(done),
        "errors": len(recs) - len(done),
        "without_vcf": metrics([r["without"] for r in done]),
        "causal_gene_compatible_pct": 100
        * statistics.fmean([bool(r.get("causal_compatible")) for r in done])
        if done
        else 0.0,
        "spiked_qualifying_pct": 100
        * statistics.fmean([all(s == "qualifying" for s in r.get("spiked", [])) for r in done])
        if done
        else 0.0,
    }
    out["with_vcf"] = metrics([r.get("with") for r in done])
    return out


def _timing(recs: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    done = [r for r in recs if "read_s" in r]

    def mean(key: str) -> float | None:
        vals = [r[key] for r in done if key in r]
        return statistics.fmean(vals) if vals else None

    rates = [r["records"] / r["read_s"] for r in done if r["read_s"] > 0]
    return {
        "spike_s": mean("spike_s"),
        "read_s": mean("read_s"),
        "records_per_s": statistics.fmean(rates) if rates else None,
        "rank_ms_phenotype": mean("rank_ms_phenotype"),
        "rank_ms_genome": mean("rank_ms_genome"),
        "genes_with_qualifying": mean("genes_with_qualifying"),
        "genes_with_compatible_mode": mean("genes_with_compatible_mode"),
    }


def _print(title: str, blocks: dict[str, dict[str, Any]]) -> None:
    table = Table(title=title)
    for col in ("cases", "input", "n", "top-1 %", "≤3 %", "≤5 %", "≤10 %", "MRR"):
        table.add_column(col, justify="left" if col in ("cases", "input") else "right")
    for name, b in blocks.items():
        rows = [("phenotype only", b["without_vcf"])]
        if "with_vcf" in b:
            rows.append(("phenotype + VCF", b["with_vcf"]))
        for label, m in rows:
            table.add_row(
                name,
                label,
                str(m["n"]),
                f"{m['top1']:.1f}",
                f"{m['top3']:.1f}",
                f"{m['top5']:.1f}",
                f"{m['top10']:.1f}",
                f"{m['mrr']:.3f}",
            )
    console.print(table)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--cases", type=Path, default=DEV_CASES)
    ap.add_argument("--manifest", type=Path, default=DEV_MANIFEST)
    ap.add_argument("--background", type=Path, default=BACKGROUND)
    ap.add_argument("--trio", type=Path, default=SCOUT_TRIO)
    ap.add_argument(
        "--limit",
        type=int,
        default=300,
        help="Cases drawn at random (seeded) from the eligible ones; 0: all.",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--heme-immune", action="store_true", help="Only hematologic or immune/inflammatory cases."
    )
    ap.add_argument(
        "--trio-cases",
        type=int,
        default=50,
        help="Cases (of those drawn) also spiked into the Scout trio (0: none).",
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=RESULTS / "genome_rank.json")
    args = ap.parse_args(argv)

    t_start = time.perf_counter()
    kb = load_kb()
    phenotype_model(kb)  # built once here, inherited by the workers
    dev, unreadable = load_dev_cases(args.cases, args.manifest)
    lifter = Lifter()
    eligible, skipped = eligible_cases(dev, lifter)
    pool_cases = [e for e in eligible if e[0].heme_or_immune] if args.heme_immune else eligible
    chosen = list(range(len(pool_cases)))
    if args.limit and args.limit < len(chosen):
        chosen = sorted(random.Random(args.seed).sample(chosen, args.limit))
    picked = [pool_cases[i] for i in chosen]
    trio_picked = picked[: max(args.trio_cases, 0)]

    _STATE.update(kb=kb, background=Background(args.background), trio=Trio(args.trio))
    recs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="raredx-spike-") as tmp:
        tasks = [Task(d, tuple(v), False, tmp) for d, v in picked]
        tasks += [Task(d, tuple(v), True, tmp) for d, v in trio_picked]
        ctx = multiprocessing.get_context("fork")
        with progress() as bar, ctx.Pool(max(args.workers, 1)) as pool:
            task_id = bar.add_task("spiking, reading, ranking", total=len(tasks))
            for rec in pool.imap(run, tasks):
                recs.append(rec)
                bar.advance(task_id)
    exome = [r for r in recs if not r["trio"]]
    trio = [r for r in recs if r["trio"]]
    blocks = {
        "all": _block(exome),
        "gene with a KB disease": _block([r for r in exome if r["gene_in_kb"]]),
        "heme/immune": _block([r for r in exome if r["heme_or_immune"]]),
    }
    trio_blocks = {"Scout trio": _block(trio)} if trio else {}
    timing = {"exome": _timing(exome), "trio": _timing(trio)}

    console.print(
        f"[bold]{len(dev)} cases read[/] ({len(unreadable)} unreadable); {len(eligible)} eligible "
        f"(every causal variant VCF-style, with a zygosity, lifted to GRCh37); skipped: "
        + ", ".join(f"{n} {why}" for why, n in skipped.most_common())
        + f"; {len(picked)} drawn (seed {args.seed}"
        + (", heme/immune only" if args.heme_immune else "")
        + ")"
    )
    _print("Causal gene rank, spiked Pfeiffer exome (unannotated, GRCh37)", blocks)
    for name, b in blocks.items():
        console.print(
            f"{name}: causal gene with a compatible inheritance mode in the VCF "
            f"{b['causal_gene_compatible_pct']:.1f}%, every spiked variant qualifying "
            f"{b['spiked_qualifying_pct']:.1f}% ({b['errors']} errors)"
        )
    t = timing["exome"]
    if t["read_s"] is not None:
        console.print(
            f"exome: spike+write {t['spike_s']:.2f} s, VCF read {t['read_s']:.2f} s/case "
            f"({t['records_per_s']:,.0f} records/s), rank {t['rank_ms_phenotype']:.0f} ms "
            "phenotype only"
            + (f", {t['rank_ms_genome']:.0f} ms with the VCF" if t["rank_ms_genome"] else "")
            + f"; {t['genes_with_qualifying']:.0f} genes with a qualifying variant, "
            f"{t['genes_with_compatible_mode']:.0f} with a compatible mode"
        )
    if trio_blocks:
        _print(
            "Causal gene rank, spiked Scout trio (VEP-annotated; spiked record without CSQ)",
            trio_blocks,
        )
        b = trio_blocks["Scout trio"]
        reasons = Counter(s for r in trio for s in r.get("spiked", []))
        console.print(
            f"trio: causal gene compatible {b['causal_gene_compatible_pct']:.1f}%, spiked variant "
            f"qualifying {b['spiked_qualifying_pct']:.1f}%; spiked-variant status: "
            + "; ".join(f"{n}x {s[:90]}" for s, n in reasons.most_common(3))
        )
        tt = timing["trio"]
        if tt["read_s"] is not None:
            console.print(
                f"trio: VCF read {tt['read_s']:.2f} s/case ({tt['records_per_s']:,.0f} records/s)"
            )
    errors = [f"{r['id']}: {r['error']}" for r in recs if "error" in r]
    for e in errors[:5]:
        err.print(f"[red]{e}[/]")

    payload = {
        "benchmark": "genome_rank",
        "kb_version": kb.version,
        "background": str(args.background),
        "trio": str(args.trio),
        "counts": {
            "read": len(dev),
            "unreadable": len(unreadable),
            "eligible": len(eligible),
            "skipped": dict(skipped),
            "drawn": len(picked),
            "trio_cases": len(trio_picked),
            "errors": len(errors),
        },
        "limit": args.limit,
        "seed": args.seed,
        "heme_immune_only": args.heme_immune,
        "note": "causal-gene rank among all KB genes, expected over random orders of ties; a "
        "gene with score 0 counts as not found. Trio spiked records carry no CSQ/ANN.",
        "metrics": blocks,
        "trio_metrics": trio_blocks,
        "timing": timing,
        "wall_s": time.perf_counter() - t_start,
        "cases": recs,
        "errors": errors[:50],
        "machine": machine(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2))
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
