"""Batch throughput on Dask: phenotype-only cases and spiked exomes, 1 and 2 local workers.

Two sets of real inputs are written to a temporary folder:

- the first `--cases` development phenopackets (../shared/bench/phenopackets-dev.jsonl.gz), one
  JSON Lines file, phenotype only;
- `--exomes` development cases (drawn at random, seed `--seed`, among those whose causal
  variants lift over to GRCh37: `_spike.case_spikes`), each spiked into its own copy of the
  real Pfeiffer exome (../shared/bench/vcf/, 37,708 records, liftover with the shared chain)
  and written as a phenopacket that names its VCF.

Cases are run leniently (`raredx batch --lenient`): published phenopackets use HPO ids newer than
the bundled KB, and a term the KB does not know is skipped with a warning, not a failed case.
Each set is run by `raredx.batch.run_batch` on a `LocalCluster` of 1, then 2 worker processes
(one cluster per worker count, started once; the KB is loaded once per worker before timing).
Reported per run: wall time (what `raredx batch` takes after the cluster is up), cases/s on the
cluster, speedup from 1 to 2 workers (target >= 1.8x), peak RSS of each worker, KB load time.
CPU ms/case (the workers' CPU time over the cases they ran) and the load average show how
much of the machine the run had (other processes compete for the two cores). Then: the outputs
of 1 and 2 workers compared file by file, samples compared with the single-process path
(`raredx diagnose FILES --out DIR` in a subprocess; `--check` phenotype and `--check-exomes`
exome cases), a rerun (every case skipped), and the in-house frequencies built from the
exomes' genotypes (`collect_inhouse`, 2 workers) and used for the same exomes (leave-one-out)
with the causal gene's rank with and without them. The exomes all share one background
individual, so the in-house effect here is an upper bound (see docs/batch.md).

    .venv/bin/python benchmarks/batch.py [--cases 5000] [--exomes 200] [--workers 1,2]
        [--check 200] [--check-exomes 20] [--seed 0] [--skip-inhouse] [--keep DIR]

Prints a table and writes benchmarks/results/batch.json.
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import gzip
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DEV_CASES, DEV_MANIFEST, RESULTS, machine, progress, read_manifest
from _spike import BACKGROUND, Background, Lifter, SpikeVariant, case_spikes
from raredx.batch import (
    BatchItem,
    BatchReport,
    BatchSettings,
    collect_inhouse,
    open_cluster,
    plan_items,
    run_batch,
)
from raredx.case import GenomicFile, read_phenopacket, write_phenopacket
from raredx.errors import InputError
from raredx.kb import load_kb

console = Console(width=130)
err = Console(stderr=True)
ROOT = Path(__file__).resolve().parents[1]

_STATE: dict[str, Any] = {}


# ------------------------------------------------------------------------------- inputs
def phenotype_set(folder: Path, n: int) -> Path:
    path = folder / "phenotype.jsonl"
    with gzip.open(DEV_CASES, "rb") as src, path.open("wb") as out:
        for i, line in enumerate(src):
            if i >= n:
                break
            out.write(line)
    return path


def _spike_one(task: tuple[str, list[SpikeVariant], str]) -> str:
    text, variants, folder = task
    bg: Background = _STATE["background"]
    case = read_phenopacket(text.encode(), name="dev")
    vcf = Path(folder) / f"{_safe(case.id)}.vcf.gz"
    bg.spike(variants, vcf)
    sample = bg.vcf.samples[0]
    named = replace(
        case,
        files=(
            GenomicFile(
                uri=vcf.name,
                assembly="GRCh37",
                file_format="VCF",
                individual_to_file_ids=((case.subject.id, sample),),
            ),
        ),
    )
    path = Path(folder) / f"{_safe(case.id)}.json"
    write_phenopacket(named, path)
    return str(path)


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in text)


def exome_set(folder: Path, n: int, seed: int) -> tuple[Path, dict[str, list[str]]]:
    """`n` spiked exome phenopackets in `folder`; the causal genes of each case id."""
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(DEV_CASES, "rt", encoding="utf-8") as fh:
        lines = [line for line in fh if line.strip()]
    random.Random(seed).shuffle(lines)
    manifest = read_manifest(DEV_MANIFEST)
    lifter = Lifter()
    tasks: list[tuple[str, list[SpikeVariant], str]] = []
    genes: dict[str, list[str]] = {}
    for text in lines:
        if len(tasks) >= n:
            break
        try:
            case = read_phenopacket(text.encode(), name="dev")
        except InputError:
            continue
        variants, why = case_spikes(case, lifter)
        if why is not None or case.id in genes:
            continue
        row = manifest.get(case.id, {})
        symbols = {g.strip() for g in row.get("genes", "").replace(";", ",").split(",")}
        symbols |= {v.gene for v in variants if v.gene}
        genes[case.id] = sorted(s for s in symbols if s)
        tasks.append((text, variants, str(folder)))
    _STATE["background"] = Background(BACKGROUND)
    with progress() as bar, multiprocessing.get_context("fork").Pool(2) as pool:
        task = bar.add_task("spiking exomes", total=len(tasks))
        for _ in pool.imap_unordered(_spike_one, tasks):
            bar.advance(task)
    return folder, genes


# ------------------------------------------------------------------------------- checks
def same_files(a: Path, b: Path) -> tuple[int, list[str]]:
    """(files compared, names that differ or are missing) between two result folders."""
    names = sorted(
        p.name for p in a.iterdir() if p.is_file() and p.name.endswith((".tsv", ".json"))
    )
    names = [n for n in names if n not in ("batch-summary.tsv", "batch.json")]
    differ = []
    for name in names:
        if name.endswith(".error.json"):  # worker and timing differ: compare the message
            if _error(a / name) != _error(b / name):
                differ.append(name)
        elif not (b / name).is_file() or not filecmp.cmp(a / name, b / name, shallow=False):
            differ.append(name)
    return len(names), differ


def _error(path: Path) -> str | None:
    try:
        return str(orjson.loads(path.read_bytes()).get("error"))
    except (OSError, orjson.JSONDecodeError):
        return None


def single_process(
    inputs: list[Path], out: Path, extra: list[str] | None = None
) -> tuple[float, int]:
    """`raredx diagnose INPUTS --out OUT` in a subprocess: (seconds, exit code)."""
    cmd = [
        str(ROOT / ".venv" / "bin" / "raredx"),
        "diagnose",
        *map(str, inputs),
        "--out",
        str(out),
        "--format",
        "tsv",
        "--lenient",
        *(extra or []),
    ]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, check=False)
    return time.perf_counter() - t0, done.returncode


def gene_ranks(out: Path, items: list[BatchItem], genes: dict[str, list[str]]) -> list[int | None]:
    """Rank of the best causal gene in each case's PhEval gene file (None: not in the top
    100)."""
    ranks: list[int | None] = []
    for item in items:
        targets = set(genes.get(item.case_id or "", ()))
        path = out / f"{item.stem}-pheval_gene_result.tsv"
        best: int | None = None
        if path.is_file():
            with path.open(encoding="utf-8") as fh:
                for row in csv.DictReader(fh, delimiter="\t"):
                    if row["gene_symbol"] in targets:
                        best = int(row["rank"])
                        break
        ranks.append(best)
    return ranks


def top_k(ranks: list[int | None], k: int) -> float:
    return 100.0 * sum(r is not None and r <= k for r in ranks) / max(1, len(ranks))


# ------------------------------------------------------------------------------- runs
def run_set(
    label: str,
    items: list[BatchItem],
    settings: BatchSettings,
    cluster: Any,
    workers: int,
) -> dict[str, Any]:
    with progress() as bar:
        task = bar.add_task(f"{label}, {workers} worker(s)", total=len(items))
        t0 = time.perf_counter()
        report: BatchReport = run_batch(
            items,
            settings,
            cluster=cluster,
            progress=lambda done, total: bar.update(task, completed=done),
        )
        wall = time.perf_counter() - t0
    counts = report.counts()
    return {
        "set": label,
        "workers": workers,
        "cases": counts["cases"],
        "done": counts["done"],
        "failed": counts["failed"],
        "wall_s": wall,
        "cluster_s": report.run_seconds,
        "cases_per_s": report.throughput,
        "worker_stats": [w.to_dict() for w in report.workers],
        "peak_rss_mb": max((w.peak_rss for w in report.workers), default=0) / 2**20,
        "kb_load_s": max((w.warm_seconds for w in report.workers), default=0.0),
        "cpu_ms_per_case": 1000
        * sum(w.cpu_seconds for w in report.workers)
        / max(1, counts["done"] + counts["failed"]),
        "load_average": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--cases", type=int, default=5000, help="Phenotype-only cases.")
    ap.add_argument("--exomes", type=int, default=200, help="Spiked-exome cases.")
    ap.add_argument("--workers", default="1,2", help="Worker counts to run (comma-separated).")
    ap.add_argument(
        "--check", type=int, default=200, help="Phenotype cases compared with `raredx diagnose`."
    )
    ap.add_argument(
        "--check-exomes", type=int, default=20, help="Exome cases compared with `raredx diagnose`."
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-inhouse", action="store_true")
    ap.add_argument("--keep", type=Path, help="Keep inputs and outputs in this folder.")
    ap.add_argument("--out", type=Path, default=RESULTS / "batch.json")
    args = ap.parse_args(argv)
    counts = [int(x) for x in args.workers.split(",") if x.strip()]

    t_start = time.perf_counter()
    kb = load_kb()
    tmp_holder = None
    if args.keep is not None:
        folder = args.keep
        folder.mkdir(parents=True, exist_ok=True)
    else:
        tmp_holder = tempfile.TemporaryDirectory(prefix="raredx-batch-bench-")
        folder = Path(tmp_holder.name)
    t0 = time.perf_counter()
    pheno_file = phenotype_set(folder, args.cases)
    pheno_items = plan_items([pheno_file])
    exome_items: list[BatchItem] = []
    genes: dict[str, list[str]] = {}
    if args.exomes:
        exome_dir, genes = exome_set(folder / "exomes", args.exomes, args.seed)
        exome_items = plan_items([exome_dir])
    prepare_s = time.perf_counter() - t0
    err.print(
        f"{len(pheno_items)} phenotype cases, {len(exome_items)} exome cases "
        f"prepared in {prepare_s:.0f} s"
    )
    sets = [("phenotype", pheno_items), ("exome", exome_items)]
    runs: list[dict[str, Any]] = []
    resume: dict[str, Any] = {}
    inhouse: dict[str, Any] = {}
    for n in counts:
        with open_cluster(workers=n) as cluster:
            for label, items in sets:
                if not items:
                    continue
                settings = BatchSettings(
                    kb.version, out=str(folder / f"out-{label}-w{n}"), lenient=True
                )
                runs.append(run_set(label, items, settings, cluster, n))
            if n == max(counts):
                label, items = sets[0]
                settings = BatchSettings(
                    kb.version, out=str(folder / f"out-{label}-w{n}"), lenient=True
                )
                t0 = time.perf_counter()
                again = run_batch(items, settings, cluster=cluster)
                resume = {
                    "cases": len(items),
                    "skipped": again.counts()["finished_before"],
                    "seconds": time.perf_counter() - t0,
                }
                if exome_items and not args.skip_inhouse:
                    inhouse = run_inhouse(folder, kb.version, exome_items, genes, cluster, n)

    # speedups
    by = {(r["set"], r["workers"]): r for r in runs}
    for r in runs:
        one = by.get((r["set"], 1))
        r["speedup"] = r["cases_per_s"] / one["cases_per_s"] if one and one["cases_per_s"] else None

    # identity: 1 vs 2 workers, and a sample against `raredx diagnose`
    identity: dict[str, Any] = {}
    for label, items in sets:
        if not items:
            continue
        outs = [folder / f"out-{label}-w{n}" for n in counts]
        if len(outs) > 1:
            compared, differ = same_files(outs[0], outs[-1])
            identity[f"{label}: {counts[0]} vs {counts[-1]} workers"] = {
                "files": compared,
                "differ": differ[:20],
                "n_differ": len(differ),
            }
        limit = args.check if label == "phenotype" else args.check_exomes
        sample = [i for i in items if i.error is None][:limit]
        if not sample:
            continue
        ref = folder / f"ref-{label}"
        if label == "phenotype":
            inputs = [folder / "sample.jsonl"]
            with inputs[0].open("wb") as fh:
                for item in sample:
                    fh.write((item.data or b"").rstrip(b"\n") + b"\n")
        else:
            inputs = [Path(i.source) for i in sample]
        seconds, code = single_process(inputs, ref)
        compared = differ_n = 0
        differing: list[str] = []
        for item in sample:
            for suffix in ("disease", "gene", "variant"):
                name = f"{item.stem}-pheval_{suffix}_result.tsv"
                a, b = ref / name, outs[-1] / name
                if not a.is_file() and not b.is_file():
                    continue
                compared += 1
                if not (a.is_file() and b.is_file() and filecmp.cmp(a, b, shallow=False)):
                    differ_n += 1
                    differing.append(name)
        identity[f"{label}: raredx diagnose vs batch ({len(sample)} cases)"] = {
            "files": compared,
            "differ": differing[:20],
            "n_differ": differ_n,
            "diagnose_seconds": seconds,
            "diagnose_exit": code,
        }

    _print(runs, identity, resume, inhouse)
    payload = {
        "benchmark": "batch",
        "kb_version": kb.version,
        "cases": args.cases,
        "exomes": args.exomes,
        "workers": counts,
        "seed": args.seed,
        "prepare_s": prepare_s,
        "runs": runs,
        "identity": identity,
        "resume": resume,
        "inhouse": inhouse,
        "load_average": os.getloadavg(),
        "wall_s": time.perf_counter() - t_start,
        "machine": machine(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2))
    console.print(f"wrote {args.out}")
    if tmp_holder is not None:
        tmp_holder.cleanup()


def run_inhouse(
    folder: Path,
    kb_version: str,
    items: list[BatchItem],
    genes: dict[str, list[str]],
    cluster: Any,
    n: int,
) -> dict[str, Any]:
    root = folder / "inhouse"
    t0 = time.perf_counter()
    with progress() as bar:
        task = bar.add_task("in-house genotypes", total=len(items))
        collected = collect_inhouse(
            items,
            root,
            centre="bench",
            cluster=cluster,
            progress=lambda done, total: bar.update(task, completed=done),
        )
    collect_s = time.perf_counter() - t0
    settings = BatchSettings(
        kb_version,
        out=str(folder / "out-exome-inhouse"),
        inhouse=str(root),
        centre="bench",
        lenient=True,
    )
    run = run_set("exome + in-house", items, settings, cluster, n)
    without = gene_ranks(folder / f"out-exome-w{n}", items, genes)
    with_inhouse = gene_ranks(folder / "out-exome-inhouse", items, genes)
    return {
        "collect_s": collect_s,
        "collected": collected.count("collected"),
        "failed": collected.count("failed"),
        "summary": collected.summary,
        "run": run,
        "gene_rank_without": {f"top{k}": top_k(without, k) for k in (1, 5, 10)},
        "gene_rank_with": {f"top{k}": top_k(with_inhouse, k) for k in (1, 5, 10)},
        "note": "every exome is the same background individual: an upper bound",
    }


def _print(
    runs: list[dict[str, Any]],
    identity: dict[str, Any],
    resume: dict[str, Any],
    inhouse: dict[str, Any],
) -> None:
    table = Table(title="raredx batch on a LocalCluster (2-core machine)")
    for col in (
        "set",
        "workers",
        "cases",
        "failed",
        "wall s",
        "cluster s",
        "cases/s",
        "speedup",
        "CPU ms/case",
        "peak RSS/worker MB",
        "KB load s",
        "load avg",
    ):
        table.add_column(col, justify="left" if col == "set" else "right")
    for r in runs:
        table.add_row(
            r["set"],
            str(r["workers"]),
            str(r["cases"]),
            str(r["failed"]),
            f"{r['wall_s']:.1f}",
            f"{r['cluster_s']:.1f}",
            f"{r['cases_per_s']:.2f}",
            f"{r['speedup']:.2f}x" if r.get("speedup") else "",
            f"{r['cpu_ms_per_case']:.0f}",
            f"{r['peak_rss_mb']:.0f}",
            f"{r['kb_load_s']:.1f}",
            f"{r['load_average'][0]:.1f}",
        )
    console.print(table)
    for name, check in identity.items():
        verdict = "identical" if check["n_differ"] == 0 else f"{check['n_differ']} differ"
        console.print(f"{name}: {check['files']} files, {verdict}")
    if resume:
        console.print(
            f"rerun: {resume['skipped']} of {resume['cases']} cases skipped in "
            f"{resume['seconds']:.1f} s"
        )
    if inhouse:
        s = inhouse["summary"]
        console.print(
            f"in-house: {inhouse['collected']} exomes collected in {inhouse['collect_s']:.1f} s "
            f"({s.get('families')} families, {s.get('alleles', 0):,} alleles); causal gene "
            f"top-1/5/10 without {_ranks(inhouse['gene_rank_without'])}, with in-house "
            f"(leave-one-out) {_ranks(inhouse['gene_rank_with'])} ({inhouse['note']})"
        )


def _ranks(m: dict[str, float]) -> str:
    return f"{m['top1']:.1f} / {m['top5']:.1f} / {m['top10']:.1f}"


if __name__ == "__main__":
    main()
