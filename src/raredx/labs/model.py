"""Value objects of lab input and its phenotype: results as read, and the terms they give."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Literal

__all__ = [
    "AppliedLimit",
    "Comparator",
    "IntervalOrigin",
    "LabEvidence",
    "LabPhenotype",
    "LabResult",
    "Outcome",
    "SetAsideResult",
]

Comparator = Literal["<", "<=", ">", ">="]


class Outcome(StrEnum):
    """Interpretation of one result, in LOINC2HPO's vocabulary."""

    LOW = "L"
    NORMAL = "N"
    HIGH = "H"
    POSITIVE = "POS"
    NEGATIVE = "NEG"


class IntervalOrigin(StrEnum):
    """What the outcome was decided from: a qualitative result (POS/NEG), the file's flag, its
    range, or a shipped limit."""

    RESULT = "result in file"
    FLAG = "flag in file"
    RANGE = "range in file"
    SHIPPED = "shipped"


@dataclass(frozen=True, slots=True)
class LabResult:
    """One result as read from a file: row of a table or FHIR Observation.

    `where` names the row or entry ("row 3", "entry 2 (Observation/hb1)"). `loinc` is the
    code (given or resolved from the name). A numeric result has `value` (finite) in `unit`,
    possibly bounded by `comparator` ("<0.5"); an ordinal one has `outcome` (POS/NEG) instead.
    `ref_low`/`ref_high` are the file's own reference range in `unit`; `flag` its H/L/N/POS/NEG.
    """

    where: str
    test: str
    loinc: str
    value: float | None = None
    unit: str = ""
    comparator: Comparator | None = None
    outcome: Outcome | None = None
    ref_low: float | None = None
    ref_high: float | None = None
    flag: Outcome | None = None
    date: str | None = None

    def __post_init__(self) -> None:
        if self.value is not None and not math.isfinite(self.value):
            raise ValueError(f"{self.where}: value must be finite")
        if self.value is None and self.outcome is None:
            raise ValueError(f"{self.where}: a result needs a value or an outcome")

    @property
    def shown_value(self) -> str:
        """The value as displayed: "<0.5", "6.8" or "POS"."""
        if self.value is None:
            return str(self.outcome.value) if self.outcome else ""
        return f"{self.comparator or ''}{self.value:g}"


@dataclass(frozen=True, slots=True)
class AppliedLimit:
    """One limit a value was checked against, and what the check found.

    `kind` "interval" (a reference interval, or the file's range) or "threshold" (a decision
    criterion or cut-off such as HLH-2004 or WHO); `label` names it ("HLH-2004 criterion",
    "range given in the file"); `side` "low" or "high"; `value` in `unit` (the unit of the
    evidence). `status` is "beyond" (abnormal on this side), "within", or "unplaceable" (a
    bounded value such as "<0.5" that the limit cannot decide). `source` cites it.
    """

    kind: Literal["interval", "threshold"]
    label: str
    side: Literal["low", "high"]
    value: float
    unit: str
    abnormal_at_limit: bool
    rules_out: bool
    status: Literal["beyond", "within", "unplaceable"]
    source: str

    @property
    def text(self) -> str:
        """The abnormal region of this limit: "L if <90 g/L", "H if >=500 ug/L"."""
        if self.side == "low":
            sign = "<=" if self.abnormal_at_limit else "<"
            return f"L if {sign}{self.value:g} {self.unit}".strip()
        sign = ">=" if self.abnormal_at_limit else ">"
        return f"H if {sign}{self.value:g} {self.unit}".strip()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every field."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class LabEvidence:
    """One HPO term derived from one result, with everything behind it.

    `value` is the result converted to `unit`, the unit of `interval` (the file's own unit
    when the file gave the range or flag). `excluded` marks a term ruled out by a normal
    (or negative) result. `source` cites every limit shown in `interval`, in the same order,
    joined by " | " (or says what the file gave). `note` states each decision criterion the
    value meets ("meets the HLH-2004 criterion (L if <100 10^9/L)") and any caveat.
    `limits` lists every limit checked, with its kind, source and status.
    """

    where: str
    loinc: str
    test: str
    given: str
    value: str
    unit: str
    interval: str
    origin: IntervalOrigin
    source: str
    outcome: Outcome
    hpo_id: str
    hpo_label: str
    excluded: bool
    date: str | None
    note: str = ""
    limits: tuple[AppliedLimit, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in the order of ``raredx phenotype labs`` columns: `origin` as
        ``interval_from`` and the outcome as its value, then every limit checked."""
        return {
            "where": self.where,
            "test": self.test,
            "loinc": self.loinc,
            "given": self.given,
            "value": self.value,
            "unit": self.unit,
            "interval": self.interval,
            "interval_from": self.origin.value,
            "outcome": self.outcome.value,
            "hpo_id": self.hpo_id,
            "hpo_label": self.hpo_label,
            "excluded": self.excluded,
            "date": self.date,
            "source": self.source,
            "note": self.note,
            "limits": [lim.to_dict() for lim in self.limits],
        }


@dataclass(frozen=True, slots=True)
class SetAsideResult:
    """A result that gave no term, and why (no LOINC2HPO annotation, no term for a low value,
    within a threshold that does not rule anything out...)."""

    where: str
    loinc: str
    test: str
    value: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: where, test, loinc, value, reason."""
        return {
            "where": self.where,
            "test": self.test,
            "loinc": self.loinc,
            "value": self.value,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class LabPhenotype:
    """Terms derived from lab results.

    `observed_ids` holds every term an abnormal result showed; `excluded_ids` the terms normal
    results ruled out, minus any term that is observed or an ancestor of an observed term (a
    later normal value does not undo an abnormal one: the clinician reviews both in
    `evidence`).
    """

    evidence: tuple[LabEvidence, ...]
    set_aside: tuple[SetAsideResult, ...]
    observed_ids: tuple[str, ...]
    excluded_ids: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: observed and excluded ids, the evidence of each term (``terms``) and the
        results set aside."""
        return {
            "observed": list(self.observed_ids),
            "excluded": list(self.excluded_ids),
            "terms": [e.to_dict() for e in self.evidence],
            "set_aside": [s.to_dict() for s in self.set_aside],
        }
