"""Phenopacket v2 reading and writing: real published cases, families, files, batches."""

from __future__ import annotations

import copy
import gzip
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from google.protobuf import json_format
from phenopackets import Family, Phenopacket

from raredx.case import (
    Case,
    GenomicFile,
    PedigreePerson,
    Sex,
    case_to_phenopacket,
    parse_iso_duration,
    read_cases,
    read_phenopacket,
    write_phenopacket,
)
from raredx.case.model import FETAL_ONSET
from raredx.errors import InputError


def _strict_parse(data: dict[str, Any]) -> None:
    """The protobuf schema itself accepts `data`, unknown fields included (none allowed)."""
    json_format.ParseDict(data, Family() if "proband" in data else Phenopacket())


# --- the example ---------------------------------------------------------------------------------


def test_example_reads_as_documented(example_path: Path) -> None:
    case = read_phenopacket(example_path)
    assert case.id == "raredx-demo-alps-fas-001"
    assert case.subject.sex is Sex.MALE and case.subject.age_years == 4.0
    assert "HP:0001744" in case.observed_terms and "HP:0001873" in case.observed_terms
    assert case.excluded_terms == ("HP:0002718", "HP:0001508", "HP:0000988")
    assert case.disease_ids == ("OMIM:601859",)
    (variant,) = case.variants
    assert (variant.chrom, variant.pos, variant.ref, variant.alt) == ("chr10", 89010895, "A", "G")
    assert (variant.gene_symbol, variant.gene_id) == ("FAS", "HGNC:11920")
    assert variant.zygosity == "heterozygous" and variant.assembly == "GRCh38"
    assert variant.acmg_class == "LIKELY_PATHOGENIC"
    assert variant.interpretation_status == "CAUSATIVE"
    assert case.files == ()  # phenotype-only demo: no VCF ships with it
    lymph = next(f for f in case.features if f.term_id == "HP:0002716")
    assert lymph.onset_term == "HP:0011463" and lymph.onset_years is None
    splenomegaly = next(f for f in case.features if f.term_id == "HP:0001744")
    assert splenomegaly.onset_years == 2.0
    assert case.meta.created == datetime(2026, 1, 15, 9, tzinfo=UTC)
    assert {r.id for r in case.meta.resources} >= {"hp", "omim", "geno", "hgnc"}


def test_example_labels_match_the_hpo(example_path: Path, shared_dir: Path) -> None:
    obo = shared_dir / "data" / "hpo" / "hp.obo.gz"
    if not obo.is_file():
        pytest.skip(f"{obo} is not present")
    names: dict[str, str] = {}
    current = ""
    with gzip.open(obo, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("id: HP:"):
                current = line[4:].strip()
            elif line.startswith("name: ") and current:
                names[current] = line[6:].strip()
                current = ""
    case = read_phenopacket(example_path)
    for feature in case.features:
        assert names.get(feature.term_id) == feature.label, feature.term_id


def test_read_accepts_path_text_bytes_and_dict(example_path: Path) -> None:
    from_path = read_phenopacket(example_path)
    text = example_path.read_text()
    assert read_phenopacket(str(example_path)) == from_path
    assert read_phenopacket(text) == from_path
    assert read_phenopacket(text.encode()) == from_path
    assert read_phenopacket(orjson.loads(text)) == from_path
    assert read_phenopacket(b"\xef\xbb\xbf" + text.encode()) == from_path  # UTF-8 BOM


def test_read_gzipped_file(example_path: Path, tmp_path: Path) -> None:
    packed = tmp_path / "case.json.gz"
    packed.write_bytes(gzip.compress(example_path.read_bytes()))
    assert read_phenopacket(packed) == read_phenopacket(example_path)


def test_unknown_fields_and_snake_case_are_tolerated(example_json: dict[str, Any]) -> None:
    example_json["cohort"] = "ALPS"
    example_json["source_path"] = "somewhere/else.json"
    example_json["subject"]["favouriteColour"] = {"deeply": [{"nested": None}]}
    example_json["phenotypic_features"] = example_json.pop("phenotypicFeatures")
    case = read_phenopacket(example_json)
    assert len(case.features) == 10


# --- real published phenopackets -----------------------------------------------------------------


def _raw_counts(raw: dict[str, Any]) -> tuple[int, int]:
    features = raw.get("phenotypicFeatures", [])
    excluded = sum(1 for f in features if f.get("excluded") is True)
    return len(features) - excluded, excluded


def test_dev_phenopackets_read_and_match_the_raw_json(dev_lines: list[bytes]) -> None:
    assert len(dev_lines) == 200
    for number, line in enumerate(dev_lines, start=1):
        raw = orjson.loads(line)
        case = read_phenopacket(line, name=f"dev:{number}")
        observed = sum(1 for f in case.features if not f.excluded)
        assert (observed, len(case.features) - observed) == _raw_counts(raw), raw["id"]
        assert case.id == raw["id"]
        assert case.subject.sex.value == raw["subject"].get("sex", "UNKNOWN_SEX")
        age = raw["subject"].get("timeAtLastEncounter", {}).get("age", {}).get("iso8601duration")
        assert case.subject.age_years == (parse_iso_duration(age) if age else None)
        raw_diseases = {i["diagnosis"]["disease"]["id"] for i in raw.get("interpretations", [])} | {
            d["term"]["id"] for d in raw.get("diseases", []) if not d.get("excluded")
        }
        assert set(case.disease_ids) == raw_diseases
        raw_calls = [
            g
            for i in raw.get("interpretations", [])
            for g in i["diagnosis"].get("genomicInterpretations", [])
        ]
        assert len(case.variants) == len(raw_calls)
        for call, g in zip(case.variants, raw_calls, strict=True):
            vcf = g.get("variantInterpretation", {}).get("variationDescriptor", {}).get("vcfRecord")
            if vcf:
                assert call.pos == int(vcf["pos"]) and call.chrom == vcf["chrom"]
                assert (call.ref, call.alt) == (vcf["ref"], vcf["alt"])


def test_dev_phenopackets_round_trip(dev_lines: list[bytes]) -> None:
    for line in dev_lines:
        case = read_phenopacket(line)
        written = case_to_phenopacket(case)
        _strict_parse(written)
        again = read_phenopacket(written)
        assert again == case, case.id
        assert case_to_phenopacket(again) == written


def test_dev_jsonl_batch_reads_every_line(dev_lines: list[bytes], tmp_path: Path) -> None:
    sample = tmp_path / "sample.jsonl.gz"
    sample.write_bytes(gzip.compress(b"".join(dev_lines)))
    results = list(read_cases([sample]))
    assert len(results) == len(dev_lines)
    assert all(r.ok for r in results)
    assert results[0].source == f"{sample}:1" and results[-1].source == f"{sample}:200"


# --- families, files, pedigree -------------------------------------------------------------------


def _family(example_json: dict[str, Any]) -> dict[str, Any]:
    proband = copy.deepcopy(example_json)
    meta = proband.pop("metaData")
    mother = {
        "id": "DEMO-ALPS-001-mother",
        "subject": {"id": "MOTHER", "sex": "FEMALE"},
        "phenotypicFeatures": [{"type": {"id": "HP:0002716", "label": "Lymphadenopathy"}}],
    }
    father = {"id": "DEMO-ALPS-001-father", "subject": {"id": "FATHER", "sex": "MALE"}}
    trio_vcf = {
        "uri": "file:///data/raredx-demo/trio.vcf.gz",
        "individualToFileIdentifiers": {
            "DEMO-ALPS-001": "PROBAND",
            "MOTHER": "MOTHER",
            "FATHER": "FATHER",
        },
        "fileAttributes": {"genomeAssembly": "GRCh38", "fileFormat": "VCF"},
    }
    return {
        "id": "FAMILY-ALPS-1",
        "proband": proband,
        "relatives": [mother, father],
        "consanguinousParents": False,
        "pedigree": {
            "persons": [
                {
                    "familyId": "FAMILY-ALPS-1",
                    "individualId": "DEMO-ALPS-001",
                    "paternalId": "FATHER",
                    "maternalId": "MOTHER",
                    "sex": "MALE",
                    "affectedStatus": "AFFECTED",
                },
                {
                    "familyId": "FAMILY-ALPS-1",
                    "individualId": "MOTHER",
                    "paternalId": "0",
                    "maternalId": "0",
                    "sex": "FEMALE",
                    "affectedStatus": "AFFECTED",
                },
                {
                    "familyId": "FAMILY-ALPS-1",
                    "individualId": "FATHER",
                    "sex": "MALE",
                    "affectedStatus": "UNAFFECTED",
                },
            ]
        },
        "files": [trio_vcf],
        "metaData": meta,
    }


def test_family_message(example_json: dict[str, Any]) -> None:
    case = read_phenopacket(_family(example_json))
    assert case.family_id == "FAMILY-ALPS-1"
    assert case.id == "raredx-demo-alps-fas-001" and case.proband_id == "DEMO-ALPS-001"
    assert [r.subject.id for r in case.relatives] == ["MOTHER", "FATHER"]
    assert case.relatives[0].observed_terms == ("HP:0002716",)
    assert [f.uri for f in case.files] == ["file:///data/raredx-demo/trio.vcf.gz"]
    assert case.files[0].sample_id("FATHER") == "FATHER"
    proband, mother, father = case.pedigree
    assert proband == PedigreePerson(
        "FAMILY-ALPS-1", "DEMO-ALPS-001", "FATHER", "MOTHER", Sex.MALE, True
    )
    assert (mother.paternal_id, mother.maternal_id, mother.affected) == (None, None, True)
    assert father.affected is False
    assert case.meta.created is not None
    written = case_to_phenopacket(case)
    assert written["id"] == "FAMILY-ALPS-1" and "files" not in written["proband"]
    _strict_parse(written)
    assert read_phenopacket(written) == case


def test_family_without_proband_or_id(example_json: dict[str, Any]) -> None:
    with pytest.raises(InputError, match="proband"):
        read_phenopacket({"id": "F", "proband": None, "relatives": []})
    family = _family(example_json)
    del family["id"]
    with pytest.raises(InputError, match=r"id: missing \(every Family"):
        read_phenopacket(family)


def test_consanguinity_and_gene_only_interpretation() -> None:
    packet = {
        "id": "F2",
        "consanguinousParents": True,
        "proband": {
            "id": "case-2",
            "subject": {"id": "kid", "sex": "FEMALE"},
            "interpretations": [
                {
                    "id": "i1",
                    "progressStatus": "UNSOLVED",
                    "diagnosis": {
                        "genomicInterpretations": [
                            {
                                "subjectOrBiosampleId": "kid",
                                "interpretationStatus": "CANDIDATE",
                                "gene": {"valueId": "HGNC:11920", "symbol": "FAS"},
                            }
                        ]
                    },
                }
            ],
        },
    }
    case = read_phenopacket(packet)
    assert case.consanguineous_parents
    (diagnosis,) = case.diagnoses
    assert diagnosis.disease_id is None and diagnosis.progress_status == "UNSOLVED"
    (gene,) = diagnosis.variants
    assert gene.gene_only and gene.interpretation_status == "CANDIDATE"
    written = case_to_phenopacket(case)
    _strict_parse(written)
    assert read_phenopacket(written) == case


def test_onsets_of_every_kind() -> None:
    packet = {
        "id": "onsets",
        "subject": {
            "id": "s",
            "timeAtLastEncounter": {"ageRange": {"start": {"iso8601duration": "P2Y"}}},
        },
        "phenotypicFeatures": [
            {"type": {"id": "HP:1"}, "onset": {"gestationalAge": {"weeks": 19, "days": 2}}},
            {"type": {"id": "HP:2"}, "onset": {"ontologyClass": {"id": "HP:0003577"}}},
            {"type": {"id": "HP:3"}, "onset": {"age": {"iso8601duration": "P1Y6M15D"}}},
            {"type": {"id": "HP:4"}, "onset": {"timestamp": "2020-01-01T00:00:00Z"}},
            {"type": {"id": "HP:5"}, "onset": {"ageRange": {"start": {"iso8601duration": "P3M"}}}},
        ],
    }
    case = read_phenopacket(packet)
    fetal, congenital, age, stamp, ranged = case.features
    assert fetal.onset_gestational_days == 19 * 7 + 2 and fetal.onset_term == FETAL_ONSET
    assert congenital.onset_term == "HP:0003577" and congenital.onset_years is None
    assert age.onset_years == parse_iso_duration("P1Y6M15D")
    assert (stamp.onset_years, stamp.onset_term, stamp.onset_gestational_days) == (None, None, None)
    assert ranged.onset_years == 0.25
    assert case.subject.age_years == 2.0
    written = case_to_phenopacket(case)
    assert written["phenotypicFeatures"][0]["onset"] == {"gestationalAge": {"weeks": 19, "days": 2}}
    assert written["phenotypicFeatures"][1]["onset"]["ontologyClass"]["label"] == "Congenital onset"
    assert read_phenopacket(written) == case


def test_disease_onset_is_kept_and_written_back() -> None:
    packet = {
        "id": "disease-onset",
        "subject": {"id": "s"},
        "phenotypicFeatures": [{"type": {"id": "HP:0001744"}}],
        "interpretations": [
            {
                "id": "1",
                "progressStatus": "SOLVED",
                "diagnosis": {"disease": {"id": "OMIM:601859", "label": "ALPS"}},
            }
        ],
        "diseases": [
            {"term": {"id": "OMIM:601859"}, "onset": {"age": {"iso8601duration": "P2Y6M"}}},
            {"term": {"id": "OMIM:1"}, "onset": {"ontologyClass": {"id": "HP:0003593"}}},
            {"term": {"id": "OMIM:2"}, "onset": {"gestationalAge": {"weeks": 30}}},
        ],
    }
    case = read_phenopacket(packet)
    alps, infantile, fetal = case.diagnoses
    assert (alps.disease_id, alps.onset_years, alps.progress_status) == (
        "OMIM:601859",
        2.5,
        "SOLVED",
    )
    assert infantile.onset_term == "HP:0003593" and infantile.onset_years is None
    assert fetal.onset_term == FETAL_ONSET
    written = case_to_phenopacket(case)
    _strict_parse(written)
    assert written["diseases"][0]["onset"] == {"age": {"iso8601duration": "P2Y6M"}}
    assert read_phenopacket(written) == case


def test_bad_disease_onset_is_named() -> None:
    packet = {
        "id": "bad-onset",
        "subject": {"id": "s"},
        "diseases": [{"term": {"id": "OMIM:1"}, "onset": {"age": {"iso8601duration": "P2Q"}}}],
    }
    with pytest.raises(InputError) as err:
        read_phenopacket(packet)
    assert "diseases[0].onset.age.iso8601duration" in str(err.value)


def test_structural_variant_without_coordinates() -> None:
    packet = {
        "id": "sv",
        "subject": {"id": "s"},
        "interpretations": [
            {
                "id": "1",
                "progressStatus": "SOLVED",
                "diagnosis": {
                    "disease": {"id": "OMIM:147791", "label": "Jacobsen syndrome"},
                    "genomicInterpretations": [
                        {
                            "subjectOrBiosampleId": "s",
                            "interpretationStatus": "CAUSATIVE",
                            "variantInterpretation": {
                                "variationDescriptor": {
                                    "id": "var_1",
                                    "label": "telomeric 11q deletion",
                                    "structuralType": {"id": "SO:1000029"},
                                    "allelicState": {"id": "GENO:0000135"},
                                }
                            },
                        }
                    ],
                },
            }
        ],
    }
    case = read_phenopacket(packet)
    (call,) = case.variants
    assert call.label == "telomeric 11q deletion" and call.structural_type == "SO:1000029"
    assert call.zygosity == "heterozygous" and not call.has_coordinates
    assert read_phenopacket(case_to_phenopacket(case)) == case


def test_diseases_without_interpretation_become_diagnoses() -> None:
    packet = {
        "id": "d",
        "subject": {"id": "s"},
        "diseases": [
            {"term": {"id": "OMIM:601859", "label": "ALPS"}},
            {"term": {"id": "OMIM:000001"}, "excluded": True},
        ],
    }
    case = read_phenopacket(packet)
    assert case.disease_ids == ("OMIM:601859",)
    assert read_phenopacket(case_to_phenopacket(case)) == case


# --- writing -------------------------------------------------------------------------------------


def test_write_is_atomic_and_round_trips(example_path: Path, tmp_path: Path) -> None:
    case = read_phenopacket(example_path)
    target = tmp_path / "out.phenopacket.json"
    target.write_text("old content")
    assert write_phenopacket(case, target) == target
    assert read_phenopacket(target) == case
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.phenopacket.json"]
    data = orjson.loads(target.read_bytes())
    assert (
        data["interpretations"][0]["diagnosis"]["genomicInterpretations"][0][
            "variantInterpretation"
        ]["variationDescriptor"]["vcfRecord"]["pos"]
        == 89010895
    )


def test_write_into_a_missing_folder_is_an_input_error(example_path: Path, tmp_path: Path) -> None:
    case = read_phenopacket(example_path)
    with pytest.raises(InputError, match="cannot write"):
        write_phenopacket(case, tmp_path / "missing" / "x.json")


def test_minimal_case_writes_schema_version() -> None:
    written = case_to_phenopacket(Case("c", read_phenopacket({"id": "c"}).subject))
    assert written["metaData"] == {"phenopacketSchemaVersion": "2.0"}
    assert written["subject"] == {"id": "c", "sex": "UNKNOWN_SEX"}


def test_genomic_file_attributes_survive() -> None:
    case = read_phenopacket(
        {
            "id": "c",
            "files": [
                {
                    "uri": "file:///a.bam",
                    "fileAttributes": {"fileFormat": "BAM", "description": "ignored"},
                }
            ],
        }
    )
    assert case.files == (GenomicFile("file:///a.bam", file_format="BAM"),)


# --- batches -------------------------------------------------------------------------------------


def test_read_cases_walks_folders_and_keeps_going(example_path: Path, tmp_path: Path) -> None:
    good = example_path.read_bytes()
    (tmp_path / "a-good.json").write_bytes(good)
    (tmp_path / "b-bad.json").write_text('{"id": "x", "subject": {"sex": "ALIEN"}}')
    (tmp_path / "notes.txt").write_text("not a case")
    hidden = tmp_path / ".cache"
    hidden.mkdir()
    (hidden / "ignored.json").write_text("{")
    nested = tmp_path / "sub"
    nested.mkdir()
    one_line = orjson.dumps(orjson.loads(good))
    (nested / "c.jsonl").write_bytes(one_line + b"\n{broken\n\n" + one_line + b"\n")
    results = list(read_cases([tmp_path, tmp_path / "missing.json"]))
    sources = [r.source for r in results]
    assert sources == [
        str(tmp_path / "a-good.json"),
        str(tmp_path / "b-bad.json"),
        f"{nested / 'c.jsonl'}:1",
        f"{nested / 'c.jsonl'}:2",
        f"{nested / 'c.jsonl'}:4",
        str(tmp_path / "missing.json"),
    ]
    assert [r.ok for r in results] == [True, False, True, False, True, False]
    assert "subject.sex" in str(results[1].error) and "b-bad.json" in str(results[1].error)
    assert f"{nested / 'c.jsonl'}:2" in str(results[3].error)
    assert "no such file" in str(results[5].error)


def test_read_cases_reports_an_empty_folder(tmp_path: Path) -> None:
    (result,) = read_cases([tmp_path])
    assert not result.ok and "no phenopacket files" in str(result.error)


def test_read_cases_survives_a_truncated_gzip(example_path: Path, tmp_path: Path) -> None:
    line = orjson.dumps(orjson.loads(example_path.read_bytes())) + b"\n"
    packed = gzip.compress(line * 50)
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(packed[: len(packed) // 2])
    results = list(read_cases([broken]))
    assert not results[-1].ok and "cannot read" in str(results[-1].error)
    assert all(r.ok for r in results[:-1])
