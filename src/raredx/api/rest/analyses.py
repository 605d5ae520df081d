"""Analyses of stored cases, their background jobs, and explanations.

- ``POST /api/v1/cases/{id}/analyses``: a case without an attached VCF is ranked at once
  (201, recorded with `Store.record_analysis`); a case with one is ranked in the background
  (202 with a job id: reading a genome takes seconds to minutes; its evidence is cached in
  the store for later runs).
- ``GET /api/v1/jobs/{job_id}``: a job's state (only for users of the job's centre).
- ``GET /api/v1/cases/{id}/analyses/latest``: the latest recorded analysis, in full.
- ``GET /api/v1/cases/{id}/explain?disease=ID`` or ``?gene=SYMBOL``: one disease's evidence
  finding by finding wherever it ranks (`raredx.diagnosis.explain_diseases`), or why a gene
  ranks where it does, with the VCF's evidence (as ``raredx explain --gene``).

Cases are ranked as ``raredx store analyze`` ranks them: the accepted phenotype, term ids the
KB does not know skipped with a warning, the attached VCF's evidence when there is one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from raredx.api.deps import Services
from raredx.api.rest.cases import CaseIdPath
from raredx.api.rest.common import (
    API,
    CaseRole,
    Line,
    RestError,
    Svc,
    errors,
    job_runner,
    json_response,
    no_case,
    unprocessable,
    visible_case,
)
from raredx.api.rest.jobs import Job, JobRunner
from raredx.api.rest.schemas import (
    AcceptedJob,
    AnalysisCreated,
    AnalysisOut,
    DiseaseExplanation,
    GeneExplanation,
    JobOut,
)
from raredx.diagnosis import diagnose, explain_diseases
from raredx.errors import InputError
from raredx.explanation import gene_explanation
from raredx.genome import GenomeEvidence
from raredx.rank.result import NOTICE
from raredx.store.store import VcfUnavailable

__all__ = ["job_out", "router"]

router = APIRouter(prefix=API, tags=["Analyses"])

Jobs = Annotated[JobRunner, Depends(job_runner)]

_ALL = 100_000


def job_out(job: Job) -> dict[str, Any]:
    """A job as `JobOut` JSON."""
    return {
        "job_id": job.id,
        "kind": job.kind,
        "state": job.state,
        "case_id": job.case_id,
        "created": job.created,
        "started": job.started,
        "finished": job.finished,
        "step": job.step,
        "error": job.error,
        "problems": list(job.problems),
        "result": dict(job.result) if job.result is not None else None,
    }


def accepted(job: Job) -> Response:
    """The 202 reply of a background job, pointing at its status."""
    body = {"job_id": job.id, "kind": job.kind, "state": job.state, "case_id": job.case_id}
    return json_response(body, status_code=202, headers={"Location": f"{API}/jobs/{job.id}"})


def _genome(svc: Services, case_id: str, user: str) -> GenomeEvidence | None:
    """The attached VCF's evidence (None without one); 409 when the file is unusable."""
    try:
        return svc.store.genome_evidence(case_id, svc.kb, user=user)
    except VcfUnavailable as exc:
        raise unprocessable(exc, 409) from None
    except InputError as exc:
        raise unprocessable(exc) from None


def _analyse(svc: Services, case_id: str, user: str, step: Callable[[str], None]) -> Any:
    step("reading the VCF")
    genome = svc.store.genome_evidence(case_id, svc.kb, user=user)
    step("ranking")
    case = svc.store.get_case(case_id, user=user)
    result = diagnose(case, kb=svc.kb, lenient=True, genome=genome)
    step("recording the analysis")
    analysis_id = svc.store.record_analysis(case_id, result, user=user, new_results=True)
    return {
        "analysis_id": analysis_id,
        "case_id": case_id,
        "kb_version": svc.kb.version,
        "genome": genome is not None,
    }


def _analyse_now(svc: Services, case_id: str, user: str) -> dict[str, Any] | None:
    """Rank and record a case without an attached VCF; None when it has one."""
    if any(v.attached for v in svc.store.vcfs(case_id, user=user)):
        return None
    case = svc.store.get_case(case_id, user=user)
    try:
        result = diagnose(case, kb=svc.kb, lenient=True)
    except InputError as exc:
        raise unprocessable(exc) from None
    analysis_id = svc.store.record_analysis(case_id, result, user=user)
    return {
        "analysis_id": analysis_id,
        "case_id": case_id,
        "kb_version": svc.kb.version,
        "results": result.to_dict(),
    }


@router.post(
    "/cases/{case_id}/analyses",
    response_model=AnalysisCreated,
    status_code=201,
    summary="Rank the case and record the analysis (in the background with a VCF)",
    responses={
        202: {"model": AcceptedJob, "description": "Ranking with the VCF in the background"},
        **errors(401, 403, 404, 422),
    },
)
async def analyse(case_id: CaseIdPath, svc: Svc, user: CaseRole, jobs: Jobs) -> Response:
    """Phenotype only: 201 with the analysis id and the results (the JSON of ``raredx
    diagnose``). With an attached VCF: 202 with a job id to poll; the job records the
    analysis and its result names it. A case with no accepted phenotypic abnormality is a
    422."""
    await run_in_threadpool(visible_case, svc.store, case_id, user.name)
    try:
        done = await run_in_threadpool(_analyse_now, svc, case_id, user.name)
    except InputError:
        raise no_case(case_id) from None
    if done is not None:
        headers = {"Location": f"{API}/cases/{quote(case_id, safe='')}/analyses/latest"}
        return json_response(done, status_code=201, headers=headers)
    job = await run_in_threadpool(  # a store write: not on the event loop
        jobs.submit,
        "analysis",
        lambda step: _analyse(svc, case_id, user.name, step),
        centre=user.centre,
        user=user.name,
        case_id=case_id,
    )
    return accepted(job)


@router.get(
    "/jobs/{job_id}",
    response_model=JobOut,
    summary="A background job's state and result",
    responses=errors(401, 403, 404),
)
def get_job(
    job_id: Annotated[Line, Path(min_length=1, max_length=64)],
    user: CaseRole,
    jobs: Jobs,
) -> Any:
    """queued, running (with its current step), done (with its result: the analysis id) or
    failed (with the error). Jobs are kept in the store: any server process answers, and a
    job whose server stopped before it finished reads as failed (interrupted)."""
    job = jobs.get(job_id)
    if job is None or job.centre != user.centre:
        raise RestError(404, f"no job {job_id!r}")
    return job_out(job)


def _latest(svc: Services, case_id: str, user: str) -> dict[str, Any]:
    found = svc.store.analyses(case_id, user=user)
    if not found:
        raise RestError(404, f"case {case_id!r} has no analysis yet", ["POST .../analyses"])
    latest = found[-1]
    svc.store.set_new_results(case_id, False, user=user)
    return {
        "id": latest.id,
        "case_id": latest.case_id,
        "kb_version": latest.kb_version,
        "created": latest.created.isoformat(),
        "parameters": latest.parameters,
        "results": latest.results,
    }


@router.get(
    "/cases/{case_id}/analyses/latest",
    response_model=AnalysisOut,
    summary="The case's latest analysis, with its full results",
    responses=errors(401, 403, 404),
)
async def latest_analysis(case_id: CaseIdPath, svc: Svc, user: CaseRole) -> Response:
    """The latest recorded analysis (ranked diseases and genes with their evidence, next
    findings, treatments); reading it clears the case's "new results" flag."""
    await run_in_threadpool(visible_case, svc.store, case_id, user.name)
    try:
        payload = await run_in_threadpool(_latest, svc, case_id, user.name)
    except InputError:
        raise no_case(case_id) from None
    return json_response(payload)


def _explain(svc: Services, case_id: str, user: str, disease: str | None, gene: str | None) -> Any:
    kb = svc.kb
    try:
        case = svc.store.get_case(case_id, user=user)
    except InputError:
        raise no_case(case_id) from None
    genome = _genome(svc, case_id, user)
    try:
        if disease is not None:
            (found,) = explain_diseases(case, [disease], kb=kb, lenient=True, genome=genome)
            return {
                "case_id": case_id,
                "kb_version": kb.version,
                "notice": NOTICE,
                "genome": genome is not None,
                "disease": found.to_dict(),
            }
        assert gene is not None
        index = kb.resolve_gene(gene)
        options: dict[str, Any] = {
            "kb": kb,
            "lenient": True,
            "top": _ALL,
            "top_genes": _ALL,
            "next_findings": 0,
            "explain": False,
            "treatments": False,
        }
        plain = diagnose(case, **options)
        full = diagnose(case, genome=genome, **options) if genome is not None else None
    except InputError as exc:
        raise unprocessable(exc) from None
    payload = gene_explanation(kb, index, plain, full, genome, with_vcf=True)
    return {"case_id": case_id, "kb_version": kb.version, "notice": NOTICE, **payload}


@router.get(
    "/cases/{case_id}/explain",
    response_model=DiseaseExplanation | GeneExplanation,
    summary="Why a disease or a gene ranks where it does for this case",
    responses=errors(401, 403, 404, 409, 422),
)
async def explain(
    case_id: CaseIdPath,
    svc: Svc,
    user: CaseRole,
    disease: Annotated[
        Line | None, Query(min_length=1, max_length=64, description="OMIM, ORPHA or MONDO id")
    ] = None,
    gene: Annotated[
        Line | None, Query(min_length=1, max_length=64, description="HGNC symbol or id")
    ] = None,
) -> Response:
    """`disease`: its rank, posterior, likelihood ratios and every finding's evidence
    (exact, broader, narrower, related, excluded, annotated NOT, unrecorded). `gene`: its
    rank on the phenotype alone and with the VCF, its diseases in the differential, its
    genotype per mode of inheritance and every variant it carries with the reason each was
    kept or set aside. A missing or changed VCF file is a 409."""
    if (disease is None) == (gene is None):
        raise RestError(422, "give one of disease and gene")
    await run_in_threadpool(visible_case, svc.store, case_id, user.name)
    payload = await run_in_threadpool(_explain, svc, case_id, user.name, disease, gene)
    return json_response(payload)
