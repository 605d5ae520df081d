"""Read and write GA4GH Phenopacket v2 JSON (Phenopacket and Family messages).

Reading checks the input against the Phenopacket v2 protobuf schema field by field, collects
every problem with its field path (``subject.sex: invalid value 'FOO' …``) and raises one
`InputError` naming the source (file, and line for JSON Lines). Unknown fields are ignored.
Writing produces JSON that the protobuf schema accepts and that re-reads to an equal `Case`.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import math
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

import orjson
from google.protobuf import json_format
from google.protobuf.timestamp_pb2 import Timestamp
from phenopackets import Family, Phenopacket

from raredx._files import atomic_file
from raredx.case.model import (
    MAX_AGE_YEARS,
    MAX_GESTATIONAL_DAYS,
    ZYGOSITY_GENO_IDS,
    Case,
    CaseMeta,
    ExternalReference,
    GenomicFile,
    PedigreePerson,
    PhenotypeObservation,
    RecordedDiagnosis,
    Resource,
    Sex,
    Subject,
    VariantCall,
    gestational_onset_term,
)
from raredx.errors import InputError

__all__ = [
    "CASE_FILE_SUFFIXES",
    "JSONL_SUFFIXES",
    "MAX_INPUT_BYTES",
    "MAX_NESTING",
    "CaseBytes",
    "CaseResult",
    "case_to_phenopacket",
    "dumps_phenopacket",
    "format_iso_duration",
    "is_jsonl",
    "parse_iso_duration",
    "read_case_bytes",
    "read_cases",
    "read_phenopacket",
    "write_phenopacket",
]

MAX_INPUT_BYTES = 50 * 1024 * 1024
"""Largest phenopacket (one file, or one JSON Lines line) accepted, in bytes: 50 MiB."""

MAX_NESTING = 64
"""Deepest nesting of known schema objects accepted (real phenopackets use fewer than 12)."""

CASE_FILE_SUFFIXES: tuple[str, ...] = (".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson")
"""File name endings that `read_cases` picks up when it walks a folder."""

JSONL_SUFFIXES: tuple[str, ...] = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
"""File name endings of JSON Lines files: one phenopacket a line."""

_GZIP_MAGIC = b"\x1f\x8b"
_UNKNOWN_ENUMS = frozenset(
    {"UNKNOWN_STATUS", "NOT_PROVIDED", "UNKNOWN_PROGRESS", "UNKNOWN_SEX", "MISSING"}
)
_ONSET_LABELS: dict[str, str] = {
    "HP:0003577": "Congenital onset",
    "HP:0003581": "Adult onset",
    "HP:0003584": "Late onset",
    "HP:0003593": "Infantile onset",
    "HP:0003596": "Middle age onset",
    "HP:0003621": "Juvenile onset",
    "HP:0003623": "Neonatal onset",
    "HP:0011460": "Embryonal onset",
    "HP:0011461": "Fetal onset",
    "HP:0011462": "Young adult onset",
    "HP:0011463": "Childhood onset",
    "HP:0025708": "Early young adult onset",
    "HP:0025709": "Intermediate young adult onset",
    "HP:0025710": "Late young adult onset",
    "HP:0030674": "Antenatal onset",
    "HP:0034197": "Third trimester onset",
    "HP:0034198": "Second trimester onset",
    "HP:0034199": "Late first trimester onset",
    "HP:0410280": "Pediatric onset",
}
_GENO_LABELS = {geno: label for label, geno in ZYGOSITY_GENO_IDS.items()}

_T = TypeVar("_T")

# ---------------------------------------------------------------------------------------------
# ISO 8601 durations
# ---------------------------------------------------------------------------------------------

_NUM = r"([0-9]+(?:[.,][0-9]+)?)"
_DURATION = re.compile(
    rf"P(?!$)(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?"
    rf"(?:T(?=[0-9])(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?"
)
_DAYS_PER_YEAR = 365.25
# What one unit of each component (Y, M, W, D, H, M, S) is divided by to give years.
_DURATION_DIVISORS = (
    1.0,
    12.0,
    _DAYS_PER_YEAR / 7.0,
    _DAYS_PER_YEAR,
    _DAYS_PER_YEAR * 24.0,
    _DAYS_PER_YEAR * 24.0 * 60.0,
    _DAYS_PER_YEAR * 24.0 * 3600.0,
)


def parse_iso_duration(text: str) -> float:
    """Years (float ≥ 0) in an ISO 8601 duration such as P6Y, P3Y2M, P10D, P4W or PT12H.

    A month is 1/12 year and a year 365.25 days. Raises `ValueError` if `text` is not a
    duration.
    """
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as P6Y, P3Y2M or P10D")
    years = 0.0
    for group, divisor in zip(match.groups(), _DURATION_DIVISORS, strict=True):
        if group is not None:
            years += float(group.replace(",", ".")) / divisor
    if not math.isfinite(years):
        raise ValueError(f"{text!r} is too long a duration")
    return years


def format_iso_duration(years: float) -> str:
    """An ISO 8601 duration that `parse_iso_duration` turns back into exactly `years`.

    Whole years, months and days (P3Y2M, P10D) when they represent `years` exactly, else
    decimal years (P0.5013Y). `years` must be finite and ≥ 0.
    """
    value = float(years)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"a duration needs a finite number of years ≥ 0: {years!r}")
    if value == 0:
        return "P0D"
    whole = math.floor(value)
    candidates: list[tuple[int, int, int]] = []
    for y, month_part in (
        (whole, math.floor((value - whole) * 12)),
        (whole, round((value - whole) * 12)),
        (0, round(value * 12)),
        (0, 0),
    ):
        rest = value - (y + month_part / 12.0)
        candidates.append((y, month_part, round(rest * _DAYS_PER_YEAR)))
    for y, m, d in candidates:
        parts = "".join(f"{n}{unit}" for n, unit in ((y, "Y"), (m, "M"), (d, "D")) if n)
        if min(y, m, d) >= 0 and parts and parse_iso_duration(f"P{parts}") == value:
            return f"P{parts}"
    return f"P{format(Decimal(repr(value)), 'f')}Y"


# ---------------------------------------------------------------------------------------------
# Result of reading one item of a batch
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One item of a batch: the case read from `source` ("file" or "file:line"), or its error."""

    source: str
    case: Case | None = None
    error: InputError | None = None

    def __post_init__(self) -> None:
        if (self.case is None) == (self.error is None):
            raise ValueError("a CaseResult holds either a case or an error")

    @property
    def ok(self) -> bool:
        """True when the case was read."""
        return self.case is not None


# ---------------------------------------------------------------------------------------------
# Reading: bytes -> JSON object
# ---------------------------------------------------------------------------------------------


def _too_big(size: int) -> str:
    return (
        f"input is {size / 1024 / 1024:.1f} MiB; phenopackets larger than "
        f"{MAX_INPUT_BYTES // 1024 // 1024} MiB are refused"
    )


class _Stream(Protocol):
    """A binary stream (file or gzip) as far as the readers need it."""

    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, size: int = -1, /) -> bytes: ...


def _read_limited(stream: _Stream, name: str) -> bytes:
    data = stream.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"{name}: {_too_big(len(data))} (after decompression)")
    return data


def _read_file_bytes(path: Path, name: str) -> bytes:
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise InputError(f"{name}: is a folder, not a phenopacket file")
        if size > MAX_INPUT_BYTES:
            raise InputError(f"{name}: {_too_big(size)}")
        with path.open("rb") as raw:
            data = _read_limited(raw, name)
        if data[:2] == _GZIP_MAGIC:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as unzipped:
                data = _read_limited(unzipped, name)
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except ValueError as exc:  # e.g. a NUL character in the path
        raise InputError(f"{name!r}: not a usable file name ({exc})") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{name}: cannot read the file ({_os_reason(exc)})") from None
    return data


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, EOFError):
        return "compressed data is truncated"
    return str(exc) or type(exc).__name__


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _decode_json(data: bytes, name: str) -> object:
    if not data.strip():
        raise InputError(f"{name}: is empty (expected a Phenopacket v2 JSON object)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}: is not UTF-8 text (byte {exc.start}); is it a binary file?"
        ) from None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:  # names line and column; nesting is capped at 1024
        raise InputError(f"{name}: is not valid JSON ({exc})") from None


# ---------------------------------------------------------------------------------------------
# Reading: JSON object -> schema-checked protobuf message
# ---------------------------------------------------------------------------------------------

_INT_RANGES = {
    3: (-(2**63), 2**63 - 1),  # int64
    4: (0, 2**64 - 1),  # uint64
    5: (-(2**31), 2**31 - 1),  # int32
    13: (0, 2**32 - 1),  # uint32
}
_T_DOUBLE, _T_BOOL, _T_STRING, _T_MESSAGE, _T_ENUM = 1, 8, 9, 11, 14


@dataclass(frozen=True, slots=True)
class _Field:
    """What the schema walk needs to know about one protobuf field."""

    name: str
    json_name: str
    kind: int
    repeated: bool
    is_map: bool
    is_timestamp: bool
    message: Any
    enum_names: tuple[str, ...]
    enum_by_number: dict[int, str]


@dataclass(frozen=True, slots=True)
class _Schema:
    """Fields of one message by JSON name and by proto name, and its oneof groups."""

    fields: dict[str, _Field]
    oneofs: tuple[tuple[str, ...], ...]


_SCHEMAS: dict[str, _Schema] = {}


def _schema(descriptor: Any) -> _Schema:
    key = str(descriptor.full_name)
    cached = _SCHEMAS.get(key)
    if cached is None:
        fields: dict[str, _Field] = {}
        for f in descriptor.fields:
            message = f.message_type
            enum = f.enum_type
            info = _Field(
                name=str(f.name),
                json_name=str(f.json_name),
                kind=int(f.type),
                repeated=_is_repeated(f),
                is_map=message is not None and bool(message.GetOptions().map_entry),
                is_timestamp=message is not None
                and message.full_name == "google.protobuf.Timestamp",
                message=message,
                enum_names=tuple(str(v.name) for v in enum.values) if enum is not None else (),
                enum_by_number=(
                    {int(v.number): str(v.name) for v in enum.values} if enum is not None else {}
                ),
            )
            fields[info.name] = info
            fields[info.json_name] = info
        oneofs = tuple(tuple(str(f.json_name) for f in o.fields) for o in descriptor.oneofs)
        cached = _SCHEMAS[key] = _Schema(fields, oneofs)
    return cached


def _is_repeated(field: Any) -> bool:
    flag = getattr(field, "is_repeated", None)
    if isinstance(flag, bool):
        return flag
    return bool(field.label == 3)  # pragma: no cover - protobuf < 5.28


class _SchemaCheck:
    """Walks a JSON object along a protobuf descriptor: drops unknown keys, records problems."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, path: str, text: str) -> None:
        self.problems.append(f"{path or '(top level)'}: {text}")

    def message(self, value: object, descriptor: Any, path: str, depth: int) -> dict[str, Any]:
        if depth > MAX_NESTING:
            self.problem(path, f"nested deeper than {MAX_NESTING} levels")
            return {}
        if not isinstance(value, Mapping):
            self.problem(path, f"expected an object, got {_kind(value)} {_show(value)}")
            return {}
        schema = _schema(descriptor)
        out: dict[str, Any] = {}
        seen: dict[str, str] = {}
        for key, item in value.items():
            field = schema.fields.get(key) if isinstance(key, str) else None
            if field is None or item is None:
                continue  # unknown fields are tolerated; null means "not given"
            sub = f"{path}.{field.json_name}" if path else field.json_name
            if field.name in seen:
                self.problem(sub, f"given twice (as {seen[field.name]} and {key})")
                continue
            seen[field.name] = key
            checked = self.field(item, field, sub, depth)
            if checked is not None:
                out[field.json_name] = checked
        for group in schema.oneofs:
            present = [name for name in group if name in out]
            if len(present) > 1:
                self.problem(path, f"give only one of {', '.join(present)}")
        return out

    def field(self, value: object, field: _Field, path: str, depth: int) -> Any:
        if field.is_map:
            return self.string_map(value, path)
        if field.repeated:
            if not isinstance(value, list | tuple):
                self.problem(path, f"expected an array, got {_kind(value)} {_show(value)}")
                return None
            items = []
            for i, item in enumerate(value):
                if item is None:
                    self.problem(f"{path}[{i}]", "null is not allowed in an array")
                    continue
                checked = self.single(item, field, f"{path}[{i}]", depth)
                if checked is not None:
                    items.append(checked)
            return items
        return self.single(value, field, path, depth)

    def string_map(self, value: object, path: str) -> dict[str, str] | None:
        if not isinstance(value, Mapping):
            self.problem(path, f"expected an object of text values, got {_kind(value)}")
            return None
        out: dict[str, str] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not isinstance(item, str):
                self.problem(f"{path}.{key}", f"expected text, got {_kind(item)} {_show(item)}")
            elif self.valid_text(item, f"{path}.{key}") and self.valid_text(key, path):
                out[key] = item
        return out

    def valid_text(self, value: str, path: str) -> bool:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            self.problem(path, "text is not valid Unicode")
            return False
        return True

    def single(self, value: object, field: _Field, path: str, depth: int) -> Any:
        kind = field.kind
        if kind == _T_STRING:
            if isinstance(value, str):
                return value if self.valid_text(value, path) else None
            self.problem(path, f"expected text, got {_kind(value)} {_show(value)}")
            return None
        if kind == _T_MESSAGE:
            if field.is_timestamp:
                return self.timestamp(value, path)
            return self.message(value, field.message, path, depth + 1)
        if kind == _T_BOOL:
            if isinstance(value, bool):
                return value
            self.problem(path, f"expected true or false, got {_kind(value)} {_show(value)}")
            return None
        if kind == _T_ENUM:
            return self.enum(value, field, path)
        if kind == _T_DOUBLE:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
            self.problem(path, f"expected a number, got {_kind(value)} {_show(value)}")
            return None
        if kind in _INT_RANGES:
            return self.integer(value, _INT_RANGES[kind], path)
        self.problem(path, "unsupported field type")  # pragma: no cover - not in the schema
        return None  # pragma: no cover

    def integer(self, value: object, bounds: tuple[int, int], path: str) -> int | None:
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif (isinstance(value, float) and value.is_integer()) or (
            isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,20}", value.strip())
        ):
            number = int(value)
        if number is None:
            self.problem(path, f"expected a whole number, got {_kind(value)} {_show(value)}")
            return None
        if not bounds[0] <= number <= bounds[1]:
            self.problem(path, f"{number} is out of range ({bounds[0]} to {bounds[1]})")
            return None
        return number

    def enum(self, value: object, field: _Field, path: str) -> str | None:
        if isinstance(value, str) and value in field.enum_names:
            return value
        if isinstance(value, int) and not isinstance(value, bool) and value in field.enum_by_number:
            return field.enum_by_number[value]
        expected = ", ".join(field.enum_names)
        self.problem(path, f"invalid value {_show(value)} (expected one of {expected})")
        return None

    def timestamp(self, value: object, path: str) -> str | None:
        if not isinstance(value, str):
            self.problem(path, f"expected an RFC 3339 timestamp, got {_kind(value)}")
            return None
        try:
            Timestamp().FromJsonString(value)
        except (ValueError, TypeError, OverflowError) as exc:
            self.problem(
                path,
                f"{_show(value)} is not an RFC 3339 timestamp such as 2024-03-05T13:15:24Z ({exc})",
            )
            return None
        return value


_PARSE_PREFIX = re.compile(r"^(?:Failed to parse \w+ field: )+")
_PARSE_PATH = re.compile(r'\s+at "?(?:Phenopacket|Family)\.?([^"\s]*?)"?\.*(?:\n.*)?$', re.S)


def _clean_parse_error(exc: Exception) -> str:
    """A protobuf ParseError message reduced to "field.path: reason"."""
    text = str(exc)
    fields = re.findall(r"Failed to parse (\w+) field", text)
    match = _PARSE_PATH.search(text)
    path = match.group(1) if match else ".".join(fields)
    core = _PARSE_PREFIX.sub("", text[: match.start()] if match else text).rstrip(". ")
    return f"{path or '(top level)'}: {core or type(exc).__name__}"


def _to_message(obj: Mapping[str, Any], name: str) -> tuple[Any, bool]:
    """Schema-check `obj` and parse it into a protobuf Phenopacket or Family (is_family)."""
    if "proband" in obj:
        descriptor, factory, is_family = Family.DESCRIPTOR, Family, True
    elif "members" in obj and "subject" not in obj:
        raise InputError(
            f"{name}: is a Phenopacket Cohort; raredx reads Phenopacket and Family messages"
        )
    else:
        descriptor, factory, is_family = Phenopacket.DESCRIPTOR, Phenopacket, False
    check = _SchemaCheck()
    try:
        pruned = check.message(obj, descriptor, "", 0)
    except RecursionError:
        raise InputError(f"{name}: is nested too deeply to be a phenopacket") from None
    if check.problems:
        raise InputError(f"{name}: is not a valid Phenopacket v2", check.problems)
    try:
        message = json_format.ParseDict(pruned, factory(), ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise InputError(
            f"{name}: is not a valid Phenopacket v2", [_clean_parse_error(exc)]
        ) from None
    except (ValueError, TypeError, AttributeError, KeyError, RecursionError) as exc:
        raise InputError(f"{name}: is not a valid Phenopacket v2 ({exc})") from None
    return message, is_family


# ---------------------------------------------------------------------------------------------
# Reading: protobuf message -> Case
# ---------------------------------------------------------------------------------------------


def _s(value: Any) -> str | None:
    """A protobuf string as stripped text, or None when empty."""
    text = str(value).strip()
    return text or None


def _enum_name(message: Any, field_name: str) -> str:
    field = message.DESCRIPTOR.fields_by_name[field_name]
    number = int(getattr(message, field_name))
    value = field.enum_type.values_by_number.get(number)
    return str(value.name) if value is not None else str(number)


def _known_enum(message: Any, field_name: str) -> str | None:
    name = _enum_name(message, field_name)
    return None if name in _UNKNOWN_ENUMS else name


class _Builder:
    """Turns protobuf messages into model objects, collecting every problem with its path."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def make(self, path: str, factory: Callable[..., _T], **kwargs: Any) -> _T | None:
        try:
            return factory(**kwargs)
        except ValueError as exc:
            self.problems.append(f"{path or '(top level)'}: {exc}")
            return None

    def duration(self, text: Any, path: str) -> float | None:
        try:
            years = parse_iso_duration(str(text))
        except ValueError as exc:
            self.problems.append(f"{path}: {exc}")
            return None
        if years > MAX_AGE_YEARS:
            self.problems.append(f"{path}: {text} is more than {MAX_AGE_YEARS:g} years")
            return None
        return years

    def time_element(self, te: Any, path: str) -> tuple[float | None, str | None, int | None]:
        """(years, onset term, gestational days) of a TimeElement; at most one is set."""
        kind = te.WhichOneof("element")
        if kind == "age":
            return self.duration(te.age.iso8601duration, f"{path}.age.iso8601duration"), None, None
        if kind == "age_range" and te.age_range.HasField("start"):
            start = te.age_range.start.iso8601duration
            return self.duration(start, f"{path}.ageRange.start.iso8601duration"), None, None
        if kind == "gestational_age":
            return None, None, int(te.gestational_age.weeks) * 7 + int(te.gestational_age.days)
        if kind == "ontology_class":
            return None, _s(te.ontology_class.id), None
        return None, None, None  # timestamps and intervals need a birth date: not used

    def subject(self, pp: Any, case_id: str, path: str) -> Subject | None:
        s = pp.subject
        age: float | None = None
        if s.HasField("time_at_last_encounter"):
            where = f"{path}subject.timeAtLastEncounter"
            years, _, _ = self.time_element(s.time_at_last_encounter, where)
            age = years
        born: date | None = None
        if s.HasField("date_of_birth"):
            born = s.date_of_birth.ToDatetime(tzinfo=UTC).date()
        return self.make(
            f"{path}subject",
            Subject,
            id=_s(s.id) or case_id,
            sex=Sex(_enum_name(s, "sex")),
            age_years=age,
            date_of_birth=born,
        )

    def features(self, pp: Any, path: str) -> list[PhenotypeObservation]:
        out: list[PhenotypeObservation] = []
        for i, pf in enumerate(pp.phenotypic_features):
            where = f"{path}phenotypicFeatures[{i}]"
            term = _s(pf.type.id)
            if term is None:
                self.problems.append(
                    f"{where}.type.id: missing (an HPO term id such as HP:0001744)"
                )
                continue
            years, onset_term, days = (None, None, None)
            if pf.HasField("onset"):
                years, onset_term, days = self.time_element(pf.onset, f"{where}.onset")
            obs = self.make(
                where,
                PhenotypeObservation,
                term_id=term,
                label=_s(pf.type.label),
                excluded=bool(pf.excluded),
                onset_years=years,
                onset_term=onset_term,
                onset_gestational_days=days,
            )
            if obs is not None:
                out.append(obs)
        return out

    def variant(self, gi: Any, path: str) -> VariantCall | None:
        status = _known_enum(gi, "interpretation_status")
        call = gi.WhichOneof("call")
        if call == "gene":
            return self.make(
                f"{path}.gene",
                VariantCall,
                gene_symbol=_s(gi.gene.symbol),
                gene_id=_s(gi.gene.value_id),
                interpretation_status=status,
            )
        if call != "variant_interpretation":
            self.problems.append(f"{path}: needs a gene or a variantInterpretation")
            return None
        vi = gi.variant_interpretation
        vd = vi.variation_descriptor
        vcf = vd.vcf_record
        has_vcf = vd.HasField("vcf_record")
        zygosity: str | None = None
        if vd.HasField("allelic_state"):
            zygosity = _GENO_LABELS.get(str(vd.allelic_state.id).strip())
            if zygosity is None and _s(vd.allelic_state.label):
                zygosity = str(vd.allelic_state.label).strip().lower()
        hgvs = tuple(
            str(e.value).strip()
            for e in vd.expressions
            if str(e.syntax).strip().lower().startswith("hgvs") and _s(e.value)
        )
        return self.make(
            f"{path}.variantInterpretation.variationDescriptor",
            VariantCall,
            chrom=_s(vcf.chrom) if has_vcf else None,
            pos=(int(vcf.pos) or None) if has_vcf else None,
            ref=_s(vcf.ref) if has_vcf else None,
            alt=_s(vcf.alt) if has_vcf else None,
            assembly=_s(vcf.genome_assembly) if has_vcf else None,
            gene_symbol=_s(vd.gene_context.symbol),
            gene_id=_s(vd.gene_context.value_id),
            hgvs=hgvs,
            zygosity=zygosity,
            interpretation_status=status,
            acmg_class=_known_enum(vi, "acmg_pathogenicity_classification"),
            variant_id=_s(vd.id),
            label=_s(vd.label),
            structural_type=_s(vd.structural_type.id),
        )

    def diagnoses(self, pp: Any, path: str) -> list[RecordedDiagnosis]:
        out: list[RecordedDiagnosis] = []
        for i, interp in enumerate(pp.interpretations):
            where = f"{path}interpretations[{i}]"
            diag = interp.diagnosis
            variants = []
            for k, gi in enumerate(diag.genomic_interpretations):
                call = self.variant(gi, f"{where}.diagnosis.genomicInterpretations[{k}]")
                if call is not None:
                    variants.append(call)
            disease = _s(diag.disease.id)
            if disease is None and not variants and not diag.genomic_interpretations:
                continue  # an interpretation that records no diagnosis yet
            made = self.make(
                f"{where}.diagnosis",
                RecordedDiagnosis,
                disease_id=disease,
                label=_s(diag.disease.label),
                variants=tuple(variants),
                progress_status=_known_enum(interp, "progress_status"),
            )
            if made is not None:
                out.append(made)
        recorded = {d.disease_id: k for k, d in enumerate(out)}
        for i, disease in enumerate(pp.diseases):
            if disease.excluded:
                continue
            where = f"{path}diseases[{i}]"
            disease_id = _s(disease.term.id)
            if disease_id is None:
                self.problems.append(f"{where}.term.id: missing (a disease id such as OMIM:601859)")
                continue
            years, onset_term = None, None
            if disease.HasField("onset"):
                years, onset_term, days = self.time_element(disease.onset, f"{where}.onset")
                if days is not None:
                    onset_term = gestational_onset_term(min(days, MAX_GESTATIONAL_DAYS))
            onset = {"onset_years": years, "onset_term": onset_term}
            if disease_id in recorded:
                k = recorded[disease_id]
                if out[k].onset_years is None and out[k].onset_term is None:
                    made = self.make(where, partial(replace, out[k]), **onset)
                    if made is not None:
                        out[k] = made
                continue
            recorded[disease_id] = len(out)
            made = self.make(
                where,
                RecordedDiagnosis,
                disease_id=disease_id,
                label=_s(disease.term.label),
                **onset,
            )
            if made is not None:
                out.append(made)
        return out

    def files(self, files: Any, path: str) -> list[GenomicFile]:
        out: list[GenomicFile] = []
        for i, f in enumerate(files):
            attributes = {str(k): str(v) for k, v in f.file_attributes.items()}
            made = self.make(
                f"{path}files[{i}]",
                GenomicFile,
                uri=_s(f.uri) or "",
                assembly=_s(attributes.get("genomeAssembly", "")),
                file_format=_s(attributes.get("fileFormat", "")),
                individual_to_file_ids=tuple(
                    sorted(
                        (str(k).strip(), str(v).strip())
                        for k, v in f.individual_to_file_identifiers.items()
                    )
                ),
            )
            if made is not None:
                out.append(made)
        return out

    def meta(self, md: Any, path: str) -> CaseMeta | None:
        where = f"{path}metaData"
        version = _s(md.phenopacket_schema_version) or "2.0"
        if version.startswith("1"):
            self.problems.append(
                f"{where}.phenopacketSchemaVersion: schema {version} is not supported;"
                " convert the file to Phenopacket v2 (e.g. with phenopacket-tools convert)"
            )
            return None
        resources = []
        for i, r in enumerate(md.resources):
            made = self.make(
                f"{where}.resources[{i}]",
                Resource,
                id=_s(r.id) or "",
                name=str(r.name).strip(),
                url=str(r.url).strip(),
                version=str(r.version).strip(),
                namespace_prefix=str(r.namespace_prefix).strip(),
                iri_prefix=str(r.iri_prefix).strip(),
            )
            if made is not None:
                resources.append(made)
        references = []
        for i, x in enumerate(md.external_references):
            ref = self.make(
                f"{where}.externalReferences[{i}]",
                ExternalReference,
                id=_s(x.id) or "",
                reference=str(x.reference).strip(),
                description=str(x.description).strip(),
            )
            if ref is not None:
                references.append(ref)
        created = md.created.ToDatetime(tzinfo=UTC) if md.HasField("created") else None
        return self.make(
            where,
            CaseMeta,
            created=created,
            created_by=_s(md.created_by),
            submitted_by=_s(md.submitted_by),
            schema_version=version,
            resources=tuple(resources),
            external_references=tuple(references),
        )

    def case(
        self,
        pp: Any,
        path: str,
        *,
        fallback_id: str | None = None,
        family: Any = None,
    ) -> Case | None:
        case_id = _s(pp.id) or fallback_id
        if case_id is None:
            self.problems.append(f"{path}id: missing (every phenopacket needs an id)")
            return None
        subject = self.subject(pp, case_id, path)
        features = self.features(pp, path)
        diagnoses = self.diagnoses(pp, path)
        files: list[GenomicFile] = []
        pedigree: list[PedigreePerson] = []
        relatives: list[Case] = []
        family_id: str | None = None
        consanguineous = False
        meta_source, meta_path = pp.meta_data, path
        if family is not None:
            family_id = _s(family.id)
            if family_id is None:
                self.problems.append("id: missing (every Family needs an id)")
            files += self.files(family.files, "")
            pedigree = self.pedigree(family.pedigree)
            for i, relative in enumerate(family.relatives):
                made = self.case(relative, f"relatives[{i}].")
                if made is not None:
                    relatives.append(made)
            consanguineous = bool(family.consanguinous_parents)
            if family.HasField("meta_data"):
                meta_source, meta_path = family.meta_data, ""
        files += self.files(pp.files, path)
        meta = self.meta(meta_source, meta_path)
        if subject is None or meta is None or self.problems:
            return None
        return self.make(
            path.rstrip(".") or "",
            Case,
            id=case_id,
            subject=subject,
            features=tuple(features),
            diagnoses=tuple(diagnoses),
            files=tuple(files),
            pedigree=tuple(pedigree),
            relatives=tuple(relatives),
            family_id=family_id,
            consanguineous_parents=consanguineous,
            meta=meta,
        )

    def pedigree(self, pedigree: Any) -> list[PedigreePerson]:
        out: list[PedigreePerson] = []
        for i, p in enumerate(pedigree.persons):
            affected = {"AFFECTED": True, "UNAFFECTED": False}.get(_enum_name(p, "affected_status"))
            made = self.make(
                f"pedigree.persons[{i}]",
                PedigreePerson,
                family_id=_s(p.family_id) or "",
                individual_id=_s(p.individual_id) or "",
                paternal_id=_parent(p.paternal_id),
                maternal_id=_parent(p.maternal_id),
                sex=Sex(_enum_name(p, "sex")),
                affected=affected,
            )
            if made is not None:
                out.append(made)
        return out


def _parent(value: Any) -> str | None:
    text = _s(value)
    return None if text in (None, "0") else text


def _case_from_object(obj: object, name: str) -> Case:
    if not isinstance(obj, Mapping):
        raise InputError(
            f"{name}: expected a JSON object (a Phenopacket or Family), got {_kind(obj)}"
        )
    message, is_family = _to_message(obj, name)
    builder = _Builder()
    try:
        if is_family:
            if not message.HasField("proband"):
                builder.problems.append("proband: missing (a Family needs its proband phenopacket)")
                case = None
            else:
                case = builder.case(
                    message.proband, "proband.", fallback_id=_s(message.id), family=message
                )
        else:
            case = builder.case(message, "")
    except (ValueError, OverflowError) as exc:  # e.g. a timestamp outside datetime's range
        builder.problems.append(f"(top level): {exc}")
        case = None
    if builder.problems or case is None:
        raise InputError(f"{name}: is not a valid Phenopacket v2", builder.problems)
    return case


def _looks_like_json(text: str) -> bool:
    stripped = text.lstrip()
    return not stripped or stripped[0] in "{[" or "\n" in text


def read_phenopacket(
    source: str | os.PathLike[str] | bytes | Mapping[str, Any], *, name: str | None = None
) -> Case:
    """Read one case from a Phenopacket v2 or Family: a file path, JSON text/bytes, or a dict.

    A string starting with ``{`` is JSON text, any other string a path. Files may be
    gzip-compressed; larger than `MAX_INPUT_BYTES` they are refused before parsing. Raises
    `InputError` naming the source (`name`, or the path) and every offending field.
    """
    if isinstance(source, str) and _looks_like_json(source):
        source = source.encode("utf-8", errors="surrogatepass")
    if isinstance(source, bytes):
        label = name or "<phenopacket>"
        if len(source) > MAX_INPUT_BYTES:
            raise InputError(f"{label}: {_too_big(len(source))}")
        return _case_from_object(_decode_json(source, label), label)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        label = name or str(path)
        return _case_from_object(_decode_json(_read_file_bytes(path, label), label), label)
    # A mapping, or any other already-parsed JSON value (reported if not an object).
    return _case_from_object(source, name or "<phenopacket>")


# ---------------------------------------------------------------------------------------------
# Batches: files, folders, JSON Lines
# ---------------------------------------------------------------------------------------------


def _is_case_file(path: Path) -> bool:
    name = path.name.lower()
    return not name.startswith(".") and name.endswith(CASE_FILE_SUFFIXES)


def is_jsonl(path: str | os.PathLike[str]) -> bool:
    """True when `path` names a JSON Lines file (`JSONL_SUFFIXES`: one phenopacket a line)."""
    return Path(path).name.lower().endswith(JSONL_SUFFIXES)


@dataclass(frozen=True, slots=True)
class CaseBytes:
    """One item of a batch, read but not parsed: the phenopacket JSON found at `source`
    ("file", or "file:line" for a line of a JSON Lines file), or why it could not be read.

    `path` is the file (or folder) it comes from; `line` its line number in a JSON Lines
    file (None for a whole file).
    """

    source: str
    path: Path
    data: bytes | None = None
    error: InputError | None = None
    line: int | None = None

    def __post_init__(self) -> None:
        if (self.data is None) == (self.error is None):
            raise ValueError("a CaseBytes holds either data or an error")


def _lines(stream: _Stream) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) of each line; None for a line longer than MAX_INPUT_BYTES."""
    number = 0
    while True:
        line = stream.readline(MAX_INPUT_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_INPUT_BYTES:
            while line and not line.endswith(b"\n"):
                line = stream.readline(1 << 20)
            yield number, None
        else:
            yield number, line


def _jsonl_bytes(path: Path) -> Iterator[CaseBytes]:
    source = str(path)
    if not path.exists():
        yield CaseBytes(source, path, error=InputError(f"{path}: no such file"))
        return
    number = 0
    try:
        with contextlib.ExitStack() as stack:
            raw = stack.enter_context(path.open("rb"))
            gzipped = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            stream: _Stream = stack.enter_context(gzip.GzipFile(fileobj=raw)) if gzipped else raw
            for number, line in _lines(stream):
                where = f"{source}:{number}"
                if line is None:
                    error = InputError(f"{where}: line longer than {MAX_INPUT_BYTES} bytes")
                    yield CaseBytes(where, path, error=error, line=number)
                elif line.strip():
                    yield CaseBytes(where, path, data=line, line=number)
    except (OSError, EOFError, zlib.error) as exc:
        where = f"{source}:{number + 1}" if number else source
        error = InputError(f"{where}: cannot read ({_os_reason(exc)})")
        yield CaseBytes(where, path, error=error, line=number + 1 if number else None)


def _path_bytes(path: Path) -> Iterator[CaseBytes]:
    if is_jsonl(path):
        yield from _jsonl_bytes(path)
        return
    source = str(path)
    try:
        data = _read_file_bytes(path, source)
    except InputError as exc:
        yield CaseBytes(source, path, error=exc)
        return
    yield CaseBytes(source, path, data=data)


def read_case_bytes(paths: Iterable[str | os.PathLike[str]]) -> Iterator[CaseBytes]:
    """The items `read_cases` reads under `paths`, in its order and named as it names them,
    each as its (decompressed) JSON bytes without parsing it, or with the error that kept it
    from being read (no such file, too large, unreadable, an empty folder)."""
    for given in paths:
        path = Path(given)
        if not path.is_dir():
            yield from _path_bytes(path)
            continue
        try:
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and _is_case_file(p)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        except OSError as exc:
            error = InputError(f"{path}: cannot list the folder ({_os_reason(exc)})")
            yield CaseBytes(str(path), path, error=error)
            continue
        if not found:
            error = InputError(
                f"{path}: no phenopacket files ({', '.join(CASE_FILE_SUFFIXES)}) in this folder"
            )
            yield CaseBytes(str(path), path, error=error)
        for file in found:
            yield from _path_bytes(file)


def read_cases(paths: Iterable[str | os.PathLike[str]]) -> Iterator[CaseResult]:
    """Read every case under `paths` (files or folders), one `CaseResult` per case or error.

    Folders are walked recursively for `CASE_FILE_SUFFIXES` files (hidden ones skipped), in
    name order. ``.jsonl`` / ``.jsonl.gz`` files hold one phenopacket per line; their results
    are named ``file:line``. A bad item yields its error and the batch goes on.
    """
    for item in read_case_bytes(paths):
        if item.data is None:
            yield CaseResult(item.source, error=item.error)
            continue
        try:
            case = _case_from_object(_decode_json(item.data, item.source), item.source)
        except InputError as exc:
            yield CaseResult(item.source, error=exc)
        else:
            yield CaseResult(item.source, case=case)


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _term(term_id: str, label: str | None) -> dict[str, str]:
    out = {"id": term_id}
    if label:
        out["label"] = label
    return out


def _timestamp(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    text = (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
    )
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return text + "Z"


def _hgvs_syntax(expression: str) -> str:
    match = re.search(r":([cgmnpr])\.", expression)
    return f"hgvs.{match.group(1)}" if match else "hgvs"


def _onset(obs: PhenotypeObservation | RecordedDiagnosis) -> dict[str, Any] | None:
    if isinstance(obs, PhenotypeObservation) and obs.onset_gestational_days is not None:
        weeks, days = divmod(obs.onset_gestational_days, 7)
        return {"gestationalAge": {"weeks": weeks, "days": days}}
    if obs.onset_years is not None:
        return {"age": {"iso8601duration": format_iso_duration(obs.onset_years)}}
    if obs.onset_term is not None:
        return {"ontologyClass": _term(obs.onset_term, _ONSET_LABELS.get(obs.onset_term))}
    return None


def _variant_json(call: VariantCall, subject_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {"subjectOrBiosampleId": subject_id}
    if call.interpretation_status:
        out["interpretationStatus"] = call.interpretation_status
    gene: dict[str, str] = {}
    if call.gene_id:
        gene["valueId"] = call.gene_id
    if call.gene_symbol:
        gene["symbol"] = call.gene_symbol
    if call.gene_only:
        out["gene"] = gene
        return out
    descriptor: dict[str, Any] = {}
    if call.variant_id:
        descriptor["id"] = call.variant_id
    if call.label:
        descriptor["label"] = call.label
    if gene:
        descriptor["geneContext"] = gene
    if call.hgvs:
        descriptor["expressions"] = [{"syntax": _hgvs_syntax(h), "value": h} for h in call.hgvs]
    if call.has_coordinates:
        vcf: dict[str, Any] = {}
        if call.assembly:
            vcf["genomeAssembly"] = call.assembly
        vcf.update(chrom=call.chrom, pos=call.pos, ref=call.ref, alt=call.alt)
        descriptor["vcfRecord"] = vcf
    if call.structural_type:
        descriptor["structuralType"] = {"id": call.structural_type}
    if call.zygosity:
        descriptor["allelicState"] = _term(ZYGOSITY_GENO_IDS.get(call.zygosity, ""), call.zygosity)
        if not descriptor["allelicState"]["id"]:
            del descriptor["allelicState"]["id"]
    interpretation: dict[str, Any] = {}
    if call.acmg_class:
        interpretation["acmgPathogenicityClassification"] = call.acmg_class
    interpretation["variationDescriptor"] = descriptor
    out["variantInterpretation"] = interpretation
    return out


def _meta_json(meta: CaseMeta) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if meta.created is not None:
        out["created"] = _timestamp(meta.created)
    if meta.created_by:
        out["createdBy"] = meta.created_by
    if meta.submitted_by:
        out["submittedBy"] = meta.submitted_by
    if meta.resources:
        out["resources"] = [
            {
                k: v
                for k, v in (
                    ("id", r.id),
                    ("name", r.name),
                    ("url", r.url),
                    ("version", r.version),
                    ("namespacePrefix", r.namespace_prefix),
                    ("iriPrefix", r.iri_prefix),
                )
                if v
            }
            for r in meta.resources
        ]
    out["phenopacketSchemaVersion"] = meta.schema_version
    if meta.external_references:
        out["externalReferences"] = [
            {
                k: v
                for k, v in (
                    ("id", x.id),
                    ("reference", x.reference),
                    ("description", x.description),
                )
                if v
            }
            for x in meta.external_references
        ]
    return out


def _files_json(files: Sequence[GenomicFile]) -> list[dict[str, Any]]:
    out = []
    for f in files:
        item: dict[str, Any] = {"uri": f.uri}
        if f.individual_to_file_ids:
            item["individualToFileIdentifiers"] = dict(f.individual_to_file_ids)
        attributes = {}
        if f.assembly:
            attributes["genomeAssembly"] = f.assembly
        if f.file_format:
            attributes["fileFormat"] = f.file_format
        if attributes:
            item["fileAttributes"] = attributes
        out.append(item)
    return out


def _packet_json(case: Case, *, with_files: bool, with_meta: bool) -> dict[str, Any]:
    subject: dict[str, Any] = {"id": case.subject.id}
    if case.subject.age_years is not None:
        duration = format_iso_duration(case.subject.age_years)
        subject["timeAtLastEncounter"] = {"age": {"iso8601duration": duration}}
    if case.subject.date_of_birth is not None:
        subject["dateOfBirth"] = f"{case.subject.date_of_birth.isoformat()}T00:00:00Z"
    subject["sex"] = case.subject.sex.value
    out: dict[str, Any] = {"id": case.id, "subject": subject}
    features = []
    for obs in case.features:
        feature: dict[str, Any] = {"type": _term(obs.term_id, obs.label)}
        if obs.excluded:
            feature["excluded"] = True
        onset = _onset(obs)
        if onset is not None:
            feature["onset"] = onset
        features.append(feature)
    if features:
        out["phenotypicFeatures"] = features
    interpretations: list[dict[str, Any]] = []
    diseases: list[dict[str, Any]] = []
    for i, d in enumerate(case.diagnoses, start=1):
        diagnosis: dict[str, Any] = {}
        if d.disease_id is not None:
            diagnosis["disease"] = _term(d.disease_id, d.label)
            if d.disease_id not in {x["term"]["id"] for x in diseases}:
                entry: dict[str, Any] = {"term": _term(d.disease_id, d.label)}
                if (onset := _onset(d)) is not None:
                    entry["onset"] = onset
                diseases.append(entry)
        if d.variants:
            diagnosis["genomicInterpretations"] = [
                _variant_json(v, case.subject.id) for v in d.variants
            ]
        interpretation: dict[str, Any] = {"id": f"{case.id}-interpretation-{i}"}
        if d.progress_status:
            interpretation["progressStatus"] = d.progress_status
        interpretation["diagnosis"] = diagnosis
        interpretations.append(interpretation)
    if interpretations:
        out["interpretations"] = interpretations
        out["diseases"] = diseases
    if with_files and case.files:
        out["files"] = _files_json(case.files)
    if with_meta:
        out["metaData"] = _meta_json(case.meta)
    return out


def case_to_phenopacket(case: Case) -> dict[str, Any]:
    """Phenopacket v2 JSON (camelCase dict) for `case`: a Family when `case.family_id` is set.

    Reading the result back with `read_phenopacket` gives a `Case` equal to `case`.
    """
    if case.family_id is None:
        return _packet_json(case, with_files=True, with_meta=True)
    out: dict[str, Any] = {
        "id": case.family_id,
        "proband": _packet_json(case, with_files=False, with_meta=False),
    }
    if case.relatives:
        out["relatives"] = [
            _packet_json(r, with_files=True, with_meta=True) for r in case.relatives
        ]
    if case.consanguineous_parents:
        out["consanguinousParents"] = True
    if case.pedigree:
        persons = []
        for p in case.pedigree:
            person: dict[str, Any] = {"familyId": p.family_id, "individualId": p.individual_id}
            if p.paternal_id:
                person["paternalId"] = p.paternal_id
            if p.maternal_id:
                person["maternalId"] = p.maternal_id
            person["sex"] = p.sex.value
            person["affectedStatus"] = {True: "AFFECTED", False: "UNAFFECTED", None: "MISSING"}[
                p.affected
            ]
            persons.append(person)
        out["pedigree"] = {"persons": persons}
    if case.files:
        out["files"] = _files_json(case.files)
    out["metaData"] = _meta_json(case.meta)
    return out


def dumps_phenopacket(case: Case) -> str:
    """`case` as indented Phenopacket v2 JSON text, ending with a newline."""
    return orjson.dumps(case_to_phenopacket(case), option=orjson.OPT_INDENT_2).decode() + "\n"


def write_phenopacket(case: Case, path: str | os.PathLike[str]) -> Path:
    """Write `case` as Phenopacket v2 JSON to `path` atomically (temporary file, then rename).

    Returns the path written. Raises `InputError` if the folder is missing or not writable.
    """
    target = Path(path)
    text = dumps_phenopacket(case)
    try:
        with atomic_file(target) as fh:
            fh.write(text)
    except OSError as exc:
        raise InputError(f"{target}: cannot write the phenopacket ({_os_reason(exc)})") from None
    return target
