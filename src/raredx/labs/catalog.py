"""The package data of `raredx.labs`: test catalogue, reference limits, LOINC2HPO annotations.

All three are read once (cached) from `raredx/labs/data/` with importlib.resources; nothing
is downloaded. See docs/labs.md for their sources.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final, Literal

from raredx.labs.units import DIMENSIONS, UnitError, unit_factor

__all__ = [
    "LOINC_PATTERN",
    "Annotation",
    "LabTest",
    "LimitKind",
    "ReferenceLimit",
    "annotations_for",
    "lab_tests",
    "normalize_name",
    "reference_limits",
    "resolve_test",
]

LOINC_PATTERN: Final = re.compile(r"^[0-9]{1,7}-[0-9]$")
"""A LOINC code: up to 7 digits, a dash and the check digit."""

Scale = Literal["Qn", "Ord", "Nom"]
LimitKind = Literal["interval", "threshold"]


@dataclass(frozen=True, slots=True)
class LabTest:
    """A test raredx reads by name: its LOINC code, display name and unit.

    `dimension` names a table of `raredx.labs.units`; `max_value` (in `unit`) is a sanity bound
    above which a value is rejected as impossible; `molar_mass` (g/mol) lets molar units convert.
    """

    loinc: str
    name: str
    scale: Scale
    dimension: str
    unit: str
    molar_mass: float | None
    max_value: float
    aliases: tuple[str, ...]

    def __post_init__(self) -> None:
        if not LOINC_PATTERN.match(self.loinc):
            raise ValueError(f"bad LOINC code {self.loinc!r}")
        if self.dimension not in DIMENSIONS:
            raise ValueError(f"{self.loinc}: unknown dimension {self.dimension!r}")


@dataclass(frozen=True, slots=True)
class ReferenceLimit:
    """One row of the shipped reference limits (reference_intervals.tsv).

    Ages in years, `age_min` inclusive, `age_max` exclusive (None: no upper age). `low`/`high`
    in `unit`; a value below `low` is L, above `high` is H, and equal to a limit is abnormal
    only when `abnormal_at_limit`. `sex` is "F", "M" or None for both.

    `kind` "interval": a reference interval of healthy children, which decides L/N/H (at most
    one per test, age, sex and side). `kind` "threshold": a decision criterion or cut-off
    (HLH-2004, WHO) that may sit beside an interval; crossing it makes that side abnormal and
    is reported under `label`. `rules_out`: a value on the normal side of this limit excludes
    the abnormality (always for an interval; for a defining cut-off when no interval covers
    that side) rather than only failing to show it.
    """

    loinc: str
    test: str
    sex: Literal["F", "M"] | None
    age_min: float
    age_max: float | None
    low: float | None
    high: float | None
    unit: str
    kind: LimitKind
    rules_out: bool
    abnormal_at_limit: bool
    label: str
    source: str
    note: str

    def __post_init__(self) -> None:
        if self.low is None and self.high is None:
            raise ValueError(f"{self.loinc}: a limit row needs a low or a high value")
        if self.kind not in ("interval", "threshold"):
            raise ValueError(f"{self.loinc}: kind must be interval or threshold")
        if self.kind == "interval" and not self.rules_out:
            raise ValueError(f"{self.loinc}: a reference interval rules out its abnormality")
        if not self.label.strip():
            raise ValueError(f"{self.loinc}: every limit has a label")
        if self.age_max is not None and self.age_max <= self.age_min:
            raise ValueError(f"{self.loinc}: age_max must exceed age_min")
        if not self.source.strip():
            raise ValueError(f"{self.loinc}: every limit cites its source")

    def covers(self, age_years: float | None, sex: Literal["F", "M"] | None) -> bool:
        """True if this row applies to a child of this age and sex. An unknown age matches
        only rows for every age; an unknown sex only rows for both sexes."""
        if self.sex is not None and self.sex != sex:
            return False
        if age_years is None:
            return self.age_min == 0 and self.age_max is None
        return self.age_min <= age_years and (self.age_max is None or age_years < self.age_max)


@dataclass(frozen=True, slots=True)
class Annotation:
    """One LOINC2HPO row: a test outcome (L, N, H, POS, NEG or a nominal code) and its term."""

    loinc: str
    scale: str
    outcome: str
    hpo_id: str


def _data_text(name: str) -> str:
    data = resources.files("raredx.labs").joinpath("data", name).read_bytes()
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8")


def _rows(name: str) -> Iterator[dict[str, str]]:
    lines = (line for line in io.StringIO(_data_text(name)) if not line.startswith("#"))
    yield from csv.DictReader(lines, delimiter="\t")


def normalize_name(name: str) -> str:
    """A test name reduced for lookup: lower case, no accents, single spaces."""
    text = unicodedata.normalize("NFKD", name.replace("œ", "oe").replace("Œ", "oe"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[\s_]+", " ", text).strip(" .:")
    return text


def _opt_float(text: str) -> float | None:
    return float(text) if text.strip() else None


@cache
def lab_tests() -> dict[str, LabTest]:
    """The test catalogue (tests.tsv) by LOINC code."""
    tests: dict[str, LabTest] = {}
    for row in _rows("tests.tsv"):
        test = LabTest(
            loinc=row["loinc"],
            name=row["name"],
            scale=row["scale"],  # type: ignore[arg-type]
            dimension=row["dimension"],
            unit=row["unit"],
            molar_mass=_opt_float(row["molar_mass"]),
            max_value=float(row["max"]),
            aliases=tuple(a for a in row["aliases"].split("|") if a),
        )
        tests[test.loinc] = test
    return tests


@cache
def _name_index() -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for test in lab_tests().values():
        for name in (test.name, *test.aliases):
            codes = index.setdefault(normalize_name(name), [])
            if test.loinc not in codes:
                codes.append(test.loinc)
    return {k: tuple(v) for k, v in index.items()}


def resolve_test(name: str, unit: str | None = None) -> tuple[LabTest | None, str]:
    """The catalogue test a name or LOINC code means, and a reason when there is none.

    A name shared by an absolute count and a percentage ("reticulocytes", "CD4") is decided by
    the unit. A LOINC code outside the catalogue returns (None, "") and is read as given.
    """
    text = name.strip()
    if LOINC_PATTERN.match(text):
        return lab_tests().get(text), ""
    codes = _name_index().get(normalize_name(text), ())
    if not codes:
        return None, f"unknown test {text!r}: give its LOINC code"
    tests = [lab_tests()[c] for c in codes]
    if len(tests) == 1:
        return tests[0], ""
    fitting = [t for t in tests if unit is not None and _unit_fits(unit, t)]
    if len(fitting) == 1:
        return fitting[0], ""
    choices = ", ".join(f"{t.loinc} ({t.name}, {t.unit})" for t in tests)
    return None, f"test {text!r} is ambiguous: its unit {unit!r} does not choose among {choices}"


def _unit_fits(unit: str, test: LabTest) -> bool:
    try:
        unit_factor(unit, test.dimension, molar_mass=test.molar_mass)
    except UnitError:
        return False
    return True


def _sex(text: str) -> Literal["F", "M"] | None:
    if text in ("", "any"):
        return None
    if text in ("F", "M"):
        return text  # type: ignore[return-value]
    raise ValueError(f"bad sex {text!r} in reference_intervals.tsv")


def _yes(text: str) -> bool:
    if text not in ("yes", "no"):
        raise ValueError(f"expected yes or no, got {text!r} in reference_intervals.tsv")
    return text == "yes"


@cache
def reference_limits() -> tuple[ReferenceLimit, ...]:
    """Every shipped reference limit (reference_intervals.tsv), in file order."""
    limits = []
    for row in _rows("reference_intervals.tsv"):
        age_max = _opt_float(row["age_max"])
        limits.append(
            ReferenceLimit(
                loinc=row["loinc"],
                test=row["test"],
                sex=_sex(row["sex"]),
                age_min=float(row["age_min"]),
                age_max=age_max if age_max is None or math.isfinite(age_max) else None,
                low=_opt_float(row["low"]),
                high=_opt_float(row["high"]),
                unit=row["unit"],
                kind=row["kind"],  # type: ignore[arg-type]
                rules_out=_yes(row["rules_out"]),
                abnormal_at_limit=_yes(row["abnormal_at_limit"]),
                label=row["label"],
                source=row["source"],
                note=row["note"],
            )
        )
    return tuple(limits)


@cache
def _annotations() -> dict[str, tuple[Annotation, ...]]:
    by_code: dict[str, list[Annotation]] = {}
    for row in _rows("loinc2hpo-annotations.tsv.gz"):
        ann = Annotation(row["loincId"], row["loincScale"], row["outcome"], row["hpoTermId"])
        by_code.setdefault(ann.loinc, []).append(ann)
    return {k: tuple(v) for k, v in by_code.items()}


def annotations_for(loinc: str) -> tuple[Annotation, ...]:
    """The LOINC2HPO annotations of one test (empty if it has none)."""
    return _annotations().get(loinc, ())
