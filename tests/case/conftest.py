"""Fixtures for the case tests: the bundled example and real published phenopackets."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path
from typing import Any

import orjson
import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "alps-fas.phenopacket.json"
DEV_LINES = 200


@pytest.fixture(scope="session")
def example_path() -> Path:
    """The demonstration phenopacket shipped in examples/."""
    return EXAMPLE


@pytest.fixture
def example_json() -> dict[str, Any]:
    """A fresh copy of the example as a dict (tests may mutate it)."""
    data: dict[str, Any] = orjson.loads(EXAMPLE.read_bytes())
    return data


@pytest.fixture(scope="session")
def dev_jsonl(shared_dir: Path) -> Path:
    """../shared/bench/phenopackets-dev.jsonl.gz: 5,306 published cases, one per line."""
    path = shared_dir / "bench" / "phenopackets-dev.jsonl.gz"
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return path


@pytest.fixture(scope="session")
def dev_lines(dev_jsonl: Path) -> list[bytes]:
    """The first 200 lines of the development corpus, raw."""
    with gzip.open(dev_jsonl, "rb") as stream:
        return list(itertools.islice(stream, DEV_LINES))
