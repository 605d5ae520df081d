"""Lab results to HPO terms: judge each value against an interval, then map with LOINC2HPO.

Order of precedence for each result: a qualitative result (POS/NEG), the file's H/L/N flag,
the file's reference range, then the shipped pediatric limits for the child's age and sex.
LOINC2HPO maps L, H and POS outcomes to observed terms and N or NEG outcomes to excluded
terms (its "NOT" convention). When only one side was checked and that limit rules out the
abnormality (a WHO anaemia cut-off, a one-sided range in the file), the term of that side is
excluded instead. Excluding a top-level category ("Abnormality of metabolism/homeostasis")
is refused: it would rule out too much.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.labs.catalog import ReferenceLimit, annotations_for, lab_tests, reference_limits
from raredx.labs.model import (
    AppliedLimit,
    IntervalOrigin,
    LabEvidence,
    LabPhenotype,
    LabResult,
    Outcome,
    SetAsideResult,
)
from raredx.labs.units import UnitError, convert

__all__ = ["labs_to_hpo", "normalize_sex"]

Sex = Literal["F", "M"]
Side = Literal["low", "high"]
Status = Literal["abnormal", "normal", "unknown"]
Kind = Literal["interval", "threshold"]
_ROOTS: Final = frozenset({"HP:0000001", "HP:0000118"})
_MAX_PROBLEMS: Final = 50


@dataclass(frozen=True, slots=True)
class _Limit:
    """One side of one limit a value is judged against, in `unit`."""

    side: Side
    value: float
    unit: str
    rules_out: bool
    abnormal_at_limit: bool
    source: str
    kind: Kind = "interval"
    label: str = ""


@dataclass(frozen=True, slots=True)
class _Judgement:
    outcome: Outcome
    partial: Side | None  # normal on this side only: exclude that side's term
    value: str
    unit: str
    interval: str
    origin: IntervalOrigin
    source: str
    note: str
    limits: tuple[AppliedLimit, ...] = ()


def normalize_sex(sex: str | None) -> Sex | None:
    """ "F"/"M" from F, M, female, male, femme, homme, fille, garçon (any case); None if unknown.

    Raises InputError for any other text."""
    if sex is None or not sex.strip():
        return None
    key = sex.strip().lower()
    if key in ("f", "female", "femme", "fille", "girl", "woman"):
        return "F"
    if key in ("m", "male", "homme", "garcon", "garçon", "boy", "man", "h"):
        return "M"
    if key in ("u", "unknown", "inconnu", "other", "x"):
        return None
    raise InputError("invalid sex", [f"{sex!r}: use F or M"])


def labs_to_hpo(
    results: Iterable[LabResult],
    kb: KnowledgeBase,
    age_years: float | None = None,
    sex: str | None = None,
) -> LabPhenotype:
    """HPO terms of lab results for a child of `age_years` (years, 0-150) and `sex` (F/M).

    Age and sex are needed only when a shipped interval is used. Raises InputError naming
    every result that has a LOINC2HPO mapping but no usable interval (no flag or range in the
    file and none shipped for this age and sex).
    """
    child_sex = normalize_sex(sex)
    if age_years is not None and not 0.0 <= age_years <= 150.0:
        raise InputError("invalid age", [f"{age_years!r}: must be between 0 and 150 years"])
    evidence: list[LabEvidence] = []
    set_aside: list[SetAsideResult] = []
    problems: list[str] = []
    for result in results:
        annotations = annotations_for(result.loinc)
        if not annotations:
            set_aside.append(_aside(result, "LOINC2HPO has no annotation for this test"))
            continue
        judged = _judge(result, age_years, child_sex, problems)
        if judged is None:
            continue
        if isinstance(judged, str):
            set_aside.append(_aside(result, judged))
            continue
        rows, reason = _terms(result, judged, kb)
        evidence.extend(rows)
        if reason:
            set_aside.append(_aside(result, reason))
    if problems:
        shown = problems[:_MAX_PROBLEMS]
        if len(problems) > _MAX_PROBLEMS:
            shown.append(f"... and {len(problems) - _MAX_PROBLEMS} more")
        raise InputError("cannot interpret these lab results", shown)
    observed, excluded = _consolidate(evidence, kb)
    return LabPhenotype(tuple(evidence), tuple(set_aside), observed, excluded)


def _aside(result: LabResult, reason: str) -> SetAsideResult:
    return SetAsideResult(result.where, result.loinc, result.test, result.shown_value, reason)


# ---------------------------------------------------------------------------- judging
def _judge(
    result: LabResult, age: float | None, sex: Sex | None, problems: list[str]
) -> _Judgement | str | None:
    """The outcome of one result; a reason string when it gives none; None after a problem."""
    given_range = _range_text(result.ref_low, result.ref_high, result.unit)
    if result.outcome is not None:
        return _Judgement(
            result.outcome, None, result.outcome.value, "", "", IntervalOrigin.RESULT, "", ""
        )
    if result.value is None:  # a LabResult has a value or an outcome
        return "no value"
    if result.flag in (Outcome.LOW, Outcome.HIGH, Outcome.NORMAL):
        return _Judgement(
            result.flag,
            None,
            result.shown_value,
            result.unit,
            given_range,
            IntervalOrigin.FLAG,
            "flag given in the file",
            "",
        )
    limits: list[_Limit] = []
    origin = IntervalOrigin.RANGE
    source = _FILE_RANGE
    if result.ref_low is not None:
        limits.append(_Limit("low", result.ref_low, result.unit, True, False, source, label=source))
    if result.ref_high is not None:
        limits.append(
            _Limit("high", result.ref_high, result.unit, True, False, source, label=source)
        )
    value, unit = result.value, result.unit
    if not limits:
        found = _shipped(result, age, sex, problems)
        if found is None:
            return None
        limits, value = found
        unit = limits[0].unit
        origin = IntervalOrigin.SHIPPED
    return _against(result, value, unit, limits, origin)


_FILE_RANGE: Final = "range given in the file"


def _against(
    result: LabResult,
    value: float,
    unit: str,
    limits: Sequence[_Limit],
    origin: IntervalOrigin,
) -> _Judgement | str:
    """Judge a value against every limit: reference intervals and decision thresholds.

    A side is abnormal when the value is beyond its interval limit or beyond any threshold of
    that side. It is ruled out when the value is within every limit of that side and one of
    them rules the abnormality out (an interval, or a defining cut-off such as WHO anaemia).
    Each threshold crossed is stated in the note ("meets the HLH-2004 criterion ...").
    """
    shown = f"{result.comparator or ''}{value:.4g}"
    ordered = _display_order(limits)
    interval = _interval_text(ordered)
    source = " | ".join(dict.fromkeys(lim.source for lim in ordered))
    statuses = [(_status(value, result.comparator, lim), lim) for lim in ordered]
    applied = tuple(_applied(lim, status) for status, lim in statuses)
    side_state: dict[Side, str] = {}
    for side in ("low", "high"):
        on_side = [(status, lim) for status, lim in statuses if lim.side == side]
        if not on_side:
            continue
        if any(status == "abnormal" for status, _ in on_side):
            side_state[side] = "abnormal"
        elif any(status == "unknown" for status, _ in on_side):
            side_state[side] = "unknown"
        elif any(lim.rules_out for _, lim in on_side):
            side_state[side] = "ruled out"
        else:
            side_state[side] = "not beyond"

    def judged(outcome: Outcome, partial: Side | None, note: str) -> _Judgement:
        return _Judgement(outcome, partial, shown, unit, interval, origin, source, note, applied)

    sides: tuple[tuple[Side, Outcome], ...] = (("low", Outcome.LOW), ("high", Outcome.HIGH))
    for name, outcome in sides:
        if side_state.get(name) == "abnormal":
            return judged(outcome, None, _criteria_note(statuses, name))
    ruled_out = [s for s, state in side_state.items() if state == "ruled out"]
    if len(ruled_out) == 2:
        return judged(Outcome.NORMAL, None, "")
    if len(ruled_out) == 1:
        only: Side = "low" if ruled_out[0] == "low" else "high"
        note = f"only the {'lower' if only == 'low' else 'upper'} limit is known"
        return judged(Outcome.NORMAL, only, note)
    if "unknown" in side_state.values():
        return f"{shown} {unit} cannot be placed against {interval}"
    return f"{shown} {unit} is not beyond the threshold ({interval}), which rules nothing out"


def _criteria_note(statuses: Sequence[tuple[Status, _Limit]], side: Side) -> str:
    """What the decision thresholds of the abnormal side say, as a clinician reads them:
    "meets the HLH-2004 criterion (L if <100 10^9/L)", or "does not meet ..." when only the
    reference interval calls the value abnormal; and says so when the reference interval
    alone would have called the value normal."""
    parts = []
    interval_normal = False
    for status, lim in statuses:
        if lim.side != side:
            continue
        if lim.kind == "threshold":
            verb = {"abnormal": "meets", "normal": "does not meet", "unknown": "may meet"}[status]
            parts.append(f"{verb} the {lim.label} ({_applied(lim, status).text})")
        elif status != "abnormal":
            interval_normal = True
    if interval_normal and parts:
        parts.append("within the reference interval: abnormal by the criterion only")
    return "; ".join(parts)


_APPLIED_STATUS: Final[dict[Status, Literal["beyond", "within", "unplaceable"]]] = {
    "abnormal": "beyond",
    "normal": "within",
    "unknown": "unplaceable",
}


def _applied(limit: _Limit, status: Status) -> AppliedLimit:
    return AppliedLimit(
        kind=limit.kind,
        label=limit.label,
        side=limit.side,
        value=limit.value,
        unit=limit.unit,
        abnormal_at_limit=limit.abnormal_at_limit,
        rules_out=limit.rules_out,
        status=_APPLIED_STATUS[status],
        source=limit.source,
    )


def _status(value: float, comparator: str | None, limit: _Limit) -> Status:
    """Whether a value (maybe only bounded: "<0.5") is beyond, within or unplaceable against
    one limit."""
    at = limit.abnormal_at_limit
    if limit.side == "low":
        beyond = value < limit.value or (at and value == limit.value)
        if comparator is None:
            return "abnormal" if beyond else "normal"
        if comparator in ("<", "<="):
            strict = comparator == "<" and value == limit.value
            return "abnormal" if beyond or strict else "unknown"
        return "normal" if value > limit.value or (value == limit.value and not at) else "unknown"
    beyond = value > limit.value or (at and value == limit.value)
    if comparator is None:
        return "abnormal" if beyond else "normal"
    if comparator in (">", ">="):
        strict = comparator == ">" and value == limit.value
        return "abnormal" if beyond or strict else "unknown"
    return "normal" if value < limit.value or (value == limit.value and not at) else "unknown"


def _shipped(
    result: LabResult, age: float | None, sex: Sex | None, problems: list[str]
) -> tuple[list[_Limit], float] | None:
    """The shipped limits for this result's test, age and sex (reference interval and
    thresholds, all in the unit of the first), and the value in that unit."""
    rows = [r for r in reference_limits() if r.loinc == result.loinc]
    test = lab_tests().get(result.loinc)
    tag = f"{result.where} ({result.test} {result.shown_value} {result.unit})".replace(" )", ")")
    need = "give the reference range or an H/L/N flag in the file"
    if not rows or test is None:
        problems.append(f"{tag}: raredx ships no reference interval for this test; {need}")
        return None
    matching = [r for r in rows if r.covers(age, sex)]
    if not matching:
        problems.append(f"{tag}: {_why_no_row(rows, age, sex)}; {need}")
        return None
    intervals = [r for r in rows if r.kind == "interval"]
    if intervals and not any(r.kind == "interval" for r in matching):
        # a threshold alone must not stand in for an interval that age or sex would select
        hidden = age is None or (
            sex is None and any(r.covers(age, "F") or r.covers(age, "M") for r in intervals)
        )
        if hidden:
            problems.append(f"{tag}: {_why_no_row(intervals, age, sex)}; {need}")
            return None
    unit = matching[0].unit
    try:
        limits = _limits_of(matching, unit, test.dimension, test.molar_mass)
        value = convert(
            result.value or 0.0, result.unit, unit, test.dimension, molar_mass=test.molar_mass
        )
    except UnitError as exc:
        problems.append(f"{tag}: {exc}")
        return None
    return limits, value


def _why_no_row(rows: Sequence[ReferenceLimit], age: float | None, sex: Sex | None) -> str:
    if age is None:
        return "the shipped interval depends on age: give the child's age (--age)"
    if sex is None and any(r.covers(age, "F") or r.covers(age, "M") for r in rows):
        return "the shipped interval depends on sex at this age: give the child's sex (--sex)"
    return f"raredx ships no interval for this test at {age:.3g} years"


def _limits_of(
    rows: Sequence[ReferenceLimit], unit: str, dimension: str, molar_mass: float | None
) -> list[_Limit]:
    """Every side of every row, converted to `unit`: the first interval row of each side (the
    shipped data has at most one) and every threshold."""
    limits: list[_Limit] = []
    for side in ("low", "high"):
        has_interval = False
        for row in rows:
            bound = row.low if side == "low" else row.high
            if bound is None or (row.kind == "interval" and has_interval):
                continue
            has_interval = has_interval or row.kind == "interval"
            if row.unit != unit:
                bound = convert(bound, row.unit, unit, dimension, molar_mass=molar_mass)
            limits.append(
                _Limit(
                    side,
                    bound,
                    unit,
                    row.rules_out,
                    row.abnormal_at_limit,
                    row.source,
                    row.kind,
                    row.label,
                )
            )
    return limits


def _display_order(limits: Sequence[_Limit]) -> list[_Limit]:
    """Interval limits first (low, high), then thresholds (low, high)."""
    order = {("interval", "low"): 0, ("interval", "high"): 1}
    return sorted(
        limits, key=lambda lim: order.get((lim.kind, lim.side), 2 if lim.side == "low" else 3)
    )


def _range_text(low: float | None, high: float | None, unit: str) -> str:
    if low is None and high is None:
        return ""
    limits = []
    if low is not None:
        limits.append(_Limit("low", low, unit, True, False, ""))
    if high is not None:
        limits.append(_Limit("high", high, unit, True, False, ""))
    return _interval_text(limits)


def _interval_text(limits: Sequence[_Limit]) -> str:
    """What the value was judged against, in display order.

    Without a reference interval: the normal region when every limit rules out its
    abnormality ("1400-3700 /uL", ">=110 g/L", "<500 ug/L"), else the thresholds ("L if <100
    10^9/L", "L if <12; H if >=500 ug/L"). With one: the interval, then each threshold with
    its label ("0.8-2.0 g/L; HLH-2004 criterion: L if <=1.5 g/L").
    """
    if not limits:
        return ""
    intervals = [lim for lim in limits if lim.kind == "interval"]
    thresholds = [lim for lim in limits if lim.kind == "threshold"]
    if intervals:
        parts = [_region_text(intervals)]
        parts += [f"{lim.label}: {_applied(lim, 'normal').text}" for lim in thresholds]
        return "; ".join(parts)
    if all(lim.rules_out for lim in limits):
        return _region_text(limits)
    unit = limits[0].unit
    texts = [_applied(lim, "normal").text.removesuffix(f" {unit}") for lim in limits]
    return f"{'; '.join(texts)} {unit}".strip()


def _region_text(limits: Sequence[_Limit]) -> str:
    """The normal region of limits that rule out their abnormality: "1400-3700 /uL",
    ">=110 g/L", "<500 ug/L"."""
    unit = limits[0].unit
    low = next((lim for lim in limits if lim.side == "low"), None)
    high = next((lim for lim in limits if lim.side == "high"), None)
    if low and high:
        text = f"{low.value:g}-{high.value:g}"
    elif low:
        text = f"{'>' if low.abnormal_at_limit else '>='}{low.value:g}"
    elif high:
        text = f"{'<' if high.abnormal_at_limit else '<='}{high.value:g}"
    else:
        text = ""
    return f"{text} {unit}".strip()


# ---------------------------------------------------------------------------- mapping
def _terms(
    result: LabResult, judged: _Judgement, kb: KnowledgeBase
) -> tuple[list[LabEvidence], str]:
    """Evidence rows of one judged result, and the reason it gave no term (or "")."""
    if judged.partial is not None:
        wanted = Outcome.LOW.value if judged.partial == "low" else Outcome.HIGH.value
        excluded = True
    else:
        wanted = judged.outcome.value
        excluded = judged.outcome in (Outcome.NORMAL, Outcome.NEGATIVE)
    ids = [a.hpo_id for a in annotations_for(result.loinc) if a.outcome == wanted]
    if not ids:
        return [], f"LOINC2HPO has no term for a {wanted} result of this test"
    rows: list[LabEvidence] = []
    reasons: list[str] = []
    for hpo_id in dict.fromkeys(ids):
        found = kb.lookup_term(hpo_id)
        if found is None:
            reasons.append(f"{hpo_id} is not in HPO release {kb.hpo_release}")
            continue
        if excluded and _too_general(kb, found.index):
            reasons.append(
                f"a normal result would exclude {found.term_id} ({kb.term_labels[found.index]}): "
                "too general to exclude"
            )
            continue
        rows.append(_evidence(result, judged, found.term_id, kb.term_labels[found.index], excluded))
    return rows, "; ".join(reasons)


def _too_general(kb: KnowledgeBase, idx: int) -> bool:
    """The root, "Phenotypic abnormality" and its direct children (organ-system categories)."""
    if kb.term_ids[idx] in _ROOTS:
        return True
    return any(kb.term_ids[int(p)] in _ROOTS for p in kb.parents(idx))


def _evidence(
    result: LabResult, judged: _Judgement, hpo_id: str, label: str, excluded: bool
) -> LabEvidence:
    given = f"{result.shown_value} {result.unit}".strip()
    return LabEvidence(
        where=result.where,
        loinc=result.loinc,
        test=result.test,
        given=given,
        value=judged.value,
        unit=judged.unit,
        interval=judged.interval,
        origin=judged.origin,
        source=judged.source,
        outcome=judged.outcome,
        hpo_id=hpo_id,
        hpo_label=label,
        excluded=excluded,
        date=result.date,
        note=judged.note,
        limits=judged.limits,
    )


def _consolidate(
    evidence: Sequence[LabEvidence], kb: KnowledgeBase
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    observed = list(dict.fromkeys(e.hpo_id for e in evidence if not e.excluded))
    excluded = []
    for hpo_id in dict.fromkeys(e.hpo_id for e in evidence if e.excluded):
        if hpo_id in observed or any(kb.is_ancestor(hpo_id, o) for o in observed):
            continue
        excluded.append(hpo_id)
    return tuple(observed), tuple(excluded)
