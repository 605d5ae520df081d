"""A writer killed (SIGKILL) in the middle of a large transaction loses nothing committed and
leaves nothing of its transaction behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select, text

from raredx.case import Case, Subject, case_to_phenopacket, read_phenopacket
from raredx.store import Store
from raredx.store.models import PhenotypeObservation
from tests.store.conftest import EXAMPLE

CHILD = """
import sys, time
from raredx.store import Store

url, first, rest = sys.argv[1:4]
store = Store.open(url)
store.import_phenopackets([first], centre="C1", user="alice")
print("committed", flush=True)

def progress(done, total):
    if done >= 600:
        print("in-flight", done, total, flush=True)
        time.sleep(300)  # killed here, with 600 uncommitted cases flushed

store.import_phenopackets([rest], centre="C1", user="alice", progress=progress)
print("finished", flush=True)
"""


def _jsonl(path: Path, prefix: str, n: int) -> list[str]:
    base = read_phenopacket(EXAMPLE)
    ids = []
    with path.open("w") as fh:
        for i in range(n):
            case = Case(
                id=f"{prefix}-{i:05d}",
                subject=Subject(id=f"P-{prefix}-{i:05d}"),
                features=base.features,
                meta=base.meta,
            )
            fh.write(json.dumps(case_to_phenopacket(case)) + "\n")
            ids.append(case.id)
    return ids


def test_killed_writer_loses_nothing_committed(
    make_store: object, store_url: str, tmp_path: Path
) -> None:
    with Store.open(store_url) as store:
        store.add_centre("C1", "c")
        store.add_user("alice", role="admin", centre="C1")
    committed = _jsonl(tmp_path / "first.jsonl", "kept", 25)
    _jsonl(tmp_path / "rest.jsonl", "lost", 650)
    env = dict(os.environ, RAREDX_HOME=str(tmp_path / "home"))
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            store_url,
            str(tmp_path / "first.jsonl"),
            str(tmp_path / "rest.jsonl"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout is not None
        lines = [child.stdout.readline().strip(), child.stdout.readline().strip()]
        assert lines[0] == "committed", (lines, child.stderr.read() if child.stderr else "")
        assert lines[1].startswith("in-flight 600 650"), lines
        if store_url.startswith("sqlite"):
            wal = Path(store_url.removeprefix("sqlite:///") + "-wal")
            # the uncommitted transaction did reach the disk (pages spilled into the WAL)
            assert wal.stat().st_size > 1024 * 1024
        time.sleep(0.2)
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()

    with Store.open(store_url) as store:
        if store.dialect == "sqlite":
            with store.engine.connect() as conn:
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
                assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        assert [s.id for s in store.list_cases("C1", user="alice")] == committed
        with store.engine.connect() as conn:
            observations = conn.execute(select(PhenotypeObservation.case_id)).scalars().all()
        assert set(observations) == set(committed)
        assert len(observations) == 25 * len(read_phenopacket(EXAMPLE).features)
        # and the store still takes writes
        store.add_case(Case(id="after", subject=Subject(id="A")), centre="C1", user="alice")
