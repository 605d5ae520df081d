"""`raredx serve`: the web app, REST API and MME endpoint on one port."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import typer

from raredx.cli._options import KB_OPTION
from raredx.cli._output import err_console, exit_on_error
from raredx.cli.mme import CONFIG_OPTION

__all__ = ["serve"]


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        max=64,
        help="Worker processes (each loads the KB once; on Linux each has its own socket, "
        "so the kernel spreads clients evenly over them).",
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
    from raredx.api.server import (
        APP_FACTORY,
        REUSEPORT_BALANCES,
        listening_sockets,
        serve_workers,
    )

    with exit_on_error():
        # Before the KB loads: a taken port is a prompt error.
        sockets = (
            listening_sockets(host, port, workers) if workers > 1 and REUSEPORT_BALANCES else []
        )
        application = create_app(kb_version=kb_version, mme_config=config)
        password = first_start(application.state.services)
    if password is not None:
        _log(
            f"first start: created user {FIRST_ADMIN!r} with password {password!r} "
            "(shown once; change it with `raredx users passwd admin`)"
        )
    _log(f"raredx serving on http://{host}:{port}")
    if workers == 1:
        uvicorn.run(application, host=host, port=port, log_level="warning")
        return
    # Several processes need an import string; they rebuild the app from these variables.
    application.state.services.store.close()
    del application  # each worker builds its own; the supervisor need not keep a KB
    gc.collect()
    if kb_version:
        os.environ[APP_KB_ENV] = kb_version
    if config is not None:
        os.environ[APP_MME_ENV] = str(config)
    if not sockets:
        uvicorn.run(
            APP_FACTORY, factory=True, host=host, port=port, workers=workers, log_level="warning"
        )
        return
    raise typer.Exit(serve_workers(sockets, log=_log))


def _log(message: str) -> None:
    err_console.print(message, highlight=False, markup=False)
