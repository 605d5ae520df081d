"""Phenotype observations to propose for a stored case, from a clinical note or lab results.

What ``raredx store add-terms --note/--labs`` and the web case page's note and lab forms add
to the case store as *proposed* observations (`raredx.store.Store.add_observations`), for the
clinician to accept or reject: one per term, with the text or the values behind it as its
evidence (at most `raredx.store.MAX_EVIDENCE_CHARS`).
"""

from __future__ import annotations

from raredx.kb import KnowledgeBase
from raredx.labs import LabPhenotype
from raredx.phenotype import NoteLang, extract_phenotype
from raredx.store import MAX_EVIDENCE_CHARS, NewObservation

__all__ = ["lab_observations", "note_observations"]


def note_observations(
    kb: KnowledgeBase, text: str, language: NoteLang = "auto"
) -> list[NewObservation]:
    """The note's present and excluded findings, each with (up to three of) the spans naming
    it; uncertain ones and relatives' findings are left out (neither the patient's finding nor
    an exclusion)."""
    found = extract_phenotype(kb, text, language)
    out = []
    for t in found.terms:
        if t.status != "present" and not t.excluded:
            continue
        span = " / ".join(text[x:y] for x, y in t.spans[:3])[:MAX_EVIDENCE_CHARS]
        out.append(NewObservation(t.id, excluded=t.excluded, evidence=span, label=t.label))
    return out


def lab_observations(phenotype: LabPhenotype) -> list[NewObservation]:
    """One observation per term the lab results give (observed, or excluded), its evidence
    every result behind it ("test given (outcome; interval, where the interval comes from)"),
    shortened with "…" past `MAX_EVIDENCE_CHARS`."""
    keep = {(t, False) for t in phenotype.observed_ids} | {
        (t, True) for t in phenotype.excluded_ids
    }
    grouped: dict[tuple[str, bool], tuple[str, list[str]]] = {}
    for e in phenotype.evidence:
        key = (e.hpo_id, e.excluded)
        if key in keep:
            text = f"{e.test} {e.given} ({e.outcome.value}; {e.interval}, {e.origin.value})"
            grouped.setdefault(key, (e.hpo_label, []))[1].append(text)
    out = []
    for (term, excluded), (label, texts) in grouped.items():
        evidence = "; ".join(texts)
        if len(evidence) > MAX_EVIDENCE_CHARS:
            evidence = evidence[: MAX_EVIDENCE_CHARS - 1] + "…"
        out.append(NewObservation(term, excluded=excluded, evidence=evidence, label=label))
    return out
