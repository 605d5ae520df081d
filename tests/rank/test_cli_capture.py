"""`raredx diagnose --note`: findings read from a clinical note feed the ranking directly."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from raredx.cli.app import app
from raredx.kb import KnowledgeBase

runner = CliRunner()

NOTE_FR = (
    "Garçon de 6 ans adressé pour splénomégalie et adénopathies chroniques depuis l'âge de 2 ans.\n"
    "Thrombopénie et anémie hémolytique auto-immune. Pas d'hépatomégalie. Absence de fièvre.\n"
    "Sa mère a une thrombopénie.\n"
)


def test_note_terms_feed_the_diagnosis(real_kb: KnowledgeBase, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text(NOTE_FR, encoding="utf-8")
    result = runner.invoke(app, ["diagnose", "--note", str(note), "--age", "6y", "-f", "json"])
    assert result.exit_code == 0, result.output
    payload = orjson.loads(result.stdout)
    observed = {t["id"] for t in payload["observed"]}
    excluded = {t["id"] for t in payload["excluded"]}
    assert {"HP:0001744", "HP:0002716", "HP:0001873", "HP:0001890"} <= observed
    assert {"HP:0002240", "HP:0001945"} <= excluded  # "pas d'hépatomégalie", "absence de fièvre"
    review = " ".join(result.stderr.split())
    assert "review" in review and "Hepatomegaly" in review and "excluded" in review
    # the mother's finding is hers: thrombocytopenia counts because the patient has it too
    assert payload["diseases"][0]["posterior"] > 0


def test_note_from_stdin_with_typed_terms(real_kb: KnowledgeBase) -> None:
    args = ["diagnose", "--note", "-", "--hpo", "HP:0002240", "-f", "json"]
    result = runner.invoke(app, args, input="Splenomegaly. No hepatomegaly.")
    assert result.exit_code == 0, result.output
    payload = orjson.loads(result.stdout)
    # typed hepatomegaly wins over the note's negation of it
    assert "HP:0002240" in {t["id"] for t in payload["observed"]}
    assert "HP:0002240" not in {t["id"] for t in payload["excluded"]}
    assert "HP:0001744" in {t["id"] for t in payload["observed"]}


def test_note_without_findings_is_a_clear_error(real_kb: KnowledgeBase, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("Vu en consultation. Parents présents.", encoding="utf-8")
    result = runner.invoke(app, ["diagnose", "--note", str(empty)])
    assert result.exit_code == 2 and "no present finding" in " ".join(result.stderr.split())
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    result = runner.invoke(app, ["diagnose", "--note", str(binary)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    result = runner.invoke(app, ["diagnose", "--note", str(tmp_path / "missing.txt")])
    assert result.exit_code == 2
    both = runner.invoke(app, ["diagnose", str(empty), "--note", str(empty)])
    assert both.exit_code == 2 and "not both" in both.stderr


LABS = Path(__file__).resolve().parents[1] / "labs" / "data"


def test_labs_and_note_feed_the_diagnosis(real_kb: KnowledgeBase, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("Pallor and jaundice since last week. No splenomegaly.", encoding="utf-8")
    args = ["diagnose", "--note", str(note), "--labs", str(LABS / "aiha-3y.csv")]
    result = runner.invoke(app, [*args, "--age", "3y", "--sex", "F", "-f", "json"])
    assert result.exit_code == 0, result.output
    payload = orjson.loads(result.stdout)
    observed = {t["id"] for t in payload["observed"]}
    # from the labs: decreased hemoglobin, reticulocytosis, positive direct antiglobulin test
    assert "HP:0001923" in observed  # Reticulocytosis
    assert "HP:0001744" in {t["id"] for t in payload["excluded"]}  # no splenomegaly (note)
    review = " ".join(result.stderr.split())
    assert "lab results" in review
    assert "Hemoglobin" in review
    hemolytic = [d for d in payload["diseases"][:20] if "hemoly" in d["name"].lower()]
    assert hemolytic, [d["name"] for d in payload["diseases"][:20]]


def test_bad_lab_file_is_a_clear_error(real_kb: KnowledgeBase, tmp_path: Path) -> None:
    bad = tmp_path / "labs.csv"
    bad.write_text("test,value,unit\nHemoglobin,68,g/dL\n", encoding="utf-8")
    result = runner.invoke(app, ["diagnose", "--labs", str(bad), "--age", "3y"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "680 g/L" in " ".join(result.stderr.split())
