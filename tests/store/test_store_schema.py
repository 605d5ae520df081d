"""Migrations build the schema the models describe; SQLite runs with WAL and foreign keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from raredx.errors import InputError
from raredx.store import DATABASE_URL_ENV, Store, default_database_url, head_revision
from raredx.store.engine import alembic_config, current_revision
from raredx.store.models import Base

TABLES = {t.name for t in Base.metadata.sorted_tables}


def test_open_migrates_to_head_and_the_schema_matches_the_models(make_store: Any) -> None:
    store: Store = make_store()
    assert current_revision(store.engine) == head_revision() == "0004"
    with store.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == TABLES | {"alembic_version"}
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []


def test_opening_twice_is_harmless(make_store: Any) -> None:
    make_store().close()
    store: Store = make_store()
    assert current_revision(store.engine) == head_revision()


def test_downgrade_to_base_then_upgrade_again(make_store: Any) -> None:
    store: Store = make_store()
    with store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    with store.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    assert current_revision(store.engine) is None
    with store.engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    assert current_revision(store.engine) == head_revision()
    store.add_centre("C1", "centre")  # usable again


def test_alembic_runs_from_a_url_without_a_connection(store_url: str, make_store: Any) -> None:
    command.upgrade(alembic_config(url=store_url), "head")
    store: Store = make_store()
    assert current_revision(store.engine) == head_revision()


def test_foreign_keys_and_checks_are_enforced(make_store: Any) -> None:
    store: Store = make_store()
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(text("INSERT INTO patients (centre_id, pseudonym) VALUES (42, 'P1')"))
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(text("INSERT INTO centres (code, name) VALUES ('C', 'c')"))
        conn.execute(
            text("INSERT INTO users (centre_id, name, role) VALUES (1, 'eve', 'superuser')")
        )
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM centres")).scalar() == 0


def test_sqlite_pragmas(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'x.sqlite3'}") as store, store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_default_location_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAREDX_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    assert default_database_url() == f"sqlite:///{tmp_path / 'home' / 'store.sqlite3'}"
    with Store.open() as store:
        store.add_centre("C1", "centre")
    assert (tmp_path / "home" / "store.sqlite3").is_file()
    other = f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"
    monkeypatch.setenv(DATABASE_URL_ENV, other)
    assert default_database_url() == other
    assert default_database_url("sqlite://") == "sqlite://"


def test_bad_urls_are_input_errors() -> None:
    with pytest.raises(InputError, match="database URL"):
        Store.open("not a url at all")
    with pytest.raises(InputError, match="database URL"):
        Store.open("nosuchdialect://x/y")


def test_default_store_lives_in_the_user_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    from platformdirs import user_cache_dir, user_data_dir

    monkeypatch.delenv("RAREDX_HOME", raising=False)
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    url = default_database_url()
    assert url == f"sqlite:///{Path(user_data_dir('raredx')) / 'store.sqlite3'}"
    assert user_cache_dir("raredx") not in url
