"""Shipped IgG, IgA and IgM pediatric limits (Garcia-Prat 2018, as tabulated by St. Boniface).

Bands in whole years as tabulated: 0-2, 3-4, 5-9, 10-14, 15-18, read as [0, 3), [3, 5),
[5, 10), [10, 15), [15, 19); no sex partition; limits in g/L.
"""

from __future__ import annotations

import itertools

import pytest

from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.labs import IntervalOrigin, LabPhenotype, Outcome, labs_to_hpo, parse_labs
from raredx.labs.catalog import reference_limits

IG_CODES = {"2465-3": "IgG", "2458-8": "IgA", "2472-9": "IgM"}
DECREASED_IGG = "HP:0004315"
INCREASED_IGG = "HP:0003237"
DECREASED_IGA = "HP:0002720"
INCREASED_IGM = "HP:0003496"

# (loinc, age_min, age_max, low, high) exactly as read in the lab manual pages
EXPECTED = {
    ("2465-3", 0, 3, 2.42, 11.08),
    ("2465-3", 3, 5, 4.85, 11.60),
    ("2465-3", 5, 10, 5.14, 16.72),
    ("2465-3", 10, 15, 5.81, 16.52),
    ("2465-3", 15, 19, 4.79, 14.33),
    ("2458-8", 0, 3, 0.02, 1.26),
    ("2458-8", 3, 5, 0.14, 2.12),
    ("2458-8", 5, 10, 0.52, 2.26),
    ("2458-8", 10, 15, 0.42, 3.45),
    ("2458-8", 15, 19, 0.60, 3.49),
    ("2472-9", 0, 3, 0.21, 2.15),
    ("2472-9", 3, 5, 0.26, 1.55),
    ("2472-9", 5, 10, 0.26, 1.88),
    ("2472-9", 10, 15, 0.47, 2.52),
    ("2472-9", 15, 19, 0.26, 2.32),
}


def _one(kb: KnowledgeBase, row: str, age: float | None, sex: str | None = None) -> LabPhenotype:
    return labs_to_hpo(parse_labs("test,value,unit\n" + row + "\n"), kb, age, sex)


def test_immunoglobulin_rows_are_the_tabulated_ones_and_cite_their_source() -> None:
    rows = [r for r in reference_limits() if r.loinc in IG_CODES]
    got = {(r.loinc, r.age_min, r.age_max, r.low, r.high) for r in rows}
    assert got == EXPECTED
    for r in rows:
        assert r.test == IG_CODES[r.loinc]
        assert (r.sex, r.unit, r.rules_out, r.abnormal_at_limit) == (None, "g/L", True, False)
        assert r.kind == "interval"
        assert r.source.startswith("Garcia-Prat M, Vila-Pijoan G, Martos Gutierrez S, et al.")
        assert "J Clin Lab Anal. 2018;32:e22420" in r.source
        assert "as tabulated in St. Boniface Hospital" in r.note
        assert "https://apps.sbgh.mb.ca/labmanual/test/" in r.note


def test_immunoglobulin_bands_are_contiguous_from_birth_to_19_years() -> None:
    for code in IG_CODES:
        bands = sorted((r.age_min, r.age_max) for r in reference_limits() if r.loinc == code)
        assert bands[0][0] == 0 and bands[-1][1] == 19
        assert all(a[1] == b[0] for a, b in itertools.pairwise(bands))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("row", "age", "outcome"),
    [
        # IgG: 3-4 y 4.85-11.60 g/L, 5-9 y 5.14-16.72 g/L
        ("IgG,5.0,g/L", 4.99, Outcome.NORMAL),
        ("IgG,5.0,g/L", 5.0, Outcome.LOW),
        # IgG: 0-2 y 2.42-11.08 g/L, 3-4 y 4.85-11.60 g/L
        ("IgG,11.3,g/L", 2.99, Outcome.HIGH),
        ("IgG,11.3,g/L", 3.0, Outcome.NORMAL),
        ("IgG,4.85,g/L", 3.0, Outcome.NORMAL),  # equal to the limit is normal
        # IgA: 3-4 y 0.14-2.12 g/L, 5-9 y 0.52-2.26 g/L
        ("IgA,0.5,g/L", 4.99, Outcome.NORMAL),
        ("IgA,0.5,g/L", 5.0, Outcome.LOW),
        # IgM: 10-14 y 0.47-2.52 g/L, 15-18 y 0.26-2.32 g/L
        ("IgM,2.4,g/L", 14.99, Outcome.NORMAL),
        ("IgM,2.4,g/L", 15.0, Outcome.HIGH),
    ],
)
def test_immunoglobulin_age_band_boundaries(
    real_kb: KnowledgeBase, row: str, age: float, outcome: Outcome
) -> None:
    (e,) = _one(real_kb, row, age).evidence
    assert (e.outcome, e.origin) == (outcome, IntervalOrigin.SHIPPED)
    assert e.excluded is (outcome is Outcome.NORMAL)
    assert "Garcia-Prat M" in e.source


@pytest.mark.slow
def test_immunoglobulin_terms(real_kb: KnowledgeBase) -> None:
    assert _one(real_kb, "IgG,3.0,g/L", 6.0).observed_ids == (DECREASED_IGG,)
    assert _one(real_kb, "IgG,20,g/L", 6.0).observed_ids == (INCREASED_IGG,)
    assert _one(real_kb, "IgA,0.1,g/L", 12.0).observed_ids == (DECREASED_IGA,)
    assert _one(real_kb, "IgM,2.0,g/L", 4.0).observed_ids == (INCREASED_IGM,)
    normal = _one(real_kb, "IgG,8,g/L", 6.0)
    assert not normal.observed_ids and len(normal.excluded_ids) == 1


@pytest.mark.slow
@pytest.mark.parametrize("row", ["IgG,8,g/L", "IgG,800,mg/dL", "IgG,0.8,g/dL"])
def test_immunoglobulin_units_convert(real_kb: KnowledgeBase, row: str) -> None:
    (e,) = _one(real_kb, row, 6.0).evidence
    expected = ("8", "g/L", "5.14-16.72 g/L", Outcome.NORMAL)
    assert (e.value, e.unit, e.interval, e.outcome) == expected


@pytest.mark.slow
def test_immunoglobulin_low_in_mg_per_dl(real_kb: KnowledgeBase) -> None:
    (e,) = _one(real_kb, "IgG,480,mg/dL", 6.0).evidence
    assert (e.value, e.unit, e.outcome, e.hpo_id) == ("4.8", "g/L", Outcome.LOW, DECREASED_IGG)


@pytest.mark.slow
def test_immunoglobulin_limits_need_age_not_sex(real_kb: KnowledgeBase) -> None:
    girl = _one(real_kb, "IgA,0.1,g/L", 12.0, "F")
    boy = _one(real_kb, "IgA,0.1,g/L", 12.0, "M")
    unknown = _one(real_kb, "IgA,0.1,g/L", 12.0)
    assert girl.observed_ids == boy.observed_ids == unknown.observed_ids == (DECREASED_IGA,)
    with pytest.raises(InputError, match="--age"):
        _one(real_kb, "IgA,0.1,g/L", None)
    with pytest.raises(InputError, match="no interval for this test at 19 years"):
        _one(real_kb, "IgA,0.1,g/L", 19.0)
