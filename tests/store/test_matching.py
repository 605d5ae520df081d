"""Similar patients: phenotype similarity plus shared candidate genes, within visible centres."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from raredx.case import Case, read_cases
from raredx.diagnosis import diagnose
from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.store import Store
from raredx.store.matching import (
    GENE_WEIGHT,
    PHENOTYPE_WEIGHT,
    gene_similarity,
    phenotype_similarity,
    similar_cases,
)
from tests.store.conftest import EXAMPLE, row_counts

SATB2 = (  # SATB2-associated syndrome (OMIM:612313), three unrelated patients
    "PMID_31021519_259030_from_Bengani_et_al",
    "PMID_31021519_259950_from_Bengani_et_al",
    "PMID_31021519_25_from_Gilissen_et_al",
)
TBX5 = ("PMID_10077612_Family_A_III_10", "PMID_10077612_Family_A_III_12")  # Holt-Oram, one family


@pytest.fixture(scope="module")
def dev_cases(shared_dir: Path) -> dict[str, Case]:
    wanted = set(SATB2 + TBX5)
    found = {
        r.case.id: r.case
        for r in read_cases([shared_dir / "bench" / "phenopackets-dev.jsonl.gz"])
        if r.case is not None and r.case.id in wanted
    }
    assert set(found) == wanted
    return found


@pytest.fixture(scope="module")
def alps() -> Case:
    [result] = list(read_cases([EXAMPLE]))
    assert result.case is not None
    return result.case


def test_same_syndrome_ranks_above_unrelated(
    store: Store, dev_cases: dict[str, Case], alps: Case, real_kb: KnowledgeBase
) -> None:
    for case_id in (*SATB2, *TBX5):
        store.add_case(dev_cases[case_id], centre="C1", user="alice")
    store.add_case(alps, centre="C1", user="alice")
    # one Holt-Oram case has a stored analysis, the other's genes are computed on the fly
    store.record_analysis(TBX5[1], diagnose(dev_cases[TBX5[1]], kb=real_kb), user="alice")

    found = similar_cases(store, real_kb, SATB2[0], user="alice")
    score = {m.case_id: m.score for m in found}
    assert [m.score for m in found] == sorted(score.values(), reverse=True)
    assert {m.case_id for m in found[:2]} == set(SATB2[1:])
    assert {m.case_id for m in found} == {*SATB2[1:], *TBX5, alps.id}
    for m in found:
        assert 0.0 <= m.phenotype_similarity <= 1.0
        assert 0.0 <= m.gene_similarity <= 1.0
        assert m.score == pytest.approx(
            PHENOTYPE_WEIGHT * m.phenotype_similarity + GENE_WEIGHT * m.gene_similarity
        )
        assert (m.centre, m.status) == ("C1", "unsolved")
    assert min(score[i] for i in SATB2[1:]) > max(score[i] for i in TBX5)

    holt_oram = similar_cases(store, real_kb, TBX5[0], user="bob", limit=2)
    assert len(holt_oram) == 2
    best = holt_oram[0]
    assert best.case_id == TBX5[1]
    assert best.shared_genes[0] == "TBX5"  # both rankings point to TBX5
    assert best.gene_similarity > 0.1
    assert best.score > holt_oram[1].score


def test_only_visible_centres_and_other_patients(
    store: Store, alps: Case, real_kb: KnowledgeBase
) -> None:
    store.add_case(alps, centre="C1", user="alice")
    store.add_case(dataclasses.replace(alps, id="same-patient"), centre="C1", user="alice")
    store.add_case(
        dataclasses.replace(alps, id="other-patient"), centre="C1", user="alice", patient="P2"
    )
    store.add_case(
        dataclasses.replace(alps, id="elsewhere"), centre="C2", user="dora", patient="P3"
    )
    [found] = similar_cases(store, real_kb, alps.id, user="alice")
    assert found.case_id == "other-patient"
    assert found.phenotype_similarity == pytest.approx(1.0)
    assert found.gene_similarity == pytest.approx(1.0)
    assert found.score == pytest.approx(1.0)
    assert found.shared_genes[:3] == ("CASP10", "FAS", "FASLG")


def test_bad_input_is_refused_and_writes_nothing(
    store: Store, alps: Case, real_kb: KnowledgeBase
) -> None:
    store.add_case(alps, centre="C1", user="alice")
    store.add_case(
        dataclasses.replace(alps, id="elsewhere"), centre="C2", user="dora", patient="P3"
    )
    before = row_counts(store)
    with pytest.raises(InputError, match="no case 'nope' in the store"):
        similar_cases(store, real_kb, "nope", user="alice")
    with pytest.raises(InputError, match="no case 'elsewhere' in the store"):
        similar_cases(store, real_kb, "elsewhere", user="alice")
    with pytest.raises(InputError, match="unknown user 'mallory'"):
        similar_cases(store, real_kb, alps.id, user="mallory")
    for limit in (0, -1, True):
        with pytest.raises(InputError, match="limit"):
            similar_cases(store, real_kb, alps.id, user="alice", limit=limit)
    assert row_counts(store) == before
    assert similar_cases(store, real_kb, alps.id, user="alice") == ()


def test_phenotype_similarity_measure(real_kb: KnowledgeBase) -> None:
    alps_terms = ["HP:0001744", "HP:0002716", "HP:0001873"]  # splenomegaly, lymphadenopathy...
    assert phenotype_similarity(real_kb, alps_terms, alps_terms) == pytest.approx(1.0)
    close = phenotype_similarity(real_kb, alps_terms, ["HP:0001744", "HP:0001973"])
    far = phenotype_similarity(
        real_kb, alps_terms, ["HP:0001250", "HP:0000518"]
    )  # seizure, cataract
    assert 0.0 <= far < close < 1.0
    assert close == pytest.approx(
        phenotype_similarity(real_kb, ["HP:0001744", "HP:0001973"], alps_terms)
    )
    # non-phenotype and unknown terms are ignored; nothing left means no similarity
    assert phenotype_similarity(real_kb, ["HP:0000006", "HP:9999999"], alps_terms) == 0.0


def test_gene_similarity_measure() -> None:
    assert gene_similarity({"A": 0.5, "B": 0.1}, {"A": 0.5, "B": 0.1}) == (
        pytest.approx(1.0),
        ("A", "B"),
    )
    value, shared = gene_similarity({"A": 0.6, "B": 0.2}, {"B": 0.4, "C": 0.4})
    assert value == pytest.approx(0.2 / (0.6 + 0.4 + 0.4))
    assert shared == ("B",)
    assert gene_similarity({}, {"A": 1.0}) == (0.0, ())
