"""The case store: patients (pseudonymous), cases, analyses, decisions and an audit log.

`Store.open()` opens (creating and migrating) the SQLite file in the raredx home, or the
database named by `RAREDX_DATABASE_URL` / the `url` argument (PostgreSQL via
``postgresql+psycopg://``). The tables are in `raredx.store.models`; docs/store.md describes
the schema, migrations and durability. Background jobs of the server (`raredx.store.jobs`)
are kept here too, so that every server process answers for every job.
"""

from raredx.store.engine import (
    DATABASE_URL_ENV,
    STORE_FILE,
    default_database_url,
    head_revision,
    make_engine,
    migrate,
)
from raredx.store.jobs import (
    INTERRUPTED,
    JOB_RETENTION,
    JobRecord,
    create_job,
    fail_job,
    finish_job,
    get_job,
    heartbeat_jobs,
    interrupt_orphaned_jobs,
    set_job_step,
    start_job,
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
    "INTERRUPTED",
    "JOB_RETENTION",
    "MAX_CASE_BYTES",
    "MAX_EVIDENCE_CHARS",
    "STORE_FILE",
    "AnalysisRecord",
    "CaseSummary",
    "DecisionRecord",
    "JobRecord",
    "NewObservation",
    "ObservationRecord",
    "Store",
    "StoreError",
    "StoredCase",
    "VcfRecord",
    "VcfUnavailable",
    "create_job",
    "default_database_url",
    "fail_job",
    "finish_job",
    "get_job",
    "head_revision",
    "heartbeat_jobs",
    "interrupt_orphaned_jobs",
    "make_engine",
    "migrate",
    "set_job_step",
    "start_job",
]
