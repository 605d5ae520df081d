"""``POST /api/v1/reanalyze``: re-run the centre's unsolved cases with the current knowledge
base and report what changed (`raredx.store.reanalysis`, as ``raredx reanalyze``).

It runs in the background (cases with a VCF may need their genome read): 202 with a job id;
the job's result lists the re-run cases and the material changes. Every re-run is recorded
as a new analysis. Geneticists and admins only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from raredx.api.deps import Services
from raredx.api.rest.analyses import accepted
from raredx.api.rest.common import API, GenomeRole, Svc, errors, job_runner
from raredx.api.rest.jobs import JobRunner
from raredx.api.rest.schemas import AcceptedJob, ReanalysisRequest
from raredx.store import reanalysis as _reanalysis

__all__ = ["router"]

router = APIRouter(prefix=API, tags=["Analyses"])


def _reanalyse(
    svc: Services, user: str, body: ReanalysisRequest, step: Callable[[str], None]
) -> dict[str, Any]:
    step("re-running the due cases")
    found = _reanalysis.reanalyze(
        svc.store, svc.kb, user=user, since_kb=body.since_kb, threshold=body.threshold
    )
    changed = _reanalysis.changed_only(found)
    return {
        "kb_version": svc.kb.version,
        "since_kb": body.since_kb,
        "threshold": body.threshold,
        "reanalysed": [c.case_id for c in found],
        "changed": [c.to_dict() for c in changed],
    }


@router.post(
    "/reanalyze",
    response_model=AcceptedJob,
    status_code=202,
    summary="Re-run the centre's unsolved cases with the current KB; report material changes",
    responses=errors(401, 403, 422),
)
def reanalyze(
    body: ReanalysisRequest,
    svc: Svc,
    user: GenomeRole,
    jobs: Annotated[JobRunner, Depends(job_runner)],
) -> Response:
    """A case is due when its latest analysis used another KB (with `since_kb`: one sorting
    before it) or other ranking parameters. Reported changes: new gene-disease links,
    posteriors crossing `threshold`, newly treatable candidates, cases that could not be
    re-run. Poll ``GET /api/v1/jobs/{job_id}`` for the result."""
    job = jobs.submit(
        "reanalysis",
        lambda step: _reanalyse(svc, user.name, body, step),
        centre=user.centre,
        user=user.name,
    )
    return accepted(job)
