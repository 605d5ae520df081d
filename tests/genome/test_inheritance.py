"""Genotype fit and segregation on hand-made trios and families (real gene coordinates)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from raredx.genome import GenomeConfig, GenomeEvidence, InheritanceMode, Reason, Zygosity
from tests.genome.conftest import Genes, call, record

AD = InheritanceMode.AUTOSOMAL_DOMINANT
AR = InheritanceMode.AUTOSOMAL_RECESSIVE
XLD = InheritanceMode.X_LINKED_DOMINANT
XLR = InheritanceMode.X_LINKED_RECESSIVE
MT = InheritanceMode.MITOCHONDRIAL

Run = Callable[..., GenomeEvidence]


def test_de_novo_dominant(evidence_of: Run, genes: Genes) -> None:
    ev = evidence_of([record("15", genes.fbn1, "C", "T", call("0/1"), call("0/0"), call("0/0"))])
    g = ev.gene("FBN1")
    assert g is not None and g.modes == (AD,)
    fit = g.fit(AD)
    assert fit is not None and fit.compatible
    assert fit.genotype == "de novo heterozygous" and fit.de_novo is True
    assert set(fit.segregation.consistent) == {"dad (father)", "mum (mother)"}
    (v,) = g.variants
    assert v.qualifies and v.de_novo is True and v.consequence is None
    assert v.consequence_label == "consequence unknown"
    assert [c.zygosity for c in v.calls] == [
        Zygosity.HETEROZYGOUS,
        Zygosity.HOM_REF,
        Zygosity.HOM_REF,
    ]


def test_dominant_from_unaffected_parent_does_not_segregate(evidence_of: Run, genes: Genes) -> None:
    ev = evidence_of([record("15", genes.fbn1, "C", "T", call("0/1"), call("0/1"), call("0/0"))])
    g = ev.gene("FBN1")
    assert g is not None
    fit = g.fit(AD)
    assert fit is not None and not fit.compatible
    assert fit.segregation.inconsistent == ("dad (father)",)
    assert "dad (father) disagrees" in fit.reason
    (v,) = g.variants
    assert v.reasons == (Reason.SEGREGATION,)
    assert "dad (father) disagrees" in v.set_aside[0].detail
    # reduced penetrance lets unaffected carriers pass
    lenient = evidence_of(
        [record("15", genes.fbn1, "C", "T", call("0/1"), call("0/1"), call("0/0"))],
        config=GenomeConfig(allow_unaffected_carriers=True),
    )
    fit2 = lenient.gene("FBN1").fit(AD)  # type: ignore[union-attr]
    assert fit2 is not None and fit2.compatible and fit2.de_novo is False


def test_dominant_affected_parent_segregates(evidence_of: Run, genes: Genes) -> None:
    ped = "fam kid dad mum 1 2\nfam dad 0 0 1 2\nfam mum 0 0 2 1\n"
    ev = evidence_of(
        [record("15", genes.fbn1, "C", "T", call("0/1"), call("0/1"), call("0/0"))], ped=ped
    )
    fit = ev.gene("FBN1").fit(AD)  # type: ignore[union-attr]
    assert fit is not None and fit.compatible and fit.genotype == "heterozygous"
    assert fit.de_novo is False


def test_recessive_homozygous_with_carrier_parents(evidence_of: Run, genes: Genes) -> None:
    ev = evidence_of([record("7", genes.pex1, "G", "A", call("1/1"), call("0/1"), call("0/1"))])
    g = ev.gene("PEX1")
    assert g is not None and g.modes == (AR,)
    fit = g.fit(AR)
    assert fit is not None and fit.compatible and fit.genotype == "homozygous"
    assert fit.segregation.inconsistent == ()
    # a parent without the allele disagrees (deletion, UPD or error)
    ev2 = evidence_of([record("7", genes.pex1, "G", "A", call("1/1"), call("0/0"), call("0/1"))])
    fit2 = ev2.gene("PEX1").fit(AR)  # type: ignore[union-attr]
    assert fit2 is not None and not fit2.compatible
    assert "dad (father)" in fit2.segregation.inconsistent


def test_compound_heterozygous_phased_by_parents(evidence_of: Run, genes: Genes) -> None:
    records = [
        record("7", genes.pex1, "G", "A", call("0/1"), call("0/1"), call("0/0")),
        record("7", genes.pex1 + 50, "C", "T", call("0/1"), call("0/0"), call("0/1")),
    ]
    g = evidence_of(records).gene("PEX1")
    assert g is not None
    fit = g.fit(AR)
    assert fit is not None and fit.compatible
    assert fit.genotype == "compound heterozygous" and fit.phase == "trans (parents)"
    assert len(fit.variants) == 2
    assert all(v.qualifies for v in g.variants)


def test_compound_heterozygous_in_cis_is_set_aside(evidence_of: Run, genes: Genes) -> None:
    records = [
        record("7", genes.pex1, "G", "A", call("0/1"), call("0/1"), call("0/0")),
        record("7", genes.pex1 + 50, "C", "T", call("0/1"), call("0/1"), call("0/0")),
    ]
    g = evidence_of(records).gene("PEX1")
    assert g is not None
    fit = g.fit(AR)
    assert fit is not None and not fit.compatible and "cis" in fit.reason
    for v in g.variants:
        assert v.reasons == (Reason.INHERITANCE,)
        assert "cis" in v.set_aside[0].detail


def test_single_heterozygote_does_not_fit_recessive(evidence_of: Run, genes: Genes) -> None:
    g = evidence_of(
        [record("7", genes.pex1, "G", "A", call("0/1"), call("0/1"), call("0/0"))]
    ).gene("PEX1")
    assert g is not None
    fit = g.fit(AR)
    assert fit is not None and not fit.compatible and "second allele" in fit.reason
    assert g.variants[0].reasons == (Reason.INHERITANCE,)


def test_read_backed_phasing(evidence_of: Run, genes: Genes) -> None:
    fmt = "GT:GQ:DP:AD:PS"
    cis = [
        record("7", genes.pex1, "G", "A", "0|1:99:30:15,15:100", fmt=fmt),
        record("7", genes.pex1 + 10, "C", "T", "0|1:99:30:15,15:100", fmt=fmt),
    ]
    g = evidence_of(cis, samples=("kid",), ped="fam kid 0 0 1 2\n").gene("PEX1")
    fit = g.fit(AR)  # type: ignore[union-attr]
    assert fit is not None and not fit.compatible and fit.phase == "cis (read-backed)"
    trans = [
        record("7", genes.pex1, "G", "A", "0|1:99:30:15,15:100", fmt=fmt),
        record("7", genes.pex1 + 10, "C", "T", "1|0:99:30:15,15:100", fmt=fmt),
    ]
    fit = evidence_of(trans, samples=("kid",), ped="fam kid 0 0 1 2\n").gene("PEX1").fit(AR)  # type: ignore[union-attr]
    assert fit is not None and fit.compatible and fit.phase == "trans (read-backed)"


def test_multiallelic_site_is_split_and_trans(evidence_of: Run, genes: Genes) -> None:
    rec = record("7", genes.pex1, "G", "A,T", "1/2:99:30:0,15,15", fmt="GT:GQ:DP:AD")
    ev = evidence_of([rec], samples=("kid",), ped="fam kid 0 0 1 2\n")
    g = ev.gene("PEX1")
    assert g is not None and len(g.variants) == 2
    assert {v.alt for v in g.variants} == {"A", "T"}
    assert all(v.proband.genotype == "1/2" for v in g.variants)
    fit = g.fit(AR)
    assert fit is not None and fit.compatible and fit.phase == "trans (same site)"


def test_x_linked_hemizygous_male(evidence_of: Run, genes: Genes) -> None:
    ev = evidence_of([record("X", genes.dmd, "A", "G", call("1/1"), call("0/0"), call("0/1"))])
    g = ev.gene("DMD")
    assert g is not None
    fit = g.fit(XLR)
    assert fit is not None and fit.compatible and fit.genotype == "hemizygous"
    assert fit.de_novo is False
    assert g.variants[0].proband.zygosity is Zygosity.HEMIZYGOUS
    # an autosomal query on an X gene answers with its X-linked counterpart
    assert g.fit(AR) == fit
    # a haploid call is hemizygous too
    ev2 = evidence_of([record("X", genes.dmd, "A", "G", "1:99:30:0,30", call("0"), call("0/1"))])
    assert ev2.gene("DMD").fit(XLR).compatible  # type: ignore[union-attr]


def test_x_linked_recessive_unaffected_carrier_father_disagrees(
    evidence_of: Run, genes: Genes
) -> None:
    ev = evidence_of([record("X", genes.dmd, "A", "G", call("1/1"), call("1/1"), call("0/1"))])
    fit = ev.gene("DMD").fit(XLR)  # type: ignore[union-attr]
    assert fit is not None and not fit.compatible
    assert fit.segregation.inconsistent == ("dad (father)",)


def test_x_linked_heterozygous_female_needs_two_alleles(evidence_of: Run, genes: Genes) -> None:
    ev = evidence_of(
        [record("X", genes.dmd, "A", "G", call("0/1"), call("0/0"), call("0/1"))], sex=2
    )
    g = ev.gene("DMD")
    assert g is not None
    assert not g.fit(XLR).compatible  # type: ignore[union-attr]
    xld = g.fit(XLD)
    assert xld is not None and not xld.compatible  # the unaffected mother carries it


def test_x_linked_dominant_cannot_pass_father_to_son(evidence_of: Run, genes: Genes) -> None:
    ped = "fam kid dad mum 1 2\nfam dad 0 0 1 2\nfam mum 0 0 2 1\n"
    ev = evidence_of(
        [record("X", genes.col4a5, "A", "G", call("1/1"), call("1/1"), call("0/0"))], ped=ped
    )
    fit = ev.gene("COL4A5").fit(XLD)  # type: ignore[union-attr]
    assert fit is not None and not fit.compatible
    assert "dad (father)" in fit.segregation.inconsistent


def test_mitochondrial(evidence_of: Run, genes: Genes) -> None:
    ev = evidence_of(
        [
            record(
                "MT", genes.mt_nd4, "G", "A", "1:99:300:0,300", "0:99:300:300,0", "1:99:300:10,290"
            )
        ]
    )
    g = ev.gene("MT-ND4")
    assert g is not None
    fit = g.fit(MT)
    assert fit is not None and fit.compatible and fit.genotype == "homoplasmic"
    assert fit.de_novo is False
    assert [f.mode for f in g.fits] == [MT]


def test_unaffected_sibling_with_same_genotype_disagrees(evidence_of: Run, genes: Genes) -> None:
    ped = "fam kid dad mum 1 2\nfam dad 0 0 1 1\nfam mum 0 0 2 1\nfam sib dad mum 2 1\n"
    records = [
        record("7", genes.pex1, "G", "A", call("1/1"), call("0/1"), call("0/1"), call("1/1"))
    ]
    ev = evidence_of(records, samples=("kid", "dad", "mum", "sib"), ped=ped)
    fit = ev.gene("PEX1").fit(AR)  # type: ignore[union-attr]
    assert fit is not None and not fit.compatible
    assert fit.segregation.inconsistent == ("sib (sibling)",)
    # an affected sibling with the same genotype agrees
    ped2 = ped.replace("fam sib dad mum 2 1", "fam sib dad mum 2 2")
    ev2 = evidence_of(records, samples=("kid", "dad", "mum", "sib"), ped=ped2)
    fit2 = ev2.gene("PEX1").fit(AR)  # type: ignore[union-attr]
    assert fit2 is not None and fit2.compatible
    assert "sib (sibling)" in fit2.segregation.consistent


def test_unsequenced_relatives_are_uninformative(evidence_of: Run, genes: Genes) -> None:
    ped = "fam kid dad mum 1 2\nfam dad 0 0 1 1\nfam mum 0 0 2 1\n"
    ev = evidence_of([record("15", genes.fbn1, "C", "T", call("0/1"))], samples=("kid",), ped=ped)
    fit = ev.gene("FBN1").fit(AD)  # type: ignore[union-attr]
    assert fit is not None and fit.compatible and fit.de_novo is None
    assert "dad (father, not sequenced)" in fit.segregation.uninformative


def test_frequency_limits_depend_on_the_mode(evidence_of: Run, genes: Genes) -> None:
    cfg = GenomeConfig()
    # 0.5% is too common for a dominant allele but not for a recessive one
    af = 0.005
    assert cfg.max_credible_af(AD) < af < cfg.max_credible_af(AR)
    rec_ad = record(
        "15", genes.fbn1, "C", "T", call("0/1"), call("0/0"), call("0/0"), info=f"gnomAD_AF={af}"
    )
    g = evidence_of([rec_ad]).gene("FBN1")
    assert g is not None
    (v,) = g.variants
    assert v.reasons == (Reason.FREQUENCY,) and "0.500%" in v.set_aside[0].detail
    assert not g.fit(AD).compatible  # type: ignore[union-attr]
    rec_ar = record(
        "7", genes.pex1, "G", "A", call("1/1"), call("0/1"), call("0/1"), info=f"gnomAD_AF={af}"
    )
    assert evidence_of([rec_ar]).gene("PEX1").fit(AR).compatible  # type: ignore[union-attr]
    # above every mode's limit: set aside while reading
    common = record(
        "15", genes.fbn1, "C", "T", call("0/1"), call("0/0"), call("0/0"), info="gnomAD_AF=0.2"
    )
    ev = evidence_of([common])
    assert ev.gene("FBN1") is None
    (v,) = ev.variants("FBN1")
    assert v.reasons == (Reason.FREQUENCY,) and v.frequency == pytest.approx(0.2)
    assert ev.counts["set aside: frequency"] == 1


def test_clinvar_pathogenic_is_not_set_aside_for_frequency(evidence_of: Run, genes: Genes) -> None:
    info = "gnomAD_AF=0.2;CLNSIG=Pathogenic;CLNREVSTAT=criteria_provided,_single_submitter"
    rec = record("15", genes.fbn1, "C", "T", call("0/1"), call("0/0"), call("0/0"), info=info)
    g = evidence_of([rec]).gene("FBN1")
    assert g is not None
    (v,) = g.variants
    assert v.qualifies and v.clinvar is not None and v.clinvar.is_pathogenic
    assert v.clinvar_stars == 1
    # without review criteria (0 stars) the frequency wins
    rec0 = record(
        "15",
        genes.fbn1,
        "C",
        "T",
        call("0/1"),
        call("0/0"),
        call("0/0"),
        info="gnomAD_AF=0.2;CLNSIG=Pathogenic;CLNREVSTAT=no_assertion_criteria_provided",
    )
    assert evidence_of([rec0]).gene("FBN1") is None


@pytest.mark.parametrize(
    ("sample", "filt", "needle"),
    [
        (call("0/1", gq=10), "PASS", "GQ 10 < 20"),
        (call("0/1", dp=5, ad="2,3"), "PASS", "depth 5 < 8"),
        (call("0/1", dp=40, ad="38,2"), "PASS", "allele balance 2/40"),
        (call("0/1"), "LowQual", "FILTER LowQual"),
    ],
)
def test_quality_is_set_aside_with_its_reason(
    evidence_of: Run, genes: Genes, sample: str, filt: str, needle: str
) -> None:
    ev = evidence_of(
        [record("15", genes.fbn1, "C", "T", sample, filt=filt)],
        samples=("kid",),
        ped="fam kid 0 0 1 2\n",
    )
    assert ev.gene("FBN1") is None
    (v,) = ev.variants("FBN1")
    assert v.reasons == (Reason.QUALITY,)
    assert needle in v.set_aside[0].detail
    assert ev.counts["set aside: quality"] == 1


def test_records_not_carried_or_outside_genes_are_counted(evidence_of: Run, genes: Genes) -> None:
    records = [
        record("15", genes.fbn1, "C", "T", call("0/0"), call("0/1"), call("0/0")),
        record("15", 1_000_000, "C", "T", call("0/1"), call("0/0"), call("0/0")),
        record("15", genes.fbn1 + 5, "C", "<DEL>", call("0/1"), call("0/0"), call("0/0")),
    ]
    ev = evidence_of(records)
    assert ev.counts["not carried by the proband"] == 1
    assert ev.counts["outside genes"] == 1
    assert ev.counts["symbolic or spanning-deletion allele"] == 1
    assert ev.counts["records"] == 3
    assert len(ev) == 0 and list(ev) == []


def test_every_set_aside_variant_has_a_reason(evidence_of: Run, genes: Genes) -> None:
    records = [
        record("15", genes.fbn1, "C", "T", call("0/1"), call("0/1"), call("0/0")),
        record("15", genes.fbn1 + 7, "C", "G", call("0/1", gq=3), call("0/0"), call("0/0")),
        record(
            "15",
            genes.fbn1 + 9,
            "C",
            "A",
            call("0/1"),
            call("0/0"),
            call("0/0"),
            info="gnomAD_AF=0.3",
        ),
        record("7", genes.pex1, "G", "A", call("0/1"), call("0/1"), call("0/0")),
    ]
    ev = evidence_of(records)
    for gene in ("FBN1", "PEX1"):
        for v in ev.variants(gene):
            assert v.qualifies or all(s.detail for s in v.set_aside), v


def test_unknown_proband_sex_and_no_pedigree(real_kb: object, vcfs: object, genes: Genes) -> None:
    from raredx.genome import collect_evidence
    from tests.genome.conftest import VcfFactory

    assert isinstance(vcfs, VcfFactory)
    path = vcfs.write([record("X", genes.dmd, "A", "G", call("1/1"))])
    ev = collect_evidence(path, kb=real_kb)  # type: ignore[arg-type]
    assert ev.pedigree.proband == "kid"
    fit = ev.gene("DMD").fit(XLR)  # type: ignore[union-attr]
    assert fit is not None and fit.compatible and fit.genotype == "homozygous"


def test_vcf_sample_order_does_not_matter(evidence_of: Run, genes: Genes) -> None:
    rec = record("15", genes.fbn1, "C", "T", call("0/0"), call("0/1"), call("0/0"))
    ev = evidence_of([rec], samples=("dad", "kid", "mum"))
    g = ev.gene("FBN1")
    assert g is not None
    (v,) = g.variants
    assert [(c.individual, c.genotype) for c in v.calls] == [
        ("kid", "0/1"),
        ("dad", "0/0"),
        ("mum", "0/0"),
    ]
    assert g.fit(AD).genotype == "de novo heterozygous"  # type: ignore[union-attr]
