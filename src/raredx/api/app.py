"""The raredx web application: one FastAPI app over the case store and the knowledge base.

`create_app()` builds it; ``raredx serve`` runs it with uvicorn. The knowledge base is loaded
and the store opened once, when the app is built, and shared by every request.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from raredx import __version__
from raredx.api import auth, mme, rest
from raredx.api.deps import Forbidden, NotAuthenticated, Services
from raredx.api.security import secret_key
from raredx.diagnosis import prepare_kb
from raredx.errors import InputError
from raredx.kb import KnowledgeBase, load_kb
from raredx.mme.config import default_config_path, load_config
from raredx.phenotype import term_search
from raredx.store import Store

__all__ = [
    "APP_KB_ENV",
    "APP_MME_ENV",
    "MAX_REQUEST_BYTES",
    "SECURE_COOKIES_ENV",
    "SESSION_COOKIE",
    "allow_large_bodies",
    "app_from_environment",
    "create_app",
]

APP_KB_ENV = "RAREDX_SERVE_KB"
APP_MME_ENV = "RAREDX_SERVE_MME_CONFIG"

SESSION_COOKIE = "raredx_session"
SECURE_COOKIES_ENV = "RAREDX_SECURE_COOKIES"
MAX_REQUEST_BYTES = 16 << 20
"""Largest request body outside the paths that declare their own limit (VCF uploads)."""

_LARGE_BODY_PREFIXES: list[str] = []
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
}


def allow_large_bodies(prefix: str) -> None:
    """Let requests under `prefix` exceed MAX_REQUEST_BYTES (they must bound their own size)."""
    _LARGE_BODY_PREFIXES.append(prefix)


class _LimitsAndHeaders:
    """Refuses a declared body over MAX_REQUEST_BYTES (413) outside the large-body paths, and
    adds the security headers to every response that does not set them itself. Plain ASGI:
    the ``@app.middleware`` form (BaseHTTPMiddleware) costs about a millisecond a request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        declared = Headers(scope=scope).get("content-length", "")
        large_ok = str(scope["path"]).startswith(tuple(_LARGE_BODY_PREFIXES))
        if declared.isdigit() and int(declared) > MAX_REQUEST_BYTES and not large_ok:
            too_large = JSONResponse(
                {"detail": f"request body over {MAX_REQUEST_BYTES} bytes"}, status_code=413
            )
            await too_large(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


def _is_api(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/auth/", "/match")) or "text/html" not in request.headers.get(
        "accept", ""
    )


def create_app(
    *,
    database_url: str | None = None,
    kb_version: str | None = None,
    mme_config: str | Path | None = None,
    secure_cookies: bool | None = None,
    kb: KnowledgeBase | None = None,
) -> FastAPI:
    """The raredx app. `database_url` defaults to `RAREDX_DATABASE_URL` or the SQLite store;
    `mme_config` to `$RAREDX_MME_CONFIG` or ``mme.toml`` in the raredx home (absent: no MME).
    Session cookies are marked Secure (HTTPS only) when `secure_cookies` or
    ``$RAREDX_SECURE_COOKIES=1``: set it whenever the app is served over HTTPS. `kb`, when
    given, is used instead of loading `kb_version` (tests share one loaded KB).

    Configuration errors (unreadable KB, bad MME file, unreachable database) are raised here,
    before the server listens, not at the first request.
    """
    config_path = Path(mme_config) if mme_config is not None else default_config_path()
    config = load_config(config_path) if mme_config is not None or config_path.exists() else None
    kb = kb if kb is not None else load_kb(kb_version)
    store = Store.open(database_url)
    if secure_cookies is None:
        secure_cookies = os.environ.get(SECURE_COOKIES_ENV, "") in ("1", "true", "yes")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Built before the first request, not during it (about 1.5 s once per process).
        await run_in_threadpool(prepare_kb, kb)
        await run_in_threadpool(term_search, kb)
        try:
            yield
        finally:
            store.close()

    app = FastAPI(
        title="raredx",
        version=__version__,
        description="Ranked, explained differential diagnosis for rare genetic diseases. "
        "Decision support: raredx supports, and never replaces, the clinician's judgement.",
        lifespan=lifespan,
    )
    app.state.services = Services(store=store, kb=kb, mme=config)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key(),
        session_cookie=SESSION_COOKIE,
        max_age=12 * 3600,
        same_site="lax",
        https_only=secure_cookies,
    )

    app.add_middleware(_LimitsAndHeaders)

    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        if request.method == "GET" and not _is_api(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={auth.quote_path(target)}", status_code=303)
        return JSONResponse(
            {"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> Response:
        return JSONResponse(auth.error_body(exc), status_code=400)

    app.include_router(mme.router)
    app.include_router(auth.router)
    rest.include_rest(app)
    # Imported here: raredx.web's pages import raredx.api (auth, deps) themselves.
    from raredx.web import include_web

    include_web(app)
    return app


def app_from_environment() -> FastAPI:
    """The app as `raredx serve --workers N` builds it in each worker process."""
    return create_app(
        kb_version=os.environ.get(APP_KB_ENV) or None,
        mme_config=os.environ.get(APP_MME_ENV) or None,
    )
