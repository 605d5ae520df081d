"""The case store: patients (pseudonymous), cases, analyses, decisions and an audit log.

`Store.open()` opens (creating and migrating) the SQLite file in the raredx home, or the
database named by `RAREDX_DATABASE_URL` / the `url` argument (PostgreSQL via
``postgresql+psycopg://``). The tables are in `raredx.store.models`; docs/store.md describes
the schema, migrations and durability.
"""

from raredx.store.engine import (
    DATABASE_URL_ENV,
    STORE_FILE,
    default_database_url,
    head_revision,
    make_engine,
    migrate,
)
from raredx.store.store import (
    ARCHIVE_FORMAT,
    MAX_CASE_BYTES,
    MAX_EVIDENCE_CHARS,
    AnalysisRecord,
    CaseSummary,
    DecisionRecord,
    NewObservation,
    ObservationRecord,
    Store,
    StoredCase,
    StoreError,
    VcfRecord,
    VcfUnavailable,
)

__all__ = [
    "ARCHIVE_FORMAT",
    "DATABASE_URL_ENV",
    "MAX_CASE_BYTES",
    "MAX_EVIDENCE_CHARS",
    "STORE_FILE",
    "AnalysisRecord",
    "CaseSummary",
    "DecisionRecord",
    "NewObservation",
    "ObservationRecord",
    "Store",
    "StoreError",
    "StoredCase",
    "VcfRecord",
    "VcfUnavailable",
    "default_database_url",
    "head_revision",
    "make_engine",
    "migrate",
]
