"""Answer an MME search: score the node's shared cases against the query patient.

For the query Q and each MME-shared case C of the node's centre:

- phenotype part (0-1): `raredx.store.matching.phenotype_similarity` of the observed HPO
  terms (normalised symmetric best-match-average Resnik), when both have observed terms;
- gene part (0-1): the largest weight C gives a gene the query names (1 for a gene with a
  reported or classified variant or a confirmed disease, the gene score for a shared candidate
  gene), when the query names genes;
- ``score.patient`` = ``PHENOTYPE_WEIGHT * phenotype + GENE_WEIGHT * gene`` when the query
  has both, else the one part it has. The weights are the in-store matching's (0.7 / 0.3).

Results below the node's ``min_score`` are dropped; at most ``max_results`` are returned, best
first. The query's patient id is not compared with anything, and nothing of the query is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from raredx.kb import KnowledgeBase
from raredx.mme.config import NodeSettings
from raredx.mme.patient import PatientProfile, case_profile, query_profile, to_mme_patient
from raredx.mme.schema import MatchRequest, MatchResponse
from raredx.store.matching import GENE_WEIGHT, PHENOTYPE_WEIGHT, phenotype_similarity
from raredx.store.store import Store, StoredCase

__all__ = ["ScoredCase", "answer_match", "score_cases"]


@dataclass(frozen=True, slots=True)
class ScoredCase:
    """A shared case's score against a query and its parts (all 0-1; None: not compared)."""

    stored: StoredCase
    score: float
    phenotype: float | None
    gene: float | None
    shared_genes: tuple[str, ...]


def _gene_part(query: PatientProfile, case: PatientProfile) -> tuple[float, tuple[str, ...]]:
    shared = sorted(set(query.genes) & set(case.genes), key=lambda g: (-case.genes[g], g))
    return (max((case.genes[g] for g in shared), default=0.0), tuple(shared))


def score_cases(
    kb: KnowledgeBase, query: PatientProfile, cases: Sequence[StoredCase], node: NodeSettings
) -> list[ScoredCase]:
    """Every case scored against `query`, best first (ties by case id), none dropped."""
    scored: list[ScoredCase] = []
    for stored in cases:
        profile = case_profile(stored, kb, node)
        phenotype = (
            phenotype_similarity(kb, query.observed, profile.observed)
            if query.observed and profile.observed
            else None
        )
        gene, shared = _gene_part(query, profile) if query.genes else (None, ())
        if phenotype is not None and gene is not None:
            score = PHENOTYPE_WEIGHT * phenotype + GENE_WEIGHT * gene
        else:
            score = phenotype if phenotype is not None else (gene or 0.0)
        scored.append(ScoredCase(stored, min(1.0, max(0.0, score)), phenotype, gene, shared))
    scored.sort(key=lambda s: (-s.score, s.stored.id))
    return scored


def answer_match(
    store: Store, kb: KnowledgeBase, node: NodeSettings, request: MatchRequest
) -> dict[str, Any]:
    """The MME response JSON for `request`: the node's best-matching shared cases.

    Cases are read as the node's store user (`node.user`), so every case read is audited.
    """
    cases = [c for c in store.shared_cases(user=node.user) if c.centre == node.centre]
    query = query_profile(kb, request.patient)
    results: list[dict[str, Any]] = []
    for scored in score_cases(kb, query, cases, node):
        if scored.score < node.min_score or len(results) >= node.max_results:
            break
        try:
            patient = to_mme_patient(scored.stored, kb, node)
        except ValueError:
            continue  # nothing shareable (no known HPO term, no gene): never sent half-empty
        results.append({"score": {"patient": round(scored.score, 4)}, "patient": patient})
    response: dict[str, Any] = {"results": results}
    if node.disclaimer:
        response["disclaimer"] = node.disclaimer
    MatchResponse.model_validate(response)
    return response
