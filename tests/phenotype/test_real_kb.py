"""Known facts of the bundled HPO release (2025-01-16) through parse_terms and search."""

from __future__ import annotations

import random
import statistics
import time

import pytest

from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.phenotype import (
    MAX_TERMS,
    TermSearch,
    parse_observed_and_excluded,
    parse_terms,
    split_term_text,
    term_search,
)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "item",
    [
        "HP:0001873",
        "0001873",
        "hp_0001873",
        "thrombopénie",
        "THROMBOPENIE",
        "Thrombopenie",
        "Low platelet count",
        "thrombocytopénie",
    ],
)
def test_thrombocytopenia_spellings(real_kb: KnowledgeBase, item: str) -> None:
    parsed = parse_terms(real_kb, [item])
    assert parsed.ids == ("HP:0001873",)
    assert parsed.warnings == ()


def test_alt_id_and_obsolete_ids(real_kb: KnowledgeBase) -> None:
    parsed = parse_terms(real_kb, ["HP:0001906", "HP:0001726"])
    assert parsed.ids == ("HP:0001873", "HP:0001654")
    assert [t.via for t in parsed.terms] == ["alt_id", "obsolete"]
    assert "HP:0001906 is an alternative id of HP:0001873 Thrombocytopenia" in parsed.warnings[0]
    assert (
        "HP:0001726 is obsolete; replaced by HP:0001654 Abnormal heart valve morphology"
        in parsed.warnings[1]
    )
    # HPO also lists many obsolete ids as alternative ids of their replacement.
    assert parse_terms(real_kb, ["HP:0000284"]).ids == ("HP:0000315",)


def test_garbage_list_gives_one_error_naming_every_item(real_kb: KnowledgeBase) -> None:
    garbage = ["HP:0004038", "HP:99", "splenomgaly", "foo bar baz", "HP:9999999", "0001"]
    with pytest.raises(InputError) as exc:
        parse_terms(real_kb, ["HP:0001744", *garbage])
    assert len(exc.value.problems) == len(garbage)
    for item, problem in zip(garbage, exc.value.problems, strict=True):
        assert problem.startswith(repr(item))
    assert "no replacement" in exc.value.problems[0]
    assert "did you mean HP:0001744 (Splenomegaly)?" in exc.value.problems[2]


def test_french_and_commas(real_kb: KnowledgeBase) -> None:
    parsed = parse_terms(
        real_kb,
        "Intellectual disability, mild, hépatomégalie; petite taille\nconvulsions fébriles",
    )
    assert parsed.ids == ("HP:0001256", "HP:0002240", "HP:0004322", "HP:0002373")
    microcephaly = parse_terms(real_kb, ["microcéphalie"])
    assert microcephaly.ids == ("HP:0000252",)
    assert "HP:0040195" in microcephaly.warnings[0]


def test_every_english_label_resolves_to_its_term(real_kb: KnowledgeBase) -> None:
    labels = real_kb.term_labels
    for start in range(0, len(labels), MAX_TERMS):
        chunk = labels[start : start + MAX_TERMS]
        parsed = parse_terms(real_kb, chunk)
        assert parsed.ids == tuple(real_kb.term_ids[start : start + MAX_TERMS])
        assert all(t.via == "label" for t in parsed.terms)


def test_labels_with_commas_survive_splitting(real_kb: KnowledgeBase) -> None:
    with_commas = [label for label in real_kb.term_labels if "," in label]
    assert len(with_commas) > 50
    text = ",".join(with_commas)  # every separator a comma
    assert split_term_text(text, real_kb) == with_commas
    assert parse_terms(real_kb, text).ids == tuple(
        real_kb.term_ids[real_kb.term_labels.index(label)] for label in with_commas
    )


def test_observed_excluded_contradiction(real_kb: KnowledgeBase) -> None:
    with pytest.raises(InputError) as exc:
        parse_observed_and_excluded(real_kb, ["Thrombocytopenia"], ["Abnormal platelet count"])
    (problem,) = exc.value.problems
    assert "its ancestor HP:0011873 Abnormal platelet count cannot be excluded" in problem


@pytest.mark.parametrize(
    ("query", "expected", "kind"),
    [
        ("thrombocytopenia", "HP:0001873", "exact"),
        ("Thrombopénie", "HP:0001873", "exact"),
        ("thrombocytopenai", "HP:0001873", "fuzzy"),
        ("splenomgaly", "HP:0001744", "fuzzy"),
        ("splenomegaly", "HP:0001744", "exact"),
        ("anémie hémolytique", "HP:0001878", "exact"),
        ("anemie hemolitique", "HP:0001878", "fuzzy"),
        ("petite taille", "HP:0004322", "exact"),
        ("convulsions febriles", "HP:0002373", "exact"),
        ("hypotonai", "HP:0001252", "fuzzy"),
        ("intelectual disabilty", "HP:0001249", "fuzzy"),
        ("seizu", "HP:0001250", "prefix"),
        ("platelet low", "HP:0001873", "words"),
        ("HP:0001906", "HP:0001873", "id"),
    ],
)
def test_search_top_hit(real_kb: KnowledgeBase, query: str, expected: str, kind: str) -> None:
    top = term_search(real_kb).search(query, limit=5)[0]
    assert (top.id, top.match_kind) == (expected, kind)


def test_search_by_id_prefix(real_kb: KnowledgeBase) -> None:
    found = term_search(real_kb).search("HP:00018", limit=50)
    assert len(found) == 50
    assert all(m.id.startswith("HP:00018") for m in found)
    assert [m.id for m in found] == sorted(m.id for m in found)


def test_label_search_finds_itself(real_kb: KnowledgeBase) -> None:
    search = term_search(real_kb)
    rng = random.Random(7)
    for t in rng.sample(range(real_kb.n_terms), 300):
        hits = search.search(real_kb.term_labels[t], limit=5)
        assert real_kb.term_ids[t] in [m.id for m in hits]
        if real_kb.term_labels_fr[t]:
            hits = search.search(real_kb.term_labels_fr[t], limit=5, lang="fr")
            assert real_kb.term_ids[t] in [m.id for m in hits]


def test_speed(real_kb: KnowledgeBase) -> None:
    """Loose bounds (shared CI machines); benchmarks/hpo_search.py measures properly."""
    started = time.perf_counter()
    TermSearch(real_kb)
    assert time.perf_counter() - started < 5
    search = term_search(real_kb)
    queries = [
        "thrombocytopenia",
        "splenomgaly",
        "anemie hemolitique",
        "a",
        "abnormal hert",
        "HP:00018",
        "retard de croissance",
        "low platelet count",
        "seizure",
        "ataxie",
    ]
    times = []
    for q in queries * 3:
        t0 = time.perf_counter()
        search.search(q)
        times.append(time.perf_counter() - t0)
    assert statistics.mean(times) < 0.05
