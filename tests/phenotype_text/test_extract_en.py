"""English concept recognition on the real KB: variants, spans, resolution, abbreviations."""

from __future__ import annotations

import pytest

from raredx.kb import KnowledgeBase
from raredx.phenotype.text import Extraction, extract_phenotype


def _found(ex: Extraction) -> dict[str, str]:
    return {t.id: t.status for t in ex.terms}


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Splenomegaly", "HP:0001744"),
        ("SPLENOMEGALY", "HP:0001744"),
        ("enlarged spleen", "HP:0001744"),
        ("spleen enlargement", "HP:0001744"),
        ("bilateral cataracts", "HP:0000518"),
        ("anaemia", "HP:0001903"),
        ("the child was anemic", "HP:0001903"),
        ("haemolytic anaemia", "HP:0001878"),
        ("hypotonic infant", "HP:0001252"),
        ("a microcephalic boy", "HP:0000252"),
        ("basal cell naevi", "HP:0002671"),
        ("pre-auricular pits", "HP:0004467"),
        ("preauricular pit", "HP:0004467"),
        ("hearing loss", "HP:0000365"),
        ("loss of hearing", "HP:0000365"),
        ("kidney anomalies", "HP:0000077"),
        ("abnormality of the kidneys", "HP:0000077"),
        ("low platelet counts", "HP:0001873"),
        ("patellar dysplasia", "HP:0006446"),
        ("hypoplasia of the left kidney", "HP:0000089"),
        ("AIHA", "HP:0001890"),
        ("HSM", "HP:0001433"),
        ("ITP", "HP:0001973"),
        ("HLH", "HP:0012156"),
        ("recurrent acute otitis media", "HP:0000403"),
    ],
)
def test_variants_find_the_term(real_kb: KnowledgeBase, text: str, term: str) -> None:
    assert term in _found(extract_phenotype(real_kb, text, "en"))


@pytest.mark.parametrize(
    "text",
    [
        "itp",  # abbreviations are case-sensitive
        "Patients were sorted in order of age.",  # "Ordering" is a synonym of Atypical sorting
        "The collecting duct and the neuro-ophthalmic examination.",
        "Cross-sectional study of pediatric oncology patients.",
        "A 5-year-old was seen on day 3.",
    ],
)
def test_everyday_words_find_nothing(real_kb: KnowledgeBase, text: str) -> None:
    assert extract_phenotype(real_kb, text, "en").terms == ()


def test_spans_slice_back_to_the_text(real_kb: KnowledgeBase) -> None:
    text = "He has  Pre-auricular pits,\nhepatosplenomegaly (HSM) and   low platelets."
    ex = extract_phenotype(real_kb, text, "en")
    assert ex.mentions
    for m in ex.mentions:
        assert text[m.start : m.end] == m.text
    for t in ex.terms:
        for a, b in t.spans:
            assert any(m.start == a and m.end == b and m.term_id == t.id for m in ex.mentions)
    assert [m.start for m in ex.mentions] == sorted(m.start for m in ex.mentions)


def test_longest_most_specific_mention_wins(real_kb: KnowledgeBase) -> None:
    ex = extract_phenotype(real_kb, "autoimmune hemolytic anemia", "en")
    assert [t.id for t in ex.terms] == ["HP:0001890"]
    ex = extract_phenotype(real_kb, "sensorineural hearing loss", "en")
    assert [t.id for t in ex.terms] == ["HP:0000407"]


def test_nested_mode_keeps_ancestors_named_inside(real_kb: KnowledgeBase) -> None:
    ex = extract_phenotype(real_kb, "ulcerative colitis", "en", nested=True)
    assert {t.id for t in ex.terms} == {"HP:0100279", "HP:0002583"}
    inner = next(m for m in ex.mentions if m.term_id == "HP:0002583")
    assert inner.text == "colitis"


def test_coordinated_findings_share_their_head(real_kb: KnowledgeBase) -> None:
    ex = extract_phenotype(real_kb, "branchial, otic and renal anomalies", "en")
    assert {"HP:0009794", "HP:0000598", "HP:0000077"} <= {t.id for t in ex.terms}
    ex = extract_phenotype(real_kb, "palmar and plantar pits", "en")
    assert {"HP:0010610", "HP:0010612"} <= {t.id for t in ex.terms}
    ex = extract_phenotype(real_kb, "hypopigmentation of the skin or hair", "en")
    assert {"HP:0001010", "HP:0005599"} <= {t.id for t in ex.terms}


def test_defined_abbreviations(real_kb: KnowledgeBase) -> None:
    ex = extract_phenotype(real_kb, "Sensorineural hearing loss (SNHL) was seen. SNHL was mild.")
    assert [m.text for m in ex.mentions if m.term_id == "HP:0000407"][-1] == "SNHL"
    # a lexicon abbreviation the author defines as something else is not read as ours
    text = "Idiopathic thalamic pain (ITP) was reported. ITP resolved."
    assert "HP:0001973" not in _found(extract_phenotype(real_kb, text, "en"))


def test_general_terms_outside_phenotypic_abnormality_are_never_matched(
    real_kb: KnowledgeBase,
) -> None:
    text = "Autosomal dominant inheritance, frequent, childhood onset, phenotypic abnormality."
    ids = {t.id for t in extract_phenotype(real_kb, text, "en").terms}
    for term in ("HP:0000006", "HP:0040280", "HP:0011463", "HP:0000118", "HP:0000001"):
        assert term not in ids
