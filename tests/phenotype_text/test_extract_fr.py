"""French notes: the hand-written pediatric hematology/immunology set and single phrases."""

from __future__ import annotations

import pytest

from raredx.kb import KnowledgeBase
from raredx.phenotype.text import detect_language, extract_phenotype
from tests.phenotype_text.conftest import Note


def _scores(kb: KnowledgeBase, notes: list[Note]) -> tuple[float, float]:
    tp = fp = fn = 0
    for note in notes:
        got = {(t.id, t.status) for t in extract_phenotype(kb, note.text).terms}
        tp += len(got & note.expected)
        fp += len(got - note.expected)
        fn += len(note.expected - got)
    return tp / (tp + fp), tp / (tp + fn)


def test_notes_are_detected_as_french(french_notes: list[Note], french_heldout: list[Note]) -> None:
    for note in french_notes + french_heldout:
        assert detect_language(note.text) == "fr", note.name


@pytest.mark.slow
def test_french_note_set(real_kb: KnowledgeBase, french_notes: list[Note]) -> None:
    """The notes the French lexicon and rules were built on (see the held-out set below)."""
    precision, recall = _scores(real_kb, french_notes)
    assert precision >= 0.95 and recall >= 0.97, (precision, recall)


@pytest.mark.slow
def test_french_heldout_set(real_kb: KnowledgeBase, french_heldout: list[Note]) -> None:
    """Notes written after the rules were set; a floor that guards against regressions."""
    precision, recall = _scores(real_kb, french_heldout)
    assert precision >= 0.85 and recall >= 0.85, (precision, recall)


def test_every_expected_id_is_a_term(
    real_kb: KnowledgeBase, french_notes: list[Note], french_heldout: list[Note]
) -> None:
    for note in french_notes + french_heldout:
        for term, status in note.expected:
            assert term in real_kb.term_index, (note.name, term)
            assert status in ("present", "excluded", "family", "uncertain")


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("thrombopénie", "HP:0001873"),
        ("THROMBOPENIE", "HP:0001873"),
        ("thrombopénique", "HP:0001873"),
        ("splénomégalie", "HP:0001744"),
        ("hépatosplénomégalie", "HP:0001433"),
        ("HSMG", "HP:0001433"),
        ("SMG", "HP:0001744"),
        ("AHAI", "HP:0001890"),
        ("anémie hémolytique auto-immune", "HP:0001890"),
        ("anémies hémolytiques auto-immunes", "HP:0001890"),
        ("PTI", "HP:0001973"),
        ("adénopathies", "HP:0002716"),
        ("otites à répétition", "HP:0000403"),
        ("otites moyennes aiguës récidivantes", "HP:0000403"),
        ("rein gauche ectopique", "HP:0000086"),
        ("œdème", "HP:0000969"),
        ("oedème", "HP:0000969"),
        ("microcéphalie", "HP:0000252"),
        ("fièvre", "HP:0001945"),
    ],
)
def test_french_variants(real_kb: KnowledgeBase, text: str, term: str) -> None:
    assert term in {t.id for t in extract_phenotype(real_kb, text, "fr").terms}


@pytest.mark.parametrize(
    "text",
    [
        "Service d'hématologie et d'oncologie pédiatrique.",
        "Les parents sont tous deux porteurs.",
        "Genou droit, main gauche et rein.",
        "Hémophilie : centre de traitement.",
    ],
)
def test_french_everyday_words_find_nothing(real_kb: KnowledgeBase, text: str) -> None:
    assert extract_phenotype(real_kb, text, "fr").terms == ()


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Splénomégalie.", "fr"),
        ("Splenomegaly.", "en"),
        ("Pas de fièvre et une splénomégalie.", "fr"),
        ("No fever and splenomegaly with café-au-lait spots.", "en"),
    ],
)
def test_language_detection(text: str, lang: str) -> None:
    assert detect_language(text) == lang
