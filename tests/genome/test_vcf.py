"""VCF reading: header, genome build, contig names, and every kind of bad input."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from raredx.errors import InputError
from raredx.genome import (
    Assembly,
    GenomeEvidence,
    VcfStream,
    collect_evidence,
    normalise_contig,
    parse_assembly,
    read_header,
)
from raredx.genome.vcf import iter_alleles
from raredx.kb import KnowledgeBase
from tests.genome.conftest import Genes, VcfFactory, call, record

Run = Callable[..., GenomeEvidence]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("chr1", "1"),
        ("1", "1"),
        ("chrX", "X"),
        ("x", "X"),
        ("chrM", "MT"),
        ("M", "MT"),
        ("MT", "MT"),
        ("23", "X"),
        ("chr1_KI270706v1_random", None),
        ("GL000192.1", None),
        ("HLA-A*01:01:01:01", None),
    ],
)
def test_normalise_contig(name: str, expected: str | None) -> None:
    assert normalise_contig(name) == expected


def test_parse_assembly() -> None:
    assert parse_assembly("hg19") is Assembly.GRCH37
    assert parse_assembly("GRCh38.p14") is Assembly.GRCH38
    assert parse_assembly("b37") is Assembly.GRCH37
    with pytest.raises(InputError, match="unknown genome build"):
        parse_assembly("hg17")


def test_build_from_contig_lengths(vcfs: VcfFactory) -> None:
    h37 = read_header(vcfs.write([], name="a.vcf"))
    assert (h37.assembly, h37.assembly_source, h37.chr_prefix) == (
        Assembly.GRCH37,
        "contig lengths",
        False,
    )
    h38 = read_header(vcfs.write([], name="b.vcf", assembly=Assembly.GRCH38, chr_prefix=True))
    assert (h38.assembly, h38.chr_prefix) == (Assembly.GRCH38, True)
    assert h38.samples == ("kid",) and h38.file_format == "VCF"


def test_build_given_or_from_reference_line(vcfs: VcfFactory) -> None:
    bare = vcfs.write([], name="bare.vcf", assembly=None)
    with pytest.raises(InputError, match="cannot tell the genome build"):
        read_header(bare)
    h = read_header(bare, "GRCh38")
    assert (h.assembly, h.assembly_source) == (Assembly.GRCH38, "given")
    ref = vcfs.write([], name="ref.vcf", assembly=None, extra=["##reference=file:///r/hs37d5.fa"])
    assert read_header(ref).assembly is Assembly.GRCH37


def test_contigs_of_another_build(vcfs: VcfFactory, genes: Genes, real_kb: KnowledgeBase) -> None:
    path = vcfs.write([], name="b38.vcf", assembly=Assembly.GRCH38)
    with pytest.raises(InputError, match=r"contigs of another build.*GRCh38.*GRCh37"):
        read_header(path, "GRCh37")
    # a position beyond the chromosome's end in the given build, without header contigs
    beyond = vcfs.write(
        [record("1", 249_000_000, "A", "G", call("0/1"))], name="beyond.vcf", assembly=None
    )
    with pytest.raises(InputError, match=r"line \d+: .*beyond the end of chromosome 1"):
        collect_evidence(beyond, kb=real_kb, assembly="GRCh38")


def test_mixed_builds_in_header(tmp_path: Path) -> None:
    text = (
        "##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621>\n"
        "##contig=<ID=2,length=242193529>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    )
    path = tmp_path / "mixed.vcf"
    path.write_text(text)
    with pytest.raises(InputError, match="mixes contigs of two genome builds"):
        read_header(path)


def test_plain_gzip_bgzip_and_bcf(vcfs: VcfFactory, genes: Genes, tmp_path: Path) -> None:
    rec = record("15", genes.fbn1, "C", "T", call("0/1"))
    gz = vcfs.write([rec], name="plain.vcf.gz")
    header = read_header(gz)
    assert header.compression == "gzip"
    alleles = [a for a, _ in iter_alleles(header)]
    assert [(a.chrom, a.pos, a.ref, a.alt) for a in alleles] == [("15", genes.fbn1, "C", "T")]
    import cyvcf2  # type: ignore[import-untyped]

    reader = cyvcf2.VCF(str(gz))
    bcf = tmp_path / "x.bcf"
    writer = cyvcf2.Writer(str(bcf), reader, mode="wb")
    for r in reader:
        writer.write_record(r)
    writer.close()
    reader.close()
    h = read_header(bcf)
    assert (h.file_format, h.compression) == ("BCF", "bgzip")
    assert len(list(iter_alleles(h))) == 1


def test_chr_prefixed_records(run_chr: GenomeEvidence) -> None:
    g = run_chr.gene("FBN1")
    assert g is not None and g.chrom == "15"
    assert g.variants[0].key.startswith("15-")


@pytest.fixture
def run_chr(vcfs: VcfFactory, genes: Genes, real_kb: KnowledgeBase) -> GenomeEvidence:
    path = vcfs.write(
        [record("chr15", genes.fbn1, "C", "T", call("0/1"))], name="chr.vcf", chr_prefix=True
    )
    return collect_evidence(path, kb=real_kb)


# --------------------------------------------------------------------------- bad input
def _expect(path: Path, pattern: str, kb: KnowledgeBase, **kw: object) -> InputError:
    with pytest.raises(InputError, match=pattern) as info:
        collect_evidence(path, kb=kb, **kw)  # type: ignore[arg-type]
    return info.value


def test_missing_and_empty_files(tmp_path: Path, real_kb: KnowledgeBase) -> None:
    _expect(tmp_path / "nope.vcf", "no such file", real_kb)
    empty = tmp_path / "empty.vcf"
    empty.write_bytes(b"")
    _expect(empty, "empty file", real_kb)
    empty_gz = tmp_path / "empty.vcf.gz"
    empty_gz.write_bytes(gzip.compress(b""))
    _expect(empty_gz, "empty", real_kb)
    _expect(tmp_path, "is a folder", real_kb)


def test_missing_header(tmp_path: Path, real_kb: KnowledgeBase) -> None:
    path = tmp_path / "nohead.vcf"
    path.write_text("1\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\n")
    _expect(path, "not a VCF", real_kb)
    no_chrom = tmp_path / "nochrom.vcf"
    no_chrom.write_text("##fileformat=VCFv4.2\n1\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\n")
    _expect(no_chrom, "VCF", real_kb)


def test_binary_garbage(tmp_path: Path, real_kb: KnowledgeBase) -> None:
    path = tmp_path / "garbage.vcf.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4)
    _expect(path, "corrupt|not a readable|truncated", real_kb)


def test_truncated_gzip_mid_block(shared_dir: Path, tmp_path: Path, real_kb: KnowledgeBase) -> None:
    source = shared_dir / "bench" / "vcf" / "pfeiffer-exome-background.b37.vcf.gz"
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(source.read_bytes()[:1_000_000])
    err = _expect(cut, r"line \d+: the compressed file is truncated or corrupt", real_kb)
    assert "cut.vcf.gz" in str(err)


def test_truncated_at_block_boundary(
    shared_dir: Path, tmp_path: Path, real_kb: KnowledgeBase
) -> None:
    source = shared_dir / "bench" / "vcf" / "pfeiffer-exome-background.b37.vcf.gz"
    data = source.read_bytes()
    eof = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
    assert data.endswith(eof)
    cut = tmp_path / "noeof.vcf.gz"
    cut.write_bytes(data[: -len(eof)])
    _expect(cut, "truncated", real_kb)


def test_malformed_genotype_names_the_line(
    vcfs: VcfFactory, genes: Genes, real_kb: KnowledgeBase
) -> None:
    records = [
        record("15", genes.fbn1, "C", "T", call("0/1")),
        record("15", genes.fbn1 + 1, "C", "T", "0/x:99:30:15,15"),
    ]
    path = vcfs.write(records, name="badgt.vcf")
    header_lines = len(vcfs.header(["kid"]))
    err = _expect(path, rf"line {header_lines + 2}: the record cannot be parsed", real_kb)
    assert "GT" in str(err)


def test_genotype_allele_out_of_range(
    vcfs: VcfFactory, genes: Genes, real_kb: KnowledgeBase
) -> None:
    path = vcfs.write([record("15", genes.fbn1, "C", "T", call("0/3"))], name="oob.vcf")
    _expect(
        path, r"line \d+: malformed genotype of kid: allele 3 but the record has 1 ALT", real_kb
    )


def test_polyploid_genotype(vcfs: VcfFactory, genes: Genes, real_kb: KnowledgeBase) -> None:
    path = vcfs.write([record("15", genes.fbn1, "C", "T", "0/1/1:99:30:10,20")], name="tri.vcf")
    _expect(path, "only haploid and diploid", real_kb)


def test_malformed_info(vcfs: VcfFactory, genes: Genes, real_kb: KnowledgeBase) -> None:
    path = vcfs.write(
        [record("15", genes.fbn1, "C", "T", call("0/1"), info="gnomAD_AF=abc")], name="info.vcf"
    )
    _expect(path, r"line \d+: malformed INFO/gnomAD_AF='abc'", real_kb)
    wrong_count = vcfs.write(
        [record("15", genes.fbn1, "C", "T,G", "1/2:99:30:0,15,15", info="gnomAD_AF=0.1")],
        name="count.vcf",
    )
    _expect(wrong_count, r"INFO/gnomAD_AF has 1 values for 2 ALT", real_kb)
    out_of_range = vcfs.write(
        [record("15", genes.fbn1, "C", "T", call("0/1"), info="gnomAD_AF=7")], name="range.vcf"
    )
    _expect(out_of_range, "is not between 0 and 1", real_kb)


def test_short_record_line(vcfs: VcfFactory, genes: Genes, real_kb: KnowledgeBase) -> None:
    path = vcfs.write([f"15\t{genes.fbn1}\t.\tC"], name="short.vcf")
    _expect(path, r"line \d+: the record cannot be parsed", real_kb)


def test_sample_columns_must_match(vcfs: VcfFactory, genes: Genes, real_kb: KnowledgeBase) -> None:
    path = vcfs.write(
        [record("15", genes.fbn1, "C", "T", call("0/1"))], samples=("kid", "dad"), name="cols.vcf"
    )
    _expect(path, "give a pedigree", real_kb)


def test_huge_line_is_read(vcfs: VcfFactory, genes: Genes, real_kb: KnowledgeBase) -> None:
    big = "A" * 200_000
    path = vcfs.write([record("15", genes.fbn1, "C", "C" + big, call("0/1"))], name="huge.vcf")
    ev = collect_evidence(path, kb=real_kb)
    (v,) = ev.variants("FBN1")
    assert len(v.alt) == 200_001


def test_stream_restores_stderr_and_requires_context(vcfs: VcfFactory) -> None:
    header = read_header(vcfs.write([], name="s.vcf"))
    stream = VcfStream(header)
    with pytest.raises(RuntimeError, match="must be entered"):
        next(iter(stream))
    with VcfStream(header) as opened:
        assert list(opened) == []
        assert opened.where() == f"line {header.header_lines}"


def test_nothing_half_written_by_cli(tmp_path: Path) -> None:
    """A failing compile leaves no store behind."""
    from raredx.genome import compile_clinvar

    bad = tmp_path / "bad.vcf"
    shutil.copy(Path(__file__), bad)
    out = tmp_path / "store"
    with pytest.raises(InputError):
        compile_clinvar(bad, out, assembly="GRCh37")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [bad]
