"""Bad input never escapes as a traceback: one InputError naming the source and the field."""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

import raredx.case.phenopacket as phenopacket_module
from raredx.case import read_cases, read_phenopacket
from raredx.errors import InputError


def _error(source: Any, name: str = "bad.json") -> InputError:
    with pytest.raises(InputError) as caught:
        read_phenopacket(source, name=name)
    return caught.value


# --- files that are not JSON objects -------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(b"")
    message = str(_error(path, name=str(path)))
    assert str(path) in message and "empty" in message
    path.write_bytes(b" \n\t\n")
    assert "empty" in str(_error(path))


def test_truncated_json(example_path: Path, tmp_path: Path) -> None:
    text = example_path.read_bytes()
    path = tmp_path / "truncated.json"
    path.write_bytes(text[: len(text) // 2])
    message = str(_error(path, name=str(path)))
    assert "truncated.json" in message and "not valid JSON" in message and "line" in message


def test_binary_garbage(tmp_path: Path) -> None:
    path = tmp_path / "photo.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe" + os.urandom(256))
    message = str(_error(path, name=str(path)))
    assert "photo.json" in message and "binary" in message


def test_truncated_gzip(example_path: Path, tmp_path: Path) -> None:
    packed = gzip.compress(example_path.read_bytes())
    path = tmp_path / "case.json.gz"
    path.write_bytes(packed[: len(packed) // 2])
    assert "cannot read" in str(_error(path, name=str(path)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1, 2]", "got an array"),
        ('"just text"', "got text"),
        ("42", "got a number"),
        ("null", "got null"),
        ("true", "got true/false"),
        ("{'id': 'single quotes'}", "not valid JSON"),
        ('{"id": "x",}', "not valid JSON"),
        ('{"id": NaN}', "not valid JSON"),
    ],
)
def test_not_a_json_object(text: str, expected: str) -> None:
    assert expected in str(_error(text.encode()))


def test_huge_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as f:  # sparse: no disk space used
        f.truncate(phenopacket_module.MAX_INPUT_BYTES + 1)
    started = time.perf_counter()
    message = str(_error(path, name=str(path)))
    assert time.perf_counter() - started < 1.0
    assert "huge.json" in message and "50 MiB" in message


def test_huge_text_and_lines(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(phenopacket_module, "MAX_INPUT_BYTES", 100)
    big = '{"id": "x", "subject": {"id": "' + "y" * 200 + '"}}'
    assert "refused" in str(_error(big))
    assert "refused" in str(_error(big.encode()))
    jsonl = tmp_path / "cases.jsonl"
    jsonl.write_text('{"id": "a"}\n' + big + "\n" + '{"id": "b"}\n')
    results = list(read_cases([jsonl]))
    assert [r.ok for r in results] == [True, False, True]
    assert f"{jsonl}:2" in str(results[1].error) and "longer than" in str(results[1].error)
    packed = tmp_path / "packed.json.gz"
    packed.write_bytes(gzip.compress(big.encode()))
    assert "after decompression" in str(_error(packed))


def test_missing_path_and_folder(tmp_path: Path) -> None:
    assert "no such file" in str(_error(tmp_path / "nope.json", name="nope.json"))
    assert "folder" in str(_error(tmp_path))
    assert "file name" in str(_error("bad\x00name.json"))


# --- JSON objects that are not valid phenopackets ------------------------------------------------


@pytest.mark.parametrize(
    ("packet", "expected"),
    [
        ({}, "id: missing"),
        ({"subject": {"id": "s"}}, "id: missing"),
        ({"id": ""}, "id: missing"),
        ({"id": 7}, "id: expected text, got a number"),
        ({"id": "a", "subject": {"id": "s", "sex": "FOO"}}, "subject.sex: invalid value 'FOO'"),
        ({"id": "a", "subject": {"id": "s", "sex": 3.5}}, "subject.sex: invalid value 3.5"),
        ({"id": "a", "subject": {"id": "s", "sex": True}}, "subject.sex: invalid value True"),
        ({"id": "a", "subject": "s"}, "subject: expected an object, got text"),
        ({"id": "a", "phenotypicFeatures": "HP:0001744"}, "phenotypicFeatures: expected an array"),
        ({"id": "a", "phenotypicFeatures": [None]}, "phenotypicFeatures[0]: null is not allowed"),
        ({"id": "a", "phenotypicFeatures": [{}]}, "phenotypicFeatures[0].type.id: missing"),
        (
            {"id": "a", "phenotypicFeatures": [{"type": {"id": "Splenomegaly"}}]},
            "phenotypicFeatures[0]: term_id must be a compact identifier",
        ),
        (
            {"id": "a", "phenotypicFeatures": [{"type": {"id": "HP:1"}, "excluded": "no"}]},
            "phenotypicFeatures[0].excluded: expected true or false",
        ),
        (
            {
                "id": "a",
                "phenotypicFeatures": [
                    {"type": {"id": "HP:1"}, "onset": {"age": {"iso8601duration": "6 years"}}}
                ],
            },
            "phenotypicFeatures[0].onset.age.iso8601duration: '6 years' is not an ISO 8601",
        ),
        (
            {"id": "a", "subject": {"id": "s", "timeAtLastEncounter": {"age": {}}}},
            "subject.timeAtLastEncounter.age.iso8601duration",
        ),
        (
            {
                "id": "a",
                "subject": {
                    "id": "s",
                    "timeAtLastEncounter": {"age": {"iso8601duration": "P300Y"}},
                },
            },
            "subject.timeAtLastEncounter.age.iso8601duration: P300Y is more than 150 years",
        ),
        (
            {
                "id": "a",
                "subject": {
                    "id": "s",
                    "timeAtLastEncounter": {
                        "age": {"iso8601duration": "P1Y"},
                        "gestationalAge": {"weeks": 30},
                    },
                },
            },
            "subject.timeAtLastEncounter: give only one of",
        ),
        (
            {
                "id": "a",
                "subject": {"id": "s", "timeAtLastEncounter": {"gestationalAge": {"weeks": 2.5}}},
            },
            "subject.timeAtLastEncounter.gestationalAge.weeks: expected a whole number",
        ),
        (
            {
                "id": "a",
                "subject": {"id": "s", "timeAtLastEncounter": {"gestationalAge": {"weeks": 1e30}}},
            },
            "out of range",
        ),
        ({"id": "a", "subject": {"id": "s", "dateOfBirth": "yesterday"}}, "subject.dateOfBirth"),
        ({"id": "a", "metaData": {"created": 2024}}, "metaData.created: expected an RFC 3339"),
        (
            {"id": "a", "metaData": {"phenopacketSchemaVersion": "1.0"}},
            "metaData.phenopacketSchemaVersion: schema 1.0 is not supported",
        ),
        (
            {"id": "a", "files": [{"uri": "x.vcf", "individualToFileIdentifiers": {"p": 1}}]},
            "files[0].individualToFileIdentifiers.p: expected text",
        ),
        (
            {"id": "a", "files": [{"uri": "x.vcf", "individualToFileIdentifiers": ["p"]}]},
            "files[0].individualToFileIdentifiers: expected an object",
        ),
        ({"id": "a", "files": [{"fileAttributes": {}}]}, "files[0]: uri must be"),
        ({"members": []}, "Cohort"),
        ({"id": "a", "id_": 1, "interpretations": {}}, "interpretations: expected an array"),
        ({"id": "a", "phenotypic_features": [], "phenotypicFeatures": []}, "given twice"),
    ],
)
def test_invalid_phenopacket_names_the_field(packet: dict[str, Any], expected: str) -> None:
    message = str(_error(packet))
    assert message.startswith("bad.json: ")
    assert expected in message, message


def _variant_packet(**vcf: Any) -> dict[str, Any]:
    return {
        "id": "a",
        "interpretations": [
            {
                "id": "i",
                "diagnosis": {
                    "disease": {"id": "OMIM:601859"},
                    "genomicInterpretations": [
                        {
                            "subjectOrBiosampleId": "s",
                            "variantInterpretation": {
                                "acmgPathogenicityClassification": "MAYBE_BAD",
                                "variationDescriptor": {"vcfRecord": vcf},
                            },
                        },
                        {"subjectOrBiosampleId": "s"},
                    ],
                },
            }
        ],
    }


def test_every_problem_is_listed_with_its_path() -> None:
    error = _error(_variant_packet(chrom="chr10", pos="abc", ref="A", alt="G"))
    prefix = "interpretations[0].diagnosis.genomicInterpretations[0].variantInterpretation."
    assert any(p.startswith(prefix + "acmgPathogenicityClassification") for p in error.problems)
    assert any(p.startswith(prefix + "variationDescriptor.vcfRecord.pos") for p in error.problems)
    error = _error(_variant_packet(chrom="chr10", pos=-5, ref="A", alt="G"))
    assert any("vcfRecord.pos: -5 is out of range" in p for p in error.problems)
    packet = _variant_packet(chrom="chr10", ref="A", alt="G")
    del packet["interpretations"][0]["diagnosis"]["genomicInterpretations"][0][
        "variantInterpretation"
    ]["acmgPathogenicityClassification"]
    error = _error(packet)
    assert any("chrom, pos, ref and alt must be given together" in p for p in error.problems)
    assert any(p.endswith("needs a gene or a variantInterpretation") for p in error.problems)


def test_deeply_nested_json_is_a_clear_error() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    assert "not valid JSON" in str(_error(deep))
    nested: dict[str, Any] = {}
    inner = nested
    for _ in range(5000):  # a Python dict deeper than the recursion limit
        inner["variationSet"] = {"members": [{}]}
        inner = inner["variationSet"]["members"][0]
    packet = {
        "id": "a",
        "interpretations": [
            {
                "diagnosis": {
                    "genomicInterpretations": [
                        {"variantInterpretation": {"variationDescriptor": {"variation": nested}}}
                    ]
                }
            }
        ],
    }
    assert "nested deeper than" in str(_error(packet))
    hidden = {"id": "a", "unknown": orjson.loads("[" * 1000 + "]" * 1000)}
    assert read_phenopacket(hidden).id == "a"  # unknown content is never walked


def test_hostile_python_values_in_a_mapping() -> None:
    assert "got set" in str(_error({"id": "a", "phenotypicFeatures": {1, 2}}))
    assert "not valid Unicode" in str(_error({"id": "\ud800"}))
    assert "got a number" in str(_error({"id": "a", "subject": {"id": float("inf")}}))


def test_protobuf_parse_errors_are_reduced_to_path_and_reason() -> None:
    from google.protobuf import json_format
    from phenopackets import Phenopacket

    from raredx.case.phenopacket import _clean_parse_error

    with pytest.raises(json_format.ParseError) as caught:
        json_format.ParseDict({"subject": {"dateOfBirth": "yesterday"}}, Phenopacket())
    cleaned = _clean_parse_error(caught.value)
    assert cleaned.startswith("subject.dateOfBirth: ")
    assert "Failed to parse subject field" not in cleaned and not cleaned.endswith(".")
    with pytest.raises(json_format.ParseError) as caught:
        json_format.ParseDict({"id": ["x"]}, Phenopacket())
    assert _clean_parse_error(caught.value).startswith("id: ")
