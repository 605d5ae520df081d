"""Negation, family history and hypotheses, in English and French."""

from __future__ import annotations

import pytest

from raredx.kb import KnowledgeBase
from raredx.phenotype.text import extract_phenotype

SPLENOMEGALY = "HP:0001744"
LYMPHADENOPATHY = "HP:0002716"
FEVER = "HP:0001945"
HEPATOMEGALY = "HP:0002240"
ITP = "HP:0001973"


def _status(kb: KnowledgeBase, text: str, term: str, lang: str = "auto") -> str | None:
    ex = extract_phenotype(kb, text, lang)  # type: ignore[arg-type]
    return next((t.status for t in ex.terms if t.id == term), None)


@pytest.mark.parametrize(
    ("text", "term", "status"),
    [
        ("Splenomegaly.", SPLENOMEGALY, "present"),
        ("No lymphadenopathy.", LYMPHADENOPATHY, "excluded"),
        ("He denies fever.", FEVER, "excluded"),
        ("Patient is afebrile.", FEVER, "excluded"),
        ("Lymphadenopathy was absent.", LYMPHADENOPATHY, "excluded"),
        ("Fever was ruled out.", FEVER, "excluded"),
        ("No fever, cough or lymphadenopathy.", LYMPHADENOPATHY, "excluded"),
        ("No fever but splenomegaly.", SPLENOMEGALY, "present"),
        ("No fever; splenomegaly.", SPLENOMEGALY, "present"),
        ("There was no increase in splenomegaly.", SPLENOMEGALY, "present"),
        ("Without hepatomegaly, he developed splenomegaly.", SPLENOMEGALY, "present"),
        ("His mother has ITP.", ITP, "family"),
        ("ITP in his sister.", ITP, "family"),
        ("Family history of ITP.", ITP, "family"),
        ("No family history of ITP.", ITP, "family"),
        ("Family history:\nITP\nanemia\n\nExam: splenomegaly.", ITP, "family"),
        ("Family history:\nITP\n\nExam: splenomegaly.", SPLENOMEGALY, "present"),
        ("His mother reports that he has splenomegaly.", SPLENOMEGALY, "present"),
        ("Suspected ITP.", ITP, "uncertain"),
        ("Rule out ITP.", ITP, "uncertain"),
        ("ITP cannot be excluded.", ITP, "uncertain"),
        ("Splenomegaly?", SPLENOMEGALY, "uncertain"),
        ("At risk of splenomegaly.", SPLENOMEGALY, "uncertain"),
        ("Hemolytic anemia, Coombs negative.", "HP:0001878", "present"),
        ("Absent radius.", "HP:0003974", "present"),
    ],
)
def test_english_context(real_kb: KnowledgeBase, text: str, term: str, status: str) -> None:
    assert _status(real_kb, text, term, "en") == status


@pytest.mark.parametrize(
    ("text", "term", "status"),
    [
        ("Splénomégalie.", SPLENOMEGALY, "present"),
        ("Pas d'hépatomégalie.", HEPATOMEGALY, "excluded"),
        ("Absence de fièvre.", FEVER, "excluded"),
        ("Enfant apyrétique.", FEVER, "excluded"),
        ("Ni fièvre ni adénopathie.", LYMPHADENOPATHY, "excluded"),
        ("Pas de fièvre, ni d'adénopathie.", LYMPHADENOPATHY, "excluded"),
        ("Hépatomégalie non retrouvée.", HEPATOMEGALY, "excluded"),
        ("Il ne présente pas de splénomégalie.", SPLENOMEGALY, "excluded"),
        ("Pas de fièvre mais une splénomégalie.", SPLENOMEGALY, "present"),
        ("Pas de modification de la splénomégalie.", SPLENOMEGALY, "present"),
        ("Sa mère a un PTI.", ITP, "family"),
        ("PTI chez le frère.", ITP, "family"),
        ("Antécédents familiaux : PTI maternel.", ITP, "family"),
        ("Pas d'antécédent familial de PTI.", ITP, "family"),
        ("La mère rapporte une splénomégalie chez l'enfant.", SPLENOMEGALY, "present"),
        ("Suspicion de PTI.", ITP, "uncertain"),
        ("PTI à éliminer.", ITP, "uncertain"),
        ("Un PTI ne peut être exclu.", ITP, "uncertain"),
        ("PTI possible.", ITP, "uncertain"),
        ("Anémie hémolytique, Coombs négatif.", "HP:0001878", "present"),
        ("Plus de 10 adénopathies cervicales.", LYMPHADENOPATHY, "present"),
    ],
)
def test_french_context(real_kb: KnowledgeBase, text: str, term: str, status: str) -> None:
    assert _status(real_kb, text, term, "fr") == status


def test_excluded_flag_and_patient_terms(real_kb: KnowledgeBase) -> None:
    ex = extract_phenotype(
        real_kb, "Splenomegaly. No fever. His brother has ITP. Possible HLH.", "en"
    )
    by_id = {t.id: t for t in ex.terms}
    assert by_id[FEVER].excluded and by_id[FEVER].status == "excluded"
    assert not by_id[ITP].excluded and by_id[ITP].status == "family"
    assert ex.present_ids == (SPLENOMEGALY,)
    assert ex.excluded_ids == (FEVER,)


def test_present_wins_over_excluded_for_one_term(real_kb: KnowledgeBase) -> None:
    ex = extract_phenotype(real_kb, "No fever at admission. Fever on day 3.", "en")
    assert [(t.id, t.status) for t in ex.terms] == [(FEVER, "present")]
    assert [m.status for m in ex.mentions] == ["excluded", "present"]


def test_exclusion_of_an_implied_ancestor_is_uncertain(real_kb: KnowledgeBase) -> None:
    # Hemolytic anemia implies anemia: "no anemia" cannot make anemia excluded.
    ex = extract_phenotype(real_kb, "No anemia. Later, hemolytic anemia.", "en")
    by_id = {t.id: t.status for t in ex.terms}
    assert by_id["HP:0001878"] == "present"
    assert by_id["HP:0001903"] == "uncertain"
