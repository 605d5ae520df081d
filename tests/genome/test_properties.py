"""Properties over random families and random (often broken) records."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raredx.errors import InputError
from raredx.genome import GenomeConfig, InheritanceMode, collect_evidence, parse_ped
from raredx.kb import KnowledgeBase
from tests.genome.conftest import Genes, VcfFactory, call, record

GT = st.sampled_from(["0/0", "0/1", "1/1", "./.", "0|1", "1|0", "./1", "1"])
STATUS = st.sampled_from(["0", "1", "2"])
FAMILY_PED = "F kid dad mum {sex} 2\nF dad 0 0 1 {dad}\nF mum 0 0 2 {mum}\nF sib dad mum 1 {sib}\n"
SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(
    gts=st.lists(st.tuples(GT, GT, GT, GT), min_size=1, max_size=6),
    statuses=st.tuples(STATUS, STATUS, STATUS),
    sex=st.sampled_from(["1", "2", "0"]),
    chrom=st.sampled_from(["15", "7", "X"]),
    af=st.one_of(st.none(), st.floats(0, 0.1)),
)
def test_family_evidence_invariants(
    tmp_path_factory: object,
    real_kb: KnowledgeBase,
    genes: Genes,
    gts: list[tuple[str, str, str, str]],
    statuses: tuple[str, str, str],
    sex: str,
    chrom: str,
    af: float | None,
) -> None:
    folder = Path(tmp_path_factory.mktemp("prop"))  # type: ignore[attr-defined]
    base = {"15": genes.fbn1, "7": genes.pex1, "X": genes.dmd}[chrom]
    info = "." if af is None else f"gnomAD_AF={af:.6f}"
    records = [
        record(chrom, base + 10 * i, "C", "T", *(call(g) for g in row), info=info)
        for i, row in enumerate(gts)
    ]
    path = VcfFactory(folder).write(records, samples=("kid", "dad", "mum", "sib"))
    ped = FAMILY_PED.format(sex=sex, dad=statuses[0], mum=statuses[1], sib=statuses[2])
    ev = collect_evidence(path, parse_ped(ped, proband="kid"), real_kb)
    counted = sum(
        v
        for k, v in ev.counts.items()
        if k in ("qualifying", "set aside: quality", "set aside: frequency")
    )
    assert counted == ev.counts.get("alleles in genes", 0)
    for g in ev:
        assert g.fits and {f.mode for f in g.fits} <= set(InheritanceMode)
        keys = {v.key for v in g.variants}
        for f in g.fits:
            assert set(f.variants) <= keys
            assert f.compatible == (not f.reason)
            assert f.segregation.ok or not f.compatible
        for v in g.variants:
            assert v.qualifies or all(s.detail for s in v.set_aside)
            assert v.calls[0].individual == "kid"
            if v.qualifies:
                assert any(f.compatible and v.key in f.variants for f in g.fits) or any(
                    f.compatible for f in g.fits
                )
    for gene in ("FBN1", "PEX1", "DMD"):
        for v in ev.variants(gene):
            assert v.qualifies or v.set_aside


@SETTINGS
@given(
    value=st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=";\t\n= "),
        min_size=1,
        max_size=12,
    ),
    gt=st.text(alphabet="01./|2x", min_size=1, max_size=5),
)
def test_broken_records_fail_only_with_input_error(
    tmp_path_factory: object, real_kb: KnowledgeBase, genes: Genes, value: str, gt: str
) -> None:
    folder = Path(tmp_path_factory.mktemp("broken"))  # type: ignore[attr-defined]
    rec = record("15", genes.fbn1, "C", "T", f"{gt}:99:30:15,15", info=f"gnomAD_AF={value}")
    path = VcfFactory(folder).write([rec])
    try:
        ev = collect_evidence(path, kb=real_kb)
    except InputError as exc:
        assert "test.vcf" in str(exc)
        return
    for v in ev.variants("FBN1"):
        assert v.frequency is None or 0.0 <= v.frequency <= 1.0


def test_config_validation_and_derived_limits() -> None:
    cfg = GenomeConfig()
    assert cfg.min_gq == 20.0 and cfg.min_depth == 8
    assert cfg.max_any_af == cfg.max_credible_af(InheritanceMode.AUTOSOMAL_RECESSIVE)
    strict = GenomeConfig(genotype_error=0.001)
    assert strict.min_gq == 30.0 and strict.min_depth == 11
    assert not cfg.allele_balance_ok(2, 40) and cfg.allele_balance_ok(15, 40)
    assert cfg.allele_balance_ok(1400, 3000) and not cfg.allele_balance_ok(100, 3000)
    for bad in (
        {"genotype_error": 0.7},
        {"disease_prevalence": 0},
        {"max_compound_candidates": -1},
    ):
        try:
            GenomeConfig(**bad)  # type: ignore[arg-type]
        except ValueError:
            continue
        raise AssertionError(bad)
