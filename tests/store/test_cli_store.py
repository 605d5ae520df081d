"""`raredx store ...`, `raredx reanalyze` and `raredx match` through the real CLI on SQLite."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from raredx.case import read_phenopacket
from raredx.cli.app import app
from raredx.kb import KnowledgeBase
from raredx.store import Store
from tests.store.conftest import table_rows

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE = EXAMPLES / "alps-fas.phenopacket.json"
DATA = Path(__file__).resolve().parent / "data"


def _tsv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter="\t"))


def test_store_commands_end_to_end(
    real_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAREDX_DATABASE_URL", f"sqlite:///{tmp_path / 'store.sqlite3'}")
    monkeypatch.setenv("RAREDX_USER", "alice")
    init = ["store", "init", "--centre", "RDB", "--name", "Robert-Debré", "--user", "alice"]
    assert runner.invoke(app, [*init, "--role", "geneticist"]).exit_code == 0
    second = tmp_path / "second.json"
    text = EXAMPLE.read_text().replace("raredx-demo-alps-fas-001", "alps-2")
    second.write_text(text.replace("DEMO-ALPS-001", "DEMO-ALPS-002"))  # another patient
    imported = runner.invoke(app, ["store", "import", str(EXAMPLE), str(second), "--centre", "RDB"])
    assert imported.exit_code == 0, imported.output
    assert "2 cases imported" in imported.stderr
    again = runner.invoke(app, ["store", "import", str(EXAMPLE), "--centre", "RDB"])
    assert again.exit_code == 2 and "already in the store" in " ".join(again.stderr.split())
    listed = _tsv(runner.invoke(app, ["store", "list", "--centre", "RDB", "-f", "tsv"]).stdout)
    assert {r["case_id"] for r in listed} == {"raredx-demo-alps-fas-001", "alps-2"}
    analysed = runner.invoke(app, ["store", "analyze", "--centre", "RDB"])
    assert analysed.exit_code == 0 and "2 cases analysed" in analysed.stderr
    nothing = runner.invoke(app, ["reanalyze", "-f", "tsv"])
    assert nothing.exit_code == 0 and _tsv(nothing.stdout) == []
    assert "0 case(s) due" in nothing.stderr
    matched = _tsv(runner.invoke(app, ["match", "alps-2", "-f", "tsv"]).stdout)
    assert matched[0]["case_id"] == "raredx-demo-alps-fas-001"
    assert float(matched[0]["phenotype_similarity"]) == pytest.approx(1.0)
    out = tmp_path / "export"
    exported = runner.invoke(app, ["store", "export", str(out)])
    assert exported.exit_code == 0 and len(list(out.glob("*.json"))) == 2
    stranger = runner.invoke(app, ["store", "list", "--centre", "RDB", "--user", "mallory"])
    assert stranger.exit_code == 2 and "Traceback" not in stranger.output


def test_store_review_vcf_decisions_and_sharing_commands(
    store: Store, store_url: str, real_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAREDX_DATABASE_URL", store_url)
    monkeypatch.setenv("RAREDX_USER", "alice")
    case = read_phenopacket(EXAMPLE)
    store.add_case(case, centre="C1", user="alice")

    def run(*args: str) -> Result:
        return runner.invoke(app, ["store", *args])

    # a French note: its findings are proposed, with the words that name them
    added = run("add-terms", case.id, "--note", str(EXAMPLES / "aiha-3y.note-fr.txt"), "-f", "json")
    assert added.exit_code == 0, added.output
    proposed = json.loads(added.stdout)["observations"]
    by_term = {o["term_id"]: o for o in proposed}
    pallor, fever = by_term["HP:0000980"], by_term["HP:0001945"]
    assert (pallor["evidence"], pallor["provenance"], pallor["review_status"]) == (
        "pâleur",
        "note",
        "proposed",
    )
    assert fever["excluded"] is True and fever["evidence"] == "fièvre"  # "absence de fièvre"
    assert "waiting for review" in added.stderr
    assert store.get_case(case.id, user="alice").features == case.features
    # splenomegaly is accepted already (from the phenopacket): merged, not proposed again
    assert by_term["HP:0001744"]["provenance"] == "typed"
    assert by_term["HP:0001744"]["review_status"] == "accepted"
    # "pas d'hépatomégalie" contradicts the accepted hepatomegaly: proposed for review
    hepatomegaly = by_term["HP:0002240"]
    assert (hepatomegaly["excluded"], hepatomegaly["review_status"]) == (True, "proposed")
    conflict = run("review", case.id, str(hepatomegaly["id"]), "--accept")
    assert conflict.exit_code == 2 and "reject that one first" in conflict.stderr
    accepted = run("review", case.id, str(pallor["id"]), "--accept", "-f", "tsv")
    assert accepted.exit_code == 0, accepted.output
    [row] = _tsv(accepted.stdout)
    assert (row["review_status"], row["reviewed_by"]) == ("accepted", "alice")
    rejected = run("review", case.id, str(fever["id"]), "--reject", "--user", "bob")
    assert rejected.exit_code == 0, rejected.output
    listed = {r["id"]: r for r in _tsv(run("observations", case.id, "-f", "tsv").stdout)}
    assert listed[str(fever["id"])]["review_status"] == "rejected"
    assert listed[str(fever["id"])]["reviewed_by"] == "bob"
    now = store.get_case(case.id, user="alice")
    assert pallor["term_id"] in now.observed_terms and "HP:0001945" not in now.excluded_terms

    labs = run(
        "add-terms", case.id, "--labs", str(EXAMPLES / "aiha-3y.labs.csv"), "--age", "3y",
        "--sex", "F", "-f", "json",
    )  # fmt: skip
    assert labs.exit_code == 0, labs.output
    lab_terms = json.loads(labs.stdout)["observations"]
    assert lab_terms and all(o["evidence"] for o in lab_terms)
    assert any(o["provenance"] == "labs" and o["review_status"] == "proposed" for o in lab_terms)
    typed = run("add-terms", case.id, "--hpo", "HP:0001250", "--hpo", "Jaundice", "-f", "json")
    assert typed.exit_code == 0, typed.output
    typed_terms = {o["term_id"]: o for o in json.loads(typed.stdout)["observations"]}
    assert {o["review_status"] for o in typed_terms.values()} == {"accepted"}
    # typing the jaundice the note proposed accepts that proposal (its evidence stays)
    assert typed_terms["HP:0000952"]["id"] == by_term["HP:0000952"]["id"]
    assert typed_terms["HP:0000952"]["evidence"] == "ictère"
    assert {"HP:0001250", "HP:0000952"} <= set(store.get_case(case.id, user="alice").observed_terms)

    vcf = run("attach-vcf", case.id, str(DATA / "alps-fas.vcf"), "-f", "json")
    assert vcf.exit_code == 0, vcf.output
    attached = json.loads(vcf.stdout)
    assert (attached["assembly"], attached["sample"], len(attached["sha256"])) == (
        "GRCh37",
        "S1",
        64,
    )
    analysed = run("analyze", "--centre", "C1")
    assert analysed.exit_code == 0, analysed.output
    latest = store.analyses(case.id, user="alice")[-1]
    assert latest.results["genome"]["sample"] == "S1"
    assert latest.results["genes"][0]["symbol"] == "FAS"

    shared = run("share", case.id)
    assert shared.exit_code == 0 and "shared through Matchmaker Exchange" in shared.stderr
    assert [c.id for c in store.shared_cases(user="bob")] == [case.id]
    assert run("share", case.id, "--off").exit_code == 0
    assert store.shared_cases(user="bob") == ()

    store.record_decision(case.id, "diagnosis_confirmed", {"disease_id": "OMIM:601859"}, user="bob")
    decided = run("decisions", case.id, "-f", "json")
    assert decided.exit_code == 0, decided.output
    [decision] = json.loads(decided.stdout)["decisions"]
    assert (decision["kind"], decision["user"], decision["value"]) == (
        "diagnosis_confirmed",
        "bob",
        {"disease_id": "OMIM:601859"},
    )
    table = _tsv(run("decisions", case.id, "-f", "tsv").stdout)
    assert table[0]["value"] == "disease_id=OMIM:601859"

    before = table_rows(store)
    for args, message in (
        (("review", case.id, str(fever["id"]), "--accept", "--reject"), "one of --accept"),
        (("review", case.id, "999999", "--accept"), "no observation 999999"),
        (("review", "other-case", str(fever["id"]), "--accept"), "not an observation of"),
        (("add-terms", case.id), "give one of"),
        (("add-terms", case.id, "--hpo", "HP:0001250", "--note", "x.txt"), "give one of"),
        (("add-terms", case.id, "--hpo", "HP:0001250", "--age", "3y"), "go with --labs"),
        (("add-terms", case.id, "--hpo", "no such finding at all"), "unknown"),
        (("add-terms", "nope", "--hpo", "HP:0001250"), "no case 'nope'"),
        (("attach-vcf", case.id, str(DATA / "missing.vcf")), "no such file"),
        (("attach-vcf", case.id, str(EXAMPLE)), "not a VCF"),
        (("decisions", "nope"), "no case 'nope'"),
        (("share", "nope"), "no case 'nope'"),
        (("observations", case.id, "--user", "mallory"), "unknown user"),
    ):
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert message in " ".join(result.stderr.split()), (args, result.stderr)
        assert "Traceback" not in result.output
    assert table_rows(store) == before
