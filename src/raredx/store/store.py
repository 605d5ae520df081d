"""The case store: cases, analyses and decisions in SQLite or PostgreSQL, with an audit log.

Phenotype observations carry their provenance and review (only accepted ones are the case's
phenotype), attached VCFs their sha256 and cached genotype evidence (`raredx.store.vcfcache`),
cases their Matchmaker Exchange consent; docs/store.md describes them.

Every method runs in one transaction: bad input raises `InputError` listing every problem and
writes nothing. Every read and write of patient data appends an `AuditEntry` (who, read or
write, which entity) in the same transaction, so an access is logged if and only if it happened.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from sqlalchemy import Column, Engine, Integer, LargeBinary, Table, func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from raredx._files import atomic_file
from raredx.case import Case, GenomicFile, case_to_phenopacket, read_cases, read_phenopacket
from raredx.case import PhenotypeObservation as Feature
from raredx.errors import InputError, RaredxError
from raredx.genome import (
    GenomeConfig,
    GenomeEvidence,
    Pedigree,
    bind_samples,
    collect_evidence,
    parse_assembly,
    pedigree_from_case,
    read_header,
)
from raredx.kb import KnowledgeBase
from raredx.rank.result import Diagnosis
from raredx.store import models as m
from raredx.store.engine import current_revision, head_revision, make_engine, migrate
from raredx.store.vcfcache import (
    MAX_EVIDENCE_BYTES,
    StaleEvidence,
    decode_evidence,
    encode_evidence,
    evidence_inputs,
    file_sha256,
)

__all__ = [
    "ARCHIVE_FORMAT",
    "ARCHIVE_VERSION",
    "MAX_ARCHIVE_LINE_BYTES",
    "MAX_CASE_BYTES",
    "MAX_EVIDENCE_CHARS",
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
]

MAX_CASE_BYTES = 4 * 1024 * 1024
"""Largest phenopacket (canonical JSON, bytes) the store accepts for one case."""

MAX_EVIDENCE_CHARS = 2000
"""Longest evidence text (a note span, a lab value) one observation may carry."""

MAX_ARCHIVE_LINE_BYTES = 64 * 1024 * 1024
"""Largest line of a full-store archive (one row) that `import_all` reads."""

ARCHIVE_FORMAT = "raredx-store"
"""`format` of the header line of a full-store archive."""

ARCHIVE_VERSION = 1
"""`version` of the archive layout: a header line, then one ``{"table", "row"}`` per line."""

_LIMITS = {  # column widths checked before writing, so SQLite and PostgreSQL agree
    "case id": 256,
    "pseudonymous id": 128,
    "HPO term id": 64,
    "term label": 256,
    "VCF assembly": 32,
    "VCF sample": 256,
}
_AUTO_ID_TABLES = tuple(  # integer ids from a sequence (cases and jobs have text ids)
    t
    for t in m.Base.metadata.sorted_tables
    if t.c.get("id") is not None and isinstance(t.c.id.type, Integer)
)
_FLUSH_EVERY = 100
_HPO_ID = re.compile(r"HP:[0-9]{7}")
_AUTO_ACCEPTED = ("typed", "phenopacket")
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")

Progress = Callable[[int, int], None]
"""Called as progress(done, total) while a batch is written."""


class StoreError(RaredxError):
    """The database cannot be reached or used (not bad input: see `InputError` for that)."""


class VcfUnavailable(InputError):
    """A case's attached VCF cannot give its genotype evidence: no valid cached evidence, and
    the file is missing (`reason` "missing") or no longer the attached content ("changed")."""

    def __init__(self, message: str, reason: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message, problems)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """A line of `Store.list_cases`: the case, its patient's pseudonymous id, status, times."""

    id: str
    patient: str
    centre: str
    status: str
    created: datetime
    updated: datetime
    new_results: bool = False
    mme_shared: bool = False


@dataclass(frozen=True, slots=True)
class AnalysisRecord:
    """A stored analysis read back: the KB version, parameters and `Diagnosis.to_dict()` results."""

    id: int
    case_id: str
    kb_version: str
    parameters: dict[str, Any]
    results: dict[str, Any]
    created: datetime


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """A stored clinical decision read back: its kind ("diagnosis_confirmed" or
    "variant_classified"), JSON value, the name of the user who made it, and when."""

    id: int
    case_id: str
    kind: str
    value: dict[str, Any]
    user: str
    created: datetime


@dataclass(frozen=True, slots=True)
class NewObservation:
    """A phenotype observation to add to a case (`Store.add_observations`): an HPO term id
    (``HP:`` and seven digits), whether it is excluded (absent), what supports it (the note
    span, the lab value; at most `MAX_EVIDENCE_CHARS`) and the term's label (written to the
    phenopacket once accepted)."""

    term_id: str
    excluded: bool = False
    evidence: str | None = None
    label: str | None = None


@dataclass(frozen=True, slots=True)
class ObservationRecord:
    """A stored phenotype observation read back: where it came from (`provenance`: typed,
    note, labs, phenopacket), its review status (proposed, accepted, rejected) and, once
    reviewed, who reviewed it last (user name) and when."""

    id: int
    case_id: str
    term_id: str
    label: str | None
    excluded: bool
    provenance: str
    review_status: str
    evidence: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoredCase:
    """A stored case read back with its centre, patient (pseudonymous id), status, latest
    analysis (None: never analysed), Matchmaker Exchange consent and decisions (oldest
    first)."""

    id: str
    centre: str
    patient: str
    status: str
    case: Case
    latest: AnalysisRecord | None
    mme_shared: bool = False
    decisions: tuple[DecisionRecord, ...] = ()
    new_results: bool = False


def _analysis_record(row: m.Analysis) -> AnalysisRecord:
    return AnalysisRecord(
        id=row.id,
        case_id=row.case_id,
        kb_version=row.kb_version,
        parameters=dict(row.parameters),
        results=dict(row.results),
        created=row.created_at,
    )


@dataclass(frozen=True, slots=True)
class VcfRecord:
    """A VCF reference of a case: the file path, assembly and proband sample it was attached
    with, its content identity (sha256, size: None for references taken from an imported
    phenopacket, which are not attached) and its cached evidence (inputs and time; None when
    nothing is cached)."""

    id: int
    case_id: str
    path: str
    assembly: str | None
    sample: str | None
    sha256: str | None
    size: int | None
    evidence_inputs: dict[str, Any] | None
    evidence_at: datetime | None

    @property
    def attached(self) -> bool:
        """True when the file was attached (hashed) with `Store.attach_vcf`."""
        return self.sha256 is not None


def _vcf_record(row: m.VcfReference) -> VcfRecord:
    return VcfRecord(
        id=row.id,
        case_id=row.case_id,
        path=row.path,
        assembly=row.assembly,
        sample=row.sample,
        sha256=row.sha256,
        size=row.size,
        evidence_inputs=dict(row.evidence_inputs)
        if row.evidence is not None and row.evidence_inputs
        else None,
        evidence_at=row.evidence_at if row.evidence is not None else None,
    )


def _decision_record(row: m.Decision, user: str) -> DecisionRecord:
    return DecisionRecord(
        id=row.id,
        case_id=row.case_id,
        kind=row.kind,
        value=dict(row.value),
        user=user,
        created=row.created_at,
    )


def _observation_record(row: m.PhenotypeObservation, reviewer: str | None) -> ObservationRecord:
    return ObservationRecord(
        id=row.id,
        case_id=row.case_id,
        term_id=row.term_id,
        label=row.label,
        excluded=row.excluded,
        provenance=row.provenance,
        review_status=row.review_status,
        evidence=row.evidence,
        reviewed_by=reviewer,
        reviewed_at=row.reviewed_at,
    )


def _vcf_pedigree(case: Case, sample: str | None) -> tuple[Pedigree, dict[str, str]]:
    """The case's pedigree and individual -> sample mapping, the subject mapped to `sample`."""
    pedigree, mapping = pedigree_from_case(case)
    if sample is not None:
        mapping[case.subject.id] = sample
    return pedigree, mapping


def _file_state(path: Path, case_id: str) -> tuple[int, int]:
    """(size, mtime in ns) of `path`; `VcfUnavailable` ("missing") when it is not a file."""
    try:
        info = path.stat()
    except OSError as exc:
        raise VcfUnavailable(
            f"case {case_id!r}: the attached VCF {path} is missing",
            "missing",
            [exc.strerror or str(exc)],
        ) from None
    if not path.is_file():
        raise VcfUnavailable(
            f"case {case_id!r}: the attached VCF {path} is not a file any more", "missing"
        )
    return info.st_size, info.st_mtime_ns


def _changed(case_id: str, path: Path) -> VcfUnavailable:
    return VcfUnavailable(
        f"case {case_id!r}: the attached VCF {path} has changed since it was attached "
        "(its sha256 differs): attach it again",
        "changed",
    )


def _checked_observation(obs: object, where: str, problems: list[str]) -> NewObservation:
    """`obs` with label and evidence trimmed (empty ones become None); problems collected."""
    if not isinstance(obs, NewObservation):
        problems.append(f"{where}: not a NewObservation ({type(obs).__name__})")
        return NewObservation("HP:0000000")
    term = obs.term_id
    if not isinstance(term, str) or not _HPO_ID.fullmatch(term):
        problems.append(f"{where}: malformed HPO term id {term!r} (expected HP: and 7 digits)")
    if not isinstance(obs.excluded, bool):
        problems.append(f"{where}: excluded must be true or false, not {obs.excluded!r}")
    evidence = obs.evidence.strip() if isinstance(obs.evidence, str) else obs.evidence
    if evidence is not None and not isinstance(evidence, str):
        problems.append(f"{where}: evidence must be text")
    elif evidence is not None and len(evidence) > MAX_EVIDENCE_CHARS:
        problems.append(
            f"{where}: evidence is {len(evidence)} characters; at most {MAX_EVIDENCE_CHARS}"
        )
    label = obs.label.strip() if isinstance(obs.label, str) else obs.label
    if label is not None and not isinstance(label, str):
        problems.append(f"{where}: label must be text")
    else:
        _length("term label", label, where, problems)
    return replace(obs, evidence=evidence or None, label=label or None)


def _json_safe(value: object, where: str, problems: list[str]) -> None:
    """Collect problems for values JSON (and PostgreSQL) cannot hold: NaN, infinities, keys."""
    if isinstance(value, float) and not math.isfinite(value):
        problems.append(f"{where}: {value} is not a finite number")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                problems.append(f"{where}: key {key!r} is not a string")
            _json_safe(item, f"{where}.{key}", problems)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _json_safe(item, f"{where}[{i}]", problems)
    elif not isinstance(value, str | int | float | bool) and value is not None:
        problems.append(f"{where}: {type(value).__name__} is not JSON")


def _length(kind: str, value: str | None, where: str, problems: list[str]) -> None:
    if value is not None and len(value) > _LIMITS[kind]:
        problems.append(f"{where}: {kind} longer than {_LIMITS[kind]} characters")


class Store:
    """A case store on one database. Open with `Store.open`; close (or use `with`) when done."""

    def __init__(self, engine: Engine, *, max_case_bytes: int = MAX_CASE_BYTES) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.max_case_bytes = max_case_bytes

    @classmethod
    def open(cls, url: str | None = None, *, max_case_bytes: int = MAX_CASE_BYTES) -> Store:
        """Open (creating and migrating if needed) the store at `url` or the default location.

        Raises `InputError` for an unusable URL and `StoreError` when the database cannot be
        reached or migrated.
        """
        engine = make_engine(url)
        try:
            migrate(engine)
        except OperationalError as exc:
            engine.dispose()
            raise StoreError(f"cannot open the store: {exc.orig or exc}") from None
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, max_case_bytes=max_case_bytes)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for tools and tests; prefer the methods)."""
        return self._engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def transaction(self, *, snapshot: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error.

        `snapshot` asks PostgreSQL for REPEATABLE READ (one consistent view of every table);
        SQLite transactions are serialisable already.
        """
        bind = self._engine
        if snapshot and self.dialect == "postgresql":
            bind = bind.execution_options(isolation_level="REPEATABLE READ")
        session = self._sessions(bind=bind)
        try:
            with session.begin():
                yield session
        except IntegrityError as exc:
            raise InputError("the store refused the change", [str(exc.orig or exc)]) from None
        except OperationalError as exc:
            raise StoreError(f"the store failed: {exc.orig or exc}") from None
        finally:
            session.close()

    # -- people and places ----------------------------------------------------------------------

    def add_centre(self, code: str, name: str) -> None:
        """Add a centre (hospital or laboratory). Raises `InputError` if `code` exists."""
        with self.transaction() as s:
            if s.scalar(select(m.Centre.id).where(m.Centre.code == code)) is not None:
                raise InputError(f"centre {code!r} already exists")
            s.add(m.Centre(code=code, name=name))

    def add_user(self, name: str, *, role: str, centre: str) -> None:
        """Add a user of `centre` with `role` (one of `ROLES`)."""
        problems = []
        if role not in m.ROLES:
            problems.append(f"role {role!r} is not one of {', '.join(m.ROLES)}")
        with self.transaction() as s:
            centre_row = self._centre(s, centre, problems)
            if s.scalar(select(m.User.id).where(m.User.name == name)) is not None:
                problems.append(f"user {name!r} already exists")
            if problems or centre_row is None:
                raise InputError(f"cannot add user {name!r}", problems)
            s.add(m.User(name=name, role=role, centre_id=centre_row.id))

    @staticmethod
    def _centre(s: Session, code: str, problems: list[str]) -> m.Centre | None:
        row = s.scalars(select(m.Centre).where(m.Centre.code == code)).one_or_none()
        if row is None:
            problems.append(f"unknown centre {code!r}")
        return row

    @staticmethod
    def _user(s: Session, name: str, problems: list[str]) -> m.User | None:
        row = s.scalars(select(m.User).where(m.User.name == name)).one_or_none()
        if row is None:
            problems.append(f"unknown user {name!r}")
        return row

    def _centre_of_user(
        self, s: Session, centre: str, user: str, problems: list[str], doing: str
    ) -> tuple[m.Centre | None, m.User | None]:
        """The rows of `centre` and `user`, with a problem when either is unknown or when the
        user belongs to another centre (a user works on their own centre's cases only)."""
        centre_row = self._centre(s, centre, problems)
        user_row = self._user(s, user, problems)
        if centre_row is not None and user_row is not None and centre_row.id != user_row.centre_id:
            problems.append(f"user {user!r} may not {doing} of centre {centre!r}")
        return centre_row, user_row

    def _known_user(self, s: Session, name: str) -> m.User:
        problems: list[str] = []
        row = self._user(s, name, problems)
        if row is None:
            raise InputError(problems[0])
        return row

    @staticmethod
    def _audit(s: Session, user: m.User, action: str, entity: str, entity_id: str) -> None:
        s.add(
            m.AuditEntry(
                user_id=user.id, action=action, entity=entity, entity_id=entity_id, at=m.utc_now()
            )
        )

    # -- cases ----------------------------------------------------------------------------------

    def _case_problems(self, case: Case, pseudonym: str, where: str) -> list[str]:
        problems: list[str] = []
        _length("case id", case.id, where, problems)
        _length("pseudonymous id", pseudonym, where, problems)
        for f in case.features:
            _length("HPO term id", f.term_id, where, problems)
        for file in case.files:
            _length("VCF assembly", file.assembly, where, problems)
            _length("VCF sample", file.sample_id(case.subject.id), where, problems)
        size = len(json.dumps(case_to_phenopacket(case), ensure_ascii=False).encode())
        if size > self.max_case_bytes:
            problems.append(
                f"{where}: phenopacket is {size} bytes; the store accepts at most "
                f"{self.max_case_bytes} bytes per case"
            )
        return problems

    @staticmethod
    def _insert_case(
        s: Session,
        case: Case,
        *,
        centre: m.Centre,
        pseudonym: str,
        provenance: str,
        now: datetime,
    ) -> None:
        patient = s.scalars(
            select(m.Patient).where(
                m.Patient.centre_id == centre.id, m.Patient.pseudonym == pseudonym
            )
        ).one_or_none()
        if patient is None:
            patient = m.Patient(centre_id=centre.id, pseudonym=pseudonym)
            s.add(patient)
            s.flush()
        review = "accepted" if provenance in _AUTO_ACCEPTED else "proposed"
        # Only accepted observations are phenotypic features of the canonical phenopacket.
        canonical = case if review == "accepted" else replace(case, features=())
        s.add(
            m.Case(
                id=case.id,
                patient_id=patient.id,
                status="unsolved",
                phenopacket=case_to_phenopacket(canonical),
                created_at=now,
                updated_at=now,
                mme_shared=False,
            )
        )
        s.add_all(
            m.PhenotypeObservation(
                case_id=case.id,
                term_id=f.term_id,
                excluded=f.excluded,
                provenance=provenance,
                review_status=review,
                label=f.label[: _LIMITS["term label"]] if f.label else None,
            )
            for f in case.features
        )
        s.add_all(
            m.VcfReference(
                case_id=case.id,
                path=f.uri,
                assembly=f.assembly,
                sample=f.sample_id(case.subject.id),
            )
            for f in case.files
        )

    @staticmethod
    def _existing_ids(s: Session, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            found.update(s.scalars(select(m.Case.id).where(m.Case.id.in_(chunk))))
        return found

    def add_case(
        self,
        case: Case,
        *,
        centre: str,
        user: str,
        provenance: str = "typed",
        patient: str | None = None,
    ) -> str:
        """Store `case` for the patient `patient` (default: the subject id, which must be a
        pseudonymous id) of `centre`; returns the case id.

        Observations get `provenance`; machine-made ones (note, labs) start as "proposed" and
        stay out of the stored phenopacket until accepted (`review_observation`). Raises
        `InputError` (nothing written) for an existing case id or any invalid field.
        """
        pseudonym = patient if patient is not None else case.subject.id
        problems = self._case_problems(case, pseudonym, case.id)
        if provenance not in m.PROVENANCES:
            problems.append(f"provenance {provenance!r} is not one of {', '.join(m.PROVENANCES)}")
        with self.transaction() as s:
            centre_row, user_row = self._centre_of_user(s, centre, user, problems, "add cases")
            if self._existing_ids(s, [case.id]):
                problems.append(f"{case.id}: a case with this id already exists")
            if problems or centre_row is None or user_row is None:
                raise InputError(f"case {case.id!r} was not stored", problems)
            self._insert_case(
                s,
                case,
                centre=centre_row,
                pseudonym=pseudonym,
                provenance=provenance,
                now=m.utc_now(),
            )
            self._audit(s, user_row, "write", "case", case.id)
        return case.id

    def get_case(self, case_id: str, *, user: str) -> Case:
        """The stored case `case_id`, as read from its phenopacket. Raises `InputError` if the
        case or the user is unknown."""
        with self.transaction() as s:
            user_row = self._known_user(s, user)
            row = self._visible_case(s, user_row, case_id)
            self._audit(s, user_row, "read", "case", case_id)
            packet = row.phenopacket
        return read_phenopacket(packet, name=f"store:{case_id}")

    def list_cases(
        self, centre: str, status: str | None = None, *, user: str
    ) -> tuple[CaseSummary, ...]:
        """Cases of `centre` (optionally only "unsolved" or "solved"), oldest first."""
        problems: list[str] = []
        if status is not None and status not in m.CASE_STATUSES:
            problems.append(f"status {status!r} is not one of {', '.join(m.CASE_STATUSES)}")
        with self.transaction() as s:
            centre_row, user_row = self._centre_of_user(s, centre, user, problems, "see the cases")
            if problems or centre_row is None or user_row is None:
                raise InputError("cannot list cases", problems)
            query = (
                select(m.Case, m.Patient.pseudonym)
                .join(m.Patient)
                .where(m.Patient.centre_id == centre_row.id)
                .order_by(m.Case.created_at, m.Case.id)
            )
            if status is not None:
                query = query.where(m.Case.status == status)
            out = tuple(
                CaseSummary(
                    id=row.id,
                    patient=pseudonym,
                    centre=centre,
                    status=row.status,
                    created=row.created_at,
                    updated=row.updated_at,
                    new_results=row.new_results,
                    mme_shared=row.mme_shared,
                )
                for row, pseudonym in s.execute(query)
            )
            for summary in out:
                self._audit(s, user_row, "read", "case", summary.id)
        return out

    def record_analysis(
        self, case_id: str, diagnosis: Diagnosis, *, user: str, new_results: bool | None = None
    ) -> int:
        """Store a ranking of `case_id` (KB version, parameters, full results); returns its id.

        `new_results` True/False sets the case's "new results" mark in the same transaction
        (reanalysis sets it when the candidates changed materially); None leaves it.
        """
        problems: list[str] = []
        if diagnosis.case_id is not None and diagnosis.case_id != case_id:
            problems.append(f"the diagnosis is of case {diagnosis.case_id!r}, not {case_id!r}")
        results = diagnosis.to_dict()
        _json_safe(results, "results", problems)
        with self.transaction() as s:
            user_row = self._user(s, user, problems)
            case_row = self._case_for(s, user_row, case_id, problems)
            if problems or user_row is None or case_row is None:
                raise InputError("the analysis was not recorded", problems)
            if new_results is not None and case_row.new_results != new_results:
                case_row.new_results = new_results
                self._audit(s, user_row, "write", "case", case_id)
            row = m.Analysis(
                case_id=case_id,
                kb_version=diagnosis.kb_version,
                parameters=diagnosis.parameters.to_dict(),
                results=results,
                created_at=m.utc_now(),
            )
            s.add(row)
            s.flush()
            self._audit(s, user_row, "write", "analysis", str(row.id))
            return row.id

    # -- reading back, by centre ---------------------------------------------------------------

    def visible_centres(self, user: str) -> tuple[str, ...]:
        """Codes of the centres whose cases `user` may read: for now, the user's own centre."""
        with self.transaction() as s:
            user_row = self._known_user(s, user)
            return (user_row.centre.code,)

    def case_centre(self, case_id: str, *, user: str) -> str:
        """The centre code of `case_id`; raises `InputError` (and writes nothing) when the user
        or the case is unknown, or the case belongs to a centre `user` may not see."""
        with self.transaction() as s:
            user_row = self._known_user(s, user)
            row = s.execute(
                select(m.Centre.code)
                .join(m.Patient, m.Patient.centre_id == m.Centre.id)
                .join(m.Case, m.Case.patient_id == m.Patient.id)
                .where(m.Case.id == case_id)
            ).one_or_none()
            if row is None or row[0] != user_row.centre.code:
                raise InputError(f"no case {case_id!r} in the store")
            return str(row[0])

    def analyses(self, case_id: str, *, user: str) -> tuple[AnalysisRecord, ...]:
        """Every analysis of `case_id`, oldest first (each read audited). `InputError` for an
        unknown user or case, or a case of a centre `user` may not see."""
        self.case_centre(case_id, user=user)
        with self.transaction() as s:
            user_row = self._known_user(s, user)
            rows = s.scalars(
                select(m.Analysis).where(m.Analysis.case_id == case_id).order_by(m.Analysis.id)
            ).all()
            out = tuple(_analysis_record(r) for r in rows)
            for record in out:
                self._audit(s, user_row, "read", "analysis", str(record.id))
        return out

    def cases_with_latest_analysis(
        self, *, user: str, status: str | None = None
    ) -> tuple[StoredCase, ...]:
        """Every case (optionally only "unsolved" or "solved") of the centres `user` may see,
        oldest first, each with its latest analysis (highest id) and its decisions. One
        transaction; every case, analysis and decision read is audited."""
        if status is not None and status not in m.CASE_STATUSES:
            raise InputError(
                "cannot list cases",
                [f"status {status!r} is not one of {', '.join(m.CASE_STATUSES)}"],
            )
        with self.transaction() as s:
            user_row = self._known_user(s, user)
            return self._stored_cases(s, user_row, status=status, shared_only=False)

    def shared_cases(self, *, user: str) -> tuple[StoredCase, ...]:
        """The cases shared through Matchmaker Exchange (`set_mme_sharing`) of the centres
        `user` may see, solved or not, oldest first, each with its latest analysis and its
        decisions. One transaction; every case, analysis and decision read is audited.
        `InputError` for an unknown user."""
        with self.transaction() as s:
            user_row = self._known_user(s, user)
            return self._stored_cases(s, user_row, status=None, shared_only=True)

    def _stored_cases(
        self, s: Session, user_row: m.User, *, status: str | None, shared_only: bool
    ) -> tuple[StoredCase, ...]:
        centre = user_row.centre
        latest = (
            select(m.Analysis.case_id, func.max(m.Analysis.id).label("latest_id"))
            .group_by(m.Analysis.case_id)
            .subquery()
        )
        query = (
            select(m.Case, m.Analysis, m.Patient.pseudonym)
            .join(m.Patient, m.Case.patient_id == m.Patient.id)
            .outerjoin(latest, latest.c.case_id == m.Case.id)
            .outerjoin(m.Analysis, m.Analysis.id == latest.c.latest_id)
            .where(m.Patient.centre_id == centre.id)
            .order_by(m.Case.created_at, m.Case.id)
        )
        if status is not None:
            query = query.where(m.Case.status == status)
        if shared_only:
            query = query.where(m.Case.mme_shared.is_(True))
        found = list(s.execute(query))
        decisions: dict[str, list[DecisionRecord]] = {}
        ids = [case_row.id for case_row, _, _ in found]
        for start in range(0, len(ids), 500):
            rows = s.execute(
                select(m.Decision, m.User.name)
                .join(m.User, m.Decision.user_id == m.User.id)
                .where(m.Decision.case_id.in_(ids[start : start + 500]))
                .order_by(m.Decision.id)
            )
            for decision_row, name in rows:
                decisions.setdefault(decision_row.case_id, []).append(
                    _decision_record(decision_row, name)
                )
        out: list[StoredCase] = []
        for case_row, analysis_row, pseudonym in found:
            self._audit(s, user_row, "read", "case", case_row.id)
            record = None
            if analysis_row is not None:
                record = _analysis_record(analysis_row)
                self._audit(s, user_row, "read", "analysis", str(record.id))
            case_decisions = tuple(decisions.get(case_row.id, ()))
            for decision in case_decisions:
                self._audit(s, user_row, "read", "decision", str(decision.id))
            out.append(
                StoredCase(
                    id=case_row.id,
                    centre=centre.code,
                    patient=pseudonym,
                    status=case_row.status,
                    case=read_phenopacket(case_row.phenopacket, name=f"store:{case_row.id}"),
                    latest=record,
                    mme_shared=bool(case_row.mme_shared),
                    decisions=case_decisions,
                    new_results=bool(case_row.new_results),
                )
            )
        return tuple(out)

    def case_summary(self, case_id: str, *, user: str) -> CaseSummary:
        """One case's summary line (as `list_cases` gives it); an audited read. `InputError`
        as for `get_case`."""
        with self.transaction() as s:
            user_row = self._known_user(s, user)
            row = self._visible_case(s, user_row, case_id)
            self._audit(s, user_row, "read", "case", case_id)
            return CaseSummary(
                id=row.id,
                patient=row.patient.pseudonym,
                centre=row.patient.centre.code,
                status=row.status,
                created=row.created_at,
                updated=row.updated_at,
                new_results=row.new_results,
                mme_shared=row.mme_shared,
            )

    def _visible_case(self, s: Session, user_row: m.User, case_id: str) -> m.Case:
        """The case row, if it exists in a centre `user_row` may see; else `InputError`."""
        problems: list[str] = []
        row = self._case_for(s, user_row, case_id, problems)
        if row is None:
            raise InputError(problems[0])
        return row

    @staticmethod
    def _case_for(
        s: Session, user_row: m.User | None, case_id: str, problems: list[str]
    ) -> m.Case | None:
        """The case row if it exists in a centre `user_row` may see, else None with a problem.

        A case of another centre gets the same message as a missing one, so that nobody
        learns which ids another centre holds.
        """
        row = s.get(m.Case, case_id)
        if row is None or (user_row is not None and row.patient.centre_id != user_row.centre_id):
            problems.append(f"no case {case_id!r} in the store")
            return None
        return row

    def decisions(self, case_id: str, *, user: str) -> tuple[DecisionRecord, ...]:
        """Every clinical decision on `case_id`, oldest first (each read audited). `InputError`
        for an unknown user or case, or a case of a centre `user` may not see."""
        with self.transaction() as s:
            user_row = self._known_user(s, user)
            self._visible_case(s, user_row, case_id)
            rows = s.execute(
                select(m.Decision, m.User.name)
                .join(m.User, m.Decision.user_id == m.User.id)
                .where(m.Decision.case_id == case_id)
                .order_by(m.Decision.id)
            )
            out = tuple(_decision_record(row, name) for row, name in rows)
            for record in out:
                self._audit(s, user_row, "read", "decision", str(record.id))
        return out

    def set_new_results(self, case_id: str, new: bool, *, user: str) -> None:
        """Flag (reanalysis found material changes) or clear (someone read the results) the
        case's "new results" mark. An audited write; `InputError` as for `get_case`."""
        with self.transaction() as s:
            user_row = self._known_user(s, user)
            row = self._visible_case(s, user_row, case_id)
            if row.new_results != new:
                row.new_results = new
                self._audit(s, user_row, "write", "case", case_id)

    def set_mme_sharing(self, case_id: str, shared: bool, *, user: str) -> None:
        """Record whether `case_id` may be shared through Matchmaker Exchange (the patient's
        consent); an audited write of the case. `InputError` for an unknown user or case, or
        a case of a centre `user` may not see."""
        if not isinstance(shared, bool):
            raise InputError(f"shared must be true or false, not {shared!r}")
        with self.transaction() as s:
            user_row = self._known_user(s, user)
            row = self._visible_case(s, user_row, case_id)
            if row.mme_shared != shared:
                row.mme_shared = shared
                row.updated_at = m.utc_now()
            self._audit(s, user_row, "write", "case", case_id)

    # -- phenotype observations and their review ---------------------------------------------

    def observations(self, case_id: str, *, user: str) -> tuple[ObservationRecord, ...]:
        """Every phenotype observation of `case_id` (proposed, accepted and rejected), in the
        order they were added; each read audited. `InputError` for an unknown user or case,
        or a case of a centre `user` may not see."""
        with self.transaction() as s:
            user_row = self._known_user(s, user)
            self._visible_case(s, user_row, case_id)
            out = self._observation_records(s, case_id)
            for record in out:
                self._audit(s, user_row, "read", "observation", str(record.id))
        return out

    @staticmethod
    def _observation_records(
        s: Session, case_id: str, ids: Sequence[int] | None = None
    ) -> tuple[ObservationRecord, ...]:
        query = (
            select(m.PhenotypeObservation, m.User.name)
            .outerjoin(m.User, m.PhenotypeObservation.reviewed_by == m.User.id)
            .where(m.PhenotypeObservation.case_id == case_id)
            .order_by(m.PhenotypeObservation.id)
        )
        if ids is not None:
            query = query.where(m.PhenotypeObservation.id.in_(list(ids)))
        return tuple(_observation_record(row, name) for row, name in s.execute(query))

    def add_observations(
        self,
        case_id: str,
        observations: Iterable[NewObservation],
        *,
        provenance: str,
        user: str,
    ) -> tuple[int, ...]:
        """Add phenotype observations to a stored case; returns one observation id per input,
        in order.

        `provenance` "note" or "labs": the observations are *proposed* and stay out of the
        case's phenotype until a clinician accepts them (`review_observation`). "typed" or
        "phenopacket": accepted at once, reviewed by `user`, and written to the case's
        phenopacket. Duplicates are merged, not stored twice (one active observation per term
        and excluded flag):

        - the same term twice in `observations`: the first one is kept (both get its id); with
          opposite excluded flags it is an error;
        - a term the case already has, proposed or accepted, with the same flag: nothing is
          added and the existing id is returned; a typed one accepts that proposal;
        - a term the case has with the same flag that was *rejected*: a proposal is not made
          again (the rejected id is returned, the review stands); a typed one is added again,
          accepted (the clinician's explicit word);
        - a typed term whose opposite (observed vs excluded) is accepted is an error: review
          that observation instead (a proposal of the opposite is added, for review).

        `InputError` (nothing written) for an unknown user or case, a case of another centre,
        a bad provenance, a malformed term id (not ``HP:`` and seven digits), evidence longer
        than `MAX_EVIDENCE_CHARS`, an over-long label, or a contradiction.
        """
        items = list(observations)
        problems: list[str] = []
        if provenance not in m.PROVENANCES:
            problems.append(f"provenance {provenance!r} is not one of {', '.join(m.PROVENANCES)}")
        cleaned: list[NewObservation] = []
        for i, obs in enumerate(items, 1):
            cleaned.append(_checked_observation(obs, f"observation {i}", problems))
        if not items:
            problems.append("no observation given")
        with self.transaction() as s:
            user_row = self._user(s, user, problems)
            case_row = self._case_for(s, user_row, case_id, problems)
            if problems or user_row is None or case_row is None:
                raise InputError(f"no observation added to case {case_id!r}", problems)
            accepted_now = provenance in _AUTO_ACCEPTED
            existing = list(
                s.scalars(
                    select(m.PhenotypeObservation)
                    .where(m.PhenotypeObservation.case_id == case_id)
                    .order_by(m.PhenotypeObservation.id)
                )
            )
            now = m.utc_now()
            batch: dict[str, tuple[bool, m.PhenotypeObservation]] = {}
            touched: list[m.PhenotypeObservation] = []
            rows: list[m.PhenotypeObservation] = []
            for i, obs in enumerate(cleaned, 1):
                where = f"observation {i} ({obs.term_id})"
                if obs.term_id in batch:
                    flag, first = batch[obs.term_id]
                    if flag != obs.excluded:
                        problems.append(f"{where}: given both observed and excluded")
                    rows.append(first)
                    continue
                same = [r for r in existing if r.term_id == obs.term_id]
                active = next(
                    (
                        r
                        for r in same
                        if r.excluded == obs.excluded and r.review_status != "rejected"
                    ),
                    None,
                )
                rejected = next(
                    (
                        r
                        for r in same
                        if r.excluded == obs.excluded and r.review_status == "rejected"
                    ),
                    None,
                )
                opposite = next(
                    (
                        r
                        for r in same
                        if r.excluded != obs.excluded and r.review_status == "accepted"
                    ),
                    None,
                )
                if opposite is not None and accepted_now:
                    state = "excluded" if opposite.excluded else "observed"
                    problems.append(
                        f"{where}: the case has it accepted as {state} (observation "
                        f"{opposite.id}): review that observation instead"
                    )
                    continue
                if active is not None:
                    row = active
                    if accepted_now and row.review_status == "proposed":
                        row.review_status = "accepted"
                        row.reviewed_by, row.reviewed_at = user_row.id, now
                        touched.append(row)
                elif rejected is not None and not accepted_now:
                    row = rejected
                else:
                    row = m.PhenotypeObservation(
                        case_id=case_id,
                        term_id=obs.term_id,
                        excluded=obs.excluded,
                        provenance=provenance,
                        review_status="accepted" if accepted_now else "proposed",
                        label=obs.label,
                        evidence=obs.evidence,
                        reviewed_by=user_row.id if accepted_now else None,
                        reviewed_at=now if accepted_now else None,
                    )
                    s.add(row)
                    touched.append(row)
                batch[obs.term_id] = (obs.excluded, row)
                rows.append(row)
            if problems:
                raise InputError(f"no observation added to case {case_id!r}", problems)
            s.flush()
            for row in touched:
                self._audit(s, user_row, "write", "observation", str(row.id))
            self._sync_phenotype(s, user_row, case_row, now)
            return tuple(r.id for r in rows)

    def review_observation(
        self,
        observation_id: int,
        *,
        status: str,
        excluded: bool | None = None,
        user: str,
        case_id: str | None = None,
    ) -> ObservationRecord:
        """Accept or reject an observation (`status` "accepted" or "rejected"), recording who
        reviewed it and when; `excluded` (with "accepted" only) also sets whether the term is
        absent. Returns the observation as stored.

        Accepted observations are the case's phenotype: the stored phenopacket gains or loses
        the feature in the same transaction. A review may be changed later (an accepted term
        rejected, or the other way round). `InputError` (nothing written) for an unknown user
        or observation, an observation of a case of another centre (or, when `case_id` is
        given, of another case), a bad status, `excluded` with a rejection, or accepting a term
        the case already has accepted (another observation of it: reject that one first).
        """
        problems: list[str] = []
        if status not in ("accepted", "rejected"):
            problems.append(f"status {status!r} is not 'accepted' or 'rejected'")
        if excluded is not None and not isinstance(excluded, bool):
            problems.append(f"excluded must be true, false or None, not {excluded!r}")
        elif excluded is not None and status == "rejected":
            problems.append("excluded goes with an acceptance, not with a rejection")
        if isinstance(observation_id, bool) or not isinstance(observation_id, int):
            problems.append(f"observation id {observation_id!r} is not an integer")
            observation_id = -1
        with self.transaction() as s:
            user_row = self._user(s, user, problems)
            row = s.get(m.PhenotypeObservation, observation_id)
            case_row = s.get(m.Case, row.case_id) if row is not None else None
            visible = user_row is None or (
                case_row is not None and case_row.patient.centre_id == user_row.centre_id
            )
            if row is None or case_row is None or not visible:
                problems.append(f"no observation {observation_id} in the store")
            elif case_id is not None and row.case_id != case_id:
                problems.append(
                    f"observation {observation_id} is not an observation of {case_id!r}"
                )
            elif status == "accepted":
                flag = row.excluded if excluded is None else excluded
                for other in s.scalars(
                    select(m.PhenotypeObservation).where(
                        m.PhenotypeObservation.case_id == row.case_id,
                        m.PhenotypeObservation.term_id == row.term_id,
                        m.PhenotypeObservation.review_status == "accepted",
                        m.PhenotypeObservation.id != row.id,
                    )
                ):
                    state = "excluded" if other.excluded else "observed"
                    same = " already" if other.excluded == flag else ""
                    problems.append(
                        f"{row.term_id} is{same} accepted as {state} in observation {other.id}: "
                        "reject that one first"
                    )
            if problems or user_row is None or row is None or case_row is None:
                raise InputError(f"observation {observation_id} was not reviewed", problems)
            now = m.utc_now()
            row.review_status = status
            if excluded is not None:
                row.excluded = excluded
            row.reviewed_by, row.reviewed_at = user_row.id, now
            s.flush()
            self._audit(s, user_row, "write", "observation", str(row.id))
            self._sync_phenotype(s, user_row, case_row, now)
            [record] = self._observation_records(s, row.case_id, [row.id])
            return record

    def _sync_phenotype(
        self, s: Session, user_row: m.User, case_row: m.Case, now: datetime
    ) -> None:
        """Make the case's phenopacket features exactly its accepted observations.

        Features that stay keep everything the phenopacket had (onset, label); features of
        newly accepted observations are appended (term, label, excluded); the others go.
        """
        accepted = s.scalars(
            select(m.PhenotypeObservation)
            .where(
                m.PhenotypeObservation.case_id == case_row.id,
                m.PhenotypeObservation.review_status == "accepted",
            )
            .order_by(m.PhenotypeObservation.id)
        )
        wanted: dict[tuple[str, bool], str | None] = {}
        for obs in accepted:
            wanted.setdefault((obs.term_id, obs.excluded), obs.label)
        case = read_phenopacket(case_row.phenopacket, name=f"store:{case_row.id}")
        kept = [f for f in case.features if (f.term_id, f.excluded) in wanted]
        present = {(f.term_id, f.excluded) for f in kept}
        added = [
            Feature(term_id=term, label=label, excluded=flag)
            for (term, flag), label in wanted.items()
            if (term, flag) not in present
        ]
        features = (*kept, *added)
        if features == case.features:
            return
        packet = case_to_phenopacket(replace(case, features=features))
        size = len(json.dumps(packet, ensure_ascii=False).encode())
        if size > self.max_case_bytes:
            raise InputError(
                f"case {case_row.id!r}: the phenopacket would be {size} bytes; the store "
                f"accepts at most {self.max_case_bytes} bytes per case"
            )
        case_row.phenopacket = packet
        case_row.updated_at = now
        self._audit(s, user_row, "write", "case", case_row.id)

    # -- VCFs and their cached genotype evidence ---------------------------------------------

    def attach_vcf(
        self,
        case_id: str,
        path: str | Path,
        *,
        assembly: str | None = None,
        sample: str | None = None,
        user: str,
    ) -> VcfRecord:
        """Attach the VCF (or BCF) at `path` to `case_id`: its sha256 and size (read in 1 MiB
        chunks), its assembly (`assembly`, else read from the header) and the proband's sample
        column (`sample`; the only one of a one-sample VCF; else the case's mapping or subject
        id). The case's phenopacket names it first among its ``files``. Attaching a path the
        case already has updates that reference (its cached evidence is dropped if anything
        changed). Returns the reference.

        The header is read and the samples are checked against the case (its pedigree for a
        family); the genotypes are read later, once, by `genome_evidence`. `InputError`
        (nothing written) for an unknown user or case, a case of another centre, a path that
        is not a readable file, a file that is not a VCF, an unknown or contradicted assembly,
        or samples that do not fit the case.
        """
        problems: list[str] = []
        where = Path(path).expanduser()
        try:
            where = where.resolve()
        except (OSError, RuntimeError) as exc:
            problems.append(f"{path}: cannot resolve the path ({exc})")
        header = None
        digest, size = "", 0
        if not problems:
            if not where.exists():
                problems.append(f"{where}: no such file")
            elif not where.is_file():
                problems.append(f"{where}: not a regular file")
            else:
                try:
                    digest, size = file_sha256(where)
                except OSError as exc:
                    problems.append(f"{where}: cannot read ({exc.strerror or exc})")
        if assembly is not None:
            try:
                assembly = parse_assembly(assembly).value
            except InputError as exc:
                problems.append(str(exc))
        _length("VCF sample", sample, "sample", problems)
        if not problems:
            try:
                header = read_header(where, assembly)
            except InputError as exc:
                problems.extend([exc.message, *exc.problems])
        with self.transaction() as s:
            user_row = self._user(s, user, problems)
            case_row = self._case_for(s, user_row, case_id, problems)
            case = None
            if case_row is not None and header is not None:
                case = read_phenopacket(case_row.phenopacket, name=f"store:{case_id}")
                if sample is None and len(header.samples) == 1 and not case.pedigree:
                    sample = header.samples[0]
                if sample is not None and sample not in header.samples:
                    problems.append(
                        f"{where}: no sample {sample!r} (samples: "
                        f"{', '.join(header.samples[:10]) or 'none'})"
                    )
                else:
                    pedigree, mapping = _vcf_pedigree(case, sample)
                    try:
                        bind_samples(pedigree, header.samples, mapping, source=str(where))
                    except InputError as exc:
                        problems.extend(exc.problems or [exc.message])
            if problems or user_row is None or case_row is None or header is None or case is None:
                raise InputError(f"no VCF attached to case {case_id!r}", problems)
            uri = f"file://{where}"
            built = header.assembly.value
            file_entry = GenomicFile(
                uri=uri,
                assembly=built,
                file_format=header.file_format,
                individual_to_file_ids=((case.subject.id, sample),) if sample else (),
            )
            others = tuple(f for f in case.files if f.uri not in (uri, str(where)))
            packet = case_to_phenopacket(replace(case, files=(file_entry, *others)))
            row = s.scalars(
                select(m.VcfReference)
                .where(
                    m.VcfReference.case_id == case_id,
                    m.VcfReference.path.in_([uri, str(where)]),
                )
                .order_by(m.VcfReference.id.desc())
            ).first()
            if row is None:
                row = m.VcfReference(case_id=case_id, path=uri)
                s.add(row)
            if (row.sha256, row.assembly, row.sample) != (digest, built, sample):
                row.evidence, row.evidence_inputs, row.evidence_at = None, None, None
            row.path, row.assembly, row.sample = uri, built, sample
            row.sha256, row.size = digest, size
            now = m.utc_now()
            case_row.phenopacket = packet
            case_row.updated_at = now
            s.flush()
            self._audit(s, user_row, "write", "vcf", str(row.id))
            self._audit(s, user_row, "write", "case", case_id)
            return _vcf_record(row)

    def vcfs(self, case_id: str, *, user: str) -> tuple[VcfRecord, ...]:
        """The VCF references of `case_id`, oldest first (each read audited). `InputError` for
        an unknown user or case, or a case of a centre `user` may not see."""
        with self.transaction() as s:
            user_row = self._known_user(s, user)
            self._visible_case(s, user_row, case_id)
            rows = s.scalars(
                select(m.VcfReference)
                .where(m.VcfReference.case_id == case_id)
                .order_by(m.VcfReference.id)
            ).all()
            out = tuple(_vcf_record(r) for r in rows)
            for record in out:
                self._audit(s, user_row, "read", "vcf", str(record.id))
        return out

    def genome_evidence(
        self,
        case_id: str,
        kb: KnowledgeBase,
        *,
        user: str,
        config: GenomeConfig | None = None,
        threads: int | None = None,
    ) -> GenomeEvidence | None:
        """The genotype evidence of the VCF last attached to `case_id` (`attach_vcf`), for
        `kb`; None when the case has no attached VCF.

        The cached evidence is used when its inputs (format version, file sha256, KB version
        and genes, raredx version, assembly, sample, pedigree, configuration) are the current
        ones: the file is then not read at all. Otherwise the file must be there with the
        attached sha256: the evidence is computed, cached (unless larger than
        `raredx.store.vcfcache.MAX_EVIDENCE_BYTES`) and returned. `VcfUnavailable` (reason
        "missing" or "changed") when it is not; `InputError` for an unknown user or case, a
        case of another centre, or a VCF the genome layer refuses.
        """
        cfg = config or GenomeConfig()
        with self.transaction() as s:
            user_row = self._known_user(s, user)
            case_row = self._visible_case(s, user_row, case_id)
            row = s.scalars(
                select(m.VcfReference)
                .where(m.VcfReference.case_id == case_id, m.VcfReference.sha256.is_not(None))
                .order_by(m.VcfReference.id.desc())
            ).first()
            if row is None:
                return None
            self._audit(s, user_row, "read", "vcf", str(row.id))
            case = read_phenopacket(case_row.phenopacket, name=f"store:{case_id}")
            ref_id, path, sha256, size = row.id, row.path, str(row.sha256), row.size
            assembly, sample = row.assembly, row.sample
            cached, cached_inputs = row.evidence, row.evidence_inputs
        pedigree, mapping = _vcf_pedigree(case, sample)
        inputs = evidence_inputs(
            sha256=sha256,
            kb=kb,
            assembly=assembly,
            sample=sample,
            pedigree=pedigree,
            sample_map=mapping,
            config=cfg,
        )
        # The column is checked first (no decompression of a stale blob), then the blob's own.
        if cached is not None and cached_inputs == json.loads(json.dumps(inputs)):
            try:
                return decode_evidence(cached, kb, inputs)
            except StaleEvidence:
                pass  # recomputed below
        where = Path(path[len("file://") :] if path.startswith("file://") else path)
        before = _file_state(where, case_id)
        if size is not None and before[0] != size:
            raise _changed(case_id, where)
        try:
            digest, _ = file_sha256(where)
        except OSError as exc:
            raise VcfUnavailable(
                f"case {case_id!r}: the attached VCF {where} cannot be read",
                "missing",
                [exc.strerror or str(exc)],
            ) from None
        if digest != sha256:
            raise _changed(case_id, where)
        evidence = collect_evidence(
            where,
            pedigree,
            kb,
            assembly=assembly,
            config=cfg,
            sample_map=mapping,
            threads=threads,
        )
        if _file_state(where, case_id) != before:
            raise _changed(case_id, where)
        blob = encode_evidence(evidence, inputs)
        if len(blob) <= MAX_EVIDENCE_BYTES:
            with self.transaction() as s:
                user_row = self._known_user(s, user)
                current = s.get(m.VcfReference, ref_id)
                if current is not None and current.sha256 == sha256:
                    current.evidence = blob
                    current.evidence_inputs = inputs
                    current.evidence_at = m.utc_now()
                    self._audit(s, user_row, "write", "vcf", str(ref_id))
        return evidence

    def record_decision(
        self, case_id: str, kind: str, value: Mapping[str, Any], *, user: str
    ) -> int:
        """Record a clinical decision on `case_id` by `user`; returns its id.

        `kind` is "diagnosis_confirmed" (the case becomes solved) or "variant_classified";
        `value` is JSON (e.g. ``{"disease_id": "OMIM:601859"}``).
        """
        problems: list[str] = []
        if kind not in m.DECISION_KINDS:
            problems.append(f"kind {kind!r} is not one of {', '.join(m.DECISION_KINDS)}")
        _json_safe(value, "value", problems)
        with self.transaction() as s:
            user_row = self._user(s, user, problems)
            case_row = self._case_for(s, user_row, case_id, problems)
            if problems or user_row is None or case_row is None:
                raise InputError("the decision was not recorded", problems)
            now = m.utc_now()
            row = m.Decision(
                case_id=case_id, kind=kind, value=dict(value), user_id=user_row.id, created_at=now
            )
            s.add(row)
            if kind == "diagnosis_confirmed" and case_row.status != "solved":
                case_row.status = "solved"
                case_row.updated_at = now
                self._audit(s, user_row, "write", "case", case_id)
            s.flush()
            self._audit(s, user_row, "write", "decision", str(row.id))
            return row.id

    # -- phenopackets in and out ----------------------------------------------------------------

    def import_phenopackets(
        self,
        paths: Iterable[str | Path],
        *,
        centre: str,
        user: str,
        progress: Progress | None = None,
    ) -> tuple[str, ...]:
        """Import every phenopacket under `paths` (files, folders, JSON Lines) in one transaction.

        All or nothing: unreadable or invalid phenopackets, ids repeated in the batch or already
        stored, and oversized cases are all reported in one `InputError`, and nothing is written.
        Returns the imported case ids in reading order.
        """
        problems: list[str] = []
        cases: list[Case] = []
        seen: dict[str, str] = {}
        for result in read_cases(paths):
            if result.case is None:
                problems.append(str(result.error))
                continue
            case = result.case
            if case.id in seen:
                problems.append(f"{result.source}: case id {case.id!r} repeats {seen[case.id]}")
                continue
            seen[case.id] = result.source
            problems.extend(self._case_problems(case, case.subject.id, result.source))
            cases.append(case)
        with self.transaction() as s:
            centre_row, user_row = self._centre_of_user(s, centre, user, problems, "add cases")
            for case_id in sorted(self._existing_ids(s, [c.id for c in cases])):
                problems.append(f"{seen[case_id]}: case {case_id!r} is already in the store")
            if problems or centre_row is None or user_row is None:
                raise InputError(
                    f"nothing imported: {len(problems)} problem(s) in the phenopackets", problems
                )
            now = m.utc_now()
            for done, case in enumerate(cases, 1):
                self._insert_case(
                    s,
                    case,
                    centre=centre_row,
                    pseudonym=case.subject.id,
                    provenance="phenopacket",
                    now=now,
                )
                self._audit(s, user_row, "write", "case", case.id)
                if done % _FLUSH_EVERY == 0 or done == len(cases):
                    s.flush()
                    if progress is not None:
                        progress(done, len(cases))
        return tuple(c.id for c in cases)

    def export_phenopackets(
        self, folder: str | Path, *, user: str, centre: str | None = None
    ) -> tuple[Path, ...]:
        """Write every case the user may see (their centre's; `centre`, if given, must be it)
        as ``<case id>.json`` into `folder`.

        Characters unsafe in file names become ``_``; clashes get ``-2``, ``-3``... suffixes.
        """
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        with self.transaction() as s:
            problems: list[str] = []
            if centre is not None:
                _, user_row = self._centre_of_user(s, centre, user, problems, "see the cases")
            else:
                user_row = self._user(s, user, problems)
            query = select(m.Case).join(m.Patient).order_by(m.Case.id)
            if user_row is not None:
                query = query.where(m.Patient.centre_id == user_row.centre_id)
            if problems or user_row is None:
                raise InputError("cannot export phenopackets", problems)
            used: set[str] = set()
            for row in s.scalars(query):
                stem = _UNSAFE_FILE_CHARS.sub("_", row.id).strip("._") or "case"
                name, n = stem, 1
                while name.lower() in used:
                    n += 1
                    name = f"{stem}-{n}"
                used.add(name.lower())
                path = target / f"{name}.json"
                with atomic_file(path) as fh:
                    fh.write(json.dumps(row.phenopacket, indent=2, ensure_ascii=False) + "\n")
                self._audit(s, user_row, "read", "case", row.id)
                written.append(path)
        return tuple(written)

    # -- the whole store ------------------------------------------------------------------------

    def export_all(self, path: str | Path, *, user: str) -> int:
        """Write every row of every table to `path` (JSON Lines); returns the number of rows.

        One consistent snapshot. The export's own audit entry is written first, so it is in
        the archive. `import_all` into an empty store restores it exactly.
        """
        target = Path(path)
        with self.transaction(snapshot=True) as s:
            user_row = self._known_user(s, user)
            self._audit(s, user_row, "read", "store", "*")
            s.flush()
            conn = s.connection()
            counts = {
                t.name: conn.scalar(select(func.count()).select_from(t)) or 0
                for t in m.Base.metadata.sorted_tables
            }
            header = {
                "format": ARCHIVE_FORMAT,
                "version": ARCHIVE_VERSION,
                "revision": head_revision(),
                "exported_at": m.utc_now().isoformat(),
                "tables": counts,
            }
            total = 0
            with atomic_file(target) as fh:
                fh.write(json.dumps(header, allow_nan=False) + "\n")
                for table in m.Base.metadata.sorted_tables:
                    query = select(table).order_by(*table.primary_key.columns)
                    for row in conn.execute(query).mappings():
                        line = {"table": table.name, "row": _dump_row(table, row)}
                        fh.write(json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n")
                        total += 1
        return total

    def import_all(self, path: str | Path, *, user: str) -> int:
        """Restore an `export_all` archive into this store, which must be empty; returns rows.

        All or nothing; every problem (format, revision, unknown tables or columns, bad
        values, counts) is reported in one `InputError`. `user` (a user of the archive) gets
        an audit entry for the import, appended after the restored rows.
        """
        source = Path(path)
        problems: list[str] = []
        rows: dict[str, list[dict[str, Any]]] = {t.name: [] for t in m.Base.metadata.sorted_tables}
        header = _read_archive(source, rows, problems)
        with self.transaction() as s:
            conn = s.connection()
            if current_revision(conn) != head_revision():
                problems.append("the store is not at the newest schema revision")
            for table in m.Base.metadata.sorted_tables:
                if conn.scalar(select(func.count()).select_from(table)):
                    problems.append(f"the store is not empty (table {table.name} has rows)")
                    break
            if header is not None:
                counts = header.get("tables")
                if not isinstance(counts, dict) or {k: len(v) for k, v in rows.items()} != counts:
                    problems.append(f"{source}: row counts do not match the header's tables")
            if problems:
                raise InputError(f"{source}: nothing imported", problems[:50])
            total = 0
            try:
                for table in m.Base.metadata.sorted_tables:
                    batch = rows[table.name]
                    for start in range(0, len(batch), 1000):
                        conn.execute(insert(table), batch[start : start + 1000])
                    total += len(batch)
            except (IntegrityError, DBAPIError) as exc:
                raise InputError(
                    f"{source}: nothing imported, the database refused a row",
                    [str(exc.orig or exc).strip()],
                ) from None
            if self.dialect == "postgresql":
                for table in _AUTO_ID_TABLES:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table.name}"
                        )
                    )
            self._audit(s, self._known_user(s, user), "write", "store", "*")
        return total


def _dump_value(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, m.UtcDateTime):
        return value.isoformat()
    if isinstance(column.type, LargeBinary):
        return base64.b64encode(value).decode("ascii")
    return value


def _dump_row(table: Table, row: Mapping[Any, Any]) -> dict[str, Any]:
    return {c.name: _dump_value(c, row[c.name]) for c in table.columns}


def _load_value(column: Column[Any], value: Any) -> Any:
    if value is None:
        if not column.nullable:
            raise ValueError("must not be null")
        return None
    kind = column.type
    if isinstance(kind, m.UtcDateTime):
        if not isinstance(value, str):
            raise ValueError("must be an ISO 8601 date-time string")
        moment = datetime.fromisoformat(value)
        if moment.utcoffset() is None:
            raise ValueError("must carry a time zone")
        return moment
    if isinstance(kind, LargeBinary):
        if not isinstance(value, str):
            raise ValueError("must be base64 text")
        return base64.b64decode(value, validate=True)
    expected = column.type.python_type
    if expected is dict:
        if not isinstance(value, dict):
            raise ValueError("must be a JSON object")
    elif expected is list:
        if not isinstance(value, list):
            raise ValueError("must be a JSON array")
    elif expected is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("must be an integer")
    elif expected is bool:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
    elif expected is str:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        length = getattr(kind, "length", None)
        if length is not None and len(value) > length:
            raise ValueError(f"longer than {length} characters")
    return value


def _read_archive(
    source: Path, rows: dict[str, list[dict[str, Any]]], problems: list[str]
) -> dict[str, Any] | None:
    """Parse an archive into `rows` (per table), collecting problems; returns the header."""
    tables = {t.name: t for t in m.Base.metadata.sorted_tables}
    header: dict[str, Any] | None = None
    try:
        with source.open("rb") as fh:
            for number, raw in enumerate(_archive_lines(fh), 1):
                where = f"{source}:{number}"
                if len(problems) > 50:
                    break
                if raw is None:
                    problems.append(f"{where}: line longer than {MAX_ARCHIVE_LINE_BYTES} bytes")
                    continue
                try:
                    item = json.loads(raw)
                except ValueError as exc:
                    problems.append(f"{where}: not JSON ({exc})")
                    continue
                if number == 1:
                    header = _check_header(item, where, problems)
                    continue
                _parse_row(item, where, tables, rows, problems)
    except OSError as exc:
        problems.append(f"{source}: cannot read ({exc.strerror or exc})")
    if header is None and not any("not a raredx store archive" in p for p in problems):
        problems.append(f"{source}: not a raredx store archive (no header line)")
    return header


def _archive_lines(fh: IO[bytes]) -> Iterator[bytes | None]:
    while True:
        line = fh.readline(MAX_ARCHIVE_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_ARCHIVE_LINE_BYTES:
            while line and not line.endswith(b"\n"):
                line = fh.readline(1 << 20)
            yield None
        elif line.strip():
            yield line


def _check_header(item: object, where: str, problems: list[str]) -> dict[str, Any] | None:
    if not isinstance(item, dict) or item.get("format") != ARCHIVE_FORMAT:
        problems.append(
            f"{where}: not a raredx store archive (header format is not {ARCHIVE_FORMAT!r})"
        )
        return None
    if item.get("version") != ARCHIVE_VERSION:
        problems.append(
            f"{where}: archive version {item.get('version')!r}, expected {ARCHIVE_VERSION}"
        )
    if item.get("revision") != head_revision():
        problems.append(
            f"{where}: archive schema revision {item.get('revision')!r}; this raredx writes "
            f"{head_revision()!r} (open the old store with its raredx, which migrates it)"
        )
    return item


def _parse_row(
    item: object,
    where: str,
    tables: Mapping[str, Table],
    rows: dict[str, list[dict[str, Any]]],
    problems: list[str],
) -> None:
    if not isinstance(item, dict) or set(item) != {"table", "row"}:
        problems.append(f"{where}: expected an object with 'table' and 'row'")
        return
    table = tables.get(item["table"]) if isinstance(item["table"], str) else None
    if table is None:
        problems.append(f"{where}: unknown table {item['table']!r}")
        return
    row = item["row"]
    if not isinstance(row, dict):
        problems.append(f"{where}: row is not an object")
        return
    columns = {c.name for c in table.columns}
    if set(row) != columns:
        missing = sorted(columns - set(row))
        extra = sorted(set(row) - columns)
        problems.append(f"{where}: {table.name} row: missing {missing}, unknown {extra}")
        return
    values: dict[str, Any] = {}
    for column in table.columns:
        try:
            values[column.name] = _load_value(column, row[column.name])
        except ValueError as exc:
            problems.append(f"{where}: {table.name}.{column.name} {exc}")
            return
    if table.name == "cases":
        values_problems: list[str] = []
        _json_safe(values["phenopacket"], f"{where}: cases.phenopacket", values_problems)
        problems.extend(values_problems)
    rows[table.name].append(values)
