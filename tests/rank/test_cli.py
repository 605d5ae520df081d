"""`raredx diagnose` through a tiny Typer app that registers the command (as the real CLI does)."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path
from typing import Any

import orjson
import pytest
import typer
from typer.testing import CliRunner

from raredx.cli.diagnose import diagnose
from raredx.kb import build_kb

from .conftest import write_release

runner = CliRunner()
app = typer.Typer()
app.command()(diagnose)


@app.callback()
def _root() -> None:
    """Test app."""


ALPS = "HP:0001744; HP:0002716; HP:0001973; HP:0001890"


@pytest.fixture(scope="session")
def toy_version(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The toy ranking KB installed (not activated) in the session's RAREDX_HOME."""
    files = write_release(tmp_path_factory.mktemp("rank-toy-cli"))
    return build_kb(files, version="rank-toy", activate=False)


def _packet(
    case_id: str, observed: list[str], excluded: tuple[str, ...] | list[str] = (), sex: str = "MALE"
) -> dict[str, Any]:
    features = [{"type": {"id": t}} for t in observed]
    features += [{"type": {"id": t}, "excluded": True} for t in excluded]
    return {
        "id": case_id,
        "subject": {
            "id": case_id,
            "sex": sex,
            "timeAtLastEncounter": {"age": {"iso8601duration": "P4Y"}},
        },
        "phenotypicFeatures": features,
    }


def _read_tsv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")), delimiter="\t"))


def _run(*args: str) -> Any:
    return runner.invoke(app, ["diagnose", *args])


def test_table_shows_notice_version_and_candidates(toy_version: str) -> None:
    result = _run("--hpo", ALPS, "--age", "4y", "--sex", "M", "--kb", toy_version)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "never replaces" in out
    assert "rank-toy" in out and "HPO release 2024-01-01" in out
    assert "OMIM:100001" in out and "GENEA" in out
    assert "What to check next" in out


def test_json_and_tsv(toy_version: str) -> None:
    result = _run("--hpo", ALPS, "--not-hpo", "HP:0001250", "-f", "json", "--kb", toy_version)
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.stdout)
    assert data["diseases"][0]["disease_id"] == "OMIM:100001"
    assert data["excluded"] == [{"id": "HP:0001250", "label": "Seizure"}]
    assert data["diseases"][0]["evidence"]
    result = _run("--hpo", ALPS, "-f", "tsv", "--top", "3", "--kb", toy_version)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout), delimiter="\t"))
    assert [r["rank"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["disease_id"] == "OMIM:100001"
    assert "ORPHA:9001" in rows[0]["equivalent_ids"]


def test_pheval_files_for_a_batch(toy_version: str, tmp_path: Path) -> None:
    one = tmp_path / "case-one.json"
    one.write_bytes(orjson.dumps(_packet("p1", ["HP:0001744", "HP:0002716"])))
    lines = tmp_path / "more.jsonl.gz"
    with gzip.open(lines, "wb") as fh:
        fh.write(orjson.dumps(_packet("p2", ["HP:0000518"], ["HP:0001250"])) + b"\n")
        fh.write(orjson.dumps(_packet("p3", ["HP:0001250", "HP:0001249"], sex="FEMALE")) + b"\n")
    out = tmp_path / "out"
    result = _run(str(one), str(lines), "--out", str(out), "-f", "tsv", "--kb", toy_version)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        f"{stem}-pheval_{kind}_result.tsv"
        for stem in ("case-one", "p2", "p3")
        for kind in ("disease", "gene")
    )
    disease = _read_tsv(out / "case-one-pheval_disease_result.tsv")
    assert list(disease[0]) == ["rank", "score", "disease_name", "disease_identifier"]
    assert disease[0]["disease_identifier"] == "OMIM:100001"
    scores = [float(r["score"]) for r in disease]
    assert scores == sorted(scores, reverse=True)
    gene = _read_tsv(out / "p3-pheval_gene_result.tsv")
    assert list(gene[0]) == ["rank", "score", "gene_symbol", "gene_identifier"]
    assert gene[0]["gene_identifier"].startswith("HGNC:")
    summary = list(csv.DictReader(io.StringIO(result.stdout), delimiter="\t"))
    assert [r["case"] for r in summary] == ["p1", "p2", "p3"]
    assert not list(out.glob(".*"))  # no temporary files left behind


def test_a_bad_case_is_reported_and_the_others_still_run(toy_version: str, tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_bytes(orjson.dumps(_packet("good", ["HP:0000518"])))
    unknown = tmp_path / "unknown.json"
    unknown.write_bytes(orjson.dumps(_packet("unknown", ["HP:0099999"])))
    empty = tmp_path / "empty.json"
    empty.write_bytes(orjson.dumps(_packet("empty", [], ["HP:0000518"])))
    contradictory = tmp_path / "contra.json"
    contradictory.write_bytes(orjson.dumps(_packet("contra", ["HP:0000518"], ["HP:0000478"])))
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": "x", "subject": ')
    paths = [str(p) for p in (good, unknown, empty, contradictory, broken)]
    result = _run(*paths, "-f", "json", "--kb", toy_version)
    assert result.exit_code == 2
    data = orjson.loads(result.stdout)
    assert data["case_id"] == "good"
    err = result.stderr
    assert "HP:0099999" in err and "empty phenotype" in err and "contradictory" in err
    assert "broken.json" in err
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "nothing to diagnose"),
        (["--hpo", "HP:0099999"], "unknown"),
        (["--hpo", "HP:0000518", "--not-hpo", "HP:0000518"], "contradictory"),
        (["--hpo", "HP:0000518", "--age", "ten"], "invalid age"),
        (["--hpo", "HP:0000518", "--sex", "Q"], "invalid sex"),
        (["--hpo", "HP:0003577"], "empty phenotype"),
        (["--hpo", "HP:0000518", "--kb", "no-such-kb"], "no-such-kb"),
    ],
)
def test_bad_input_gives_a_message_and_exit_code_2(
    toy_version: str, args: list[str], message: str
) -> None:
    if "--kb" not in args:
        args = [*args, "--kb", toy_version]
    result = _run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_hpo_and_files_are_exclusive(toy_version: str, tmp_path: Path) -> None:
    case = tmp_path / "c.json"
    case.write_bytes(orjson.dumps(_packet("c", ["HP:0000518"])))
    result = _run(str(case), "--hpo", "HP:0000518", "--kb", toy_version)
    assert result.exit_code == 2
    assert "not both" in result.stderr
