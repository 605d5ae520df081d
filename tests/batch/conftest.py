"""Batch fixtures: one real `LocalCluster` (2 worker processes on loopback) per test session,
started after the bundled KB is compiled in the session's RAREDX_HOME (the workers inherit it)."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from raredx.batch import Cluster, open_cluster
from raredx.kb import KnowledgeBase

TESTS = Path(__file__).resolve().parents[1]
EXAMPLE = TESTS.parent / "examples" / "alps-fas.phenopacket.json"
ALPS_VCF = TESTS / "store" / "data" / "alps-fas.vcf"
DEV = (TESTS.parent / ".." / "shared" / "bench" / "phenopackets-dev.jsonl.gz").resolve()


@pytest.fixture(scope="session")
def cluster(real_kb: KnowledgeBase) -> Iterator[Cluster]:
    """A LocalCluster of 2 worker processes, shared by the batch tests."""
    with open_cluster(workers=2, timeout=30) as c:
        yield c


def cli_app() -> typer.Typer:
    """The commands of this issue on their own app (cli/app.py registers them for users)."""
    from raredx.cli import store
    from raredx.cli.batch import batch, compile_inhouse
    from raredx.cli.diagnose import diagnose

    app = typer.Typer()
    app.command("batch")(batch)
    app.command("compile-inhouse")(compile_inhouse)
    app.command("reanalyze")(store.reanalyze)
    app.command("diagnose")(diagnose)
    return app


def phenopacket(case_id: str, terms: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "id": case_id,
        "subject": {"id": f"{case_id}-s", "sex": "FEMALE"},
        "phenotypicFeatures": [{"type": {"id": t}} for t in terms],
        "metaData": {
            "created": "2024-01-01T00:00:00Z",
            "createdBy": "tests",
            "phenopacketSchemaVersion": "2.0",
        },
        **extra,
    }


@pytest.fixture
def write_cases(tmp_path: Path) -> Callable[..., Path]:
    """Write phenopackets (dicts) into a folder, one file each; returns the folder."""

    def write(cases: list[dict[str, Any]], folder: str = "cases") -> Path:
        target = tmp_path / folder
        target.mkdir(parents=True, exist_ok=True)
        for c in cases:
            (target / f"{c['id']}.json").write_text(json.dumps(c))
        return target

    return write


@pytest.fixture
def vcf_case(tmp_path: Path) -> Path:
    """The ALPS example naming the hand-written FAS VCF (relative path, sample S1)."""
    folder = tmp_path / "vcf-case"
    folder.mkdir()
    shutil.copy(ALPS_VCF, folder / "alps-fas.vcf")
    packet = json.loads(EXAMPLE.read_text())
    packet["files"] = [
        {
            "uri": "alps-fas.vcf",
            "individualToFileIdentifiers": {packet["subject"]["id"]: "S1"},
            "fileAttributes": {"fileFormat": "VCF", "genomeAssembly": "GRCh37"},
        }
    ]
    path = folder / "alps-with-vcf.json"
    path.write_text(json.dumps(packet))
    return path


def dev_lines(n: int) -> list[bytes]:
    """The first `n` development phenopackets (JSON Lines), or skip without ../shared."""
    if not DEV.is_file():
        pytest.skip(f"{DEV} is not present")
    out = []
    with gzip.open(DEV, "rb") as fh:
        for line in fh:
            if len(out) >= n:
                break
            out.append(line)
    return out
