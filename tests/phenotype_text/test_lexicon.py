"""The curated lexicon files are well-formed and every name in them reaches an existing term."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from raredx.kb import KnowledgeBase, TermLookupKind
from raredx.phenotype import normalize_text
from raredx.phenotype._lexicon import CURATED_FILES, CuratedName, curated_names
from raredx.phenotype.text import extract_phenotype

_DATA = resources.files("raredx.phenotype").joinpath("data")


def _rows(name: str) -> list[dict[str, str]]:
    text = _DATA.joinpath(name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


@pytest.mark.parametrize("name", [*CURATED_FILES, "word_variants.tsv", "blocked_names.tsv"])
def test_files_are_tab_separated_with_a_source(name: str) -> None:
    rows = _rows(name)
    assert rows
    for row in rows:
        assert None not in row, f"{name}: extra column in {row}"
        assert all(v is not None and v.strip() == v for v in row.values()), row
        assert all(v for k, v in row.items() if k != "note"), row
        reason = row.get("source") or row.get("reason")
        assert reason, f"{name}: no source/reason for {row}"


def test_curated_names_are_unique_and_well_kinded() -> None:
    names = curated_names()
    keys = [(n.lang, normalize_text(n.text), n.hpo_id) for n in names]
    assert len(keys) == len(set(keys)), [k for k in keys if keys.count(k) > 1]
    for n in names:
        assert n.kind in ("synonym", "abbreviation", "negated")
        assert n.text and n.source
        if n.kind == "abbreviation":
            assert n.text.isupper() and " " not in n.text, n


def test_every_curated_id_is_a_current_phenotypic_abnormality(real_kb: KnowledgeBase) -> None:
    problems = []
    for n in curated_names():
        found = real_kb.lookup_term(n.hpo_id)
        if found is None or found.kind is not TermLookupKind.CURRENT:
            problems.append(f"{n.hpo_id} ({n.text}): not a current HPO term")
        elif not real_kb.is_ancestor("HP:0000118", n.hpo_id) or n.hpo_id == "HP:0000118":
            problems.append(f"{n.hpo_id} ({n.text}): not under Phenotypic abnormality")
    assert not problems


@pytest.mark.slow
def test_every_curated_name_finds_its_term(real_kb: KnowledgeBase) -> None:
    """Each name, as a text of its own, is read as its term: none is shadowed or broken."""
    missed: list[CuratedName] = []
    for n in curated_names():
        ex = extract_phenotype(real_kb, n.text, n.lang)
        ids = {t.id for t in ex.terms}
        if n.hpo_id not in ids:
            missed.append(n)
        elif n.kind == "negated":
            assert ex.terms[0].status == "excluded", n
    assert not missed, [(m.lang, m.text, m.hpo_id) for m in missed]


def test_blocked_names_are_names_of_the_ontology(real_kb: KnowledgeBase) -> None:
    """A block that no longer matches any HPO name is stale: remove it."""
    en: set[str] = set()
    fr: set[str] = set()
    kb = real_kb
    for i in range(kb.n_terms):
        en.update(normalize_text(x) for x in [kb.term_labels[i], *kb.term_synonyms[i]])
        fr.update(normalize_text(x) for x in [kb.term_labels_fr[i], *kb.term_synonyms_fr[i]])
    stale = [
        (row["lang"], row["text"])
        for row in _rows("blocked_names.tsv")
        if normalize_text(row["text"]) not in (fr if row["lang"] == "fr" else en)
    ]
    assert not stale


def test_word_variants_are_per_language() -> None:
    for row in _rows("word_variants.tsv"):
        assert row["lang"] in ("en", "fr")
        assert row["word"] and row["canonical"] and row["word"] != row["canonical"]
