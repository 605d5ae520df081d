"""The spiking library of benchmarks/genome_rank.py, on the real shared files."""

from __future__ import annotations

import gzip
import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyliftover import LiftOver

from raredx.case import Case, read_cases
from raredx.genome import InheritanceMode, Pedigree, collect_evidence, parse_ped, read_header
from raredx.kb import KnowledgeBase

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from _spike import (
    Background,
    Lifter,
    SpikeVariant,
    Trio,
    case_spikes,
    genotype_for,
    invert_chain,
    read_vcf,
)

ABCC8_HG38 = ("chr11", 17395914, "C", "T")
"""The first dev case's variant, NM_000352.6:c.4136G>A in ABCC8 (NC_000011.10:g.17395914C>T).
ABCC8 starts at 17,414,432 on GRCh37 and 17,392,885 on GRCh38 (Ensembl spans in
shared/data/genes): an offset of 21,547 bp, so GRCh37 11:17,417,461."""


@pytest.fixture(scope="module")
def lifter(shared_dir: Path) -> Lifter:
    return Lifter(shared_dir / "data" / "liftover" / "b37ToHg38.over.chain")


@pytest.fixture(scope="module")
def background(shared_dir: Path) -> Background:
    return Background(shared_dir / "bench" / "vcf" / "pfeiffer-exome-background.b37.vcf.gz")


@pytest.fixture(scope="module")
def abcc8_case(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Case:
    """The first dev phenopacket whose causal variant is ABCC8_HG38 (from the file's head)."""
    head = tmp_path_factory.mktemp("dev") / "head.jsonl"
    with gzip.open(shared_dir / "bench" / "phenopackets-dev.jsonl.gz", "rb") as src:
        head.write_bytes(b"".join(line for _, line in zip(range(200), src, strict=False)))
    for result in read_cases([head]):
        case = result.case
        if case is None:
            continue
        for d in case.diagnoses:
            if any((v.chrom, v.pos, v.ref, v.alt) == ABCC8_HG38 for v in d.variants):
                return case
    pytest.skip("the ABCC8 case is no longer among the first dev phenopackets")


def _records(path: Path) -> Iterator[list[str]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("#"):
                yield line.rstrip("\n").split("\t")


def test_invert_chain_minus_strand_round_trip() -> None:
    # target A [10,20) and [25,40) aligned to the reverse strand of B (rc [50,60), [70,85))
    chain = "chain 100 A 100 + 10 40 B 200 - 50 85 7\n10\t5\t10\n15\n\n"
    forward = LiftOver(io.BytesIO(chain.encode()))
    inverse = LiftOver(io.BytesIO(invert_chain(chain).encode()))
    mapped = 0
    for pos in range(0, 100):
        hits = forward.convert_coordinate("A", pos)
        if not hits:
            assert pos < 10 or 20 <= pos < 25 or pos >= 40
            continue
        name, q, strand, _ = hits[0]
        assert (name, strand) == ("B", "-")
        back = inverse.convert_coordinate("B", q)
        assert back and back[0][:3] == ("A", pos, "-")
        mapped += 1
    assert mapped == 25
    assert inverse.convert_coordinate("B", 200 - 1 - 22) == []  # in the gap: unmapped


def test_liftover_known_positions(lifter: Lifter) -> None:
    assert lifter.to_b37("chr7", 140753336, "A") == ("7", 140453136)  # BRAF V600E
    assert lifter.to_b37("chr6", 26092913, "G") == ("6", 26093141)  # HFE C282Y
    assert lifter.to_b37(*ABCC8_HG38[:2], ABCC8_HG38[2]) == ("11", 17417461)
    assert lifter.to_hg38("11", 17417461) == ("chr11", 17395914)
    assert lifter.to_b37("chr7", 10**9, "A") == "liftover failed (position unmapped in GRCh37)"


def test_case_spikes(abcc8_case: Case, lifter: Lifter) -> None:
    variants, why = case_spikes(abcc8_case, lifter)
    assert why is None
    assert [(v.chrom, v.pos, v.ref, v.alt, v.genotype, v.gene) for v in variants] == [
        ("11", 17417461, "C", "T", "0/1", "ABCC8")
    ]
    assert genotype_for("homozygous") == "1/1" and genotype_for("GENO:0000134") == "1/1"
    assert genotype_for("unspecified zygosity") is None


def test_spiked_background(
    abcc8_case: Case,
    lifter: Lifter,
    background: Background,
    tmp_path: Path,
    real_kb: KnowledgeBase,
) -> None:
    variants, _ = case_spikes(abcc8_case, lifter)
    hom = SpikeVariant("7", 117199644, "ATCT", "A", "1/1", "CFTR", "test")  # F508del, b37
    out = background.spike([*variants, hom], tmp_path / "spiked.vcf.gz")
    records = list(_records(out))
    original = list(_records(background.path))
    assert len(records) == len(original) + 2
    assert all(r[2] == "." for r in records)
    assert not any("DB" in r[7].split(";") for r in records)
    assert all("rs" not in r[2] for r in records)
    header = read_header(out)
    assert "DB" not in {f.id for f in header.info} and "SPIKED" not in {f.id for f in header.info}
    # every background record is still there (ID and DB aside), in header contig order
    spiked_keys = {(v.chrom, str(v.pos)) for v in (*variants, hom)}
    kept = [(r[0], r[1], r[3], r[4], r[9]) for r in records if (r[0], r[1]) not in spiked_keys]
    assert kept == [(r[0], r[1], r[3], r[4], r[9]) for r in original]
    vcf = read_vcf(out, anonymise=False)
    keys = [vcf.sort_key(r[0], int(r[1])) for r in records]
    assert keys == sorted(keys)
    # the spiked records: right GT, QUAL/INFO/FORMAT of a same-genotype background record
    by_key = {(r[0], r[1]): r for r in records}
    for v in (*variants, hom):
        rec = by_key[(v.chrom, str(v.pos))]
        assert (rec[3], rec[4]) == (v.ref, v.alt)
        donor = background.donor(v)
        assert rec[5:9] == donor[5:9]
        assert rec[9] == donor[9] and rec[9].split(":")[0] == v.genotype
    # raredx reads it and finds both genes with a compatible mode
    ev = collect_evidence(out, Pedigree.singleton("manuel"), real_kb)
    assert ev.counts["records"] == len(records)
    abcc8 = ev.gene("ABCC8")
    assert abcc8 is not None
    assert any(f.compatible for f in abcc8.fits if f.mode is InheritanceMode.AUTOSOMAL_DOMINANT)
    assert any(v.pos == 17417461 and v.qualifies for v in abcc8.variants)
    cftr = ev.gene("CFTR")
    assert cftr is not None
    fit = cftr.fit(InheritanceMode.AUTOSOMAL_RECESSIVE)
    assert fit is not None and fit.compatible and "7-117199644-ATCT-A" in fit.variants


def test_spike_replaces_background_record_at_same_position(
    background: Background, tmp_path: Path
) -> None:
    first = background.vcf.records[0]
    alt = "A" if first[4] != "A" and first[3] != "A" else "G"
    v = SpikeVariant(first[0], int(first[1]), first[3][0], alt, "0/1", None, "test")
    merged = background.merged([v])
    assert len(merged) == len(background.vcf.records)
    assert merged[0][:5] == [first[0], first[1], ".", first[3][0], alt]


def test_trio_de_novo(shared_dir: Path, tmp_path: Path, real_kb: KnowledgeBase) -> None:
    trio = Trio(shared_dir / "bench" / "vcf" / "scout-trio-643594.vep.b37.vcf.gz")
    v = SpikeVariant("11", 17417461, "C", "T", "0/1", "ABCC8", "test")
    out = trio.spike([v], male=True, path=tmp_path / "trio.vcf.gz")
    rec = next(r for r in _records(out) if (r[0], r[1]) == ("11", "17417461"))
    cols = read_vcf(out).samples
    gts = {s: rec[9 + i].split(":")[0] for i, s in enumerate(cols)}
    assert gts == {"ADM1059A2": "0/1", "ADM1059A1": "0/0", "ADM1059A3": "0/0"}
    info = {kv.partition("=")[0]: kv.partition("=")[2] for kv in rec[7].split(";")}
    assert not {"CSQ", "ANN", "CADD", "EXACAF", "1000GAF"} & set(info)
    assert (info["AC"], info["AN"]) == ("1", "6")
    ev = collect_evidence(out, parse_ped(trio.ped(1)), real_kb)
    assert ev.pedigree.proband == "ADM1059A2"
    assert ev.counts["records"] == 681
