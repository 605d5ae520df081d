"""`raredx serve`: the web app, REST API and MME endpoint on one port."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from raredx.cli._output import err_console, exit_on_error
from raredx.cli.kb import KB_OPTION
from raredx.cli.mme import CONFIG_OPTION

__all__ = ["serve"]


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64, help="Worker processes (each loads the KB once)."
    ),
    config: Path | None = CONFIG_OPTION,
    kb_version: str | None = KB_OPTION,
) -> None:
    """Serve the raredx web app, REST API (/api/v1, OpenAPI at /docs) and MME /match.

    The store is $RAREDX_DATABASE_URL, else the SQLite file in the raredx home. On a store
    without users, the user `admin` is created with a random password printed once here;
    add others with `raredx users add`. Behind HTTPS, set RAREDX_SECURE_COOKIES=1.
    """
    import uvicorn

    from raredx.api.app import APP_KB_ENV, APP_MME_ENV, create_app
    from raredx.api.auth import FIRST_ADMIN, first_start

    with exit_on_error():
        application = create_app(kb_version=kb_version, mme_config=config)
        password = first_start(application.state.services)
    if password is not None:
        err_console.print(
            f"first start: created user {FIRST_ADMIN!r} with password {password!r} "
            "(shown once; change it with `raredx users passwd admin`)",
            highlight=False,
            markup=False,
        )
    err_console.print(f"raredx serving on http://{host}:{port}", highlight=False, markup=False)
    if workers == 1:
        uvicorn.run(application, host=host, port=port, log_level="warning")
        return
    # Several processes need an import string; they rebuild the app from these variables.
    application.state.services.store.close()
    if kb_version:
        os.environ[APP_KB_ENV] = kb_version
    if config is not None:
        os.environ[APP_MME_ENV] = str(config)
    uvicorn.run(
        "raredx.api.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )
