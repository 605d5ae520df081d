"""Turn the model's arrays into the result: candidates with evidence, genes, what to check next.

Only the top candidates are explained, so the per-candidate Python here stays off the path
that scores every disease.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import cast

import numpy as np
import scipy.sparse as sp

from raredx.rank.model import CaseScores, PhenotypeModel, concat_ranges
from raredx.rank.parameters import RankParameters
from raredx.rank.result import (
    CandidateDisease,
    CandidateGene,
    Evidence,
    GenotypeSupport,
    MatchKind,
    SuggestedFinding,
)
from raredx.treat.model import Treatment

__all__ = [
    "candidate_genes",
    "do_not_miss",
    "explain_candidates",
    "explain_groups",
    "suggest_findings",
]

_LOG10 = math.log(10.0)
_ABSENT_SHOWN = 3  # unrecorded annotations listed per candidate
_NEXT_POOL = 10  # top candidates "what to check next" separates
_SUPPORT_SHOWN = 3  # candidates listed per answer

_KINDS = tuple(MatchKind)
_EXACT, _BROADER, _NARROWER, _RELATED, _UNRELATED, _NEGATED, _EXCLUDED = (
    _KINDS.index(kind)
    for kind in (
        MatchKind.EXACT,
        MatchKind.BROADER,
        MatchKind.NARROWER,
        MatchKind.RELATED,
        MatchKind.UNRELATED,
        MatchKind.NEGATED,
        MatchKind.EXCLUDED,
    )
)


def _r(value: float, digits: int = 3) -> float:
    return round(float(value), digits)


def _round3(values: np.ndarray) -> list[float]:
    """`round(x, 3)` of each value, bit for bit, without a Python call per value.

    Python rounds the exact binary value to the nearest multiple of 0.001, k / 1000 (ties to
    even), and returns the double nearest k / 1000: what `k / 1000.0` gives. k is
    `rint(1000 * x)` unless 1000 * x (the product is exact to one part in 2**53) lies within
    1e-9 (relative, above 1) of a half-integer: those few, and values that are not finite
    or above 5e5 (whose margin can never be that wide), go through `round`.
    """
    scaled = values * 1000.0
    k = np.rint(scaled)
    magnitude = np.abs(scaled)
    if math.isfinite(magnitude.max(initial=0.0)):  # no inf - inf (errstate costs a few us)
        margin = np.abs(np.abs(scaled - k) - 0.5)  # from the nearest half-integer
        sure = margin > 1e-9 * np.maximum(1.0, magnitude)
    else:
        with np.errstate(invalid="ignore"):  # inf - inf: NaN, which is never sure
            margin = np.abs(np.abs(scaled - k) - 0.5)
            sure = margin > 1e-9 * np.maximum(1.0, magnitude)
    out: list[float] = (k / 1000.0).tolist()
    if not sure.all():
        for i in np.flatnonzero(~sure).tolist():
            out[i] = round(float(values[i]), 3)
    return out


_NONE = np.iinfo(np.int64).max  # "no column yet" while taking the smallest column


def _run_heads(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first position, length) of each run of equal values in `ordered` (sorted)."""
    n = len(ordered)
    head = np.ones(n, dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=head[1:])
    starts = np.flatnonzero(head)
    counts = np.empty_like(starts)
    np.subtract(starts[1:], starts[:-1], out=counts[:-1])
    counts[-1:] = n - starts[-1:]
    return starts, counts


def _ancestors(model: PhenotypeModel, terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the ancestors of each of `terms`, itself included, concatenated in term order; the
    position in `terms` each came from)."""
    kb = model.kb
    starts = kb.ancestor_indptr[terms]
    counts = kb.ancestor_indptr[terms + 1] - starts
    up = kb.ancestor_indices[concat_ranges(starts, counts)]
    return up, np.repeat(np.arange(len(terms)), counts)


def _find(keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Position of each of `queries` in the sorted distinct `keys` (-1: absent)."""
    at = np.searchsorted(keys, queries)
    found = at < len(keys)
    found[found] = keys[at[found]] == queries[found]
    return np.where(found, at, -1)


def _first_max(
    cells: np.ndarray, values: np.ndarray, columns: np.ndarray, n_cells: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per cell, the largest of the `values` given to it, and the smallest of the `columns`
    reaching it: what `np.argmax` over the columns in order picks (n_cells each; -inf and -1
    for cells given nothing)."""
    best = np.full(n_cells, -np.inf)
    np.maximum.at(best, cells, values)
    top = values == best[cells]
    first = np.full(n_cells, _NONE)
    np.minimum.at(first, cells[top], columns[top])
    return best, np.where(first == _NONE, -1, first)


def _first(cells: np.ndarray, columns: np.ndarray, n_cells: int) -> np.ndarray:
    """Per cell, the smallest of the `columns` given to it (n_cells; -1: none)."""
    first = np.full(n_cells, _NONE)
    np.minimum.at(first, cells, columns)
    return np.where(first == _NONE, -1, first)


class _Patient:
    """The distinct patient terms (observed or excluded), sorted, and lookups over the
    ontology: which of them a term is, and which of them a term is an ancestor of.

    `given_rows` maps each given term (in the order given) to its distinct term.
    """

    def __init__(self, model: PhenotypeModel, terms: Sequence[int]) -> None:
        n_terms = model.kb.n_terms
        # A patient has tens of terms at most: plain Python sorts them faster than numpy.
        distinct = sorted(set(terms))
        position = {t: i for i, t in enumerate(distinct)}
        self.terms = np.array(distinct, dtype=np.int64)
        self.given_rows = np.array([position[t] for t in terms], dtype=np.int64)
        # Tables over the whole ontology: filling them costs less than binary searches for
        # the thousands of terms looked up per answer.
        self._index = np.full(n_terms, -1)  # ontology term -> its distinct patient term, or -1
        self._index[self.terms] = np.arange(len(distinct))
        # The patient terms below each ontology term, as runs of `_below_term` (sorted by
        # ancestor, the concatenated ancestor lists, each term itself included).
        up, owner = _ancestors(model, self.terms)
        order = np.argsort(up, kind="stable")
        up, self._below_term = up[order], owner[order]
        heads, counts = _run_heads(up)
        self._run_start = np.zeros(n_terms, dtype=np.int64)
        self._run_count = np.zeros(n_terms, dtype=np.int64)
        self._run_start[up[heads]] = heads
        self._run_count[up[heads]] = counts

    def index(self, terms: np.ndarray) -> np.ndarray:
        """Position of each of `terms` among the distinct patient terms (-1: not one)."""
        found: np.ndarray = self._index[terms]
        return found

    def below(self, terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (i, u): `terms[i]` is the distinct patient term u or one of its ancestors."""
        counts = self._run_count[terms]
        i = np.repeat(np.arange(len(terms)), counts)
        return i, self._below_term[concat_ranges(self._run_start[terms], counts)]


class _Candidates:
    """The candidate groups' direct annotations and NOT annotations, each concatenated over
    the candidates in order, so that all candidates are matched against all of the patient's
    terms at once, as sparse pairs rather than one small matrix per candidate.

    Annotation columns: `terms` (sorted within each candidate), `freqs`, `kb_rows` (the KB
    annotation row behind each), `owner` (its candidate); NOT columns: `negated`, `not_owner`.
    Similar candidates share many terms, so the ontology is searched once per `distinct`
    term. Matches are per cell (distinct patient term u, candidate c), at u * n + c, as
    arrays of n_cells = patient terms x candidates: `kinds` (indices into `_KINDS`), the
    matched annotation column and the blocking NOT column (-1: none).
    """

    def __init__(self, model: PhenotypeModel, groups: np.ndarray) -> None:
        self.model = model
        self.groups = groups
        self.n = len(groups)
        direct, negated = model.direct_csr, model.negated_csr
        at, counts = self._runs(direct.indptr, groups)
        self.terms = direct.indices[at]
        self.freqs = direct.data[at]
        self.kb_rows = model.direct_rows[at]
        self.owner = np.repeat(np.arange(self.n), counts)
        self.keys = self.owner * model.kb.n_terms + self.terms  # sorted: finds a candidate's term
        at, counts = self._runs(negated.indptr, groups)
        self.negated = negated.indices[at]
        self.not_owner = np.repeat(np.arange(self.n), counts)
        # The columns of each distinct term, as runs of `_by_term` (each in column order).
        self._by_term = np.argsort(self.terms, kind="stable")
        by_term = self.terms[self._by_term]
        self._term_start, self._term_count = _run_heads(by_term)
        self.distinct = by_term[self._term_start]
        # Every distinct term's ancestors (itself included), in term order: "at or below a
        # patient term" is the patient term being one of them.
        self.up, self.up_term = _ancestors(model, self.distinct)

    @staticmethod
    def _runs(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions of the entries of CSR `rows`, concatenated; entries per row)."""
        counts = indptr[rows + 1] - indptr[rows]
        return concat_ranges(indptr[rows], counts), counts

    def _columns(self, distinct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (i, column): the columns annotating the distinct term `distinct[i]`, for
        each i in order and each i's columns in order."""
        counts = self._term_count[distinct]
        i = np.repeat(np.arange(len(distinct)), counts)
        return i, self._by_term[concat_ranges(self._term_start[distinct], counts)]

    def _covering(self, patient: _Patient) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per cell: whether an annotation is at or below the term; the product of
        (1 - frequency) over those; the column of the term itself; that of the most frequent
        of those, the first on ties (-1: none)."""
        n_cells = len(patient.terms) * self.n
        u = patient.index(self.up)
        hit = np.flatnonzero(u >= 0)
        itself = self.up[hit] == self.distinct[self.up_term[hit]]
        i, column = self._columns(self.up_term[hit])
        cells = u[hit][i] * self.n + self.owner[column]
        itself = itself[i]
        any_below = np.zeros(n_cells, dtype=bool)
        any_below[cells] = True
        # multiply.at multiplies in the order given: the pairs come by distinct term, so each
        # cell's columns come in order, and the product has the bits of np.prod over the row
        # of (1 - f where below, else 1), as x * 1.0 is exact.
        miss = np.ones(n_cells)
        freqs = self.freqs[column]
        np.multiply.at(miss, cells, 1.0 - freqs)
        own = np.full(n_cells, -1)
        own[cells[itself]] = column[itself]
        _, most_frequent = _first_max(cells, freqs, column, n_cells)
        return any_below, miss, own, most_frequent

    def _blockers(self, patient: _Patient) -> np.ndarray:
        """Per cell, the first NOT column at or above the patient term (-1: none)."""
        column, u = patient.below(self.negated)
        return _first(u * self.n + self.not_owner[column], column, len(patient.terms) * self.n)

    def observed(
        self,
        patient: _Patient,
        params: RankParameters,
        covering: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        blocker: np.ndarray,
        wanted: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(kinds, annotation, blocker) per cell: the closest way each candidate's annotations
        account for each observed term, from `_covering` and `_blockers`. Exact only for the
        `wanted` cells (those of observed terms): the costliest rule is worked out for those
        alone."""
        n_cells = len(patient.terms) * self.n
        any_below, miss, own, best_below = covering
        exact = np.where(any_below, 1.0 - miss, 0.0)
        has_narrow = np.zeros(n_cells, dtype=bool)
        narrow = np.zeros(n_cells)
        narrow_column = np.full(n_cells, -1)
        if params.narrower_weight > 0:
            distinct, u = patient.below(self.distinct)
            strict = self.distinct[distinct] != patient.terms[u]  # above, not at, the term
            i, column = self._columns(distinct[strict])
            u = u[strict][i]
            cells = u * self.n + self.owner[column]
            bg = self.model.background
            ratio = params.narrower_weight * bg[patient.terms[u]] / bg[self.terms[column]]
            narrow, narrow_column = _first_max(cells, self.freqs[column] * ratio, column, n_cells)
            has_narrow[cells] = True
            narrow = np.where(has_narrow, narrow, 0.0)
        # The first rule that applies decides each term's kind, as a clinician reads them.
        negated = (exact == 0.0) & (blocker >= 0)
        covered = ~negated & (exact > 0.0) & (exact >= narrow)
        narrower = ~negated & ~covered & has_narrow
        rest = ~(negated | covered | narrower) & wanted
        kinds = np.full(n_cells, _UNRELATED)
        column = np.full(n_cells, -1)
        kinds[covered] = np.where(own[covered] >= 0, _EXACT, _BROADER)
        column[covered] = np.where(own >= 0, own, best_below)[covered]
        kinds[narrower], column[narrower] = _NARROWER, narrow_column[narrower]
        kinds[negated] = _NEGATED
        if rest.any() and len(self.distinct):
            related = self._related(patient, rest)
            found = related >= 0
            kinds[found], column[found] = _RELATED, related[found]
        return kinds, column, np.where(negated, blocker, -1)

    def _related(self, patient: _Patient, rest: np.ndarray) -> np.ndarray:
        """Per cell marked in `rest`: the first annotation column sharing the most informative
        ancestor with the patient term (the greatest IC, if > 0; -1: none)."""
        ic = self.model.informative_ic
        n_distinct = len(self.distinct)
        # Only informative shared ancestors (IC > 0) can make a match "related"; the others
        # never reach a cell's best, so leaving them out changes no cell's pick.
        informative = np.flatnonzero(ic[self.up] > 0)
        shared, u = patient.below(self.up[informative])
        shared = informative[shared]
        # The best shared IC of each (patient term, distinct term), then of each cell.
        best = np.full(len(patient.terms) * n_distinct, -np.inf)
        np.maximum.at(best, u * n_distinct + self.up_term[shared], ic[self.up[shared]])
        pairs = np.flatnonzero(best > -np.inf)
        i, column = self._columns(pairs % n_distinct)
        cells = pairs[i] // n_distinct * self.n + self.owner[column]
        keep = rest[cells]
        _, first = _first_max(cells[keep], best[pairs[i[keep]]], column[keep], len(rest))
        return first

    @staticmethod
    def excluded(
        covering: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], blocker: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(kinds, annotation, blocker) per cell, from `_covering` and `_blockers`: the
        candidate's annotation of the excluded term, else its most frequent one below it,
        else the NOT annotation that agrees."""
        _, _, own, best_below = covering
        column = np.where(own >= 0, own, best_below)
        blocker = np.where(column < 0, blocker, -1)
        kinds = np.where(blocker >= 0, _NEGATED, _EXCLUDED)
        return kinds, column, blocker

    def evidence(
        self,
        patient: _Patient,
        n_observed: int,
        observed: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
        excluded: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
        llr: np.ndarray,
    ) -> list[list[Evidence]]:
        """Evidence rows of each candidate, one per given patient term (in the order given:
        the `n_observed` observed terms, then the excluded ones), from the per-cell matches
        `observed` and `excluded` (None when there are no such terms) and the given terms x
        candidates log-LRs `llr`."""
        kb = self.model.kb
        ids, labels, disease_ids = kb.term_ids, kb.term_labels, kb.disease_ids
        n = len(patient.given_rows)
        # Candidate by candidate, each in the order given: the order rows are listed in.
        cells = (patient.given_rows[None, :] * self.n + np.arange(self.n)[:, None]).ravel()
        if observed is not None and excluded is not None:
            by_observed = np.tile(np.arange(n) < n_observed, self.n)
            kinds, column, blocker = (
                np.where(by_observed, o[cells], e[cells])
                for o, e in zip(observed, excluded, strict=True)
            )
        else:
            matches = observed if observed is not None else excluded
            if matches is None:
                raise ValueError("no matches to list")
            kinds, column, blocker = (m[cells] for m in matches)
        q = np.tile(patient.terms[patient.given_rows], self.n)
        llr = np.ravel(llr.T)
        lr10 = _round3(llr / _LOG10)
        rows: list[Evidence | None] = [None] * len(cells)
        # Rows matching an annotation: the patient term, the annotation and its source.
        at = np.flatnonzero(column >= 0)
        ann_rows = self.kb_rows[column[at]]
        for i, qi, kind, t, f, src in zip(
            at.tolist(),
            q[at].tolist(),
            kinds[at].tolist(),
            self.terms[column[at]].tolist(),
            _round3(self.model.annotation_frequency[ann_rows]),
            kb.ann_disease[ann_rows].tolist(),
            strict=True,
        ):
            rows[i] = Evidence(
                ids[qi], labels[qi], _KINDS[kind], lr10[i], ids[t], labels[t], f, disease_ids[src]
            )
        # Rows blocked by a NOT annotation: the patient term and that annotation's term.
        at = np.flatnonzero(blocker >= 0)
        for i, qi, kind, t in zip(
            at.tolist(),
            q[at].tolist(),
            kinds[at].tolist(),
            self.negated[blocker[at]].tolist(),
            strict=True,
        ):
            rows[i] = Evidence(ids[qi], labels[qi], _KINDS[kind], lr10[i], ids[t], labels[t])
        # The other rows recur across candidates (same term, kind and log-LR): each is made
        # once and shared, as rows are immutable. Keyed by the log-LR's bits, so that -0.0 and
        # 0.0 stay apart.
        at = np.flatnonzero((column < 0) & (blocker < 0))
        plain: dict[tuple[int, int, int], Evidence] = {}
        for i, qi, kind, bits in zip(
            at.tolist(),
            q[at].tolist(),
            kinds[at].tolist(),
            llr[at].view(np.int64).tolist(),
            strict=True,
        ):
            row = plain.get((qi, kind, bits))
            if row is None:
                row = plain[qi, kind, bits] = Evidence(ids[qi], labels[qi], _KINDS[kind], lr10[i])
            rows[i] = row
        done = cast("list[Evidence]", rows)  # every row is set by now
        return [done[j * n : (j + 1) * n] for j in range(self.n)]

    def absent(self, covered: np.ndarray, params: RankParameters) -> list[list[Evidence]]:
        """Per candidate, its `_ABSENT_SHOWN` most frequent leaf annotations that no recorded
        finding accounts for (`covered`), the first stored first on ties."""
        out: list[list[Evidence]] = [[] for _ in range(self.n)]
        if params.absent_rate <= 0:
            return out
        model = self.model
        kb, leaf = model.kb, model.leaf
        at, counts = self._runs(leaf.indptr, self.groups)
        terms, freqs = leaf.indices[at].astype(np.int64), leaf.data[at]
        owner = np.repeat(np.arange(self.n), counts)
        open_ = covered[terms] == 0
        terms, freqs, owner = terms[open_], freqs[open_], owner[open_]
        # By candidate, then most frequent first; lexsort is stable, so ties keep their order.
        order = np.lexsort((-freqs, owner))
        terms, freqs, owner = terms[order], freqs[order], owner[order]
        place = np.arange(len(owner)) - np.searchsorted(owner, owner)  # within the candidate
        shown = place < _ABSENT_SHOWN
        terms, freqs, owner = terms[shown], freqs[shown], owner[shown]
        column = _find(self.keys, owner * kb.n_terms + terms)  # leaf annotations are direct
        rows = self.kb_rows[np.maximum(column, 0)] if len(self.kb_rows) else column  # -1: unread
        llr = np.array([math.log1p(-params.absent_rate * f) for f in freqs.tolist()])
        term_ids, term_labels, disease_ids = kb.term_ids, kb.term_labels, kb.disease_ids
        absent = MatchKind.ABSENT
        for j, t, lr10, k, f, src in zip(
            owner.tolist(),
            terms.tolist(),
            _round3(llr / _LOG10),
            column.tolist(),
            _round3(model.annotation_frequency[rows]),
            kb.ann_disease[rows].tolist(),
            strict=True,
        ):
            term_id, label = term_ids[t], term_labels[t]
            if k < 0:
                out[j].append(Evidence(term_id, label, absent, lr10))
            else:  # the annotation is the term itself
                out[j].append(
                    Evidence(term_id, label, absent, lr10, term_id, label, f, disease_ids[src])
                )
        return out


def _evidence(
    model: PhenotypeModel, scores: CaseScores, params: RankParameters, groups: np.ndarray
) -> list[tuple[Evidence, ...]]:
    """Evidence rows of each of `groups`: observed, excluded, then unrecorded findings.
    All the groups are matched at once (`_Candidates`)."""
    groups = np.asarray(groups, dtype=np.int64)
    if not len(groups):
        return []
    candidates = _Candidates(model, groups)
    out: list[list[Evidence]] = [[] for _ in range(len(groups))]
    n_observed = len(scores.observed)
    if scores.observed or scores.excluded:
        # Observed and excluded terms are matched as one patient: what they share (the
        # annotations at or below each term, the NOT annotations above it) is worked out
        # once; each cell's value depends on its own term and candidate alone.
        patient = _Patient(model, (*scores.observed, *scores.excluded))
        covering = candidates._covering(patient)
        blocker = candidates._blockers(patient)
        observed = excluded = None
        parts = []
        if scores.observed:
            wanted = np.zeros((len(patient.terms), candidates.n), dtype=bool)
            wanted[patient.given_rows[:n_observed]] = True
            observed = candidates.observed(patient, params, covering, blocker, wanted.ravel())
            parts.append(scores.observed_llr.for_groups(groups, model.n_groups))
        if scores.excluded:
            excluded = candidates.excluded(covering, blocker)
            parts.append(scores.excluded_llr.for_groups(groups, model.n_groups))
        llr = parts[0] if len(parts) == 1 else np.concatenate(parts)
        matched = candidates.evidence(patient, n_observed, observed, excluded, llr)
        for mine, found in zip(out, matched, strict=True):
            mine += found
    covered = model.covered_terms(scores.observed, scores.excluded)
    for mine, rows in zip(out, candidates.absent(covered, params), strict=True):
        mine += rows
    return [tuple(rows) for rows in out]


def explain_candidates(
    model: PhenotypeModel,
    scores: CaseScores,
    params: RankParameters,
    top: int,
    *,
    with_evidence: bool = True,
    treatments: Callable[[int], tuple[Treatment, ...]] | None = None,
) -> tuple[CandidateDisease, ...]:
    """The `top` groups by posterior, each with its ids, genes, (optionally) evidence, and
    `treatments(group)` when given."""
    n = min(top, model.n_groups)
    if n <= 0:
        return ()
    key = scores.rank_key(params.temperature)
    order = np.argpartition(-key, n - 1)[:n] if n < model.n_groups else np.arange(n)
    order = order[np.lexsort((order, -key[order]))]
    ranks = range(1, len(order) + 1)
    return _candidates(model, scores, params, order, ranks, with_evidence, treatments)


def do_not_miss(
    model: PhenotypeModel,
    scores: CaseScores,
    params: RankParameters,
    treatable: np.ndarray,
    threshold: float,
    treatments: Callable[[int], tuple[Treatment, ...]],
    limit: int = 10,
) -> tuple[CandidateDisease, ...]:
    """Treatable groups (`treatable[g]`) with posterior at least `threshold`, except the one
    ranked first: a missed treatable diagnosis costs most. Ranked by posterior, at most `limit`."""
    key = scores.rank_key(params.temperature)
    best = int(np.argmax(key)) if len(key) else -1
    pick = np.flatnonzero(treatable & (scores.posterior >= threshold))
    pick = pick[pick != best]
    pick = pick[np.lexsort((pick, -key[pick]))][:limit]
    ranks = [int((key > key[g]).sum() + (key[:g] == key[g]).sum()) + 1 for g in pick.tolist()]
    return _candidates(model, scores, params, pick, ranks, False, treatments)


def explain_groups(
    model: PhenotypeModel,
    scores: CaseScores,
    params: RankParameters,
    groups: Sequence[int],
    *,
    with_evidence: bool = True,
    treatments: Callable[[int], tuple[Treatment, ...]] | None = None,
) -> tuple[CandidateDisease, ...]:
    """The given groups, in the order given, each with its rank among all groups (the rank
    `explain_candidates` would give it) and, optionally, its evidence: explains one disease
    wherever it ranks, without explaining every disease above it."""
    key = scores.rank_key(params.temperature)
    pick = np.asarray(groups, dtype=np.int64)
    ranks = [int((key > key[g]).sum() + (key[:g] == key[g]).sum()) + 1 for g in pick.tolist()]
    return _candidates(model, scores, params, pick, ranks, with_evidence, treatments)


def _candidates(
    model: PhenotypeModel,
    scores: CaseScores,
    params: RankParameters,
    order: np.ndarray,
    ranks: Sequence[int],
    with_evidence: bool,
    treatments: Callable[[int], tuple[Treatment, ...]] | None,
) -> tuple[CandidateDisease, ...]:
    evidence = _evidence(model, scores, params, order) if with_evidence else [()] * len(order)
    out = []
    total, posterior, genotype = scores.total, scores.posterior, scores.genotype_llr
    for k, (rank, g) in enumerate(zip(ranks, order.tolist(), strict=True)):
        disease_id, ids, name, genes = model.group_identity(g)
        out.append(
            CandidateDisease(
                rank=rank,
                disease_id=disease_id,
                ids=ids,
                name=name,
                posterior=float(posterior[g]),
                log10_lr=round(float(total[g]) / _LOG10, 3),
                genes=genes,
                evidence=evidence[k],
                absent_log10_lr=round(float(scores.absent_llr[g]) / _LOG10, 3),
                onset_log10_lr=round(float(scores.onset_llr[g]) / _LOG10, 3),
                sex_log10_lr=round(float(scores.sex_llr[g]) / _LOG10, 3),
                genotype_log10_lr=(
                    None if genotype is None else round(float(genotype[g]) / _LOG10, 3)
                ),
                treatments=treatments(g) if treatments is not None else (),
            )
        )
    return tuple(out)


def candidate_genes(
    model: PhenotypeModel,
    scores: CaseScores,
    top: int,
    genotype: Callable[[int, int], GenotypeSupport | None] | None = None,
) -> tuple[CandidateGene, ...]:
    """The `top` genes by the posterior mass of the diseases they are linked to;
    `genotype(gene, best group)` describes each gene's VCF evidence when there is a VCF."""
    kb = model.kb
    gene_score = model.gene_scores(scores.posterior, scores.pair_llr, scores.genotype_llr)
    nonzero = np.flatnonzero(gene_score > 0)
    n = min(top, len(nonzero))
    if n <= 0:
        return ()
    vals = gene_score[nonzero]
    pick = nonzero[np.argpartition(-vals, n - 1)[:n]] if n < len(nonzero) else nonzero
    pick = pick[np.lexsort((pick, -gene_score[pick]))]
    # Each gene's groups, most probable first: one sort over all the picked genes' links.
    starts, ends = model.gene_pair_start[pick], model.gene_pair_start[pick + 1]
    counts = ends - starts
    owner = np.repeat(np.arange(len(pick)), counts)
    groups = model.group_of_pair[concat_ranges(starts, counts)]
    order = np.lexsort((-scores.posterior[groups], owner))
    groups, owner = groups[order], owner[order]
    first = np.searchsorted(owner, np.arange(len(pick)))
    primary = model.group_primary_ids
    out = []
    for k, gene in enumerate(pick.tolist()):
        mine = groups[first[k] : first[k] + min(int(counts[k]), _SUPPORT_SHOWN)]
        out.append(
            CandidateGene(
                rank=k + 1,
                symbol=kb.gene_symbols[gene],
                hgnc_id=kb.gene_hgnc_ids[gene],
                score=float(gene_score[gene]),
                diseases=tuple(primary[g] for g in mine.tolist()),
                genotype=genotype(gene, int(mine[0])) if genotype and len(mine) else None,
            )
        )
    return tuple(out)


def _dense_columns(
    matrix: sp.csr_matrix, rows: np.ndarray, columns: np.ndarray, is_column: np.ndarray
) -> np.ndarray:
    """`matrix[rows][:, columns].toarray()` for a canonical CSR `matrix` (distinct indices)
    and sorted distinct `columns` (`is_column`: their mask over the matrix's columns), read
    from its arrays: scipy's fancy indexing costs more than the few entries it returns."""
    at, counts = _Candidates._runs(matrix.indptr, rows)
    indices = matrix.indices[at]
    hit = is_column[indices]
    position = np.empty(len(is_column), dtype=np.int64)  # read only where `is_column`
    position[columns] = np.arange(len(columns))
    flat = np.repeat(np.arange(len(rows)) * len(columns), counts)[hit] + position[indices[hit]]
    out = np.zeros((len(rows), len(columns)))
    out.ravel()[flat] = matrix.data[at[hit]]
    return out


def _entropy_bits(p: np.ndarray) -> np.ndarray:
    """Entropy (bits) of each row of non-negative weights (normalised here)."""
    total = p.sum(axis=-1, keepdims=True)
    q = np.divide(p, total, out=np.zeros_like(p), where=total > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(q > 0, np.log2(q), 0.0)
    result: np.ndarray = -(q * logs).sum(axis=-1)
    return result


def suggest_findings(
    model: PhenotypeModel,
    scores: CaseScores,
    params: RankParameters,
    limit: int,
    extra_recorded: Sequence[int] = (),
) -> tuple[SuggestedFinding, ...]:
    """Unrecorded findings with the highest expected information gain over the top candidates.

    Candidates are the annotations of the `_NEXT_POOL` most probable diseases that no
    recorded finding accounts for. For each, P(present | disease) follows the model
    ((1 - noise) * C + noise * background); the gain is the expected drop in entropy of the
    posterior over those diseases after learning whether the patient shows it.
    """
    if limit <= 0:
        return ()
    kb = model.kb
    k = min(_NEXT_POOL, model.n_groups)
    top = np.argpartition(-scores.total, k - 1)[:k] if k < model.n_groups else np.arange(k)
    top = top[np.argsort(-scores.total[top], kind="stable")]
    prior = scores.posterior[top]
    if prior.sum() <= 0:
        return ()
    prior = prior / prior.sum()
    covered = model.covered_terms(scores.observed, scores.excluded)
    for t in extra_recorded:
        covered[kb.ancestors(t)] = 1.0
        covered[kb.descendants(t)] = 1.0
    # The candidate findings as a mask over the ontology (sorted and distinct for free), and
    # each one's column in the k x candidates matrix.
    direct = model.direct_csr
    is_cand = np.zeros(kb.n_terms, dtype=bool)
    is_cand[direct.indices[_Candidates._runs(direct.indptr, top)[0]]] = True
    is_cand &= covered == 0
    is_cand &= model.phenotype_mask
    cands = np.flatnonzero(is_cand)
    if not len(cands):
        return ()
    closed = _dense_columns(model.closed_csr, top, cands, is_cand)  # k x candidates
    eps = params.noise
    p_present = (1.0 - eps) * closed + eps * model.background[cands][None, :]
    joint_yes = prior[:, None] * p_present
    joint_no = prior[:, None] * (1.0 - p_present)
    p_yes = joint_yes.sum(axis=0)
    h0 = float(_entropy_bits(prior[None, :])[0])
    gain = h0 - p_yes * _entropy_bits(joint_yes.T) - (1.0 - p_yes) * _entropy_bits(joint_no.T)
    order = np.argsort(-gain, kind="stable")
    ids = [model.group_primary_ids[g] for g in top.tolist()]
    prior_values = prior.tolist()
    out: list[SuggestedFinding] = []
    taken = np.zeros(kb.n_terms, dtype=bool)  # chosen findings and their lines: no near-repeats
    for j in order.tolist():
        if len(out) >= limit or gain[j] <= 1e-6:
            break
        t = int(cands[j])
        if taken[t]:
            continue
        taken[kb.ancestors(t)] = True
        taken[kb.descendants(t)] = True
        post_yes = joint_yes[:, j] / max(p_yes[j], 1e-300)
        post_no = joint_no[:, j] / max(1.0 - p_yes[j], 1e-300)
        # Compared as Python floats (the same doubles): cheaper than numpy scalars.
        yes, no = post_yes.tolist(), post_no.tolist()
        up_yes = [i for i in np.argsort(-post_yes).tolist() if yes[i] > prior_values[i]]
        up_no = [i for i in np.argsort(-post_no).tolist() if no[i] > prior_values[i]]
        out.append(
            SuggestedFinding(
                term_id=kb.term_ids[t],
                term_label=kb.term_labels[t],
                information_gain=_r(gain[j], 4),
                probability=_r(p_yes[j]),
                if_present=tuple(ids[i] for i in up_yes[:_SUPPORT_SHOWN]),
                if_absent=tuple(ids[i] for i in up_no[:_SUPPORT_SHOWN]),
            )
        )
    return tuple(out)
