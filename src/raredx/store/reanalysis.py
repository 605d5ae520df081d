"""Reanalysis: re-run unsolved stored cases with the current KB and report what changed.

A case is *due* when it is unsolved, belongs to a centre the user may see, has at least one
analysis, and its latest analysis was made

- without `since_kb`: with another KB version or other ranking parameters than the current
  ones;
- with `since_kb`: with another KB version than the current one that sorts strictly before
  `since_kb` in natural order (`kb_version_key`: runs of digits compare as numbers, so
  ``hpo-2024-04-26 < hpo-2025-01-16``); the parameters are then not looked at.

Each due case is ranked again (`raredx.diagnosis.diagnose`, lenient: term ids the KB does not
know are skipped with a warning), the new analysis is recorded (one transaction per case, so
an interrupted run resumes where it stopped), and compared with the previous analysis'
results JSON. Diseases are matched across the two runs by any of their ids (primary or
equivalent), so a disease whose primary id changed is still the same candidate. A change is
*material* when:

- ``new_gene_link``: a current candidate (in the top `top`) lists a gene the previous run did
  not list for that disease, and the disease either was listed before or now has a posterior
  of at least `threshold` (so candidates merely shuffled in the tail are not reported);
- ``posterior_up`` / ``posterior_down``: the posterior crossed `threshold` (a disease missing
  from a run counts as 0 there: it was below every listed one);
- ``newly_treatable``: a current candidate has a graded treatment (any evidence level but
  MAxO's ungraded annotations) and had none before, and it was listed before or its posterior
  is at least `raredx.diagnosis.DO_NOT_MISS_THRESHOLD`.

A case with an attached VCF (`Store.attach_vcf`) is re-ranked with its genotype evidence
(`Store.genome_evidence`): the cached evidence when it is still valid for the current KB,
else the evidence read again from the file when it is still there with the attached sha256.
Otherwise the case is not re-run and is reported with one ``not_rerun`` change saying why
(``VCF file missing`` or ``VCF file changed``); so is a case whose previous analysis used a
VCF that was never attached to the store. A case the current KB cannot rank (e.g. no known
observed term) or whose VCF the genome layer refuses is reported with one ``error`` change,
and nothing is recorded for it.

A case whose candidates changed materially gets the store's "new results" mark
(`CaseSummary.new_results`) in the transaction that records its new analysis; whoever reads
the results clears it (`Store.set_new_results`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from raredx.case import Case
from raredx.diagnosis import DEFAULT_PARAMETERS, DO_NOT_MISS_THRESHOLD, diagnose
from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.rank.parameters import RankParameters
from raredx.rank.result import Diagnosis
from raredx.store.store import AnalysisRecord, Store, StoredCase, VcfUnavailable

__all__ = [
    "CHANGE_KINDS",
    "CaseChange",
    "Change",
    "RerankJob",
    "RerankResult",
    "Reranker",
    "changed_only",
    "compare_results",
    "kb_version_key",
    "reanalyze",
    "rerank_case",
]

CHANGE_KINDS = (
    "new_gene_link",
    "posterior_up",
    "posterior_down",
    "newly_treatable",
    "not_rerun",
    "error",
)
"""What a `Change` may report (see the module documentation)."""

_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True, slots=True)
class Change:
    """One material change of a case's candidates: `kind` (one of `CHANGE_KINDS`), the
    disease concerned (None for ``not_rerun`` and ``error``) and a human-readable detail."""

    kind: str
    disease_id: str | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "disease_id": self.disease_id, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class CaseChange:
    """A re-run (or not re-runnable) case: the KB versions before and after, and its material
    changes (empty when the new ranking changed nothing that matters). `analysis_id` is the
    newly recorded analysis (None when nothing was recorded)."""

    case_id: str
    previous_kb: str
    current_kb: str
    changes: tuple[Change, ...]
    analysis_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "previous_kb": self.previous_kb,
            "current_kb": self.current_kb,
            "analysis_id": self.analysis_id,
            "changes": [c.to_dict() for c in self.changes],
        }


def kb_version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """A sort key for KB versions: digit runs compare as numbers, other text as text."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in _DIGITS.split(version)
        if part
    )


def _normalised(parameters: Mapping[str, Any]) -> Any:
    return json.loads(json.dumps(parameters, sort_keys=True))


def _is_due(
    latest: AnalysisRecord, kb: KnowledgeBase, parameters: RankParameters, since_kb: str | None
) -> bool:
    if latest.kb_version == kb.version:
        return since_kb is None and _normalised(latest.parameters) != _normalised(
            parameters.to_dict()
        )
    if since_kb is None:
        return True
    return kb_version_key(latest.kb_version) < kb_version_key(since_kb)


def _ids(disease: Mapping[str, Any]) -> list[str]:
    ids = [str(i) for i in disease.get("ids") or ()]
    return [str(disease["disease_id"]), *ids]


def _graded(disease: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [t for t in disease.get("treatments") or () if t.get("evidence_level") != "annotation"]


def _label(disease: Mapping[str, Any]) -> str:
    name = disease.get("name")
    return f"{disease['disease_id']} {name}" if name else str(disease["disease_id"])


def compare_results(
    previous: Mapping[str, Any],
    current: Mapping[str, Any],
    *,
    threshold: float = 0.1,
    top: int = 20,
) -> tuple[Change, ...]:
    """The material changes between two `Diagnosis.to_dict()` results (previous, current)."""
    before: dict[str, Mapping[str, Any]] = {}
    for disease in previous.get("diseases") or ():
        for i in _ids(disease):
            before.setdefault(i, disease)
    changes: list[Change] = []
    matched: set[int] = set()
    for disease in list(current.get("diseases") or ())[:top]:
        old = next((before[i] for i in _ids(disease) if i in before), None)
        if old is not None:
            matched.add(id(old))
        p0 = float(old["posterior"]) if old is not None else 0.0
        p1 = float(disease["posterior"])
        did = str(disease["disease_id"])
        if old is not None or p1 >= threshold:
            old_genes = set(old.get("genes") or ()) if old is not None else set()
            for gene in disease.get("genes") or ():
                if gene not in old_genes:
                    changes.append(
                        Change(
                            "new_gene_link",
                            did,
                            f"{gene} now linked to {_label(disease)} (posterior {p1:.3f})",
                        )
                    )
        if p0 < threshold <= p1:
            changes.append(
                Change(
                    "posterior_up",
                    did,
                    f"{_label(disease)}: posterior {p0:.3f} -> {p1:.3f} (threshold {threshold:g})",
                )
            )
        elif p1 < threshold <= p0:
            changes.append(
                Change(
                    "posterior_down",
                    did,
                    f"{_label(disease)}: posterior {p0:.3f} -> {p1:.3f} (threshold {threshold:g})",
                )
            )
        graded = _graded(disease)
        if (
            graded
            and (old is None or not _graded(old))
            and (old is not None or p1 >= DO_NOT_MISS_THRESHOLD)
        ):
            therapies = ", ".join(
                sorted({f"{t['therapy']} ({t['evidence_level']})" for t in graded})
            )
            changes.append(
                Change(
                    "newly_treatable", did, f"{_label(disease)} (posterior {p1:.3f}): {therapies}"
                )
            )
    seen: set[int] = set()
    for disease in previous.get("diseases") or ():
        if id(disease) in matched or id(disease) in seen:
            continue
        seen.add(id(disease))
        p0 = float(disease["posterior"])
        if p0 >= threshold:
            changes.append(
                Change(
                    "posterior_down",
                    str(disease["disease_id"]),
                    f"{_label(disease)}: posterior {p0:.3f} -> not listed "
                    f"(threshold {threshold:g})",
                )
            )
    return tuple(changes)


def _check(threshold: float, top: int, since_kb: str | None) -> None:
    problems: list[str] = []
    if isinstance(threshold, bool) or not 0.0 < float(threshold) < 1.0:
        problems.append(f"threshold {threshold!r}: must be between 0 and 1 (exclusive)")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        problems.append(f"top {top!r}: must be a positive integer")
    if since_kb is not None and not since_kb.strip():
        problems.append("--since-kb: give a KB version (e.g. hpo-2025-01-16)")
    if problems:
        raise InputError("cannot reanalyse", problems)


def _due_cases(
    cases: Iterable[StoredCase],
    kb: KnowledgeBase,
    parameters: RankParameters,
    since_kb: str | None,
) -> list[tuple[StoredCase, AnalysisRecord]]:
    out = []
    for stored in cases:
        if stored.latest is not None and _is_due(stored.latest, kb, parameters, since_kb):
            out.append((stored, stored.latest))
    return out


@dataclass(frozen=True, slots=True)
class RerankJob:
    """One due case to rank again: the stored case, and whether its previous analysis used a
    VCF. Sent to a worker by a `Reranker`."""

    case_id: str
    case: Case
    used_genome: bool


@dataclass(frozen=True, slots=True)
class RerankResult:
    """A due case ranked again (`diagnosis`), or why it was not (`change`: ``not_rerun`` or
    ``error``)."""

    case_id: str
    diagnosis: Diagnosis | None = None
    change: Change | None = None


Reranker = Callable[
    [Sequence[RerankJob], KnowledgeBase, RankParameters, int], Iterable[RerankResult]
]
"""Ranks due cases elsewhere (e.g. `raredx.batch.cluster_reranker` on a Dask cluster): given
the jobs, KB, parameters and `top`, yields one `RerankResult` per job, in any order."""


def rerank_case(
    store: Store | None,
    kb: KnowledgeBase,
    job: RerankJob,
    parameters: RankParameters,
    top: int,
    *,
    user: str,
) -> RerankResult:
    """Rank one due case with `kb` (lenient), with its attached VCF's evidence from `store`
    (cached, or read again when unchanged). `store` may be None for a case whose phenopacket
    names no file (no VCF can be attached to it)."""
    genome = None
    if store is not None:
        try:
            genome = store.genome_evidence(job.case_id, kb, user=user)
        except VcfUnavailable as exc:
            return RerankResult(
                job.case_id, change=Change("not_rerun", None, f"VCF file {exc.reason}: {exc}")
            )
        except InputError as exc:
            return RerankResult(job.case_id, change=Change("error", None, str(exc)))
    if genome is None and job.used_genome:
        detail = (
            "the previous analysis used a VCF that is not attached to the store: attach it "
            "(`raredx store attach-vcf`) or re-run it with `raredx diagnose --vcf`"
        )
        return RerankResult(job.case_id, change=Change("not_rerun", None, detail))
    try:
        diagnosis = diagnose(
            job.case, kb=kb, parameters=parameters, top=top, lenient=True, genome=genome
        )
    except InputError as exc:
        return RerankResult(job.case_id, change=Change("error", None, str(exc)))
    return RerankResult(job.case_id, diagnosis=diagnosis)


def reanalyze(
    store: Store,
    kb: KnowledgeBase,
    *,
    user: str,
    since_kb: str | None = None,
    threshold: float = 0.1,
    top: int = 20,
    parameters: RankParameters | None = None,
    reranker: Reranker | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[CaseChange, ...]:
    """Re-run every due unsolved case (see the module documentation) of the centres `user`
    may see with `kb` and `parameters` (default: `DEFAULT_PARAMETERS`), record each new
    analysis, and return one `CaseChange` per due case, in the store's case order (changes
    empty when nothing material changed).

    `reranker` ranks the due cases elsewhere (a Dask cluster: `raredx.batch`); the comparison
    and the recording stay here, one transaction per case as results arrive. `progress(done,
    total)` is called after each case.

    Raises `InputError` (nothing written) for an unknown user or a bad threshold/top/since_kb.
    """
    _check(threshold, top, since_kb)
    params = parameters or DEFAULT_PARAMETERS
    due = _due_cases(
        store.cases_with_latest_analysis(user=user, status="unsolved"), kb, params, since_kb
    )
    latest = {stored.id: record for stored, record in due}
    jobs = [
        RerankJob(stored.id, stored.case, record.results.get("genome") is not None)
        for stored, record in due
    ]
    if reranker is None:
        results: Iterable[RerankResult] = (
            rerank_case(store, kb, job, params, top, user=user) for job in jobs
        )
    else:
        results = reranker(jobs, kb, params, top)
    found: dict[str, CaseChange] = {}
    for result in results:
        previous = latest[result.case_id]
        if result.diagnosis is None:
            change = result.change or Change("error", None, "not ranked")
            found[result.case_id] = CaseChange(
                result.case_id, previous.kb_version, kb.version, (change,)
            )
        else:
            changes = compare_results(
                previous.results, result.diagnosis.to_dict(), threshold=threshold, top=top
            )
            analysis_id = store.record_analysis(
                result.case_id, result.diagnosis, user=user, new_results=True if changes else None
            )
            found[result.case_id] = CaseChange(
                result.case_id, previous.kb_version, kb.version, changes, analysis_id
            )
        if progress is not None:
            progress(len(found), len(jobs))
    return tuple(found[job.case_id] for job in jobs if job.case_id in found)


def changed_only(changes: Sequence[CaseChange]) -> tuple[CaseChange, ...]:
    """The case changes that report at least one change."""
    return tuple(c for c in changes if c.changes)
