"""Store fixtures: every store test runs on SQLite and on a throwaway PostgreSQL cluster.

The PostgreSQL cluster (initdb + pg_ctl, found on PATH or in /usr/lib/postgresql/*/bin) lives
in a temporary folder for the test session: trust authentication, no TCP (a unix socket in
the folder, named after a free local port), one fresh database per test. PostgreSQL refuses
to run as root, so under root the cluster runs as the ``postgres`` user via ``runuser``.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import select

from raredx.store import Store
from raredx.store.models import Base

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "alps-fas.phenopacket.json"


def _postgres_bindir() -> Path | None:
    found = shutil.which("initdb")
    if found and (Path(found).resolve().parent / "pg_ctl").exists():
        return Path(found).resolve().parent
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return candidates[-1].parent if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class PgServer:
    """A running throwaway cluster: its socket folder and port, superuser ``raredx``."""

    socket_dir: Path
    port: int

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user="raredx",
            dbname=dbname,
            autocommit=True,
        )

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://raredx@/{dbname}?host={self.socket_dir}&port={self.port}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PgServer]:
    bindir = _postgres_bindir()
    if bindir is None:
        pytest.skip(
            "PostgreSQL binaries (initdb, pg_ctl) are not on PATH nor in "
            "/usr/lib/postgresql/*/bin: apt-get install postgresql"
        )
    prefix: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="rdx-pg-"))  # short: unix socket paths are limited
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            owner = pwd.getpwnam("nobody")
        runuser = shutil.which("runuser")
        if runuser is None:
            shutil.rmtree(root)
            pytest.skip("running as root and runuser is missing: cannot start PostgreSQL")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        prefix = [runuser, "-u", owner.pw_name, "--"]
    data, port = root / "data", _free_port()
    pg_ctl = [*prefix, str(bindir / "pg_ctl"), "-D", str(data)]
    subprocess.run(
        [
            *prefix,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "raredx",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    options = f"-k {root} -p {port} -c listen_addresses=''"
    subprocess.run(
        [*pg_ctl, "-l", str(root / "server.log"), "-o", options, "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield PgServer(root, port)
    finally:
        subprocess.run([*pg_ctl, "-m", "fast", "-w", "stop"], check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


_DATABASES = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite3'}"
        return
    server: PgServer = request.getfixturevalue("postgres_server")
    name = f"t{os.getpid()}_{next(_DATABASES)}"
    with server.connect() as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield server.url(name)
    finally:
        with server.connect() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def make_store(store_url: str) -> Iterator[Any]:
    """A factory opening stores on `store_url` (or another URL); all closed at teardown."""
    opened: list[Store] = []

    def make(url: str | None = None, **kwargs: Any) -> Store:
        s = Store.open(url or store_url, **kwargs)
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()


@pytest.fixture
def store(make_store: Any) -> Store:
    """An open store with centre C1 (users alice, clinician, and bob, geneticist) and C2 (user
    dora, clinician)."""
    s: Store = make_store()
    s.add_centre("C1", "Hôpital des enfants")
    s.add_centre("C2", "Other centre")
    s.add_user("alice", role="clinician", centre="C1")
    s.add_user("bob", role="geneticist", centre="C1")
    s.add_user("dora", role="clinician", centre="C2")
    return s


def table_rows(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, ordered by primary key."""
    out: dict[str, list[dict[str, Any]]] = {}
    with store.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            out[table.name] = [dict(r) for r in conn.execute(query).mappings()]
    return out


def row_counts(store: Store) -> dict[str, int]:
    return {name: len(rows) for name, rows in table_rows(store).items()}
