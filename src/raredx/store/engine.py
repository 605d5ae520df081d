"""Engines for the case store: where it lives, SQLite pragmas, and Alembic migrations on open.

The database is `RAREDX_DATABASE_URL` when set (e.g. ``postgresql+psycopg://host/raredx``),
else a SQLite file ``store.sqlite3`` in the raredx home (`raredx.kb.raredx_home`). SQLite
connections run in WAL mode with foreign keys enforced and a busy timeout; transactions are
explicit (``BEGIN`` when SQLAlchemy begins), so a read and the audit entry it writes share one
transaction. Opening migrates the schema to the newest revision (`upgrade head`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from platformdirs import user_data_dir
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from raredx.errors import InputError
from raredx.kb import raredx_home

__all__ = [
    "BUSY_TIMEOUT_MS",
    "DATABASE_URL_ENV",
    "MIGRATIONS",
    "STORE_FILE",
    "alembic_config",
    "current_revision",
    "default_database_url",
    "head_revision",
    "make_engine",
    "migrate",
]

DATABASE_URL_ENV = "RAREDX_DATABASE_URL"
"""Environment variable holding the database URL (SQLAlchemy syntax)."""

STORE_FILE = "store.sqlite3"
"""Name of the default SQLite database file inside the raredx home."""

BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite connection waits for another writer's lock before failing (ms)."""

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
"""The Alembic environment shipped inside the package (env.py, versions/)."""


def default_database_url(url: str | None = None) -> str:
    """`url` if given, else `$RAREDX_DATABASE_URL`, else the SQLite file in `$RAREDX_HOME` when
    set, else in the per-user *data* directory (patient data never goes to a cache folder that
    system cleaners may empty)."""
    if url:
        return url
    env = os.environ.get(DATABASE_URL_ENV)
    if env:
        return env
    folder = raredx_home() if os.environ.get("RAREDX_HOME") else Path(user_data_dir("raredx"))
    return f"sqlite:///{folder / STORE_FILE}"


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy (not the sqlite3 module) decide when transactions begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # IMMEDIATE: take the write lock at the start. Nearly every transaction writes (a read of
    # patient data writes its audit entry); a DEFERRED one that upgrades from reading to
    # writing while another connection writes fails at once with "database is locked"
    # instead of waiting for busy_timeout. WAL still lets plain readers through.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _json_dumps(value: object) -> str:
    # NaN and infinities are not JSON (PostgreSQL refuses them): fail rather than diverge.
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url` (see `default_database_url`); SQLite files get their folder created.

    Raises `InputError` for a URL SQLAlchemy cannot parse or a driver that is not installed.
    """
    text = default_database_url(url)
    try:
        parsed = make_url(text)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError and friends
        raise InputError(f"not a usable database URL: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(parsed, json_serializer=_json_dumps)
    except Exception as exc:  # unknown dialect, missing driver
        raise InputError(f"cannot use database URL {parsed!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic configuration for the packaged migrations, without any alembic.ini.

    Give an open `connection` (migrations run on it) or a `url` (env.py makes an engine).
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration revision shipped with this raredx."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package ships at least one revision
        raise RuntimeError("the store migrations have no head revision")
    return head


def current_revision(bind: Engine | Connection) -> str | None:
    """The revision the database is at (None for an empty database)."""
    if isinstance(bind, Connection):
        return MigrationContext.configure(bind).get_current_revision()
    with bind.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to `revision` (default: the newest), in one transaction."""
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)
