"""The web UI: server-rendered pages (Jinja2, autoescaped) with a little vanilla JavaScript.

`include_web(app)` adds the pages (login, cases, case, results, reports) and the static files
(``/static``: the style sheet and script, served from the package; no CDN, no build step).
Strings are in English and French (`raredx.web.i18n`).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

__all__ = ["include_web"]


def include_web(app: FastAPI) -> None:
    """Register the web UI's pages and its static files on `app`."""
    from raredx.web.routes import router

    app.include_router(router)
    app.mount("/static", StaticFiles(packages=[("raredx.web", "static")]), name="static")
