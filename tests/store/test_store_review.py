"""Observation review, decisions read back, Matchmaker Exchange consent, and migration 0002."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import MetaData, insert

from raredx.case import Case, read_phenopacket
from raredx.diagnosis import diagnose
from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.store import Store, head_revision, make_engine, migrate
from raredx.store.engine import current_revision
from raredx.store.store import MAX_EVIDENCE_CHARS, DecisionRecord, NewObservation, StoredCase
from tests.store.conftest import EXAMPLE, table_rows

SEIZURE = "HP:0001250"
DELAY = "HP:0001263"  # Global developmental delay
FEVER = "HP:0001945"


@pytest.fixture
def alps(store: Store) -> Case:
    case = read_phenopacket(EXAMPLE)
    store.add_case(case, centre="C1", user="alice")
    store.add_user("carol", role="clinician", centre="C2")
    return case


def _audit(store: Store) -> list[tuple[str, str, str, str]]:
    rows = table_rows(store)
    names = {u["id"]: u["name"] for u in rows["users"]}
    return [
        (names[a["user_id"]], a["action"], a["entity"], a["entity_id"]) for a in rows["audit_log"]
    ]


def _terms(case: Case) -> list[tuple[str, bool]]:
    return [(f.term_id, f.excluded) for f in case.features]


# -- the review workflow ----------------------------------------------------------------------


def test_note_terms_are_proposed_and_only_accepted_ones_reach_the_case(
    store: Store, alps: Case
) -> None:
    ids = store.add_observations(
        alps.id,
        [
            NewObservation(SEIZURE, evidence="crises convulsives à 2 ans", label="Seizure"),
            NewObservation(DELAY, excluded=True, evidence="pas de retard", label="Delay"),
        ],
        provenance="note",
        user="alice",
    )
    assert len(set(ids)) == 2
    # proposed terms are not part of the case: diagnose never sees them
    assert _terms(store.get_case(alps.id, user="alice")) == _terms(alps)
    records = {o.id: o for o in store.observations(alps.id, user="bob")}
    seizure = records[ids[0]]
    assert (seizure.term_id, seizure.label, seizure.excluded, seizure.provenance) == (
        SEIZURE,
        "Seizure",
        False,
        "note",
    )
    assert seizure.review_status == "proposed" and seizure.reviewed_by is None
    assert seizure.evidence == "crises convulsives à 2 ans"
    # the imported terms are accepted, with their label (not as evidence)
    imported = [o for o in records.values() if o.provenance == "typed"]
    assert [o.term_id for o in imported] == [f.term_id for f in alps.features]
    assert all(o.review_status == "accepted" and o.evidence is None for o in imported)
    assert imported[0].label == alps.features[0].label

    accepted = store.review_observation(ids[0], status="accepted", user="bob")
    assert accepted.review_status == "accepted" and accepted.reviewed_by == "bob"
    assert accepted.reviewed_at is not None and accepted.reviewed_at.tzinfo is not None
    rejected = store.review_observation(ids[1], status="rejected", user="alice")
    assert rejected.review_status == "rejected" and rejected.reviewed_by == "alice"
    case = store.get_case(alps.id, user="alice")
    assert _terms(case) == [*_terms(alps), (SEIZURE, False)]
    assert case.features[-1].label == "Seizure"
    assert DELAY not in case.excluded_terms
    # the features kept are untouched (onsets survive the rewrite)
    assert case.features[: len(alps.features)] == alps.features

    # a review can be changed: the seizure leaves the phenotype, the delay joins as excluded
    store.review_observation(ids[0], status="rejected", user="alice")
    store.review_observation(ids[1], status="accepted", user="alice")
    case = store.get_case(alps.id, user="alice")
    assert _terms(case) == [*_terms(alps), (DELAY, True)]
    assert SEIZURE not in case.observed_terms


def test_an_imported_term_can_be_rejected_and_flipped(
    store: Store, alps: Case, real_kb: KnowledgeBase
) -> None:
    first = store.observations(alps.id, user="alice")[0]
    assert first.term_id == alps.features[0].term_id
    store.review_observation(first.id, status="rejected", user="bob")
    case = store.get_case(alps.id, user="alice")
    assert first.term_id not in case.observed_terms
    ranked = diagnose(case, kb=real_kb, lenient=True)
    assert first.term_id not in {i for i, _ in ranked.observed}
    # accepted again, now as excluded
    flipped = store.review_observation(first.id, status="accepted", excluded=True, user="bob")
    assert flipped.excluded and flipped.review_status == "accepted"
    case = store.get_case(alps.id, user="alice")
    assert first.term_id in case.excluded_terms
    assert first.term_id not in case.observed_terms


def test_duplicates_are_merged(store: Store, alps: Case) -> None:
    [a, b] = store.add_observations(
        alps.id,
        [NewObservation(SEIZURE, evidence="first"), NewObservation(SEIZURE, evidence="again")],
        provenance="note",
        user="alice",
    )
    assert a == b  # the same term twice in one batch: one observation
    # proposed again from another note: the pending proposal is returned, nothing added
    [c] = store.add_observations(alps.id, [NewObservation(SEIZURE)], provenance="labs", user="bob")
    assert c == a
    seizures = [o for o in store.observations(alps.id, user="alice") if o.term_id == SEIZURE]
    assert [(o.id, o.evidence, o.review_status) for o in seizures] == [(a, "first", "proposed")]
    # typed by a clinician: the proposal is accepted (by them), still one observation
    [d] = store.add_observations(alps.id, [NewObservation(SEIZURE)], provenance="typed", user="bob")
    assert d == a
    [seizure] = [o for o in store.observations(alps.id, user="alice") if o.term_id == SEIZURE]
    assert (seizure.review_status, seizure.reviewed_by, seizure.provenance) == (
        "accepted",
        "bob",
        "note",
    )
    assert _terms(store.get_case(alps.id, user="alice")).count((SEIZURE, False)) == 1
    # a rejected proposal is not proposed again; a typed term is added again, accepted
    store.review_observation(a, status="rejected", user="bob")
    [e] = store.add_observations(alps.id, [NewObservation(SEIZURE)], provenance="note", user="bob")
    assert e == a
    assert SEIZURE not in store.get_case(alps.id, user="alice").observed_terms
    [f] = store.add_observations(
        alps.id, [NewObservation(SEIZURE)], provenance="typed", user="alice"
    )
    assert f != a
    assert SEIZURE in store.get_case(alps.id, user="alice").observed_terms
    # the opposite of an accepted term may be proposed (for review), not typed
    [g] = store.add_observations(
        alps.id, [NewObservation(SEIZURE, excluded=True)], provenance="note", user="alice"
    )
    assert g not in (a, f)
    before = table_rows(store)
    with pytest.raises(InputError, match=rf"accepted as observed \(observation {f}\)"):
        store.add_observations(
            alps.id, [NewObservation(SEIZURE, excluded=True)], provenance="typed", user="alice"
        )
    # accepting the proposal while the other is accepted: reject that one first
    with pytest.raises(InputError, match=f"accepted as observed in observation {f}"):
        store.review_observation(g, status="accepted", user="alice")
    assert table_rows(store) == before
    store.review_observation(f, status="rejected", user="alice")
    store.review_observation(g, status="accepted", user="alice")
    assert SEIZURE in store.get_case(alps.id, user="alice").excluded_terms


def test_observed_and_excluded_in_one_batch_is_refused(store: Store, alps: Case) -> None:
    before = table_rows(store)
    with pytest.raises(InputError, match="both observed and excluded"):
        store.add_observations(
            alps.id,
            [NewObservation(FEVER), NewObservation(FEVER, excluded=True)],
            provenance="typed",
            user="alice",
        )
    assert table_rows(store) == before


def test_add_case_from_a_note_keeps_its_terms_out_of_the_phenotype(store: Store) -> None:
    case = dataclasses.replace(read_phenopacket(EXAMPLE), id="from-note")
    store.add_case(case, centre="C1", user="alice", provenance="note")
    assert store.get_case("from-note", user="alice").features == ()
    [first, *_] = store.observations("from-note", user="alice")
    store.review_observation(first.id, status="accepted", user="alice")
    assert _terms(store.get_case("from-note", user="alice")) == [
        (case.features[0].term_id, case.features[0].excluded)
    ]


def test_review_audit_trail(store: Store, alps: Case) -> None:
    [oid] = store.add_observations(
        alps.id, [NewObservation(SEIZURE)], provenance="note", user="alice"
    )
    start = len(_audit(store))
    store.review_observation(oid, status="accepted", user="bob")
    assert _audit(store)[start:] == [
        ("bob", "write", "observation", str(oid)),
        ("bob", "write", "case", alps.id),
    ]
    start = len(_audit(store))
    found = store.observations(alps.id, user="alice")
    assert _audit(store)[start:] == [("alice", "read", "observation", str(o.id)) for o in found]


def test_bad_review_input_writes_nothing(store: Store, alps: Case) -> None:
    [oid] = store.add_observations(
        alps.id, [NewObservation(SEIZURE)], provenance="note", user="alice"
    )
    before = table_rows(store)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"observation_id": 999_999, "status": "accepted", "user": "alice"}, "no observation"),
        ({"observation_id": oid, "status": "accepted", "user": "carol"}, "in the store"),
        ({"observation_id": oid, "status": "maybe", "user": "alice"}, "'maybe'"),
        ({"observation_id": oid, "status": "rejected", "excluded": True, "user": "alice"}, "not"),
        ({"observation_id": oid, "status": "accepted", "user": "mallory"}, "unknown user"),
        ({"observation_id": "1", "status": "accepted", "user": "alice"}, "not an integer"),
        (
            {"observation_id": oid, "status": "accepted", "user": "alice", "case_id": "other"},
            "not an observation of 'other'",
        ),
    ]
    for kwargs, message in cases:
        with pytest.raises(InputError, match=message):
            store.review_observation(**kwargs)
    # the review of a user of another centre does not reveal the case id
    with pytest.raises(InputError) as err:
        store.review_observation(oid, status="accepted", user="carol")
    assert alps.id not in str(err.value)
    assert table_rows(store) == before


def test_bad_observations_write_nothing(store: Store, alps: Case) -> None:
    before = table_rows(store)
    with pytest.raises(InputError) as err:
        store.add_observations(
            alps.id,
            [
                NewObservation("HP:12"),
                NewObservation("OMIM:601859"),
                NewObservation(" HP:0001250"),
                NewObservation(SEIZURE, evidence="x" * (MAX_EVIDENCE_CHARS + 1)),
                NewObservation(FEVER, label="L" * 300),
                NewObservation(FEVER, excluded="yes"),  # type: ignore[arg-type]
            ],
            provenance="note",
            user="alice",
        )
    text = str(err.value)
    for expected in (
        "observation 1: malformed HPO term id 'HP:12'",
        "observation 2: malformed HPO term id 'OMIM:601859'",
        "observation 3: malformed",
        f"observation 4: evidence is {MAX_EVIDENCE_CHARS + 1} characters",
        "observation 5: term label longer than 256",
        "observation 6: excluded must be true or false",
    ):
        assert expected in text
    for kwargs, message in (
        ({"case_id": "nope", "provenance": "note", "user": "alice"}, "no case 'nope'"),
        ({"case_id": alps.id, "provenance": "note", "user": "carol"}, "in the store"),
        ({"case_id": alps.id, "provenance": "guess", "user": "alice"}, "provenance 'guess'"),
        ({"case_id": alps.id, "provenance": "note", "user": "mallory"}, "unknown user"),
    ):
        with pytest.raises(InputError, match=message):
            store.add_observations(observations=[NewObservation(FEVER)], **kwargs)
    with pytest.raises(InputError, match="no observation given"):
        store.add_observations(alps.id, [], provenance="typed", user="alice")
    with pytest.raises(InputError, match="no case 'nope'"):
        store.observations("nope", user="alice")
    with pytest.raises(InputError, match="in the store"):
        store.observations(alps.id, user="carol")
    assert table_rows(store) == before


# -- decisions and Matchmaker Exchange consent ---------------------------------------------


def test_decisions_are_read_back_in_order(store: Store, alps: Case) -> None:
    first = store.record_decision(
        alps.id, "variant_classified", {"gene": "FAS", "class": "pathogenic"}, user="bob"
    )
    second = store.record_decision(
        alps.id, "diagnosis_confirmed", {"disease_id": "OMIM:601859"}, user="alice"
    )
    start = len(_audit(store))
    found = store.decisions(alps.id, user="alice")
    assert [(d.id, d.kind, d.value, d.user, d.case_id) for d in found] == [
        (first, "variant_classified", {"gene": "FAS", "class": "pathogenic"}, "bob", alps.id),
        (second, "diagnosis_confirmed", {"disease_id": "OMIM:601859"}, "alice", alps.id),
    ]
    assert all(isinstance(d, DecisionRecord) and d.created.tzinfo is UTC for d in found)
    assert found[0].created <= found[1].created
    with pytest.raises(dataclasses.FrozenInstanceError):
        found[0].kind = "x"  # type: ignore[misc]
    assert _audit(store)[start:] == [
        ("alice", "read", "decision", str(first)),
        ("alice", "read", "decision", str(second)),
    ]
    before = table_rows(store)
    for case_id, user, message in (
        ("nope", "alice", "no case 'nope'"),
        (alps.id, "carol", "in the store"),
        (alps.id, "mallory", "unknown user"),
    ):
        with pytest.raises(InputError, match=message):
            store.decisions(case_id, user=user)
    assert table_rows(store) == before


def test_mme_sharing_and_shared_cases(store: Store, alps: Case, real_kb: KnowledgeBase) -> None:
    other = dataclasses.replace(alps, id="alps-2")
    store.add_case(other, centre="C1", user="alice", patient="P2")
    elsewhere = dataclasses.replace(alps, id="alps-c2")
    store.add_case(elsewhere, centre="C2", user="carol", patient="P3")
    assert store.shared_cases(user="alice") == ()
    assert all(not c.mme_shared for c in store.cases_with_latest_analysis(user="alice"))

    start = len(_audit(store))
    store.set_mme_sharing("alps-2", True, user="alice")
    assert _audit(store)[start:] == [("alice", "write", "case", "alps-2")]
    store.set_mme_sharing("alps-c2", True, user="carol")
    analysis = store.record_analysis(
        "alps-2",
        dataclasses.replace(diagnose(alps, kb=real_kb, lenient=True), case_id=None),
        user="bob",
    )
    decision = store.record_decision(
        "alps-2", "diagnosis_confirmed", {"disease_id": "OMIM:601859"}, user="bob"
    )

    start = len(_audit(store))
    [shared] = store.shared_cases(user="alice")
    assert isinstance(shared, StoredCase)
    assert (shared.id, shared.centre, shared.patient, shared.status, shared.mme_shared) == (
        "alps-2",
        "C1",
        "P2",
        "solved",
        True,
    )
    assert shared.latest is not None and shared.latest.id == analysis
    assert [(d.id, d.kind, d.user) for d in shared.decisions] == [
        (decision, "diagnosis_confirmed", "bob")
    ]
    assert shared.case == other
    assert _audit(store)[start:] == [
        ("alice", "read", "case", "alps-2"),
        ("alice", "read", "analysis", str(analysis)),
        ("alice", "read", "decision", str(decision)),
    ]
    assert [c.id for c in store.shared_cases(user="carol")] == ["alps-c2"]
    listed = {c.id: c for c in store.cases_with_latest_analysis(user="bob")}
    assert listed["alps-2"].mme_shared and not listed[alps.id].mme_shared
    assert listed["alps-2"].decisions == shared.decisions and listed[alps.id].decisions == ()

    store.set_mme_sharing("alps-2", False, user="bob")
    assert store.shared_cases(user="alice") == ()
    before = table_rows(store)
    for args, user, message in (
        (("alps-c2", True), "alice", "in the store"),
        (("nope", True), "alice", "no case 'nope'"),
        ((alps.id, "yes"), "alice", "true or false"),
        ((alps.id, True), "mallory", "unknown user"),
    ):
        with pytest.raises(InputError, match=message):
            store.set_mme_sharing(*args, user=user)
    with pytest.raises(InputError, match="unknown user"):
        store.shared_cases(user="mallory")
    assert table_rows(store) == before


# -- migration 0002 on a store written by revision 0001 ----------------------------------------


def test_upgrade_from_0001_keeps_every_row(store_url: str, make_store: Any) -> None:
    engine = make_engine(store_url)
    try:
        migrate(engine, "0001")
        assert current_revision(engine) == "0001"
        packet: dict[str, Any] = {"id": "old-1", "subject": {"id": "P1", "sex": "MALE"}}
        packet["phenotypicFeatures"] = [{"type": {"id": SEIZURE, "label": "Seizure"}}]
        now = datetime(2026, 1, 2, 3, 4, 5)
        with engine.begin() as conn:
            meta = MetaData()
            meta.reflect(conn)
            t = meta.tables
            conn.execute(insert(t["centres"]), [{"id": 1, "code": "C1", "name": "c"}])
            conn.execute(
                insert(t["users"]), [{"id": 1, "centre_id": 1, "name": "alice", "role": "admin"}]
            )
            conn.execute(insert(t["patients"]), [{"id": 1, "centre_id": 1, "pseudonym": "P1"}])
            conn.execute(
                insert(t["cases"]),
                [
                    {
                        "id": "old-1",
                        "patient_id": 1,
                        "status": "unsolved",
                        "phenopacket": packet,
                        "created_at": now,
                        "updated_at": now,
                    }
                ],
            )
            conn.execute(
                insert(t["phenotype_observations"]),
                [
                    {
                        "case_id": "old-1",
                        "term_id": SEIZURE,
                        "excluded": False,
                        "provenance": "phenopacket",
                        "review_status": "accepted",
                        "evidence": "Seizure",
                    }
                ],
            )
            conn.execute(
                insert(t["vcf_references"]),
                [{"case_id": "old-1", "path": "x.vcf", "sha256": None, "evidence": None}],
            )
            conn.execute(
                insert(t["decisions"]),
                [
                    {
                        "case_id": "old-1",
                        "kind": "variant_classified",
                        "value": {"gene": "FAS"},
                        "user_id": 1,
                        "created_at": now,
                    }
                ],
            )
    finally:
        engine.dispose()
    store: Store = make_store()  # opening migrates to head
    assert current_revision(store.engine) == head_revision() == "0004"
    [obs] = store.observations("old-1", user="alice")
    assert (obs.term_id, obs.label, obs.evidence, obs.review_status, obs.reviewed_by) == (
        SEIZURE,
        "Seizure",
        None,
        "accepted",
        None,
    )
    [stored] = store.cases_with_latest_analysis(user="alice")
    assert not stored.mme_shared and stored.case.observed_terms == (SEIZURE,)
    assert [c.new_results for c in store.list_cases("C1", user="alice")] == [False]
    assert [d.value for d in store.decisions("old-1", user="alice")] == [{"gene": "FAS"}]
    [vcf] = store.vcfs("old-1", user="alice")
    assert (vcf.path, vcf.size, vcf.evidence_inputs, vcf.attached) == ("x.vcf", None, None, False)
    store.set_mme_sharing("old-1", True, user="alice")
    assert [c.id for c in store.shared_cases(user="alice")] == ["old-1"]


def test_case_summary_and_the_new_results_mark(store: Store) -> None:
    case = read_phenopacket(EXAMPLE)
    store.add_case(case, centre="C1", user="alice")
    summary = store.case_summary(case.id, user="alice")
    assert (summary.id, summary.centre, summary.status, summary.new_results) == (
        case.id,
        "C1",
        "unsolved",
        False,
    )
    store.set_new_results(case.id, True, user="bob")
    assert store.case_summary(case.id, user="alice").new_results
    [stored] = store.cases_with_latest_analysis(user="alice")
    assert stored.new_results
    store.set_new_results(case.id, False, user="alice")
    assert not store.list_cases("C1", user="alice")[0].new_results
    store.add_centre("C3", "Third")
    store.add_user("zed", role="clinician", centre="C3")
    for call in (
        lambda: store.case_summary(case.id, user="zed"),
        lambda: store.set_new_results(case.id, True, user="zed"),
    ):
        with pytest.raises(InputError, match=f"no case '{case.id}' in the store"):
            call()
    assert not store.case_summary(case.id, user="alice").new_results
