"""Properties: any text gives InputError or a consistent Extraction whose spans slice back."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.phenotype.text import Extraction, extract_phenotype

_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))

_PIECES = [
    "thrombocytopenia",
    "Thrombopénie",
    "splenomegaly",
    "no",
    "not",
    "pas d'",
    "sans",
    "his mother has",
    "sa mère",
    "suspected",
    "à éliminer",
    "AIHA",
    "HSM",
    "ITP",
    "(",
    ")",
    "SNHL",
    "hearing loss",
    "and",
    "et",
    "or",
    ",",
    ".",
    ";",
    "?",
    "\n",
    "-",
    "pre-",
    "auricular pits",
    "recurrent",
    "à répétition",
    "otites",
    "left",
    "gauche",
    "Family history:",
    "œdème",
    "anaemia",
    "ß",
    "İ",
    "\u0301",
    "\x00",
    "\ufeff",
    "\u2010",
    "é",
    "e\u0301",
]
clinical = st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=6)), max_size=40).map(
    " ".join
)
texts = st.one_of(st.text(max_size=300), clinical)
langs = st.sampled_from(["en", "fr", "auto"])


def _check(ex: Extraction, text: str) -> None:
    assert ex.language in ("en", "fr")
    starts = []
    for m in ex.mentions:
        assert 0 <= m.start < m.end <= len(text)
        assert text[m.start : m.end] == m.text
        assert m.status in ("present", "excluded", "family", "uncertain")
        starts.append(m.start)
    assert starts == sorted(starts)
    spans = {(m.start, m.end, m.term_id) for m in ex.mentions}
    assert len({t.id for t in ex.terms}) == len(ex.terms)
    for t in ex.terms:
        assert t.excluded == (t.status == "excluded")
        assert t.spans and all((a, b, t.id) in spans for a, b in t.spans)


@_SETTINGS
@given(text=texts, lang=langs)
def test_any_text_on_the_toy_kb(toy_kb: KnowledgeBase, text: str, lang: str) -> None:
    try:
        ex = extract_phenotype(toy_kb, text, lang)  # type: ignore[arg-type]
    except InputError:
        assert not text.strip()
        return
    _check(ex, text)
    assert extract_phenotype(toy_kb, text, lang) == ex  # type: ignore[arg-type]


@_SETTINGS
@given(text=texts, lang=langs)
def test_any_text_on_the_real_kb(real_kb: KnowledgeBase, text: str, lang: str) -> None:
    try:
        ex = extract_phenotype(real_kb, text, lang)  # type: ignore[arg-type]
    except InputError:
        assert not text.strip()
        return
    _check(ex, text)


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(junk=st.lists(st.sampled_from(_PIECES), min_size=1, max_size=8))
def test_long_repetitive_text(real_kb: KnowledgeBase, junk: list[str]) -> None:
    text = " ".join(junk) * 500
    if not text.strip():
        return
    _check(extract_phenotype(real_kb, text), text)
