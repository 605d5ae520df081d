"""Annotation parsing: VEP CSQ (field order from the header), SnpEff ANN, INFO scores, ClinVar."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from raredx.genome import (
    ClinicalSignificance,
    GenomeConfig,
    GenomeEvidence,
    Impact,
    InheritanceMode,
    Reason,
    annotation_sources,
    collect_evidence,
    consequence_rank,
    impact_of,
    parse_ped,
    parse_significance,
    review_stars,
)
from raredx.genome.annotations import vep_allele
from raredx.genome.vcf import HeaderField
from raredx.kb import KnowledgeBase
from tests.genome.conftest import CSQ_LINE, Genes, VcfFactory, call, record


def _csq(
    allele: str,
    consequence: str,
    impact: str,
    symbol: str = "FBN1",
    gene: str = "ENSG00000166147",
    biotype: str = "protein_coding",
    hgvsp: str = "",
    hgnc: str = "HGNC:3603",
) -> str:
    return "|".join(
        [
            allele,
            consequence,
            impact,
            symbol,
            gene,
            "Transcript",
            "ENST00000316623",
            biotype,
            "ENST00000316623.5:c.1A>G",
            hgvsp,
            hgnc,
            "YES",
        ]
    )


def test_consequence_ranks() -> None:
    assert consequence_rank("transcript_ablation") == 0
    assert consequence_rank("stop_gained") < consequence_rank("missense_variant")
    assert consequence_rank("missense_variant") < consequence_rank("synonymous_variant")
    assert consequence_rank("made_up_term") > consequence_rank("intergenic_variant")
    assert impact_of("frameshift_variant") is Impact.HIGH
    assert impact_of("disruptive_inframe_deletion") is Impact.MODERATE  # SnpEff
    assert impact_of("nonsense") is None


def test_vep_allele_strips_a_shared_first_base() -> None:
    assert vep_allele("T", ["TC"], "TC") == "C"
    assert vep_allele("TC", ["T"], "T") == "-"
    assert vep_allele("A", ["G"], "G") == "G"
    assert vep_allele("AT", ["A", "ATT"], "ATT") == "TT"
    assert vep_allele("A", ["G", "AT"], "AT") == "AT"


def test_sources_recognised_from_the_header() -> None:
    fields = (
        HeaderField(
            "CSQ",
            ".",
            "String",
            "Consequence annotations from Ensembl VEP. Format: "
            "Allele|Consequence|IMPACT|SYMBOL|gnomADe_AF|MAX_AF|REVEL|am_pathogenicity|"
            "SpliceAI_pred_DS_AG|CLIN_SIG|AF",
        ),
        HeaderField("gnomAD_AF", "A", "Float", ""),
        HeaderField("GNOMADAF_popmax", "A", "Float", ""),
        HeaderField("AF", "A", "Float", "cohort allele frequency"),
        HeaderField("SWEGENAAC_Hom", "A", "Integer", ""),
        HeaderField("CADD", "1", "Float", ""),
        HeaderField("CLNSIG", ".", "String", ""),
    )
    s = annotation_sources(fields)
    assert s.csq_key == "CSQ" and s.csq[0] == "Allele"
    assert s.info_frequency == ("gnomAD_AF", "GNOMADAF_popmax")
    assert s.csq_frequency == ("gnomADe_AF", "MAX_AF", "AF")
    assert s.info_cadd == ("CADD",) and s.csq_revel == ("REVEL",)
    assert s.csq_alphamissense == ("am_pathogenicity",)
    assert s.csq_spliceai == ("SpliceAI_pred_DS_AG",)
    assert s.info_clinvar == ("CLNSIG",) and s.csq_clinvar == ("CLIN_SIG",)
    assert dict(s.describe())["REVEL"] == "CSQ/REVEL"


@pytest.fixture
def annotated(real_kb: KnowledgeBase, vcfs: VcfFactory) -> Callable[..., GenomeEvidence]:
    """Records of one affected proband "kid" with a CSQ header line (default: `CSQ_LINE`)."""

    def run(records: list[str], line: str = CSQ_LINE, **kw: object) -> GenomeEvidence:
        path = vcfs.write(records, extra=[line], name="csq.vcf")
        return collect_evidence(path, parse_ped("fam kid 0 0 1 2\n"), real_kb, **kw)  # type: ignore[arg-type]

    return run


def test_csq_consequence_filter(annotated: Callable[..., GenomeEvidence], genes: Genes) -> None:
    missense = _csq("G", "missense_variant", "MODERATE", hgvsp="ENSP1:p.Met1Val")
    synonymous = _csq("C", "synonymous_variant", "LOW")
    splice = _csq("T", "splice_region_variant&intron_variant", "LOW")
    records = [
        record("15", genes.fbn1, "A", "G", call("0/1"), info=f"CSQ={missense}"),
        record("15", genes.fbn1 + 3, "A", "C", call("0/1"), info=f"CSQ={synonymous}"),
        record("15", genes.fbn1 + 6, "A", "T", call("0/1"), info=f"CSQ={splice}"),
    ]
    ev = annotated(records)
    g = ev.gene("FBN1")
    assert g is not None
    assert [v.consequence for v in g.variants] == ["missense_variant", "splice_region_variant"]
    assert g.variants[0].hgvs_p == "ENSP1:p.Met1Val" and g.variants[0].impact is Impact.MODERATE
    (syn,) = [v for v in ev.variants("FBN1") if not v.qualifies]
    assert syn.reasons == (Reason.CONSEQUENCE,)
    assert "synonymous_variant (LOW impact)" in syn.set_aside[0].detail
    assert ev.counts["set aside: consequence"] == 1


def test_record_without_csq_in_an_annotated_file_keeps_its_genes(
    annotated: Callable[..., GenomeEvidence], genes: Genes
) -> None:
    """VEP writes CSQ on every record (intergenic ones too): a record without it was added
    after annotation, so it is placed by position like an unannotated file's records."""
    intergenic = "G|intergenic_variant|MODIFIER|||||||||"
    records = [
        record("15", genes.fbn1, "A", "G", call("0/1")),
        record("15", genes.fbn1 + 3, "A", "C", call("0/1"), info=f"CSQ={intergenic}"),
    ]
    ev = annotated(records)
    (added,) = [v for v in ev.variants("FBN1") if v.pos == genes.fbn1]
    assert added.qualifies and added.consequence is None
    assert added.consequence_label == "consequence unknown"
    (declared,) = [v for v in ev.variants("FBN1") if v.pos == genes.fbn1 + 3]
    assert declared.reasons == (Reason.CONSEQUENCE,)


def test_csq_multiallelic_entries_follow_their_allele(
    annotated: Callable[..., GenomeEvidence], genes: Genes
) -> None:
    csq = ",".join([_csq("G", "stop_gained", "HIGH"), _csq("T", "synonymous_variant", "LOW")])
    rec = record("15", genes.fbn1, "A", "G,T", "1/2:99:30:0,15,15", info=f"CSQ={csq}")
    ev = annotated([rec])
    by_alt = {v.alt: v for v in ev.variants("FBN1")}
    assert by_alt["G"].consequence == "stop_gained" and by_alt["G"].qualifies
    assert by_alt["T"].consequence == "synonymous_variant"
    assert by_alt["T"].reasons == (Reason.CONSEQUENCE,)


def test_spliceai_and_clinvar_rescue_low_impact(
    annotated: Callable[..., GenomeEvidence], genes: Genes
) -> None:
    line = CSQ_LINE.replace('">', '|SpliceAI_pred_DS_AG|CLIN_SIG">')
    syn = _csq("C", "synonymous_variant", "LOW")
    records = [
        record("15", genes.fbn1, "A", "C", call("0/1"), info=f"CSQ={syn}|0.65|"),
        record("15", genes.fbn1 + 9, "A", "C", call("0/1"), info=f"CSQ={syn}|0.01|pathogenic"),
    ]
    # VEP's CLIN_SIG carries no review status (0 stars): it rescues only when 0 stars suffice
    ev = annotated(records, line=line, config=GenomeConfig(clinvar_min_stars=0))
    g = ev.gene("FBN1")
    assert g is not None and len(g.variants) == 2
    assert g.variants[0].spliceai == pytest.approx(0.65)
    assert g.variants[0].in_silico.startswith("splicing")
    assert g.variants[1].clinvar is ClinicalSignificance.PATHOGENIC
    strict = annotated(records, line=line)
    assert len(strict.gene("FBN1").variants) == 1  # type: ignore[union-attr]


def test_snpeff_ann(real_kb: KnowledgeBase, vcfs: VcfFactory, genes: Genes) -> None:
    ann_line = (
        "##INFO=<ID=ANN,Number=.,Type=String,Description=\"Functional annotations: 'Allele | "
        "Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | "
        "Transcript_BioType | Rank | HGVS.c | HGVS.p | cDNA.pos / cDNA.length | CDS.pos / "
        "CDS.length | AA.pos / AA.length | Distance | ERRORS / WARNINGS / INFO' \">"
    )
    ann = "A|frameshift_variant|HIGH|PEX1|ENSG00000127980|transcript|ENST1|protein_coding|1/2|"
    ann += "c.1del|p.X|||||"
    rec = record("7", genes.pex1, "AT", "A", call("1/1"), info=f"ANN={ann}")
    path = vcfs.write([rec], extra=[ann_line], name="ann.vcf")
    ev = collect_evidence(path, parse_ped("fam kid 0 0 1 2\n"), real_kb)  # type: ignore[arg-type]
    g = ev.gene("PEX1")
    assert g is not None
    (v,) = g.variants
    assert v.consequence == "frameshift_variant" and v.hgvs_c == "c.1del"
    assert g.fit(InheritanceMode.AUTOSOMAL_RECESSIVE).compatible  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pathogenic", ClinicalSignificance.PATHOGENIC),
        ("Likely_pathogenic", ClinicalSignificance.LIKELY_PATHOGENIC),
        ("Pathogenic/Likely_pathogenic", ClinicalSignificance.LIKELY_PATHOGENIC),
        ("Conflicting_interpretations_of_pathogenicity", ClinicalSignificance.CONFLICTING),
        ("likely_benign&benign&uncertain_significance", ClinicalSignificance.UNCERTAIN),
        ("benign&pathogenic", ClinicalSignificance.CONFLICTING),
        ("Benign/Likely_benign", ClinicalSignificance.LIKELY_BENIGN),
        ("5", ClinicalSignificance.PATHOGENIC),
        ("2|3", ClinicalSignificance.LIKELY_BENIGN),
        ("drug_response", ClinicalSignificance.OTHER),
        ("Pathogenic,_low_penetrance", ClinicalSignificance.PATHOGENIC),
        ("", None),
        (".", None),
    ],
)
def test_clinvar_significance(text: str, expected: ClinicalSignificance | None) -> None:
    assert parse_significance(text) is expected


def test_review_stars() -> None:
    assert review_stars("practice_guideline") == 4
    assert review_stars("reviewed_by_expert_panel") == 3
    assert review_stars("criteria_provided,_multiple_submitters,_no_conflicts") == 2
    assert review_stars("criteria_provided,_single_submitter") == 1
    assert review_stars("criteria_provided,_conflicting_classifications") == 1
    assert review_stars("no_assertion_criteria_provided") == 0
    assert review_stars("mult") == 2 and review_stars("") == 0


@given(st.text(max_size=80))
def test_significance_parser_never_fails(text: str) -> None:
    result = parse_significance(text)
    assert result is None or isinstance(result, ClinicalSignificance)
    assert 0 <= review_stars(text) <= 4
