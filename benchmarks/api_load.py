"""REST API load: N concurrent clients against POST /api/v1/diagnose on loopback.

Starts a real `raredx serve` (its own temporary SQLite store; the cached bundled KB) with
`--workers` processes, creates a user and an API token with the CLI, then runs `--clients`
asynchronous clients, each with its own connection, for `--seconds`: every client sends a
phenotype-only diagnosis request, waits for the answer, waits a random think time (uniform
over 0 to twice `--think` seconds, so that clients do not move in step), and repeats.
`--think 0` is a closed loop: the server is saturated and, by Little's law, the latency is
clients / throughput (50 clients within 100 ms need 500 answers a second). A positive think
time models people at work: 50 clinicians each asking every `--think` seconds on average,
each starting after a think time too (else all 50 first requests land in the same
millisecond, a burst that alone makes the p99 of a short run).
The term sets are those of the development phenopackets (../shared; all 5,306 by default, each
client starting at its own offset, so that the server's cache of recent answers is not what is
measured), else of the bundled example. The clients run in this process, the server in its own;
both share the machine's cores, so the clients are aiohttp's (its C HTTP parser costs ~0.7 ms of
CPU per 90 KB answer, httpx's pure-Python one ~2.2 ms) and their CPU per request is reported.
Latency is measured from send to full response body. Prints a table and writes
benchmarks/results/api_load.json (target: p99 <= 100 ms, 0 errors, 50 clients, 60 s).

    .venv/bin/python benchmarks/api_load.py [--clients 50] [--seconds 60] [--workers 2]
        [--think 0] [--body '{"explain": false}'] [--cases 0 (all)] [--label NAME]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import itertools
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx2 as httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "api_load.json"
DEV_CASES = ROOT / ".." / "shared" / "bench" / "phenopackets-dev.jsonl.gz"
EXAMPLE = ROOT / "examples" / "alps-fas.phenopacket.json"
RAREDX = str(Path(sys.executable).with_name("raredx"))


def _term_sets(limit: int) -> list[dict[str, Any]]:
    """Request bodies: observed/excluded HPO ids of real phenopackets, keeping the ids the
    bundled KB knows and dropping cases that exclude an ancestor of an observed term (both
    are rightly 422s, which measure nothing)."""
    from raredx.kb import load_kb

    kb = load_kb()
    packets: list[dict[str, Any]] = []
    if DEV_CASES.exists():
        with gzip.open(DEV_CASES, "rt", encoding="utf-8") as fh:
            packets = [json.loads(line) for line in itertools.islice(fh, limit or None)]
    else:
        packets = [json.loads(EXAMPLE.read_text(encoding="utf-8"))]
    bodies = []
    for packet in packets:
        features = packet.get("phenotypicFeatures") or []
        known = [f for f in features if kb.lookup_term(f["type"]["id"]) is not None]
        observed = [f["type"]["id"] for f in known if not f.get("excluded")]
        excluded = [f["type"]["id"] for f in known if f.get("excluded")]
        contradictory = any(kb.is_ancestor(x, o) for x in excluded for o in observed)
        if observed and not contradictory:
            bodies.append({"observed": observed, "excluded": excluded, "top": 10})
    return bodies


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _start_server(home: Path, port: int, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    env = {**os.environ, "RAREDX_DATABASE_URL": f"sqlite:///{home / 'store.sqlite3'}"}
    subprocess.run(
        [
            RAREDX,
            "users",
            "add",
            "bench",
            "--centre",
            "BENCH",
            "--role",
            "clinician",
            "--password-stdin",
        ],
        input=b"benchmark password\n",
        env=env,
        check=True,
        capture_output=True,
    )
    token = subprocess.run(
        [RAREDX, "users", "token", "bench", "--label", "api_load"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    log = (home / "server.log").open("wb")
    server = subprocess.Popen(
        [RAREDX, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"server exited: {(home / 'server.log').read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/kb", timeout=1).status_code == 200:
                return server, token
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    server.terminate()
    raise SystemExit("server did not start in 180 s")


async def _client(
    session: aiohttp.ClientSession,
    url: str,
    bodies: list[dict[str, Any]],
    offset: int,
    stop: float,
    think: float,
    latencies: list[float],
    errors: list[str],
) -> None:
    if think:  # people do not all press the button at the same instant
        await asyncio.sleep(random.uniform(0.0, 2.0 * think))
    for n in itertools.count(offset):
        if time.monotonic() >= stop:
            return
        data = json.dumps(bodies[n % len(bodies)]).encode()
        start = time.perf_counter()
        try:
            async with session.post(url, data=data) as reply:
                text = await reply.read()
            elapsed = time.perf_counter() - start
            if reply.status == 200:
                latencies.append(elapsed)
            else:
                errors.append(f"HTTP {reply.status}: {text[:200]!r}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        if think:
            await asyncio.sleep(random.uniform(0.0, 2.0 * think))


async def _load(
    url: str, token: str, bodies: list[dict[str, Any]], clients: int, seconds: float, think: float
) -> tuple[list[float], list[str], float, float]:
    """(latencies in s, errors, wall time in s, this process' CPU time in s)."""
    latencies: list[float] = []
    errors: list[str] = []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    timeout = aiohttp.ClientTimeout(total=30)
    # One session (one keep-alive connection) per client, as separate programs would have.
    sessions = [
        aiohttp.ClientSession(
            headers=headers, timeout=timeout, connector=aiohttp.TCPConnector(limit=1)
        )
        for _ in range(clients)
    ]
    start, cpu = time.monotonic(), time.process_time()
    stop = start + seconds
    try:
        await asyncio.gather(
            *(
                _client(s, url, bodies, i * len(bodies) // clients, stop, think, latencies, errors)
                for i, s in enumerate(sessions)
            )
        )
    finally:
        for session in sessions:
            await session.close()
    return latencies, errors, time.monotonic() - start, time.process_time() - cpu


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--think", type=float, default=0.0, help="Seconds between a client's requests."
    )
    parser.add_argument("--body", default="{}", help="JSON merged into every request body.")
    parser.add_argument(
        "--cases", type=int, default=0, help="Distinct term sets to cycle (0: all)."
    )
    parser.add_argument("--label", default=None, help="Name of this run in the JSON results.")
    args = parser.parse_args()
    extra = json.loads(args.body)
    bodies = [{**b, **extra} for b in _term_sets(args.cases)]
    console = Console(stderr=True)
    with tempfile.TemporaryDirectory(prefix="rdx-load-") as tmp:
        port = _free_port()
        console.print(f"starting raredx serve on port {port} with {args.workers} worker(s)")
        server, token = _start_server(Path(tmp), port, args.workers)
        url = f"http://127.0.0.1:{port}/api/v1/diagnose"
        try:
            # Warm every worker (first requests build per-KB caches).
            asyncio.run(_load(url, token, bodies, args.workers * 2, 3.0, 0.0))
            console.print(f"{args.clients} clients for {args.seconds:g} s ...")
            latencies, errors, wall, client_cpu = asyncio.run(
                _load(url, token, bodies, args.clients, args.seconds, args.think)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    ms = [x * 1000 for x in latencies]
    row = {
        "label": args.label or f"{args.clients} clients, think {args.think:g} s, body {args.body}",
        "clients": args.clients,
        "seconds": round(wall, 1),
        "workers": args.workers,
        "think_s": args.think,
        "body_extra": extra,
        "distinct_bodies": len(bodies),
        "requests": len(ms),
        "errors": len(errors),
        "requests_per_s": round(len(ms) / wall, 1),
        "client_cpu_ms_per_request": round(client_cpu * 1000 / len(ms), 2) if ms else None,
        "p50_ms": round(_percentile(ms, 0.50), 1),
        "p90_ms": round(_percentile(ms, 0.90), 1),
        "p99_ms": round(_percentile(ms, 0.99), 1),
        "max_ms": round(max(ms), 1) if ms else None,
        "mean_ms": round(statistics.fmean(ms), 1) if ms else None,
        "target_met": bool(ms) and not errors and _percentile(ms, 0.99) <= 100.0,
        "first_errors": errors[:5],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }
    table = Table(title="POST /api/v1/diagnose under load (target p99 <= 100 ms, 0 errors)")
    shown = (
        "clients",
        "workers",
        "think_s",
        "requests",
        "errors",
        "requests_per_s",
        "client_cpu_ms_per_request",
        "p50_ms",
        "p90_ms",
        "p99_ms",
        "max_ms",
        "target_met",
    )
    for key in shown:
        table.add_column(key)
    table.add_row(*(str(row[k]) for k in shown))
    Console(width=150).print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    runs = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    runs[row["label"]] = row
    RESULTS.write_text(json.dumps(runs, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
