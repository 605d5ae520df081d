"""PED files, phenopacket pedigrees and the match between pedigree and VCF samples."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from raredx.case import read_phenopacket
from raredx.case.model import Sex
from raredx.errors import InputError
from raredx.genome import (
    InheritanceMode,
    Pedigree,
    bind_samples,
    evidence_from_case,
    parse_ped,
    pedigree_from_case,
    read_ped,
)
from raredx.genome.pedigree import case_vcf
from raredx.kb import KnowledgeBase
from tests.genome.conftest import Genes, VcfFactory, call, record

TRIO = "#family id father mother sex phenotype\nF kid dad mum 2 2\nF dad 0 0 1 1\nF mum 0 0 2 1\n"


def test_trio() -> None:
    ped = parse_ped(TRIO)
    assert ped.proband == "kid" and ped.family_id == "F"
    assert ped.father is not None and ped.father.id == "dad" and ped.father.male
    assert ped.mother is not None and ped.mother.id == "mum"
    assert ped.proband_member.sex is Sex.FEMALE and ped.proband_member.affected is True
    assert [ped.role(m.id) for m in ped.members] == ["proband", "father", "mother"]


def test_proband_inference_and_choice() -> None:
    two = TRIO + "F sib dad mum 1 2\n"
    with pytest.raises(InputError, match="cannot tell the proband"):
        parse_ped(two)
    ped = parse_ped(two, proband="sib")
    assert ped.proband == "sib" and ped.role("kid") == "sibling"
    with pytest.raises(InputError, match="proband 'nobody' is not in the pedigree"):
        parse_ped(TRIO, proband="nobody")
    families = TRIO + "G other 0 0 1 2\n"
    with pytest.raises(InputError, match="2 families"):
        parse_ped(families)
    assert parse_ped(families, proband="other").members[0].id == "other"


def test_every_problem_reported_with_its_line() -> None:
    text = "F kid dad mum 3 2\nF dad 0 0 1\nF mum 0 0 2 7\nF kid 0 0 1 2\n"
    with pytest.raises(InputError) as info:
        parse_ped(text)
    problems = info.value.problems
    assert any(p.startswith("line 1 (kid): sex '3'") for p in problems)
    assert any(p.startswith("line 2: 5 columns") for p in problems)
    assert any(p.startswith("line 3 (mum): phenotype '7'") for p in problems)
    assert any(p.startswith("line 4 (kid): also on line 1") for p in problems)


def test_inconsistent_pedigree() -> None:
    with pytest.raises(InputError, match="father mum is recorded as female"):
        parse_ped("F kid mum dad 1 2\nF dad 0 0 1 1\nF mum 0 0 2 1\n")
    with pytest.raises(InputError, match="own ancestor"):
        parse_ped("F a b 0 1 2\nF b a 0 1 1\n")
    with pytest.raises(InputError, match="own parent"):
        parse_ped("F a a 0 1 2\n")
    with pytest.raises(InputError, match="no individuals"):
        parse_ped("# only a comment\n")


def test_read_ped_file(tmp_path: Path) -> None:
    path = tmp_path / "fam.ped"
    path.write_text(TRIO.replace(" ", "\t"))
    assert read_ped(path).proband == "kid"
    with pytest.raises(InputError, match="no such file"):
        read_ped(tmp_path / "missing.ped")


def test_bind_samples() -> None:
    ped = parse_ped(TRIO)
    bound = bind_samples(ped, ["kid", "mum"])
    assert [m.id for m in bound.sequenced] == ["kid", "mum"]
    assert bound.father is not None and not bound.father.sequenced
    with pytest.raises(InputError, match="samples absent from the pedigree: stranger"):
        bind_samples(ped, ["kid", "dad", "mum", "stranger"])
    with pytest.raises(InputError, match="the proband kid has no sample in the VCF"):
        bind_samples(ped, ["dad", "mum"])
    mapped = bind_samples(ped, ["S1", "S2", "S3"], {"kid": "S1", "dad": "S2", "mum": "S3"})
    assert mapped.proband_member.sample == "S1"
    with pytest.raises(InputError, match="mapped to sample 'S9'"):
        bind_samples(ped, ["kid"], {"dad": "S9"})


def test_singleton() -> None:
    ped = Pedigree.singleton("P1", Sex.MALE, sample="sample-1")
    assert ped.proband_member.sample == "sample-1" and ped.proband_member.affected
    assert ped.relatives == () and ped.sequenced == (ped.proband_member,)


def test_phenopacket_family(tmp_path: Path) -> None:
    family = {
        "id": "fam-1",
        "proband": {
            "id": "case-1",
            "subject": {"id": "kid", "sex": "MALE"},
            "phenotypicFeatures": [{"type": {"id": "HP:0001166", "label": "Arachnodactyly"}}],
            "metaData": {"created": "2024-01-01T00:00:00Z", "phenopacketSchemaVersion": "2.0"},
        },
        "pedigree": {
            "persons": [
                {
                    "familyId": "fam-1",
                    "individualId": "kid",
                    "paternalId": "dad",
                    "maternalId": "mum",
                    "sex": "MALE",
                    "affectedStatus": "AFFECTED",
                },
                {
                    "familyId": "fam-1",
                    "individualId": "dad",
                    "sex": "MALE",
                    "affectedStatus": "UNAFFECTED",
                },
                {
                    "familyId": "fam-1",
                    "individualId": "mum",
                    "sex": "FEMALE",
                    "affectedStatus": "UNAFFECTED",
                },
            ]
        },
        "files": [
            {
                "uri": "file://trio.vcf.gz",
                "individualToFileIdentifiers": {"kid": "S1", "dad": "S2", "mum": "S3"},
                "fileAttributes": {"genomeAssembly": "GRCh37", "fileFormat": "VCF"},
            }
        ],
        "metaData": {"created": "2024-01-01T00:00:00Z", "phenopacketSchemaVersion": "2.0"},
    }
    import orjson

    path = tmp_path / "family.json"
    path.write_bytes(orjson.dumps(family))
    case = read_phenopacket(path)
    ped, mapping = pedigree_from_case(case)
    assert ped.proband == "kid" and ped.father is not None and ped.father.id == "dad"
    assert mapping == {"dad": "S2", "kid": "S1", "mum": "S3"}
    vcf, assembly = case_vcf(case, tmp_path)
    assert vcf == tmp_path / "trio.vcf.gz" and assembly == "GRCh37"
    bound = bind_samples(ped, ["S1", "S2", "S3"], mapping)
    assert [m.sample for m in bound.sequenced] == ["S1", "S2", "S3"]


@given(st.text(max_size=200))
def test_parse_ped_fails_only_with_input_error(text: str) -> None:
    try:
        ped = parse_ped(text)
    except InputError:
        return
    assert ped.proband in {m.id for m in ped.members}


def test_evidence_from_a_phenopacket_family(
    tmp_path: Path, real_kb: KnowledgeBase, genes: Genes
) -> None:
    """The case's files entry names the VCF, its build and the sample ids; the pedigree its
    family (through the library and `raredx genome genes --case`)."""
    import orjson
    from typer.testing import CliRunner

    from raredx.cli.genome import app

    vcf = VcfFactory(tmp_path).write(
        [record("15", genes.fbn1, "C", "T", call("0/1"), call("0/0"), call("0/0"))],
        samples=("S1", "S2", "S3"),
        name="trio.vcf",
        assembly=None,
    )
    person = {"familyId": "fam-1", "sex": "MALE"}
    family = {
        "id": "fam-1",
        "proband": {
            "id": "case-1",
            "subject": {"id": "kid", "sex": "MALE"},
            "metaData": {"created": "2024-01-01T00:00:00Z", "phenopacketSchemaVersion": "2.0"},
        },
        "pedigree": {
            "persons": [
                {
                    **person,
                    "individualId": "kid",
                    "paternalId": "dad",
                    "maternalId": "mum",
                    "affectedStatus": "AFFECTED",
                },
                {**person, "individualId": "dad", "affectedStatus": "UNAFFECTED"},
                {**person, "individualId": "mum", "sex": "FEMALE", "affectedStatus": "UNAFFECTED"},
            ]
        },
        "files": [
            {
                "uri": f"file://{vcf.name}",
                "individualToFileIdentifiers": {"kid": "S1", "dad": "S2", "mum": "S3"},
                "fileAttributes": {"genomeAssembly": "GRCh37", "fileFormat": "VCF"},
            }
        ],
        "metaData": {"created": "2024-01-01T00:00:00Z", "phenopacketSchemaVersion": "2.0"},
    }
    path = tmp_path / "family.json"
    path.write_bytes(orjson.dumps(family))
    ev = evidence_from_case(read_phenopacket(path), real_kb, base=tmp_path)
    assert ev.header.assembly_source == "given"
    fit = ev.gene("FBN1").fit(InheritanceMode.AUTOSOMAL_DOMINANT)  # type: ignore[union-attr]
    assert fit is not None and fit.genotype == "de novo heterozygous"
    result = CliRunner().invoke(app, ["genes", "--case", str(path), "-f", "tsv"])
    assert result.exit_code == 0, result.output
    assert "AD: de novo heterozygous" in result.stdout
