"""What the REST modules share: roles, error replies, checked text types, case visibility.

Errors are JSON ``{"detail": message, "problems": [...]}`` like the app's `InputError`
replies (400), with the more precise status where there is one: 404 (no such case, or a case
of a centre the user may not see: the same reply for both, so nobody learns that another
centre's id exists), 409 (conflicts with the case's state), 413, 415 and 422 (valid JSON
whose content raredx cannot use: unknown HPO ids, contradictions...).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import AfterValidator, BaseModel, Field

from raredx.api.auth import error_body
from raredx.api.deps import Services, require_roles, services
from raredx.api.rest.jobs import JobRunner
from raredx.errors import InputError
from raredx.store import Store
from raredx.store.accounts import UserRecord

__all__ = [
    "API",
    "CASE_ID_PATTERN",
    "CASE_ROLES",
    "GENOME_ROLES",
    "REST_PREFIXES",
    "CaseRole",
    "ErrorBody",
    "GenomeRole",
    "Line",
    "RestError",
    "Svc",
    "Text",
    "check_line",
    "check_text",
    "errors",
    "job_runner",
    "json_bytes",
    "json_response",
    "no_case",
    "rest_error_handler",
    "store_error_handler",
    "unprocessable",
    "validation_error_handler",
    "visible_case",
]

API = "/api/v1"

CASE_ROLES = ("clinician", "geneticist", "admin")
"""Roles that may read and change the cases of their own centre."""

GENOME_ROLES = ("geneticist", "admin")
"""Roles that may upload VCFs, record variant classifications and run reanalysis."""

CASE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._:@+()\-]*$"
"""Ids of cases (and patient pseudonyms) the API creates or imports: a letter or digit, then
letters, digits, spaces and ``._:@+()-`` (no markup, slashes, quotes or control characters)."""

_log = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"[\t\n\r\x85\u2028\u2029]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def check_text(value: str) -> str:
    """`value` unless it holds control characters (NUL...; tab and line breaks are fine) or
    lone surrogates (not Unicode: a database would refuse them)."""
    if _CONTROL.search(value):
        raise ValueError("control characters (such as NUL) are not allowed")
    if _SURROGATE.search(value):
        raise ValueError("lone surrogate characters are not allowed (not valid Unicode)")
    return value


def check_line(value: str) -> str:
    """`check_text` without tabs or line breaks (ids, names, labels)."""
    check_text(value)
    if _LINE_BREAKS.search(value):
        raise ValueError("tabs and line breaks are not allowed here")
    return value


Text = Annotated[str, AfterValidator(check_text)]
"""Free text (notes, evidence): no control characters but tab and line breaks."""

Line = Annotated[str, AfterValidator(check_line)]
"""One line of text (ids, names): no control characters at all."""

Svc = Annotated[Services, Depends(services)]
CaseRole = Annotated[UserRecord, Depends(require_roles(*CASE_ROLES))]
GenomeRole = Annotated[UserRecord, Depends(require_roles(*GENOME_ROLES))]


class ErrorBody(BaseModel):
    """An error: what went wrong, and every offending item."""

    detail: str
    problems: list[str] = Field(default_factory=list)


class RestError(Exception):
    """An error reply with its status (see the module docstring)."""

    def __init__(self, status: int, detail: str, problems: Sequence[str] = ()) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.problems = tuple(problems)


async def rest_error_handler(request: Request, exc: Exception) -> Response:
    """The JSON reply of a `RestError`."""
    assert isinstance(exc, RestError)
    return JSONResponse(
        {"detail": exc.detail, "problems": list(exc.problems)}, status_code=exc.status
    )


REST_PREFIXES = tuple(
    f"{API}/{p}"
    for p in ("kb", "hpo/", "phenotype/", "diagnose", "cases", "jobs/", "treatments", "reanalyze")
)
"""Paths of the REST API's own operations."""


def _printable(text: str, width: int = 300) -> str:
    """`text` with lone surrogates replaced (they cannot be encoded) and cut at `width`."""
    clean = text.encode("utf-8", "replace").decode("utf-8")
    return clean if len(clean) <= width else clean[: width - 1] + "…"


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    """422 for a request that does not fit its schema. REST operations answer like every
    other error (``{"detail", "problems"}``, one problem per field); others keep FastAPI's
    format. Neither echoes the input back (it may be huge, or not even encodable)."""
    assert isinstance(exc, RequestValidationError)
    errors_ = list(exc.errors())
    if request.url.path.startswith(REST_PREFIXES):
        problems = [
            _printable(
                ".".join(str(p) for p in e.get("loc", ()) if p != "body") + f": {e.get('msg')}"
            )
            for e in errors_[:50]
        ]
        return JSONResponse(
            {"detail": "the request does not fit the API", "problems": problems},
            status_code=422,
        )
    detail = [
        {
            "type": _printable(str(e.get("type", ""))),
            "loc": [_printable(str(p)) if isinstance(p, str) else p for p in e.get("loc", ())],
            "msg": _printable(str(e.get("msg", ""))),
        }
        for e in errors_[:50]
    ]
    return JSONResponse({"detail": detail}, status_code=422)


async def store_error_handler(request: Request, exc: Exception) -> Response:
    """503 for a store that cannot be reached or is too busy (`StoreError`): retry later."""
    _log.error("store error on %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": "the case store is unavailable or busy: retry shortly", "problems": []},
        status_code=503,
        headers={"Retry-After": "1"},
    )


def unprocessable(exc: InputError, status: int = 422) -> RestError:
    """`exc` as a 422 (or `status`) reply with the same message and problems."""
    body = error_body(exc)
    return RestError(status, body["detail"], body["problems"])


def no_case(case_id: str) -> RestError:
    """The one reply for a case that does not exist or that the user may not see."""
    return RestError(404, f"no case {case_id!r}")


def visible_case(store: Store, case_id: str, user: str) -> str:
    """The centre of `case_id` when `user` may see it; else `no_case` (404)."""
    try:
        check_line(case_id)
    except ValueError:
        raise no_case(case_id) from None
    if not case_id or len(case_id) > 256:
        raise no_case(case_id)
    try:
        return store.case_centre(case_id, user=user)
    except InputError:
        raise no_case(case_id) from None


_DESCRIPTIONS = {
    400: "Bad input (the message names every problem)",
    401: "Not authenticated (no, invalid or revoked API token; no session)",
    403: "Not allowed for this role, or missing CSRF token (session requests)",
    404: "Not found (or not visible to the user's centre)",
    409: "Conflicts with the current state",
    413: "Request body too large",
    415: "Unsupported content",
    422: "Valid JSON that cannot be used (unknown HPO ids, contradictions, bad values)",
    503: "The case store is unavailable or busy: retry",
    507: "The server cannot store the upload (disk full, permissions)",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these error statuses (all with `ErrorBody`)."""
    return {c: {"model": ErrorBody, "description": _DESCRIPTIONS[c]} for c in codes}


def json_bytes(payload: Any) -> bytes:
    """`payload` as compact JSON bytes (numpy scalars allowed)."""
    return orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


def json_response(
    payload: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON reply serialised with orjson (fast for large results; no model validation)."""
    return Response(
        json_bytes(payload),
        status_code=status_code,
        media_type="application/json",
        headers=dict(headers) if headers else None,
    )


def job_runner(request: Request) -> JobRunner:
    """The app's job runner (FastAPI dependency; set up by `include_rest`)."""
    runner: JobRunner = request.app.state.rest_jobs
    return runner
