"""`raredx kb` through the real CLI application."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from raredx.cli.kb import app
from tests.conftest import TOY

runner = CliRunner()


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAREDX_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture()
def toy_release(tmp_path: Path) -> Path:
    d = tmp_path / "toy-release"
    d.mkdir()
    for name in ("hp.obo", "phenotype.hpoa", "genes_to_phenotype.txt"):
        shutil.copy(TOY / name, d / name)
    return d


def test_build_list_use_info(home: Path, toy_release: Path) -> None:
    result = runner.invoke(app, ["build", "--hpo", str(toy_release), "--name", "toy-a"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("toy-a")
    result = runner.invoke(
        app, ["build", "--hpo", str(toy_release), "--name", "toy-b", "--no-activate"]
    )
    assert result.exit_code == 0, result.output
    listing = runner.invoke(app, ["list", "--format", "json"])
    rows = json.loads(listing.stdout)
    assert [(r["version"], r["active"]) for r in rows] == [("toy-a", "*"), ("toy-b", "")]
    info = runner.invoke(app, ["info", "--format", "json"])
    assert json.loads(info.stdout)["version"] == "toy-a"
    assert runner.invoke(app, ["use", "toy-b"]).exit_code == 0
    info = runner.invoke(app, ["info", "--format", "json"])
    manifest = json.loads(info.stdout)
    assert manifest["version"] == "toy-b"
    assert manifest["counts"]["diseases_by_source"] == {"OMIM": 2, "ORPHA": 2}
    # --kb selects an earlier build without changing the active one.
    info = runner.invoke(app, ["info", "--kb", "toy-a", "--format", "json"])
    assert json.loads(info.stdout)["version"] == "toy-a"
    table = runner.invoke(app, ["info"])
    assert "toy-b" in table.stdout and "HPO ontology" in table.stdout


def test_bad_inputs_exit_2_without_traceback(home: Path, tmp_path: Path) -> None:
    for args in (
        ["build", "--hpo", str(tmp_path / "missing")],
        ["use", "no-such-version"],
        ["info", "--kb", "no-such-version"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "error:" in result.stderr
        assert "Traceback" not in result.output


def test_help_everywhere() -> None:
    for args in ([], ["info"], ["list"], ["build"], ["use"]):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0
        assert "Usage" in result.stdout
