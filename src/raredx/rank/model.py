"""The phenotype likelihood model: arrays over diseases x terms, built once per knowledge base.

The unit of ranking is a disease *group*: the OMIM, Orphanet and DECIPHER entries of one
disease (equivalent via MONDO) share one profile, the union of their annotations (the highest
frequency where two entries annotate the same term). Every array is indexed by group.

Scoring a patient touches only the columns of the patient's terms: all diseases are scored at
once with numpy/scipy, in a few milliseconds.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from typing import Literal

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import betaln

from raredx.kb import KnowledgeBase, per_kb
from raredx.rank.parameters import ONSET_CLASSES, ONSET_EDGES_YEARS, KbEstimates, RankParameters

__all__ = [
    "INHERITANCE_CLASSES",
    "PHENOTYPE_ROOT",
    "CaseScores",
    "PatientQuery",
    "PhenotypeModel",
    "TermEvidence",
    "concat_ranges",
    "onset_bins",
    "phenotype_model",
]

PHENOTYPE_ROOT = "HP:0000118"
"""Phenotypic abnormality: only terms below it are scored as findings."""

INHERITANCE_CLASSES: tuple[str, ...] = (
    "other",
    "X-linked recessive",
    "X-linked dominant",
    "X-linked",
    "Y-linked",
)
"""Inheritance classes used by the sex likelihood ratio (index into `female_fraction`)."""

_AUTOSOMAL = frozenset({"HP:0000006", "HP:0000007"})
_XLR, _XLD, _XL, _YL = "HP:0001419", "HP:0001423", "HP:0001417", "HP:0001450"
_MAX_FREQUENCY = 1.0 - 1e-9  # keeps log(1 - f) finite for obligate findings
_TERM_CACHE_SIZE = 4096  # per-term evidence kept (a few kB each)
_COVERED_CACHE_SIZE = 32  # patients whose covered terms are kept (a few kB each)
_TermKey = tuple[str, int, RankParameters]

Sex = Literal["male", "female"]


def onset_bins(
    onset_years: float | None, onset_term: str | None, age_years: float | None
) -> tuple[int, ...] | None:
    """Onset bins compatible with what is known of the patient, or None if nothing is.

    An onset age picks its bin; an HPO onset term its bins; with neither, the current age says
    onset happened at or before it (every bin starting no later than the age).
    """
    edges = ONSET_EDGES_YEARS
    if onset_years is not None:
        for i in range(len(edges) - 1):
            if onset_years < edges[i + 1]:
                return (i,)
        return (len(edges) - 2,)
    if onset_term is not None and onset_term in ONSET_CLASSES:
        return ONSET_CLASSES[onset_term]
    if age_years is not None:
        return tuple(i for i in range(len(edges) - 1) if edges[i] <= age_years)
    return None


@dataclass(frozen=True, slots=True)
class PatientQuery:
    """What the model scores: term indices (phenotypic abnormalities), sex, onset, age.

    `observed` and `excluded` are KB term indices, already checked not to contradict each
    other. `onset_years` is the earliest onset (years from birth, negative before birth),
    `onset_term` an HPO onset class, `age_years` the age at the last examination.
    """

    observed: tuple[int, ...]
    excluded: tuple[int, ...] = ()
    sex: Sex | None = None
    age_years: float | None = None
    onset_years: float | None = None
    onset_term: str | None = None


@dataclass(frozen=True, slots=True)
class TermEvidence:
    """Per-term log likelihood ratios of one kind of term (observed or excluded) for every group.

    Most groups have nothing at or near a term, and share its `baseline` value; only the
    groups in `entry_group` (for the term at `entry_term`) differ, by `entry_delta`. Values are
    natural logs, already weighted.
    """

    baseline: np.ndarray
    entry_term: np.ndarray
    entry_group: np.ndarray
    entry_delta: np.ndarray

    @classmethod
    def empty(cls) -> TermEvidence:
        none = np.zeros(0, dtype=np.int64)
        return cls(np.zeros(0), none, none, np.zeros(0))

    def total(self, n_groups: int) -> np.ndarray:
        """Summed over terms, for every group."""
        out = np.bincount(self.entry_group, weights=self.entry_delta, minlength=n_groups)
        return out + float(self.baseline.sum())

    def for_groups(self, groups: np.ndarray, n_groups: int) -> np.ndarray:
        """Terms x `groups` matrix of the per-term values."""
        where = np.full(n_groups, -1, dtype=np.int64)
        where[groups] = np.arange(len(groups))
        out = np.repeat(self.baseline[:, None], len(groups), axis=1)
        col = where[self.entry_group]
        keep = col >= 0
        out[self.entry_term[keep], col[keep]] += self.entry_delta[keep]
        return out


@dataclass(frozen=True, slots=True)
class CaseScores:
    """Scores of one patient against every disease group (natural-log likelihood ratios).

    `observed`/`excluded`: the terms actually scored (redundant ones removed), their per-term
    evidence in `observed_llr`/`excluded_llr`. `total` sums every phenotype component;
    `posterior` is softmax(total / temperature + genotype) over groups, where the genotype
    part (natural log, per group: `genotype_llr`; per gene-group pair: `pair_llr`) is zero
    without a VCF (see `PhenotypeModel.with_genotype`).
    """

    observed: tuple[int, ...]
    excluded: tuple[int, ...]
    observed_llr: TermEvidence
    excluded_llr: TermEvidence
    absent_llr: np.ndarray
    onset_llr: np.ndarray
    sex_llr: np.ndarray
    total: np.ndarray
    posterior: np.ndarray
    genotype_llr: np.ndarray | None = None
    pair_llr: np.ndarray | None = None

    def rank_key(self, temperature: float) -> np.ndarray:
        """What groups are ranked by: tempered phenotype log-LR plus the genotype log-LR
        (monotone in `posterior`, without its underflow to 0 far down the list)."""
        key: np.ndarray = self.total / temperature
        return key if self.genotype_llr is None else key + self.genotype_llr


def _beta_binomial_prior(num: np.ndarray, den: np.ndarray) -> tuple[float, float]:
    """Maximum-likelihood beta prior (mean, strength) of frequencies observed as num/den."""
    pairs, counts = np.unique(np.stack([num, den], axis=1), axis=0, return_counts=True)
    n = pairs[:, 0].astype(np.float64)
    m = pairs[:, 1].astype(np.float64)
    w = counts.astype(np.float64)

    def nll(x: np.ndarray) -> float:
        mean = 1.0 / (1.0 + math.exp(-x[0]))
        strength = math.exp(x[1])
        a, b = mean * strength, (1.0 - mean) * strength
        return -float(np.sum(w * (betaln(n + a, m - n + b) - betaln(a, b))))

    result = minimize(nll, np.array([0.0, 0.0]), method="L-BFGS-B")
    return 1.0 / (1.0 + math.exp(-result.x[0])), math.exp(result.x[1])


class PhenotypeModel:
    """Arrays of the likelihood model over disease groups x terms; build with `from_kb`.

    - `closed` (CSC, groups x terms): C[g, t], probability that the disease shows t or a more
      specific finding: noisy-OR of the frequencies of its annotations at or below t.
    - `direct` (CSC) and `direct_csr`: the highest frequency the group's entries give each
      annotated term; `direct_rows` (aligned with `direct_csr.data`): the KB annotation row
      that gave it (for explanations).
    - `negated` (CSC): terms the disease is annotated not to show ("NOT" or 0/n).
    - `background[t]`: mean of C[:, t] over groups, smoothed toward the share of the ontology
      below t, so unannotated terms keep a small positive frequency.
    - `leaf` (CSR): annotations with no more specific annotation in the same group, used for
      the findings a disease shows that the patient has not recorded.
    - onset distributions, inheritance class, genes of each group.
    """

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        n_terms = kb.n_terms
        group = np.asarray(kb.disease_group, dtype=np.int64)
        self.n_groups = n_groups = int(group.max()) + 1 if len(group) else 0
        self.disease_group = group

        # --- frequencies: n/m smoothed by a beta prior fitted to the KB; unstated -> mean -----
        freq = np.asarray(kb.ann_freq, dtype=np.float64)
        num = np.asarray(kb.ann_num, dtype=np.int64)
        den = np.asarray(kb.ann_den, dtype=np.int64)
        negated = np.asarray(kb.ann_negated, dtype=bool) | (freq == 0.0)
        positive = ~negated
        counted = ~np.asarray(kb.ann_negated, dtype=bool) & (den > 0)  # every n/m, 0/m too
        if counted.sum() >= 10:
            prior_mean, prior_strength = _beta_binomial_prior(num[counted], den[counted])
        else:
            prior_mean, prior_strength = 0.5, 2.0
        posterior_mean = (num + prior_mean * prior_strength) / (den + prior_strength)
        smoothed = np.where(den > 0, posterior_mean, freq)
        stated = positive & ~np.isnan(freq)
        unstated = float(np.mean(smoothed[stated])) if stated.any() else 0.5
        smoothed = np.where(np.isnan(smoothed), unstated, smoothed)
        smoothed = np.clip(smoothed, 1e-6, _MAX_FREQUENCY)
        self.estimates = KbEstimates(
            frequency_prior_mean=round(prior_mean, 4),
            frequency_prior_strength=round(prior_strength, 4),
            unstated_frequency=round(unstated, 4),
        )
        self.annotation_frequency = smoothed

        # --- direct annotations per group (max frequency over the group's entries) ------------
        rows = np.flatnonzero(positive)
        g = group[kb.ann_disease[rows]]
        t = kb.ann_term[rows].astype(np.int64)
        f = smoothed[rows]
        key = g * n_terms + t
        order = np.lexsort((-f, key))
        first = np.ones(len(order), dtype=bool)
        first[1:] = key[order][1:] != key[order][:-1]
        pick = order[first]
        dg, dt, df = g[pick], t[pick], f[pick]
        shape = (n_groups, n_terms)
        self.direct_csr = sp.csr_matrix((df, (dg, dt)), shape=shape)
        self.direct_csr.sort_indices()
        # The annotation row behind each stored frequency, aligned with direct_csr.data.
        row_of = sp.csr_matrix((rows[pick].astype(np.float64) + 1.0, (dg, dt)), shape=shape)
        row_of.sort_indices()
        self.direct_rows = row_of.data.astype(np.int64) - 1
        self.direct = self.direct_csr.tocsc()
        self.direct.sort_indices()

        # --- closure: C = 1 - prod(1 - f) over annotations at or below each term --------------
        anc = kb.ancestor_matrix.astype(np.float64)
        log_miss = sp.csr_matrix((np.log1p(-df), (dg, dt)), shape=shape)
        closed = (log_miss @ anc).tocsr()
        closed.data = -np.expm1(closed.data)
        closed.eliminate_zeros()
        self.closed = closed.tocsc()
        self.closed.sort_indices()

        # --- background -----------------------------------------------------------------------
        n_desc = np.diff(kb.descendant_matrix.indptr).astype(np.float64)
        root = kb.term_index.get(PHENOTYPE_ROOT)
        self.phenotype_root = root
        share = n_desc / (n_desc[root] if root is not None else n_desc.max())
        total = np.asarray(closed.sum(axis=0)).ravel()
        self.background = (total + np.minimum(share, 1.0)) / (n_groups + 1.0)

        # --- NOT annotations ------------------------------------------------------------------
        nrows = np.flatnonzero(negated)
        self.negated = sp.csc_matrix(
            (np.ones(len(nrows)), (group[kb.ann_disease[nrows]], kb.ann_term[nrows])), shape=shape
        )
        self.negated.sum_duplicates()
        self.negated.data[:] = 1.0

        # --- leaf annotations (for the "absent" evidence) -------------------------------------
        indicator = self.direct_csr.copy()
        indicator.data = np.ones_like(indicator.data)
        below = (indicator @ anc).tocsr()  # per group: annotated terms at or below each term
        coo = self.direct_csr.tocoo()
        n_below = np.asarray(below[coo.row, coo.col]).ravel()
        leaf_mask = n_below == 1.0
        self.leaf = sp.csr_matrix(
            (coo.data[leaf_mask], (coo.row[leaf_mask], coo.col[leaf_mask])), shape=shape
        )
        self._absent_cache: dict[float, tuple[sp.csr_matrix, np.ndarray]] = {}
        self._identity: dict[int, tuple[str, tuple[str, ...], str, tuple[str, ...]]] = {}
        self._term_cache: dict[_TermKey, tuple[float, np.ndarray, np.ndarray]] = {}
        # Servers rank in several threads (requests, background jobs): evicting the oldest
        # entry iterates the dict, which another thread's insert would break.
        self._term_cache_lock = threading.Lock()

        # --- onset ----------------------------------------------------------------------------
        n_bins = len(ONSET_EDGES_YEARS) - 1
        onset_terms = {kb.term_index[k]: v for k, v in ONSET_CLASSES.items() if k in kb.term_index}
        pairs: set[tuple[int, int]] = set()
        for d, term in zip(kb.course_disease.tolist(), kb.course_term.tolist(), strict=True):
            if term in onset_terms:
                pairs.add((int(group[d]), term))
        has_onset = kb.ann_onset >= 0
        for d, term in zip(
            kb.ann_disease[has_onset].tolist(), kb.ann_onset[has_onset].tolist(), strict=True
        ):
            if term in onset_terms:
                pairs.add((int(group[d]), term))
        dist = np.zeros((n_groups, n_bins))
        count = np.zeros(n_groups)
        for gi, term in pairs:
            bins = onset_terms[term]
            dist[gi, list(bins)] += 1.0 / len(bins)
            count[gi] += 1
        known = count > 0
        dist[known] /= count[known, None]
        self.onset_known = known
        self.onset_distribution = dist
        uniform = np.full(n_bins, 1.0 / n_bins)
        self.onset_background = dist[known].mean(axis=0) if known.any() else uniform

        # --- inheritance class (for sex) ------------------------------------------------------
        modes: dict[int, set[str]] = {}
        for d, term in zip(
            kb.inheritance_disease.tolist(), kb.inheritance_term.tolist(), strict=True
        ):
            modes.setdefault(int(group[d]), set()).add(kb.term_ids[term])
        inh = np.zeros(n_groups, dtype=np.int8)
        for gi, ms in modes.items():
            if ms & _AUTOSOMAL:
                continue
            if _YL in ms:
                inh[gi] = 4
            elif _XLR in ms and _XLD not in ms:
                inh[gi] = 1
            elif _XLD in ms and _XLR not in ms:
                inh[gi] = 2
            elif ms & {_XL, _XLR, _XLD}:
                inh[gi] = 3
        self.inheritance_class = inh

        # --- genes ----------------------------------------------------------------------------
        gd = np.stack([kb.gene_disease_gene.astype(np.int64), group[kb.gene_disease_disease]], 1)
        gd = np.unique(gd, axis=0) if len(gd) else gd.reshape(0, 2)
        self.gene_of_pair = gd[:, 0]  # sorted by gene
        self.group_of_pair = gd[:, 1]
        self.gene_pair_start = np.searchsorted(self.gene_of_pair, np.arange(kb.n_genes + 1))

        # --- ontology helpers -----------------------------------------------------------------
        mask = np.zeros(n_terms, dtype=bool)
        if root is not None:
            mask[kb.descendants(root)] = True
        self.phenotype_mask = mask

    # ------------------------------------------------------------------------------------ build
    @classmethod
    def from_kb(cls, kb: KnowledgeBase) -> PhenotypeModel:
        """The model of `kb`, built on first use and cached for as long as `kb` lives."""
        return phenotype_model(kb)

    # --------------------------------------------------------------------------------- groups
    @cached_property
    def group_members(self) -> list[np.ndarray]:
        """Disease indices of each group, OMIM first, then ORPHA, then others; by id."""
        kb = self.kb
        order = sorted(range(kb.n_diseases), key=lambda d: _id_order(kb.disease_ids[d]))
        members: list[list[int]] = [[] for _ in range(self.n_groups)]
        for d in order:
            members[int(self.disease_group[d])].append(d)
        return [np.asarray(m, dtype=np.int64) for m in members]

    @cached_property
    def group_primary_ids(self) -> list[str]:
        """Primary disease id of each group (OMIM if any, else ORPHA, else another)."""
        kb = self.kb
        return [kb.disease_ids[int(m[0])] if len(m) else "" for m in self.group_members]

    def group_identity(self, group: int) -> tuple[str, tuple[str, ...], str, tuple[str, ...]]:
        """(primary id, all ids with the primary first, name, gene symbols) of a group; the
        primary is its OMIM entry if any, else ORPHA, else the first other. Cached."""
        found = self._identity.get(group)
        if found is None:
            kb = self.kb
            members = self.group_members[group]
            primary = int(members[0])
            disease_id = kb.disease_ids[primary]
            found = (
                disease_id,
                (disease_id, *kb.equivalent_ids(primary)),
                kb.disease_names[primary],
                tuple(kb.gene_symbols[x] for x in self.group_genes[group]),
            )
            self._identity[group] = found
        return found

    @cached_property
    def group_genes(self) -> list[tuple[int, ...]]:
        """Gene indices of each group (sorted by symbol)."""
        genes: list[list[int]] = [[] for _ in range(self.n_groups)]
        for gene, grp in zip(self.gene_of_pair.tolist(), self.group_of_pair.tolist(), strict=True):
            genes[grp].append(gene)
        symbols = self.kb.gene_symbols
        return [tuple(sorted(gs, key=lambda x: symbols[x])) for gs in genes]

    @cached_property
    def closed_csr(self) -> sp.csr_matrix:
        """`closed` in CSR form (rows: groups), for per-candidate look-ups."""
        m = self.closed.tocsr()
        m.sort_indices()
        return m

    @cached_property
    def negated_csr(self) -> sp.csr_matrix:
        """`negated` in CSR form (rows: groups, terms sorted), for per-candidate look-ups."""
        m = self.negated.tocsr()
        m.sort_indices()
        return m

    @cached_property
    def uninformative_terms(self) -> frozenset[int]:
        """The ontology root, Phenotypic abnormality, its ancestors and its direct children
        (organ systems): sharing only these says nothing about a finding."""
        root = self.phenotype_root
        if root is None:
            return frozenset()
        kb = self.kb
        children = np.flatnonzero(kb.ancestor_matrix[:, root].toarray().ravel())
        direct = [int(c) for c in children if root in kb.parents(int(c)).tolist()]
        return frozenset([*kb.ancestors(root).tolist(), *direct])

    @cached_property
    def informative_ic(self) -> np.ndarray:
        """Each term's information content, -1 for the uninformative ones (n_terms)."""
        ic = np.array(self.kb.term_ic, dtype=np.float64)
        ic[list(self.uninformative_terms)] = -1.0
        return ic

    def ancestor_rows(self, terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(concatenated ancestors of `terms`, start offset of each term's run)."""
        kb = self.kb
        starts = kb.ancestor_indptr[terms]
        counts = kb.ancestor_indptr[terms + 1] - starts
        offsets = (np.cumsum(counts) - counts).astype(np.int64)
        return kb.ancestor_indices[concat_ranges(starts, counts)], offsets

    # ------------------------------------------------------------------------------- columns
    def _gather(
        self, matrix: sp.csc_matrix, owners: np.ndarray, columns: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(owner, row, value) of every stored entry of `columns`, tagged with `owners`."""
        starts = matrix.indptr[columns]
        counts = matrix.indptr[columns + 1] - starts
        total = int(counts.sum())
        if total == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0)
        flat = concat_ranges(starts, counts)
        return np.repeat(owners, counts), matrix.indices[flat], matrix.data[flat]

    def term_support(
        self, terms: Sequence[int], params: RankParameters
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(term position, group, P_model, C) where either is non-zero; elsewhere both are 0.

        C[g, q]: probability that g shows q or a more specific finding. P_model =
        max(C[g, q], narrower_weight * max_a f_a * bg(q) / bg(a)) over g's annotations a that
        are proper ancestors of q; a NOT annotation of q or an ancestor of q, with no positive
        annotation at or below q, sets it to 0.
        """
        n, n_groups = len(terms), self.n_groups
        query = np.asarray(terms, dtype=np.int64)
        # Entries are keyed term position * n_groups + group; the closure's keys come sorted
        # and its values are all > 0, so a NOT annotation can only block a narrower match.
        owner, rows, exact = self._gather(self.closed, np.arange(n), query)
        keys = owner * n_groups + rows
        model = exact.copy()
        if params.narrower_weight > 0:
            ancestors, offsets = self.ancestor_rows(query)
            counts = np.diff(np.append(offsets, len(ancestors)))
            pos = np.repeat(np.arange(n), counts)
            proper = ancestors != query[pos]
            a, i = ancestors[proper], pos[proper]
            owner, rows, vals = self._gather(self.direct, np.arange(len(a)), a)
            if len(owner):
                bg = self.background
                narrow_keys = i[owner] * n_groups + rows
                narrow = vals * (params.narrower_weight * bg[query[i]] / bg[a])[owner]
                narrow_keys, narrow = _max_per_key(narrow_keys, narrow)
                at = np.searchsorted(keys, narrow_keys)
                hit = at < len(keys)
                hit[hit] = keys[at[hit]] == narrow_keys[hit]
                model[at[hit]] = np.maximum(model[at[hit]], narrow[hit])
                new_keys, new = narrow_keys[~hit], narrow[~hit]
                owner, rows, _ = self._gather(self.negated, pos, ancestors)
                if len(owner) and len(new_keys):
                    blocked = np.sort(owner * n_groups + rows)
                    at = np.minimum(np.searchsorted(blocked, new_keys), len(blocked) - 1)
                    free = blocked[at] != new_keys
                    new_keys, new = new_keys[free], new[free]
                keys = np.concatenate([keys, new_keys])
                model = np.concatenate([model, new])
                exact = np.concatenate([exact, np.zeros(len(new))])
        term_pos, group = np.divmod(keys, n_groups)
        return term_pos, group, model, exact

    # ---------------------------------------------------------------------------------- score
    def prune(self, query: PatientQuery) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The terms that carry evidence: phenotypic abnormalities only, dropping observed terms
        implied by a more specific observed term and excluded terms implied by a broader
        excluded one (contradictions are the caller's to reject; any left are ignored)."""
        kb = self.kb
        mask = self.phenotype_mask
        observed = [q for q in dict.fromkeys(query.observed) if mask[q]]
        excluded = [x for x in dict.fromkeys(query.excluded) if mask[x]]
        implied: set[int] = set()
        for q in observed:
            above = set(kb.ancestors(q).tolist())
            above.discard(q)
            implied |= above
        kept_obs = tuple(q for q in observed if q not in implied)
        implied_obs = implied | set(kept_obs)
        excl = [x for x in excluded if x not in implied_obs]
        excl_set = set(excl)
        kept_exc = tuple(
            x for x in excl if not excl_set.intersection(kb.ancestors(x).tolist()) - {x}
        )
        return kept_obs, kept_exc

    def _absent_matrix(self, rate: float) -> tuple[sp.csr_matrix, np.ndarray]:
        cached = self._absent_cache.get(rate)
        if cached is None:
            matrix = self.leaf.copy()
            matrix.data = np.log1p(-rate * matrix.data)
            cached = (matrix, np.asarray(matrix.sum(axis=1)).ravel())
            self._absent_cache[rate] = cached
        return cached

    def covered_terms(self, observed: Sequence[int], excluded: Sequence[int]) -> np.ndarray:
        """Indicator of terms a recorded finding accounts for: ancestors and descendants of
        observed terms, descendants of excluded terms (n_terms, 0.0 or 1.0; a fresh array)."""
        covered = np.zeros(self.kb.n_terms)
        covered[self._covered_lines(tuple(observed), tuple(excluded))] = 1.0
        return covered

    @cached_property
    def _covered_lines(self) -> Callable[[tuple[int, ...], tuple[int, ...]], np.ndarray]:
        """The terms `covered_terms` marks, with repeats, for (observed, excluded). Kept for
        the last few patients (a thread-safe LRU): one diagnosis asks for the same patient's
        three times (scoring, explaining, suggesting findings)."""

        @lru_cache(maxsize=_COVERED_CACHE_SIZE)
        def lines(observed: tuple[int, ...], excluded: tuple[int, ...]) -> np.ndarray:
            kb = self.kb
            parts = []
            if observed:
                obs = np.asarray(observed, dtype=np.int64)
                starts = kb.ancestor_indptr[obs]
                counts = kb.ancestor_indptr[obs + 1] - starts
                parts.append(kb.ancestor_indices[concat_ranges(starts, counts)])
            if observed or excluded:
                recorded = np.asarray((*observed, *excluded), dtype=np.int64)
                below = kb.descendant_matrix
                starts = below.indptr[recorded]
                counts = below.indptr[recorded + 1] - starts
                parts.append(below.indices[concat_ranges(starts, counts)])
            found = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
            found.flags.writeable = False  # shared by every caller
            return found

        return lines

    def clear_cache(self) -> None:
        """Forget the per-term evidence computed so far (for timing cold scoring)."""
        with self._term_cache_lock:
            self._term_cache.clear()

    def _cached_evidence(
        self, kind: str, terms: Sequence[int], params: RankParameters
    ) -> TermEvidence:
        """Per-term evidence, each term's computed once per parameter set and kept (a bounded
        cache): batches of related cases, and re-ranking after a finding is added, reuse it."""
        if not terms:
            return TermEvidence.empty()
        cache = self._term_cache
        # This case's entries are taken into `local` first: filling the bounded cache below may
        # evict entries the case still needs.
        local = {}
        missing = []
        for t in dict.fromkeys(terms):
            hit = cache.get((kind, t, params))
            if hit is None:
                missing.append(t)
            else:
                local[t] = hit
        if missing:
            compute = self._observed_evidence if kind == "observed" else self._excluded_evidence
            fresh = compute(missing, params)
            order = np.argsort(fresh.entry_term, kind="stable")
            bounds = np.searchsorted(fresh.entry_term[order], np.arange(len(missing) + 1))
            for i, t in enumerate(missing):
                sel = order[bounds[i] : bounds[i + 1]]
                local[t] = (
                    float(fresh.baseline[i]),
                    fresh.entry_group[sel].astype(np.int32),
                    fresh.entry_delta[sel],
                )
                with self._term_cache_lock:
                    if len(cache) >= _TERM_CACHE_SIZE:
                        cache.pop(next(iter(cache)), None)  # oldest first
                    cache[(kind, t, params)] = local[t]
        parts = [local[t] for t in terms]
        sizes = [len(p[1]) for p in parts]
        return TermEvidence(
            np.array([p[0] for p in parts]),
            np.repeat(np.arange(len(parts)), sizes),
            np.concatenate([p[1] for p in parts]).astype(np.int64),
            np.concatenate([p[2] for p in parts]),
        )

    def _observed_evidence(self, terms: Sequence[int], params: RankParameters) -> TermEvidence:
        """log P(q | g) / mean over groups, P = (1 - noise) * P_model + noise * bg(q)."""
        if not terms:
            return TermEvidence.empty()
        n_groups, eps = self.n_groups, params.noise
        term_pos, group, model, _ = self.term_support(terms, params)
        base = eps * self.background[list(terms)]
        value = (1.0 - eps) * model + base[term_pos]
        mean = _row_mean(value, term_pos, base, len(terms), n_groups)
        delta = np.log(value) - np.log(base[term_pos])
        return TermEvidence(np.log(base) - np.log(mean), term_pos, group, delta)

    def region_support(self, terms: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """(sorted keys term position * n_groups + group, R) where R > 0: R[g, x] = max over
        the parents p of x of C[g, p], the probability that g shows a finding in x's region."""
        kb, n_groups = self.kb, self.n_groups
        query = np.asarray(terms, dtype=np.int64)
        starts = kb.parent_indptr[query]
        counts = kb.parent_indptr[query + 1] - starts
        owners = np.repeat(np.arange(len(query)), counts)
        parents = kb.parent_indices[concat_ranges(starts, counts)].astype(np.int64)
        owner, rows, vals = self._gather(self.closed, owners, parents)
        return _max_per_key(owner * n_groups + rows, vals)

    def _excluded_evidence(self, terms: Sequence[int], params: RankParameters) -> TermEvidence:
        """excluded_weight * log of P(x examined and absent | g), relative to the mean:
        (1 - P(x | g)) * ((1 - examined_floor) * s + examined_floor * mean(s)) / mean(s),
        s = min(1, R[g, x] / examined_scale) the disease's involvement of x's region."""
        if not terms:
            return TermEvidence.empty()
        n, n_groups, eps = len(terms), self.n_groups, params.noise
        term_pos, group, model, _ = self.term_support(terms, params)
        own_keys = term_pos * n_groups + group
        region_keys, region = self.region_support(terms)
        at = np.searchsorted(region_keys, own_keys)
        hit = at < len(region_keys)
        hit[hit] = region_keys[at[hit]] == own_keys[hit]
        keys = np.concatenate([region_keys, own_keys[~hit]])
        spectrum = np.zeros(len(keys))
        spectrum[: len(region_keys)] = np.minimum(1.0, region / params.examined_scale)
        present_model = np.zeros(len(keys))
        present_model[at[hit]] = model[hit]
        present_model[len(region_keys) :] = model[~hit]
        term_pos, group = np.divmod(keys, n_groups)
        bg = eps * self.background[list(terms)]
        present = (1.0 - eps) * present_model + bg[term_pos]
        mean_spectrum = np.bincount(term_pos, weights=spectrum, minlength=n) / n_groups + 1e-12
        eta = params.examined_floor
        ms = mean_spectrum[term_pos]
        value = np.maximum(1.0 - present, 1e-12) * ((1.0 - eta) * spectrum + eta * ms) / ms
        base = (1.0 - bg) * eta  # groups with nothing in the region: (1 - noise * bg) * eta
        mean = _row_mean(value, term_pos, base, n, n_groups)
        w = params.excluded_weight
        delta = w * (np.log(value) - np.log(base[term_pos]))
        return TermEvidence(w * (np.log(base) - np.log(mean)), term_pos, group, delta)

    def score(self, query: PatientQuery, params: RankParameters) -> CaseScores:
        """Log likelihood ratios of every group for `query`, and the posterior."""
        observed, excluded = self.prune(query)
        n_groups = self.n_groups
        obs = self._cached_evidence("observed", observed, params)
        exc = self._cached_evidence("excluded", excluded, params)
        absent_llr = np.zeros(n_groups)
        if params.absent_rate > 0:
            matrix, totals = self._absent_matrix(params.absent_rate)
            raw = totals - matrix @ self.covered_terms(observed, excluded)
            absent_llr = raw - _log_mean_exp(raw)
        onset_llr = self._onset_llr(query, params)
        sex_llr = self._sex_llr(query, params)
        total = obs.total(n_groups) + exc.total(n_groups) + absent_llr + onset_llr + sex_llr
        z = total / params.temperature
        z = np.exp(z - z.max())
        posterior = z / z.sum()
        return CaseScores(
            observed=observed,
            excluded=excluded,
            observed_llr=obs,
            excluded_llr=exc,
            absent_llr=absent_llr,
            onset_llr=onset_llr,
            sex_llr=sex_llr,
            total=total,
            posterior=posterior,
        )

    def _onset_llr(self, query: PatientQuery, params: RankParameters) -> np.ndarray:
        bins = onset_bins(query.onset_years, query.onset_term, query.age_years)
        if not bins:
            return np.zeros(self.n_groups)
        idx = list(bins)
        reference = float(self.onset_background[idx].sum())
        lam = params.onset_smoothing
        prob = (1.0 - lam) * self.onset_distribution[:, idx].sum(axis=1) + lam * reference
        prob = np.where(self.onset_known, prob, reference)
        return np.log(prob) - math.log(reference)

    def _sex_llr(self, query: PatientQuery, params: RankParameters) -> np.ndarray:
        if query.sex is None:
            return np.zeros(self.n_groups)
        female = np.asarray(params.female_fraction)[self.inheritance_class]
        prob = female if query.sex == "female" else 1.0 - female
        base = params.female_fraction[0]
        reference = base if query.sex == "female" else 1.0 - base
        return np.log(prob) - math.log(reference)

    def gene_groups(self, gene: int) -> np.ndarray:
        """Groups linked to `gene`."""
        groups: np.ndarray = self.group_of_pair[
            self.gene_pair_start[gene] : self.gene_pair_start[gene + 1]
        ]
        return groups

    def gene_scores(
        self,
        posterior: np.ndarray,
        pair_llr: np.ndarray | None = None,
        genotype_llr: np.ndarray | None = None,
    ) -> np.ndarray:
        """Posterior mass of the diseases each gene is linked to (over all KB genes); with a
        VCF (`CaseScores.pair_llr`, `.genotype_llr`) each disease's mass goes to its genes in
        proportion to their genotype ratios (the average ratio weighs 1)."""
        weight = posterior[self.group_of_pair]
        if pair_llr is not None and genotype_llr is not None:
            weight = weight * np.exp(pair_llr - genotype_llr[self.group_of_pair])
        return np.bincount(self.gene_of_pair, weights=weight, minlength=self.kb.n_genes)

    def with_genotype(
        self, scores: CaseScores, pair_llr: np.ndarray, params: RankParameters
    ) -> CaseScores:
        """`scores` with a VCF's genotype log-LR per gene-group pair (aligned with
        `gene_of_pair`): each group gets the mean ratio of its genes (1 for a group with no
        known gene), and the posterior is recomputed."""
        n = self.n_groups
        top = np.full(n, -np.inf)
        np.maximum.at(top, self.group_of_pair, pair_llr)
        has = np.isfinite(top)
        shifted = np.exp(pair_llr - top[self.group_of_pair])
        sums = np.bincount(self.group_of_pair, weights=shifted, minlength=n)
        counts = np.bincount(self.group_of_pair, minlength=n)
        group_llr = np.zeros(n)
        group_llr[has] = top[has] + np.log(sums[has] / counts[has])
        z = scores.total / params.temperature + group_llr
        z = np.exp(z - z.max())
        return replace(scores, genotype_llr=group_llr, pair_llr=pair_llr, posterior=z / z.sum())


def concat_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The ranges starts[i] .. starts[i] + counts[i] - 1, concatenated (int64)."""
    ends = np.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    return np.repeat(starts - (ends - counts), counts) + np.arange(total)


def _max_per_key(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct keys and the largest value given to each."""
    if len(keys) < 2 or bool(np.all(keys[1:] > keys[:-1])):
        return keys, values  # already sorted and distinct (one run, the common case)
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    return keys[starts], np.maximum.reduceat(values, starts)


def _row_mean(
    values: np.ndarray, rows: np.ndarray, base: np.ndarray, n_rows: int, n_groups: int
) -> np.ndarray:
    """Mean over all groups of each row: `values` where given, `base[row]` elsewhere."""
    sums = np.bincount(rows, weights=values, minlength=n_rows)
    counts = np.bincount(rows, minlength=n_rows)
    result: np.ndarray = (sums + (n_groups - counts) * base) / n_groups
    return result


def _log_mean_exp(values: np.ndarray) -> float:
    top = float(values.max())
    return top + math.log(float(np.mean(np.exp(values - top))))


def _id_order(disease_id: str) -> tuple[int, str]:
    prefix = disease_id.split(":", 1)[0]
    return ({"OMIM": 0, "ORPHA": 1}.get(prefix, 2), disease_id)


@per_kb
def phenotype_model(kb: KnowledgeBase) -> PhenotypeModel:
    """The `PhenotypeModel` of `kb`, built once (about a second) and kept while `kb` lives."""
    return PhenotypeModel(kb)
