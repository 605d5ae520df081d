"""Turn the model's arrays into the result: candidates with evidence, genes, what to check next.

Only the top candidates are explained, so the per-candidate Python here stays off the path
that scores every disease.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import cached_property

import numpy as np

from raredx.rank.model import CaseScores, PhenotypeModel
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


def _r(value: float, digits: int = 3) -> float:
    return round(float(value), digits)


class _Terms:
    """Patient terms (observed or excluded) as matrices over the ontology, one row per term,
    so that each candidate is matched against all of them with a few array operations."""

    def __init__(self, model: PhenotypeModel, terms: Sequence[int]) -> None:
        kb = model.kb
        self.model = model
        self.terms = np.asarray(terms, dtype=np.int64)
        n = len(self.terms)
        self.descendants = np.zeros((n, kb.n_terms), dtype=bool)
        self.ancestors = np.zeros((n, kb.n_terms), dtype=bool)
        for i, q in enumerate(self.terms.tolist()):
            self.descendants[i, kb.descendants(q)] = True
            self.ancestors[i, kb.ancestors(q)] = True

    @cached_property
    def ancestor_ic(self) -> np.ndarray:
        """IC of each term's informative ancestors, -1 elsewhere (for "related" matches)."""
        out = np.where(self.ancestors, self.model.kb.term_ic[None, :], -1.0)
        out[:, list(self.model.uninformative_terms)] = -1.0
        return out


class _Candidate:
    """One candidate group's annotations, looked up once for all of the patient's terms."""

    def __init__(self, model: PhenotypeModel, group: int) -> None:
        self.model = model
        self.group = group
        self.terms, self.freqs, self.rows = model.group_annotations(group)
        self.negated = model.negated_terms(group)

    def position(self, term: int) -> int | None:
        k = int(np.searchsorted(self.terms, term))
        return k if k < len(self.terms) and int(self.terms[k]) == term else None

    def evidence(self, patient_term: int, kind: MatchKind, llr: float, k: int | None) -> Evidence:
        kb = self.model.kb
        q = patient_term
        lr10 = _r(llr / _LOG10)
        if k is None:
            return Evidence(kb.term_ids[q], kb.term_labels[q], kind, lr10)
        t, row = int(self.terms[k]), int(self.rows[k])
        return Evidence(
            kb.term_ids[q],
            kb.term_labels[q],
            kind,
            lr10,
            kb.term_ids[t],
            kb.term_labels[t],
            _r(self.model.annotation_frequency[row]),
            kb.disease_ids[int(kb.ann_disease[row])],
        )

    def _negated_evidence(self, patient_term: int, blocking: int, llr: float) -> Evidence:
        kb = self.model.kb
        q = patient_term
        return Evidence(
            kb.term_ids[q],
            kb.term_labels[q],
            MatchKind.NEGATED,
            _r(llr / _LOG10),
            kb.term_ids[blocking],
            kb.term_labels[blocking],
        )

    def observed(self, patient: _Terms, llr: np.ndarray, params: RankParameters) -> list[Evidence]:
        """The evidence row of every observed term (in order) against this candidate: the
        closest way the candidate's annotations account for it."""
        terms, freqs = self.terms, self.freqs
        q_terms = patient.terms
        n, m = len(q_terms), len(terms)
        below = patient.descendants[:, terms]  # n x m: annotation at or below the term
        any_below = below.any(axis=1)
        exact = np.where(any_below, 1.0 - np.prod(np.where(below, 1.0 - freqs, 1.0), axis=1), 0.0)
        blocked = patient.ancestors[:, self.negated]  # n x negated annotations
        has_narrow = np.zeros(n, dtype=bool)
        narrow = np.zeros(n)
        narrow_k = np.zeros(n, dtype=np.int64)
        if params.narrower_weight > 0 and m:
            above = patient.ancestors[:, terms] & ~below
            has_narrow = np.asarray(above.any(axis=1))
            bg = self.model.background
            ratio = params.narrower_weight * bg[q_terms][:, None] / bg[terms][None, :]
            cand = np.where(above, freqs[None, :] * ratio, -np.inf)
            narrow_k = np.argmax(cand, axis=1)
            narrow = np.where(has_narrow, cand[np.arange(n), narrow_k], 0.0)
        at = np.minimum(np.searchsorted(terms, q_terms), max(m - 1, 0))
        own = np.asarray(terms[at] == q_terms) if m else np.zeros(n, dtype=bool)
        best_below = np.argmax(np.where(below, freqs[None, :], -1.0), axis=1) if m else at
        best_ic: np.ndarray | None = None
        out: list[Evidence] = []
        for i, q in enumerate(q_terms.tolist()):
            value = float(llr[i])
            if exact[i] == 0.0 and blocked.shape[1] and blocked[i].any():
                blocking = int(self.negated[int(np.argmax(blocked[i]))])
                out.append(self._negated_evidence(q, blocking, value))
                continue
            if exact[i] > 0.0 and exact[i] >= narrow[i]:
                k = int(at[i]) if own[i] else int(best_below[i])
                kind = MatchKind.EXACT if own[i] else MatchKind.BROADER
                out.append(self.evidence(q, kind, value, k))
                continue
            if has_narrow[i]:
                out.append(self.evidence(q, MatchKind.NARROWER, value, int(narrow_k[i])))
                continue
            if m:
                if best_ic is None:
                    ancestors, offsets = self.model.ancestor_rows(terms)
                    best_ic = np.maximum.reduceat(
                        patient.ancestor_ic[:, ancestors], offsets, axis=1
                    )
                k = int(np.argmax(best_ic[i]))
                if best_ic[i, k] > 0:
                    out.append(self.evidence(q, MatchKind.RELATED, value, k))
                    continue
            out.append(self.evidence(q, MatchKind.UNRELATED, value, None))
        return out

    def excluded(self, patient: _Terms, llr: np.ndarray) -> list[Evidence]:
        """The evidence row of every excluded term (in order): the candidate's most frequent
        annotation at or below it, else the NOT annotation that agrees with it."""
        terms, q_terms = self.terms, patient.terms
        m = len(terms)
        below = patient.descendants[:, terms]
        at = np.minimum(np.searchsorted(terms, q_terms), max(m - 1, 0))
        own = np.asarray(terms[at] == q_terms) if m else np.zeros(len(q_terms), dtype=bool)
        any_below = np.asarray(below.any(axis=1))
        best_below = np.argmax(np.where(below, self.freqs[None, :], -1.0), axis=1) if m else at
        blocked = patient.ancestors[:, self.negated]
        out: list[Evidence] = []
        for i, q in enumerate(q_terms.tolist()):
            value = float(llr[i])
            k = int(at[i]) if own[i] else (int(best_below[i]) if any_below[i] else None)
            if k is None and blocked.shape[1] and bool(blocked[i].any()):
                blocking = int(self.negated[int(np.argmax(blocked[i]))])
                out.append(self._negated_evidence(q, blocking, value))
            else:
                out.append(self.evidence(q, MatchKind.EXCLUDED, value, k))
        return out

    def absent(self, covered: np.ndarray, params: RankParameters) -> list[Evidence]:
        if params.absent_rate <= 0:
            return []
        model = self.model
        leaf = model.leaf
        start, end = leaf.indptr[self.group], leaf.indptr[self.group + 1]
        terms, freqs = leaf.indices[start:end], leaf.data[start:end]
        open_ = covered[terms] == 0
        terms, freqs = terms[open_], freqs[open_]
        out = []
        for j in np.argsort(-freqs, kind="stable")[:_ABSENT_SHOWN]:
            t = int(terms[j])
            llr = math.log1p(-params.absent_rate * float(freqs[j]))
            out.append(self.evidence(t, MatchKind.ABSENT, llr, self.position(t)))
        return out


def _evidence(
    model: PhenotypeModel, scores: CaseScores, params: RankParameters, groups: np.ndarray
) -> list[tuple[Evidence, ...]]:
    """Evidence rows of each of `groups`: observed, excluded, then unrecorded findings."""
    patient = _Terms(model, scores.observed)
    excluded = _Terms(model, scores.excluded)
    covered = model.covered_terms(scores.observed, scores.excluded)
    obs_llr = scores.observed_llr.for_groups(groups, model.n_groups)
    exc_llr = scores.excluded_llr.for_groups(groups, model.n_groups)
    out = []
    for j, g in enumerate(groups.tolist()):
        cand = _Candidate(model, g)
        rows = cand.observed(patient, obs_llr[:, j], params) if len(patient.terms) else []
        rows += cand.excluded(excluded, exc_llr[:, j]) if len(excluded.terms) else []
        rows += cand.absent(covered, params)
        out.append(tuple(rows))
    return out


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
    flat = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(counts.sum())
    owner = np.repeat(np.arange(len(pick)), counts)
    groups = model.group_of_pair[flat]
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
    rows = model.direct_csr[top]
    cands = np.unique(rows.indices)
    cands = cands[(covered[cands] == 0) & model.phenotype_mask[cands]]
    if not len(cands):
        return ()
    closed = model.closed_csr[top][:, cands].toarray()  # k x candidates
    eps = params.noise
    p_present = (1.0 - eps) * closed + eps * model.background[cands][None, :]
    joint_yes = prior[:, None] * p_present
    joint_no = prior[:, None] * (1.0 - p_present)
    p_yes = joint_yes.sum(axis=0)
    h0 = float(_entropy_bits(prior[None, :])[0])
    gain = h0 - p_yes * _entropy_bits(joint_yes.T) - (1.0 - p_yes) * _entropy_bits(joint_no.T)
    order = np.argsort(-gain, kind="stable")
    ids = [model.group_primary_ids[g] for g in top.tolist()]
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
        up_yes = [i for i in np.argsort(-post_yes).tolist() if post_yes[i] > prior[i]]
        up_no = [i for i in np.argsort(-post_no).tolist() if post_no[i] > prior[i]]
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
