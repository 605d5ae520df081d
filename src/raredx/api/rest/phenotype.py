"""HPO terms from a clinical note (``POST /api/v1/phenotype/extract``) and from lab results
(``POST /api/v1/phenotype/labs``): the logic of ``raredx phenotype extract`` and ``raredx
phenotype labs`` (`raredx.phenotype.extract_phenotype`, `raredx.labs`). Nothing is stored:
the results are proposals for the clinician to review (then ``POST .../observations``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool

from raredx.api.rest.common import API, CaseRole, RestError, Svc, errors, unprocessable
from raredx.api.rest.schemas import ExtractRequest, ExtractResponse, LabsResponse
from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.labs import labs_to_hpo, parse_labs
from raredx.phenotype import extract_phenotype

__all__ = ["MAX_LAB_UPLOAD_BYTES", "router"]

MAX_LAB_UPLOAD_BYTES = 5 << 20
"""Largest lab file ``POST /phenotype/labs`` accepts (5 MiB: tens of thousands of results)."""

router = APIRouter(prefix=f"{API}/phenotype", tags=["Phenotype"])

_MENTION_FLAGS = ("excluded", "uncertain", "family")


def _extract(kb: KnowledgeBase, body: ExtractRequest) -> dict[str, Any]:
    try:
        found = extract_phenotype(kb, body.text, body.language, nested=body.nested)
    except InputError as exc:
        raise unprocessable(exc) from None
    payload = {"kb_version": kb.version, **found.to_dict()}
    for m in payload["mentions"]:  # the status as flags, for clients that filter on them
        m.update({flag: m["status"] == flag for flag in _MENTION_FLAGS})
    return payload


@router.post(
    "/extract",
    response_model=ExtractResponse,
    summary="HPO terms of a clinical note (EN/FR), with spans and negation, family, uncertainty",
    responses=errors(401, 403, 422),
)
async def extract(body: ExtractRequest, svc: Svc, user: CaseRole) -> Any:
    """The HPO terms a note mentions: present, excluded ("no lymphadenopathy", "pas
    d'hépatomégalie"), a relative's ("his mother has ITP") or uncertain ("suspected HLH"),
    each with its character spans. Abbreviations (AIHA, HSM, ITP, HLH...) are known."""
    return await run_in_threadpool(_extract, svc.kb, body)


def _labs(kb: KnowledgeBase, data: bytes, age: float | None, sex: str | None) -> dict[str, Any]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RestError(
            422,
            "the lab file is not UTF-8 text",
            [f"invalid byte at offset {exc.start}; save the file as UTF-8 (CSV, TSV or FHIR JSON)"],
        ) from None
    try:
        results = parse_labs(text, source="the lab file")
        found = labs_to_hpo(results, kb, age, sex)
    except InputError as exc:
        raise unprocessable(exc) from None
    return {"kb_version": kb.version, **found.to_dict()}


@router.post(
    "/labs",
    response_model=LabsResponse,
    summary="HPO terms derived from lab results (CSV/TSV or FHIR R4 JSON)",
    responses=errors(401, 403, 413, 422),
)
async def labs(
    svc: Svc,
    user: CaseRole,
    file: Annotated[
        UploadFile,
        File(description="CSV/TSV with a header (test or LOINC, value, unit...) or FHIR R4 JSON"),
    ],
    age_years: Annotated[float | None, Form(ge=0, le=150, allow_inf_nan=False)] = None,
    sex: Annotated[Literal["M", "F"] | None, Form()] = None,
) -> Any:
    """Each result is judged by the file's flag, else its range, else a cited pediatric limit
    for the child's age and sex, then mapped with LOINC2HPO: abnormal results give observed
    terms, normal ones excluded terms. Results that give no term are listed with the reason."""
    data = await file.read(MAX_LAB_UPLOAD_BYTES + 1)
    if len(data) > MAX_LAB_UPLOAD_BYTES:
        raise RestError(413, f"the lab file is larger than {MAX_LAB_UPLOAD_BYTES} bytes")
    return await run_in_threadpool(_labs, svc.kb, data, age_years, sex)
