"""Fixtures for clinical-text extraction: the French note sets and a helper to read results."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Note:
    """A hand-written note with its expected (HPO id, status) pairs."""

    name: str
    text: str
    expected: frozenset[tuple[str, str]]


def read_notes(directory: Path) -> list[Note]:
    notes = []
    for txt in sorted(directory.glob("*.txt")):
        with txt.with_suffix(".tsv").open(encoding="utf-8", newline="") as handle:
            expected = frozenset(
                (row["hpo_id"], row["status"]) for row in csv.DictReader(handle, delimiter="\t")
            )
        notes.append(Note(txt.stem, txt.read_text(encoding="utf-8"), expected))
    return notes


@pytest.fixture(scope="session")
def french_notes() -> list[Note]:
    return read_notes(DATA / "notes_fr")


@pytest.fixture(scope="session")
def french_heldout() -> list[Note]:
    return read_notes(DATA / "notes_fr_heldout")
