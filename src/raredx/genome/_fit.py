"""Genotype fit of every gene to each mode of inheritance, with segregation, all at once.

Family genotypes are (samples x rows) boolean arrays (`FamilyArrays`). `fit_all` evaluates the
qualifying rows of all genes together, mode by mode, with numpy: one-variant explanations
(dominant, X-linked in a male, Y-linked, mitochondrial) row-wise, recessive ones as homozygous
rows plus compound heterozygous pairs formed within each gene among its
`max_compound_candidates` best heterozygous variants. Pairs are phased by, in order: both
alleles at one site (``1/2``), read-backed phasing (same phase set), the parents' genotypes.
Per gene it keeps the best explanation of each mode; per row, what each mode made of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from raredx.genome._table import ABSENT_ALLELE, VariantTable
from raredx.genome.clinvar import ClinicalSignificance
from raredx.genome.config import GenomeConfig, InheritanceMode
from raredx.genome.inheritance import gene_modes
from raredx.genome.model import Segregation
from raredx.genome.pedigree import Pedigree
from raredx.genome.vcf import PAR_REGIONS, PRIMARY_CONTIGS, Assembly
from raredx.kb import KnowledgeBase

__all__ = [
    "MODE_CLASS",
    "STATUS_CHROMOSOME",
    "STATUS_CIS",
    "STATUS_FREQUENCY",
    "STATUS_NOT_MALE",
    "STATUS_NOT_PAIRED",
    "STATUS_OK",
    "STATUS_SEGREGATION",
    "STATUS_SINGLE_HET",
    "AllFits",
    "FamilyArrays",
    "fit_all",
    "mode_relevance",
]

CLASS_AUTOSOMAL, CLASS_X, CLASS_Y, CLASS_MT = 0, 1, 2, 3
MODE_CLASS = {
    InheritanceMode.AUTOSOMAL_DOMINANT: CLASS_AUTOSOMAL,
    InheritanceMode.AUTOSOMAL_RECESSIVE: CLASS_AUTOSOMAL,
    InheritanceMode.X_LINKED_DOMINANT: CLASS_X,
    InheritanceMode.X_LINKED_RECESSIVE: CLASS_X,
    InheritanceMode.Y_LINKED: CLASS_Y,
    InheritanceMode.MITOCHONDRIAL: CLASS_MT,
}
"""The chromosome class (autosome or PAR, X, Y, MT) each mode is evaluated on."""

STATUS_OK = 0
STATUS_FREQUENCY = 1
STATUS_SEGREGATION = 2
STATUS_SINGLE_HET = 3
STATUS_CIS = 4
STATUS_NOT_PAIRED = 5
STATUS_NOT_MALE = 6
STATUS_CHROMOSOME = 7

# a mode's row status before evaluation: the row is on another chromosome class
_PATHOGENIC_CODES = (
    ClinicalSignificance.PATHOGENIC.code,
    ClinicalSignificance.LIKELY_PATHOGENIC.code,
)
_AD, _AR = InheritanceMode.AUTOSOMAL_DOMINANT, InheritanceMode.AUTOSOMAL_RECESSIVE
_XLD, _XLR = InheritanceMode.X_LINKED_DOMINANT, InheritanceMode.X_LINKED_RECESSIVE
_EQUIVALENT = {_AD: _XLD, _AR: _XLR, _XLD: _AD, _XLR: _AR}


class FamilyArrays:
    """Family genotypes of every row of a table, as arrays, with the pedigree's roles."""

    def __init__(
        self, table: VariantTable, pedigree: Pedigree, config: GenomeConfig, assembly: Assembly
    ) -> None:
        self.config = config
        self.members = pedigree.sequenced
        self.labels = [f"{m.id} ({pedigree.role(m.id)})" for m in self.members]
        self.unsequenced = tuple(
            f"{m.id} ({pedigree.role(m.id)}, not sequenced)"
            for m in pedigree.relatives
            if not m.sequenced and m.affected is not None
        )
        self.affected = [m.affected for m in self.members]
        self.male = [m.male for m in self.members]
        ids = [m.id for m in self.members]
        proband = pedigree.proband_member
        self.father = ids.index(proband.father) if proband.father in ids else None
        self.mother = ids.index(proband.mother) if proband.mother in ids else None
        self.proband_male = proband.male
        rows, samples = table.rows, table.samples
        a0, a1 = samples["a0"], samples["a1"]
        alt = rows["alt_index"][None, :]
        self.copies = (a0 == alt).astype(np.int8) + (a1 == alt).astype(np.int8)
        self.haploid = a1 == ABSENT_ALLELE
        full = (a0 >= 0) & ((a1 >= 0) | self.haploid)
        gq, dp = samples["gq"], samples["dp"]
        with np.errstate(invalid="ignore"):
            quality = (np.isnan(gq) | (gq >= config.min_gq)) & ((dp < 0) | (dp >= config.min_depth))
        self.carrier = (self.copies >= 1) & quality
        self.noncarrier = full & (self.copies == 0) & quality
        self.hom = ((self.copies == 2) | (self.haploid & (self.copies == 1))) & quality
        self.not_hom = full & quality & ~self.hom
        self.phased = samples["phased"].astype(bool)
        self.ps = samples["ps"]
        self.hap = (a1 == alt).astype(np.int8)  # haplotype carrying the ALT (phased calls)
        self.a0, self.a1 = a0, a1
        self.pos = rows["pos"]
        self.alt_index = rows["alt_index"]
        self.gene = rows["gene"]
        chrom = rows["chrom"]
        klass = np.zeros(len(chrom), dtype=np.int8)
        x, y, mt = (PRIMARY_CONTIGS.index(c) for c in ("X", "Y", "MT"))
        par = np.zeros(len(chrom), dtype=bool)
        for start, end in PAR_REGIONS[assembly]:
            par |= (self.pos >= start) & (self.pos <= end)
        klass[(chrom == x) & ~par] = CLASS_X
        klass[(chrom == y) & ~par] = CLASS_Y
        klass[chrom == mt] = CLASS_MT
        self.klass = klass
        self.af = rows["af"]
        self.rescued = np.isin(rows["clinvar"], _PATHOGENIC_CODES) & (
            rows["clinvar_stars"] >= config.clinvar_min_stars
        )
        with np.errstate(invalid="ignore"):
            self.freq_ok = {
                m: np.isnan(self.af) | (self.af <= config.max_credible_af(m)) | self.rescued
                for m in InheritanceMode
            }
        impact = rows["impact"].astype(np.float64)
        spliceai = np.nan_to_num(rows["spliceai"], nan=0.0)
        self.priority = (
            4.0 * self.rescued
            + np.where(impact < 0, 1.5, impact)  # unknown consequence: between LOW and MODERATE
            + (spliceai >= config.spliceai_min)
            + np.nan_to_num(rows["revel"], nan=0.0)
            - np.nan_to_num(self.af, nan=0.0)
        )

    # ------------------------------------------------------------------ family states
    def single_states(self, mode: InheritanceMode, rows: np.ndarray) -> np.ndarray:
        """(relatives x rows) int8 for a one-variant explanation: 1 agrees, -1 disagrees,
        0 says nothing."""
        out = np.zeros((len(self.members) - 1, len(rows)), dtype=np.int8)
        allow = self.config.allow_unaffected_carriers
        for k in range(1, len(self.members)):
            aff = self.affected[k]
            if aff is None:
                continue
            carrier, non = self.carrier[k, rows], self.noncarrier[k, rows]
            if mode is InheritanceMode.MITOCHONDRIAL:
                if aff:  # heteroplasmy may hide the allele in blood: absence proves nothing
                    out[k - 1] = np.where(carrier, 1, 0)
                continue
            if mode is _XLR and not self.male[k]:
                hom, not_hom = self.hom[k, rows], self.not_hom[k, rows]
                if aff:  # a heterozygous woman may or may not show an X-linked recessive disease
                    out[k - 1] = np.where(hom, 1, np.where(non, -1, 0))
                else:
                    out[k - 1] = np.where(hom, -1, np.where(not_hom, 1, 0))
                continue
            if aff:
                out[k - 1] = np.where(carrier, 1, np.where(non, -1, 0))
            else:
                bad = 0 if allow and mode is not _XLR else -1
                out[k - 1] = np.where(carrier, bad, np.where(non, 1, 0))
        if mode is _XLD and self.proband_male and self.father is not None:
            # a father gives his son his Y: the son's X allele is not from him
            f = self.father - 1
            mother_lacks = (
                self.noncarrier[self.mother, rows]
                if self.mother is not None
                else np.zeros(len(rows), dtype=bool)
            )
            out[f] = np.where(self.carrier[self.father, rows] & mother_lacks, -1, out[f])
        return out

    def hom_states(self, rows: np.ndarray, xl: bool) -> np.ndarray:
        """States for a homozygous recessive explanation (both parents must carry it)."""
        out = np.zeros((len(self.members) - 1, len(rows)), dtype=np.int8)
        for k in range(1, len(self.members)):
            aff = self.affected[k]
            male_x = xl and self.male[k]
            has = self.carrier[k, rows] if male_x else self.hom[k, rows]
            lacks = self.noncarrier[k, rows] if male_x else self.not_hom[k, rows]
            if aff:
                out[k - 1] = np.where(has, 1, np.where(lacks, -1, 0))
            elif aff is False:
                out[k - 1] = np.where(has, -1, np.where(lacks, 1, 0))
            if k in (self.father, self.mother):
                out[k - 1] = np.where(
                    self.noncarrier[k, rows], -1, np.where(self.carrier[k, rows], 1, out[k - 1])
                )
        return out

    def pair_states(self, a: np.ndarray, b: np.ndarray, xl: bool) -> np.ndarray:
        """States for compound heterozygous pairs (parents are judged by the phase)."""
        out = np.zeros((len(self.members) - 1, len(a)), dtype=np.int8)
        for k in range(1, len(self.members)):
            aff = self.affected[k]
            if aff is None:
                continue
            if k in (self.father, self.mother):
                has_one = self.carrier[k, a] | self.carrier[k, b]
                out[k - 1] = np.where(has_one, 1, 0)
                continue
            if xl and self.male[k]:
                has = self.carrier[k, a] | self.carrier[k, b]
                lacks = self.noncarrier[k, a] & self.noncarrier[k, b]
            else:
                has = self.carrier[k, a] & self.carrier[k, b]
                lacks = self.noncarrier[k, a] | self.noncarrier[k, b]
            out[k - 1] = (
                np.where(has, 1, np.where(lacks, -1, 0))
                if aff
                else np.where(has, -1, np.where(lacks, 1, 0))
            )
        return out

    def phase(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Phase of pairs in the proband: 1 trans (same site), 2 trans (read-backed), 3 trans
        (parents), -1 cis (read-backed), -2 cis (parents), 0 unknown."""
        n = len(a)
        code = np.zeros(n, dtype=np.int8)
        ai, bi = self.alt_index[a], self.alt_index[b]
        pa0, pa1 = self.a0[0, a], self.a1[0, a]
        site = (
            (self.pos[a] == self.pos[b])
            & (ai != bi)
            & (((pa0 == ai) & (pa1 == bi)) | ((pa0 == bi) & (pa1 == ai)))
        )
        phased = (
            self.phased[0, a]
            & self.phased[0, b]
            & (self.ps[0, a] == self.ps[0, b])
            & (self.ps[0, a] >= 0)
        )
        same_hap = self.hap[0, a] == self.hap[0, b]
        trans_p = np.zeros(n, dtype=bool)
        cis_p = np.zeros(n, dtype=bool)
        for parent, other in ((self.father, self.mother), (self.mother, self.father)):
            if parent is None:
                continue
            ca, cb = self.carrier[parent, a], self.carrier[parent, b]
            na, nb = self.noncarrier[parent, a], self.noncarrier[parent, b]
            trans_p |= (ca & nb) | (cb & na)
            unaffected = self.affected[parent] is False
            other_lacks = (
                self.noncarrier[other, a] & self.noncarrier[other, b]
                if other is not None
                else np.zeros(n, dtype=bool)
            )
            cis_p |= ca & cb & (unaffected | other_lacks)
        code[trans_p] = 3
        code[cis_p] = -2
        code[phased & ~same_hap] = 2
        code[phased & same_hap] = -1
        code[site] = 1
        return code

    def de_novo(self, mode: InheritanceMode, rows: np.ndarray) -> np.ndarray:
        """int8 per row: 1 absent from the parents who would pass it, 0 inherited, -1 unknown."""
        if mode is InheritanceMode.MITOCHONDRIAL or (mode is _XLR and self.proband_male):
            parents = [self.mother]
        elif mode is InheritanceMode.Y_LINKED:
            parents = [self.father]
        else:
            parents = [self.father, self.mother]
        out = np.full(len(rows), -1, dtype=np.int8)
        if any(p is None for p in parents):
            return out
        ps = [p for p in parents if p is not None]
        lacks = np.logical_and.reduce([self.noncarrier[p, rows] for p in ps])
        has = np.logical_or.reduce([self.carrier[p, rows] for p in ps])
        out[has] = 0
        out[lacks] = 1
        return out

    def segregation(self, states: np.ndarray) -> Segregation:
        """Relatives sorted by what `states` (one explanation's column) says of them."""
        cons: list[str] = []
        incons: list[str] = []
        unin: list[str] = []
        for k, state in enumerate(states.tolist(), start=1):
            if state == 1:
                cons.append(self.labels[k])
            elif state == -1:
                incons.append(self.labels[k])
            elif self.affected[k] is not None:
                unin.append(self.labels[k])
        return Segregation(tuple(cons), tuple(incons), (*unin, *self.unsequenced))

    def zygosity_label(self, r: int, mode: InheritanceMode) -> str:
        copies = int(self.copies[0, r])
        haploid = bool(self.haploid[0, r])
        if mode is InheritanceMode.MITOCHONDRIAL:
            return "homoplasmic" if copies == 2 or haploid else "heteroplasmic"
        if haploid or (self.proband_male and int(self.klass[r]) in (CLASS_X, CLASS_Y)):
            return "hemizygous"
        return "homozygous" if copies == 2 else "heterozygous"


@dataclass(frozen=True, slots=True, eq=False)
class ModeResult:
    """One mode over all genes: per gene the best explanation, per row the status.

    Per gene (index into `AllFits.genes`): `applicable` (a row on this mode's chromosome),
    `compatible`, `best_a`/`best_b` (rows; -1 none; `best_b` for a compound heterozygote),
    `phase` (`FamilyArrays.phase` code), `candidates` (rows allowed by the frequency limit),
    `why` (a STATUS_* code when not compatible). Per qualifying row: `status` (STATUS_*).
    """

    mode: InheritanceMode
    applicable: np.ndarray
    compatible: np.ndarray
    best_a: np.ndarray
    best_b: np.ndarray
    phase: np.ndarray
    candidates: np.ndarray
    why: np.ndarray
    status: np.ndarray


@dataclass(frozen=True, slots=True, eq=False)
class AllFits:
    """Fits of every gene with a qualifying row. `rows` are the qualifying rows sorted by
    (gene, position); `group[i]` is the gene group of `rows[i]`; `genes[g]` its KB gene;
    `first[g]`/`last[g]` bound its rows in `rows`; `reason`/`reason_modes` give each row's
    outcome under its gene's relevant modes (STATUS_* and a bit mask of the modes concerned)."""

    rows: np.ndarray
    group: np.ndarray
    genes: np.ndarray
    first: np.ndarray
    last: np.ndarray
    modes: dict[InheritanceMode, ModeResult]
    reason: np.ndarray
    reason_modes: np.ndarray
    relevant: np.ndarray

    def gene_group(self, gene: int) -> int | None:
        i = int(np.searchsorted(self.genes, gene))
        return i if i < len(self.genes) and int(self.genes[i]) == gene else None


_MODE_ORDER = tuple(InheritanceMode)
_MODE_BIT = {m: 1 << i for i, m in enumerate(_MODE_ORDER)}


@cache
def _gene_mode_bits(kb: KnowledgeBase) -> np.ndarray:
    bits = np.zeros(kb.n_genes, dtype=np.int16)
    for g in range(kb.n_genes):
        for m in gene_modes(kb, g):
            bits[g] |= _MODE_BIT[m]
    bits.flags.writeable = False
    return bits


def mode_relevance(kb: KnowledgeBase, genes: np.ndarray, klass: np.ndarray) -> np.ndarray:
    """(rows x modes) bool: the mode is one of the gene's diseases' modes (X-linked and
    autosomal counterparts stand for each other), or the gene has no known mode."""
    bits = _gene_mode_bits(kb)[genes]
    out = np.zeros((len(genes), len(_MODE_ORDER)), dtype=bool)
    unknown = bits == 0
    for j, m in enumerate(_MODE_ORDER):
        has = (bits & _MODE_BIT[m]) != 0
        eq = _EQUIVALENT.get(m)
        if eq is not None:
            has |= (bits & _MODE_BIT[eq]) != 0
        out[:, j] = (has | unknown) & (klass == MODE_CLASS[m])
    # a gene whose diseases' modes all belong to another chromosome (HPO writes some nuclear
    # genes of mitochondrial diseases as mitochondrial inheritance): every mode counts
    none = ~out.any(axis=1)
    for j, m in enumerate(_MODE_ORDER):
        out[none, j] = klass[none] == MODE_CLASS[m]
    return out


def fit_all(fa: FamilyArrays, table: VariantTable, kb: KnowledgeBase) -> AllFits:
    """Evaluate every mode for every gene's qualifying rows (see the module docstring)."""
    rows_all = np.flatnonzero(table.rows["reason"] == 0)
    genes_all = table.rows["gene"][rows_all]
    order = np.lexsort((table.rows["alt_index"][rows_all], table.rows["pos"][rows_all], genes_all))
    rows = rows_all[order]
    gene_of_row = genes_all[order]
    genes, first = np.unique(gene_of_row, return_index=True)
    last = np.append(first[1:], len(rows)) if len(rows) else first
    group = np.repeat(np.arange(len(genes)), last - first)
    results = {}
    for mode in fa.config.modes:
        results[mode] = _fit_mode(fa, mode, rows, group, len(genes))
    klass = fa.klass[rows]
    relevant = mode_relevance(kb, gene_of_row, klass)
    # per-row outcome under the relevant modes
    n = len(rows)
    status = np.full((n, len(_MODE_ORDER)), STATUS_CHROMOSOME, dtype=np.int8)
    for j, m in enumerate(_MODE_ORDER):
        if m in results:
            status[:, j] = results[m].status
    considered = np.where(relevant, status, 127)
    ok = (considered == STATUS_OK).any(axis=1)
    reason = np.full(n, STATUS_OK, dtype=np.int8)
    masks = np.zeros(n, dtype=np.int16)
    remaining = ~ok
    for code_set in (
        (STATUS_SEGREGATION,),
        (STATUS_SINGLE_HET, STATUS_CIS, STATUS_NOT_PAIRED, STATUS_NOT_MALE),
        (STATUS_FREQUENCY,),
    ):
        hit = np.isin(considered, code_set)
        take = remaining & hit.any(axis=1)
        reason[take] = np.where(hit[take], considered[take], 127).min(axis=1)
        for j, m in enumerate(_MODE_ORDER):
            masks[take & hit[:, j]] |= _MODE_BIT[m]
        remaining &= ~take
    reason[remaining] = STATUS_CHROMOSOME
    return AllFits(rows, group, genes, first, last, results, reason, masks, relevant)


def _best_per_group(group: np.ndarray, keys: Sequence[np.ndarray], n_groups: int) -> np.ndarray:
    """Index (into the arrays) of the best element of each group: the smallest by `keys`
    (most significant first); -1 for a group with no element."""
    out = np.full(n_groups, -1, dtype=np.int64)
    if not len(group):
        return out
    order = np.lexsort(tuple(reversed([group, *keys])))
    g_sorted = group[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    out[g_sorted[starts]] = order[starts]
    return out


def _fit_mode(
    fa: FamilyArrays, mode: InheritanceMode, rows: np.ndarray, group: np.ndarray, n_genes: int
) -> ModeResult:
    n = len(rows)
    in_class = fa.klass[rows] == MODE_CLASS[mode]
    freq_ok = fa.freq_ok[mode][rows]
    cand = in_class & freq_ok & (fa.copies[0, rows] >= 1)
    status = np.full(n, STATUS_CHROMOSOME, dtype=np.int8)
    status[in_class & ~freq_ok] = STATUS_FREQUENCY
    applicable = np.bincount(group, weights=in_class, minlength=n_genes) > 0
    candidates = np.bincount(group, weights=cand, minlength=n_genes).astype(np.int32)
    filtered = np.bincount(group, weights=in_class & ~freq_ok, minlength=n_genes) > 0
    compatible = np.zeros(n_genes, dtype=bool)
    best_a = np.full(n_genes, -1, dtype=np.int64)
    best_b = np.full(n_genes, -1, dtype=np.int64)
    phase = np.zeros(n_genes, dtype=np.int8)
    why = np.zeros(n_genes, dtype=np.int8)
    recessive = mode is _AR or (mode is _XLR and not fa.proband_male)
    if mode is InheritanceMode.Y_LINKED and not fa.proband_male:
        status[cand] = STATUS_NOT_MALE
        why[:] = STATUS_NOT_MALE
        first = _best_per_group(group[cand], [-fa.priority[rows[cand]]], n_genes)
        idx = np.flatnonzero(cand)
        best_a[first >= 0] = rows[idx[first[first >= 0]]]
    elif not recessive:
        c_idx = np.flatnonzero(cand)
        c_rows = rows[c_idx]
        states = fa.single_states(mode, c_rows)
        ok = ~(states == -1).any(axis=0)
        status[c_idx] = np.where(ok, STATUS_OK, STATUS_SEGREGATION)
        dn = fa.de_novo(mode, c_rows)
        best = _best_per_group(group[c_idx], [~ok, dn != 1, -fa.priority[c_rows], c_idx], n_genes)
        has = best >= 0
        best_a[has] = c_rows[best[has]]
        compatible[has] = ok[best[has]]
        why[has & ~compatible] = STATUS_SEGREGATION
    else:
        _recessive(fa, mode, rows, group, n_genes, cand, status, compatible, best_a, best_b,
                   phase, why)  # fmt: skip
    no_cand = applicable & (candidates == 0)
    why[no_cand] = np.where(filtered[no_cand], STATUS_FREQUENCY, STATUS_CHROMOSOME)
    compatible &= applicable
    return ModeResult(mode, applicable, compatible, best_a, best_b, phase, candidates, why, status)


def _recessive(
    fa: FamilyArrays,
    mode: InheritanceMode,
    rows: np.ndarray,
    group: np.ndarray,
    n_genes: int,
    cand: np.ndarray,
    status: np.ndarray,
    compatible: np.ndarray,
    best_a: np.ndarray,
    best_b: np.ndarray,
    phase: np.ndarray,
    why: np.ndarray,
) -> None:
    xl = mode is _XLR
    hom_c = cand & ((fa.copies[0, rows] == 2) | fa.haploid[0, rows])
    het_c = cand & ~hom_c
    # homozygous rows
    h_idx = np.flatnonzero(hom_c)
    h_rows = rows[h_idx]
    h_states = fa.hom_states(h_rows, xl)
    h_ok = ~(h_states == -1).any(axis=0)
    status[h_idx] = np.where(h_ok, STATUS_OK, STATUS_SEGREGATION)
    best_hom = _best_per_group(group[h_idx], [~h_ok, -fa.priority[h_rows]], n_genes)
    # compound heterozygous pairs among each gene's best heterozygous rows
    t_idx = np.flatnonzero(het_c)
    status[t_idx] = STATUS_SINGLE_HET
    limit = fa.config.max_compound_candidates
    t_group = group[t_idx]
    order = np.lexsort((t_idx, -fa.priority[rows[t_idx]], t_group))
    t_idx, t_group = t_idx[order], t_group[order]
    starts = np.flatnonzero(np.r_[True, t_group[1:] != t_group[:-1]]) if len(t_group) else t_idx
    sizes = np.diff(np.r_[starts, len(t_idx)]) if len(t_idx) else starts
    start_of = np.repeat(starts, sizes)
    rank = np.arange(len(t_idx)) - start_of
    top = rank < limit
    status[t_idx[~top & (np.repeat(sizes, sizes) > 1)]] = STATUS_NOT_PAIRED
    # every unordered pair within the top `limit` of each gene
    size_top = np.minimum(np.repeat(sizes, sizes), limit)
    tops = np.flatnonzero(top)
    reps = size_top[tops]
    a_pos = np.repeat(tops, reps)
    offsets = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
    b_pos = np.repeat(start_of[tops], reps) + offsets
    keep = b_pos > a_pos
    a_pos, b_pos = a_pos[keep], b_pos[keep]
    pa, pb = t_idx[a_pos], t_idx[b_pos]  # positions in `rows`
    ra, rb = rows[pa], rows[pb]
    p_phase = fa.phase(ra, rb)
    p_states = fa.pair_states(ra, rb, xl)
    p_seg = ~(p_states == -1).any(axis=0)
    p_ok = p_seg & (p_phase >= 0)
    # row status from its pairs: fits, or why not
    in_ok = np.zeros(len(rows), dtype=bool)
    in_ok[pa[p_ok]] = True
    in_ok[pb[p_ok]] = True
    in_seg_fail = np.zeros(len(rows), dtype=bool)
    bad_seg = ~p_seg & (p_phase >= 0)
    in_seg_fail[pa[bad_seg]] = True
    in_seg_fail[pb[bad_seg]] = True
    paired = np.zeros(len(rows), dtype=bool)
    paired[pa] = True
    paired[pb] = True
    het_rows = np.zeros(len(rows), dtype=bool)
    het_rows[t_idx] = True
    cis_only = het_rows & paired & ~in_ok & ~in_seg_fail
    status[cis_only] = STATUS_CIS
    status[het_rows & in_seg_fail & ~in_ok] = STATUS_SEGREGATION
    status[het_rows & in_ok] = STATUS_OK
    # homozygous explanations outrank pairs of equal standing
    h_ok_rows = np.zeros(len(rows), dtype=bool)
    h_ok_rows[h_idx[h_ok]] = True
    status[h_ok_rows] = STATUS_OK
    p_rank = np.where(p_ok, np.where(p_phase > 0, 0, 1), 3)
    best_pair = _best_per_group(
        group[pa], [p_rank, -(fa.priority[ra] + fa.priority[rb]), pa, pb], n_genes
    )
    for g in np.flatnonzero((best_hom >= 0) | (best_pair >= 0)).tolist():
        hom_choice = None
        if best_hom[g] >= 0:
            j = best_hom[g]
            hom_choice = (0 if h_ok[j] else 2, -2.0 * float(fa.priority[h_rows[j]]))
        pair_choice = None
        if best_pair[g] >= 0:
            p = best_pair[g]
            pair_choice = (int(p_rank[p]), -float(fa.priority[ra[p]] + fa.priority[rb[p]]))
        if pair_choice is None or (hom_choice is not None and hom_choice <= pair_choice):
            j = best_hom[g]
            best_a[g] = h_rows[j]
            compatible[g] = bool(h_ok[j])
            why[g] = 0 if h_ok[j] else STATUS_SEGREGATION
        else:
            p = best_pair[g]
            best_a[g], best_b[g] = ra[p], rb[p]
            phase[g] = p_phase[p]
            compatible[g] = bool(p_ok[p])
            why[g] = 0 if p_ok[p] else (STATUS_CIS if p_phase[p] < 0 else STATUS_SEGREGATION)
    single = (best_a < 0) & (np.bincount(group[t_idx], minlength=n_genes) > 0)
    if single.any():
        first_het = _best_per_group(group[t_idx], [-fa.priority[rows[t_idx]]], n_genes)
        has = single & (first_het >= 0)
        best_a[has] = rows[t_idx[first_het[has]]]
        why[has] = STATUS_SINGLE_HET
