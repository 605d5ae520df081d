"""`raredx treatments` (mounted here on a local Typer app): formats and errors."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from raredx.cli.treat import treatments
from raredx.kb import KnowledgeBase

pytestmark = pytest.mark.slow

app = typer.Typer()
app.command()(treatments)
runner = CliRunner()


def test_json_shape(real_kb: KnowledgeBase) -> None:
    result = runner.invoke(app, ["PIK3CD", "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["kb_version"] == real_kb.version
    assert "decision support" in payload["notice"].lower()
    first = payload["treatments"][0]
    for key in ("therapy", "evidence_level", "citations", "disease_ids", "genes", "cautions"):
        assert key in first
    assert first["therapy"] == "leniolisib"
    assert first["evidence_level"] == "approved"
    assert first["citations"][0].startswith("FDA 2023 approval: Joenja")
    assert "OMIM:615513" in first["disease_ids"] and "PIK3CD" in first["genes"]


def test_table_shows_notice_and_sources(real_kb: KnowledgeBase) -> None:
    result = runner.invoke(app, ["WHIM syndrome"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert "Decision support for specialists" in result.stdout
    assert "Xolremdi" in result.stdout


def test_tsv(real_kb: KnowledgeBase) -> None:
    result = runner.invoke(app, ["OMIM:249100", "--format", "tsv"])
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0]
    assert header.split("\t")[:2] == ["evidence_level", "therapy"]
    assert "colchicine" in result.stdout


@pytest.mark.parametrize("query", ["", "OMIM:999999", "qwertyuiopasdf", "a\x07b"])
def test_bad_query_exits_2(real_kb: KnowledgeBase, query: str) -> None:
    result = runner.invoke(app, [query])
    assert result.exit_code == 2
    assert "error:" in result.output
