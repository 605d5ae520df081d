"""Alembic environment: runs migrations on the connection `raredx.store.engine` hands over.

Configured programmatically (no alembic.ini): `Config.attributes["connection"]` carries an open
SQLAlchemy connection; without one (the `alembic` command line with a URL) an engine is made
from `sqlalchemy.url` and disposed of afterwards.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from raredx.store.models import Base

__all__: list[str] = []


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection and no sqlalchemy.url given to the store migrations")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


_main()
