"""Spike the causal variants of development phenopackets into real exome VCFs.

The dev phenopackets give their causal variants on GRCh38 (VCF-style chrom/pos/ref/alt); the
background exome and the Scout trio are GRCh37. The variants are lifted down with the inverse of
the shared b37 -> hg38 chain (inverted here, in memory: UCSC chain format, target and query
swapped, minus-strand chains reverse-complemented), then written into a copy of the background
with the genotype their zygosity implies. Every spiked record copies QUAL, FILTER, INFO and the
FORMAT values of a background record with the same genotype and variant class (SNV or indel),
the nearest one on the same chromosome, so nothing but its position and alleles tells it apart.
IDs and the dbSNP ``DB`` flag are removed from every record, and INFO definitions no record uses
any more (the Exomiser ``SPIKED`` flag, ``DiseaseGene``, ``DB``) from the header.
"""

from __future__ import annotations

import bisect
import gzip
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pyliftover import LiftOver  # type: ignore[import-untyped]

from raredx.case import Case, VariantCall

SHARED = Path(__file__).resolve().parents[2] / "shared"
BACKGROUND = SHARED / "bench" / "vcf" / "pfeiffer-exome-background.b37.vcf.gz"
SCOUT_TRIO = SHARED / "bench" / "vcf" / "scout-trio-643594.vep.b37.vcf.gz"
CHAIN_B37_TO_HG38 = SHARED / "data" / "liftover" / "b37ToHg38.over.chain"

SCOUT_PED = (
    "643594\tADM1059A1\t0\t0\t1\t1\n"
    "643594\tADM1059A2\tADM1059A1\tADM1059A3\t{sex}\t2\n"
    "643594\tADM1059A3\t0\t0\t2\t1\n"
)
"""The Scout demo family (Clinical-Genomics/scout, scout/demo/643594.ped): ADM1059A2 is the
affected son of ADM1059A1 (father) and ADM1059A3 (mother). The VCF header names no roles; `{sex}`
is the proband's PED sex code (1 in the original; the spiking case's sex is put in its place)."""
SCOUT_PROBAND, SCOUT_FATHER, SCOUT_MOTHER = "ADM1059A2", "ADM1059A1", "ADM1059A3"

_GRCH38_NAMES = {"grch38", "hg38", "b38"}
_GRCH37_NAMES = {"grch37", "hg19", "b37", "hs37d5"}

ZYGOSITY_GT: dict[str, str] = {
    "heterozygous": "0/1",
    "geno:0000135": "0/1",
    "compound heterozygous": "0/1",
    "compound heterozygosity": "0/1",
    "geno:0000402": "0/1",
    "homozygous": "1/1",
    "geno:0000136": "1/1",
    "homozygous alternate": "1/1",
    "hemizygous": "1/1",
    "geno:0000134": "1/1",
    "hemizygous x-linked": "1/1",
}
"""Phenopacket (GENO) zygosity -> diploid GT. Hemizygous calls are written 1/1, as a diploid
caller (GATK without a ploidy map, like the background's) calls a male X; the proband's sex
comes from the case's pedigree."""

TRIO_CALL_INFO = frozenset(
    {
        "AC",
        "AF",
        "AN",
        "DP",
        "BaseQRankSum",
        "ClippingRankSum",
        "ExcessHet",
        "FS",
        "HaplotypeScore",
        "InbreedingCoeff",
        "MLEAC",
        "MLEAF",
        "MQ",
        "MQ0",
        "MQRankSum",
        "QD",
        "RAW_MQ",
        "ReadPosRankSum",
        "SOR",
        "VQSLOD",
        "culprit",
        "set",
        "POSITIVE_TRAIN_SITE",
        "NEGATIVE_TRAIN_SITE",
        "DS",
    }
)
"""INFO keys of the Scout trio that describe the call (copied from the donor record); every
other key (VEP CSQ, SnpEff ANN, CADD, frequencies, ClinVar, genmod models...) describes the
donor's own allele and is not copied."""


# ---------------------------------------------------------------------------------- liftover
def invert_chain(text: str) -> str:
    """The inverse of a UCSC chain file (query becomes target).

    A chain whose query strand is ``-`` is re-expressed with the new target on ``+``: both sides
    reverse-complemented, blocks in reverse order, each gap pair swapped."""
    out: list[str] = []
    lines = iter(text.splitlines())
    for line in lines:
        if not line.startswith("chain"):
            continue
        f = line.split()
        score, t_name, t_size, t_start, t_end = f[1], f[2], int(f[3]), int(f[5]), int(f[6])
        q_name, q_size, q_strand, q_start, q_end = f[7], int(f[8]), f[9], int(f[10]), int(f[11])
        ident = f[12] if len(f) > 12 else ""
        sizes: list[int] = []
        gaps: list[tuple[int, int]] = []
        for block in lines:
            parts = block.split()
            if not parts:
                break
            sizes.append(int(parts[0]))
            if len(parts) == 3:
                gaps.append((int(parts[1]), int(parts[2])))
            else:
                break
        swapped = [(dq, dt) for dt, dq in gaps]
        if q_strand == "+":
            head = (q_name, q_size, "+", q_start, q_end, t_name, t_size, "+", t_start, t_end)
        else:
            head = (
                q_name,
                q_size,
                "+",
                q_size - q_end,
                q_size - q_start,
                t_name,
                t_size,
                "-",
                t_size - t_end,
                t_size - t_start,
            )
            sizes.reverse()
            swapped.reverse()
        out.append(" ".join(["chain", score, *(str(x) for x in head), ident]).rstrip())
        out.extend(f"{s}\t{a}\t{b}" for s, (a, b) in zip(sizes, swapped, strict=False))
        out.append(str(sizes[-1]))
        out.append("")
    return "\n".join(out) + "\n"


def _b37(name: str) -> str:
    """``chr1``/``1`` -> ``1``, ``chrX`` -> ``X``, ``chrM``/``MT`` -> ``MT`` (b37 names)."""
    n = (name[3:] if name.lower().startswith("chr") else name).upper()
    return "MT" if n == "M" else n


def _hg38(name: str) -> str:
    n = _b37(name)
    return "chrM" if n == "MT" else f"chr{n}"


class Lifter:
    """GRCh38 -> GRCh37 (b37 names: ``1``, ``X``, ``MT``) through the inverted shared chain, and
    the chain itself for the way back."""

    def __init__(self, chain: Path = CHAIN_B37_TO_HG38) -> None:
        text = chain.read_text(encoding="ascii")
        self.up = LiftOver(io.BytesIO(text.encode("ascii")))
        self.down = LiftOver(io.BytesIO(invert_chain(text).encode("ascii")))

    @staticmethod
    def _one(lo: LiftOver, chrom: str, pos: int) -> tuple[str, int, str] | None:
        hits = lo.convert_coordinate(chrom, pos - 1)
        if not hits:
            return None
        name, p0, strand, _score = hits[0]
        return name, p0 + 1, strand

    def to_b37(self, chrom: str, pos: int, ref: str) -> tuple[str, int] | str:
        """(b37 chrom, pos) of a GRCh38 allele, or why it does not lift: unmapped, another
        chromosome or strand, REF's span not collinear, or a round trip that does not return."""
        src = _hg38(chrom)
        first = self._one(self.down, src, pos)
        if first is None:
            return "liftover failed (position unmapped in GRCh37)"
        name, new, strand = first
        if _b37(name) != _b37(chrom):
            return f"liftover lands on another chromosome ({name})"
        if strand != "+":
            return "liftover lands on the minus strand"
        if len(ref) > 1:
            last = self._one(self.down, src, pos + len(ref) - 1)
            if last is None or last[0] != name or last[1] != new + len(ref) - 1:
                return "liftover splits the reference allele"
        back = self._one(self.up, _b37(name), new)
        if back is None or _b37(back[0]) != _b37(chrom) or back[1] != pos:
            return "liftover round trip does not return to the GRCh38 position"
        return _b37(name), new

    def to_hg38(self, chrom: str, pos: int) -> tuple[str, int] | None:
        """(hg38 chrom, pos) of a b37 position, None when unmapped or on the minus strand."""
        hit = self._one(self.up, _b37(chrom), pos)
        if hit is None or hit[2] != "+":
            return None
        return hit[0], hit[1]


# ---------------------------------------------------------------------------------- variants
@dataclass(frozen=True, slots=True)
class SpikeVariant:
    """A causal variant to write: b37 coordinates, VCF alleles, diploid genotype."""

    chrom: str
    pos: int
    ref: str
    alt: str
    genotype: str
    gene: str | None
    source: str

    @property
    def is_snv(self) -> bool:
        return len(self.ref) == 1 and len(self.alt) == 1


def causal_variants(case: Case) -> list[VariantCall]:
    return [v for d in case.diagnoses for v in d.variants]


def genotype_for(zygosity: str | None) -> str | None:
    """The GT of a phenopacket zygosity (label or GENO id), None when unknown/unspecified."""
    if zygosity is None:
        return None
    return ZYGOSITY_GT.get(zygosity.strip().lower())


def case_spikes(case: Case, lifter: Lifter) -> tuple[list[SpikeVariant], str | None]:
    """The case's causal variants on b37, or (partial list, why the case cannot be spiked).

    Every causal variant must have VCF coordinates, a known zygosity and lift over; identical
    variants listed twice (in two interpretations) are written once."""
    calls = causal_variants(case)
    if not calls:
        return [], "no causal variant"
    if any(v.chrom is None or v.pos is None or v.ref is None or v.alt is None for v in calls):
        return [], "a causal variant has no VCF-style coordinates (HGVS, gene or SV only)"
    out: dict[tuple[str, int, str, str], SpikeVariant] = {}
    for v in calls:
        assert v.chrom is not None and v.pos is not None and v.ref is not None
        assert v.alt is not None
        if v.alt.startswith("<") or "[" in v.alt or "]" in v.alt or v.alt in (".", "*"):
            return [], "symbolic ALT allele"
        gt = genotype_for(v.zygosity)
        if gt is None:
            return [], f"zygosity {v.zygosity!r} unknown"
        asm = (v.assembly or "").strip().lower().split(".", 1)[0]
        if asm in _GRCH37_NAMES:
            chrom, pos = _b37(v.chrom), v.pos
        elif asm in _GRCH38_NAMES:
            lifted = lifter.to_b37(v.chrom, v.pos, v.ref)
            if isinstance(lifted, str):
                return [], lifted
            chrom, pos = lifted
        else:
            return [], f"assembly {v.assembly!r} not GRCh37 or GRCh38"
        key = (chrom, pos, v.ref.upper(), v.alt.upper())
        if key in out:
            continue
        out[key] = SpikeVariant(
            chrom,
            pos,
            v.ref.upper(),
            v.alt.upper(),
            gt,
            v.gene_symbol,
            f"{v.chrom}:{v.pos}:{v.ref}>{v.alt} ({v.assembly})",
        )
    variants = sorted(out.values(), key=lambda s: (s.chrom, s.pos))
    if len({(s.chrom, s.pos) for s in variants}) < len(variants):
        return [], "two causal alleles at one position"
    return variants, None


# ---------------------------------------------------------------------------------- VCF text
@dataclass(slots=True)
class Vcf:
    """A VCF held as text: meta lines, the #CHROM line and records split into columns."""

    meta: list[str]
    columns: list[str]
    records: list[list[str]]
    contig_order: dict[str, int] = field(default_factory=dict)

    @property
    def samples(self) -> list[str]:
        return self.columns[9:]

    def sort_key(self, chrom: str, pos: int) -> tuple[int, int]:
        return self.contig_order.get(chrom, len(self.contig_order)), pos


def _contig_order(meta: Sequence[str], records: Iterable[list[str]]) -> dict[str, int]:
    order: dict[str, int] = {}
    for line in meta:
        if line.startswith("##contig=<ID="):
            name = line[len("##contig=<ID=") :].split(",", 1)[0].rstrip(">")
            order.setdefault(name, len(order))
    for rec in records:
        order.setdefault(rec[0], len(order))
    return order


def strip_info(info: str, drop: Iterable[str]) -> str:
    gone = set(drop)
    kept = [kv for kv in info.split(";") if kv and kv.split("=", 1)[0] not in gone]
    return ";".join(kept) or "."


def read_vcf(path: Path, *, anonymise: bool = True) -> Vcf:
    """Read a (b)gzipped VCF. `anonymise`: ID -> ``.``, INFO ``DB`` flag removed, and header
    INFO definitions that no record uses any more dropped."""
    meta: list[str] = []
    columns: list[str] = []
    records: list[list[str]] = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line.startswith("##"):
                meta.append(line)
            elif line.startswith("#"):
                columns = line.lstrip("#").split("\t")
            elif line:
                rec = line.split("\t")
                if anonymise:
                    rec[2] = "."
                    rec[7] = strip_info(rec[7], ("DB",))
                records.append(rec)
    if anonymise:
        used = {kv.split("=", 1)[0] for rec in records for kv in rec[7].split(";")}
        meta = [
            m
            for m in meta
            if not m.startswith("##INFO=<ID=") or m[len("##INFO=<ID=") :].split(",", 1)[0] in used
        ]
    return Vcf(meta, columns, records, _contig_order(meta, records))


def write_vcf(vcf: Vcf, records: Sequence[list[str]], path: Path) -> Path:
    """Write `records` (already sorted) under `vcf`'s header, gzip-compressed."""
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=3) as out:
        out.write("\n".join(vcf.meta))
        out.write("\n#" + "\t".join(vcf.columns) + "\n")
        for rec in records:
            out.write("\t".join(rec))
            out.write("\n")
    return path


def _gt(rec: list[str], sample: int) -> str:
    return rec[9 + sample].split(":", 1)[0].replace("|", "/")


DONOR_MIN_DP = 15
DONOR_MIN_GQ = 40.0
DONOR_HET_FRACTION = (0.3, 0.7)


def good_call(rec: list[str], sample: int = 0) -> bool:
    """A confident call (FILTER PASS, DP >= 15, GQ >= 40, heterozygote ALT fraction 0.3-0.7,
    homozygote ALT fraction >= 0.9), the kind of call a published causal variant has: donors
    are drawn from these, so a spiked variant is never lost to a poor donor's quality."""
    if rec[6] not in ("PASS", ".") or "," in rec[4]:
        return False
    values = dict(zip(rec[8].split(":"), rec[9 + sample].split(":"), strict=False))
    try:
        ref_n, alt_n = (int(x) for x in values["AD"].split(",")[:2])
        dp, gq = int(values["DP"]), float(values["GQ"])
    except (KeyError, ValueError):
        return False
    if dp < DONOR_MIN_DP or gq < DONOR_MIN_GQ or ref_n + alt_n == 0:
        return False
    fraction = alt_n / (ref_n + alt_n)
    gt = values.get("GT", "").replace("|", "/")
    if gt == "0/1":
        return DONOR_HET_FRACTION[0] <= fraction <= DONOR_HET_FRACTION[1]
    return gt != "1/1" or fraction >= 0.9


def _is_snv(rec: list[str]) -> bool:
    return len(rec[3]) == 1 and all(len(a) == 1 for a in rec[4].split(","))


class Background:
    """A single-sample background exome, anonymised, with its records indexed by genotype and
    variant class for choosing donors."""

    def __init__(self, path: Path = BACKGROUND) -> None:
        self.path = path
        self.vcf = read_vcf(path)
        if len(self.vcf.samples) != 1:
            raise ValueError(f"{path}: {len(self.vcf.samples)} samples, a background has one")
        self.keys = [self.vcf.sort_key(r[0], int(r[1])) for r in self.vcf.records]
        if self.keys != sorted(self.keys):
            raise ValueError(f"{path}: records are not sorted in header contig order")
        self._donors: dict[tuple[str, bool], list[tuple[tuple[int, int], int]]] = {}
        for i, rec in enumerate(self.vcf.records):
            if not good_call(rec):
                continue  # confident single-ALT calls only: their AD/PL have the biallelic shape
            self._donors.setdefault((_gt(rec, 0), _is_snv(rec)), []).append((self.keys[i], i))

    def genotypes(self) -> Counter[str]:
        return Counter(_gt(r, 0) for r in self.vcf.records)

    def donor(self, variant: SpikeVariant) -> list[str]:
        """The confident background record (`good_call`, same GT, same class) nearest the
        variant in genome order; another class when none has that GT."""
        pool = self._donors.get((variant.genotype, variant.is_snv)) or self._donors.get(
            (variant.genotype, not variant.is_snv)
        )
        if not pool:
            raise ValueError(f"no background record with genotype {variant.genotype}")
        key = self.vcf.sort_key(variant.chrom, variant.pos)
        k = bisect.bisect_left(pool, (key, -1))
        near = [pool[j] for j in (k - 1, k) if 0 <= j < len(pool)]
        best = min(near, key=lambda e: (e[0][0] != key[0], abs(e[0][1] - key[1]), e[1]))
        return self.vcf.records[best[1]]

    def spiked_record(self, variant: SpikeVariant) -> list[str]:
        d = self.donor(variant)
        fmt = d[9].split(":")
        fmt[0] = variant.genotype
        return [
            variant.chrom,
            str(variant.pos),
            ".",
            variant.ref,
            variant.alt,
            d[5],
            d[6],
            d[7],
            d[8],
            ":".join(fmt),
        ]

    def spike(self, variants: Sequence[SpikeVariant], path: Path) -> Path:
        """Write the background with `variants` in place (a background record at the same
        position is replaced) to `path` (.vcf.gz)."""
        return write_vcf(self.vcf, self.merged(variants), path)

    def merged(self, variants: Sequence[SpikeVariant]) -> list[list[str]]:
        return merge_records(self.vcf, self.vcf.records, [self.spiked_record(v) for v in variants])


def merge_records(
    vcf: Vcf, records: Sequence[list[str]], spiked: Sequence[list[str]]
) -> list[list[str]]:
    """`records` (sorted) with `spiked` inserted in order, replacing records at their position."""
    taken = {(r[0], r[1]) for r in spiked}
    kept = [r for r in records if (r[0], r[1]) not in taken]
    out = kept + list(spiked)
    out.sort(key=lambda r: vcf.sort_key(r[0], int(r[1])))
    return out


# ---------------------------------------------------------------------------------- trio
def trio_genotypes(variants: Sequence[SpikeVariant], male: bool) -> list[tuple[str, str, str]]:
    """(proband, father, mother) GTs per variant, the simplest history of the zygosity:
    one heterozygous variant is de novo; two are compound heterozygous (first from the father,
    second from the mother); homozygous: both parents carriers; hemizygous (male X/Y): a carrier
    mother (X) or father (Y)."""
    hets = [v for v in variants if v.genotype == "0/1"]
    out: list[tuple[str, str, str]] = []
    for v in variants:
        if v.genotype == "0/1":
            if len(hets) == 1:
                out.append(("0/1", "0/0", "0/0"))
            else:
                first = hets.index(v) % 2 == 0
                out.append(("0/1", "0/1" if first else "0/0", "0/0" if first else "0/1"))
        elif male and v.chrom == "X":
            out.append(("1/1", "0/0", "0/1"))
        elif male and v.chrom == "Y":
            out.append(("1/1", "1/1", "0/0"))
        else:
            out.append(("1/1", "0/1", "0/1"))
    return out


class Trio:
    """The Scout demo trio (VEP-annotated): spike variants with a family history."""

    def __init__(self, path: Path = SCOUT_TRIO) -> None:
        self.path = path
        self.vcf = read_vcf(path)
        cols = self.vcf.samples
        self.index = [cols.index(s) for s in (SCOUT_PROBAND, SCOUT_FATHER, SCOUT_MOTHER)]

    def _triple(self, rec: list[str]) -> tuple[str, str, str]:
        p, f, m = (_gt(rec, i) for i in self.index)
        return p, f, m

    def donor(self, variant: SpikeVariant, gts: tuple[str, str, str]) -> list[str]:
        """A record with these three genotypes and a confident proband call (`good_call`), the
        nearest in genome order; failing that, one matching the proband's genotype."""
        key = self.vcf.sort_key(variant.chrom, variant.pos)

        proband = self.index[0]
        for exact in (True, False):
            pool = [
                r
                for r in self.vcf.records
                if good_call(r, proband)
                and (self._triple(r) == gts if exact else self._triple(r)[0] == gts[0])
            ]
            if pool:
                return min(
                    pool,
                    key=lambda r: (
                        self.vcf.sort_key(r[0], int(r[1]))[0] != key[0],
                        abs(int(r[1]) - key[1]),
                    ),
                )
        raise ValueError(f"no trio record with proband genotype {gts[0]}")

    def _sample_donor(self, fmt: str, sample: int, gt: str, near: list[str]) -> str | None:
        """Column of `sample` from the nearest PASS record with FORMAT `fmt` where that sample
        is called `gt` (a real call of that genotype by the same caller)."""
        pool = [
            r
            for r in self.vcf.records
            if r[8] == fmt and r[6] == "PASS" and "," not in r[4] and _gt(r, sample) == gt
        ]
        if not pool:
            return None
        best = min(pool, key=lambda r: (r[0] != near[0], abs(int(r[1]) - int(near[1]))))
        return best[9 + sample]

    def spiked_record(self, variant: SpikeVariant, gts: tuple[str, str, str]) -> list[str]:
        """The variant with the proband donor's QUAL, FILTER, call-level INFO and FORMAT; a
        parent whose genotype differs from the donor's gets the FORMAT values of its own
        nearest call of the wanted genotype (same FORMAT layout)."""
        d = self.donor(variant, gts)
        rec = [
            variant.chrom,
            str(variant.pos),
            ".",
            variant.ref,
            variant.alt,
            d[5],
            d[6],
            strip_info(d[7], _not_call_info(d[7])),
            d[8],
        ]
        samples = d[9:]
        for gt, i in zip(gts, self.index, strict=True):
            if _gt(d, i) == gt:
                continue
            column = self._sample_donor(d[8], i, gt, d)
            if column is None:  # no such call: the donor's values under the wanted GT
                parts = samples[i].split(":")
                parts[0] = gt
                column = ":".join(parts)
            samples[i] = column
        rec[7] = _allele_counts(rec[7], gts)
        return rec + samples

    def spike(self, variants: Sequence[SpikeVariant], male: bool, path: Path) -> Path:
        gts = trio_genotypes(variants, male)
        spiked = [self.spiked_record(v, g) for v, g in zip(variants, gts, strict=True)]
        return write_vcf(self.vcf, merge_records(self.vcf, self.vcf.records, spiked), path)

    def ped(self, sex_code: int) -> str:
        return SCOUT_PED.format(sex=sex_code)


def _allele_counts(info: str, gts: Sequence[str]) -> str:
    """INFO with AC/AN/AF recomputed from the written genotypes."""
    alleles = [a for gt in gts for a in gt.replace("|", "/").split("/") if a != "."]
    ac, an = sum(a != "0" for a in alleles), len(alleles)
    counts = {"AC": str(ac), "AN": str(an), "AF": f"{ac / an:.3g}" if an else "."}
    parts = [
        f"{k}={counts[k]}" if k in counts else kv
        for kv in info.split(";")
        for k in [kv.split("=", 1)[0]]
    ]
    return ";".join(parts)


def _not_call_info(info: str) -> list[str]:
    return [k for k in (kv.split("=", 1)[0] for kv in info.split(";")) if k not in TRIO_CALL_INFO]
