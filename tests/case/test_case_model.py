"""The case domain model: validation, derived values and ISO 8601 durations."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from raredx.case import (
    Case,
    CaseMeta,
    GenomicFile,
    PedigreePerson,
    PhenotypeObservation,
    RecordedDiagnosis,
    Resource,
    Sex,
    Subject,
    VariantCall,
    format_iso_duration,
    gestational_onset_term,
    parse_iso_duration,
)
from raredx.case.model import EMBRYONAL_ONSET, FETAL_ONSET

DAYS = 365.25


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("P6Y", 6.0),
        ("P3Y2M", 3 + 2 / 12),
        ("P10D", 10 / DAYS),
        ("P1Y6M15D", 1 + 6 / 12 + 15 / DAYS),
        ("P4W", 28 / DAYS),
        ("P2M", 2 / 12),
        ("PT12H", 0.5 / DAYS),
        ("P1DT12H", 1.5 / DAYS),
        ("PT90M", 1.5 / 24 / DAYS),
        ("P1.5Y", 1.5),
        ("P0,5Y", 0.5),
        ("P0D", 0.0),
        (" P6Y ", 6.0),
    ],
)
def test_parse_iso_duration(text: str, years: float) -> None:
    assert parse_iso_duration(text) == pytest.approx(years, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    "text", ["", "P", "PT", "6Y", "P6", "P-1Y", "P1YT", "p6y", "P1Y2X", "six years", "P1M2Y"]
)
def test_parse_iso_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_iso_duration(text)


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("P6Y", "P6Y"),
        ("P3Y2M", "P3Y2M"),
        ("P10D", "P10D"),
        ("P1Y6M15D", "P1Y6M15D"),
        ("P4W", "P28D"),
        ("P2M", "P2M"),
        ("P0D", "P0D"),
    ],
)
def test_format_iso_duration_prefers_calendar_units(text: str, written: str) -> None:
    years = parse_iso_duration(text)
    assert format_iso_duration(years) == written
    assert parse_iso_duration(format_iso_duration(years)) == years


def test_format_iso_duration_falls_back_to_exact_decimal_years() -> None:
    for years in (0.123456789, 1e-7, 149.99999999):
        text = format_iso_duration(years)
        assert parse_iso_duration(text) == years
    with pytest.raises(ValueError):
        format_iso_duration(-1.0)
    with pytest.raises(ValueError):
        format_iso_duration(float("nan"))


def test_gestational_onset_derives_the_hpo_onset_class() -> None:
    early = PhenotypeObservation("HP:0001744", onset_gestational_days=9 * 7 + 6)
    late = PhenotypeObservation("HP:0001744", onset_gestational_days=20 * 7)
    assert early.onset_term == EMBRYONAL_ONSET == gestational_onset_term(69)
    assert late.onset_term == FETAL_ONSET
    assert late.prenatal and not PhenotypeObservation("HP:0001744").prenatal
    explicit = PhenotypeObservation(
        "HP:0001744", onset_term=FETAL_ONSET, onset_gestational_days=140
    )
    assert explicit == late
    with pytest.raises(ValueError, match="contradicts"):
        PhenotypeObservation("HP:0001744", onset_term="HP:0003577", onset_gestational_days=140)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"term_id": ""},
        {"term_id": "Splenomegaly"},
        {"term_id": " HP:0001744"},
        {"term_id": "HP:0001744", "label": ""},
        {"term_id": "HP:0001744", "excluded": "yes"},
        {"term_id": "HP:0001744", "onset_years": -1.0},
        {"term_id": "HP:0001744", "onset_years": 151.0},
        {"term_id": "HP:0001744", "onset_years": float("nan")},
        {"term_id": "HP:0001744", "onset_years": True},
        {"term_id": "HP:0001744", "onset_years": 2.0, "onset_term": "HP:0011463"},
        {"term_id": "HP:0001744", "onset_years": 2.0, "onset_gestational_days": 100},
        {"term_id": "HP:0001744", "onset_gestational_days": 400},
    ],
)
def test_phenotype_observation_rejects(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        PhenotypeObservation(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"chrom": "chr10", "pos": 89010895, "ref": "A"},
        {"chrom": "chr10", "pos": 0, "ref": "A", "alt": "G"},
        {"chrom": "chr10", "pos": True, "ref": "A", "alt": "G"},
        {"chrom": "chr10", "pos": 5, "ref": "A A", "alt": "G"},
        {"assembly": "GRCh38", "gene_symbol": "FAS"},
        {"gene_symbol": "FAS", "zygosity": "Heterozygous"},
        {"gene_symbol": "FAS", "acmg_class": "BAD"},
        {"gene_symbol": "FAS", "interpretation_status": "MAYBE"},
        {"gene_id": "11920"},
        {},
    ],
)
def test_variant_call_rejects(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        VariantCall(**kwargs)  # type: ignore[arg-type]


def test_variant_call_kinds() -> None:
    gene = VariantCall(gene_symbol="FAS", gene_id="HGNC:11920", interpretation_status="CANDIDATE")
    assert gene.gene_only and not gene.has_coordinates
    snv = VariantCall(
        chrom="chr10", pos=89010895, ref="A", alt="G", gene_symbol="FAS", zygosity="heterozygous"
    )
    assert snv.has_coordinates and not snv.gene_only
    deletion = VariantCall(label="telomeric 11q deletion", structural_type="SO:1000029")
    assert not deletion.gene_only


def test_diagnosis_needs_a_disease_or_a_variant() -> None:
    with pytest.raises(ValueError):
        RecordedDiagnosis(None)
    with pytest.raises(ValueError):
        RecordedDiagnosis(None, label="orphan label", variants=(VariantCall(gene_symbol="FAS"),))
    with pytest.raises(ValueError):
        RecordedDiagnosis("OMIM:601859", progress_status="DONE")
    assert RecordedDiagnosis(None, variants=(VariantCall(gene_symbol="FAS"),)).disease_id is None


def test_genomic_file_mapping_is_sorted_and_unique() -> None:
    f = GenomicFile("file:///x.vcf.gz", individual_to_file_ids=(("b", "S2"), ("a", "S1")))
    assert f.individual_to_file_ids == (("a", "S1"), ("b", "S2"))
    assert f.sample_id("b") == "S2" and f.sample_id("c") is None
    assert f == GenomicFile("file:///x.vcf.gz", individual_to_file_ids=(("a", "S1"), ("b", "S2")))
    with pytest.raises(ValueError, match="twice"):
        GenomicFile("x.vcf", individual_to_file_ids=(("a", "S1"), ("a", "S2")))
    with pytest.raises(ValueError):
        GenomicFile("")


def test_pedigree_person_uses_none_for_unknown_parents() -> None:
    with pytest.raises(ValueError, match="'0'"):
        PedigreePerson("F1", "child", paternal_id="0")
    with pytest.raises(ValueError):
        PedigreePerson("F1", "child", affected=1)  # type: ignore[arg-type]
    assert PedigreePerson("F1", "child").affected is None


def test_subject_and_meta_validation() -> None:
    with pytest.raises(ValueError):
        Subject("")
    with pytest.raises(ValueError):
        Subject("p", sex="MALE")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Subject("p", date_of_birth=datetime(2020, 1, 1, tzinfo=UTC))
    assert Subject("p", Sex.MALE, 4.0, date(2021, 5, 1)).age_years == 4.0
    with pytest.raises(ValueError, match="timezone"):
        CaseMeta(created=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match=r"2\.x"):
        CaseMeta(schema_version="1.0")
    with pytest.raises(ValueError):
        Resource("hp", name=" padded ")


def test_case_terms_and_family_rules() -> None:
    features = (
        PhenotypeObservation("HP:0001744", "Splenomegaly"),
        PhenotypeObservation("HP:0002716"),
        PhenotypeObservation("HP:0001744"),
        PhenotypeObservation("HP:0002718", excluded=True),
    )
    call = VariantCall(gene_symbol="FAS")
    case = Case(
        "c1",
        Subject("p1"),
        features=features,
        diagnoses=(RecordedDiagnosis("OMIM:601859", variants=(call,)),),
    )
    assert case.observed_terms == ("HP:0001744", "HP:0002716")
    assert case.excluded_terms == ("HP:0002718",)
    assert case.variants == (call,)
    assert case.disease_ids == ("OMIM:601859",)
    assert case.proband_id == "p1"
    with pytest.raises(ValueError, match="family_id"):
        Case("c1", Subject("p1"), pedigree=(PedigreePerson("F", "p1"),))
    with pytest.raises(ValueError, match="family_id"):
        Case("c1", Subject("p1"), consanguineous_parents=True)
    with pytest.raises(ValueError):
        Case("c1", Subject("p1"), features=[features[0]])  # type: ignore[arg-type]
    related = Case("c2", Subject("p2"), family_id="F")
    with pytest.raises(ValueError, match="relatives"):
        Case("c1", Subject("p1"), relatives=(related,), family_id="F")
