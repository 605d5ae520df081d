"""Properties: arbitrary text never breaks the parser or the search with anything but
InputError, and results respect their contracts."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.phenotype import (
    MAX_LIMIT,
    ParsedTerms,
    normalize_text,
    parse_observed_and_excluded,
    parse_terms,
    split_term_text,
    term_search,
)
from raredx.phenotype.search import _normalize_many
from tests.phenotype.conftest import _FR_LABELS

_NAMES = (
    [en for _, en, _ in _FR_LABELS]
    + [fr for _, _, fr in _FR_LABELS]
    + [
        "Low platelet count",
        "Bladder retention",
        "Face large",
        "HP:0001906",
        "HP:0009998",
    ]
)
_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

hpo_like = st.one_of(
    st.text(max_size=40),
    st.sampled_from(_NAMES),
    st.from_regex(r"(?i)(hp[:_ ]?)?\d{0,9}", fullmatch=True),
    st.sampled_from(_NAMES).map(str.upper),
    st.builds(lambda a, b: f"{a}, {b}", st.sampled_from(_NAMES), st.text(max_size=10)),
)
queries = st.one_of(st.text(max_size=250), hpo_like)
limits = st.one_of(st.integers(min_value=-3, max_value=MAX_LIMIT + 3), st.just(5))
langs = st.sampled_from(["en", "fr", "any", "xx"])


@_SETTINGS
@given(text=st.text())
def test_normalize_text_contract(text: str) -> None:
    norm = normalize_text(text)
    assert norm == norm.strip() and "  " not in norm
    assert normalize_text(norm) == norm
    assert all(ch.isalnum() for token in norm.split(" ") for ch in token)
    assert norm == normalize_text(text.upper().lower()) or not text.isascii()


@_SETTINGS
@given(texts=st.lists(st.text(), max_size=20))
def test_batch_normalisation_equals_one_by_one(texts: list[str]) -> None:
    assert _normalize_many(texts) == [normalize_text(t) for t in texts]


@_SETTINGS
@given(items=st.lists(hpo_like, max_size=12))
def test_parse_terms_only_raises_input_error(tiny_kb: KnowledgeBase, items: list[str]) -> None:
    try:
        parsed = parse_terms(tiny_kb, items)
    except InputError as exc:
        assert exc.problems
        assert len(exc.problems) <= len(items)
        return
    assert isinstance(parsed, ParsedTerms)
    assert len(set(parsed.ids)) == len(parsed.ids) <= len(items)
    assert all(tiny_kb.term_ids[t.index] == t.id for t in parsed.terms)


@_SETTINGS
@given(text=st.text(max_size=300))
def test_parse_and_split_text_only_raise_input_error(tiny_kb: KnowledgeBase, text: str) -> None:
    items = split_term_text(text, tiny_kb)
    assert all(item and item == item.strip() for item in items)
    assert all(";" not in item and "\n" not in item for item in items)
    with contextlib.suppress(InputError):
        parse_terms(tiny_kb, text)


@_SETTINGS
@given(observed=st.lists(hpo_like, max_size=6), excluded=st.lists(hpo_like, max_size=6))
def test_observed_excluded_never_overlap(
    tiny_kb: KnowledgeBase, observed: list[str], excluded: list[str]
) -> None:
    try:
        parsed = parse_observed_and_excluded(tiny_kb, observed, excluded)
    except InputError:
        return
    observed_ids = {t.index for t in parsed.observed}
    for t in parsed.excluded:
        assert not any(t.index in set(tiny_kb.ancestors(o).tolist()) for o in observed_ids)


def _check_search(kb: KnowledgeBase, query: str, limit: int, lang: str) -> None:
    try:
        found = term_search(kb).search(query, limit=limit, lang=lang)  # type: ignore[arg-type]
    except InputError:
        return
    assert len(found) <= limit
    assert len({m.id for m in found}) == len(found)
    scores = [m.score for m in found]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)


@_SETTINGS
@given(query=queries, limit=limits, lang=langs)
def test_search_contract_tiny(tiny_kb: KnowledgeBase, query: str, limit: int, lang: str) -> None:
    _check_search(tiny_kb, query, limit, lang)


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=queries, limit=st.integers(min_value=0, max_value=30), lang=langs)
def test_search_contract_real(real_kb: KnowledgeBase, query: str, limit: int, lang: str) -> None:
    _check_search(real_kb, query, limit, lang)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(hpo_like, max_size=8))
def test_parse_terms_real(real_kb: KnowledgeBase, items: list[str]) -> None:
    try:
        parse_terms(real_kb, items)
    except InputError as exc:
        assert exc.problems
