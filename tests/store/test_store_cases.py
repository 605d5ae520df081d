"""Cases round-trip through the store; decisions and analyses are kept; every access is audited."""

from __future__ import annotations

import gzip
import itertools
import json
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from raredx.case import Case, PhenotypeObservation, Subject, read_cases, read_phenopacket
from raredx.diagnosis import diagnose
from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.store import MAX_CASE_BYTES, Store
from raredx.store.models import Analysis, AuditEntry, Decision, VcfReference
from raredx.store.models import PhenotypeObservation as ObservationRow
from tests.store.conftest import EXAMPLE, row_counts, table_rows


def _audit(store: Store) -> list[tuple[str, str, str, str]]:
    rows = table_rows(store)
    names = {u["id"]: u["name"] for u in rows["users"]}
    return [
        (names[a["user_id"]], a["action"], a["entity"], a["entity_id"]) for a in rows["audit_log"]
    ]


def _as_json(value: Any) -> Any:
    """What JSON keeps of `value` (tuples become lists)."""
    return json.loads(json.dumps(value))


def _dev_cases(shared_dir: Path, n: int) -> list[Case]:
    source = shared_dir / "bench" / "phenopackets-dev.jsonl.gz"
    with gzip.open(source, "rb") as fh:
        lines = list(itertools.islice(fh, n))
    cases = []
    for i, line in enumerate(lines):
        cases.append(read_phenopacket(line, name=f"dev:{i + 1}"))
    return cases


def test_example_case_round_trips(store: Store) -> None:
    case = read_phenopacket(EXAMPLE)
    assert store.add_case(case, centre="C1", user="alice") == case.id
    assert store.get_case(case.id, user="bob") == case
    [summary] = store.list_cases("C1", user="alice")
    assert (summary.id, summary.patient, summary.centre, summary.status) == (
        case.id,
        case.subject.id,
        "C1",
        "unsolved",
    )
    assert summary.created == summary.updated and summary.created.tzinfo is not None
    with pytest.raises(InputError, match="may not see the cases of centre 'C2'"):
        store.list_cases("C2", user="alice")
    other = Case(id="into-C2", subject=Subject(id="P-into-C2"))
    with pytest.raises(InputError, match="may not add cases of centre 'C2'"):
        store.add_case(other, centre="C2", user="alice")
    with store.engine.connect() as conn:
        observations = conn.execute(select(ObservationRow)).all()
    assert [(o.term_id, o.excluded) for o in observations] == [
        (f.term_id, f.excluded) for f in case.features
    ]
    assert {(o.provenance, o.review_status) for o in observations} == {("typed", "accepted")}


def test_dev_phenopackets_round_trip(store: Store, shared_dir: Path) -> None:
    cases = _dev_cases(shared_dir, 40)
    for case in cases:
        store.add_case(case, centre="C1", user="alice", provenance="phenopacket")
    assert [store.get_case(c.id, user="alice") for c in cases] == cases
    assert [s.id for s in store.list_cases("C1", user="alice")] == [c.id for c in cases]
    files = sum(len(c.files) for c in cases)
    with store.engine.connect() as conn:
        assert len(conn.execute(select(VcfReference)).all()) == files


def test_read_cases_batch_round_trips(store: Store, shared_dir: Path, tmp_path: Path) -> None:
    source = shared_dir / "bench" / "phenopackets-dev.jsonl.gz"
    with gzip.open(source, "rb") as fh:
        (tmp_path / "few.jsonl").write_bytes(b"".join(itertools.islice(fh, 100, 110)))
    cases = [r.case for r in read_cases([tmp_path / "few.jsonl"]) if r.case is not None]
    assert len(cases) == 10
    for case in cases:
        store.add_case(case, centre="C1", user="bob")
    assert [store.get_case(c.id, user="bob") for c in cases] == cases


def test_machine_observations_wait_for_review(store: Store) -> None:
    case = read_phenopacket(EXAMPLE)
    store.add_case(case, centre="C1", user="alice", provenance="note")
    with store.engine.connect() as conn:
        statuses = set(conn.execute(select(ObservationRow.review_status)).scalars())
    assert statuses == {"proposed"}


def test_duplicate_case_id_is_rejected_and_nothing_is_written(store: Store) -> None:
    case = read_phenopacket(EXAMPLE)
    store.add_case(case, centre="C1", user="alice")
    before = table_rows(store)
    other = Case(id=case.id, subject=Subject(id="OTHER-PATIENT"))
    with pytest.raises(InputError, match="already exists"):
        store.add_case(other, centre="C2", user="dora")
    assert table_rows(store) == before


def test_bad_arguments_are_all_reported_and_nothing_is_written(store: Store) -> None:
    case = Case(id="x" * 300, subject=Subject(id="P" * 200))
    before = row_counts(store)
    with pytest.raises(InputError) as err:
        store.add_case(case, centre="NOPE", user="mallory", provenance="guess")
    text = str(err.value)
    for expected in ("case id longer", "pseudonymous id longer", "provenance", "NOPE", "mallory"):
        assert expected in text
    assert row_counts(store) == before
    with pytest.raises(InputError, match="no case"):
        store.get_case("missing", user="alice")
    with pytest.raises(InputError, match="unknown user"):
        store.get_case("missing", user="mallory")
    with pytest.raises(InputError, match="status"):
        store.list_cases("C1", "maybe", user="alice")
    with pytest.raises(InputError, match="already exists"):
        store.add_centre("C1", "again")
    with pytest.raises(InputError, match="role"):
        store.add_user("carol", role="nurse", centre="C1")
    assert row_counts(store) == before


def test_oversized_case_is_rejected(make_store: Any) -> None:
    assert MAX_CASE_BYTES >= 1024 * 1024
    store: Store = make_store(max_case_bytes=2000)
    store.add_centre("C1", "c")
    store.add_user("alice", role="admin", centre="C1")
    case = read_phenopacket(EXAMPLE)
    with pytest.raises(InputError, match="at most 2000 bytes"):
        store.add_case(case, centre="C1", user="alice")
    assert row_counts(store)["cases"] == 0


def test_decisions_and_analyses(store: Store, toy_kb: KnowledgeBase) -> None:
    case = Case(
        id="toy-1",
        subject=Subject(id="PSEUDO-1"),
        features=(PhenotypeObservation("HP:0001873"),),
    )
    store.add_case(case, centre="C1", user="alice")
    diagnosis = diagnose(case, kb=toy_kb)
    analysis_id = store.record_analysis("toy-1", diagnosis, user="bob")
    with pytest.raises(InputError, match="not 'other'"):
        store.record_analysis("other", diagnosis, user="bob")
    decision = store.record_decision(
        "toy-1",
        "variant_classified",
        {"variant": "1-123-A-G", "acmg": "likely_pathogenic"},
        user="bob",
    )
    assert store.list_cases("C1", "solved", user="alice") == ()
    confirmed = store.record_decision(
        "toy-1", "diagnosis_confirmed", {"disease_id": "OMIM:000001"}, user="bob"
    )
    [solved] = store.list_cases("C1", "solved", user="alice")
    assert solved.id == "toy-1" and solved.updated > solved.created
    assert store.list_cases("C1", "unsolved", user="alice") == ()
    with pytest.raises(InputError) as err:
        store.record_decision("toy-1", "guess", {"x": float("nan")}, user="bob")
    assert "kind 'guess'" in str(err.value) and "not a finite number" in str(err.value)
    with Session(store.engine) as session:
        analysis = session.scalars(select(Analysis)).one()
        decisions = session.scalars(select(Decision).order_by(Decision.id)).all()
    assert analysis.id == analysis_id
    assert analysis.kb_version == diagnosis.kb_version
    assert analysis.parameters == _as_json(diagnosis.parameters.to_dict())
    assert analysis.results == _as_json(diagnosis.to_dict())
    assert [d.id for d in decisions] == [decision, confirmed]
    assert decisions[1].value == {"disease_id": "OMIM:000001"}


def test_every_read_and_write_is_audited(store: Store, toy_kb: KnowledgeBase) -> None:
    case = read_phenopacket(EXAMPLE)
    store.add_case(case, centre="C1", user="alice")
    store.get_case(case.id, user="bob")
    store.list_cases("C1", user="alice")
    toy = Case(id="toy", subject=Subject(id="T"), features=(PhenotypeObservation("HP:0001873"),))
    store.add_case(toy, centre="C1", user="alice")
    analysis = store.record_analysis("toy", diagnose(toy, kb=toy_kb), user="bob")
    decision = store.record_decision("toy", "diagnosis_confirmed", {"d": "OMIM:1"}, user="bob")
    with pytest.raises(InputError):
        store.get_case("missing", user="bob")
    assert _audit(store) == [
        ("alice", "write", "case", case.id),
        ("bob", "read", "case", case.id),
        ("alice", "read", "case", case.id),
        ("alice", "write", "case", "toy"),
        ("bob", "write", "analysis", str(analysis)),
        ("bob", "write", "case", "toy"),
        ("bob", "write", "decision", str(decision)),
    ]
    with store.engine.connect() as conn:
        times = conn.execute(select(AuditEntry.at).order_by(AuditEntry.id)).scalars().all()
    assert times == sorted(times) and all(t.tzinfo is not None for t in times)


_pseudonyms = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=128
).filter(lambda s: s == s.strip())
_terms = st.lists(
    st.tuples(st.integers(1, 9_999_999).map(lambda n: f"HP:{n:07d}"), st.booleans()),
    max_size=30,
    unique_by=lambda t: t[0],
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pseudonym=_pseudonyms, terms=_terms)
def test_random_patients_and_terms_round_trip(
    store: Store, pseudonym: str, terms: list[tuple[str, bool]]
) -> None:
    case = Case(
        id=f"case-{uuid.uuid4()}",
        subject=Subject(id=pseudonym),
        features=tuple(PhenotypeObservation(t, excluded=x) for t, x in terms),
    )
    store.add_case(case, centre="C1", user="bob")
    assert store.get_case(case.id, user="alice") == case
    summaries = {s.id: s for s in store.list_cases("C1", user="bob")}
    assert summaries[case.id].patient == pseudonym
    with store.engine.connect() as conn:
        stored = conn.execute(
            select(ObservationRow.term_id, ObservationRow.excluded)
            .where(ObservationRow.case_id == case.id)
            .order_by(ObservationRow.id)
        ).all()
    assert [tuple(r) for r in stored] == terms


def test_concurrent_transactions_wait_for_each_other(store: Store) -> None:
    """Reads write their audit entry: on SQLite, threads reading and writing at once must
    queue (BEGIN IMMEDIATE) rather than fail with "database is locked"."""
    case = read_phenopacket(EXAMPLE)
    store.add_case(case, centre="C1", user="alice")
    failures: list[str] = []

    def work(n: int) -> None:
        for i in range(25):
            try:
                store.observations(case.id, user="alice")
                if i % 5 == 0:
                    store.set_new_results(case.id, (n + i) % 2 == 0, user="bob")
            except Exception as exc:  # any failure is the finding
                failures.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    reads = [e for e in table_rows(store)["audit_log"] if e["action"] == "read"]
    assert len(reads) >= 100
