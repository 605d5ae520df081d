"""``raredx serve --workers 2`` on Linux: each worker listens on its own socket of the port,
so keep-alive clients are spread over both workers (with one shared socket, one worker took
44 of 50 clients); a killed worker is replaced; a second server on a taken port is a clear
error. Connections are counted per worker process from /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import pytest

from raredx.kb import KnowledgeBase
from tests.api.conftest import RAREDX, serve

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="per-worker sockets (SO_REUSEPORT) are Linux's"
)


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry))
    return found


def _connections_per_process(pids: set[int], port: int) -> Counter[int]:
    """Established TCP connections on local `port` held by each of `pids`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    held: Counter[int] = Counter()
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] in inodes:
                held[pid] += 1
    return held


def _workers(server: subprocess.Popen[bytes], count: int) -> set[int]:
    """The server's worker processes (the ones holding a listening socket's share)."""
    deadline = time.monotonic() + 60
    while True:
        workers = {
            pid
            for pid in _children(server.pid)
            if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
            and "resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
        }
        if len(workers) == count:
            return workers
        assert time.monotonic() < deadline, workers
        time.sleep(0.2)


def test_clients_are_spread_over_workers_and_a_dead_worker_is_replaced(
    tmp_path: Path, real_kb: KnowledgeBase
) -> None:
    env = {
        **os.environ,
        "RAREDX_HOME": str(tmp_path / "home"),
        "RAREDX_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
    }
    env.pop("RAREDX_MME_CONFIG", None)
    log = tmp_path / "serve.log"
    with serve(env, 2, log) as served:
        workers = _workers(served.process, 2)
        clients = [httpx.Client(base_url=served.url, timeout=30.0) for _ in range(40)]
        try:
            # All connect at once, as a burst of clients does (keep-alive keeps them open).
            with ThreadPoolExecutor(len(clients)) as pool:
                codes = list(pool.map(lambda c: c.get("/api/v1/kb").status_code, clients))
            assert codes == [200] * len(clients)
            held = _connections_per_process(workers, served.port)
            # 40 connections hashed over 2 sockets: fewer than 8 on one has p < 1e-4.
            assert sum(held.values()) == 40, held
            assert len(held) == 2 and min(held.values()) >= 8, held
        finally:
            for client in clients:
                client.close()

        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        replaced = _workers(served.process, 2) - {victim}
        deadline = time.monotonic() + 60
        while len(replaced) < 2:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
            replaced = _workers(served.process, 2) - {victim}
        for _ in range(20):  # every new connection is answered, whichever socket it lands on
            assert httpx.get(f"{served.url}/api/v1/kb", timeout=60.0).status_code == 200
        assert f"worker {victim} exited" in log.read_text()

        taken = subprocess.run(
            [RAREDX, "serve", "--port", str(served.port), "--workers", "2"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert taken.returncode != 0
        assert "cannot listen" in taken.stderr and "Traceback" not in taken.stderr
    assert served.process.returncode == 0, log.read_text()
    assert not _children(served.process.pid) - {served.process.pid}
