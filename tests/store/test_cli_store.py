"""`raredx store ...`, `raredx reanalyze` and `raredx match` through the real CLI on SQLite."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from raredx.cli.app import app
from raredx.kb import KnowledgeBase

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "alps-fas.phenopacket.json"


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
