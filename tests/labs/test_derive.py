"""Lab results to HPO terms on the real KB: realistic pediatric cases and the age-band rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.labs import IntervalOrigin, LabPhenotype, Outcome, labs_to_hpo, parse_labs, read_labs

pytestmark = pytest.mark.slow

ANEMIA = "HP:0020062"  # Decreased hemoglobin concentration
HB_ABNORMAL = "HP:0020061"  # Abnormal hemoglobin concentration


def _labs(kb: KnowledgeBase, text: str, age: float | None, sex: str | None = None) -> LabPhenotype:
    return labs_to_hpo(parse_labs(text), kb, age, sex)


def _one(kb: KnowledgeBase, row: str, age: float | None, sex: str | None = None) -> LabPhenotype:
    return _labs(kb, "test,value,unit\n" + row + "\n", age, sex)


def test_aiha_in_a_three_year_old(real_kb: KnowledgeBase, lab_data: Path) -> None:
    p = labs_to_hpo(read_labs(lab_data / "aiha-3y.csv"), real_kb, 3.0, "F")
    assert set(p.observed_ids) == {
        ANEMIA,
        "HP:0001923",  # Reticulocytosis
        "HP:0025435",  # Increased circulating lactate dehydrogenase concentration
        real_kb.lookup_term("HP:0020181").term_id,  # Reduced haptoglobin level
        "HP:0032366",  # Positive direct antiglobulin test
        "HP:0003573",  # Increased total bilirubin
    }
    hb = next(e for e in p.evidence if e.loinc == "718-7")
    assert (hb.value, hb.unit, hb.interval, hb.origin) == (
        "68",
        "g/L",
        "99-134 g/L; WHO 2011 anaemia cut-off: L if <110 g/L",
        IntervalOrigin.SHIPPED,
    )
    caliper, who = hb.source.split(" | ")
    assert caliper.startswith("Tahmasebi H") and "WHO/NMH/NHD/MNM/11.1" in who
    assert hb.note == "meets the WHO 2011 anaemia cut-off (L if <110 g/L)"
    by_origin = {e.loinc: e.origin for e in p.evidence}
    assert by_origin["2532-0"] is IntervalOrigin.FLAG
    assert by_origin["60474-4"] is IntervalOrigin.RANGE
    assert by_origin["1007-4"] is IntervalOrigin.RESULT
    # platelets 250 x10^9/L at 3 years: within CALIPER 212-480, so thrombocytopenia is excluded
    assert not p.set_aside
    plt = next(e for e in p.evidence if e.loinc == "777-3")
    assert (plt.outcome, plt.hpo_id, plt.excluded) == (Outcome.NORMAL, "HP:0011873", True)
    assert "HP:0011873" in p.excluded_ids


def test_scid_like_infant_from_fhir(real_kb: KnowledgeBase, lab_data: Path) -> None:
    p = labs_to_hpo(read_labs(lab_data / "scid-infant.fhir.json"), real_kb, 0.19, "M")
    assert "HP:0001888" in p.observed_ids  # Lymphopenia (interpretation L)
    cd3 = next(e for e in p.evidence if e.loinc == "8122-4")
    assert (cd3.outcome, cd3.interval) == (Outcome.LOW, "2500-5500 /uL")  # Shearer 0-3 months
    assert "Shearer WT" in cd3.source
    cd4 = next(e for e in p.evidence if e.loinc == "24467-3")
    assert (cd4.value, cd4.unit, cd4.outcome) == ("50", "/uL", Outcome.LOW)  # 0.05 x10^9/L
    assert "HP:0004315" in p.observed_ids  # Decreased circulating IgG concentration
    # Hb 109 g/L at 10 weeks: above the only shipped limit (HLH-2004 <90 g/L), no conclusion
    (hb,) = [s for s in p.set_aside if s.loinc == "718-7"]
    assert "rules nothing out" in hb.reason


def test_alps_like_french_panel(real_kb: KnowledgeBase, lab_data: Path) -> None:
    p = labs_to_hpo(read_labs(lab_data / "alps-8y.tsv"), real_kb, 8.0, "M")
    assert {"HP:0100827", "HP:0001873", "HP:0001875", "HP:0003237"} <= set(p.observed_ids)
    # Hb 112 g/L at 8 years is below WHO's 115 g/L
    assert ANEMIA in p.observed_ids
    reasons = {s.loinc: s.reason for s in p.set_aside}
    assert "2276-4" in reasons  # ferritin within its thresholds: no conclusion
    # triglycerides 1.1 mmol/L: within CALIPER 1-<19 y 0.50-2.23 mmol/L (Colantonio 2012)
    tg = next(e for e in p.evidence if e.loinc == "2571-8")
    assert (tg.outcome, tg.origin) == (Outcome.NORMAL, IntervalOrigin.SHIPPED)


@pytest.mark.parametrize(
    ("age", "hb", "expected", "only_low"),
    [
        (0.01, "95", Outcome.LOW, False),  # neonate: HLH-2004 <100 g/L
        (0.01, "105", None, False),  # neonate: above the threshold, no conclusion
        (0.0767, "95", None, False),  # 28 days: the <90 g/L band starts
        (0.3, "85", Outcome.LOW, False),
        (0.5, "105", Outcome.LOW, False),  # WHO 6-59 months: <110
        (0.99, "112", Outcome.NORMAL, True),  # WHO only: anaemia excluded, high side unknown
        (1.0, "105", Outcome.LOW, False),  # CALIPER 99-134 g/L, but WHO <110 g/L is met
        (3.99, "112", Outcome.NORMAL, False),  # CALIPER 1-<4 y 99-134 g/L: fully normal
        (4.0, "112", Outcome.LOW, False),  # CALIPER 4-<14 y 114-141 g/L
        (4.0, "142", Outcome.HIGH, False),
        (11.99, "118", Outcome.NORMAL, False),
        (12.0, "118", Outcome.LOW, False),  # within CALIPER, below WHO 12-14 years <120
        (14.0, "110", Outcome.LOW, False),
        (16.0, "110", Outcome.LOW, False),  # teenager: far below any limit
    ],
)
def test_hemoglobin_age_bands(
    real_kb: KnowledgeBase, age: float, hb: str, expected: Outcome | None, only_low: bool
) -> None:
    p = _one(real_kb, f"Hb,{hb},g/L", age, "F")
    if expected is None:
        assert not p.evidence and "rules nothing out" in p.set_aside[0].reason
        return
    (e,) = p.evidence
    assert e.outcome is expected
    if expected is Outcome.NORMAL and only_low:
        assert (e.hpo_id, e.excluded) == (ANEMIA, True)
        assert e.note == "only the lower limit is known"  # high Hb is not ruled out
    elif expected is Outcome.NORMAL:
        assert (e.hpo_id, e.excluded, e.note) == (HB_ABNORMAL, True, "")
    elif expected is Outcome.HIGH:
        increased = real_kb.lookup_term("HP:0020063")  # Increased hemoglobin concentration
        assert increased is not None and (e.hpo_id, e.excluded) == (increased.term_id, False)
    else:
        assert (e.hpo_id, e.excluded) == (ANEMIA, False)


def test_a_neonates_hemoglobin_is_not_a_teenagers(real_kb: KnowledgeBase) -> None:
    neonate = _one(real_kb, "Hb,11.0,g/dL", 0.02, "F")
    teenager = _one(real_kb, "Hb,11.0,g/dL", 15.0, "F")
    assert not neonate.observed_ids
    assert teenager.observed_ids == (ANEMIA,)


def test_sex_is_needed_only_where_the_interval_depends_on_it(real_kb: KnowledgeBase) -> None:
    # CALIPER 14-<21 years: F 113-149, M 129-165 g/L (WHO: F >=120, M >=130)
    assert _one(real_kb, "Hb,125,g/L", 16.0, "F").excluded_ids == (HB_ABNORMAL,)
    assert _one(real_kb, "Hb,125,g/L", 16.0, "M").observed_ids == (ANEMIA,)
    with pytest.raises(InputError, match="--sex"):
        _one(real_kb, "Hb,125,g/L", 16.0)
    assert _one(real_kb, "Hb,125,g/L", 10.0).excluded_ids == (HB_ABNORMAL,)


def test_age_is_needed_only_where_the_interval_depends_on_it(real_kb: KnowledgeBase) -> None:
    with pytest.raises(InputError, match="--age"):
        _one(real_kb, "Hb,125,g/L", None)
    assert _one(real_kb, "Fibrinogen,1.0,g/L", None).observed_ids == ("HP:0011900",)
    # platelets have age-banded CALIPER intervals: the HLH-2004 threshold alone does not
    # stand in for them when the age is unknown
    with pytest.raises(InputError, match="--age"):
        _one(real_kb, "Platelets,35,G/L", None)


def test_file_range_and_flag_win_over_shipped_limits(real_kb: KnowledgeBase) -> None:
    ranged = _labs(real_kb, "test,value,unit,range\nHb,105,g/L,100-140\n", 3.0)
    (e,) = ranged.evidence
    assert (e.origin, e.outcome, e.hpo_id, e.excluded) == (
        IntervalOrigin.RANGE, Outcome.NORMAL, HB_ABNORMAL, True,
    )  # fmt: skip
    flagged = _labs(real_kb, "test,value,unit,flag\nHb,130,g/L,L\n", 3.0)
    assert flagged.evidence[0].origin is IntervalOrigin.FLAG
    assert flagged.observed_ids == (ANEMIA,)


def test_normal_and_negative_results_give_excluded_terms(real_kb: KnowledgeBase) -> None:
    p = _labs(
        real_kb,
        "test,value,unit,range\nPlatelets,250,G/L,150-450\nDAT,negative,,\nCD3,3000,/uL,\n",
        1.5,
    )
    assert set(p.excluded_ids) == {"HP:0011873", "HP:0032366", "HP:0005403"}
    assert not p.observed_ids


def test_too_general_exclusions_are_refused(real_kb: KnowledgeBase) -> None:
    # LOINC2HPO maps a normal direct bilirubin to NOT "Abnormality of metabolism/homeostasis"
    p = _labs(real_kb, "test,value,unit,range\ndirect bilirubin,0.1,mg/dL,0-0.3\n", 5.0)
    assert not p.excluded_ids
    assert "too general" in p.set_aside[0].reason


def test_a_normal_value_does_not_exclude_what_another_value_showed(real_kb: KnowledgeBase) -> None:
    p = _labs(real_kb, "test,value,unit,range\nHb,80,g/L,110-140\nHb,120,g/L,110-140\n", 3.0)
    assert p.observed_ids == (ANEMIA,)
    assert p.excluded_ids == ()  # HB_ABNORMAL is an ancestor of an observed term
    assert len(p.evidence) == 2


def test_bounded_values_are_judged_only_when_the_bound_decides(real_kb: KnowledgeBase) -> None:
    text = (
        "test,value,unit,range\nHaptoglobin,<0.1,g/L,0.3-2\nHaptoglobin,<1.0,g/L,0.3-2\n"
        "Haptoglobin,<1.0,g/L,>0.3\n"
    )
    p = _labs(real_kb, text, 3.0)
    low, not_high = p.evidence
    assert (low.outcome, low.excluded) == (Outcome.LOW, False)
    assert (not_high.hpo_label, not_high.excluded) == ("Elevated haptoglobin level", True)
    assert "cannot be placed" in p.set_aside[0].reason


def test_thresholds_convert_units(real_kb: KnowledgeBase) -> None:
    p = _labs(
        real_kb, "test,value,unit\nTG,300,mg/dL\nFibrinogen,140,mg/dL\nFerritine,600,ng/mL\n", 3.0
    )
    assert {"HP:0002155", "HP:0011900", "HP:0003281"} <= set(p.observed_ids)
    tg = next(e for e in p.evidence if e.loinc == "2571-8")
    # CALIPER 1-<19 y interval (Colantonio 2012) beside the HLH-2004 threshold
    hlh = "HLH-2004 criterion: H if >=3 mmol/L"
    assert (tg.value, tg.unit, tg.interval) == ("3.387", "mmol/L", f"0.5-2.23 mmol/L; {hlh}")


def test_missing_intervals_are_one_error_naming_every_row(real_kb: KnowledgeBase) -> None:
    text = "test,value,unit\nCRP,45,mg/L\naPTT,30,s\nHb,120,g/L\nSodium-like,1,g/L\n"
    with pytest.raises(InputError) as info:
        _labs(real_kb, text.replace("Sodium-like,1,g/L\n", ""), 3.0)
    problems = info.value.problems
    assert len(problems) == 2
    assert problems[0].startswith("row 2 (CRP 45 mg/L): raredx ships no reference interval")
    assert "give the reference range or an H/L/N flag" in problems[1]


def test_tests_without_loinc2hpo_annotation_are_set_aside(real_kb: KnowledgeBase) -> None:
    p = _labs(real_kb, "loinc,value,unit,range\n29463-7,14,kg,10-20\n", 3.0)
    assert p.set_aside[0].reason == "LOINC2HPO has no annotation for this test"


def test_bad_age_and_sex(real_kb: KnowledgeBase) -> None:
    results = parse_labs("test,value,unit\nPlatelets,35,G/L\n")
    with pytest.raises(InputError, match="invalid sex"):
        labs_to_hpo(results, real_kb, 3.0, "Q")
    with pytest.raises(InputError, match="invalid age"):
        labs_to_hpo(results, real_kb, -1.0, "F")
