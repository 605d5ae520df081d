"""Knowledge-base load benchmark: cold compile time, warm load time and peak RSS.

Each measurement runs in a fresh Python process (so imports and caches do not leak between
them) against a throwaway RAREDX_HOME. Prints a table and writes benchmarks/results/kb_load.json.

    .venv/bin/python benchmarks/kb_load.py [--warm-runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).resolve().parent / "results" / "kb_load.json"

_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from raredx.kb import load_kb
t1 = time.perf_counter()
kb = load_kb()
t2 = time.perf_counter()
kb.term("HP:0001873"); kb.gene("FAS"); kb.disease("OMIM:601859")
print(json.dumps({
    "import_s": t1 - t0,
    "load_s": t2 - t1,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "version": kb.version,
    "terms": kb.n_terms, "diseases": kb.n_diseases, "genes": kb.n_genes,
}))
"""


def _run(home: str) -> dict[str, float | str | int]:
    env = dict(os.environ, RAREDX_HOME=home)
    out = subprocess.run(
        [sys.executable, "-c", _CHILD], env=env, check=True, capture_output=True, text=True
    )
    result: dict[str, float | str | int] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm-runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="raredx-bench-") as home:
        cold = _run(home)
        warm = [_run(home) for _ in range(args.warm_runs)]
    warm_load = [float(w["load_s"]) for w in warm]
    result = {
        "kb_version": cold["version"],
        "terms": cold["terms"],
        "diseases": cold["diseases"],
        "genes": cold["genes"],
        "cold_compile_and_load_s": round(float(cold["load_s"]), 3),
        "cold_peak_rss_mb": round(float(cold["peak_rss_mb"]), 1),
        "warm_load_median_s": round(statistics.median(warm_load), 3),
        "warm_load_max_s": round(max(warm_load), 3),
        "warm_peak_rss_mb": round(max(float(w["peak_rss_mb"]) for w in warm), 1),
        "import_s": round(statistics.median(float(w["import_s"]) for w in warm), 3),
        "warm_runs": args.warm_runs,
        "target_warm_load_s": 1.0,
    }
    table = Table(title=f"Knowledge-base load ({result['kb_version']})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, str(value))
    Console().print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
