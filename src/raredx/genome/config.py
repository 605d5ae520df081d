"""Every threshold of the genome layer, in one immutable dataclass, each derived from a principle.

The defaults are screening bounds, not classifications: a variant set aside by them could not
plausibly cause a rare Mendelian disease in this child, and everything else is kept with its
evidence for the genotype likelihood ratio to weigh.

Principles (see each attribute's docstring):

- call quality: one tolerated probability that a genotype call is wrong (`genotype_error`,
  1%) gives the minimum GQ (Phred: -10 log10 0.01 = 20), the minimum depth (a heterozygote
  shows both alleles with probability >= 99%: 2 * 0.5**d <= 0.01, d >= 8) and the allele-balance
  test (two-sided binomial test of p = 0.5 at level 1%, applied below gnomAD's AB >= 0.2);
- population frequency: the maximum credible population allele frequency of Whiffin et al.
  (Genet Med 2017;19:1151), computed per mode of inheritance from the rare-disease prevalence
  ceiling (EU: at most 5 in 10,000), the largest share of cases one allele and one gene may
  explain, and the lowest penetrance considered;
- in-silico scores: the ClinGen calibrations (Pejaver et al., AJHG 2022;109:2163) for REVEL and
  CADD, Cheng et al. (Science 2023) for AlphaMissense, and the SpliceAI cut-off that ClinGen
  recommends for splicing evidence (Walker et al., AJHG 2023;110:1046).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

import numpy as np

__all__ = ["GenomeConfig", "InheritanceMode"]


class InheritanceMode(StrEnum):
    """Modes of inheritance a gene's genotype is tested against."""

    AUTOSOMAL_DOMINANT = "AD"
    AUTOSOMAL_RECESSIVE = "AR"
    X_LINKED_DOMINANT = "XLD"
    X_LINKED_RECESSIVE = "XLR"
    Y_LINKED = "YL"
    MITOCHONDRIAL = "MT"

    @property
    def label(self) -> str:
        return _MODE_LABELS[self]


_MODE_LABELS = {
    InheritanceMode.AUTOSOMAL_DOMINANT: "autosomal dominant",
    InheritanceMode.AUTOSOMAL_RECESSIVE: "autosomal recessive",
    InheritanceMode.X_LINKED_DOMINANT: "X-linked dominant",
    InheritanceMode.X_LINKED_RECESSIVE: "X-linked recessive",
    InheritanceMode.Y_LINKED: "Y-linked",
    InheritanceMode.MITOCHONDRIAL: "mitochondrial",
}

_AB_TABLE_DEPTH = 2000
"""Allele-balance bounds are tabulated up to this depth and computed on the fly beyond."""


@cache
def _allele_balance_bounds(error: float) -> np.ndarray:
    """For each depth n <= 2000, the smallest minority read count k a heterozygote may show at
    two-sided binomial level `error`: 2 * P(X <= k) >= error, X ~ B(n, 0.5) (exact, from log
    factorials)."""
    log_fact = np.concatenate(([0.0], np.cumsum(np.log(np.arange(1, _AB_TABLE_DEPTH + 1)))))
    bounds = np.zeros(_AB_TABLE_DEPTH + 1, dtype=np.int32)
    for n in range(1, _AB_TABLE_DEPTH + 1):
        k = np.arange(n // 2 + 1)
        pmf = np.exp(log_fact[n] - log_fact[k] - log_fact[n - k] - n * math.log(2.0))
        ok = np.flatnonzero(2.0 * np.cumsum(pmf) >= error)
        bounds[n] = int(ok[0]) if len(ok) else n // 2
    bounds.flags.writeable = False
    return bounds


def _binomial_two_sided(k: int, n: int) -> float:
    """Two-sided p-value of k <= n/2 successes in n fair trials, normal approximation with
    continuity correction (used beyond the exact table, n > 2000, where it is accurate)."""
    z = (n / 2.0 - (k + 0.5)) / math.sqrt(n / 4.0)
    return min(1.0, math.erfc(z / math.sqrt(2.0)))


@dataclass(frozen=True, slots=True)
class GenomeConfig:
    """Thresholds of the genome layer. Immutable; derived limits are properties.

    >>> c = GenomeConfig()
    >>> c.min_gq, c.min_depth
    (20.0, 8)
    >>> round(c.max_credible_af(InheritanceMode.AUTOSOMAL_DOMINANT), 6)
    0.0005
    >>> round(c.max_credible_af(InheritanceMode.AUTOSOMAL_RECESSIVE), 4)
    0.0316
    """

    genotype_error: float = 0.01
    """Tolerated probability that a genotype call is wrong; sets GQ, depth and allele balance."""

    min_het_allele_fraction: float = 0.2
    """A heterozygote's minority allele fraction at or above this is always plausible (gnomAD's
    high-quality genotype criterion, AB >= 0.2); below it, the binomial test decides. The band
    absorbs reference bias and overdispersion at high depth."""

    accepted_filters: tuple[str, ...] = ()
    """FILTER values accepted besides PASS and "." (for example a caller's soft filters)."""

    disease_prevalence: float = 1 / 2000
    """Prevalence ceiling of a rare disease (EU definition: at most 5 in 10,000 people)."""

    max_allelic_contribution: float = 1.0
    """Largest share of cases one allele may explain (1: a founder allele may explain all)."""

    max_genetic_contribution: float = 1.0
    """Largest share of cases one gene may explain (1: a single-gene disease)."""

    min_penetrance: float = 0.5
    """Lowest penetrance considered; lower penetrance tolerates commoner alleles."""

    clinvar_min_stars: int = 1
    """ClinVar (likely) pathogenic assertions with at least this many review stars (criteria
    provided) are never set aside for frequency or consequence (Scout #1208)."""

    spliceai_min: float = 0.2
    """SpliceAI delta score from which a variant counts as affecting splicing (ClinGen SVI)."""

    revel_pathogenic: float = 0.644
    """REVEL score from which the score supports pathogenicity (Pejaver 2022, PP3)."""

    revel_benign: float = 0.290
    """REVEL score up to which the score supports a benign effect (Pejaver 2022, BP4)."""

    cadd_pathogenic: float = 25.3
    """CADD Phred score from which the score supports pathogenicity (Pejaver 2022, PP3)."""

    cadd_benign: float = 22.7
    """CADD Phred score up to which the score supports a benign effect (Pejaver 2022, BP4)."""

    alphamissense_pathogenic: float = 0.564
    """AlphaMissense score above which a missense is likely pathogenic (Cheng 2023)."""

    alphamissense_benign: float = 0.34
    """AlphaMissense score below which a missense is likely benign (Cheng 2023)."""

    kept_impacts: tuple[str, ...] = ("HIGH", "MODERATE")
    """VEP/SnpEff impact classes kept whatever the consequence term."""

    kept_low_impact_terms: tuple[str, ...] = (
        "splice_region_variant",
        "splice_donor_5th_base_variant",
        "splice_donor_region_variant",
        "splice_polypyrimidine_tract_variant",
    )
    """Low-impact consequences kept because they lie at splice sites (ACMG PVS1/PP3 splicing)."""

    keep_noncoding_exon_in_noncoding_genes: bool = True
    """Keep exonic variants of non-coding genes (RMRP, RNU4ATAC…), which VEP calls MODIFIER."""

    allow_unaffected_carriers: bool = False
    """Reduced penetrance: unaffected relatives may carry a dominant allele."""

    max_compound_candidates: int = 20
    """Compound heterozygous pairs are searched among a gene's this many best variants."""

    gene_flank_bp: int = 0
    """Unannotated records are assigned to genes whose span, widened by this, contains them."""

    modes: tuple[InheritanceMode, ...] = field(default_factory=lambda: tuple(InheritanceMode))
    """Modes evaluated for every gene (restricted by chromosome)."""

    def __post_init__(self) -> None:
        problems = []
        for name in (
            "genotype_error",
            "disease_prevalence",
            "max_allelic_contribution",
            "max_genetic_contribution",
            "min_penetrance",
            "min_het_allele_fraction",
        ):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0.0 < value <= 1.0):
                problems.append(f"{name} must be in (0, 1]: {value!r}")
        if not 0.0 < self.genotype_error < 0.5:
            problems.append(f"genotype_error must be below 0.5: {self.genotype_error!r}")
        for name in ("clinvar_min_stars", "max_compound_candidates", "gene_flank_bp"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                problems.append(f"{name} must be a non-negative integer: {value!r}")
        if not isinstance(self.modes, tuple) or not all(
            isinstance(m, InheritanceMode) for m in self.modes
        ):
            problems.append("modes must be a tuple of InheritanceMode")
        if problems:
            raise ValueError("; ".join(problems))

    # ------------------------------------------------------------------ call quality
    @property
    def min_gq(self) -> float:
        """Minimum genotype quality: the Phred value of `genotype_error`."""
        return round(-10.0 * math.log10(self.genotype_error), 6)

    @property
    def min_depth(self) -> int:
        """Minimum depth at which a heterozygote shows both alleles with probability at least
        1 - `genotype_error` (2 * 0.5**depth <= error)."""
        return math.ceil(math.log2(2.0 / self.genotype_error) - 1e-12)

    def allele_balance_ok(self, alt_reads: int, depth: int) -> bool:
        """True when `alt_reads` of `depth` reads is a plausible heterozygote: a minority
        fraction of at least `min_het_allele_fraction`, or else not rejected by a two-sided
        binomial test of p = 0.5 at level `genotype_error`."""
        if depth <= 0:
            return True
        low = min(alt_reads, depth - alt_reads)
        if low >= self.min_het_allele_fraction * depth:
            return True
        if depth <= _AB_TABLE_DEPTH:
            return low >= int(_allele_balance_bounds(self.genotype_error)[depth])
        return _binomial_two_sided(low, depth) >= self.genotype_error

    # ------------------------------------------------------------------ frequency
    def max_credible_af(self, mode: InheritanceMode) -> float:
        """Maximum credible population allele frequency of a causal allele (Whiffin 2017).

        One allele per case (dominant, X-linked dominant): prevalence x allelic x genetic
        contribution / penetrance / 2 (two alleles per person). Biallelic (recessive): the square
        root of prevalence x allelic x genetic contribution / penetrance. Hemizygous males
        (X-linked recessive) and haploid genomes (Y, mitochondrial): the same without the 1/2.
        """
        share = (
            self.disease_prevalence * self.max_allelic_contribution * self.max_genetic_contribution
        )
        if mode is InheritanceMode.AUTOSOMAL_RECESSIVE:
            return math.sqrt(share / self.min_penetrance)
        if mode in (InheritanceMode.AUTOSOMAL_DOMINANT, InheritanceMode.X_LINKED_DOMINANT):
            return share / self.min_penetrance / 2.0
        return share / self.min_penetrance

    @property
    def max_any_af(self) -> float:
        """Frequency above which an allele is credible for no mode at all."""
        return max(self.max_credible_af(m) for m in self.modes) if self.modes else 0.0
