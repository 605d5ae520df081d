"""`raredx phenotype labs` (mounted here on a local Typer app) and `derive_lab_terms`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from raredx.cli.labs import derive_lab_terms, labs, short_source
from raredx.errors import InputError
from raredx.kb import KnowledgeBase

pytestmark = pytest.mark.slow

app = typer.Typer()
app.command()(labs)
runner = CliRunner()


def test_table_output(real_kb: KnowledgeBase, lab_data: Path) -> None:
    result = runner.invoke(app, [str(lab_data / "aiha-3y.csv"), "--age", "3y", "--sex", "F"])
    assert result.exit_code == 0, result.output
    assert "HPO terms from lab results" in result.stdout


def test_json_output_lists_terms_with_their_evidence(
    real_kb: KnowledgeBase, lab_data: Path
) -> None:
    result = runner.invoke(
        app, [str(lab_data / "aiha-3y.csv"), "--age", "36m", "--sex", "F", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    hb = next(t for t in payload["terms"] if t["loinc"] == "718-7")
    assert (hb["value"], hb["unit"], hb["interval"], hb["outcome"]) == (
        "68",
        "g/L",
        "99-134 g/L; WHO 2011 anaemia cut-off: L if <110 g/L",
        "L",
    )
    assert hb["interval_from"] == "shipped" and "World Health Organization" in hb["source"]
    assert hb["source"].startswith("Tahmasebi H") and "WHO 2011 anaemia" in hb["note"]
    assert "HP:0020062" in payload["observed"]
    assert payload["set_aside"] == []


def test_tsv_output(real_kb: KnowledgeBase, lab_data: Path) -> None:
    result = runner.invoke(
        app, [str(lab_data / "alps-8y.tsv"), "--age", "8", "--sex", "M", "-f", "tsv"]
    )
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header.split("\t")[:3] == ["where", "test", "loinc"]
    assert len(rows) >= 5
    # platelets 62 G/L at 8 years: below CALIPER 212-480 and the HLH-2004 criterion, both cited
    columns = header.split("\t")
    plt = dict(zip(columns, next(r for r in rows if "\t777-3\t" in r).split("\t"), strict=True))
    assert plt["interval"] == "212-480 10^9/L; HLH-2004 criterion: L if <100 10^9/L"
    assert plt["source"].startswith("Tahmasebi H") and "| Henter JI" in plt["source"]
    assert plt["note"] == "meets the HLH-2004 criterion (L if <100 10^9/L)"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["missing.csv"], "no such file"),
        (["{data}/aiha-3y.csv", "--age", "abc"], "invalid age"),
        (["{data}/aiha-3y.csv", "--age", "3y", "--sex", "Q"], "invalid sex"),
        (["{data}/aiha-3y.csv"], "--age"),
    ],
)
def test_bad_input_exits_2_without_traceback(
    real_kb: KnowledgeBase, lab_data: Path, tmp_path: Path, args: list[str], fragment: str
) -> None:
    args = [a.replace("{data}", str(lab_data)) for a in args]
    if args[0] == "missing.csv":
        args[0] = str(tmp_path / "missing.csv")
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert fragment in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_derive_lab_terms_for_diagnose(real_kb: KnowledgeBase, lab_data: Path) -> None:
    observed, excluded, rows = derive_lab_terms(
        lab_data / "scid-infant.fhir.json", real_kb, "10w", "M"
    )
    assert "HP:0001888" in observed and excluded == ()
    assert {r["loinc"] for r in rows} >= {"731-0", "8122-4", "24467-3", "2465-3"}
    with pytest.raises(InputError):
        derive_lab_terms(lab_data / "aiha-3y.csv", real_kb, None, None)


def test_short_source() -> None:
    assert short_source("Henter JI, Horne A. HLH-2004: x. Pediatr Blood Cancer. 2007;48:124") == (
        "Henter JI et al. 2007"
    )
    assert short_source("range given in the file") == "range given in the file"
