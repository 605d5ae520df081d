"""Similar patients within the store: phenotype similarity plus shared candidate genes.

For a query case Q and every other case C of the centres the user may see (for now the user's
own centre; solved cases included, other cases of the same patient excluded):

- ``phenotype_similarity`` (0-1): symmetric best-match-average Resnik similarity over the KB's
  information content, normalised by the cases' own information:

      sim(Q, C) = (sum_q max_c IC(MICA(q, c)) / |Q| + sum_c max_q IC(MICA(q, c)) / |C|)
                  / (mean_q IC(q) + mean_c IC(c))

  where IC is `KnowledgeBase.term_ic` and MICA the most informative common ancestor. Each
  direction is at most the mean IC of its own terms, so the value is in 0-1 and 1 for two
  identical term sets. Only observed terms under "Phenotypic abnormality" count (excluded
  terms and onset or inheritance terms are ignored; ids the KB does not know are skipped).
- ``gene_similarity`` (0-1): weighted Jaccard (Ruzicka) similarity of the two cases' top
  `TOP_GENES` candidate genes, each weighted by its gene score (posterior mass):
  sum over genes of min(score_Q, score_C) / sum of max(score_Q, score_C). The genes come from
  each case's latest stored analysis, or, for a case never analysed, from a ranking computed
  on the fly with `kb` (not recorded). ``shared_genes`` lists the genes in both top lists,
  most shared score first.
- ``score = PHENOTYPE_WEIGHT * phenotype_similarity + GENE_WEIGHT * gene_similarity``
  (0.7 and 0.3), so phenotype leads and a shared candidate gene breaks ties and lifts cases
  that the ranking points to the same gene.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from raredx.case import Case
from raredx.diagnosis import diagnose
from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.rank.model import phenotype_model
from raredx.store.store import Store, StoredCase

__all__ = [
    "GENE_WEIGHT",
    "PHENOTYPE_WEIGHT",
    "TOP_GENES",
    "Match",
    "gene_similarity",
    "phenotype_similarity",
    "similar_cases",
]

PHENOTYPE_WEIGHT = 0.7
"""Weight of the phenotype similarity in a match's score."""

GENE_WEIGHT = 0.3
"""Weight of the candidate-gene similarity in a match's score."""

TOP_GENES = 10
"""How many of a case's best candidate genes are compared."""

_MAX_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class Match:
    """A stored case similar to the query: the combined `score` and its parts (all 0-1), the
    candidate genes both cases share, the case's centre and status."""

    case_id: str
    score: float
    phenotype_similarity: float
    shared_genes: tuple[str, ...]
    centre: str
    gene_similarity: float
    status: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "score": self.score,
            "phenotype_similarity": self.phenotype_similarity,
            "gene_similarity": self.gene_similarity,
            "shared_genes": list(self.shared_genes),
            "centre": self.centre,
            "status": self.status,
        }


def _term_indices(kb: KnowledgeBase, term_ids: Iterable[str]) -> np.ndarray:
    mask = phenotype_model(kb).phenotype_mask
    found: dict[int, None] = {}
    for tid in term_ids:
        hit = kb.lookup_term(tid)
        if hit is not None and mask[hit.index]:
            found[hit.index] = None
    return np.fromiter(found, dtype=np.int64, count=len(found))


class _Query:
    """The query's terms and, per query term, the IC of its MICA with every KB term."""

    def __init__(self, kb: KnowledgeBase, terms: np.ndarray) -> None:
        ic = kb.term_ic
        self.terms = terms
        self.self_ic = float(ic[terms].mean()) if len(terms) else 0.0
        self.best = np.zeros((len(terms), kb.n_terms))
        for row, term in enumerate(terms):
            line = self.best[row]
            for ancestor in kb.ancestors(int(term)):
                value = float(ic[ancestor])
                if value > 0.0:
                    below = kb.descendants(int(ancestor))
                    line[below] = np.maximum(line[below], value)

    def similarity(self, kb: KnowledgeBase, terms: np.ndarray) -> float:
        if not len(self.terms) or not len(terms):
            return 0.0
        other_ic = float(kb.term_ic[terms].mean())
        if self.self_ic + other_ic <= 0.0:
            return 0.0
        pairs = self.best[:, terms]
        forward = float(pairs.max(axis=1).mean())
        backward = float(pairs.max(axis=0).mean())
        return min(1.0, (forward + backward) / (self.self_ic + other_ic))


def phenotype_similarity(kb: KnowledgeBase, first: Iterable[str], second: Iterable[str]) -> float:
    """The normalised symmetric best-match-average Resnik similarity (0-1) of two sets of
    observed HPO term ids (see the module documentation)."""
    return _Query(kb, _term_indices(kb, first)).similarity(kb, _term_indices(kb, second))


def gene_similarity(
    first: Mapping[str, float], second: Mapping[str, float]
) -> tuple[float, tuple[str, ...]]:
    """Weighted Jaccard similarity (0-1) of two gene -> score maps, and the shared genes
    (most shared score first)."""
    union = set(first) | set(second)
    top = sum(min(first.get(g, 0.0), second.get(g, 0.0)) for g in union)
    bottom = sum(max(first.get(g, 0.0), second.get(g, 0.0)) for g in union)
    shared = sorted(set(first) & set(second), key=lambda g: (-min(first[g], second[g]), g))
    return (top / bottom if bottom > 0.0 else 0.0), tuple(shared)


def _genes_from_results(results: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for gene in list(results.get("genes") or ())[:TOP_GENES]:
        score = float(gene.get("score") or 0.0)
        if score > 0.0:
            out[str(gene["symbol"])] = score
    return out


def _genes_of(stored: StoredCase, kb: KnowledgeBase) -> dict[str, float]:
    if stored.latest is not None:
        return _genes_from_results(stored.latest.results)
    return _genes_on_the_fly(stored.case, kb)


def _genes_on_the_fly(case: Case, kb: KnowledgeBase) -> dict[str, float]:
    try:
        diagnosis = diagnose(
            case,
            kb=kb,
            top=0,
            top_genes=TOP_GENES,
            next_findings=0,
            explain=False,
            lenient=True,
            treatments=False,
        )
    except InputError:
        return {}
    return {g.symbol: g.score for g in diagnosis.genes if g.score > 0.0}


def similar_cases(
    store: Store, kb: KnowledgeBase, case_id: str, *, user: str, limit: int = 10
) -> tuple[Match, ...]:
    """The `limit` stored cases most similar to `case_id`, best first (ties by case id).

    Only cases of centres `user` may see are compared. Raises `InputError` (nothing read or
    written) for an unknown user or case, a case of a centre `user` may not see, or a bad
    `limit`.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= _MAX_LIMIT:
        raise InputError("cannot match", [f"limit {limit!r}: must be an integer from 1"])
    store.case_centre(case_id, user=user)
    cases = store.cases_with_latest_analysis(user=user)
    query_case = next(c for c in cases if c.id == case_id)
    query = _Query(kb, _term_indices(kb, query_case.case.observed_terms))
    query_genes = _genes_of(query_case, kb)
    matches: list[Match] = []
    for other in cases:
        if other.id == case_id or other.patient == query_case.patient:
            continue
        phenotype = query.similarity(kb, _term_indices(kb, other.case.observed_terms))
        genes, shared = gene_similarity(query_genes, _genes_of(other, kb))
        matches.append(
            Match(
                case_id=other.id,
                score=PHENOTYPE_WEIGHT * phenotype + GENE_WEIGHT * genes,
                phenotype_similarity=phenotype,
                shared_genes=shared,
                centre=other.centre,
                gene_similarity=genes,
                status=other.status,
            )
        )
    matches.sort(key=lambda match: (-match.score, match.case_id))
    return tuple(matches[:limit])
