"""Genotype likelihood ratios: how much a patient's VCF supports each gene-disease pair.

For a gene g and a disease d with modes of inheritance M_d, the evidence is the strongest
genotype the gene's qualifying variants form under each mode (`genome.ModeFit`), summarised by
its variant class c (`VariantClass`, e.g. a loss-of-function allele, or an indel when the VCF
carries no annotation). The likelihood ratio compares two hypotheses:

    causal:     P(c | g causes d) = s * spectrum(c) + (1 - s) * background(c)
    not causal: P(c | g does not) = background(c)

`spectrum` is the class distribution of disease-causing genotypes (counted on the causal variants
of the development phenopackets, docs/ranking.md), `s` the chance that the causal genotype is in
the VCF and passes the filters, and `background(c)` the chance that a gene *not* involved shows
class c under that mode by chance. The background is estimated from the patient's own VCF: the
share of all genes of the same size (span length quintile) whose best genotype under the mode has
class c, so a noisy unannotated exome earns each hit a small ratio and a filtered, annotated one a
large ratio, with no population data needed. A gene without a fitting genotype gets 1 - s.
Modes are averaged when a disease has several (or none recorded).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cache

import numpy as np

from raredx.genome import (
    PRIMARY_CONTIGS,
    GenomeEvidence,
    Impact,
    InheritanceMode,
    bundled_gene_spans,
    disease_modes,
)
from raredx.genome.clinvar import ClinicalSignificance
from raredx.rank.model import PhenotypeModel

__all__ = [
    "GenotypeLikelihood",
    "GenotypeParameters",
    "ModeEvidence",
    "VariantClass",
    "genotype_likelihood",
    "group_modes",
]

_STATUS_OK = 0  # genome._fit.STATUS_OK: the row explains the gene under the mode
_X_TWIN = {
    InheritanceMode.AUTOSOMAL_DOMINANT: InheritanceMode.X_LINKED_DOMINANT,
    InheritanceMode.AUTOSOMAL_RECESSIVE: InheritanceMode.X_LINKED_RECESSIVE,
    InheritanceMode.X_LINKED_DOMINANT: InheritanceMode.AUTOSOMAL_DOMINANT,
    InheritanceMode.X_LINKED_RECESSIVE: InheritanceMode.AUTOSOMAL_RECESSIVE,
}


class VariantClass(IntEnum):
    """What kind of allele a genotype rests on, weakest first. Annotated VCFs give LOW,
    MODERATE or LOF (VEP/SnpEff impact; ClinVar pathogenic counts as LOF); unannotated
    records only tell an SNV from an indel."""

    LOW = 0
    SNV = 1
    MODERATE = 2
    INDEL = 3
    LOF = 4

    @property
    def label(self) -> str:
        return _CLASS_LABELS[self]


_CLASS_LABELS = {
    VariantClass.LOW: "low-impact variant",
    VariantClass.SNV: "SNV (unannotated)",
    VariantClass.MODERATE: "missense or in-frame variant",
    VariantClass.INDEL: "indel (unannotated)",
    VariantClass.LOF: "loss of function or ClinVar pathogenic",
}
_ANNOTATED = (VariantClass.LOW, VariantClass.MODERATE, VariantClass.LOF)
_UNANNOTATED = (VariantClass.SNV, VariantClass.INDEL)


@dataclass(frozen=True, slots=True)
class GenotypeParameters:
    """Constants of the genotype likelihood ratio (docs/ranking.md gives their sources).

    `sensitivity`: P(the causal genotype is in the VCF and qualifies), 0-1. `annotated` and
    `unannotated`: the share of causal alleles in each class (each sums to 1), counted on the
    5,543 VCF-style causal variants of the development phenopackets (HGVS for the impact,
    REF/ALT lengths for indels). `pseudo_genes`: weight of the all-sizes background when a
    size bin has few genes. `weight`: the genotype log-LR's weight against the phenotype's
    tempered log-LR.
    """

    sensitivity: float = 0.9
    annotated: tuple[tuple[VariantClass, float], ...] = (
        (VariantClass.LOF, 0.46),
        (VariantClass.MODERATE, 0.47),
        (VariantClass.LOW, 0.07),
    )
    unannotated: tuple[tuple[VariantClass, float], ...] = (
        (VariantClass.INDEL, 0.28),
        (VariantClass.SNV, 0.72),
    )
    pseudo_genes: float = 20.0
    size_bins: int = 5
    weight: float = 1.0

    def spectrum(self) -> np.ndarray:
        """P(class | causal allele), indexed by VariantClass, within each annotation state."""
        out = np.zeros(len(VariantClass))
        for c, p in (*self.annotated, *self.unannotated):
            out[c] = p
        return out


@dataclass(frozen=True, slots=True)
class ModeEvidence:
    """One gene's genotype under one mode: its class (None: no fitting genotype), the
    variants it rests on (``chrom-pos-ref-alt``), the background chance of that observation in
    a gene of its size, and the log-LR."""

    mode: InheritanceMode
    variant_class: VariantClass | None
    background: float
    llr: float
    variants: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class GenotypeLikelihood:
    """Genotype log-LRs of every (gene, group) pair of a `PhenotypeModel`, for one VCF.

    `pair_llr[p]` pairs with `model.gene_of_pair[p]`/`model.group_of_pair[p]`; `by_gene[g]`
    holds the per-mode evidence of each KB gene with a qualifying variant; genes absent from
    it have no fitting genotype under any mode. Computed once per VCF and reused whenever the
    phenotype changes.
    """

    pair_llr: np.ndarray
    by_gene: dict[int, tuple[ModeEvidence, ...]]
    no_fit_llr: float
    parameters: GenotypeParameters = field(default_factory=GenotypeParameters)

    def gene_llr(self, gene: int, modes: frozenset[InheritanceMode]) -> float:
        """The gene's log-LR averaged (in LR) over `modes` (every mode evaluated for its
        chromosome when empty; on X an autosomal mode stands for its X-linked twin)."""
        found = self.by_gene.get(gene)
        if not found:
            return self.no_fit_llr
        if not modes:
            return _log_mean_exp([e.llr for e in found])
        llr = {e.mode: e.llr for e in found}
        used = [llr.get(m, llr.get(_X_TWIN.get(m, m), self.no_fit_llr)) for m in sorted(modes)]
        return _log_mean_exp(used)

    def best_mode(self, gene: int, modes: frozenset[InheritanceMode]) -> ModeEvidence | None:
        """The mode (among `modes`, all when empty) that gives the gene its largest ratio."""
        pool = [
            e
            for e in self.by_gene.get(gene, ())
            if not modes or e.mode in modes or _X_TWIN.get(e.mode) in modes
        ]
        return max(pool, key=lambda e: e.llr, default=None)


def genotype_likelihood(
    model: PhenotypeModel, evidence: GenomeEvidence, parameters: GenotypeParameters | None = None
) -> GenotypeLikelihood:
    """Genotype log-LRs of every gene-disease pair of `model` for the VCF behind `evidence`."""
    params = parameters or GenotypeParameters()
    s = params.sensitivity
    no_fit = math.log(max(1.0 - s, 1e-6))
    spectrum = params.spectrum()
    pair_spectrum = _pair_spectrum(params)
    fits = evidence.fits
    row_class = _row_classes(evidence, fits.rows)
    spans = _gene_sizes(evidence, params.size_bins)
    n_classes = len(VariantClass)
    by_gene: dict[int, list[ModeEvidence]] = {}
    for mode, res in fits.modes.items():
        eligible = spans.eligible(mode)
        if not eligible.any():
            continue
        # the class of each fitted gene under the mode (-1: no fitting genotype)
        cls = np.full(len(fits.genes), -1, dtype=np.int64)
        ok = res.compatible & res.applicable
        scored_a, scored_b = res.best_a.copy(), res.best_b.copy()  # table rows scored
        if _two_alleles(mode):
            a, b = res.best_a, res.best_b
            ca = np.where(a >= 0, row_class[np.clip(_position(fits, a), 0, None)], -1)
            cb = np.where(b >= 0, row_class[np.clip(_position(fits, b), 0, None)], n_classes)
            cls = np.where(ok, np.minimum(ca, cb), -1)
            paired = ok & (b >= 0)
        else:  # the strongest allele the mode accepts (the fit's own choice on a tie)
            good = res.status == _STATUS_OK
            best_pos = _position(fits, res.best_a)
            for j in np.flatnonzero(ok).tolist():
                lo, hi = int(fits.first[j]), int(fits.last[j])
                here = np.flatnonzero(good[lo:hi]) + lo
                if not len(here):
                    here = np.arange(lo, hi)
                top = here[row_class[here] == row_class[here].max()]
                pick = int(best_pos[j]) if int(best_pos[j]) in top else int(top[0])
                cls[j], scored_a[j] = int(row_class[pick]), int(fits.rows[pick])
            paired = np.zeros(len(fits.genes), dtype=bool)
        # background: among eligible genes of each size bin, the share with each class
        gene_class = np.full(len(spans.bin), -1, dtype=np.int64)
        in_kb = fits.genes < len(gene_class)
        gene_class[fits.genes[in_kb]] = cls[in_kb]
        background = _background(gene_class, spans.bin, eligible, params, n_classes)
        annotated = bool(np.isin(cls[cls >= 0], _ANNOTATED).any())
        expressible = _ANNOTATED if annotated else _UNANNOTATED
        prior = np.zeros(n_classes)
        prior[list(expressible)] = spectrum[list(expressible)]
        prior /= prior.sum()
        pprior = np.zeros(n_classes)
        pprior[list(expressible)] = pair_spectrum(expressible)
        for j in np.flatnonzero(res.applicable).tolist():
            g, c = int(fits.genes[j]), int(cls[j])
            if g >= len(gene_class) or not eligible[g]:
                continue
            if c < 0:  # qualifying variants, but no genotype this mode accepts
                by_gene.setdefault(g, []).append(ModeEvidence(mode, None, 1.0, no_fit))
                continue
            bg = float(background[spans.bin[g], c])
            causal = (pprior if paired[j] else prior)[c]
            llr = math.log((s * causal + (1.0 - s) * bg) / bg)
            keys = tuple(_key(evidence, int(r)) for r in (scored_a[j], scored_b[j]) if r >= 0)
            by_gene.setdefault(g, []).append(ModeEvidence(mode, VariantClass(c), bg, llr, keys))
    modes_of = group_modes(model)
    frozen = {g: tuple(found) for g, found in by_gene.items()}
    likelihood = GenotypeLikelihood(np.zeros(0), frozen, no_fit, params)
    pair_llr = np.array(
        [
            likelihood.gene_llr(g, modes_of[grp])
            for g, grp in zip(
                model.gene_of_pair.tolist(), model.group_of_pair.tolist(), strict=True
            )
        ],
        dtype=np.float64,
    )
    object.__setattr__(likelihood, "pair_llr", params.weight * pair_llr)
    return likelihood


# ------------------------------------------------------------------------------ internals
def _two_alleles(mode: InheritanceMode) -> bool:
    return mode in (InheritanceMode.AUTOSOMAL_RECESSIVE, InheritanceMode.X_LINKED_RECESSIVE)


def _position(fits: object, rows: np.ndarray) -> np.ndarray:
    """Positions in `fits.rows` (sorted by gene, position; not by row number) of table rows."""
    all_rows: np.ndarray = fits.rows  # type: ignore[attr-defined]
    order = np.argsort(all_rows, kind="stable")
    found = order[np.clip(np.searchsorted(all_rows[order], rows), 0, len(all_rows) - 1)]
    return np.where(rows >= 0, found, -1)


def _row_classes(evidence: GenomeEvidence, rows: np.ndarray) -> np.ndarray:
    """VariantClass of each qualifying row (in `fits.rows` order)."""
    t = evidence.table
    impact = t.rows["impact"][rows].astype(np.int64)
    annotated = (t.rows["annotated"][rows] != 0) | (impact >= 0)
    pathogenic = np.isin(
        t.rows["clinvar"][rows],
        (ClinicalSignificance.PATHOGENIC.code, ClinicalSignificance.LIKELY_PATHOGENIC.code),
    ) & (t.rows["clinvar_stars"][rows] >= evidence.config.clinvar_min_stars)
    splice = np.nan_to_num(t.rows["spliceai"][rows], nan=0.0) >= evidence.config.spliceai_min
    indel = np.fromiter(
        (_is_indel(t.text.get(int(r))) for r in rows.tolist()), dtype=bool, count=len(rows)
    )
    out = np.where(indel, VariantClass.INDEL, VariantClass.SNV).astype(np.int64)
    annotated_class = np.where(
        pathogenic | (impact >= Impact.HIGH),
        VariantClass.LOF,
        np.where((impact == Impact.MODERATE) | splice, VariantClass.MODERATE, VariantClass.LOW),
    )
    return np.where(annotated, annotated_class, out)


def _key(evidence: GenomeEvidence, row: int) -> str:
    ref, alt = evidence.table.text.get(row).split("\t", 2)[:2]
    chrom = PRIMARY_CONTIGS[int(evidence.table.rows["chrom"][row])]
    return f"{chrom}-{int(evidence.table.rows['pos'][row])}-{ref}-{alt}"


def _is_indel(text: str) -> bool:
    ref, alt = text.split("\t", 2)[:2]
    return len(ref) != len(alt)


@dataclass(frozen=True, slots=True, eq=False)
class _GeneSizes:
    """Per KB gene: size bin (-1 without a span) and chromosome class."""

    bin: np.ndarray
    chrom: np.ndarray

    def eligible(self, mode: InheritanceMode) -> np.ndarray:
        wanted = {
            InheritanceMode.AUTOSOMAL_DOMINANT: _AUTOSOMAL,
            InheritanceMode.AUTOSOMAL_RECESSIVE: _AUTOSOMAL,
            InheritanceMode.X_LINKED_DOMINANT: _X,
            InheritanceMode.X_LINKED_RECESSIVE: _X,
            InheritanceMode.Y_LINKED: _Y,
            InheritanceMode.MITOCHONDRIAL: _MT,
        }[mode]
        out: np.ndarray = (self.chrom == wanted) & (self.bin >= 0)
        return out


_AUTOSOMAL, _X, _Y, _MT = 0, 1, 2, 3


def _gene_sizes(evidence: GenomeEvidence, bins: int) -> _GeneSizes:
    return _sizes(evidence.kb, evidence.assembly, bins)


@cache
def _sizes(kb: object, assembly: object, bins: int) -> _GeneSizes:
    from raredx.kb import KnowledgeBase

    assert isinstance(kb, KnowledgeBase)
    n = kb.n_genes
    length = np.zeros(n, dtype=np.int64)
    chrom = np.full(n, -1, dtype=np.int64)
    klass = {c: _AUTOSOMAL for c in PRIMARY_CONTIGS} | {"X": _X, "Y": _Y, "MT": _MT}
    for span in bundled_gene_spans(assembly, kb):  # type: ignore[arg-type]
        length[span.gene] += span.end - span.start + 1
        chrom[span.gene] = klass.get(span.chrom, -1)
    has = (length > 0) & (chrom >= 0)
    size_bin = np.full(n, -1, dtype=np.int64)
    for c in (_AUTOSOMAL, _X, _Y, _MT):
        members = has & (chrom == c)
        k = max(1, min(bins, int(members.sum()) // 200))
        edges = np.quantile(length[members], np.linspace(0, 1, k + 1)[1:-1]) if k > 1 else []
        size_bin[members] = np.searchsorted(edges, length[members], side="right")
    return _GeneSizes(size_bin, chrom)


def _background(
    gene_class: np.ndarray,
    size_bin: np.ndarray,
    eligible: np.ndarray,
    params: GenotypeParameters,
    n_classes: int,
) -> np.ndarray:
    """(bins x classes): P(best class c | gene of that size is not involved), smoothed
    towards all sizes with `pseudo_genes`; every cell is at least one gene's worth."""
    bins = int(size_bin[eligible].max()) + 1 if eligible.any() else 1
    counts = np.zeros((bins, n_classes))
    totals = np.zeros(bins)
    sel = eligible & (gene_class >= 0)
    np.add.at(counts, (size_bin[sel], gene_class[sel]), 1.0)
    np.add.at(totals, size_bin[eligible], 1.0)
    pooled = (counts.sum(axis=0) + 1.0) / (totals.sum() + n_classes)
    a = params.pseudo_genes
    smoothed: np.ndarray = (counts + a * pooled[None, :]) / (totals[:, None] + a)
    return smoothed


def _pair_spectrum(params: GenotypeParameters):  # type: ignore[no-untyped-def]
    spectrum = params.spectrum()

    def pair(classes: tuple[VariantClass, ...]) -> np.ndarray:
        """P(weaker allele of two independent causal alleles has class c), over `classes`."""
        p = spectrum[list(classes)]
        p = p / p.sum()
        order = np.argsort(list(classes))
        at_least = np.cumsum(p[order][::-1])[::-1]  # P(class >= c), weakest first
        above = np.append(at_least[1:], 0.0)
        out = np.empty(len(classes))
        out[order] = at_least**2 - above**2
        return out

    return pair


@cache
def _group_modes_cached(model: PhenotypeModel) -> tuple[frozenset[InheritanceMode], ...]:
    kb = model.kb
    out: list[frozenset[InheritanceMode]] = []
    for members in model.group_members:
        modes: frozenset[InheritanceMode] = frozenset()
        for d in members.tolist():
            modes |= disease_modes(kb, int(d))
        out.append(modes)
    return tuple(out)


def group_modes(model: PhenotypeModel) -> tuple[frozenset[InheritanceMode], ...]:
    """Modes of inheritance of each disease group (union over its entries; empty: unknown)."""
    return _group_modes_cached(model)


def _log_mean_exp(values: list[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values) / len(values))
