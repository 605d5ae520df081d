"""`raredx case show` through the real command line."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
from typer.testing import CliRunner

from raredx.case import read_phenopacket
from raredx.cli.app import app

runner = CliRunner()


def test_show_table(example_path: Path) -> None:
    result = runner.invoke(app, ["case", "show", str(example_path)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "raredx-demo-alps-fas-001" in out
    assert "MALE" in out and "4 y" in out
    assert "HP:0001744 Splenomegaly" in out and "HP:0002718 Recurrent bacterial" in out
    assert "OMIM:601859" in out and "chr10:89010895 A>G" in out
    assert result.stderr == ""


def test_show_tsv_counts(example_path: Path) -> None:
    result = runner.invoke(app, ["case", "show", "--format", "tsv", str(example_path)])
    assert result.exit_code == 0, result.output
    (row,) = list(csv.DictReader(io.StringIO(result.stdout), delimiter="\t"))
    assert (row["observed"], row["excluded"]) == ("7", "3")
    assert row["sex"] == "MALE" and row["age"] == "4 y"
    assert row["variants"].startswith("FAS chr10:89010895 A>G (GRCh38) heterozygous")


def test_show_json_is_the_normalised_phenopacket(example_path: Path) -> None:
    result = runner.invoke(app, ["case", "show", "-f", "json", str(example_path)])
    assert result.exit_code == 0, result.output
    packet = orjson.loads(result.stdout)
    assert read_phenopacket(packet) == read_phenopacket(example_path)
    two = runner.invoke(app, ["case", "show", "-f", "json", str(example_path), str(example_path)])
    assert len(orjson.loads(two.stdout)) == 2


def test_bad_file_in_a_batch(example_path: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "x", "subject": {"id": "s", "sex": "ALIEN"}}')
    result = runner.invoke(app, ["case", "show", "-f", "tsv", str(bad), str(example_path)])
    assert result.exit_code == 2
    assert "raredx-demo-alps-fas-001" in result.stdout
    assert "bad.json" in result.stderr and "subject.sex" in result.stderr
    assert "ALIEN" in result.stderr
    assert "Traceback" not in result.output


def test_binary_and_missing_files(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\x00\xff\xfe[/bold]" * 10)
    result = runner.invoke(app, ["case", "show", str(garbage), str(tmp_path / "none.json")])
    assert result.exit_code == 2
    assert "garbage.json" in result.stderr and "binary" in result.stderr
    assert "none.json: no such file" in result.stderr
    assert result.stdout == "" and "Traceback" not in result.output


def test_folder_and_jsonl(example_path: Path, tmp_path: Path) -> None:
    line = orjson.dumps(orjson.loads(example_path.read_bytes()))
    (tmp_path / "cases.jsonl").write_bytes(line + b"\n" + b"[1]\n")
    result = runner.invoke(app, ["case", "show", "-f", "tsv", str(tmp_path)])
    assert result.exit_code == 2
    assert len(result.stdout.strip().splitlines()) == 2  # header and one case
    assert "cases.jsonl:2" in result.stderr and "got an array" in result.stderr


def test_help_lists_show() -> None:
    result = runner.invoke(app, ["case", "--help"])
    assert result.exit_code == 0 and "show" in result.stdout
