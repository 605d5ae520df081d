"""Cases of the user's centre: list, create, import and export phenopackets, observations and
their review, clinical decisions, Matchmaker Exchange consent, similar patients.

Every read and write goes through `raredx.store.Store` with the user's name, so it is
audited and limited to the user's centre. A case of another centre is answered exactly like
a case that does not exist (404), in every endpoint.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from raredx.api.deps import Forbidden
from raredx.api.rest.common import (
    API,
    CASE_ID_PATTERN,
    GENOME_ROLES,
    CaseRole,
    RestError,
    Svc,
    check_line,
    errors,
    json_response,
    no_case,
    unprocessable,
    visible_case,
)
from raredx.api.rest.schemas import (
    CaseCreate,
    CaseDetail,
    CaseList,
    ConfirmedDiagnosis,
    DecisionCreate,
    DecisionOut,
    MmeSharing,
    MmeSharingOut,
    ObservationOut,
    ObservationsCreate,
    ObservationsOut,
    ReviewRequest,
    SimilarCases,
)
from raredx.case import Case, PhenotypeObservation, Sex, Subject, case_to_phenopacket
from raredx.case import read_phenopacket as parse_phenopacket
from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.phenotype import parse_observed_and_excluded, parse_term
from raredx.store import Store
from raredx.store import matching as _matching
from raredx.store.accounts import UserRecord
from raredx.store.store import (
    MAX_CASE_BYTES,
    CaseSummary,
    DecisionRecord,
    NewObservation,
    ObservationRecord,
    VcfRecord,
)

__all__ = [
    "MAX_IMPORT_BYTES",
    "CaseIdPath",
    "case_detail",
    "decision_out",
    "observation_out",
    "router",
    "vcf_out",
]

MAX_IMPORT_BYTES = MAX_CASE_BYTES
"""Largest phenopacket ``POST /cases/import`` accepts (the store's per-case limit, 4 MiB)."""

CaseIdPath = Annotated[str, Path(min_length=1, max_length=256, description="Case id")]
ObservationIdPath = Annotated[int, Path(ge=1, le=2**31 - 1, description="Observation id")]

router = APIRouter(prefix=f"{API}/cases", tags=["Cases"])

_CASE_ID = re.compile(CASE_ID_PATTERN)
_SEX = {"M": Sex.MALE, "F": Sex.FEMALE, None: Sex.UNKNOWN_SEX}


# -- records as JSON ------------------------------------------------------------------------------


def observation_out(o: ObservationRecord) -> dict[str, Any]:
    return {
        "id": o.id,
        "term_id": o.term_id,
        "label": o.label,
        "excluded": o.excluded,
        "provenance": o.provenance,
        "review_status": o.review_status,
        "evidence": o.evidence,
        "reviewed_by": o.reviewed_by,
        "reviewed_at": o.reviewed_at,
    }


def decision_out(d: DecisionRecord) -> dict[str, Any]:
    return {"id": d.id, "kind": d.kind, "value": d.value, "user": d.user, "created": d.created}


def vcf_out(v: VcfRecord) -> dict[str, Any]:
    path = v.path[len("file://") :] if v.path.startswith("file://") else v.path
    return {
        "id": v.id,
        "file": path.replace("\\", "/").rsplit("/", 1)[-1],
        "assembly": v.assembly,
        "sample": v.sample,
        "sha256": v.sha256,
        "size": v.size,
        "attached": v.attached,
        "evidence_cached": v.evidence_at is not None,
    }


def _summary_out(summary: CaseSummary) -> dict[str, Any]:
    return {
        "id": summary.id,
        "patient": summary.patient,
        "centre": summary.centre,
        "status": summary.status,
        "created": summary.created,
        "updated": summary.updated,
        "new_results": bool(summary.new_results),
    }


def case_detail(store: Store, case_id: str, user: UserRecord) -> dict[str, Any]:
    """Everything recorded about a visible case (404 otherwise), as `CaseDetail`."""
    visible_case(store, case_id, user.name)
    try:
        summary = store.case_summary(case_id, user=user.name)
        case = store.get_case(case_id, user=user.name)
        observations = store.observations(case_id, user=user.name)
        analyses = store.analyses(case_id, user=user.name)
        decisions = store.decisions(case_id, user=user.name)
        vcfs = store.vcfs(case_id, user=user.name)
        shared = summary.mme_shared
    except InputError:
        raise no_case(case_id) from None
    analysis_rows = []
    for a in analyses:
        diseases = a.results.get("diseases") or []
        genes = a.results.get("genes") or []
        analysis_rows.append(
            {
                "id": a.id,
                "kb_version": a.kb_version,
                "created": a.created,
                "genome": a.results.get("genome") is not None,
                "top_disease": diseases[0].get("disease_id") if diseases else None,
                "top_gene": genes[0].get("symbol") if genes else None,
            }
        )
    return {
        **_summary_out(summary),
        "mme_shared": bool(shared),
        "sex": case.subject.sex.value,
        "age_years": case.subject.age_years,
        "observations": [observation_out(o) for o in observations],
        "analyses": analysis_rows,
        "decisions": [decision_out(d) for d in decisions],
        "vcfs": [vcf_out(v) for v in vcfs],
    }


# -- listing, creating, importing -----------------------------------------------------------------


@router.get(
    "",
    response_model=CaseList,
    summary="The cases of the user's centre",
    responses=errors(401, 403),
)
def list_cases(
    svc: Svc,
    user: CaseRole,
    status: Annotated[
        Literal["unsolved", "solved", "new_results"] | None,
        Query(description="Only unsolved, solved, or cases with unread analysis results"),
    ] = None,
) -> Any:
    """Every case of the user's centre (oldest first), optionally filtered."""
    wanted = status if status in ("unsolved", "solved") else None
    found = svc.store.list_cases(user.centre, wanted, user=user.name)
    rows = [_summary_out(s) for s in found]
    if status == "new_results":
        rows = [r for r in rows if r["new_results"]]
    return {"cases": rows}


def _observed_features(
    kb: KnowledgeBase, observed: Sequence[str], excluded: Sequence[str]
) -> tuple[PhenotypeObservation, ...]:
    try:
        parsed = parse_observed_and_excluded(kb, list(observed), list(excluded))
    except InputError as exc:
        raise unprocessable(exc) from None
    return tuple(PhenotypeObservation(t.id, label=t.label) for t in parsed.observed) + tuple(
        PhenotypeObservation(t.id, label=t.label, excluded=True) for t in parsed.excluded
    )


def _store_case(svc: Svc, case: Case, user: UserRecord, provenance: str) -> dict[str, Any]:
    try:
        svc.store.add_case(case, centre=user.centre, user=user.name, provenance=provenance)
    except InputError as exc:
        if any("already exists" in p for p in exc.problems):
            raise RestError(
                409,
                f"case id {case.id!r} is not available",
                ["choose another id (or leave it out when creating a case)"],
            ) from None
        raise unprocessable(exc) from None
    return case_detail(svc.store, case.id, user)


def _created(detail: dict[str, Any]) -> Response:
    return json_response(
        CaseDetail.model_validate(detail).model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"{API}/cases/{quote(detail['id'], safe='')}"},
    )


@router.post(
    "",
    response_model=CaseDetail,
    status_code=201,
    summary="Create a case (typed observations are accepted at once)",
    responses=errors(401, 403, 409, 422),
)
def create_case(body: CaseCreate, svc: Svc, user: CaseRole) -> Response:
    """A new case of the user's centre for the patient `patient` (a pseudonymous id: never a
    name). Observed and excluded terms (HPO ids or exact names) become accepted
    observations; unknown or contradictory terms are a 422 and nothing is stored."""
    features = _observed_features(svc.kb, body.observed, body.excluded)
    case_id = body.id or f"case-{secrets.token_hex(6)}"
    subject = Subject(id=body.patient, sex=_SEX[body.sex], age_years=body.age_years)
    case = Case(id=case_id, subject=subject, features=features)
    return _created(_store_case(svc, case, user, "typed"))


async def _bounded_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 beyond `limit` bytes (declared or streamed)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RestError(413, f"request body over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RestError(413, f"request body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _import(svc: Svc, data: bytes, user: UserRecord) -> dict[str, Any]:
    if not data.strip():
        raise RestError(422, "cannot import the phenopacket", ["the request body is empty"])
    try:
        case = parse_phenopacket(data, name="request body")
    except InputError as exc:
        raise unprocessable(exc) from None
    problems = []
    for what, value, width in (("case id", case.id, 256), ("subject id", case.subject.id, 128)):
        try:
            check_line(value)
        except ValueError as exc:
            problems.append(f"{what}: {exc}")
            continue
        if len(value) > width or not _CASE_ID.fullmatch(value) or value != value.strip():
            problems.append(
                f"{what} {value!r}: at most {width} characters: letters, digits, spaces and "
                "._:@+()- (starting with a letter or digit)"
            )
    if problems:
        raise RestError(422, "cannot import the phenopacket", problems)
    return _store_case(svc, case, user, "phenopacket")


@router.post(
    "/import",
    response_model=CaseDetail,
    status_code=201,
    summary="Import a GA4GH Phenopacket v2 (or Family) as a new case",
    responses=errors(401, 403, 409, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": f"Phenopacket v2 JSON, at most {MAX_IMPORT_BYTES} bytes",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def import_case(request: Request, svc: Svc, user: CaseRole) -> Response:
    """The phenopacket's subject id becomes the patient's pseudonymous id; its phenotypic
    features are accepted observations. Invalid phenopackets are a 422 naming every
    offending field; nothing is stored."""
    data = await _bounded_body(request, MAX_IMPORT_BYTES)
    return _created(await run_in_threadpool(_import, svc, data, user))


# -- one case -------------------------------------------------------------------------------------


@router.get(
    "/{case_id}",
    response_model=CaseDetail,
    summary="A case: summary, observations and their review, analyses, decisions, VCFs",
    responses=errors(401, 403, 404),
)
def get_case(case_id: CaseIdPath, svc: Svc, user: CaseRole) -> Any:
    """Everything recorded about the case (each read is audited)."""
    return case_detail(svc.store, case_id, user)


@router.get(
    "/{case_id}/phenopacket",
    response_model=dict[str, Any],
    summary="Export the case as a GA4GH Phenopacket v2",
    responses=errors(401, 403, 404),
)
def export_case(case_id: CaseIdPath, svc: Svc, user: CaseRole) -> Response:
    """The stored phenopacket: its phenotypic features are the accepted observations."""
    visible_case(svc.store, case_id, user.name)
    try:
        case = svc.store.get_case(case_id, user=user.name)
    except InputError:
        raise no_case(case_id) from None
    return json_response(case_to_phenopacket(case))


def _new_observations(kb: KnowledgeBase, body: ObservationsCreate) -> list[NewObservation]:
    out: list[NewObservation] = []
    problems: list[str] = []
    for i, item in enumerate(body.terms, 1):
        try:
            term = parse_term(kb, item.id)
        except InputError as exc:
            problems.extend(f"terms[{i}]: {p}" for p in (exc.problems or [exc.message]))
            continue
        out.append(NewObservation(term.id, item.excluded, item.evidence, term.label))
    if problems:
        raise RestError(422, "unknown or malformed HPO terms", problems)
    return out


@router.post(
    "/{case_id}/observations",
    response_model=ObservationsOut,
    status_code=201,
    summary="Add observations (typed: accepted; from a note or labs: proposed for review)",
    responses=errors(401, 403, 404, 409, 422),
)
def add_observations(
    case_id: CaseIdPath, body: ObservationsCreate, svc: Svc, user: CaseRole
) -> Any:
    """Observations with provenance `typed` join the case's phenotype at once; those read
    from a note or derived from lab results are *proposed* until reviewed. A term the case
    already has is not added twice (its observation is returned). A typed term whose
    opposite is accepted is a 409: review that observation instead."""
    visible_case(svc.store, case_id, user.name)
    new = _new_observations(svc.kb, body)
    try:
        ids = svc.store.add_observations(case_id, new, provenance=body.provenance, user=user.name)
        wanted = set(ids)
        found = [o for o in svc.store.observations(case_id, user=user.name) if o.id in wanted]
    except InputError as exc:
        conflict = any("instead" in p for p in exc.problems)
        raise unprocessable(exc, 409 if conflict else 422) from None
    by_id = {o.id: o for o in found}
    ordered = [by_id[i] for i in dict.fromkeys(ids) if i in by_id]
    return {"case_id": case_id, "observations": [observation_out(o) for o in ordered]}


@router.post(
    "/{case_id}/observations/{observation_id}/review",
    response_model=ObservationOut,
    summary="Accept or reject an observation (accepted ones are the case's phenotype)",
    responses=errors(401, 403, 404, 409, 422),
)
def review_observation(
    case_id: CaseIdPath,
    observation_id: ObservationIdPath,
    body: ReviewRequest,
    svc: Svc,
    user: CaseRole,
) -> Any:
    """Records who reviewed it and when; `excluded` (with an acceptance) also sets whether the
    patient has the finding. Accepting a term the case already has accepted (another
    observation of it) is a 409: reject that one first."""
    if body.excluded is not None and body.status == "rejected":
        raise RestError(422, "excluded goes with an acceptance, not with a rejection")
    visible_case(svc.store, case_id, user.name)
    try:
        record = svc.store.review_observation(
            observation_id,
            status=body.status,
            excluded=body.excluded,
            user=user.name,
            case_id=case_id,
        )
    except InputError as exc:
        if any("first" in p for p in exc.problems):
            raise unprocessable(exc, 409) from None
        raise RestError(404, f"no observation {observation_id} of case {case_id!r}") from None
    return observation_out(record)


def _decision_value(kb: KnowledgeBase, body: Any) -> dict[str, Any]:
    value: dict[str, Any] = body.value.model_dump(exclude_none=True)
    try:
        if isinstance(body, ConfirmedDiagnosis):
            kb.disease(value["disease_id"].strip())
        else:
            value["gene"] = kb.gene_symbols[kb.resolve_gene(value["gene"].strip())]
    except InputError as exc:
        raise unprocessable(exc) from None
    return value


@router.post(
    "/{case_id}/decisions",
    response_model=DecisionOut,
    status_code=201,
    summary="Record a clinical decision (diagnosis confirmed, variant classified)",
    responses=errors(401, 403, 404, 422),
)
def record_decision(
    case_id: CaseIdPath, body: DecisionCreate, svc: Svc, user: CaseRole
) -> Response:
    """`diagnosis_confirmed` (a disease id the KB knows) makes the case solved;
    `variant_classified` (a known gene, the variant and its ACMG class) is for geneticists
    and admins only."""
    if body.kind == "variant_classified" and user.role not in GENOME_ROLES:
        raise Forbidden(f"this needs the role {' or '.join(GENOME_ROLES)}")
    visible_case(svc.store, case_id, user.name)
    value = _decision_value(svc.kb, body)
    try:
        decision_id = svc.store.record_decision(case_id, body.kind, value, user=user.name)
        found = [d for d in svc.store.decisions(case_id, user=user.name) if d.id == decision_id]
    except InputError as exc:
        raise unprocessable(exc) from None
    payload = DecisionOut.model_validate(decision_out(found[0])).model_dump(mode="json")
    return json_response(payload, status_code=201)


@router.put(
    "/{case_id}/mme-sharing",
    response_model=MmeSharingOut,
    summary="Record (or withdraw) the consent to share the case through Matchmaker Exchange",
    responses=errors(401, 403, 404),
)
def set_mme_sharing(case_id: CaseIdPath, body: MmeSharing, svc: Svc, user: CaseRole) -> Any:
    """Only shared cases are ever sent to or returned to peer matchmakers."""
    visible_case(svc.store, case_id, user.name)
    try:
        svc.store.set_mme_sharing(case_id, body.shared, user=user.name)
    except InputError:
        raise no_case(case_id) from None
    return {"case_id": case_id, "mme_shared": body.shared}


@router.get(
    "/{case_id}/similar",
    response_model=SimilarCases,
    summary="The most similar cases of the centre (phenotype and candidate genes)",
    responses=errors(401, 403, 404, 422),
)
def similar(
    case_id: CaseIdPath,
    svc: Svc,
    user: CaseRole,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Any:
    """score = 0.7 x phenotype similarity (symmetric Resnik best-match average, 0-1) + 0.3 x
    candidate-gene similarity (weighted Jaccard of the top genes, 0-1); best first."""
    visible_case(svc.store, case_id, user.name)
    try:
        found = _matching.similar_cases(svc.store, svc.kb, case_id, user=user.name, limit=limit)
    except InputError as exc:
        raise unprocessable(exc) from None
    return {
        "case_id": case_id,
        "kb_version": svc.kb.version,
        "matches": [m.to_dict() for m in found],
    }
