"""TreatmentIndex lookups by gene, disease id (any equivalent id) and name, and bad queries."""

from __future__ import annotations

import pytest

from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.treat import (
    MAX_QUERY_LENGTH,
    EvidenceLevel,
    Origin,
    TreatmentIndex,
    normalize_text,
    treatment_index,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def index(real_kb: KnowledgeBase) -> TreatmentIndex:
    return treatment_index(real_kb)


def test_index_is_built_once_per_kb(real_kb: KnowledgeBase, index: TreatmentIndex) -> None:
    assert treatment_index(real_kb) is index


def test_results_are_sorted_strongest_evidence_first(index: TreatmentIndex) -> None:
    found = index.find("OMIM:603903")
    ranks = [t.evidence_level.rank for t in found]
    assert ranks == sorted(ranks)
    assert found[0].evidence_level is EvidenceLevel.APPROVED
    assert found[-1].origin is Origin.MAXO


def test_gene_lookup(index: TreatmentIndex) -> None:
    found = index.find("pik3cd")
    assert found[0].therapy == "leniolisib"
    assert all("PIK3CD" in t.genes for t in found)


def test_previous_gene_symbol_resolves(index: TreatmentIndex) -> None:
    assert index.find("CECR1") == index.find("ADA2")
    assert any(t.therapy == "etanercept" for t in index.find("CECR1"))


def test_any_equivalent_id_finds_the_same_treatments(
    real_kb: KnowledgeBase, index: TreatmentIndex
) -> None:
    omim = index.find("OMIM:601859")
    assert any(t.therapy == "sirolimus" for t in omim)
    for other in real_kb.equivalent_ids("OMIM:601859"):
        assert index.find(other) == omim, other
    assert index.find("orphanet_3261") == omim


def test_orpha_umbrella_and_omim_subtype(index: TreatmentIndex) -> None:
    assert any(t.therapy == "emapalumab" for t in index.find("ORPHA:540"))
    assert any(t.therapy == "emapalumab" for t in index.find("OMIM:608898"))


def test_name_lookup_ignores_case_and_accents(index: TreatmentIndex) -> None:
    plain = index.find("chediak-higashi")
    assert plain == index.find("CHÉDIAK-HIGASHI")
    assert any("transplantation" in t.therapy for t in plain)
    assert normalize_text("  Chédiak  Higashi ") == "chediak higashi"


def test_therapy_name_lookup(index: TreatmentIndex) -> None:
    found = index.find("emapalumab")
    assert found and all("emapalumab" in t.therapy for t in found)


def test_known_disease_without_treatment_is_empty(index: TreatmentIndex) -> None:
    assert index.find("OMIM:613659") == () or all(
        t.origin is Origin.MAXO for t in index.find("OMIM:613659")
    )


def test_treatable_mask_marks_curated_diseases(
    real_kb: KnowledgeBase, index: TreatmentIndex
) -> None:
    mask = index.treatable_mask()
    assert mask.shape == (real_kb.n_diseases,)
    assert mask[real_kb.disease_index["OMIM:615513"]]
    assert mask[real_kb.disease_index["ORPHA:397596"]]
    approved = index.treatable_mask(min_level=EvidenceLevel.APPROVED)
    assert approved.sum() < mask.sum()
    with_maxo = index.treatable_mask(min_level=EvidenceLevel.ANNOTATION)
    assert with_maxo.sum() > mask.sum()
    assert index.has_treatment(real_kb.disease_index["OMIM:266200"])


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "empty query"),
        ("   ", "empty query"),
        ("x" * (MAX_QUERY_LENGTH + 1), "longer than"),
        ("FAS\x00; DROP TABLE", "control"),
        ("\u202eFAS", "control"),
        ("OMIM:999999", "unknown disease id"),
        ("MONDO:9999999", "unknown disease id"),
        ("zz", "at least 3"),
        ("no such disease qwertyuiop", "no disease, gene or therapy"),
        ("<script>alert(1)</script>", "no disease, gene or therapy"),
        ("%s%s%n", "no disease, gene or therapy"),
    ],
)
def test_bad_queries_raise_a_clear_error(index: TreatmentIndex, query: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        index.find(query)


def test_unknown_disease_index(index: TreatmentIndex) -> None:
    with pytest.raises(InputError, match="unknown disease index"):
        index.treatments_for_disease(-1)
