"""Reading lab files: tables (EN/FR headers, , ; or tab), FHIR R4, and every kind of bad input."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raredx.errors import InputError
from raredx.labs import MAX_LAB_BYTES, Outcome, parse_labs, parse_range, read_labs


def test_csv_with_names_codes_ranges_flags_and_dates(lab_data: Path) -> None:
    results = read_labs(lab_data / "aiha-3y.csv")
    assert [r.loinc for r in results] == [
        "718-7", "60474-4", "2532-0", "4542-7", "1007-4", "1975-2", "777-3",
    ]  # fmt: skip
    hb, retic, ldh, hapto, dat, bili, _ = results
    assert (hb.value, hb.unit, hb.date) == (6.8, "g/dL", "2025-03-01")
    assert (retic.ref_low, retic.ref_high) == (20.0, 100.0)
    assert ldh.flag is Outcome.HIGH
    assert (hapto.comparator, hapto.value) == ("<", 0.1)
    assert dat.outcome is Outcome.POSITIVE and dat.value is None
    assert (bili.ref_low, bili.ref_high) == (None, 17.0)


def test_french_tsv_with_decimal_commas_and_semicolons() -> None:
    text = (
        "Examen;Valeur;Unité;Valeurs de référence\nHémoglobine;6,8;g/dL;11,5 - 15,5\nPNN;0,4;G/L;\n"
    )
    hb, anc = parse_labs(text)
    assert (hb.loinc, hb.value, hb.ref_low, hb.ref_high) == ("718-7", 6.8, 11.5, 15.5)
    assert (anc.loinc, anc.value) == ("751-8", 0.4)


def test_the_unit_chooses_between_count_and_percentage() -> None:
    a, b = parse_labs("test,value,unit\nreticulocytes,2.5,%\nreticulocytes,310,10^9/L\n")
    assert (a.loinc, b.loinc) == ("17849-1", "60474-4")


def test_loinc_codes_outside_the_catalogue_are_read_as_given() -> None:
    (r,) = parse_labs("loinc,value,unit,reference range\n2345-7,5.1,mmol/L,3.9-5.5\n")
    assert (r.loinc, r.test, r.value) == ("2345-7", "2345-7", 5.1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.5-5.0", (3.5, 5.0)),
        ("3,5 - 5,0", (3.5, 5.0)),
        ("[3.5 ; 5.0]", (3.5, 5.0)),
        ("3.5 to 5", (3.5, 5.0)),
        ("<5", (None, 5.0)),
        ("> 10", (10.0, None)),
        ("≤ 17", (None, 17.0)),
        ("normal", None),
        ("5-", None),
    ],
)
def test_ranges(text: str, expected: tuple[float | None, float | None] | None) -> None:
    assert parse_range(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "it is empty"),
        ("   \n\n", "it is empty"),
        ("test,value,unit\n", "holds no result"),
        ("foo,bar\nHb,12\n", "no value column"),
        ("name,valeur\nHb,\n", "no value"),
        ("test,value,unit\nHb,abc,g/dL\n", "is not a number"),
        ("test,value,unit\nHb,nan,g/dL\n", "is not a number"),
        ("test,value,unit\nHb,12,mmol/mol\n", "not a unit of mass concentration"),
        ("test,value,unit\nHb,12,\n", "no unit"),
        ("test,value,unit\nHb,-3,g/dL\n", "cannot be negative"),
        ("test,value,unit\nHb,68,g/dL\n", "impossible value 68 g/dL (= 680 g/L)"),
        ("test,value,unit\nRDW,140,%\n", "impossible value"),
        ("test,value,unit\nPlatelets,250,g/dL\n", "not a unit of count"),
        ("test,value,unit\nSnake oil,1,g/L\n", "unknown test 'Snake oil'"),
        ("test,value,unit\nDAT,3,\n", "is not positive or negative"),
        ("test,value,unit,flag\nHb,12,g/dL,purple\n", "unknown flag"),
        ("test,value,unit,range\nHb,12,g/dL,15-11\n", "low 15 is above high 11"),
        ("test,value,unit,range\nHb,12,g/dL,normal\n", "cannot read reference range"),
        ("test,value,unit\nHb\n", "no value"),
        ("test,value,unit\nCD4,12,furlongs\n", "ambiguous"),
    ],
)
def test_malformed_tables_get_clear_errors(text: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        parse_labs(text)
    assert fragment in str(info.value)


def test_every_bad_row_is_reported_together() -> None:
    text = "test,value,unit\nHb,abc,g/dL\nPlatelets,250,G/L\nFoo,1,g/L\nHb,-1,g/L\n"
    with pytest.raises(InputError) as info:
        parse_labs(text)
    assert [p.split(":")[0].split(" (")[0] for p in info.value.problems] == [
        "row 2", "row 4", "row 5",
    ]  # fmt: skip


def test_truncated_rows_and_quotes() -> None:
    with pytest.raises(InputError, match="no value"):
        parse_labs('test,value,unit\n"Hb,6.8,g/dL\n')
    with pytest.raises(InputError, match="row 2 \\(Hemoglobin\\): no unit"):
        parse_labs("test,value,unit\nHb,6.8\n")  # truncated: the unit cell is missing
    (r,) = parse_labs("test,value,unit\nINR,1.1\n")  # a ratio needs no unit
    assert r.value == 1.1


def test_huge_hostile_and_binary_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="too large"):
        parse_labs("x" * (MAX_LAB_BYTES + 1))
    with pytest.raises(InputError, match="NUL"):
        parse_labs("test,value\nHb,1\x00\n")
    big = tmp_path / "big.csv"
    big.write_bytes(b"test,value,unit\n" + b"Hb,12,g/dL\n" * 30_000)
    with pytest.raises(InputError, match="split the file"):
        read_labs(big)
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"\xff\xfe\x00t")
    with pytest.raises(InputError):
        read_labs(binary)
    latin1 = tmp_path / "l.csv"
    latin1.write_bytes("test,value,unit\nHémoglobine,6,g/dL\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_labs(latin1)
    with pytest.raises(InputError, match="no such file"):
        read_labs(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="directory"):
        read_labs(tmp_path)
    with pytest.raises(InputError, match="longer than"):
        parse_labs("test,value,unit\nHb," + "9" * 600 + ",g/dL\n")


# ---------------------------------------------------------------------------- FHIR
def _observation(**extra: object) -> dict[str, object]:
    obs: dict[str, object] = {
        "resourceType": "Observation",
        "id": "hb",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "718-7"}]},
        "valueQuantity": {"value": 6.8, "unit": "g/dL", "system": "http://unitsofmeasure.org",
                          "code": "g/dL"},
    }  # fmt: skip
    obs.update(extra)
    return obs


def test_fhir_single_observation_with_range_and_interpretation() -> None:
    obs = _observation(
        referenceRange=[
            {"low": {"value": 115, "unit": "g/L"}, "high": {"value": 155, "unit": "g/L"}}
        ],
        interpretation=[{"coding": [{"code": "L"}]}],
        effectiveDateTime="2025-03-01T08:00:00Z",
    )
    (r,) = parse_labs(json.dumps(obs))
    assert (r.loinc, r.value, r.unit, r.flag, r.date) == (
        "718-7", 6.8, "g/dL", Outcome.LOW, "2025-03-01T08:00:00Z",
    )  # fmt: skip
    assert (r.ref_low, r.ref_high) == pytest.approx((11.5, 15.5))  # converted to g/dL


def test_fhir_bundle_skips_patients_panels_and_errors(lab_data: Path) -> None:
    results = read_labs(lab_data / "scid-infant.fhir.json")
    assert [r.loinc for r in results] == ["731-0", "8122-4", "24467-3", "2465-3", "718-7"]
    assert results[0].where == "entry 2 (Observation/lym)"
    assert results[2].unit == "10*9/L"


def test_fhir_coded_presence_and_components() -> None:
    dat = {
        "resourceType": "Observation",
        "code": {"coding": [{"system": "http://loinc.org", "code": "1007-4"}]},
        "valueCodeableConcept": {
            "coding": [{"system": "http://snomed.info/sct", "code": "10828004"}]
        },
    }
    panel = {
        "resourceType": "Observation",
        "code": {"coding": [{"system": "http://loinc.org", "code": "58410-2"}]},
        "component": [
            {"code": {"coding": [{"system": "http://loinc.org", "code": "777-3"}]},
             "valueQuantity": {"value": 35, "code": "10*3/uL", "system": "http://unitsofmeasure.org"}},
        ],
    }  # fmt: skip
    bundle = {"resourceType": "Bundle", "entry": [{"resource": dat}, {"resource": panel}]}
    a, b = parse_labs(json.dumps(bundle))
    assert a.outcome is Outcome.POSITIVE
    assert (b.loinc, b.value, b.where) == ("777-3", 35.0, "entry 2 component 1")


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        ("{", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"resourceType": "Patient"}', "expected Observation or Bundle"),
        ('{"resourceType": "Bundle", "entry": 3}', "must be a list"),
        ('{"resourceType": "Bundle", "entry": [3]}', "entry 1: not a FHIR resource"),
        ('{"resourceType": "Bundle", "entry": []}', "holds no result"),
    ],
)
def test_malformed_fhir_documents(doc: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        parse_labs(doc)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (
            {"code": {"coding": [{"system": "http://snomed.info/sct", "code": "1"}]}},
            "no LOINC coding",
        ),
        ({"code": "718-7"}, "no LOINC coding"),
        ({"valueQuantity": {"value": "6.8", "unit": "g/dL"}}, "must be a number"),
        ({"valueQuantity": {"value": True, "unit": "g/dL"}}, "must be a number"),
        ({"valueQuantity": {"value": 6.8, "unit": "mEq/L"}}, "not a unit of mass concentration"),
        ({"valueQuantity": {"value": 1e300, "unit": "g/dL"}}, "impossible value"),
        ({"referenceRange": [{"low": {"value": "x"}}]}, "referenceRange[0].low.value"),
        ({"referenceRange": [{"low": {"value": 1, "unit": "s"}}]}, "does not convert"),
        ({"referenceRange": ["x"]}, "is not an object"),
        ({"valueString": "maybe"}, "neither a quantity nor positive/negative"),
    ],
)
def test_malformed_observations_name_the_entry(change: dict[str, object], fragment: str) -> None:
    obs = _observation()
    if "valueString" in change:
        del obs["valueQuantity"]
    obs.update(change)
    bundle = {"resourceType": "Bundle", "entry": [{"resource": obs}]}
    with pytest.raises(InputError) as info:
        parse_labs(json.dumps(bundle))
    assert "entry 1 (Observation/hb)" in str(info.value)
    assert fragment in str(info.value)


def test_deeply_nested_json_is_an_error_not_a_crash() -> None:
    with pytest.raises(InputError):
        parse_labs("{" + '"a":[' * 5000 + "]" * 5000 + "}")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_parses_or_raises_input_error(text: str) -> None:
    with contextlib.suppress(InputError):
        parse_labs(text)


_CELL = st.one_of(
    st.sampled_from(["Hb", "CD4", "DAT", "718-7", "plaquettes", "retic", "", "ferritine"]),
    st.text(max_size=12),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            _CELL,
            st.one_of(st.floats(allow_nan=True).map(str), st.text(max_size=8)),
            st.sampled_from(["g/dL", "G/L", "%", "/uL", "", "µmol/L", "zz"]),
            st.sampled_from(["", "3-5", "<5", "x", "5-3"]),
        ),
        max_size=8,
    )
)
def test_generated_tables_parse_or_raise_input_error(rows: list[tuple[str, str, str, str]]) -> None:
    text = "test\tvalue\tunit\trange\n" + "".join(
        "\t".join(r).replace("\n", " ") + "\n" for r in rows
    )
    try:
        results = parse_labs(text)
    except InputError:
        return
    assert all(r.value is None or r.value >= 0 for r in results)
