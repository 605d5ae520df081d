"""Phenopacket import/export and the full-store archive: all or nothing, lossless round trips."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from raredx.case import Case, Subject, case_to_phenopacket, read_cases, read_phenopacket
from raredx.case.phenopacket import MAX_INPUT_BYTES
from raredx.errors import InputError
from raredx.store import Store, create_job, fail_job, finish_job
from tests.store.conftest import EXAMPLE, row_counts, table_rows


def _packets(folder: Path, n: int, prefix: str = "imp") -> list[Case]:
    """`n` valid phenopacket files derived from the example, each its own case and patient."""
    folder.mkdir(parents=True, exist_ok=True)
    base = read_phenopacket(EXAMPLE)
    cases = []
    for i in range(n):
        case = Case(
            id=f"{prefix}-{i:03d}",
            subject=Subject(id=f"PSEUDO-{prefix}-{i:03d}", sex=base.subject.sex),
            features=base.features[: 1 + i % len(base.features)],
            meta=base.meta,
        )
        (folder / f"{case.id}.json").write_text(json.dumps(case_to_phenopacket(case)))
        cases.append(case)
    return cases


def test_import_a_folder_and_export_it_back(store: Store, tmp_path: Path) -> None:
    cases = _packets(tmp_path / "in", 5)
    seen: list[tuple[int, int]] = []
    ids = store.import_phenopackets(
        [tmp_path / "in"], centre="C1", user="alice", progress=lambda d, t: seen.append((d, t))
    )
    assert ids == tuple(c.id for c in cases)
    assert seen == [(5, 5)]
    assert [store.get_case(i, user="alice") for i in ids] == cases
    written = store.export_phenopackets(tmp_path / "out", user="bob", centre="C1")
    assert [p.name for p in written] == [f"{c.id}.json" for c in cases]
    back = [r.case for r in read_cases([tmp_path / "out"])]
    assert back == cases
    with pytest.raises(InputError, match="may not see the cases of centre 'C2'"):
        store.export_phenopackets(tmp_path / "none", user="bob", centre="C2")
    _packets(tmp_path / "more", 2, prefix="more")
    before = row_counts(store)
    with pytest.raises(InputError, match="may not add cases of centre 'C2'"):
        store.import_phenopackets([tmp_path / "more"], centre="C2", user="alice")
    assert row_counts(store) == before  # nothing written


def test_export_makes_safe_unique_file_names(store: Store, tmp_path: Path) -> None:
    for case_id in ("a/b", "a:b", "../x"):
        store.add_case(Case(id=case_id, subject=Subject(id=case_id)), centre="C1", user="alice")
    out = tmp_path / "out"
    names = sorted(p.name for p in store.export_phenopackets(out, user="alice"))
    assert names == ["a_b-2.json", "a_b.json", "x.json"]
    assert sorted(p.name for p in out.iterdir()) == names


def test_import_one_phenopacket_file(store: Store) -> None:
    assert store.import_phenopackets([EXAMPLE], centre="C2", user="dora") == (
        read_phenopacket(EXAMPLE).id,
    )


def test_malformed_input_rejects_the_whole_batch(store: Store, tmp_path: Path) -> None:
    _packets(tmp_path / "in", 3)
    (tmp_path / "in" / "broken.json").write_text('{"id": "b", "subject": ')
    (tmp_path / "in" / "schema.json").write_text(
        json.dumps({"id": "s", "subject": {"id": "p", "sex": "ROBOT"}})
    )
    before = table_rows(store)
    with pytest.raises(InputError) as err:
        store.import_phenopackets([tmp_path / "in"], centre="C1", user="alice")
    assert "nothing imported: 2 problem(s)" in str(err.value)
    assert len(err.value.problems) == 2
    assert any("broken.json" in p for p in err.value.problems)
    assert any("schema.json" in p and "sex" in p for p in err.value.problems)
    assert table_rows(store) == before


def test_duplicates_in_the_batch_and_in_the_store(store: Store, tmp_path: Path) -> None:
    cases = _packets(tmp_path / "a", 3)
    store.add_case(cases[1], centre="C1", user="alice")
    _packets(tmp_path / "b", 1)  # imp-000 again, in another folder
    before = table_rows(store)
    with pytest.raises(InputError) as err:
        store.import_phenopackets([tmp_path / "a", tmp_path / "b"], centre="C1", user="alice")
    problems = err.value.problems
    assert any("imp-000" in p and "repeats" in p for p in problems)
    assert any("imp-001" in p and "already in the store" in p for p in problems)
    assert len(problems) == 2
    assert table_rows(store) == before


def test_oversized_payloads_are_rejected(make_store: Any, tmp_path: Path) -> None:
    store: Store = make_store(max_case_bytes=1500)
    store.add_centre("C1", "c")
    store.add_user("alice", role="admin", centre="C1")
    _packets(tmp_path / "in", 4)  # the larger ones exceed 1500 bytes
    huge = tmp_path / "in" / "huge.json"
    with huge.open("wb") as fh:  # sparse: refused from its size, before reading
        fh.truncate(MAX_INPUT_BYTES + 1)
    with pytest.raises(InputError) as err:
        store.import_phenopackets([tmp_path / "in"], centre="C1", user="alice")
    problems = err.value.problems
    assert any("huge.json" in p and "larger than" in p for p in problems)
    assert any("at most 1500 bytes" in p for p in problems)
    assert all(
        row == 0 for name, row in row_counts(store).items() if name not in {"centres", "users"}
    )


def test_unknown_centre_or_user(store: Store, tmp_path: Path) -> None:
    _packets(tmp_path / "in", 1)
    with pytest.raises(InputError) as err:
        store.import_phenopackets([tmp_path / "in"], centre="C9", user="zed")
    assert err.value.problems == ("unknown centre 'C9'", "unknown user 'zed'")
    assert row_counts(store)["cases"] == 0


def _fill(store: Store, tmp_path: Path) -> None:
    from raredx.store.models import VcfReference

    store.import_phenopackets([EXAMPLE], centre="C1", user="alice")
    _packets(tmp_path / "in", 4)
    store.add_user("zoe", role="geneticist", centre="C2")
    store.import_phenopackets([tmp_path / "in"], centre="C2", user="zoe")
    store.record_decision(
        "imp-002", "diagnosis_confirmed", {"disease_id": "OMIM:601859"}, user="zoe"
    )
    store.get_case("imp-001", user="zoe")
    from sqlalchemy.orm import Session

    with Session(store.engine) as s, s.begin():  # a VCF with cached evidence (binary)
        s.add(VcfReference(case_id="imp-003", path="x.vcf.gz", sha256="0" * 64, evidence=b"\0\xff"))
    # background jobs: done (JSON result), failed (JSON list of problems), still queued
    done, _ = create_job(store, kind="analysis", centre="C2", user="zoe", case_id="imp-003")
    finish_job(store, done.id, {"analysis_id": 1, "genome": True})
    failed, _ = create_job(store, kind="reanalysis", centre="C1", user="alice")
    fail_job(store, failed.id, "bad input", ["one", "two"])
    create_job(store, kind="analysis", centre="C1", user="alice", case_id="imp-000")


def test_export_all_import_all_round_trips_every_table(
    store: Store, make_store: Any, tmp_path: Path
) -> None:
    _fill(store, tmp_path)
    archive = tmp_path / "store.jsonl"
    rows = store.export_all(archive, user="alice")
    source = table_rows(store)
    assert rows == sum(len(v) for v in source.values())
    assert source["audit_log"][-1]["entity"] == "store"  # the export itself is audited
    target_url = f"sqlite:///{tmp_path / 'copy.sqlite3'}"
    target: Store = make_store(target_url)
    assert target.import_all(archive, user="bob") == rows
    copied = table_rows(target)
    last = copied["audit_log"].pop()
    assert (last["action"], last["entity"], last["entity_id"]) == ("write", "store", "*")
    assert copied == source
    # new rows get fresh ids after an import (PostgreSQL sequences are moved past the rows)
    target.add_case(Case(id="after", subject=Subject(id="AFTER")), centre="C1", user="alice")
    assert target.get_case("after", user="alice").id == "after"


def test_import_all_from_sqlite_keeps_sequences(make_store: Any, tmp_path: Path) -> None:
    source: Store = make_store(f"sqlite:///{tmp_path / 'src.sqlite3'}")
    source.add_centre("C1", "c")
    source.add_user("alice", role="admin", centre="C1")
    _packets(tmp_path / "in", 3)
    source.import_phenopackets([tmp_path / "in"], centre="C1", user="alice")
    fail_job(source, create_job(source, kind="k", centre="C1", user="alice")[0].id, "x", ["p"])
    archive = tmp_path / "a.jsonl"
    source.export_all(archive, user="alice")
    target: Store = make_store()
    target.import_all(archive, user="alice")
    target.add_case(Case(id="new", subject=Subject(id="NEW")), centre="C1", user="alice")
    copied = table_rows(target)
    expected = table_rows(source)
    for name in expected:
        assert copied[name][: len(expected[name])] == expected[name]
    assert len({r["id"] for r in copied["audit_log"]}) == len(copied["audit_log"])


def test_import_all_refuses_a_non_empty_store_or_a_bad_archive(
    store: Store, make_store: Any, tmp_path: Path
) -> None:
    _fill(store, tmp_path)
    archive = tmp_path / "store.jsonl"
    store.export_all(archive, user="alice")
    before = table_rows(store)
    with pytest.raises(InputError, match="not empty"):
        store.import_all(archive, user="alice")
    assert table_rows(store) == before

    lines = archive.read_text().splitlines()
    header = json.loads(lines[0])
    bad_rows = [
        json.dumps({"table": "secrets", "row": {}}),
        json.dumps({"table": "centres", "row": {"id": 9, "code": "X"}}),
        json.dumps({"table": "centres", "row": {"id": "nine", "code": "X", "name": "n"}}),
        "{not json",
    ]
    old = dict(header, revision="0000")
    cases = [
        ([json.dumps(old), *lines[1:]], "schema revision '0000'"),
        ([json.dumps({"format": "zip"}), *lines[1:]], "not a raredx store archive"),
        ([lines[0], *lines[1:], *bad_rows], "unknown table 'secrets'"),
        ([lines[0], *lines[2:]], "row counts do not match"),
    ]
    empty: Store = make_store(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    empty_before = table_rows(empty)
    for i, (content, message) in enumerate(cases):
        path = tmp_path / f"bad{i}.jsonl"
        path.write_text("\n".join(content) + "\n")
        with pytest.raises(InputError, match=message) as err:
            empty.import_all(path, user="alice")
        assert table_rows(empty) == empty_before
    # the bad rows are all reported together
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join([lines[0], *lines[1:], *bad_rows]) + "\n")
    with pytest.raises(InputError) as err:
        empty.import_all(path, user="alice")
    text = "\n".join(err.value.problems)
    for expected in (
        "unknown table 'secrets'",
        "missing ['name']",
        "centres.id must be an integer",
        "not JSON",
    ):
        assert expected in text
    # a row the database refuses (a foreign key to nothing) rolls everything back
    orphan = json.dumps(
        {"table": "patients", "row": {"id": 99, "centre_id": 12345, "pseudonym": "ghost"}}
    )
    counts = dict(header["tables"], patients=header["tables"]["patients"] + 1)
    path.write_text("\n".join([json.dumps(dict(header, tables=counts)), *lines[1:], orphan]) + "\n")
    with pytest.raises(InputError, match="refused"):
        empty.import_all(path, user="alice")
    assert table_rows(empty) == empty_before
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(InputError, match="cannot read"):
        empty.import_all(missing, user="alice")
    assert not os.path.exists(missing)
