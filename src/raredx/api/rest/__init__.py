"""The JSON REST API under ``/api/v1`` (issue #8): knowledge base, HPO search, notes and lab
results to HPO, stateless diagnosis, cases, observations and their review, decisions, VCF
uploads, analyses (background jobs with a VCF), explanations, treatments, similar cases and
reanalysis. docs/api.md describes it; the OpenAPI spec is at ``/openapi.json``.

`include_rest(app)` registers it on the app built by `raredx.api.create_app`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from raredx.api.rest import (
    analyses,
    cases,
    common,
    diagnose,
    hpo,
    jobs,
    kb,
    phenotype,
    reanalysis,
    treatments,
    vcf,
)
from raredx.store import StoreError

__all__ = ["include_rest"]

_CASES = f"{common.API}/cases/"
_UPLOAD = re.compile(rf"^{re.escape(_CASES)}[^/]+/vcf$")
_large_bodies_allowed = False
_log = logging.getLogger(__name__)


class _CaseBodyLimit:
    """Keeps the app's body limit on every path under ``/api/v1/cases/`` but the VCF upload:
    the app's own check is lifted for the whole prefix, since a prefix cannot single out
    ``/api/v1/cases/{id}/vcf``."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith(_CASES) and not _UPLOAD.match(path):
            declared = next(
                (v for k, v in scope.get("headers", ()) if k.lower() == b"content-length"), b""
            )
            if declared.isdigit() and int(declared) > self.limit:
                body = common.json_bytes({"detail": f"request body over {self.limit} bytes"})
                await send(
                    {
                        "type": "http.response.start",
                        "status": 413,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"x-content-type-options", b"nosniff"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _start_jobs(runner: jobs.JobRunner) -> None:
    """Mark the jobs of server processes that are gone as interrupted (a store that fails now
    is reported by the first request that needs it, not by refusing to start)."""
    try:
        runner.start()
    except StoreError:
        _log.warning("cannot check the store for interrupted jobs", exc_info=True)


def include_rest(app: FastAPI) -> None:
    """Register the REST API on `app`: its routers, its error replies, the body-size rules of
    VCF uploads, and the background job runner over the app's store (started with the app:
    jobs of server processes that are gone are marked interrupted; stopped, after its running
    jobs finish, when the app shuts down). Calling it again on the same app does nothing."""
    global _large_bodies_allowed
    if hasattr(app.state, "rest_jobs"):
        return
    from raredx.api.app import MAX_REQUEST_BYTES, allow_large_bodies  # app.py imports us

    runner = jobs.JobRunner(app.state.services.store, workers=2)
    app.state.rest_jobs = runner
    app.add_exception_handler(common.RestError, common.rest_error_handler)
    app.add_exception_handler(StoreError, common.store_error_handler)
    app.add_exception_handler(RequestValidationError, common.validation_error_handler)
    for module in (kb, hpo, phenotype, diagnose, cases, vcf, analyses, treatments, reanalysis):
        app.include_router(module.router)
    if not _large_bodies_allowed:
        allow_large_bodies(_CASES)
        _large_bodies_allowed = True
    app.add_middleware(_CaseBodyLimit, limit=MAX_REQUEST_BYTES)

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(started: Any) -> AsyncIterator[Any]:
        async with inner(started) as state:
            try:
                await run_in_threadpool(_start_jobs, runner)
                yield state
            finally:
                await run_in_threadpool(runner.shutdown)

    app.router.lifespan_context = lifespan
