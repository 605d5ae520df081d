"""VCF reading benchmark: records/s and peak RSS on the Pfeiffer exome and a synthetic genome.

Each measurement runs in a fresh Python process (imports, KB load and gene index included, as
a user would see them) against the cached bundled KB. The synthetic genome is written on the fly
into a temporary folder as a bgzipped single-sample VCF with GATK-like INFO/FORMAT columns and a
gnomAD frequency on most records (``--no-frequency``: none, the worst case for memory). Timed:
process start to per-gene mode compatibility for every gene (imports, KB, VCF pass, fits).
Large bgzipped files are read in parts by one process per core (``RAREDX_GENOME_WORKERS``
overrides, ``--workers`` sets it): CPU s counts every process, peak RSS is the largest single
process (the main one; "child MB" the largest reader or feeder process it started).
Prints a table and writes benchmarks/results/vcf_read.json.

    .venv/bin/python benchmarks/vcf_read.py [--records 5000000] [--threads 1] [--skip-genome]
        [--genome FILE (reuse a genome written before, e.g. by --keep)] [--keep FILE]
        [--workers N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "vcf_read.json"
PFEIFFER = ROOT / ".." / "shared" / "bench" / "vcf" / "pfeiffer-exome-background.b37.vcf.gz"

_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from raredx.genome import collect_evidence
from raredx.kb import load_kb
kb = load_kb()
t1 = time.perf_counter()
ev = collect_evidence(sys.argv[1], kb=kb, threads=int(sys.argv[2]) or None)
t2 = time.perf_counter()
compatible = ev.compatible_modes()
t3 = time.perf_counter()
print(json.dumps({
    "records": ev.counts["records"],
    "rows": len(ev.table),
    "genes": len(ev.gene_indices),
    "compatible_genes": sum(bool(m) for m in compatible.values()),
    "counts": ev.counts,
    "startup_s": t1 - t0,
    "read_s": t2 - t1,
    "fits_s": t3 - t2,
    "total_s": t3 - t0,
    "records_per_s": ev.counts["records"] / (t2 - t1),
    "table_mb": ev.table.nbytes / 2**20,
    "cpu_s": sum(
        r.ru_utime + r.ru_stime
        for r in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    ),
    "load_average": __import__("os").getloadavg()[0],
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "child_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
}))
"""

_GRCH37 = (
    ("1", 249250621),
    ("2", 243199373),
    ("3", 198022430),
    ("4", 191154276),
    ("5", 180915260),
    ("6", 171115067),
    ("7", 159138663),
    ("8", 146364022),
    ("9", 141213431),
    ("10", 135534747),
    ("11", 135006516),
    ("12", 133851895),
    ("13", 115169878),
    ("14", 107349540),
    ("15", 102531392),
    ("16", 90354753),
    ("17", 81195210),
    ("18", 78077248),
    ("19", 59128983),
    ("20", 63025520),
    ("21", 48129895),
    ("22", 51304566),
    ("X", 155270560),
)
_BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


class _Bgzf:
    """A minimal BGZF writer (blocks of at most 64 KiB, as bgzip writes them)."""

    def __init__(self, path: Path, level: int = 1) -> None:
        self._out = path.open("wb")
        self._buf = bytearray()
        self._level = level

    def write(self, data: bytes) -> None:
        self._buf += data
        while len(self._buf) >= 65280:
            self._block(bytes(self._buf[:65280]))
            del self._buf[:65280]

    def _block(self, data: bytes) -> None:
        comp = zlib.compressobj(self._level, zlib.DEFLATED, -15)
        body = comp.compress(data) + comp.flush()
        header = b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00"
        self._out.write(header + struct.pack("<H", len(body) + 25) + body)
        self._out.write(struct.pack("<II", zlib.crc32(data), len(data)))

    def close(self) -> None:
        if self._buf:
            self._block(bytes(self._buf))
        self._out.write(_BGZF_EOF)
        self._out.close()


def write_genome(path: Path, records: int, *, frequency: bool, seed: int = 7) -> None:
    """A sorted single-sample GRCh37 genome of `records` records (about 2% multi-allelic)."""
    rng = random.Random(seed)
    total = sum(length for _, length in _GRCH37)
    out = _Bgzf(path)
    head = ["##fileformat=VCFv4.2", "##source=raredx-benchmark"]
    head += [f"##contig=<ID={c},length={n},assembly=b37>" for c, n in _GRCH37]
    head += [
        '##INFO=<ID=AC,Number=A,Type=Integer,Description="Allele count">',
        '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency in the call set">',
        '##INFO=<ID=AN,Number=1,Type=Integer,Description="Allele number">',
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">',
        '##INFO=<ID=MQ,Number=1,Type=Float,Description="Mapping quality">',
        '##INFO=<ID=QD,Number=1,Type=Float,Description="Quality by depth">',
        '##INFO=<ID=gnomAD_AF,Number=A,Type=Float,Description="gnomAD allele frequency">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">',
        '##FORMAT=<ID=PL,Number=G,Type=Integer,Description="Phred likelihoods">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tgenome",
    ]
    out.write(("\n".join(head) + "\n").encode())
    bases = "ACGT"
    for chrom, length in _GRCH37:
        n = max(1, round(records * length / total))
        positions = sorted(rng.sample(range(10_000, length - 10_000), n))
        lines = []
        for pos in positions:
            ref = rng.choice(bases)
            alt = rng.choice([b for b in bases if b != ref])
            r = rng.random()
            if r < 0.02:
                alt = f"{alt},{ref}{alt}"
                gt, ad, pl = "1/2", "0,14,16", "900,400,380,420,0,390"
            elif r < 0.62:
                gt, ad, pl = "0/1", f"{rng.randint(10, 20)},{rng.randint(10, 20)}", "420,0,510"
            elif r < 0.97:
                gt, ad, pl = "1/1", f"0,{rng.randint(20, 40)}", "1020,90,0"
            else:
                gt, ad, pl = "0/0", f"{rng.randint(20, 40)},0", "0,60,900"
            dp = sum(int(x) for x in ad.split(","))
            info = f"AC=1;AF=0.5;AN=2;DP={dp};MQ=60.00;QD={rng.uniform(2, 30):.2f}"
            if frequency and rng.random() < 0.92:
                common = rng.random() < 0.9
                af = rng.uniform(0.05, 0.9) if common else rng.uniform(0, 0.01)
                info += f";gnomAD_AF={af:.5f}" + (f",{af / 10:.5f}" if "," in alt else "")
            lines.append(
                f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t{rng.uniform(30, 3000):.1f}\tPASS\t{info}\t"
                f"GT:AD:DP:GQ:PL\t{gt}:{ad}:{dp}:{rng.randint(20, 99)}:{pl}\n"
            )
            if len(lines) >= 20000:
                out.write("".join(lines).encode())
                lines = []
        out.write("".join(lines).encode())
    out.close()


def _measure(vcf: Path, threads: int, workers: int | None = None) -> dict[str, object]:
    env = dict(os.environ)
    if workers:
        env["RAREDX_GENOME_WORKERS"] = str(workers)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(vcf), str(threads)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--threads", type=int, default=1, help="extra decompression threads")
    parser.add_argument("--skip-genome", action="store_true")
    parser.add_argument("--no-frequency", action="store_true", help="genome without gnomAD_AF")
    parser.add_argument("--genome", type=Path, help="measure this genome VCF (not written)")
    parser.add_argument("--keep", type=Path, help="write the synthetic genome here, keep it")
    parser.add_argument("--workers", type=int, help="reader processes (default: automatic)")
    args = parser.parse_args()
    console = Console()
    results: dict[str, dict[str, object]] = {}
    _measure(PFEIFFER, args.threads)  # warm the KB and gene-index caches
    results["pfeiffer exome"] = _measure(PFEIFFER, args.threads, args.workers)
    if args.genome is not None:
        results[f"genome {args.genome.name}"] = _measure(args.genome, args.threads, args.workers)
        results[f"genome {args.genome.name}"]["file_mb"] = args.genome.stat().st_size / 2**20
    elif not args.skip_genome:
        with tempfile.TemporaryDirectory(prefix="raredx-vcf-bench-") as tmp:
            vcf = args.keep or Path(tmp) / "genome.vcf.gz"
            console.print(f"writing a {args.records:,}-record genome to {vcf} …")
            write_genome(vcf, args.records, frequency=not args.no_frequency)
            label = "synthetic genome" + (" (no frequency)" if args.no_frequency else "")
            results[label] = _measure(vcf, args.threads, args.workers)
            results[label]["file_mb"] = vcf.stat().st_size / 2**20
    table = Table(
        title="raredx genome: VCF read + evidence (fresh process each; CPU s = user + system, "
        "load = 1-minute load average: wall times stretch on a busy machine)"
    )
    columns = (
        "input",
        "records",
        "rows kept",
        "records/s",
        "read s",
        "fits s",
        "total s",
        "CPU s",
        "load",
        "peak RSS MB",
        "child MB",
    )
    for col in columns:
        table.add_column(col, justify="right" if col != "input" else "left")
    for name, r in results.items():
        table.add_row(
            name,
            f"{r['records']:,}",
            f"{r['rows']:,}",
            f"{float(r['records_per_s']):,.0f}",  # type: ignore[arg-type]
            f"{float(r['read_s']):.2f}",  # type: ignore[arg-type]
            f"{float(r['fits_s']):.2f}",  # type: ignore[arg-type]
            f"{float(r['total_s']):.2f}",  # type: ignore[arg-type]
            f"{float(r['cpu_s']):.2f}",  # type: ignore[arg-type]
            f"{float(r['load_average']):.1f}",  # type: ignore[arg-type]
            f"{float(r['peak_rss_mb']):.0f}",  # type: ignore[arg-type]
            f"{float(r.get('child_peak_rss_mb', 0)):.0f}",  # type: ignore[arg-type]
        )
    console.print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "threads": args.threads,
        "workers": args.workers or "auto",
        "cpus": os.cpu_count(),
        "results": results,
    }
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n")
    console.print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
