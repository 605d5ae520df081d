"""Fixtures for the genome tests: hand-made VCFs and PEDs over real gene coordinates.

Small VCFs are written by `VcfFactory` with GRCh37 contig lengths in the header; genes are
placed with the bundled coordinates of the real KB so that the logic tests exercise the same
path as real files:

    FBN1 (15, autosomal dominant), PEX1 (7, autosomal recessive), DMD (X, X-linked),
    COL4A5 (X, X-linked dominant and recessive), MT-ND4 (MT, mitochondrial).
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from raredx.genome import Assembly, GeneLocator, GenomeEvidence, collect_evidence, parse_ped
from raredx.genome.vcf import CONTIG_LENGTHS, PRIMARY_CONTIGS
from raredx.kb import KnowledgeBase

FORMAT_LINES = (
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">',
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">',
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
    '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">',
)
INFO_LINES = (
    '##INFO=<ID=gnomAD_AF,Number=A,Type=Float,Description="gnomAD allele frequency">',
    '##INFO=<ID=CLNSIG,Number=.,Type=String,Description="ClinVar significance">',
    '##INFO=<ID=CLNREVSTAT,Number=.,Type=String,Description="ClinVar review status">',
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">',
)
CSQ_FIELDS = (
    "Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|HGVSc|HGVSp|HGNC_ID|"
    "CANONICAL"
)
CSQ_LINE = (
    '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP.'
    f' Format: {CSQ_FIELDS}">'
)


def call(gt: str, gq: int = 99, dp: int = 30, ad: str | None = None) -> str:
    """A sample column ``GT:GQ:DP:AD`` with plausible depths for the genotype."""
    if ad is None:
        alleles = gt.replace("|", "/").split("/")
        alt = sum(a not in ("0", ".") for a in alleles)
        ref = sum(a == "0" for a in alleles)
        total = max(ref + alt, 1)
        ad = f"{dp * ref // total},{dp * alt // total}"
    return f"{gt}:{gq}:{dp}:{ad}"


def record(
    chrom: str,
    pos: int,
    ref: str,
    alt: str,
    *samples: str,
    info: str = ".",
    filt: str = "PASS",
    fmt: str = "GT:GQ:DP:AD",
    ident: str = ".",
) -> str:
    return "\t".join([chrom, str(pos), ident, ref, alt, "50", filt, info, fmt, *samples])


@dataclass
class VcfFactory:
    """Writes small VCFs into a test's temporary folder."""

    folder: Path

    def header(
        self,
        samples: Sequence[str],
        *,
        assembly: Assembly | None = Assembly.GRCH37,
        chr_prefix: bool = False,
        extra: Sequence[str] = (),
    ) -> list[str]:
        lines = ["##fileformat=VCFv4.2"]
        if assembly is not None:
            for name, length in zip(PRIMARY_CONTIGS, CONTIG_LENGTHS[assembly], strict=True):
                label = ("chrM" if name == "MT" else f"chr{name}") if chr_prefix else name
                lines.append(f"##contig=<ID={label},length={length}>")
        lines += [*INFO_LINES, *FORMAT_LINES, *extra]
        lines.append(
            "\t".join(
                ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples]
            )
        )
        return lines

    def write(
        self,
        records: Sequence[str],
        samples: Sequence[str] = ("kid",),
        *,
        name: str = "test.vcf",
        gz: bool = False,
        **header: object,
    ) -> Path:
        lines = self.header(samples, **header)  # type: ignore[arg-type]
        text = "\n".join([*lines, *records]) + "\n"
        path = self.folder / (name + (".gz" if gz and not name.endswith(".gz") else ""))
        if gz or name.endswith(".gz"):
            path.write_bytes(gzip.compress(text.encode()))
        else:
            path.write_text(text)
        return path


@pytest.fixture
def vcfs(tmp_path: Path) -> VcfFactory:
    return VcfFactory(tmp_path)


@dataclass(frozen=True)
class Genes:
    """Positions inside test genes (GRCh37), from the bundled coordinates."""

    fbn1: int
    pex1: int
    dmd: int
    col4a5: int
    mt_nd4: int


@pytest.fixture(scope="session")
def genes(real_kb: KnowledgeBase) -> Genes:
    loc = GeneLocator.bundled(Assembly.GRCH37, real_kb)

    def inside(symbol: str) -> int:
        (span,) = loc.spans_of(real_kb.resolve_gene(symbol))
        return span.start + 1000 if span.end - span.start > 2000 else span.start + 10

    return Genes(inside("FBN1"), inside("PEX1"), inside("DMD"), inside("COL4A5"), inside("MT-ND4"))


TRIO_PED = "fam kid dad mum {sex} 2\nfam dad 0 0 1 1\nfam mum 0 0 2 1\n"


@pytest.fixture
def evidence_of(real_kb: KnowledgeBase, vcfs: VcfFactory) -> Callable[..., GenomeEvidence]:
    """Write records for kid (+ dad, mum, sib…) and collect the evidence."""

    def run(
        records: Sequence[str],
        samples: Sequence[str] = ("kid", "dad", "mum"),
        ped: str | None = None,
        sex: int = 1,
        **kwargs: object,
    ) -> GenomeEvidence:
        path = vcfs.write(records, samples)
        pedigree = parse_ped(ped or TRIO_PED.format(sex=sex), proband="kid")
        return collect_evidence(path, pedigree, real_kb, **kwargs)  # type: ignore[arg-type]

    return run
