"""``POST /match``: the Matchmaker Exchange search endpoint (MME API v1.0/v1.1).

Checks, in this order, each answered with a JSON ``{"message": ...}`` body and the MME media
type as ``Content-Type``:

| status | when |
| --- | --- |
| 401 | no ``X-Auth-Token`` header, or a token no configured peer may use |
| 415 | the ``Content-Type`` is not ``application/vnd.ga4gh.matchmaker.vX.Y+json`` |
| 406 | the version (``Content-Type`` or an MME ``Accept``) is not 1.x; ``Accept`` bars JSON |
| 413 | the body is over `MAX_BODY_BYTES` |
| 400 | the body is not UTF-8 JSON, or not a JSON object |
| 422 | the JSON is not a valid MME request (the message names the first problems) |
| 405 | any method but POST |

A 200 answer is in the request's minor version when this node speaks it (1.0 or 1.1), else in
1.1 (minor versions are cross-compatible).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError

from raredx.api.deps import Services, services
from raredx.mme.matcher import answer_match
from raredx.mme.schema import (
    LATEST_VERSION,
    MEDIA_TYPE,
    SUPPORTED_VERSIONS,
    MatchRequest,
    MatchResponse,
    media_type,
    parse_media_type,
)

__all__ = ["MAX_BODY_BYTES", "router"]

MAX_BODY_BYTES = 1 << 20
"""Largest accepted request body (1 MiB; a 500-feature patient is about 60 KB)."""

_JSON_ACCEPT = ("*/*", "application/*", "application/json")

router = APIRouter(tags=["Matchmaker Exchange"])


class _Refused(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"message": message, **extra}


def _mme_json(body: object, status: int = 200, version: str = LATEST_VERSION) -> Response:
    return Response(
        content=json.dumps(body, ensure_ascii=False, allow_nan=False),
        status_code=status,
        media_type=media_type(version),
    )


def _check_token(request: Request, svc: Services) -> None:
    token = request.headers.get("x-auth-token")
    if svc.mme is None:
        raise _Refused(401, "this node takes part in no Matchmaker Exchange (no peers configured)")
    if not token:
        raise _Refused(401, "missing X-Auth-Token header")
    if svc.mme.peer_for_token(token) is None:
        raise _Refused(401, "invalid X-Auth-Token")


def _response_version(request: Request) -> str:
    content_type = request.headers.get("content-type", "")
    version = parse_media_type(content_type)
    if version is None:
        raise _Refused(
            415,
            "Content-Type must be application/vnd.ga4gh.matchmaker.vX.Y+json "
            f"(got {content_type[:100]!r})",
        )
    unsupported = {"supportedVersions": list(SUPPORTED_VERSIONS)}
    if version[0] != 1:
        raise _Refused(406, f"unsupported API version {version[0]}.{version[1]}", **unsupported)
    accepted = [a.strip() for a in request.headers.get("accept", "").split(",") if a.strip()]
    if accepted:
        kinds = [a.split(";", 1)[0].strip().lower() for a in accepted]
        mme_versions = [v for v in map(parse_media_type, accepted) if v is not None]
        if not any(v[0] == 1 for v in mme_versions) and not any(k in _JSON_ACCEPT for k in kinds):
            raise _Refused(406, "Accept allows no MME v1 response", **unsupported)
    wanted = f"{version[0]}.{version[1]}"
    return wanted if wanted in SUPPORTED_VERSIONS else LATEST_VERSION


async def _read_request(request: Request) -> MatchRequest:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _Refused(413, f"request body over {MAX_BODY_BYTES} bytes")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise _Refused(413, f"request body over {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(bytes(raw).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Refused(400, f"the body is not UTF-8 JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _Refused(400, "the body must be a JSON object with a 'patient'")
    try:
        return MatchRequest.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()[:20]
        ]
        raise _Refused(
            422, "invalid MME request: " + "; ".join(problems[:3]), errors=problems
        ) from None


@router.post(
    "/match",
    summary="Matchmaker Exchange search",
    response_model=MatchResponse,
    responses={
        200: {"content": {MEDIA_TYPE: {}}},
        400: {"description": "body is not a JSON object"},
        401: {"description": "missing or invalid X-Auth-Token"},
        406: {"description": "unsupported API version"},
        413: {"description": "body too large"},
        415: {"description": "missing or invalid Content-Type"},
        422: {"description": "not a valid MME request"},
    },
)
async def match(request: Request, svc: Annotated[Services, Depends(services)]) -> Response:
    """Answer an MME search with this node's best-matching shared patients."""
    try:
        _check_token(request, svc)
        version = _response_version(request)
        query = await _read_request(request)
    except _Refused as refused:
        return _mme_json(refused.body, refused.status)
    assert svc.mme is not None  # _check_token refused otherwise
    answer = await run_in_threadpool(answer_match, svc.store, svc.kb, svc.mme.node, query)
    return _mme_json(answer, 200, version)


@router.api_route("/match", methods=["GET", "PUT", "DELETE", "PATCH"], include_in_schema=False)
async def match_other_methods() -> Response:
    """The MME specification's 405 for anything but POST."""
    response = _mme_json({"message": "use POST"}, 405)
    response.headers["Allow"] = "POST"
    return response
