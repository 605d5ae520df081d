"""Shipped CALIPER blood-count intervals (Tahmasebi 2020, DxH 900), as tabulated in
T-Damer/MiniMed. Bands "a-<b" years read as [a, b); first-year bands were not shipped."""

from __future__ import annotations

import pytest

from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.labs import IntervalOrigin, LabPhenotype, Outcome, labs_to_hpo, parse_labs
from raredx.labs.catalog import reference_limits

CITATION = (
    "Tahmasebi H, Higgins V, Bohn MK, Hall A, Adeli K. CALIPER Hematology Reference "
    "Standards (I): Improving Laboratory Test Interpretation in Children. Am J Clin Pathol. "
    "2020;154(3):330-341. doi:10.1093/ajcp/aqaa059"
)
HLH_PLT = "HLH-2004 criterion: L if <100 10^9/L"
# (loinc, sex, age_min, age_max, low, high, unit) exactly as read
EXPECTED = {
    ("718-7", None, 1, 4, 99, 134, "g/L"),
    ("718-7", None, 4, 14, 114, 141, "g/L"),
    ("718-7", "M", 14, 21, 129, 165, "g/L"),
    ("718-7", "F", 14, 21, 113, 149, "g/L"),
    ("789-8", "M", 1, 14, 4.10, 5.08, "10^12/L"),
    ("789-8", "F", 1, 14, 3.94, 4.97, "10^12/L"),
    ("789-8", "M", 14, 21, 4.26, 5.60, "10^12/L"),
    ("789-8", "F", 14, 21, 3.95, 5.13, "10^12/L"),
    ("6690-2", None, 3, 5, 4.8, 11.5, "10^9/L"),
    ("6690-2", None, 5, 21, 4.2, 10.2, "10^9/L"),
    ("777-3", None, 1, 12, 212, 480, "10^9/L"),
    ("777-3", None, 12, 21, 170, 380, "10^9/L"),
    ("4544-3", None, 1, 4, 0.304, 0.398, "L/L"),
    ("4544-3", None, 4, 14, 0.335, 0.418, "L/L"),
    ("4544-3", "M", 14, 21, 0.388, 0.482, "L/L"),
    ("4544-3", "F", 14, 21, 0.344, 0.437, "L/L"),
    ("787-2", None, 1, 4, 72.8, 85.2, "fL"),
    ("787-2", None, 4, 14, 77.4, 89.9, "fL"),
    ("787-2", None, 14, 21, 77.6, 95.7, "fL"),
    ("785-6", None, 1, 3, 22.7, 29, "pg"),
    ("785-6", None, 3, 6, 25.2, 29.3, "pg"),
    ("785-6", None, 6, 13, 25.4, 30.8, "pg"),
    ("785-6", None, 13, 21, 25.9, 32.4, "pg"),
    ("786-4", None, 0, 21, 323, 350, "g/L"),
    ("788-0", None, 2, 21, 12.2, 15.2, "%"),
    ("32623-1", None, 0, 7, 6.9, 9.7, "fL"),
    ("32623-1", None, 7, 21, 7.3, 10.7, "fL"),
    ("751-8", None, 1, 21, 1.5, 6.4, "10^9/L"),
    ("731-0", None, 1, 5, 1.8, 7.1, "10^9/L"),
    ("731-0", None, 5, 15, 1.4, 4.1, "10^9/L"),
    ("731-0", None, 15, 21, 1.1, 3.6, "10^9/L"),
    ("742-7", None, 2, 5, 0.3, 1.1, "10^9/L"),
    ("742-7", None, 5, 21, 0.3, 0.8, "10^9/L"),
    ("711-2", None, 1, 13, 0.1, 0.5, "10^9/L"),
    ("711-2", None, 13, 21, 0.1, 0.5, "10^9/L"),
    ("17849-1", None, 2, 21, 0.56, 1.85, "%"),
}


def _one(kb: KnowledgeBase, row: str, age: float | None, sex: str | None = None) -> LabPhenotype:
    return labs_to_hpo(parse_labs("test,value,unit\n" + row + "\n"), kb, age, sex)


def test_caliper_rows_are_the_tabulated_ones_and_cite_their_source() -> None:
    rows = [r for r in reference_limits() if r.source.startswith("Tahmasebi H")]
    got = {(r.loinc, r.sex, r.age_min, r.age_max, r.low, r.high, r.unit) for r in rows}
    assert got == EXPECTED
    for r in rows:
        assert r.source == CITATION
        assert (r.kind, r.rules_out, r.abnormal_at_limit) == ("interval", True, False)
        assert r.label == "CALIPER reference interval (DxH 900)"
        assert "as tabulated in T-Damer/MiniMed " in r.note and "@" in r.note
        assert "DxH 900" in r.note and "percentiles are not restated" in r.note


def test_no_caliper_band_starts_in_the_neonatal_period_for_fast_changing_counts() -> None:
    """First-year bands of Hb, Hct, MCV, MCH, neutrophils, platelets... were left out: one
    band from birth to 1 year would call a healthy neonate's values abnormal."""
    for loinc, _sex, age_min, *_ in EXPECTED:
        if loinc not in ("786-4", "32623-1"):
            assert age_min >= 1, loinc


@pytest.mark.slow
@pytest.mark.parametrize(
    ("row", "age", "sex", "outcome"),
    [
        ("MCV,76,fL", 3.99, None, Outcome.NORMAL),  # 1-<4 y 72.8-85.2
        ("MCV,76,fL", 4.0, None, Outcome.LOW),  # 4-<14 y 77.4-89.9
        ("MCH,25.0,pg", 2.99, None, Outcome.NORMAL),  # 1-<3 y 22.7-29
        ("MCH,25.0,pg", 3.0, None, Outcome.LOW),  # 3-<6 y 25.2-29.3
        ("Platelets,200,G/L", 11.99, None, Outcome.LOW),  # 1-<12 y 212-480
        ("Platelets,200,G/L", 12.0, None, Outcome.NORMAL),  # 12-<21 y 170-380
        ("Lymphocytes,1.6,G/L", 4.99, None, Outcome.LOW),  # 1-<5 y 1.8-7.1
        ("Lymphocytes,1.6,G/L", 5.0, None, Outcome.NORMAL),  # 5-<15 y 1.4-4.1
        ("WBC,11.0,G/L", 4.99, None, Outcome.NORMAL),  # 3-<5 y 4.8-11.5
        ("WBC,11.0,G/L", 5.0, None, Outcome.HIGH),  # 5-<21 y 4.2-10.2
        ("MPV,10.0,fL", 6.99, None, Outcome.HIGH),  # 0-<7 y 6.9-9.7
        ("MPV,10.0,fL", 7.0, None, Outcome.NORMAL),  # 7-<21 y 7.3-10.7
        ("Monocytes,1.0,G/L", 4.99, None, Outcome.NORMAL),  # 2-<5 y 0.3-1.1
        ("Monocytes,1.0,G/L", 5.0, None, Outcome.HIGH),  # 5-<21 y 0.3-0.8
        ("MCV,76,fL", 20.99, None, Outcome.LOW),  # 14-<21 y 77.6-95.7
        ("MCHC,322,g/L", 0.01, None, Outcome.LOW),  # birth-<21 y 323-350
        ("MCHC,323,g/L", 0.01, None, Outcome.NORMAL),  # equal to the limit is normal
    ],
)
def test_caliper_age_band_boundaries(
    real_kb: KnowledgeBase, row: str, age: float, sex: str | None, outcome: Outcome
) -> None:
    (e,) = _one(real_kb, row, age, sex).evidence
    assert (e.outcome, e.origin) == (outcome, IntervalOrigin.SHIPPED)
    assert e.source.startswith("Tahmasebi H")


@pytest.mark.slow
def test_caliper_intervals_end_at_21_years(real_kb: KnowledgeBase) -> None:
    with pytest.raises(InputError, match="no interval for this test at 21 years"):
        _one(real_kb, "MCV,80,fL", 21.0)
    # Hb at 21 years: the WHO cut-off alone again (anaemia excluded, high side unknown)
    (e,) = _one(real_kb, "Hb,125,g/L", 21.0, "F").evidence
    assert e.note == "only the lower limit is known" and "Tahmasebi" not in e.source


@pytest.mark.slow
@pytest.mark.parametrize(
    ("row", "age", "girl", "boy"),
    [
        ("RBC,4.0,T/L", 10.0, Outcome.NORMAL, Outcome.LOW),  # 1-<14 y F 3.94, M 4.10
        ("RBC,5.3,T/L", 16.0, Outcome.HIGH, Outcome.NORMAL),  # 14-<21 y F 5.13, M 5.60
        ("Hct,40,%", 16.0, Outcome.NORMAL, Outcome.NORMAL),  # F 0.344-0.437, M 0.388-0.482
        ("Hct,38,%", 16.0, Outcome.NORMAL, Outcome.LOW),
        ("Hb,155,g/L", 16.0, Outcome.HIGH, Outcome.NORMAL),  # F 113-149, M 129-165
    ],
)
def test_caliper_sex_differences(
    real_kb: KnowledgeBase, row: str, age: float, girl: Outcome, boy: Outcome
) -> None:
    assert _one(real_kb, row, age, "F").evidence[0].outcome is girl
    assert _one(real_kb, row, age, "M").evidence[0].outcome is boy
    with pytest.raises(InputError, match="--sex"):
        _one(real_kb, row, age)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("row", "value", "unit", "interval"),
    [
        ("Hct,36,%", "0.36", "L/L", "0.335-0.418 L/L"),
        ("Hct,0.36,L/L", "0.36", "L/L", "0.335-0.418 L/L"),
        ("MCHC,33,g/dL", "330", "g/L", "323-350 g/L"),
        ("Platelets,250000,/mm3", "250", "10^9/L", f"212-480 10^9/L; {HLH_PLT}"),
        ("Lymphocytes,1500,/uL", "1.5", "10^9/L", "1.4-4.1 10^9/L"),
        ("RBC,4.5,10^6/uL", "4.5", "10^12/L", "4.1-5.08 10^12/L"),
        ("Hb,12.0,g/dL", "120", "g/L", "114-141 g/L; WHO 2011 anaemia cut-off: L if <115 g/L"),
    ],
)  # fmt: skip
def test_caliper_units_convert(
    real_kb: KnowledgeBase, row: str, value: str, unit: str, interval: str
) -> None:
    (e,) = _one(real_kb, row, 8.0, "M").evidence
    assert (e.value, e.unit, e.interval, e.outcome) == (value, unit, interval, Outcome.NORMAL)


@pytest.mark.slow
def test_caliper_terms(real_kb: KnowledgeBase) -> None:
    assert _one(real_kb, "MCV,65,fL", 6.0).observed_ids == ("HP:0025066",)
    assert _one(real_kb, "Eosinophils,1.2,G/L", 6.0).observed_ids == ("HP:0001880",)
    assert _one(real_kb, "Lymphocytes,0.9,G/L", 6.0).observed_ids == ("HP:0001888",)
    assert _one(real_kb, "RDW,17,%", 6.0).observed_ids == ("HP:0031965",)
    retic = _one(real_kb, "Reticulocytes,3.0,%", 6.0)
    assert retic.observed_ids == ("HP:0001923",)  # Reticulocytosis
