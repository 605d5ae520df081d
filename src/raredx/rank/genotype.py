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
from typing import TYPE_CHECKING

import numpy as np

from raredx.genome import (
    PRIMARY_CONTIGS,
    Assembly,
    GenomeEvidence,
    Impact,
    InheritanceMode,
    disease_modes,
    gene_span_arrays,
)
from raredx.genome.clinvar import ClinicalSignificance
from raredx.kb import KnowledgeBase
from raredx.rank.model import PhenotypeModel

if TYPE_CHECKING:
    from raredx.genome._fit import AllFits

__all__ = [
    "GenotypeLikelihood",
    "GenotypeParameters",
    "ModeEvidence",
    "VariantClass",
    "genotype_likelihood",
    "group_modes",
    "variant_keys",
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
    tempered log-LR. `compound_share`: P(compound heterozygous | recessive cause), 671 of the
    2,108 recessive dev cases (the rest homozygous). `de_novo_share`: P(de novo | dominant
    cause) when both parents are sequenced; no data at hand, so an even 0.5.
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
    compound_share: float = 0.32
    de_novo_share: float = 0.5
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
    variant table rows it rests on (`variant_keys` names them), the background chance of that
    observation in a gene of its size, and the log-LR."""

    mode: InheritanceMode
    variant_class: VariantClass | None
    background: float
    llr: float
    rows: tuple[int, ...] = ()


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
    fits = evidence.fits
    # position in `fits.rows` (sorted by gene) of each variant-table row, -1 if not qualifying
    position = np.full(len(evidence.table) + 1, -1, dtype=np.int64)
    position[fits.rows] = np.arange(len(fits.rows))
    # P(class | causal) given the variant's annotation state (each state sums to 1)
    prior = spectrum
    pprior = np.zeros(len(VariantClass))
    for state in (_ANNOTATED, _UNANNOTATED):
        pprior[list(state)] = _pair_spectrum(spectrum, state)
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
            ca = np.where(a >= 0, row_class[np.clip(position[a], 0, None)], -1)
            cb = np.where(b >= 0, row_class[np.clip(position[b], 0, None)], n_classes)
            cls = np.where(ok, np.minimum(ca, cb), -1)
            paired = ok & (b >= 0)
        else:  # the strongest allele the mode accepts (the fit's own choice on a tie)
            pick = _strongest(fits, res.status == _STATUS_OK, row_class, position[res.best_a])
            cls = np.where(ok, row_class[pick], -1)
            scored_a = np.where(ok, fits.rows[pick], scored_a)
            paired = np.zeros(len(fits.genes), dtype=bool)
        # the kind of genotype: two-allele modes, homozygous (0) or compound heterozygous (1);
        # one-allele modes, inherited or unknown (0) or de novo (1) when both parents are seen
        if _two_alleles(mode):
            kind = paired.astype(np.int64)
            hemizygous = mode is InheritanceMode.X_LINKED_RECESSIVE and evidence.family.proband_male
            share = 0.0 if hemizygous else params.compound_share
        else:
            dn = evidence.family.de_novo(mode, np.clip(scored_a, 0, None))
            kind = ((dn == 1) & ok).astype(np.int64)
            share = params.de_novo_share if bool((dn >= 0).any()) else 0.0
        kind_weight = np.array([1.0 - share, share])
        # background: among eligible genes of each size bin, the share with each kind and class
        gene_class = np.full(len(spans.bin), -1, dtype=np.int64)
        in_kb = fits.genes < len(gene_class)
        gene_class[fits.genes[in_kb]] = np.where(cls >= 0, kind * n_classes + cls, -1)[in_kb]
        background = _background(gene_class, spans.bin, eligible, params, 2 * n_classes)
        for j in np.flatnonzero(res.applicable).tolist():
            g, c = int(fits.genes[j]), int(cls[j])
            if g >= len(gene_class) or not eligible[g]:
                continue
            if c < 0:  # qualifying variants, but no genotype this mode accepts
                by_gene.setdefault(g, []).append(ModeEvidence(mode, None, 1.0, no_fit))
                continue
            k = int(kind[j])
            bg = float(background[spans.bin[g], k * n_classes + c])
            causal = kind_weight[k] * (pprior if paired[j] else prior)[c]
            llr = math.log((s * causal + (1.0 - s) * bg) / bg)
            rows = tuple(int(r) for r in (scored_a[j], scored_b[j]) if r >= 0)
            by_gene.setdefault(g, []).append(ModeEvidence(mode, VariantClass(c), bg, llr, rows))
    frozen = {g: tuple(found) for g, found in by_gene.items()}
    pair_llr = params.weight * _pair_llr(model, frozen, no_fit)
    return GenotypeLikelihood(pair_llr, frozen, no_fit, params)


# ------------------------------------------------------------------------------ internals
_MODES = tuple(InheritanceMode)


def _pair_llr(
    model: PhenotypeModel, by_gene: dict[int, tuple[ModeEvidence, ...]], no_fit: float
) -> np.ndarray:
    """Each pair's log-LR: its gene's ratios averaged over its group's modes (the modes
    evaluated for the gene when the group has none; on X an autosomal mode reads as its
    X-linked twin and the reverse)."""
    n_genes = model.kb.n_genes
    index = {m: i for i, m in enumerate(_MODES)}
    llr = np.full((n_genes, len(_MODES)), no_fit)
    evaluated = np.zeros((n_genes, len(_MODES)), dtype=bool)
    for g, found in by_gene.items():
        for e in found:
            llr[g, index[e.mode]] = e.llr
            evaluated[g, index[e.mode]] = True
    for mode, twin in _X_TWIN.items():
        i, j = index[mode], index[twin]
        fill = ~evaluated[:, i] & evaluated[:, j]
        llr[fill, i] = llr[fill, j]
    gene, group = model.gene_of_pair, model.group_of_pair
    mask = _group_mode_mask(model)[group]
    unknown = ~mask.any(axis=1)
    mask[unknown] = evaluated[gene[unknown]]
    counts = mask.sum(axis=1)
    values = llr[gene]
    top = np.where(mask, values, -np.inf).max(axis=1, initial=-np.inf)
    top = np.where(counts > 0, top, no_fit)
    sums = (np.exp(values - top[:, None]) * mask).sum(axis=1)
    out: np.ndarray = np.where(
        counts > 0, top + np.log(np.maximum(sums, 1e-300) / np.maximum(counts, 1)), no_fit
    )
    return out


@cache
def _group_mode_mask(model: PhenotypeModel) -> np.ndarray:
    modes = group_modes(model)
    mask = np.zeros((len(modes), len(_MODES)), dtype=bool)
    for k, ms in enumerate(modes):
        for m in ms:
            mask[k, _MODES.index(m)] = True
    mask.setflags(write=False)
    return mask


def _two_alleles(mode: InheritanceMode) -> bool:
    return mode in (InheritanceMode.AUTOSOMAL_RECESSIVE, InheritanceMode.X_LINKED_RECESSIVE)


def _strongest(
    fits: AllFits, good: np.ndarray, row_class: np.ndarray, best: np.ndarray
) -> np.ndarray:
    """Per gene, the position (in `fits.rows`) of its strongest-class row among the `good`
    ones (all its rows when none is good), preferring the fit's own pick (`best`: positions,
    -1 for none)."""
    n = len(fits.genes)
    group = fits.group
    good_class = np.full(n, -1, dtype=np.int64)
    np.maximum.at(good_class, group, np.where(good, row_class, -1))
    any_class = np.full(n, -1, dtype=np.int64)
    np.maximum.at(any_class, group, row_class)
    no_good = good_class < 0
    target = np.where(no_good, any_class, good_class)
    allowed = (row_class == target[group]) & (good | no_good[group])
    positions = np.arange(len(group))
    first = np.full(n, len(group), dtype=np.int64)
    np.minimum.at(first, group[allowed], positions[allowed])
    keep = best >= 0
    keep[keep] = allowed[best[keep]]
    out: np.ndarray = np.where(keep, best, np.minimum(first, len(group) - 1))
    return out


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
        (_is_indel(text) for text in t.text.get_many(rows.tolist())), dtype=bool, count=len(rows)
    )
    out = np.where(indel, VariantClass.INDEL, VariantClass.SNV).astype(np.int64)
    annotated_class = np.where(
        pathogenic | (impact >= Impact.HIGH),
        VariantClass.LOF,
        np.where((impact == Impact.MODERATE) | splice, VariantClass.MODERATE, VariantClass.LOW),
    )
    return np.where(annotated, annotated_class, out)


def variant_keys(evidence: GenomeEvidence, found: ModeEvidence) -> tuple[str, ...]:
    """``chrom-pos-ref-alt`` of the variants `found` rests on (rows of `evidence`'s table)."""
    rows = evidence.table.rows
    out = []
    for r in found.rows:
        ref, alt = evidence.table.text.get(r).split("\t", 2)[:2]
        out.append(f"{PRIMARY_CONTIGS[int(rows['chrom'][r])]}-{int(rows['pos'][r])}-{ref}-{alt}")
    return tuple(out)


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
def _sizes(kb: KnowledgeBase, assembly: Assembly, bins: int) -> _GeneSizes:
    n = kb.n_genes
    gene, contig, start, end = gene_span_arrays(assembly, kb)
    length = np.zeros(n, dtype=np.int64)
    np.add.at(length, gene, end - start + 1)
    klass = np.array(
        [{"X": _X, "Y": _Y, "MT": _MT}.get(c, _AUTOSOMAL) for c in PRIMARY_CONTIGS], dtype=np.int64
    )
    chrom = np.full(n, -1, dtype=np.int64)
    chrom[gene] = klass[contig]
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


def _pair_spectrum(spectrum: np.ndarray, classes: tuple[VariantClass, ...]) -> np.ndarray:
    """P(weaker allele of two independent causal alleles has class c), over `classes`."""
    p = spectrum[list(classes)]
    p = p / p.sum()
    order = np.argsort(list(classes))
    at_least = np.cumsum(p[order][::-1])[::-1]  # P(class >= c), weakest first
    above = np.append(at_least[1:], 0.0)
    out = np.empty(len(classes))
    out[order] = at_least**2 - above**2
    return out


@cache
def group_modes(model: PhenotypeModel) -> tuple[frozenset[InheritanceMode], ...]:
    """Modes of inheritance of each disease group (union over its entries; empty: unknown)."""
    kb = model.kb
    out: list[frozenset[InheritanceMode]] = []
    for members in model.group_members:
        modes: frozenset[InheritanceMode] = frozenset()
        for d in members.tolist():
            modes |= disease_modes(kb, int(d))
        out.append(modes)
    return tuple(out)


def _log_mean_exp(values: list[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values) / len(values))
