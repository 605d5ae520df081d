"""Logic of the phenotype model on the hand-drawn KB (see conftest.py for its drawing)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import orjson
import pytest

from raredx.diagnosis import diagnose, parse_age, parse_sex
from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.rank import (
    CaseScores,
    MatchKind,
    PatientQuery,
    PhenotypeModel,
    RankParameters,
    phenotype_model,
    resnik_scores,
)

CATARACT, EYE, VISUAL = "HP:0000518", "HP:0000478", "HP:0000505"
SEIZURE, GTCS, ID = "HP:0001250", "HP:0002069", "HP:0001249"
SPLENO, LYMPH, AITP, AIHA = "HP:0001744", "HP:0002716", "HP:0001973", "HP:0001890"
ALPS_TERMS = [SPLENO, LYMPH, AITP, AIHA]


def _model(kb: KnowledgeBase) -> PhenotypeModel:
    return phenotype_model(kb)


def _group(kb: KnowledgeBase, disease: str) -> int:
    return int(_model(kb).disease_group[kb.disease_index[disease]])


def _score(
    kb: KnowledgeBase, observed: list[str], excluded: tuple[str, ...] | list[str] = (), **kw: Any
) -> CaseScores:
    query = PatientQuery(
        observed=tuple(kb.term_index[t] for t in observed),
        excluded=tuple(kb.term_index[t] for t in excluded),
        **kw,
    )
    return _model(kb).score(query, RankParameters())


def _term_llr(kb: KnowledgeBase, scores: CaseScores, disease: str, row: int = 0) -> float:
    g = np.array([_group(kb, disease)])
    return float(scores.observed_llr.for_groups(g, _model(kb).n_groups)[row, 0])


def _rank(kb: KnowledgeBase, scores: CaseScores, disease: str) -> int:
    g = _group(kb, disease)
    return 1 + int((scores.total > scores.total[g]).sum())


def test_exact_beats_narrower_beats_unrelated(rank_kb: KnowledgeBase) -> None:
    s = _score(rank_kb, [CATARACT])
    exact = _term_llr(rank_kb, s, "OMIM:100005")  # annotated with cataract
    narrower = _term_llr(rank_kb, s, "OMIM:100007")  # annotated with "Abnormality of the eye"
    unrelated = _term_llr(rank_kb, s, "OMIM:100002")  # blood disease
    assert exact > narrower > unrelated
    assert unrelated < 0 < exact


def test_broader_patient_term_matches_the_annotations_below_it(rank_kb: KnowledgeBase) -> None:
    s = _score(rank_kb, [EYE])
    eye = _term_llr(rank_kb, s, "OMIM:100005")
    blood = _term_llr(rank_kb, s, "OMIM:100002")
    assert eye > 0 > blood


def test_explanation_kinds(rank_kb: KnowledgeBase) -> None:
    result = diagnose([CATARACT], kb=rank_kb, top=30)
    by_id = {d.disease_id: d for d in result.diseases}
    assert by_id["OMIM:100005"].evidence[0].kind is MatchKind.EXACT
    assert by_id["OMIM:100005"].evidence[0].annotation_id == CATARACT
    assert by_id["OMIM:100007"].evidence[0].kind is MatchKind.NARROWER
    assert by_id["OMIM:100007"].evidence[0].annotation_id == EYE
    assert by_id["OMIM:100010"].evidence[0].kind is MatchKind.NEGATED
    assert by_id["OMIM:100002"].evidence[0].kind is MatchKind.UNRELATED
    broad = diagnose([EYE], kb=rank_kb, top=30)
    first = {d.disease_id: d.evidence[0] for d in broad.diseases}["OMIM:100005"]
    assert first.kind is MatchKind.BROADER
    assert first.annotation_id == CATARACT  # the most frequent annotation below the term


def test_excluded_term_penalises_the_disease_that_usually_shows_it(
    rank_kb: KnowledgeBase,
) -> None:
    # Epilepsy A shows intellectual disability always; pure epilepsy never. Same seizures.
    without = _score(rank_kb, [SEIZURE])
    with_ = _score(rank_kb, [SEIZURE], [ID])
    a, pure = _group(rank_kb, "OMIM:100003"), _group(rank_kb, "OMIM:100009")
    gap_before = without.total[pure] - without.total[a]
    gap_after = with_.total[pure] - with_.total[a]
    assert gap_after > gap_before + 0.1
    assert _rank(rank_kb, with_, "OMIM:100009") < _rank(rank_kb, with_, "OMIM:100003")
    model = _model(rank_kb)
    exc = with_.excluded_llr.for_groups(np.array([a, pure]), model.n_groups)
    assert exc[0, 0] < exc[0, 1]


def test_not_annotation_blocks_a_match(rank_kb: KnowledgeBase) -> None:
    s = _score(rank_kb, [CATARACT])
    assert _term_llr(rank_kb, s, "OMIM:100010") < _term_llr(rank_kb, s, "OMIM:100007")
    # A zero frequency (0/12) is a NOT: seizures count against the seizure-free disease.
    s = _score(rank_kb, [SEIZURE, ID])
    assert _rank(rank_kb, s, "OMIM:100008") > _rank(rank_kb, s, "OMIM:100004")


def test_one_unrelated_finding_does_not_sink_the_right_disease(rank_kb: KnowledgeBase) -> None:
    clean = _score(rank_kb, ALPS_TERMS)
    stray = _score(rank_kb, [*ALPS_TERMS, CATARACT])
    assert _rank(rank_kb, clean, "OMIM:100001") == 1
    assert _rank(rank_kb, stray, "OMIM:100001") == 1
    g = _group(rank_kb, "OMIM:100001")
    assert stray.posterior[g] > 0.5 * clean.posterior[g]


def test_posteriors_sum_to_one_and_order_follows_scores(rank_kb: KnowledgeBase) -> None:
    s = _score(rank_kb, ALPS_TERMS, [SEIZURE], sex="male", age_years=4.0)
    assert math.isclose(float(s.posterior.sum()), 1.0, rel_tol=1e-9)
    result = diagnose(ALPS_TERMS, excluded=[SEIZURE], kb=rank_kb, top=1000, top_genes=1000)
    assert math.isclose(sum(d.posterior for d in result.diseases), 1.0, rel_tol=1e-9)
    posts = [d.posterior for d in result.diseases]
    assert posts == sorted(posts, reverse=True)
    assert [d.rank for d in result.diseases] == list(range(1, len(posts) + 1))


def test_equivalent_entries_rank_once(rank_kb: KnowledgeBase) -> None:
    result = diagnose(ALPS_TERMS, kb=rank_kb, top=1000)
    holding = [d for d in result.diseases if "ORPHA:9001" in d.ids]
    assert len(holding) == 1
    top = result.diseases[0]
    assert top.disease_id == "OMIM:100001"  # OMIM first
    assert set(top.ids) >= {"OMIM:100001", "ORPHA:9001", "MONDO:0000001"}
    assert top.genes == ("GENEA",)
    # The group's profile takes each term's highest frequency over its entries: splenomegaly
    # from OMIM (very frequent > frequent), lymphadenopathy from Orphanet (very frequent,
    # 0.895, > 9/10 shrunk toward the KB's prior).
    evidence = {e.term_id: e for e in top.evidence}
    assert evidence[SPLENO].kind is MatchKind.EXACT
    assert evidence[SPLENO].source == "OMIM:100001"
    assert evidence[LYMPH].source == "ORPHA:9001"
    assert evidence[LYMPH].frequency == pytest.approx(0.895)


def test_genes_rank_by_the_posterior_of_their_diseases(rank_kb: KnowledgeBase) -> None:
    result = diagnose([SEIZURE], kb=rank_kb, top=1000, top_genes=1000)
    genes = {g.symbol: g for g in result.genes}
    post = {d.disease_id: d.posterior for d in result.diseases}
    # GENEC causes epilepsy A and pure epilepsy: its score is the sum of both.
    assert math.isclose(genes["GENEC"].score, post["OMIM:100003"] + post["OMIM:100009"])
    assert result.genes[0].symbol == "GENEC"


def test_sex_and_x_linked_inheritance(rank_kb: KnowledgeBase) -> None:
    male = _score(rank_kb, [SEIZURE, ID], sex="male")
    female = _score(rank_kb, [SEIZURE, ID], sex="female")
    xl, a = _group(rank_kb, "OMIM:100004"), _group(rank_kb, "OMIM:100003")
    assert male.sex_llr[xl] > 0 > female.sex_llr[xl]
    assert male.sex_llr[a] == female.sex_llr[a] == 0.0


def test_onset_and_age(rank_kb: KnowledgeBase) -> None:
    cong, adult = _group(rank_kb, "OMIM:100005"), _group(rank_kb, "OMIM:100006")
    s = _score(rank_kb, [CATARACT], onset_term="HP:0003577")
    assert s.total[cong] > s.total[adult]
    s = _score(rank_kb, [CATARACT], age_years=2.0)  # onset must be before 2 years
    assert s.onset_llr[cong] > s.onset_llr[adult]
    s = _score(rank_kb, [CATARACT], onset_years=30.0)
    assert s.total[adult] > s.total[cong]
    s = _score(rank_kb, [CATARACT])
    assert s.total[cong] == pytest.approx(s.total[adult])


def test_redundant_terms_count_once(rank_kb: KnowledgeBase) -> None:
    both = _score(rank_kb, [SEIZURE, GTCS])
    specific = _score(rank_kb, [GTCS])
    assert both.observed == specific.observed
    np.testing.assert_allclose(both.total, specific.total)
    result = diagnose([SEIZURE, GTCS], kb=rank_kb)
    assert any(line.startswith(SEIZURE) and "implied" in line for line in result.ignored)


def test_next_findings_separate_the_top_candidates(rank_kb: KnowledgeBase) -> None:
    result = diagnose([SEIZURE], kb=rank_kb, next_findings=3)
    assert result.next_findings
    recorded = {SEIZURE, GTCS, "HP:0000707", "HP:0000118", "HP:0000001"}
    for f in result.next_findings:
        assert f.term_id not in recorded
        assert f.information_gain > 0
        assert 0 < f.probability < 1
    gains = [f.information_gain for f in result.next_findings]
    assert gains == sorted(gains, reverse=True)
    best = result.next_findings[0]
    assert best.term_id == ID  # shown by some seizure diseases, not by others
    assert "OMIM:100009" in best.if_absent


def test_result_is_json_ready_and_carries_provenance(rank_kb: KnowledgeBase) -> None:
    result = diagnose(ALPS_TERMS, excluded=[SEIZURE], age="4y", sex="F", kb=rank_kb)
    data = orjson.loads(orjson.dumps(result.to_dict()))
    assert data["kb_version"] == "rank-toy"
    assert data["parameters"]["noise"] == RankParameters().noise
    assert data["kb_estimates"]["unstated_frequency"] > 0
    assert data["diseases"][0]["evidence"][0]["kind"] in {k.value for k in MatchKind}
    assert "never replaces" in data["notice"]


def test_baseline_prefers_exact_annotations(rank_kb: KnowledgeBase) -> None:
    model = _model(rank_kb)
    scores = resnik_scores(model, [rank_kb.term_index[CATARACT]])
    g = _group(rank_kb, "OMIM:100005")
    assert scores[g] == scores.max() > scores[_group(rank_kb, "OMIM:100002")]


@pytest.mark.parametrize(
    ("observed", "excluded", "message"),
    [
        ([], [SEIZURE], "empty phenotype"),
        (["HP:0003577"], [], "empty phenotype"),
        (["HP:0099999"], [], "unknown"),
        ([SEIZURE], [SEIZURE], "contradictory"),
        ([GTCS], [SEIZURE], "contradictory"),
    ],
)
def test_bad_phenotypes_raise_input_error(
    rank_kb: KnowledgeBase, observed: list[str], excluded: list[str], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        diagnose(observed, excluded=excluded, kb=rank_kb)


def test_onset_term_given_as_a_feature_is_used(rank_kb: KnowledgeBase) -> None:
    result = diagnose([CATARACT, "HP:0003577"], kb=rank_kb)
    assert result.diseases[0].disease_id == "OMIM:100005"
    assert any("not a phenotypic abnormality" in line for line in result.ignored)


@pytest.mark.parametrize(
    ("text", "years"),
    [
        (4, 4.0),
        ("4", 4.0),
        ("4y", 4.0),
        ("18m", 1.5),
        ("3y 6m", 3.5),
        ("P3Y6M", 3.5),
        ("10d", 10 / 365.25),
        ("2 years", 2.0),
        ("6w", 6 * 7 / 365.25),
        (None, None),
    ],
)
def test_parse_age(text: str | int | None, years: float | None) -> None:
    got = parse_age(text)
    assert got == pytest.approx(years) if years is not None else got is None


@pytest.mark.parametrize("text", ["-1", "abc", "4y foo", "200", "P", True])
def test_parse_age_rejects(text: str) -> None:
    with pytest.raises(InputError):
        parse_age(text)


def test_parse_sex() -> None:
    assert parse_sex("M") == "male"
    assert parse_sex("female") == "female"
    assert parse_sex("unknown") is None
    with pytest.raises(InputError):
        parse_sex("X")


def test_parameters_are_validated() -> None:
    with pytest.raises(ValueError, match="noise"):
        RankParameters(noise=1.0)
    with pytest.raises(ValueError, match="temperature"):
        RankParameters(temperature=0)
    with pytest.raises(ValueError, match="unknown"):
        RankParameters().replace(bogus=1)
    assert RankParameters().replace(noise=0.3).noise == 0.3


def test_cached_term_evidence_matches_a_cold_computation(rank_kb: KnowledgeBase) -> None:
    model = _model(rank_kb)
    model.clear_cache()
    cold = _score(rank_kb, ALPS_TERMS, [SEIZURE, CATARACT])
    _score(rank_kb, [SPLENO], [CATARACT])  # caches some of the terms, in another order
    warm = _score(rank_kb, ALPS_TERMS, [SEIZURE, CATARACT])
    np.testing.assert_allclose(warm.total, cold.total, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(warm.posterior, cold.posterior, rtol=1e-6, atol=1e-12)
