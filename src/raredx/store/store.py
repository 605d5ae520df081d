"""The case store: cases, analyses and decisions in SQLite or PostgreSQL, with an audit log.

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
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from sqlalchemy import Column, Engine, LargeBinary, Table, func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from raredx._files import atomic_file
from raredx.case import Case, case_to_phenopacket, read_cases, read_phenopacket
from raredx.errors import InputError, RaredxError
from raredx.rank.result import Diagnosis
from raredx.store import models as m
from raredx.store.engine import current_revision, head_revision, make_engine, migrate

__all__ = [
    "ARCHIVE_FORMAT",
    "ARCHIVE_VERSION",
    "MAX_ARCHIVE_LINE_BYTES",
    "MAX_CASE_BYTES",
    "AnalysisRecord",
    "CaseSummary",
    "Store",
    "StoreError",
    "StoredCase",
]

MAX_CASE_BYTES = 4 * 1024 * 1024
"""Largest phenopacket (canonical JSON, bytes) the store accepts for one case."""

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
    "VCF assembly": 32,
    "VCF sample": 256,
}
_AUTO_ID_TABLES = tuple(
    t for t in m.Base.metadata.sorted_tables if t.c.get("id") is not None and t.name != "cases"
)
_FLUSH_EVERY = 100
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")

Progress = Callable[[int, int], None]
"""Called as progress(done, total) while a batch is written."""


class StoreError(RaredxError):
    """The database cannot be reached or used (not bad input: see `InputError` for that)."""


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """A line of `Store.list_cases`: the case, its patient's pseudonymous id, status, times."""

    id: str
    patient: str
    centre: str
    status: str
    created: datetime
    updated: datetime


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
class StoredCase:
    """A stored case read back with its centre, patient (pseudonymous id), status and latest
    analysis (None: never analysed)."""

    id: str
    centre: str
    patient: str
    status: str
    case: Case
    latest: AnalysisRecord | None


def _analysis_record(row: m.Analysis) -> AnalysisRecord:
    return AnalysisRecord(
        id=row.id,
        case_id=row.case_id,
        kb_version=row.kb_version,
        parameters=dict(row.parameters),
        results=dict(row.results),
        created=row.created_at,
    )


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
        s.add(
            m.Case(
                id=case.id,
                patient_id=patient.id,
                status="unsolved",
                phenopacket=case_to_phenopacket(case),
                created_at=now,
                updated_at=now,
            )
        )
        review = "proposed" if provenance in ("note", "labs") else "accepted"
        s.add_all(
            m.PhenotypeObservation(
                case_id=case.id,
                term_id=f.term_id,
                excluded=f.excluded,
                provenance=provenance,
                review_status=review,
                evidence=f.label,
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

        Observations get `provenance`; machine-made ones (note, labs) start as "proposed".
        Raises `InputError` (nothing written) for an existing case id or any invalid field.
        """
        pseudonym = patient if patient is not None else case.subject.id
        problems = self._case_problems(case, pseudonym, case.id)
        if provenance not in m.PROVENANCES:
            problems.append(f"provenance {provenance!r} is not one of {', '.join(m.PROVENANCES)}")
        with self.transaction() as s:
            centre_row = self._centre(s, centre, problems)
            user_row = self._user(s, user, problems)
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
            row = s.get(m.Case, case_id)
            if row is None:
                raise InputError(f"no case {case_id!r} in the store")
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
            centre_row = self._centre(s, centre, problems)
            user_row = self._user(s, user, problems)
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
                )
                for row, pseudonym in s.execute(query)
            )
            for summary in out:
                self._audit(s, user_row, "read", "case", summary.id)
        return out

    def record_analysis(self, case_id: str, diagnosis: Diagnosis, *, user: str) -> int:
        """Store a ranking of `case_id` (KB version, parameters, full results); returns its id."""
        problems: list[str] = []
        if diagnosis.case_id is not None and diagnosis.case_id != case_id:
            problems.append(f"the diagnosis is of case {diagnosis.case_id!r}, not {case_id!r}")
        results = diagnosis.to_dict()
        _json_safe(results, "results", problems)
        with self.transaction() as s:
            user_row = self._user(s, user, problems)
            if s.get(m.Case, case_id) is None:
                problems.append(f"no case {case_id!r} in the store")
            if problems or user_row is None:
                raise InputError("the analysis was not recorded", problems)
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
            if row is None:
                raise InputError(f"no case {case_id!r} in the store")
            if row[0] != user_row.centre.code:
                raise InputError(
                    f"case {case_id!r} is not in a centre user {user!r} may see",
                    [f"{user} sees the cases of centre {user_row.centre.code} only"],
                )
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
        oldest first, each with its latest analysis (highest id). One transaction; every case
        and analysis read is audited."""
        if status is not None and status not in m.CASE_STATUSES:
            raise InputError(
                "cannot list cases",
                [f"status {status!r} is not one of {', '.join(m.CASE_STATUSES)}"],
            )
        with self.transaction() as s:
            user_row = self._known_user(s, user)
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
            out: list[StoredCase] = []
            for case_row, analysis_row, pseudonym in s.execute(query):
                self._audit(s, user_row, "read", "case", case_row.id)
                record = None
                if analysis_row is not None:
                    record = _analysis_record(analysis_row)
                    self._audit(s, user_row, "read", "analysis", str(record.id))
                out.append(
                    StoredCase(
                        id=case_row.id,
                        centre=centre.code,
                        patient=pseudonym,
                        status=case_row.status,
                        case=read_phenopacket(case_row.phenopacket, name=f"store:{case_row.id}"),
                        latest=record,
                    )
                )
        return tuple(out)

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
            case_row = s.get(m.Case, case_id)
            if case_row is None:
                problems.append(f"no case {case_id!r} in the store")
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
            centre_row = self._centre(s, centre, problems)
            user_row = self._user(s, user, problems)
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
        """Write every case (of `centre`, or all) as ``<case id>.json`` into `folder`.

        Characters unsafe in file names become ``_``; clashes get ``-2``, ``-3``... suffixes.
        """
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        with self.transaction() as s:
            problems: list[str] = []
            user_row = self._user(s, user, problems)
            query = select(m.Case).order_by(m.Case.id)
            if centre is not None:
                centre_row = self._centre(s, centre, problems)
                if centre_row is not None:
                    query = query.join(m.Patient).where(m.Patient.centre_id == centre_row.id)
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
