"""A reference interval and decision thresholds for the same test and child.

The interval decides L/N/H (and the exclusion when normal); a threshold that is crossed makes
its side abnormal and is stated in the note ("meets the HLH-2004 criterion ..."); every limit
keeps its source. Synthetic rows (monkeypatched) keep these rules independent of the data.
"""

from __future__ import annotations

import pytest

from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.labs import LabPhenotype, Outcome, ReferenceLimit, labs_to_hpo, parse_labs
from raredx.labs import derive as derive_module

pytestmark = pytest.mark.slow

NEUTROPENIA = "HP:0001875"
NEUTROPHILS_NORMAL = "HP:0011991"
HB_ANEMIA = "HP:0020062"
HB_ABNORMAL = "HP:0020061"
REF = "Ref A, Ref B. A reference study. J Test. 2020;1:1-2"
HLH = "Crit C. A criterion paper. J Test. 2007;2:3-4"
WHO = "Cut D. A cut-off guideline. Geneva; 2011"


def _row(
    loinc: str, kind: str, low: float | None, high: float | None, **kw: object
) -> ReferenceLimit:
    fields: dict[str, object] = {
        "loinc": loinc,
        "test": "t",
        "sex": None,
        "age_min": 0.0,
        "age_max": None,
        "low": low,
        "high": high,
        "unit": "10^9/L",
        "kind": kind,
        "rules_out": kind == "interval",
        "abnormal_at_limit": False,
        "label": "reference interval" if kind == "interval" else "HLH-2004 criterion",
        "source": REF if kind == "interval" else HLH,
        "note": "n",
    }
    fields.update(kw)
    return ReferenceLimit(**fields)  # type: ignore[arg-type]


ROWS = (
    _row("751-8", "interval", 1.5, 6.4, age_min=1.0, age_max=21.0),
    _row("751-8", "threshold", 1.0, None),
    _row("718-7", "interval", 99.0, 134.0, unit="g/L", age_min=1.0, age_max=4.0),
    _row(
        "718-7", "threshold", 11.0, None, unit="g/dL", rules_out=True,
        label="WHO 2011 anaemia cut-off", source=WHO, age_min=0.5, age_max=5.0,
    ),
    _row("718-7", "interval", 113.0, 149.0, unit="g/L", sex="F", age_min=14.0, age_max=21.0),
    _row("718-7", "interval", 129.0, 165.0, unit="g/L", sex="M", age_min=14.0, age_max=21.0),
)  # fmt: skip


@pytest.fixture(autouse=True)
def _synthetic_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(derive_module, "reference_limits", lambda: ROWS)


def _one(kb: KnowledgeBase, row: str, age: float | None, sex: str | None = None) -> LabPhenotype:
    return labs_to_hpo(parse_labs("test,value,unit\n" + row + "\n"), kb, age, sex)


def test_within_both_is_normal_and_shows_every_limit(real_kb: KnowledgeBase) -> None:
    (e,) = _one(real_kb, "PNN,3.0,G/L", 8.0).evidence
    assert (e.outcome, e.hpo_id, e.excluded, e.note) == (
        Outcome.NORMAL, NEUTROPHILS_NORMAL, True, "",
    )  # fmt: skip
    assert e.interval == "1.5-6.4 10^9/L; HLH-2004 criterion: L if <1 10^9/L"
    assert e.source == f"{REF} | {HLH}"
    assert [(lim.kind, lim.side, lim.status, lim.source) for lim in e.limits] == [
        ("interval", "low", "within", REF),
        ("interval", "high", "within", REF),
        ("threshold", "low", "within", HLH),
    ]


def test_below_the_interval_only_says_the_criterion_is_not_met(real_kb: KnowledgeBase) -> None:
    p = _one(real_kb, "PNN,1.2,G/L", 8.0)
    (e,) = p.evidence
    assert (e.outcome, e.hpo_id, e.excluded) == (Outcome.LOW, NEUTROPENIA, False)
    assert e.note == "does not meet the HLH-2004 criterion (L if <1 10^9/L)"
    assert p.observed_ids == (NEUTROPENIA,)


def test_a_crossed_threshold_is_a_stronger_statement_on_one_term(real_kb: KnowledgeBase) -> None:
    p = _one(real_kb, "PNN,0.4,G/L", 8.0)
    (e,) = p.evidence  # one result, one term: the criterion adds a statement, not a term
    assert (e.outcome, e.hpo_id) == (Outcome.LOW, NEUTROPENIA)
    assert e.note == "meets the HLH-2004 criterion (L if <1 10^9/L)"
    assert {lim.status for lim in e.limits if lim.side == "low"} == {"beyond"}


def test_a_defining_cut_off_above_the_interval_limit_still_calls_low(
    real_kb: KnowledgeBase,
) -> None:
    # 105 g/L at 2 years: within the interval (99-134) but below the WHO cut-off (11 g/dL,
    # converted to the interval's g/L)
    (e,) = _one(real_kb, "Hb,105,g/L", 2.0).evidence
    assert (e.outcome, e.hpo_id) == (Outcome.LOW, HB_ANEMIA)
    assert e.interval == "99-134 g/L; WHO 2011 anaemia cut-off: L if <110 g/L"
    assert e.note == (
        "meets the WHO 2011 anaemia cut-off (L if <110 g/L); "
        "within the reference interval: abnormal by the criterion only"
    )
    assert e.source == f"{REF} | {WHO}"


def test_the_interval_decides_where_a_cut_off_rules_out_only_one_side(
    real_kb: KnowledgeBase,
) -> None:
    normal = _one(real_kb, "Hb,120,g/L", 2.0)
    assert normal.excluded_ids == (HB_ABNORMAL,)  # both sides ruled out by the interval
    high = _one(real_kb, "Hb,140,g/L", 2.0)
    assert high.evidence[0].outcome is Outcome.HIGH and high.evidence[0].note == ""
    # without an interval (6 months to 1 year here) the cut-off alone excludes anaemia only
    (e,) = _one(real_kb, "Hb,120,g/L", 0.7).evidence
    assert (e.hpo_id, e.excluded, e.note) == (HB_ANEMIA, True, "only the lower limit is known")


def test_bounded_values_against_interval_and_threshold(real_kb: KnowledgeBase) -> None:
    low = _one(real_kb, "PNN,<0.5,G/L", 8.0).evidence[0]
    assert low.note == "meets the HLH-2004 criterion (L if <1 10^9/L)"
    # ">1.2": above the criterion, but the interval's low limit cannot be placed
    unsure = _one(real_kb, "PNN,>1.2,G/L", 8.0)
    assert not unsure.evidence and "cannot be placed" in unsure.set_aside[0].reason


def test_a_threshold_does_not_stand_in_for_an_interval_age_or_sex_would_select(
    real_kb: KnowledgeBase,
) -> None:
    with pytest.raises(InputError, match="--age"):
        _one(real_kb, "PNN,3.0,G/L", None)
    with pytest.raises(InputError, match="--sex"):
        _one(real_kb, "Hb,125,g/L", 16.0)
    # under 1 year no interval exists at all: the threshold is judged alone, as before
    aside = _one(real_kb, "PNN,3.0,G/L", 0.5)
    assert "rules nothing out" in aside.set_aside[0].reason
    assert _one(real_kb, "PNN,0.5,G/L", 0.5).observed_ids == (NEUTROPENIA,)


def test_sex_specific_intervals_beside_a_threshold(real_kb: KnowledgeBase) -> None:
    assert _one(real_kb, "Hb,125,g/L", 16.0, "F").excluded_ids == (HB_ABNORMAL,)
    assert _one(real_kb, "Hb,125,g/L", 16.0, "M").observed_ids == (HB_ANEMIA,)
