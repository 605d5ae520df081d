"""Schema of the shipped curated treatment table, checked against the real KB."""

from __future__ import annotations

import re
from datetime import date

import pytest

from raredx.errors import KnowledgeBaseError
from raredx.kb import KnowledgeBase
from raredx.treat import EvidenceLevel, Origin, Status, Treatment, read_curated
from raredx.treat.load import CURATED_COLUMNS
from raredx.treat.model import ATC_PATTERN, CHEBI_PATTERN, DRUGBANK_PATTERN

CURATED = read_curated()

# Every disease group issue 6 names, as (label, an id that must carry a treatment, therapy words).
REQUIRED_GROUPS = [
    ("type I interferonopathy: Aicardi-Goutieres", "OMIM:225750", "baricitinib"),
    ("type I interferonopathy: SAVI", "OMIM:615934", "ruxolitinib"),
    ("STAT1 gain of function", "OMIM:614162", "ruxolitinib"),
    ("STAT3 gain of function", "OMIM:615952", "ruxolitinib"),
    ("CTLA4 haploinsufficiency", "OMIM:616100", "abatacept"),
    ("LRBA deficiency", "OMIM:614700", "abatacept"),
    ("activated PI3K-delta syndrome", "OMIM:615513", "leniolisib"),
    ("IL-1-mediated: CAPS", "OMIM:191900", "canakinumab"),
    ("IL-1-mediated: NOMID", "OMIM:607115", "anakinra"),
    ("familial Mediterranean fever", "OMIM:249100", "colchicine"),
    ("ADA2 deficiency", "OMIM:615688", "etanercept"),
    ("familial HLH", "OMIM:603553", "emapalumab"),
    ("familial HLH transplantation", "ORPHA:540", "transplantation"),
    ("ALPS", "OMIM:601859", "sirolimus"),
    ("WHIM syndrome", "OMIM:193670", "mavorixafor"),
    ("SCID", "OMIM:300400", "transplantation"),
    ("SCID gene therapy", "OMIM:300400", "gene therapy"),
    ("ADA-SCID enzyme replacement", "OMIM:102700", "elapegademase"),
    ("chronic granulomatous disease", "OMIM:306400", "interferon gamma"),
    ("sickle cell disease: hydroxyurea", "OMIM:603903", "hydroxyurea"),
    ("sickle cell disease: gene therapy", "OMIM:603903", "exagamglogene"),
    ("beta-thalassemia: luspatercept", "OMIM:613985", "luspatercept"),
    ("beta-thalassemia: gene therapy", "OMIM:613985", "betibeglogene"),
    ("pyruvate kinase deficiency", "OMIM:266200", "mitapivat"),
    ("hemophilia A: factor replacement", "OMIM:306700", "factor VIII"),
    ("hemophilia A: emicizumab", "OMIM:306700", "emicizumab"),
    ("hemophilia A: gene therapy", "OMIM:306700", "valoctocogene"),
    ("hemophilia B: factor replacement", "OMIM:306900", "factor IX"),
    ("hemophilia B: gene therapy", "OMIM:306900", "etranacogene"),
    ("systemic mastocytosis: avapritinib", "ORPHA:98850", "avapritinib"),
    ("systemic mastocytosis: midostaurin", "ORPHA:98850", "midostaurin"),
    ("Diamond-Blackfan anemia", "OMIM:105650", "prednisone"),
    ("Fanconi anemia", "OMIM:227650", "transplantation"),
]


def test_at_least_80_rows() -> None:
    assert len(CURATED) >= 80


def test_every_row_has_evidence_citation_and_review_date() -> None:
    for t in CURATED:
        assert isinstance(t.evidence_level, EvidenceLevel), t
        assert t.evidence_level is not EvidenceLevel.ANNOTATION, t.therapy
        assert t.citations and all(len(c) > 10 for c in t.citations), t.therapy
        assert t.reviewed == date(2026, 11, 22), t.therapy
        assert t.origin is Origin.CURATED


def test_approvals_name_agency_product_and_year() -> None:
    approval = re.compile(r"^(FDA|EMA) (19|20)\d\d (accelerated )?approval: \S")
    for t in CURATED:
        if t.evidence_level is EvidenceLevel.APPROVED:
            assert any(approval.match(c) for c in t.citations), (t.therapy, t.citations)


def test_identifiers_are_well_formed() -> None:
    for t in CURATED:
        assert not t.chebi or CHEBI_PATTERN.match(t.chebi), t.chebi
        assert not t.drugbank or DRUGBANK_PATTERN.match(t.drugbank), t.drugbank
        assert not t.atc or ATC_PATTERN.match(t.atc), t.atc


def test_verified_identifiers_are_the_ones_shipped() -> None:
    """Spot checks against DrugBank/WHO ATC values verified while curating."""
    expected = {
        "anakinra": ("DB00026", "L04AC03"),
        "ruxolitinib": ("DB08877", "L01EJ01"),
        "leniolisib": ("DB16217", "L03AX22"),
        "mitapivat": ("DB16236", "B06AX04"),
        "luspatercept": ("DB12281", "B03XA06"),
        "emicizumab": ("DB13923", "B02BX06"),
    }
    for t in CURATED:
        if t.therapy in expected:
            assert (t.drugbank, t.atc) == expected[t.therapy], t.therapy


@pytest.mark.slow
def test_every_disease_id_and_gene_resolves_in_the_real_kb(real_kb: KnowledgeBase) -> None:
    missing = [
        (t.therapy, d) for t in CURATED for d in t.disease_ids if d not in real_kb.disease_index
    ]
    assert missing == []
    genes = [(t.therapy, g) for t in CURATED for g in t.genes if len(real_kb.gene_indices(g)) != 1]
    assert genes == []


@pytest.mark.slow
@pytest.mark.parametrize(("label", "disease_id", "therapy"), REQUIRED_GROUPS)
def test_issue_disease_groups_are_covered(
    real_kb: KnowledgeBase, label: str, disease_id: str, therapy: str
) -> None:
    from raredx.treat import treatment_index

    found = treatment_index(real_kb).treatments_for_disease(disease_id)
    curated = [t for t in found if t.origin is Origin.CURATED]
    assert any(therapy.lower() in t.therapy.lower() for t in curated), label


def test_withdrawn_voxelotor_is_marked() -> None:
    voxelotor = [t for t in CURATED if t.therapy == "voxelotor"]
    assert voxelotor and all(t.status is Status.WITHDRAWN for t in voxelotor)
    assert all("withdrawn" in " ".join(t.citations).lower() for t in voxelotor)


def test_scid_rows_warn_against_live_vaccines() -> None:
    scid = [t for t in CURATED if "OMIM:300400" in t.disease_ids]
    assert scid and all(any("live vaccines" in c for c in t.cautions) for t in scid)


def test_gain_of_function_restriction_kept_for_jak_inhibitors() -> None:
    for t in CURATED:
        if t.therapy in {"ruxolitinib", "tofacitinib"} and set(t.genes) & {"STAT1", "STAT3"}:
            assert t.genotype == "gain of function"


def _table(*rows: str) -> str:
    return "# comment\n" + "\t".join(CURATED_COLUMNS) + "\n" + "\n".join(rows) + "\n"


GOOD = "\t".join(
    [
        "OMIM:601859",
        "FAS",
        "",
        "sirolimus",
        "",
        "DB00877",
        "L04AH01",
        "mTOR",
        "first_line",
        "prospective_study",
        "A citation. Blood 2016",
        "",
        "available",
        "2026-11-22",
    ]
)


def test_reader_accepts_a_good_row() -> None:
    (t,) = read_curated(_table(GOOD))
    assert isinstance(t, Treatment)
    assert t.drugbank == "DB00877" and t.line.value == "first_line"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("A citation. Blood 2016", "", "no citation"),
        ("prospective_study", "anecdote", "anecdote"),
        ("DB00877", "DB877", "malformed DrugBank"),
        ("L04AH01", "L04AH", "malformed ATC"),
        ("OMIM:601859", "OMIM601859", "malformed disease id"),
        ("2026-11-22", "", "Invalid isoformat"),
    ],
)
def test_reader_lists_bad_rows(old: str, new: str, message: str) -> None:
    bad = GOOD.replace(old, new)
    with pytest.raises(KnowledgeBaseError, match=message) as info:
        read_curated(_table(GOOD, bad, bad))
    assert "line 4" in str(info.value) and "line 5" in str(info.value)


def test_reader_rejects_a_wrong_header() -> None:
    with pytest.raises(KnowledgeBaseError, match="header"):
        read_curated("disease\ttherapy\n")
