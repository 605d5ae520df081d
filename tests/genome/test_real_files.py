"""The shared real VCFs: an unannotated exome, a VEP/SnpEff trio, VEP 104 and VEP 113 (GRCh38)."""

from __future__ import annotations

from pathlib import Path

import pytest

from raredx.genome import (
    Assembly,
    ClinicalSignificance,
    GenomeEvidence,
    InheritanceMode,
    Reason,
    annotation_sources,
    collect_evidence,
    parse_ped,
    read_header,
)
from raredx.kb import KnowledgeBase

TRIO_PED = "643594 ADM1059A2 ADM1059A1 ADM1059A3 1 2\n643594 ADM1059A1 0 0 1 1\n"
TRIO_PED += "643594 ADM1059A3 0 0 2 1\n"  # as Clinical-Genomics/scout scout/demo/643594.ped


def _vcf(shared_dir: Path, name: str) -> Path:
    path = shared_dir / "bench" / "vcf" / name
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return path


@pytest.fixture(scope="module")
def pfeiffer(shared_dir: Path, real_kb: KnowledgeBase) -> GenomeEvidence:
    return collect_evidence(_vcf(shared_dir, "pfeiffer-exome-background.b37.vcf.gz"), kb=real_kb)


@pytest.mark.slow
def test_pfeiffer_exome(pfeiffer: GenomeEvidence) -> None:
    c = pfeiffer.counts
    assert c["records"] == 37_708
    assert c["alleles in genes"] == c["qualifying"] + c["set aside: quality"]
    in_genes = c["records"] - c["non-primary contig"] - c["outside genes"]
    assert in_genes - c.get("not carried by the proband", 0) <= c["alleles in genes"]
    assert pfeiffer.header.assembly is Assembly.GRCH37
    assert len(pfeiffer) > 10_000  # genes with a qualifying (unannotated) variant
    g = pfeiffer.gene("FGFR2")
    assert g is None or all(v.consequence is None for v in g.variants)
    # every gene answers with fits; dominant fits need just one qualifying variant
    first = pfeiffer.gene(pfeiffer.gene_indices[0])
    assert first is not None and first.fits


@pytest.mark.slow
def test_pfeiffer_old_symbols_resolve_to_current(pfeiffer: GenomeEvidence) -> None:
    symbols = {pfeiffer.kb.gene_symbols[g] for g in pfeiffer.gene_indices}
    assert "C10orf2" not in symbols  # HGNC now calls it TWNK
    assert all(pfeiffer.kb.gene_indices(s) for s in list(symbols)[:200])


def test_scout_trio(shared_dir: Path, real_kb: KnowledgeBase) -> None:
    path = _vcf(shared_dir, "scout-trio-643594.vep.b37.vcf.gz")
    header = read_header(path)
    sources = annotation_sources(header.info)
    assert sources.csq and sources.ann and sources.info_cadd == ("CADD",)
    assert "EXACAF" in sources.info_frequency and "1000GAF" in sources.info_frequency
    ev = collect_evidence(header, parse_ped(TRIO_PED), real_kb)
    assert ev.counts["records"] == 680
    # the affected son is homozygous for a RECQL5 insertion both parents carry
    recql5 = ev.gene("RECQL5")
    assert recql5 is not None
    fit = recql5.fit(InheritanceMode.AUTOSOMAL_RECESSIVE)
    assert fit is not None and fit.compatible and fit.genotype == "homozygous"
    assert set(fit.segregation.consistent) == {"ADM1059A1 (father)", "ADM1059A3 (mother)"}
    # FANCM's two heterozygous variants are not both in the son: no recessive fit
    fancm = ev.gene("FANCM")
    assert fancm is None or not any(f.compatible for f in fancm.fits if f.mode.value == "AR")
    for gene in ev.gene_indices:
        for v in ev.variants(gene):
            assert v.qualifies or all(s.detail for s in v.set_aside)
            assert len(v.calls) == 3 and v.calls[0].individual == "ADM1059A2"
    reasons = {r for g in ev.gene_indices for v in ev.variants(g) for r in v.reasons}
    assert {Reason.FREQUENCY, Reason.QUALITY, Reason.CONSEQUENCE} <= reasons


def test_vep104_scores(shared_dir: Path, real_kb: KnowledgeBase) -> None:
    path = _vcf(shared_dir, "scout-vep104-gnomad-revel-spliceai.b37.vcf")
    ped = "f earlycasualcaiman hugelymodelbat slowlycivilbuck 1 2\n"
    ped += "f hugelymodelbat 0 0 1 1\nf slowlycivilbuck 0 0 2 1\n"
    ev = collect_evidence(path, parse_ped(ped), real_kb)
    (v,) = ev.variants("NPHP4")
    assert v.consequence == "missense_variant" and v.hgvs_p.endswith("p.Arg1294Ser")
    assert v.revel == pytest.approx(0.664) and v.cadd == pytest.approx(24.3, abs=0.01)
    assert v.spliceai == pytest.approx(0.04)
    assert v.clinvar is ClinicalSignificance.UNCERTAIN and v.clinvar_stars == 1
    assert v.in_silico.startswith("pathogenic: REVEL 0.664")
    assert v.calls[1].genotype == "0/1"  # the father carries it too


def test_vep113_grch38(shared_dir: Path, real_kb: KnowledgeBase) -> None:
    path = _vcf(shared_dir, "scout-vep113.hg38.vcf")
    header = read_header(path)
    assert header.assembly is Assembly.GRCH38 and header.chr_prefix
    ev = collect_evidence(header, kb=real_kb)
    (v,) = ev.variants("FBN1")
    assert v.chrom == "15" and v.consequence == "3_prime_UTR_variant"
    assert v.frequency == pytest.approx(0.0080119) and v.frequency_source == "GNOMADAF_popmax"
    assert v.clinvar is ClinicalSignificance.CONFLICTING
    assert v.reasons == (Reason.CONSEQUENCE,)  # 0.8% is rare enough for a recessive allele
