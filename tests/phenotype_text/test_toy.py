"""Matching logic on the hand-drawn toy KB (tests/data/toy/hp.obo): no real data needed."""

from __future__ import annotations

import gc
import weakref

from raredx.kb import KnowledgeBase
from raredx.kb.compile import compile_kb
from raredx.phenotype.text import extract_phenotype
from tests.conftest import toy_release_files


def test_toy_terms_are_found_with_spans(toy_kb: KnowledgeBase) -> None:
    text = "Thrombocytopenia and autoimmune hemolytic anemia; no splenomegaly."
    ex = extract_phenotype(toy_kb, text, "en")
    assert [(t.id, t.status) for t in ex.terms] == [
        ("HP:0001873", "present"),
        ("HP:0001890", "present"),
        ("HP:0001744", "excluded"),
    ]
    assert [m.text for m in ex.mentions] == [
        "Thrombocytopenia",
        "autoimmune hemolytic anemia",
        "splenomegaly",
    ]


def test_inheritance_and_root_are_never_matched(toy_kb: KnowledgeBase) -> None:
    text = "Autosomal dominant inheritance. Phenotypic abnormality. All."
    assert extract_phenotype(toy_kb, text, "en").terms == ()


def test_french_labels_of_the_toy(toy_kb: KnowledgeBase) -> None:
    ex = extract_phenotype(toy_kb, "Pas de thrombopénie. Anémie.", "fr")
    assert [(t.id, t.status) for t in ex.terms] == [
        ("HP:0001873", "excluded"),
        ("HP:0001903", "present"),
    ]


def test_curated_names_of_terms_missing_from_the_kb_are_skipped(toy_kb: KnowledgeBase) -> None:
    # "HLH" names Hemophagocytosis, which the toy KB lacks; "AIHA" names a toy term.
    ex = extract_phenotype(toy_kb, "HLH with AIHA.", "en")
    assert [t.id for t in ex.terms] == ["HP:0001890"]


def test_matchers_do_not_keep_their_kb_alive() -> None:
    """The matcher cache is keyed weakly by the KB: a matcher must not hold the KB."""
    c = compile_kb(toy_release_files())
    kb = KnowledgeBase(c.arrays, c.strings, c.manifest)
    extract_phenotype(kb, "Thrombocytopenia.", "en")
    ref = weakref.ref(kb)
    del kb
    gc.collect()
    assert ref() is None
