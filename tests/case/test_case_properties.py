"""Properties: any input gives a Case or an InputError; any Case survives a round trip."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
from google.protobuf import json_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phenopackets import Family, Phenopacket

from raredx.case import (
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
    case_to_phenopacket,
    format_iso_duration,
    parse_iso_duration,
    read_phenopacket,
)
from raredx.case.model import (
    ACMG_CLASSES,
    INTERPRETATION_STATUSES,
    MAX_GESTATIONAL_DAYS,
    PROGRESS_STATUSES,
    ZYGOSITY_GENO_IDS,
)
from raredx.errors import InputError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "alps-fas.phenopacket.json"

# --- any input: a Case or an InputError, nothing else --------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)

_KEYS = [
    "id",
    "subject",
    "phenotypicFeatures",
    "interpretations",
    "diseases",
    "files",
    "metaData",
    "proband",
    "relatives",
    "pedigree",
    "sex",
    "type",
    "excluded",
    "onset",
    "age",
    "iso8601duration",
    "diagnosis",
    "genomicInterpretations",
    "variantInterpretation",
    "variationDescriptor",
    "vcfRecord",
    "pos",
]
shaped = st.recursive(
    json_values,
    lambda children: (
        st.dictionaries(st.sampled_from(_KEYS), children, max_size=5)
        | st.lists(children, max_size=3)
    ),
    max_leaves=30,
)


def _read_or_input_error(source: Any) -> None:
    try:
        case = read_phenopacket(source, name="fuzz")
    except InputError as exc:
        assert str(exc).startswith("fuzz")
    else:
        assert isinstance(case, Case)


@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    _read_or_input_error(data)


@given(json_values)
def test_random_json(value: Any) -> None:
    _read_or_input_error(json.dumps(value))
    _read_or_input_error(json.dumps(value).encode())


@given(shaped)
def test_random_phenopacket_shaped_json(value: Any) -> None:
    _read_or_input_error(value)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*prefix, i))
    return out


_EXAMPLE: dict[str, Any] = orjson.loads(EXAMPLE.read_bytes())
_EXAMPLE_PATHS = [p for p in _paths(_EXAMPLE) if p]


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_EXAMPLE_PATHS), json_values)
def test_mutated_example(path: tuple[Any, ...], replacement: Any) -> None:
    packet = copy.deepcopy(_EXAMPLE)
    parent = packet
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = replacement
    _read_or_input_error(packet)


# --- durations -----------------------------------------------------------------------------------


@given(st.floats(min_value=0, max_value=150, allow_nan=False))
def test_duration_round_trip(years: float) -> None:
    assert parse_iso_duration(format_iso_duration(years)) == years


@given(st.integers(0, 150), st.integers(0, 11), st.integers(0, 30))
def test_calendar_durations_are_written_back_as_read(y: int, m: int, d: int) -> None:
    parts = "".join(f"{n}{u}" for n, u in ((y, "Y"), (m, "M"), (d, "D")) if n) or "0D"
    years = parse_iso_duration(f"P{parts}")
    assert parse_iso_duration(format_iso_duration(years)) == years


# --- generated cases round-trip ------------------------------------------------------------------

curies = st.from_regex(r"[A-Z]{2,5}:[0-9A-Za-z_]{1,9}", fullmatch=True)
words = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=12,
)
labels = st.builds(lambda a, b: f"{a} {b}", words, words) | words


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`strategy` or None."""
    return st.none() | strategy


years = st.floats(min_value=0, max_value=150, allow_nan=False)
bases = st.text(alphabet="ACGTN", min_size=1, max_size=6) | st.just("<DEL>")


@st.composite
def observations(draw: st.DrawFn) -> PhenotypeObservation:
    onset = draw(st.sampled_from(["none", "years", "term", "gestation"]))
    return PhenotypeObservation(
        term_id=draw(curies),
        label=draw(maybe(labels)),
        excluded=draw(st.booleans()),
        onset_years=draw(years) if onset == "years" else None,
        onset_term=draw(curies) if onset == "term" else None,
        onset_gestational_days=(
            draw(st.integers(0, MAX_GESTATIONAL_DAYS)) if onset == "gestation" else None
        ),
    )


@st.composite
def variant_calls(draw: st.DrawFn) -> VariantCall:
    status = draw(maybe(st.sampled_from(INTERPRETATION_STATUSES)))
    if draw(st.booleans()):
        return VariantCall(
            gene_symbol=draw(words), gene_id=draw(maybe(curies)), interpretation_status=status
        )
    located = draw(st.booleans())
    fields: dict[str, Any] = dict(
        chrom=draw(words) if located else None,
        pos=draw(st.integers(1, 2**63 - 1)) if located else None,
        ref=draw(bases) if located else None,
        alt=draw(bases) if located else None,
        assembly=draw(maybe(st.sampled_from(["GRCh38", "hg38", "GRCh37"]))) if located else None,
        gene_symbol=draw(maybe(words)),
        gene_id=draw(maybe(curies)),
        hgvs=tuple(draw(st.lists(words, max_size=3))),
        zygosity=draw(maybe(st.sampled_from(sorted(ZYGOSITY_GENO_IDS)) | words.map(str.lower))),
        interpretation_status=status,
        acmg_class=draw(maybe(st.sampled_from(ACMG_CLASSES))),
        variant_id=draw(maybe(words)),
        label=draw(maybe(labels)),
        structural_type=draw(maybe(curies)),
    )
    if all(v in (None, ()) for v in fields.values()) or (
        not located and not any(fields[k] for k in _DESCRIBING)
    ):
        fields["gene_symbol"] = draw(words)  # a call must say what it is about
    return VariantCall(**fields)


_DESCRIBING = (
    "gene_symbol",
    "gene_id",
    "hgvs",
    "zygosity",
    "acmg_class",
    "variant_id",
    "label",
    "structural_type",
)


@st.composite
def diagnoses(draw: st.DrawFn) -> RecordedDiagnosis:
    disease = draw(maybe(curies))
    variants = tuple(draw(st.lists(variant_calls(), min_size=0 if disease else 1, max_size=3)))
    return RecordedDiagnosis(
        disease_id=disease,
        label=draw(maybe(labels)) if disease else None,
        variants=variants,
        progress_status=draw(maybe(st.sampled_from(PROGRESS_STATUSES))),
    )


files = st.builds(
    GenomicFile,
    uri=words,
    assembly=maybe(words),
    file_format=maybe(words),
    individual_to_file_ids=st.dictionaries(words, words, max_size=3).map(
        lambda d: tuple(d.items())
    ),
)
metas = st.builds(
    CaseMeta,
    created=maybe(
        st.datetimes(
            min_value=datetime(1970, 1, 1),
            max_value=datetime(2100, 1, 1),
            timezones=st.just(UTC),
        )
    ),
    created_by=maybe(labels),
    submitted_by=maybe(labels),
    schema_version=st.sampled_from(["2.0", "2.0.2"]),
    resources=st.lists(
        st.builds(Resource, id=words, name=labels, url=words, version=words), max_size=2
    ).map(tuple),
    external_references=st.lists(
        st.builds(ExternalReference, id=curies, reference=words, description=labels), max_size=2
    ).map(tuple),
)
subjects = st.builds(
    Subject,
    id=words,
    sex=st.sampled_from(Sex),
    age_years=maybe(years),
    date_of_birth=maybe(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1))),
)


def _cases(family: bool) -> st.SearchStrategy[Case]:
    relatives = st.lists(_cases(False), max_size=2).map(tuple) if family else st.just(())
    people = (
        st.lists(
            st.builds(
                PedigreePerson,
                family_id=words,
                individual_id=words,
                paternal_id=maybe(words.filter(lambda w: w != "0")),
                maternal_id=maybe(words.filter(lambda w: w != "0")),
                sex=st.sampled_from(Sex),
                affected=maybe(st.booleans()),
            ),
            max_size=3,
        ).map(tuple)
        if family
        else st.just(())
    )
    return st.builds(
        Case,
        id=words,
        subject=subjects,
        features=st.lists(observations(), max_size=5).map(tuple),
        diagnoses=st.lists(diagnoses(), max_size=2).map(tuple),
        files=st.lists(files, max_size=2).map(tuple),
        pedigree=people,
        relatives=relatives,
        family_id=words if family else st.none(),
        consanguineous_parents=st.booleans() if family else st.just(False),
        meta=metas,
    )


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(_cases(False) | _cases(True))
def test_generated_cases_round_trip(case: Case) -> None:
    written = case_to_phenopacket(case)
    json_format.ParseDict(written, Family() if case.family_id else Phenopacket())
    text = orjson.dumps(written)
    assert read_phenopacket(text) == case
    assert read_phenopacket(written) == case
