"""Bad input gives one clear InputError, never a traceback; hostile input stays fast."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.phenotype.text import (
    MAX_NOTE_BYTES,
    MAX_NOTE_CHARS,
    decode_note,
    extract_phenotype,
    read_note,
)


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
def test_empty_text(toy_kb: KnowledgeBase, text: str) -> None:
    with pytest.raises(InputError, match="empty"):
        extract_phenotype(toy_kb, text)


def test_not_a_string(toy_kb: KnowledgeBase) -> None:
    with pytest.raises(InputError, match="must be a string"):
        extract_phenotype(toy_kb, b"fever")  # type: ignore[arg-type]


def test_unknown_language(toy_kb: KnowledgeBase) -> None:
    with pytest.raises(InputError, match="unknown language"):
        extract_phenotype(toy_kb, "fever", "de")  # type: ignore[arg-type]


def test_huge_text(toy_kb: KnowledgeBase) -> None:
    with pytest.raises(InputError, match="at most 1,000,000"):
        extract_phenotype(toy_kb, "a" * (MAX_NOTE_CHARS + 1))


def test_text_at_the_cap_is_read(toy_kb: KnowledgeBase) -> None:
    text = ("thrombocytopenia, " * (MAX_NOTE_CHARS // 18))[:MAX_NOTE_CHARS]
    ex = extract_phenotype(toy_kb, text, "en")
    assert [t.id for t in ex.terms] == ["HP:0001873"]


def test_decode_note() -> None:
    assert decode_note("thrombopénie".encode()) == "thrombopénie"
    assert decode_note(b"\xef\xbb\xbffever") == "fever"  # UTF-8 BOM
    with pytest.raises(InputError, match="not UTF-8"):
        decode_note("thrombopénie".encode("latin-1"), "note.txt")
    with pytest.raises(InputError, match="not text"):
        decode_note(b"PK\x03\x04\x00\x00binary", "archive.zip")
    with pytest.raises(InputError, match="not text"):
        decode_note(bytes(range(1, 32)) * 5)
    with pytest.raises(InputError, match="too large"):
        decode_note(b"a" * (MAX_NOTE_BYTES + 1))


def test_read_note(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("Fièvre.", encoding="utf-8")
    assert read_note(note) == "Fièvre."
    with pytest.raises(InputError, match="no such file"):
        read_note(tmp_path / "missing.txt")
    with pytest.raises(InputError, match="directory"):
        read_note(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(
    "unit",
    [
        "no fever, splenomegaly. ",
        "renal and ear anomalies, ",
        "hearing loss (HL) and HL. ",
        "Family history:\nITP\n",
        "pre-auricular-pits-",
        "(",
    ],
)
def test_hostile_repetition_stays_linear(real_kb: KnowledgeBase, unit: str) -> None:
    """Long repetitive text is read in time proportional to its length (no quadratic step)."""
    text = unit * (200_000 // len(unit))
    start = time.process_time()
    ex = extract_phenotype(real_kb, text, "en")
    assert time.process_time() - start < 15
    assert all(text[m.start : m.end] == m.text for m in ex.mentions[:100])
