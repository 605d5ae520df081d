"""Local ClinVar and population-frequency stores: compiled once, looked up by allele."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from raredx.errors import InputError
from raredx.genome import (
    Assembly,
    ClinicalSignificance,
    ClinVarStore,
    FrequencyStore,
    Reason,
    collect_evidence,
    compile_clinvar,
    compile_frequency,
    parse_ped,
)
from raredx.kb import KnowledgeBase
from tests.genome.conftest import Genes, VcfFactory, call, record


@pytest.fixture(scope="module")
def clinvar_store(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ClinVarStore:
    vcf = shared_dir / "data" / "clinvar" / "clinvar-test-slice.b37.vcf.gz"
    return compile_clinvar(vcf, tmp_path_factory.mktemp("cv") / "clinvar")


def test_clinvar_slice(clinvar_store: ClinVarStore) -> None:
    assert len(clinvar_store) == 1999  # one record has no ALT allele (".")
    assert clinvar_store.assembly is Assembly.GRCH37
    assert clinvar_store.version == "2023-07-10"
    hit = clinvar_store.lookup("1", 69134, "A", "G")
    assert hit is not None
    assert hit.significance is ClinicalSignificance.LIKELY_BENIGN
    assert (hit.stars, hit.variation_id) == (1, 2205837)
    assert clinvar_store.lookup("1", 69134, "A", "T") is None
    assert clinvar_store.lookup("2", 69134, "A", "G") is None
    reopened = ClinVarStore.open(clinvar_store._store.path)
    assert reopened.lookup("1", 69581, "C", "G") is not None


def test_clinvar_lookups_in_any_order(clinvar_store: ClinVarStore, shared_dir: Path) -> None:
    vcf = shared_dir / "data" / "clinvar" / "clinvar-test-slice.b37.vcf.gz"
    rows = []
    with gzip.open(vcf, "rt") as stream:
        for line in stream:
            if not line.startswith("#"):
                f = line.split("\t")
                rows.append((f[0], int(f[1]), f[3], f[4]))
    for chrom, pos, ref, alt in [*rows[::7], *reversed(rows[::11])]:
        if "," not in alt and alt != ".":
            assert clinvar_store.lookup(chrom, pos, ref, alt) is not None


def test_clinvar_store_in_evidence(
    clinvar_store: ClinVarStore,
    vcfs: VcfFactory,
    real_kb: KnowledgeBase,
    tmp_path: Path,
    shared_dir: Path,
) -> None:
    chrom, pos, ref, alt = _first_pathogenic(shared_dir)
    rec = record(chrom, pos, ref, alt, call("0/1"), info="gnomAD_AF=0.2")
    path = vcfs.write([rec], name="cv.vcf")
    ev = collect_evidence(path, parse_ped("F kid 0 0 1 2\n"), real_kb, clinvar=clinvar_store)
    variants = [v for g in ev for v in g.variants]
    assert variants and all(v.clinvar is not None and v.clinvar.is_pathogenic for v in variants)
    # a store of another build is refused
    other = compile_frequency(
        _tsv(tmp_path, "1\t1\tA\tG\t0.1\n"), tmp_path / "f38", assembly="hg38"
    )
    with pytest.raises(InputError, match="frequency store is GRCh38"):
        collect_evidence(path, parse_ped("F kid 0 0 1 2\n"), real_kb, frequency=other)


def _first_pathogenic(shared_dir: Path) -> tuple[str, int, str, str]:
    """A pathogenic allele with review criteria from the ClinVar slice."""
    path = shared_dir / "data" / "clinvar" / "clinvar-test-slice.b37.vcf.gz"
    with gzip.open(path, "rt") as stream:
        for line in stream:
            f = line.split("\t")
            if "CLNSIG=Pathogenic;" in line and "criteria_provided" in line:
                return f[0], int(f[1]), f[3], f[4]
    raise AssertionError("no pathogenic allele in the slice")


def _tsv(folder: Path, body: str, header: str = "chrom\tpos\tref\talt\tgnomad_af\n") -> Path:
    path = folder / "freq.tsv"
    path.write_text(header + body)
    return path


def test_frequency_store_from_tsv(
    tmp_path: Path, vcfs: VcfFactory, real_kb: KnowledgeBase, genes: Genes
) -> None:
    body = f"15\t{genes.fbn1}\tC\tT\t0.004\nchr7\t{genes.pex1}\tG\tA\t.\n"
    store = compile_frequency(_tsv(tmp_path, body), tmp_path / "freq", assembly="GRCh37")
    assert len(store) == 1  # an unknown frequency is not stored
    assert store.lookup("15", genes.fbn1, "C", "T") == pytest.approx(0.004)
    assert store.lookup("7", genes.pex1, "G", "A") is None
    path = vcfs.write([record("15", genes.fbn1, "C", "T", call("0/1"))], name="f.vcf")
    ev = collect_evidence(path, parse_ped("F kid 0 0 1 2\n"), real_kb, frequency=tmp_path / "freq")
    (v,) = ev.variants("FBN1")
    assert v.frequency == pytest.approx(0.004) and v.frequency_source == "store:freq.tsv"
    assert v.reasons == (Reason.FREQUENCY,)  # too common for FBN1's dominant disease


def test_frequency_store_from_vcf(tmp_path: Path) -> None:
    text = (
        "##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621>\n"
        '##INFO=<ID=AF,Number=A,Type=Float,Description="all">\n'
        '##INFO=<ID=AF_popmax,Number=A,Type=Float,Description="popmax">\n'
        '##INFO=<ID=AF_nfe,Number=A,Type=Float,Description="nfe">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "1\t100\t.\tA\tG,T\t.\tPASS\tAF=0.01,0.02;AF_popmax=0.03,0.05;AF_nfe=0.9,0.9\n"
        "1\t200\t.\tC\tA\t.\tPASS\tAF=0.001\n"
    )
    path = tmp_path / "sites.vcf"
    path.write_text(text)
    store = compile_frequency(path, tmp_path / "fs")
    assert store.assembly is Assembly.GRCH37
    # popmax fields win over per-population ones when the file has them
    assert store.lookup("1", 100, "A", "G") == pytest.approx(0.03)
    assert store.lookup("1", 100, "A", "T") == pytest.approx(0.05)
    assert store.lookup("1", 200, "C", "A") == pytest.approx(0.001)
    assert FrequencyStore.open(tmp_path / "fs").lookup("1", 300, "C", "A") is None


def test_bad_frequency_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="give the genome build"):
        compile_frequency(_tsv(tmp_path, "1\t1\tA\tG\t0.1\n"), tmp_path / "x")
    with pytest.raises(InputError, match=r"line 2: frequency 1\.5 is not between 0 and 1"):
        compile_frequency(_tsv(tmp_path, "1\t1\tA\tG\t1.5\n"), tmp_path / "x", assembly="GRCh37")
    with pytest.raises(InputError, match="no frequency column"):
        compile_frequency(
            _tsv(tmp_path, "1\t1\tA\tG\tx\n", header="chrom\tpos\tref\talt\tnote\n"),
            tmp_path / "x",
            assembly="GRCh37",
        )
    with pytest.raises(InputError, match="line 2: invalid literal"):
        compile_frequency(_tsv(tmp_path, "1\tone\tA\tG\t0.1\n"), tmp_path / "x", assembly="GRCh37")
    assert not (tmp_path / "x").exists()


def test_store_errors(tmp_path: Path, clinvar_store: ClinVarStore) -> None:
    with pytest.raises(InputError, match="not a raredx store"):
        ClinVarStore.open(tmp_path)
    with pytest.raises(InputError, match="not a ClinVar store"):
        ClinVarStore(
            compile_frequency(
                _tsv(tmp_path, "1\t1\tA\tG\t0.1\n"), tmp_path / "f", assembly="b37"
            )._store
        )
    with pytest.raises(InputError, match="not a ClinVar VCF"):
        text = "##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621>\n"
        text += "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        (tmp_path / "plain.vcf").write_text(text)
        compile_clinvar(tmp_path / "plain.vcf", tmp_path / "cv")
    # compiling again over an existing store replaces it atomically
    store = compile_frequency(_tsv(tmp_path, "1\t5\tA\tG\t0.2\n"), tmp_path / "f", assembly="b37")
    assert store.lookup("1", 5, "A", "G") == pytest.approx(0.2)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
