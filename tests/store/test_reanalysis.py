"""Reanalysis re-runs due unsolved cases with the current KB and reports material changes."""

from __future__ import annotations

import dataclasses
import json

import pytest
import typer
from typer.testing import CliRunner

from raredx.case import Case, read_cases
from raredx.cli import store as cli
from raredx.diagnosis import diagnose
from raredx.errors import InputError
from raredx.kb import KnowledgeBase
from raredx.rank.parameters import RankParameters
from raredx.rank.result import Diagnosis
from raredx.store import Store
from raredx.store.reanalysis import (
    CaseChange,
    changed_only,
    compare_results,
    kb_version_key,
    reanalyze,
)
from tests.store.conftest import EXAMPLE, row_counts


@pytest.fixture(scope="module")
def alps() -> Case:
    [result] = list(read_cases([EXAMPLE]))
    assert result.case is not None
    return result.case


@pytest.fixture(scope="module")
def alps_real(alps: Case, real_kb: KnowledgeBase) -> Diagnosis:
    return diagnose(alps, kb=real_kb, lenient=True)


def _copy(case: Case, case_id: str) -> Case:
    return dataclasses.replace(case, id=case_id)


def _kinds(change: CaseChange) -> set[tuple[str, str | None]]:
    return {(c.kind, c.disease_id) for c in change.changes}


def _older(diagnosis: Diagnosis, version: str) -> Diagnosis:
    """`diagnosis` as an older KB would have made it: OMIM:601859 (ALPS type Ia) without its
    FAS link and its treatments, ORPHA:3261 (ALPS) below the 0.1 threshold."""
    diseases = []
    for d in diagnosis.diseases:
        if d.disease_id == "OMIM:601859":
            d = dataclasses.replace(d, genes=tuple(g for g in d.genes if g != "FAS"), treatments=())
        elif d.disease_id == "ORPHA:3261":
            d = dataclasses.replace(d, posterior=0.05)
        diseases.append(d)
    return dataclasses.replace(diagnosis, kb_version=version, diseases=tuple(diseases))


def test_toy_kb_analysis_reanalysed_with_the_real_kb(
    store: Store, alps: Case, toy_kb: KnowledgeBase, real_kb: KnowledgeBase
) -> None:
    store.add_case(alps, centre="C1", user="alice")
    first = store.record_analysis(alps.id, diagnose(alps, kb=toy_kb, lenient=True), user="alice")

    [found] = reanalyze(store, real_kb, user="alice")

    assert (found.case_id, found.previous_kb, found.current_kb) == (
        alps.id,
        toy_kb.version,
        real_kb.version,
    )
    kinds = _kinds(found)
    # the real KB links FAS to ALPS type Ia: a gene-disease link the toy run did not have
    assert ("new_gene_link", "OMIM:601859") in kinds
    assert any(
        c.kind == "new_gene_link" and c.detail.startswith("FAS now linked to OMIM:601859")
        for c in found.changes
    )
    # ALPS candidates rise above 0.1, the toy diseases drop out
    for disease in ("OMIM:603909", "ORPHA:3261", "OMIM:601859"):
        assert ("posterior_up", disease) in kinds
        assert ("newly_treatable", disease) in kinds
    assert ("posterior_down", "OMIM:100001") in kinds
    assert ("posterior_down", "OMIM:100002") in kinds
    assert not any(k == "posterior_up" and d and d.startswith("OMIM:1000") for k, d in kinds)

    analyses = store.analyses(alps.id, user="alice")
    assert [a.id for a in analyses] == [first, found.analysis_id]
    assert analyses[-1].kb_version == real_kb.version
    assert analyses[-1].results["diseases"][0]["disease_id"] == "OMIM:603909"
    # now up to date: nothing is due
    assert reanalyze(store, real_kb, user="alice") == ()


def test_exact_changes_against_a_slightly_older_analysis(
    store: Store, alps: Case, alps_real: Diagnosis, real_kb: KnowledgeBase
) -> None:
    store.add_case(alps, centre="C1", user="alice")
    store.record_analysis(alps.id, _older(alps_real, "hpo-2024-08-13"), user="alice")

    [found] = reanalyze(store, real_kb, user="bob")

    assert found.previous_kb == "hpo-2024-08-13"
    assert [(c.kind, c.disease_id) for c in found.changes] == [
        ("posterior_up", "ORPHA:3261"),
        ("new_gene_link", "OMIM:601859"),
        ("newly_treatable", "OMIM:601859"),
    ]
    link = found.changes[1].detail
    assert link.startswith("FAS now linked to OMIM:601859")
    assert "0.050 -> 0.27" in found.changes[0].detail
    assert "prospective_study" in found.changes[2].detail
    assert changed_only([found, dataclasses.replace(found, changes=())]) == (found,)


def test_which_cases_are_due(
    store: Store,
    alps: Case,
    alps_real: Diagnosis,
    toy_kb: KnowledgeBase,
    real_kb: KnowledgeBase,
) -> None:
    cases = {name: _copy(alps, name) for name in ("toy", "older", "current", "solved", "never")}
    for case in cases.values():
        store.add_case(case, centre="C1", user="alice")
    other_centre = _copy(alps, "other-centre")
    store.add_user("zoe", role="clinician", centre="C2")
    store.add_case(other_centre, centre="C2", user="zoe", patient="P-C2")

    def record(case_id: str, diagnosis: Diagnosis) -> None:
        user = "zoe" if case_id == "other-centre" else "bob"
        store.record_analysis(case_id, dataclasses.replace(diagnosis, case_id=case_id), user=user)

    record("toy", diagnose(alps, kb=toy_kb, lenient=True))
    record("older", _older(alps_real, "hpo-2024-08-13"))
    record("current", alps_real)
    record("solved", _older(alps_real, "hpo-2024-08-13"))
    record("other-centre", _older(alps_real, "hpo-2024-08-13"))
    store.record_decision(
        "solved", "diagnosis_confirmed", {"disease_id": "OMIM:601859"}, user="bob"
    )

    # --since-kb: only analyses made with a KB older than it (hpo-2020-02-02 < hpo-2023-01-01)
    assert [
        c.case_id for c in reanalyze(store, real_kb, user="bob", since_kb="hpo-2023-01-01")
    ] == ["toy"]
    # default: every KB but the current one; solved, never analysed and other centres skipped
    assert [c.case_id for c in reanalyze(store, real_kb, user="bob")] == ["older"]
    assert reanalyze(store, real_kb, user="bob") == ()

    # the same KB with other parameters is due too (without --since-kb)
    changed = RankParameters(noise=0.5)
    assert changed.to_dict() != alps_real.parameters.to_dict()
    redone = reanalyze(store, real_kb, user="bob", parameters=changed)
    assert [c.case_id for c in redone] == ["toy", "older", "current"]
    assert store.analyses("current", user="bob")[-1].parameters["noise"] == 0.5
    assert reanalyze(store, real_kb, user="bob", parameters=changed, since_kb="hpo-2030") == ()


def test_bad_input_writes_nothing(store: Store, alps: Case, toy_kb: KnowledgeBase) -> None:
    store.add_case(alps, centre="C1", user="alice")
    store.record_analysis(alps.id, diagnose(alps, kb=toy_kb, lenient=True), user="alice")
    before = row_counts(store)
    with pytest.raises(InputError, match="unknown user 'mallory'"):
        reanalyze(store, toy_kb, user="mallory")
    for kwargs in ({"threshold": 0.0}, {"threshold": 1.5}, {"top": 0}, {"since_kb": " "}):
        with pytest.raises(InputError, match="cannot reanalyse"):
            reanalyze(store, toy_kb, user="alice", **kwargs)  # type: ignore[arg-type]
    assert row_counts(store) == before


def test_a_case_the_kb_cannot_rank_is_reported_not_recorded(
    store: Store, alps: Case, alps_real: Diagnosis, toy_kb: KnowledgeBase
) -> None:
    # only a term the toy KB lacks (HP:0002240 Hepatomegaly): nothing to rank with it
    lonely = dataclasses.replace(
        alps, features=tuple(f for f in alps.features if f.term_id == "HP:0002240")
    )
    assert len(lonely.features) == 1
    store.add_case(lonely, centre="C1", user="alice")
    store.record_analysis(alps.id, alps_real, user="alice")
    [found] = reanalyze(store, toy_kb, user="alice")
    assert [c.kind for c in found.changes] == ["error"]
    assert "empty phenotype" in found.changes[0].detail
    assert found.analysis_id is None
    assert len(store.analyses(alps.id, user="alice")) == 1


def test_compare_results_matches_diseases_by_any_id(alps_real: Diagnosis) -> None:
    before = alps_real.to_dict()
    after = alps_real.to_dict()
    # the primary id changed between releases: still the same disease, no change
    after["diseases"][0]["disease_id"] = "MONDO:0011383"
    assert compare_results(before, after) == ()
    assert compare_results(before, before, threshold=0.3) == ()
    # a higher threshold: ORPHA:3261 (0.275) crossing 0.3 is not reported, a drop is
    after["diseases"][0]["posterior"] = 0.2
    assert [(c.kind, c.disease_id) for c in compare_results(before, after, threshold=0.3)] == [
        ("posterior_down", "MONDO:0011383")
    ]


def test_kb_version_order() -> None:
    versions = ["hpo-2025-01-16", "hpo-2024-04-26", "hpo-2024-4-3", "hpo-2023-10-09", "a"]
    assert sorted(versions, key=kb_version_key) == [
        "a",
        "hpo-2023-10-09",
        "hpo-2024-4-3",
        "hpo-2024-04-26",
        "hpo-2025-01-16",
    ]
    assert kb_version_key("hpo-2024-10-01") > kb_version_key("hpo-2024-9-30")


def test_cli_reanalyze_and_match(
    store: Store,
    store_url: str,
    alps: Case,
    toy_kb: KnowledgeBase,
    real_kb: KnowledgeBase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = typer.Typer()
    app.command("reanalyze")(cli.reanalyze)
    app.command("match")(cli.match)
    store.add_case(alps, centre="C1", user="alice")
    store.add_case(_copy(alps, "sibling"), centre="C1", user="alice", patient="P2")
    store.record_analysis(alps.id, diagnose(alps, kb=toy_kb, lenient=True), user="alice")
    monkeypatch.setenv("RAREDX_DATABASE_URL", store_url)
    monkeypatch.setenv("RAREDX_USER", "bob")
    runner = CliRunner()

    result = runner.invoke(app, ["reanalyze", "--format", "tsv", "--since-kb", "hpo-2021"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split("\t") == list(cli.CHANGE_COLUMNS)
    assert any(
        line.startswith(f"{alps.id}\t{toy_kb.version}\t{real_kb.version}\tnew_gene_link\t")
        for line in lines
    )
    assert "1 case(s) due for reanalysis" in result.stderr

    result = runner.invoke(app, ["reanalyze", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["changed"] == []

    result = runner.invoke(app, ["match", alps.id, "--format", "json", "--limit", "3"])
    assert result.exit_code == 0, result.output
    [best] = json.loads(result.stdout)["matches"]
    assert best["case_id"] == "sibling"

    result = runner.invoke(app, ["match", "nope", "--user", "alice"])
    assert result.exit_code == 2
    assert "no case 'nope' in the store" in result.stderr
    result = runner.invoke(app, ["reanalyze", "--threshold", "2"])
    assert result.exit_code == 2
    assert "threshold" in result.stderr
