"""The case store's tables as SQLAlchemy 2 typed declarative models.

Patients are known only by a pseudonymous id, unique within their centre; no names, dates of
birth or other direct identifiers have a column. A case's canonical content is its Phenopacket
v2 JSON (`Case.phenopacket`); the phenotype observations and VCF references are derived,
queryable rows kept beside it. Timestamps are timezone-aware UTC on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "ACTIONS",
    "CASE_STATUSES",
    "DECISION_KINDS",
    "JOB_STATES",
    "NAMING_CONVENTION",
    "PROVENANCES",
    "REVIEW_STATUSES",
    "ROLES",
    "Analysis",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Case",
    "Centre",
    "Decision",
    "Job",
    "JsonList",
    "Patient",
    "PhenotypeObservation",
    "User",
    "UtcDateTime",
    "VcfReference",
    "utc_now",
]

ROLES = ("clinician", "geneticist", "admin")
"""Roles a user may have."""

CASE_STATUSES = ("unsolved", "solved")
"""A case is solved once a diagnosis is confirmed."""

PROVENANCES = ("typed", "note", "labs", "phenopacket")
"""Where a phenotype observation came from: typed by a clinician, extracted from a clinical
note, derived from lab results, or read from an imported phenopacket."""

REVIEW_STATUSES = ("proposed", "accepted", "rejected")
"""Machine-proposed observations (note, labs) wait for a clinician to accept or reject them."""

DECISION_KINDS = ("diagnosis_confirmed", "variant_classified")
"""Clinical decisions the store records."""

ACTIONS = ("read", "write")
"""Audit log actions."""

JOB_STATES = ("queued", "running", "done", "failed")
"""A background job is queued, then running, then done (with a result) or failed (with an
error)."""

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names are deterministic so that migrations can drop and alter them by name."""


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as naive UTC (SQLite keeps no offset); read back as UTC.

    Naive datetimes are refused rather than guessed.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware datetimes only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class JsonList(TypeDecorator[list[Any]]):
    """A JSON array column (plain `JSON` says its values are objects: archives check that)."""

    impl = JSON
    cache_ok = True

    @property
    def python_type(self) -> type[Any]:
        return list


def _one_of(column: str, allowed: tuple[str, ...]) -> CheckConstraint:
    values = ", ".join(f"'{v}'" for v in allowed)
    return CheckConstraint(f"{column} IN ({values})", name=column)


class Base(DeclarativeBase):
    """Declarative base: one MetaData with the naming convention, JSON for dict columns."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, datetime: UtcDateTime}


class Centre(Base):
    """A hospital or laboratory; every patient and user belongs to one."""

    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(256))


class User(Base):
    """Someone who reads or writes patient data. Passwords are not used yet (hash nullable)."""

    __tablename__ = "users"
    __table_args__ = (_one_of("role", ROLES),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(256))

    centre: Mapped[Centre] = relationship()


class Patient(Base):
    """A patient, known only by a pseudonymous id that is unique within the centre."""

    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("centre_id", "pseudonym"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    pseudonym: Mapped[str] = mapped_column(String(128))

    centre: Mapped[Centre] = relationship()


class Case(Base):
    """A case of a patient; `phenopacket` (Phenopacket v2 JSON) is its canonical content."""

    __tablename__ = "cases"
    __table_args__ = (_one_of("status", CASE_STATUSES),)

    id: Mapped[str] = mapped_column(String(256), primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="unsolved")
    phenopacket: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    mme_shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    new_results: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Consent to share the case through Matchmaker Exchange (revision 0002)."""

    patient: Mapped[Patient] = relationship()


class PhenotypeObservation(Base):
    """One HPO term of a case (observed or excluded), where it came from, and its review.

    Only accepted observations are in the case's phenopacket (its phenotypic features).
    `label` is the term's label (written to the phenopacket when accepted), `evidence` what
    supports it (a note span, a lab value). `reviewed_by`/`reviewed_at` name the last user who
    accepted or rejected it. Revision 0002 added label, reviewed_by and reviewed_at.
    """

    __tablename__ = "phenotype_observations"
    __table_args__ = (
        _one_of("provenance", PROVENANCES),
        _one_of("review_status", REVIEW_STATUSES),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    term_id: Mapped[str] = mapped_column(String(64), index=True)
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    provenance: Mapped[str] = mapped_column(String(16))
    review_status: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(256))
    evidence: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reviewed_at: Mapped[datetime | None]


class VcfReference(Base):
    """A VCF a case points to, with the genotype evidence computed from it (cached, optional).

    `sha256` and `size` identify the file content when it was attached (`Store.attach_vcf`);
    `evidence` is the cached `GenomeEvidence` (`raredx.store.vcfcache`, never pickle),
    `evidence_inputs` what it was computed from (format version, file hash, KB version,
    assembly, options) and `evidence_at` when (revision 0002 added size and the last two).
    """

    __tablename__ = "vcf_references"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(Text)
    assembly: Mapped[str | None] = mapped_column(String(32))
    sample: Mapped[str | None] = mapped_column(String(256))
    sha256: Mapped[str | None] = mapped_column(String(64))
    evidence: Mapped[bytes | None] = mapped_column(LargeBinary)
    size: Mapped[int | None] = mapped_column(BigInteger)
    evidence_inputs: Mapped[dict[str, Any] | None]
    evidence_at: Mapped[datetime | None]


class Analysis(Base):
    """One ranking run on a case: the KB version and parameters that produced the results."""

    __tablename__ = "analyses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kb_version: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any]]
    results: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class Decision(Base):
    """A clinical decision on a case (diagnosis confirmed, variant classified) and who made it."""

    __tablename__ = "decisions"
    __table_args__ = (_one_of("kind", DECISION_KINDS),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[dict[str, Any]]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]


class AuditEntry(Base):
    """One read or write of patient data: who, what (entity and id), when. Never updated."""

    __tablename__ = "audit_log"
    __table_args__ = (_one_of("action", ACTIONS),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(8))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(256))
    at: Mapped[datetime] = mapped_column(index=True)


class ApiToken(Base):
    """An API token of a user: only its SHA-256 digest is kept; revoked tokens stay listed."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    label: Mapped[str] = mapped_column(String(128))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class Job(Base):
    """A background job (a VCF analysis, a reanalysis run) of a centre, run by one server
    process and readable by all (`raredx.store.jobs`; revision 0004).

    `active_key` is a digest of (kind, centre, case) while the job is queued or running and
    NULL once it has finished: its unique constraint keeps one active job per kind and case
    across every process. `owner_host`, `owner_pid` and `owner_token` name the process that
    runs it, which refreshes `heartbeat_at` while it does, so that another process can tell
    a job whose process died from a live one.
    """

    __tablename__ = "jobs"
    __table_args__ = (_one_of("state", JOB_STATES),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    case_id: Mapped[str | None] = mapped_column(String(256))
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None] = mapped_column(index=True)
    step: Mapped[str | None] = mapped_column(String(256))
    error: Mapped[str | None] = mapped_column(Text)
    problems: Mapped[list[str]] = mapped_column(JsonList)
    result: Mapped[dict[str, Any] | None]
    active_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    owner_host: Mapped[str] = mapped_column(String(512))
    owner_pid: Mapped[int] = mapped_column(Integer)
    owner_token: Mapped[str] = mapped_column(String(32))
    heartbeat_at: Mapped[datetime]

    centre: Mapped[Centre] = relationship()
    user: Mapped[User] = relationship()
