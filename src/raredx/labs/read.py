"""Read lab results: CSV/TSV tables (English or French headers) and FHIR R4 Observations.

Every problem found is collected and raised together as one InputError naming each row or
entry; nothing is guessed. Units are checked here (a unit the test cannot use is an error for
its row), values are converted and judged later by `raredx.labs.derive`.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import orjson

from raredx._files import read_bounded
from raredx.errors import InputError
from raredx.labs.catalog import LOINC_PATTERN, lab_tests, normalize_name, resolve_test
from raredx.labs.model import Comparator, LabResult, Outcome
from raredx.labs.units import UnitError, convert, unit_factor

__all__ = [
    "LOINC_SYSTEM",
    "MAX_LAB_BYTES",
    "MAX_RESULTS",
    "check_value",
    "parse_labs",
    "parse_range",
    "read_labs",
]

MAX_LAB_BYTES: Final = 20_000_000
"""Largest lab file read (bytes)."""
MAX_RESULTS: Final = 20_000
"""Most results in one file."""
_MAX_CELL: Final = 500
_MAX_PROBLEMS: Final = 50
LOINC_SYSTEM: Final = "http://loinc.org"
_UCUM: Final = "http://unitsofmeasure.org"

_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "loinc": ("loinc", "loinc code", "code loinc", "loinc_code"),
    "test": (
        "test", "test name", "name", "analyte", "analysis", "parameter", "code", "examen",
        "analyse", "parametre", "libelle", "nom",
    ),
    "value": ("value", "result", "valeur", "resultat", "result value"),
    "unit": ("unit", "units", "unite", "unites", "ucum"),
    "range": (
        "reference range", "reference", "ref range", "range", "normal range", "ref",
        "reference interval", "valeurs de reference", "valeur de reference",
        "intervalle de reference", "normes", "norme", "valeurs normales", "references",
    ),
    "low": ("low", "ref low", "reference low", "lower limit", "borne inferieure", "min"),
    "high": ("high", "ref high", "reference high", "upper limit", "borne superieure", "max"),
    "flag": ("flag", "abnormal flag", "interpretation", "indicateur", "drapeau", "alerte"),
    "date": ("date", "effective", "collection date", "date de prelevement", "prelevement"),
}  # fmt: skip
_FLAGS: Final[dict[str, Outcome]] = {
    "l": Outcome.LOW, "ll": Outcome.LOW, "low": Outcome.LOW, "lu": Outcome.LOW, "<": Outcome.LOW,
    "b": Outcome.LOW, "bas": Outcome.LOW, "basse": Outcome.LOW,
    "h": Outcome.HIGH, "hh": Outcome.HIGH, "high": Outcome.HIGH, "hu": Outcome.HIGH,
    ">": Outcome.HIGH, "haut": Outcome.HIGH, "haute": Outcome.HIGH, "eleve": Outcome.HIGH,
    "n": Outcome.NORMAL, "normal": Outcome.NORMAL, "normale": Outcome.NORMAL,
    "pos": Outcome.POSITIVE, "positive": Outcome.POSITIVE, "positif": Outcome.POSITIVE,
    "positif(ve)": Outcome.POSITIVE, "positive(+)": Outcome.POSITIVE, "+": Outcome.POSITIVE,
    "detected": Outcome.POSITIVE, "present": Outcome.POSITIVE, "reactive": Outcome.POSITIVE,
    "neg": Outcome.NEGATIVE, "negative": Outcome.NEGATIVE, "negatif": Outcome.NEGATIVE,
    "-": Outcome.NEGATIVE, "not detected": Outcome.NEGATIVE, "absent": Outcome.NEGATIVE,
    "nd": Outcome.NEGATIVE, "non detecte": Outcome.NEGATIVE,
}  # fmt: skip
_NO_FLAG: Final = frozenset({"", "a", "aa", "abnormal", "anormal", "*", "ind", "i"})
"""Flags that say nothing about the direction: ignored (the value and interval decide)."""
_SNOMED_PRESENCE: Final[dict[str, Outcome]] = {
    "10828004": Outcome.POSITIVE,
    "260385009": Outcome.NEGATIVE,
    "52101004": Outcome.POSITIVE,
    "2667000": Outcome.NEGATIVE,
}
_NUMBER: Final = re.compile(
    r"^\s*(<=|>=|≤|≥|<|>)?\s*([+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?)\s*$"
)
_RANGE: Final = re.compile(
    r"^\s*[\[(]?\s*([+-]?\d+(?:[.,]\d+)?)\s*(?:-|\u2013|\u2014|à|to|a|;|\.\.)\s*([+-]?\d+(?:[.,]\d+)?)\s*[\])]?\s*$"
)
_ONE_SIDED: Final = re.compile(r"^\s*(<=|>=|≤|≥|<|>)\s*([+-]?\d+(?:[.,]\d+)?)\s*$")


# ---------------------------------------------------------------------------- entry points
def read_labs(path: str | Path) -> tuple[LabResult, ...]:
    """Lab results from a CSV/TSV table or a FHIR R4 JSON file (Observation or Bundle).

    Raises InputError naming every bad row or entry; the file must be UTF-8 and at most
    MAX_LAB_BYTES.
    """
    data = read_bounded(path, MAX_LAB_BYTES, "a lab file")
    return parse_labs(_decode(data, str(path)), source=str(path))


def parse_labs(text: str, *, source: str = "lab input") -> tuple[LabResult, ...]:
    """Lab results from the text of a table (tab, semicolon or comma separated, with a header
    row) or of FHIR R4 JSON (first character `{`)."""
    if len(text) > MAX_LAB_BYTES:
        raise InputError(f"{source} is too large", [f"at most {MAX_LAB_BYTES:,} characters"])
    if "\x00" in text:
        raise InputError(f"{source} is not text", ["it contains NUL characters"])
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise InputError(f"cannot read lab results from {source}", ["it is empty"])
    if stripped.startswith(("{", "[")):
        results, problems = _read_fhir(stripped, source)
    else:
        results, problems = _read_table(stripped, source)
    if problems:
        raise InputError(f"cannot read lab results from {source}", _capped(problems))
    if not results:
        raise InputError(f"cannot read lab results from {source}", ["it holds no result"])
    return tuple(results)


def _decode(data: bytes, source: str) -> str:
    if len(data) > MAX_LAB_BYTES:
        raise InputError(f"{source} is too large", [f"more than {MAX_LAB_BYTES:,} bytes"])
    if b"\x00" in data:
        raise InputError(f"{source} is not text", ["it contains NUL bytes (a binary file?)"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source} is not UTF-8 text",
            [f"invalid byte at offset {exc.start}; re-save the file as UTF-8"],
        ) from None


def _capped(problems: list[str]) -> list[str]:
    if len(problems) <= _MAX_PROBLEMS:
        return problems
    return [*problems[:_MAX_PROBLEMS], f"... and {len(problems) - _MAX_PROBLEMS} more"]


# ---------------------------------------------------------------------------- tables
def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in ("\t", ";", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header_map(header: list[str]) -> tuple[dict[str, int], list[str]]:
    columns: dict[str, int] = {}
    for i, name in enumerate(header):
        key = normalize_name(name).strip("#* ")
        for field, names in _COLUMNS.items():
            if key in names and field not in columns:
                columns[field] = i
                break
    problems = []
    if "value" not in columns:
        problems.append("no value column (value, result, valeur, résultat)")
    if "test" not in columns and "loinc" not in columns:
        problems.append("no test column (test, name, loinc, examen, analyse)")
    if problems:
        problems.append(f"header found: {' | '.join(h[:40] for h in header[:20])}")
    return columns, problems


def _read_table(text: str, source: str) -> tuple[list[LabResult], list[str]]:
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(first))
    results: list[LabResult] = []
    problems: list[str] = []
    try:
        header = next(reader)
        columns, header_problems = _header_map(header)
        if header_problems:
            return [], header_problems
        for number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(results) >= MAX_RESULTS:
                problems.append(f"more than {MAX_RESULTS:,} results: split the file")
                break
            cells = {f: row[i].strip() if i < len(row) else "" for f, i in columns.items()}
            result = _table_result(f"row {number}", cells, problems)
            if result is not None:
                results.append(result)
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: {exc}")
    return results, problems


def _table_result(where: str, cells: Mapping[str, str], problems: list[str]) -> LabResult | None:
    long = [f for f, v in cells.items() if len(v) > _MAX_CELL]
    if long:
        problems.append(f"{where}: {', '.join(long)} longer than {_MAX_CELL} characters")
        return None
    name = cells.get("loinc") or cells.get("test") or ""
    if not name:
        problems.append(f"{where}: no test name or LOINC code")
        return None
    value_text = cells.get("value", "")
    if not value_text:
        problems.append(f"{where} ({name}): no value")
        return None
    flag, flag_problem = _flag(cells.get("flag", ""))
    if flag_problem:
        problems.append(f"{where} ({name}): {flag_problem}")
        return None
    ref = _reference(cells, where, name, problems)
    if ref is None:
        return None
    return _result(
        where,
        name,
        value_text=value_text,
        unit=cells.get("unit", ""),
        ref=ref,
        flag=flag,
        date=cells.get("date") or None,
        problems=problems,
    )


def _reference(
    cells: Mapping[str, str], where: str, name: str, problems: list[str]
) -> tuple[float | None, float | None] | None:
    low_text, high_text = cells.get("low", ""), cells.get("high", "")
    if low_text or high_text:
        low, high = _number_or_none(low_text), _number_or_none(high_text)
        if (low_text and low is None) or (high_text and high is None):
            problems.append(f"{where} ({name}): reference limits {low_text!r} {high_text!r}")
            return None
        return _ordered(low, high, where, name, problems)
    text = cells.get("range", "")
    if not text:
        return (None, None)
    parsed = parse_range(text)
    if parsed is None:
        problems.append(
            f"{where} ({name}): cannot read reference range {text!r} (use 3.5-5.0, <5 or >10)"
        )
        return None
    return _ordered(*parsed, where, name, problems)


def _ordered(
    low: float | None, high: float | None, where: str, name: str, problems: list[str]
) -> tuple[float | None, float | None] | None:
    if low is not None and high is not None and low > high:
        problems.append(f"{where} ({name}): reference range low {low:g} is above high {high:g}")
        return None
    return (low, high)


def parse_range(text: str) -> tuple[float | None, float | None] | None:
    """(low, high) of a written range: "3.5-5.0", "3,5 - 5,0", "[3.5 ; 5.0]", "<5", ">10";
    None if unreadable."""
    m = _RANGE.match(text)
    if m:
        return (_float(m.group(1)), _float(m.group(2)))
    m = _ONE_SIDED.match(text)
    if m:
        bound = _float(m.group(2))
        return (None, bound) if m.group(1) in ("<", "<=", "≤") else (bound, None)
    return None


def _float(text: str) -> float:
    return float(text.replace(",", "."))


def _number_or_none(text: str) -> float | None:
    try:
        value = _float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _flag(text: str) -> tuple[Outcome | None, str]:
    key = normalize_name(text)
    if key in _NO_FLAG:
        return None, ""
    if key in _FLAGS:
        return _FLAGS[key], ""
    return None, f"unknown flag {text[:40]!r} (use H, L, N, POS or NEG)"


def _result(
    where: str,
    name: str,
    *,
    value_text: str,
    unit: str,
    ref: tuple[float | None, float | None],
    flag: Outcome | None,
    date: str | None,
    problems: list[str],
) -> LabResult | None:
    """A LabResult from text cells, or None after adding its problems."""
    test, why = resolve_test(name, unit or None)
    code = test.loinc if test else name.strip()
    if test is None and not LOINC_PATTERN.match(code):
        problems.append(f"{where}: {why}")
        return None
    label = test.name if test else code
    tag = f"{where} ({label})"
    qualitative = test is not None and test.scale != "Qn"
    presence = _presence(value_text)
    if presence is not None and (test is None or qualitative):
        return LabResult(where, label, code, outcome=presence, flag=flag, date=date)
    if qualitative:
        problems.append(f"{tag}: result {value_text[:40]!r} is not positive or negative")
        return None
    m = _NUMBER.match(value_text)
    if not m:
        problems.append(f"{tag}: value {value_text[:40]!r} is not a number")
        return None
    value = _float(m.group(2))
    if not math.isfinite(value):
        problems.append(f"{tag}: value {value_text[:40]!r} is not a finite number")
        return None
    comparator = _COMPARATORS.get(m.group(1) or "")
    problem = check_value(test, value, unit) if test else _check_bare(value)
    if problem:
        problems.append(f"{tag}: {problem}")
        return None
    return LabResult(
        where,
        label,
        code,
        value=value,
        unit=unit,
        comparator=comparator,
        ref_low=ref[0],
        ref_high=ref[1],
        flag=flag,
        date=date,
    )


_COMPARATORS: Final[dict[str, Comparator]] = {
    "<": "<", "<=": "<=", "≤": "<=", ">": ">", ">=": ">=", "≥": ">=",
}  # fmt: skip


def _check_bare(value: float) -> str:
    return "a value cannot be negative" if value < 0 else ""


def check_value(test: Any, value: float, unit: str) -> str:
    """Why a value is impossible for this test (negative, a percentage above 100, above the
    test's sanity bound, or a unit the test cannot use); empty if acceptable."""
    if not unit and test.dimension not in ("ratio", "presence"):
        return f"no unit (expected a unit like {test.unit})"
    try:
        shown = convert(value, unit, test.unit, test.dimension, molar_mass=test.molar_mass)
    except UnitError as exc:
        return f"{exc} (expected a unit like {test.unit})"
    if value < 0:
        return f"impossible value {value:g} {unit}: a {test.name} cannot be negative"
    if shown > test.max_value:
        return (
            f"impossible value {value:g} {unit} (= {shown:.4g} {test.unit}): above "
            f"{test.max_value:g} {test.unit}; check the value and its unit"
        )
    return ""


# ---------------------------------------------------------------------------- FHIR R4
def _read_fhir(text: str, source: str) -> tuple[list[LabResult], list[str]]:
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return [], [f"not valid JSON: {exc}"]
    if not isinstance(doc, dict):
        return [], ["a FHIR file holds one resource (an Observation or a Bundle) as a JSON object"]
    kind = doc.get("resourceType")
    if kind == "Observation":
        entries: Iterable[tuple[str, Any]] = [("Observation", doc)]
    elif kind == "Bundle":
        found = doc.get("entry", [])
        if not isinstance(found, list):
            return [], ["Bundle.entry must be a list"]
        entries = _bundle_entries(found)
    else:
        return [], [f"resourceType {str(kind)[:40]!r}: expected Observation or Bundle"]
    results: list[LabResult] = []
    problems: list[str] = []
    for where, resource in entries:
        if len(results) >= MAX_RESULTS:
            problems.append(f"more than {MAX_RESULTS:,} results: split the file")
            break
        results.extend(_observation(where, resource, problems))
    return results, problems


def _bundle_entries(entries: list[Any]) -> Iterator[tuple[str, Any]]:
    for i, entry in enumerate(entries, start=1):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            yield f"entry {i}", None
            continue
        if resource.get("resourceType") != "Observation":
            continue  # Patient, DiagnosticReport... are not results
        rid = resource.get("id")
        yield (f"entry {i} (Observation/{str(rid)[:40]})" if rid else f"entry {i}"), resource


def _observation(where: str, obs: Any, problems: list[str]) -> list[LabResult]:
    if not isinstance(obs, dict):
        problems.append(f"{where}: not a FHIR resource object")
        return []
    if obs.get("status") in ("entered-in-error", "cancelled"):
        return []
    code = _loinc_code(obs.get("code"))
    components = obs.get("component")
    if isinstance(components, list) and not _has_value(obs):
        out = []
        for j, comp in enumerate(components, start=1):
            if isinstance(comp, dict) and _has_value(comp):
                out.extend(_observation_value(f"{where} component {j}", comp, obs, problems))
        if not out and not isinstance(obs.get("hasMember"), list):
            problems.append(f"{where}: no value in the Observation or its components")
        return out
    if code is None:
        problems.append(f"{where}: no LOINC coding (code.coding with system {LOINC_SYSTEM})")
        return []
    if not _has_value(obs):
        if isinstance(obs.get("hasMember"), list):
            return []  # a panel grouping other Observations
        problems.append(f"{where} ({code}): no value (valueQuantity, valueCodeableConcept...)")
        return []
    return _observation_value(where, obs, obs, problems)


def _has_value(obj: Mapping[str, Any]) -> bool:
    return any(k.startswith("value") for k in obj)


def _loinc_code(concept: Any) -> str | None:
    if not isinstance(concept, dict) or not isinstance(concept.get("coding"), list):
        return None
    for coding in concept["coding"]:
        if isinstance(coding, dict) and coding.get("system") == LOINC_SYSTEM:
            code = coding.get("code")
            if isinstance(code, str) and LOINC_PATTERN.match(code.strip()):
                return code.strip()
    return None


def _observation_value(
    where: str, obj: Mapping[str, Any], obs: Mapping[str, Any], problems: list[str]
) -> list[LabResult]:
    code = _loinc_code(obj.get("code"))
    if code is None:
        problems.append(f"{where}: no LOINC coding (code.coding with system {LOINC_SYSTEM})")
        return []
    date = obs.get("effectiveDateTime")
    date = date[:40] if isinstance(date, str) else None
    flag = _interpretation(obj.get("interpretation"))
    if "valueQuantity" in obj:
        return _quantity_result(where, code, obj, flag, date, problems)
    outcome = _coded_outcome(obj)
    if outcome is None:
        problems.append(f"{where} ({code}): value is neither a quantity nor positive/negative")
        return []
    return [LabResult(where, code, code, outcome=outcome, flag=flag, date=date)]


def _quantity_result(
    where: str,
    code: str,
    obj: Mapping[str, Any],
    flag: Outcome | None,
    date: str | None,
    problems: list[str],
) -> list[LabResult]:
    q = obj["valueQuantity"]
    value = q.get("value") if isinstance(q, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"{where} ({code}): valueQuantity.value must be a number")
        return []
    unit = _quantity_unit(q)
    comparator = q.get("comparator")
    value_text = f"{comparator if comparator in _COMPARATORS else ''}{value!r}"
    ref = _fhir_range(obj.get("referenceRange"), unit, code, where, problems)
    if ref is None:
        return []
    result = _result(
        where,
        code,
        value_text=value_text,
        unit=unit,
        ref=ref,
        flag=flag,
        date=date,
        problems=problems,
    )
    return [result] if result else []


def _quantity_unit(q: Mapping[str, Any]) -> str:
    code, unit = q.get("code"), q.get("unit")
    if q.get("system") == _UCUM and isinstance(code, str):
        return code[:_MAX_CELL]
    if isinstance(unit, str):
        return unit[:_MAX_CELL]
    return code[:_MAX_CELL] if isinstance(code, str) else ""


def _fhir_range(
    ranges: Any, unit: str, code: str, where: str, problems: list[str]
) -> tuple[float | None, float | None] | None:
    if not isinstance(ranges, list) or not ranges:
        return (None, None)
    first = ranges[0]
    if not isinstance(first, dict):
        problems.append(f"{where} ({code}): referenceRange[0] is not an object")
        return None
    bounds: list[float | None] = []
    for side in ("low", "high"):
        q = first.get(side)
        if q is None:
            bounds.append(None)
            continue
        value = q.get("value") if isinstance(q, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{where} ({code}): referenceRange[0].{side}.value must be a number")
            return None
        bounds.append(_range_in_unit(float(value), _quantity_unit(q), unit, code))
        if bounds[-1] is None:
            problems.append(
                f"{where} ({code}): referenceRange[0].{side} unit {_quantity_unit(q)!r} "
                f"does not convert to the value's unit {unit!r}"
            )
            return None
    return _ordered(bounds[0], bounds[1], where, code, problems)


def _range_in_unit(value: float, range_unit: str, unit: str, code: str) -> float | None:
    if not range_unit or range_unit == unit:
        return value
    test = lab_tests().get(code)
    if test is None:
        return None
    try:
        unit_factor(unit, test.dimension, molar_mass=test.molar_mass)
        return convert(value, range_unit, unit, test.dimension, molar_mass=test.molar_mass)
    except UnitError:
        return None


def _interpretation(concepts: Any) -> Outcome | None:
    if not isinstance(concepts, list):
        return None
    for concept in concepts:
        codings = concept.get("coding") if isinstance(concept, dict) else None
        for coding in codings if isinstance(codings, list) else []:
            code = coding.get("code") if isinstance(coding, dict) else None
            if isinstance(code, str):
                flag, _ = _flag(code)
                if flag is not None:
                    return flag
    return None


def _coded_outcome(obj: Mapping[str, Any]) -> Outcome | None:
    if isinstance(obj.get("valueString"), str):
        return _presence(obj["valueString"])
    if isinstance(obj.get("valueBoolean"), bool):
        return Outcome.POSITIVE if obj["valueBoolean"] else Outcome.NEGATIVE
    concept = obj.get("valueCodeableConcept")
    if not isinstance(concept, dict):
        return None
    for coding in concept.get("coding", []) if isinstance(concept.get("coding"), list) else []:
        if isinstance(coding, dict) and isinstance(coding.get("code"), str):
            found = _SNOMED_PRESENCE.get(coding["code"]) or _presence(coding["code"])
            if found is None and isinstance(coding.get("display"), str):
                found = _presence(coding["display"])
            if found is not None:
                return found
    text = concept.get("text")
    return _presence(text) if isinstance(text, str) else None


def _presence(text: str) -> Outcome | None:
    found = _FLAGS.get(normalize_name(text[:_MAX_CELL]))
    return found if found in (Outcome.POSITIVE, Outcome.NEGATIVE) else None
