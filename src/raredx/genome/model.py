"""Value objects of the genome layer: variants with their evidence, genes with their fits.

Every variant that was looked at and set aside carries its reasons (`SetAside`): what was
checked, the value found and the limit it broke, so that "why not this variant?" always has an
answer.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from enum import Enum, StrEnum
from typing import Any

from raredx.genome.annotations import Impact
from raredx.genome.clinvar import ClinicalSignificance
from raredx.genome.config import InheritanceMode

__all__ = [
    "GeneGenotype",
    "ModeFit",
    "Reason",
    "SampleCall",
    "Segregation",
    "SetAside",
    "VariantEvidence",
    "Zygosity",
]


class Reason(StrEnum):
    """Why a variant was set aside."""

    QUALITY = "quality"
    FREQUENCY = "frequency"
    CONSEQUENCE = "consequence"
    INHERITANCE = "inheritance"
    SEGREGATION = "segregation"


class Zygosity(StrEnum):
    """A sample's genotype for one ALT allele (hemizygous: a male's X outside the PARs, Y, or a
    haploid call)."""

    NO_CALL = "no call"
    HOM_REF = "no copy"
    HETEROZYGOUS = "heterozygous"
    HOMOZYGOUS = "homozygous"
    HEMIZYGOUS = "hemizygous"

    @property
    def carries(self) -> bool:
        return self in (Zygosity.HETEROZYGOUS, Zygosity.HOMOZYGOUS, Zygosity.HEMIZYGOUS)


@dataclass(frozen=True, slots=True)
class SampleCall:
    """One family member's call for one allele. Missing numbers are None; `genotype` is the GT
    as written (``0/1``, ``1|0``, ``./.``), with the record's own allele numbers; `dp` is the
    sum of the allelic depths (informative reads) when AD is given, else FORMAT DP."""

    individual: str
    role: str
    sample: str
    genotype: str
    zygosity: Zygosity
    gq: float | None = None
    dp: int | None = None
    ad_ref: int | None = None
    ad_alt: int | None = None
    phase_set: int | None = None

    @property
    def alt_fraction(self) -> float | None:
        """ALT reads / (REF + ALT reads), None without allele depths."""
        if self.ad_ref is None or self.ad_alt is None or self.ad_ref + self.ad_alt == 0:
            return None
        return self.ad_alt / (self.ad_ref + self.ad_alt)


@dataclass(frozen=True, slots=True)
class SetAside:
    """One reason a variant was set aside, with the measured value and the limit."""

    reason: Reason
    detail: str


@dataclass(frozen=True, slots=True)
class VariantEvidence:
    """One ALT allele in one gene, with everything known about it.

    `consequence` is a Sequence Ontology term, or None when the record carries no annotation
    ("consequence unknown"). `frequency` is the largest population frequency found (0-1),
    None when no source lists the allele. `calls` lists the sequenced family members, proband
    first. `set_aside` is empty for a qualifying variant.
    """

    chrom: str
    pos: int
    ref: str
    alt: str
    gene: int
    symbol: str
    variant_id: str | None
    consequence: str | None
    impact: Impact | None
    transcript: str
    hgvs_c: str
    hgvs_p: str
    frequency: float | None
    frequency_source: str | None
    cadd: float | None
    revel: float | None
    spliceai: float | None
    alphamissense: float | None
    clinvar: ClinicalSignificance | None
    clinvar_stars: int
    filter: str | None
    qual: float | None
    in_silico: str
    calls: tuple[SampleCall, ...]
    de_novo: bool | None
    set_aside: tuple[SetAside, ...] = ()

    @property
    def key(self) -> str:
        """``chrom-pos-ref-alt`` (gnomAD style)."""
        return f"{self.chrom}-{self.pos}-{self.ref}-{self.alt}"

    @property
    def qualifies(self) -> bool:
        return not self.set_aside

    @property
    def proband(self) -> SampleCall:
        return self.calls[0]

    @property
    def consequence_label(self) -> str:
        return self.consequence or "consequence unknown"

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return tuple(dict.fromkeys(s.reason for s in self.set_aside))

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready (enums as their values, tuples as lists)."""
        out: dict[str, Any] = _plain(self)
        return out


@dataclass(frozen=True, slots=True)
class Segregation:
    """Relatives whose genotypes agree, disagree, or say nothing (not sequenced, no call, low
    quality, unknown status), written ``id (role)``."""

    consistent: tuple[str, ...] = ()
    inconsistent: tuple[str, ...] = ()
    uninformative: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.inconsistent


@dataclass(frozen=True, slots=True)
class ModeFit:
    """How a gene's genotype fits one mode of inheritance.

    `variants` are the keys of the best explanation (one variant, or two for a compound
    heterozygote); `genotype` names it (``heterozygous``, ``de novo heterozygous``,
    ``homozygous``, ``compound heterozygous``, ``hemizygous``, ``heteroplasmic``…); `phase`
    says how a compound heterozygote was phased (``trans (parents)``, ``trans (read-backed)``,
    ``trans (same site)``, ``unknown``). `candidates` counts the qualifying variants allowed by
    this mode's frequency limit; `reason` says why the mode does not fit.
    """

    mode: InheritanceMode
    compatible: bool
    genotype: str = ""
    variants: tuple[str, ...] = ()
    phase: str = ""
    de_novo: bool | None = None
    segregation: Segregation = Segregation()
    candidates: int = 0
    reason: str = ""


_X_EQUIVALENT = {
    InheritanceMode.AUTOSOMAL_DOMINANT: InheritanceMode.X_LINKED_DOMINANT,
    InheritanceMode.AUTOSOMAL_RECESSIVE: InheritanceMode.X_LINKED_RECESSIVE,
    InheritanceMode.X_LINKED_DOMINANT: InheritanceMode.AUTOSOMAL_DOMINANT,
    InheritanceMode.X_LINKED_RECESSIVE: InheritanceMode.AUTOSOMAL_RECESSIVE,
}


@dataclass(frozen=True, slots=True)
class GeneGenotype:
    """A gene's genotype evidence in the proband and family.

    `variants`: the qualifying variants (those passing quality, frequency and consequence),
    each with INHERITANCE/SEGREGATION reasons when it fits none of `modes`. `fits`: one per
    mode evaluated for the gene's chromosome. `modes`: the modes of the gene's diseases in the
    KB (empty when unknown: every mode counts). `set_aside`: how many of the gene's variants were
    set aside before, by reason.
    """

    gene: int
    symbol: str
    hgnc_id: str
    chrom: str
    variants: tuple[VariantEvidence, ...]
    fits: tuple[ModeFit, ...]
    modes: tuple[InheritanceMode, ...]
    set_aside: tuple[tuple[Reason, int], ...] = ()

    def fit(self, mode: InheritanceMode) -> ModeFit | None:
        """The fit for `mode`; on chromosome X an autosomal mode answers with its X-linked
        counterpart (and the reverse), since HPO sometimes words X-linked diseases so."""
        for f in self.fits:
            if f.mode is mode:
                return f
        other = _X_EQUIVALENT.get(mode)
        return next((f for f in self.fits if f.mode is other), None)

    def best_fit(
        self, modes: tuple[InheritanceMode, ...] | frozenset[InheritanceMode] = ()
    ) -> ModeFit | None:
        """The best fit among `modes` (all evaluated modes when empty): compatible first."""
        pool = [f for m in modes if (f := self.fit(m)) is not None] if modes else list(self.fits)
        if not pool:
            return None
        return max(
            pool, key=lambda f: (f.compatible, f.segregation.ok, len(f.segregation.consistent))
        )

    @property
    def compatible_modes(self) -> tuple[InheritanceMode, ...]:
        return tuple(f.mode for f in self.fits if f.compatible)

    @property
    def qualifying(self) -> tuple[VariantEvidence, ...]:
        """Variants with no reason against them under the gene's modes."""
        return tuple(v for v in self.variants if v.qualifies)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the gene, its modes, every fit, and how many variants were set aside
        by reason; not the variants (`VariantEvidence.to_dict` each)."""
        return {
            "gene": self.symbol,
            "hgnc_id": self.hgnc_id,
            "chrom": self.chrom,
            "modes": [m.value for m in self.modes],
            "fits": [_plain(f) for f in self.fits],
            "set_aside": {r.value: n for r, n in self.set_aside},
        }


def _plain(obj: Any) -> Any:
    """Dataclasses as dicts field by field, enums as their values, tuples as lists."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, tuple | list):
        return [_plain(x) for x in obj]
    return obj
