"""``POST /api/v1/diagnose``: a stateless, phenotype-only differential diagnosis.

The path is kept lean for load (many concurrent clients): no store access beyond
authentication (cached), no audit entry (the request holds no stored patient data), and the
result is serialised once with orjson, not re-validated. A ranking of up to `INLINE_TERMS`
terms runs on the event loop, one at a time per process, in the order requests arrive: it is
pure CPU work holding the GIL (~5-35 ms), so a thread pool would only add hand-offs between
threads and make every answer late instead of answering in turn. A larger one (up to 1,000
terms: up to about a second) goes to the thread pool, so that the process keeps answering
other requests meanwhile. The ranking is a pure function of the request and the KB,
so the latest `CACHE_SIZE` answers are kept (serialised) and a repeated request is answered
from memory.
"""

from __future__ import annotations

from collections import OrderedDict

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from raredx.api.rest.common import API, CaseRole, Svc, errors, json_bytes, unprocessable
from raredx.api.rest.schemas import DiagnoseRequest, DiagnosisOut
from raredx.diagnosis import diagnose
from raredx.errors import InputError

__all__ = ["CACHE_SIZE", "INLINE_TERMS", "router"]

CACHE_SIZE = 512
"""Answers kept in memory (about 30 KB each)."""

INLINE_TERMS = 100
"""Requests with more observed + excluded terms are ranked in the thread pool."""

router = APIRouter(prefix=API, tags=["Diagnosis"])

_cache: OrderedDict[tuple[int, str, str], bytes] = OrderedDict()  # used by the event loop only


@router.post(
    "/diagnose",
    response_model=DiagnosisOut,
    summary="Rank diseases and genes for a phenotype (nothing is stored)",
    responses=errors(401, 403, 422),
)
async def diagnose_phenotype(body: DiagnoseRequest, svc: Svc, user: CaseRole) -> Response:
    """Posterior probability, log10 likelihood ratio and per-finding evidence of the `top`
    diseases and genes, the findings worth checking next, treatments and the treatable
    diseases not to miss: the JSON of ``raredx diagnose --format json``. Terms are HPO ids
    or exact names (English or French); unknown or contradictory terms are a 422."""
    key = (id(svc.kb), svc.kb.version, body.model_dump_json())
    found = _cache.get(key)
    if found is not None:
        _cache.move_to_end(key)
        return Response(found, media_type="application/json")

    def answer() -> bytes:
        result = diagnose(
            body.observed,
            excluded=body.excluded,
            age=body.age_years,
            sex=body.sex,
            kb=svc.kb,
            top=body.top,
            top_genes=body.top,
            explain=body.explain,
            case_id="query",
        )
        return json_bytes(result.to_dict())

    try:
        if len(body.observed) + len(body.excluded) > INLINE_TERMS:
            data = await run_in_threadpool(answer)
        else:
            data = answer()
    except InputError as exc:
        raise unprocessable(exc) from None
    _cache[key] = data
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return Response(data, media_type="application/json")
