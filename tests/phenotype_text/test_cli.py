"""`raredx phenotype extract` through Typer's CliRunner on the real bundled KB."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from raredx.cli.phenotype import app
from raredx.kb import KnowledgeBase

runner = CliRunner()


def test_no_arguments_prints_help() -> None:
    result = runner.invoke(app, [])
    assert "extract" in result.output


def test_json_from_a_file(real_kb: KnowledgeBase, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("Splénomégalie, pas d'adénopathie. Sa mère a un PTI.", encoding="utf-8")
    result = runner.invoke(app, ["extract", str(note), "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["language"] == "fr"
    terms = {t["id"]: t for t in payload["terms"]}
    assert set(terms["HP:0001744"]) == {"id", "label", "excluded", "status", "spans"}
    assert terms["HP:0001744"]["status"] == "present"
    assert terms["HP:0002716"]["excluded"] is True
    assert terms["HP:0001973"]["status"] == "family"
    text = note.read_text(encoding="utf-8")
    for m in payload["mentions"]:
        assert text[m["start"] : m["end"]] == m["text"]


def test_stdin_and_table(real_kb: KnowledgeBase) -> None:
    result = runner.invoke(app, ["extract", "-", "--lang", "en"], input="No fever. Splenomegaly.")
    assert result.exit_code == 0, result.output
    assert "HP:0001744" in result.stdout and "excluded" in result.stdout


def test_tsv(real_kb: KnowledgeBase) -> None:
    result = runner.invoke(app, ["extract", "-", "-f", "tsv"], input="Thrombocytopenia.")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split("\t")[:3] == ["id", "label", "status"]


def test_nothing_found(real_kb: KnowledgeBase) -> None:
    result = runner.invoke(app, ["extract", "-"], input="The weather is fine.")
    assert result.exit_code == 0
    assert "no HPO term found" in " ".join(result.stderr.split())


def test_bad_inputs_exit_2_without_traceback(real_kb: KnowledgeBase, tmp_path: Path) -> None:
    binary = tmp_path / "scan.pdf"
    binary.write_bytes(b"%PDF-1.4\x00\x01\x02")
    latin1 = tmp_path / "note.txt"
    latin1.write_bytes("anémie".encode("latin-1"))
    cases = [
        (["extract", str(binary)], None, "not text"),
        (["extract", str(latin1)], None, "not UTF-8"),
        (["extract", str(tmp_path / "missing.txt")], None, "no such file"),
        (["extract", "-"], "   \n", "empty"),
        (["extract", str(tmp_path)], None, "directory"),
    ]
    for args, stdin, message in cases:
        result = runner.invoke(app, args, input=stdin)
        assert result.exit_code == 2, (args, result.output)
        assert message in " ".join(result.stderr.split())  # the console may wrap lines
        assert "Traceback" not in result.output
