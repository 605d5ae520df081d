"""Shipped CALIPER biochemistry intervals (Colantonio 2012), as tabulated in
SandraKla/Zlog_AdRI data/CALIPER.csv. Bands "a-<b" read as [a, b); 15 days is 0.0411 years,
9 weeks 0.1725 years. Bands starting at birth were not shipped (iron: shipped from 1 year)."""

from __future__ import annotations

import pytest

from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.labs import IntervalOrigin, LabPhenotype, Outcome, labs_to_hpo, parse_labs
from raredx.labs.catalog import reference_limits

CITATION = (
    "Colantonio DA, Kyriakopoulou L, Chan MK, et al. Closing the gaps in pediatric laboratory "
    "reference intervals: a CALIPER database of 40 biochemical markers in a healthy and "
    "multiethnic population of children. Clin Chem. 2012;58(5):854-868. "
    "doi:10.1373/clinchem.2011.177741"
)
WHERE = (
    "as tabulated in SandraKla/Zlog_AdRI data/CALIPER.csv@2e89a8a8a3d4d48363f28c2effe893cce0f29a79"
)
HLH_TG = "HLH-2004 criterion: H if >=3 mmol/L"
D15 = 0.0411  # 15 days
W9 = 0.1725  # 9 weeks
# (loinc, sex, age_min, age_max, low, high, unit) exactly as read
EXPECTED = {
    # total bilirubin, umol/L
    ("1975-2", None, D15, 1, 0.8, 11.7, "umol/L"),
    ("1975-2", None, 1, 9, 0.8, 6.8, "umol/L"),
    ("1975-2", None, 9, 12, 0.8, 9.4, "umol/L"),
    ("1975-2", None, 12, 15, 1.7, 11.9, "umol/L"),
    ("1975-2", None, 15, 19, 1.7, 14.4, "umol/L"),
    # direct bilirubin, umol/L
    ("1968-7", None, D15, 1, 0.8, 5.2, "umol/L"),
    ("1968-7", None, 1, 9, 0.8, 3.4, "umol/L"),
    ("1968-7", None, 9, 13, 0.8, 5.0, "umol/L"),
    ("1968-7", "F", 13, 19, 1.7, 6.7, "umol/L"),
    ("1968-7", "M", 13, 19, 1.9, 7.1, "umol/L"),
    # iron, umol/L (tabulated 0-<14 y: shipped from 1 year)
    ("2498-4", None, 1, 14, 2.8, 22.9, "umol/L"),
    ("2498-4", "F", 14, 19, 3.5, 29.0, "umol/L"),
    ("2498-4", "M", 14, 19, 5.5, 30.0, "umol/L"),
    # transferrin, g/L
    ("3034-6", None, W9, 1, 1.07, 3.24, "g/L"),
    ("3034-6", None, 1, 19, 2.20, 3.37, "g/L"),
    # LDH, U/L
    ("2532-0", None, D15, 1, 163, 452, "U/L"),
    ("2532-0", None, 1, 10, 192, 321, "U/L"),
    ("2532-0", "F", 10, 15, 157, 272, "U/L"),
    ("2532-0", "M", 10, 15, 170, 283, "U/L"),
    ("2532-0", None, 15, 19, 130, 250, "U/L"),
    # triglycerides, mmol/L
    ("2571-8", None, D15, 1, 0.60, 2.92, "mmol/L"),
    ("2571-8", None, 1, 19, 0.50, 2.23, "mmol/L"),
}


def _one(kb: KnowledgeBase, row: str, age: float | None, sex: str | None = None) -> LabPhenotype:
    return labs_to_hpo(parse_labs("test,value,unit\n" + row + "\n"), kb, age, sex)


def test_colantonio_rows_are_the_tabulated_ones_and_cite_their_source() -> None:
    rows = [r for r in reference_limits() if r.source.startswith("Colantonio DA")]
    got = {(r.loinc, r.sex, r.age_min, r.age_max, r.low, r.high, r.unit) for r in rows}
    assert got == EXPECTED
    assert len(rows) == len(EXPECTED) == 22
    for r in rows:
        assert r.source == CITATION
        assert (r.kind, r.rules_out, r.abnormal_at_limit) == ("interval", True, False)
        assert r.label == "CALIPER reference interval (Colantonio 2012)"
        assert WHERE in r.note and "Supplemental Table 2" in r.note
        assert "percentiles are not restated" in r.note


def test_no_colantonio_band_starts_at_birth() -> None:
    """The 0-14 day bands (bilirubin, LDH, triglycerides) and the 0-<9 week transferrin band
    were left out; iron's birth-<14 y band is shipped from 1 year only."""
    for _loinc, _sex, age_min, *_ in EXPECTED:
        assert age_min >= D15
    iron = [r for r in reference_limits() if r.loinc == "2498-4" and r.kind == "interval"]
    assert min(r.age_min for r in iron) == 1
    assert any("birth to <14 years" in r.note for r in iron)


def test_haptoglobin_and_hs_crp_were_not_shipped() -> None:
    """Haptoglobin's tabulated lower limit (0.07 g/L) looks like the assay's reporting limit
    and would exclude low haptoglobin in haemolysis; the CRP rows are high-sensitivity."""
    assert not [r for r in reference_limits() if r.loinc in ("4542-7", "1988-5")]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("row", "age", "sex", "outcome"),
    [
        ("Bilirubin,7.0,umol/L", 8.99, None, Outcome.HIGH),  # 1-<9 y 0.8-6.8
        ("Bilirubin,7.0,umol/L", 9.0, None, Outcome.NORMAL),  # 9-<12 y 0.8-9.4
        ("Bilirubin,10,umol/L", 11.99, None, Outcome.HIGH),
        ("Bilirubin,10,umol/L", 12.0, None, Outcome.NORMAL),  # 12-<15 y 1.7-11.9
        ("Bilirubin,12,umol/L", 14.99, None, Outcome.HIGH),
        ("Bilirubin,12,umol/L", 15.0, None, Outcome.NORMAL),  # 15-<19 y 1.7-14.4
        ("Bilirubin,11.7,umol/L", D15, None, Outcome.NORMAL),  # equal to the limit is normal
        ("Bilirubin,11.8,umol/L", 0.99, None, Outcome.HIGH),  # 15 d-<1 y 0.8-11.7
        ("Direct bilirubin,5.3,umol/L", 0.5, None, Outcome.HIGH),  # 15 d-<1 y 0.8-5.2
        ("Direct bilirubin,4.0,umol/L", 8.99, None, Outcome.HIGH),  # 1-<9 y 0.8-3.4
        ("LDH,330,U/L", 0.99, None, Outcome.NORMAL),  # 15 d-<1 y 163-452
        ("LDH,330,U/L", 1.0, None, Outcome.HIGH),  # 1-<10 y 192-321
        ("LDH,260,U/L", 15.0, None, Outcome.HIGH),  # 15-<19 y 130-250
        ("Transferrin,2.0,g/L", W9, None, Outcome.NORMAL),  # 9 wk-<1 y 1.07-3.24
        ("Transferrin,2.0,g/L", 1.0, None, Outcome.LOW),  # 1-<19 y 2.20-3.37
        ("Transferrin,3.3,g/L", 18.99, None, Outcome.NORMAL),
        ("Iron,2.7,umol/L", 1.0, None, Outcome.LOW),  # 1-<14 y 2.8-22.9
        ("Iron,23,umol/L", 13.99, None, Outcome.HIGH),
        ("TG,2.5,mmol/L", 0.99, None, Outcome.NORMAL),  # 15 d-<1 y 0.60-2.92
        ("TG,2.5,mmol/L", 1.0, None, Outcome.HIGH),  # 1-<19 y 0.50-2.23
        ("TG,0.55,mmol/L", 0.5, None, Outcome.LOW),
    ],
)
def test_colantonio_age_band_boundaries(
    real_kb: KnowledgeBase, row: str, age: float, sex: str | None, outcome: Outcome
) -> None:
    (e,) = _one(real_kb, row, age, sex).evidence
    assert (e.outcome, e.origin) == (outcome, IntervalOrigin.SHIPPED)
    assert e.source.startswith("Colantonio DA")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("row", "age"),
    [
        ("Bilirubin,100,umol/L", 0.02),  # 0-14 days: not shipped
        ("Bilirubin,10,umol/L", 19.0),  # the table ends at 19 years
        ("LDH,800,U/L", 0.02),
        ("Transferrin,1.5,g/L", 0.1),  # 0-<9 weeks: not shipped
        ("Iron,20,umol/L", 0.5),  # first year of the birth-<14 y band: not shipped
        ("Iron,20,umol/L", 19.0),
    ],
)
def test_ages_without_a_shipped_band_need_the_files_range(
    real_kb: KnowledgeBase, row: str, age: float
) -> None:
    with pytest.raises(InputError, match="no interval for this test at"):
        _one(real_kb, row, age)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("row", "age", "girl", "boy"),
    [
        ("Direct bilirubin,6.8,umol/L", 15.0, Outcome.HIGH, None),  # F 1.7-6.7, M 1.9-7.1
        ("Iron,5.0,umol/L", 15.0, Outcome.NORMAL, Outcome.LOW),  # F 3.5-29, M 5.5-30
        ("Iron,29.5,umol/L", 15.0, Outcome.HIGH, Outcome.NORMAL),
        ("LDH,280,U/L", 12.0, Outcome.HIGH, Outcome.NORMAL),  # F 157-272, M 170-283
        ("LDH,275,U/L", 12.0, Outcome.HIGH, Outcome.NORMAL),
    ],
)
def test_colantonio_sex_differences(
    real_kb: KnowledgeBase, row: str, age: float, girl: Outcome | None, boy: Outcome | None
) -> None:
    """None: a normal or low direct bilirubin gives no term (LOINC2HPO's N term is too general
    and there is no L term), so the result is set aside rather than in the evidence."""
    for sex, expected in (("F", girl), ("M", boy)):
        p = _one(real_kb, row, age, sex)
        if expected is None:
            assert not p.evidence and len(p.set_aside) == 1
        else:
            assert p.evidence[0].outcome is expected
    with pytest.raises(InputError, match="--sex"):
        _one(real_kb, row, age)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("row", "age", "value", "unit", "interval", "outcome"),
    [
        ("Bilirubin,0.3,mg/dL", 5.0, "5.131", "umol/L", "0.8-6.8 umol/L", Outcome.NORMAL),
        ("Bilirubin,1.0,mg/dL", 5.0, "17.1", "umol/L", "0.8-6.8 umol/L", Outcome.HIGH),
        ("Direct bilirubin,0.5,mg/dL", 5.0, "8.552", "umol/L", "0.8-3.4 umol/L", Outcome.HIGH),
        ("Iron,50,ug/dL", 8.0, "8.953", "umol/L", "2.8-22.9 umol/L", Outcome.NORMAL),
        ("Iron,10,ug/dL", 8.0, "1.791", "umol/L", "2.8-22.9 umol/L", Outcome.LOW),
        ("Transferrin,250,mg/dL", 8.0, "2.5", "g/L", "2.2-3.37 g/L", Outcome.NORMAL),
        ("LDH,5,ukat/L", 8.0, "300", "U/L", "192-321 U/L", Outcome.NORMAL),
        ("TG,150,mg/dL", 8.0, "1.694", "mmol/L", f"0.5-2.23 mmol/L; {HLH_TG}", Outcome.NORMAL),
    ],
)  # fmt: skip
def test_colantonio_units_convert(
    real_kb: KnowledgeBase, row: str, age: float, value: str, unit: str, interval: str,
    outcome: Outcome,
) -> None:  # fmt: skip
    (e,) = _one(real_kb, row, age).evidence
    assert (e.value, e.unit, e.interval, e.outcome) == (value, unit, interval, outcome)


@pytest.mark.slow
def test_triglycerides_interval_beside_the_hlh_threshold(real_kb: KnowledgeBase) -> None:
    (e,) = _one(real_kb, "TG,2.5,mmol/L", 8.0).evidence
    assert e.outcome is Outcome.HIGH
    assert e.note == "does not meet the HLH-2004 criterion (H if >=3 mmol/L)"
    assert e.source.startswith("Colantonio DA") and "Henter JI" in e.source
    (e,) = _one(real_kb, "TG,3.2,mmol/L", 8.0).evidence
    assert e.note == "meets the HLH-2004 criterion (H if >=3 mmol/L)"


@pytest.mark.slow
def test_colantonio_terms(real_kb: KnowledgeBase) -> None:
    tbil = _one(real_kb, "Bilirubin,20,umol/L", 5.0)
    assert tbil.observed_ids == ("HP:0003573",)  # Increased total bilirubin
    assert _one(real_kb, "Bilirubin,5,umol/L", 5.0).excluded_ids == ("HP:0003573",)
    dbil = _one(real_kb, "Direct bilirubin,6,umol/L", 5.0)
    assert dbil.observed_ids == ("HP:0002904",)  # Hyperbilirubinemia
    assert _one(real_kb, "Iron,2,umol/L", 5.0).observed_ids == ("HP:0040303",)
    assert _one(real_kb, "Iron,10,umol/L", 5.0).excluded_ids == ("HP:0040130",)
    assert _one(real_kb, "Transferrin,1.5,g/L", 5.0).observed_ids == ("HP:0032387",)
    assert _one(real_kb, "Transferrin,4.0,g/L", 5.0).observed_ids == ("HP:0032386",)
    assert _one(real_kb, "LDH,600,U/L", 5.0).observed_ids == ("HP:0025435",)
    assert _one(real_kb, "LDH,250,U/L", 5.0).excluded_ids == ("HP:0045040",)
    assert _one(real_kb, "TG,2.5,mmol/L", 5.0).observed_ids == ("HP:0002155",)
    assert _one(real_kb, "TG,0.3,mmol/L", 5.0).observed_ids == ("HP:0012153",)
    # low LDH and low bilirubin have no LOINC2HPO term: set aside, nothing excluded
    low_ldh = _one(real_kb, "LDH,150,U/L", 5.0)
    assert not low_ldh.observed_ids and not low_ldh.excluded_ids
    assert low_ldh.set_aside[0].reason == "LOINC2HPO has no term for a L result of this test"
    low_tbil = _one(real_kb, "Bilirubin,0.7,umol/L", 5.0)  # below 0.8 umol/L: L, no term
    assert low_tbil.set_aside[0].reason == "LOINC2HPO has no term for a L result of this test"
    boy_ldh = _one(real_kb, "LDH,165,U/L", 12.0, "M")  # below 170 U/L for boys 10-<15 y
    assert boy_ldh.set_aside[0].reason == "LOINC2HPO has no term for a L result of this test"


@pytest.mark.slow
def test_neonatal_triglycerides_keep_only_the_hlh_threshold(real_kb: KnowledgeBase) -> None:
    """0-14 days: the CALIPER band was not shipped; HLH-2004 >=3.0 mmol/L still applies."""
    below = _one(real_kb, "TG,2.0,mmol/L", 0.02)
    assert not below.evidence and "rules nothing out" in below.set_aside[0].reason
    (e,) = _one(real_kb, "TG,3.5,mmol/L", 0.02).evidence
    assert e.outcome is Outcome.HIGH and "Colantonio" not in e.source
