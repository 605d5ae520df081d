"""`raredx genome …` through the command line (the group, as cli/app.py will register it)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from raredx.cli.genome import app
from tests.genome.conftest import Genes, VcfFactory, call, record

runner = CliRunner()


def _flat(text: str) -> str:
    """Messages as one line (the terminal console wraps them)."""
    return " ".join(text.split())


TRIO_PED = "643594 ADM1059A2 ADM1059A1 ADM1059A3 1 2\n643594 ADM1059A1 0 0 1 1\n"
TRIO_PED += "643594 ADM1059A3 0 0 2 1\n"  # as Clinical-Genomics/scout scout/demo/643594.ped


@pytest.fixture
def trio(shared_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    vcf = shared_dir / "bench" / "vcf" / "scout-trio-643594.vep.b37.vcf.gz"
    if not vcf.is_file():
        pytest.skip(f"{vcf} is not present")
    ped = tmp_path / "trio.ped"
    ped.write_text(TRIO_PED)
    return vcf, ped


def test_inspect(trio: tuple[Path, Path]) -> None:
    vcf, ped = trio
    result = runner.invoke(app, ["inspect", str(vcf), "--ped", str(ped), "-f", "json"])
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.stdout)
    assert data["assembly"] == "GRCh37" and data["assembly_source"] == "contig lengths"
    assert {"sample": "ADM1059A2", "role": "proband, male, affected"} in data["samples"]
    assert data["counts"]["records"] == 680
    assert "consequence (VEP)" in data["annotations"]
    table = runner.invoke(app, ["inspect", str(vcf), "--no-count"])
    assert table.exit_code == 0 and "GRCh37" in table.stdout and "records" not in table.stdout


def test_genes_table_tsv_json(trio: tuple[Path, Path]) -> None:
    vcf, ped = trio
    result = runner.invoke(app, ["genes", str(vcf), "--ped", str(ped), "-f", "tsv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout), delimiter="\t"))
    recql5 = next(r for r in rows if r["gene"] == "RECQL5")
    assert recql5["fits"] == "AR: homozygous"
    every = runner.invoke(app, ["genes", str(vcf), "--ped", str(ped), "-f", "tsv", "--all"])
    assert len(every.stdout.splitlines()) > len(result.stdout.splitlines())
    js = runner.invoke(app, ["genes", str(vcf), "--ped", str(ped), "-f", "json"])
    payload = orjson.loads(js.stdout)
    assert payload["summary"]["records"] == 680
    assert {g["gene"] for g in payload["genes"]} >= {"RECQL5"}


def test_gene_detail(trio: tuple[Path, Path]) -> None:
    vcf, ped = trio
    result = runner.invoke(
        app, ["genes", str(vcf), "--ped", str(ped), "--gene", "POLE", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    (pole,) = orjson.loads(result.stdout)
    assert pole["gene"] == "POLE" and pole["variants"]
    statuses = [v["set_aside"] for v in pole["variants"]]
    assert any(s and s[0]["reason"] == "frequency" for s in statuses)
    table = runner.invoke(app, ["genes", str(vcf), "--ped", str(ped), "-g", "FANCM"])
    assert table.exit_code == 0 and "FANCM (HGNC:23168)" in table.stdout


def test_single_sample_with_sex(vcfs: VcfFactory, genes: Genes) -> None:
    path = vcfs.write([record("X", genes.dmd, "A", "G", call("1/1"))])
    result = runner.invoke(app, ["genes", str(path), "--sex", "male", "-f", "tsv"])
    assert result.exit_code == 0, result.output
    assert "XLR: hemizygous" in result.stdout
    bad = runner.invoke(app, ["genes", str(path), "--sex", "robot"])
    assert bad.exit_code == 2 and "--sex must be male or female" in _flat(bad.stderr)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "empty file"),
        (b"1\t100\t.\tA\tG\t50\tPASS\t.\n", "not a VCF"),
        (b"\x1f\x8b\x08\x00garbage", "corrupt"),
    ],
)
def test_bad_input_exits_2_with_a_message(tmp_path: Path, content: bytes, needle: str) -> None:
    path = tmp_path / "bad.vcf"
    path.write_bytes(content)
    for command in (["inspect", str(path)], ["genes", str(path)]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, result.output
        assert needle in _flat(result.stderr) and result.stdout == ""
        assert "Traceback" not in result.output


def test_samples_absent_from_ped(trio: tuple[Path, Path], tmp_path: Path) -> None:
    vcf, _ = trio
    ped = tmp_path / "duo.ped"
    ped.write_text("643594 ADM1059A1 ADM1059A2 0 1 2\n643594 ADM1059A2 0 0 1 1\n")
    result = runner.invoke(app, ["genes", str(vcf), "--ped", str(ped)])
    assert result.exit_code == 2
    assert "samples absent from the pedigree: ADM1059A3" in _flat(result.stderr)
    assert result.stdout == ""


def test_compile_commands(shared_dir: Path, tmp_path: Path) -> None:
    clinvar = shared_dir / "data" / "clinvar" / "clinvar-test-slice.b37.vcf.gz"
    out = tmp_path / "cv"
    result = runner.invoke(app, ["compile-clinvar", str(clinvar), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1,999 ClinVar alleles (GRCh37)" in _flat(result.stderr)
    assert (out / "manifest.json").is_file()
    tsv = tmp_path / "f.tsv"
    tsv.write_text("chrom\tpos\tref\talt\taf\n1\t10\tA\tG\t0.5\n")
    freq = runner.invoke(
        app, ["compile-frequency", str(tsv), "--out", str(tmp_path / "f"), "--assembly", "hg19"]
    )
    assert freq.exit_code == 0 and "1 alleles (GRCh37)" in _flat(freq.stderr)
    missing = runner.invoke(app, ["compile-frequency", str(tsv), "--out", str(tmp_path / "g")])
    assert missing.exit_code == 2 and "genome build" in _flat(missing.stderr)
