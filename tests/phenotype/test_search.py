"""TermSearch ranking and limits on the tiny hand-written release (see conftest.HP_OBO)."""

from __future__ import annotations

import time

import pytest

from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.phenotype import (
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    TermMatch,
    TermSearch,
    normalize_text,
    term_search,
)
from tests.phenotype.conftest import TINY_VERSION


def _ids(matches: list[TermMatch]) -> list[str]:
    return [m.id for m in matches]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thrombopénie", "thrombopenie"),
        ("  ANÉMIE   hémolytique!! ", "anemie hemolytique"),
        ("Rétention d'urine", "retention d urine"),
        ("CD4-negative_cells", "cd4 negative cells"),
        ("Œdème, cœur", "oedeme coeur"),
        ("Straße", "strasse"),
        ("ﬁbrose²", "fibrose2"),
        ("β-thalassémie", "β thalassemie"),
        ("", ""),
        (" ,;- ", ""),
    ],
)
def test_normalize_text(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


def test_exact_then_prefix_then_words(tiny_kb: KnowledgeBase) -> None:
    found = term_search(tiny_kb).search("intellectual disability")
    assert [(m.id, m.match_kind) for m in found] == [
        ("HP:0001249", "exact"),
        ("HP:0001256", "prefix"),
    ]
    reordered = term_search(tiny_kb).search("disability intel")
    assert [(m.id, m.match_kind) for m in reordered] == [
        ("HP:0001249", "words"),
        ("HP:0001256", "words"),
    ]
    assert reordered[0].score > reordered[1].score  # more popular, shorter


def test_label_beats_synonym_then_popularity(tiny_kb: KnowledgeBase) -> None:
    found = term_search(tiny_kb).search("b", lang="en")
    # "Broad face" is a label; "Bladder retention" a synonym of two terms, the annotated one
    # first; "Abnormality of blood..." only matches a word.
    assert _ids(found)[:3] == ["HP:0000283", "HP:0000016", "HP:0000019"]
    assert [m.match_kind for m in found[:3]] == ["prefix", "prefix", "prefix"]
    assert found[0].matched_text == "Broad face"
    assert found[1].matched_text == "Bladder retention"
    assert "HP:0001871" in _ids(found)


def test_shorter_name_wins_within_a_term(tiny_kb: KnowledgeBase) -> None:
    search = term_search(tiny_kb)
    assert search.search("thrombo", limit=1)[0].matched_text == "Thrombopénie"
    assert search.search("thrombo", limit=1, lang="en")[0].matched_text == "Thrombocytopenia"


def test_one_match_per_term(tiny_kb: KnowledgeBase) -> None:
    found = term_search(tiny_kb).search("thrombocytopenia")
    assert _ids(found) == ["HP:0001873"]
    (match,) = found
    assert match == TermMatch(
        id="HP:0001873",
        label="Thrombocytopenia",
        label_fr="Thrombopénie",
        matched_text="Thrombocytopenia",
        match_kind="exact",
        score=match.score,
    )
    assert 0.9 <= match.score <= 1.0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("splenomgaly", "HP:0001744"),
        ("splenomegalie", "HP:0001744"),
        ("thrombocytopenai", "HP:0001873"),
        ("anemie hemolitique", "HP:0001878"),
        ("hemolitic anemia", "HP:0001878"),
        ("intelectual disabilty", "HP:0001249"),
        ("lpatelet count low", "HP:0001873"),
    ],
)
def test_typos(tiny_kb: KnowledgeBase, query: str, expected: str) -> None:
    found = term_search(tiny_kb).search(query)
    assert found and found[0].id == expected
    assert found[0].match_kind in ("fuzzy", "words", "exact")


def test_languages(tiny_kb: KnowledgeBase) -> None:
    search = term_search(tiny_kb)
    english = {
        n
        for t in range(tiny_kb.n_terms)
        for n in (tiny_kb.term_labels[t], *tiny_kb.term_synonyms[t])
    }
    french = {
        n
        for t in range(tiny_kb.n_terms)
        for n in (tiny_kb.term_labels_fr[t], *tiny_kb.term_synonyms_fr[t])
        if n
    }
    for query in ("anemie", "thrombo", "face", "retention", "splenomegaly"):
        assert all(m.matched_text in english for m in search.search(query, lang="en"))
        assert all(m.matched_text in french for m in search.search(query, lang="fr"))
    assert search.search("anémie", lang="fr")[0].matched_text == "Anémie"
    assert search.search("anémie", lang="en")[0].matched_text == "Anemia"  # a typo away


def test_ids(tiny_kb: KnowledgeBase) -> None:
    search = term_search(tiny_kb)
    assert _ids(search.search("HP:00018")) == [
        "HP:0001871",
        "HP:0001872",
        "HP:0001873",
        "HP:0001878",
    ]
    assert _ids(search.search("hp:00018", limit=2)) == ["HP:0001871", "HP:0001872"]
    assert [(m.id, m.score) for m in search.search("0001873")] == [("HP:0001873", 1.0)]
    assert [(m.id, m.matched_text) for m in search.search("HP_0001906")] == [
        ("HP:0001873", "HP:0001906")
    ]
    assert _ids(search.search("HP:0009999")) == ["HP:0001903"]
    assert search.search("HP:0009998") == []
    assert search.search("HP:7") == []
    assert all(m.match_kind == "id" for m in search.search("HP:0"))


def test_nothing_matches(tiny_kb: KnowledgeBase) -> None:
    search = term_search(tiny_kb)
    assert search.search("qqqqqqq") == []
    assert search.search("") == []
    assert search.search("  --!! ") == []
    assert search.search("thrombocytopenia", limit=0) == []


def test_limits(tiny_kb: KnowledgeBase) -> None:
    search = term_search(tiny_kb)
    assert len(search.search("a", limit=3)) == 3
    assert len(search.search("a", limit=MAX_LIMIT)) <= tiny_kb.n_terms
    for bad in (-1, MAX_LIMIT + 1, 2.5, True):
        with pytest.raises(InputError, match="limit must be an integer"):
            search.search("a", limit=bad)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="lang must be one of"):
        search.search("a", lang="de")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="characters long"):
        search.search("a" * (MAX_QUERY_CHARS + 1))
    with pytest.raises(InputError, match="query must be text"):
        search.search(None)  # type: ignore[arg-type]


def test_huge_query_is_refused_fast(tiny_kb: KnowledgeBase) -> None:
    started = time.perf_counter()
    with pytest.raises(InputError):
        term_search(tiny_kb).search("thrombocytopenia " * 60_000)  # ~1 MB
    assert time.perf_counter() - started < 1


def test_scores_follow_rank(tiny_kb: KnowledgeBase) -> None:
    bands = {
        "id": (0.9, 1.0),
        "exact": (0.9, 1.0),
        "prefix": (0.7, 0.9),
        "words": (0.5, 0.7),
        "fuzzy": (0.0, 0.5),
    }
    for query in ("a", "face", "intellectual disability", "splenomgaly", "HP:000", "anemie"):
        found = term_search(tiny_kb).search(query, limit=50)
        scores = [m.score for m in found]
        assert scores == sorted(scores, reverse=True)
        assert len(set(_ids(found))) == len(found)
        for m in found:
            lo, hi = bands[m.match_kind]
            assert lo <= m.score <= hi


def test_exact_names_and_is_name(tiny_kb: KnowledgeBase) -> None:
    search = term_search(tiny_kb)
    assert search.is_name("intellectual disability, MILD")
    assert not search.is_name("intellectual disability, medium")
    assert sorted(search.exact_names("Microcéphalie")) == sorted(
        [
            (tiny_kb.term_index["HP:0000252"], "label_fr", "Microcéphalie"),
            (tiny_kb.term_index["HP:0040195"], "label_fr", "Microcéphalie"),
        ]
    )
    assert search.exact_names("nope") == []
    assert search.max_commas == 1
    assert "intellectual disability" in search.comma_heads


def test_index_is_cached_per_kb(tiny_kb: KnowledgeBase, tiny_files: object) -> None:
    assert term_search(tiny_kb) is term_search(tiny_kb)
    other = TermSearch(tiny_kb)
    assert other is not term_search(tiny_kb)
    assert other.build_seconds >= 0
    assert other.n_names == term_search(tiny_kb).n_names
    assert tiny_kb.version == TINY_VERSION
