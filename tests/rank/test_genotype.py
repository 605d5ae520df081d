"""Genotype likelihood ratios on a real exome, and `raredx diagnose --vcf` / `raredx explain`."""

from __future__ import annotations

import csv
import gzip
import math
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from raredx import diagnose
from raredx.cli.app import app
from raredx.diagnosis import genotype_evidence
from raredx.genome import GenomeEvidence, InheritanceMode, collect_evidence
from raredx.kb import KnowledgeBase
from raredx.rank import phenotype_model
from raredx.rank.genotype import GenotypeParameters, VariantClass, variant_keys

runner = CliRunner()

# Pfeiffer syndrome findings: on the phenotype alone FGFR1 and FGFR2 both rank high; the
# Pfeiffer exome carries qualifying variants in FGFR2 but none in FGFR1.
CRANIOSYNOSTOSIS = "HP:0000244; HP:0001156; HP:0000486; HP:0004440"


def _packet(vcf_file: dict[str, object]) -> dict[str, object]:
    """A phenopacket of the Pfeiffer exome's proband with the craniosynostosis findings."""
    return {
        "id": "pfeiffer",
        "subject": {"id": "manuel", "sex": "MALE"},
        "phenotypicFeatures": [{"type": {"id": t.strip()}} for t in CRANIOSYNOSTOSIS.split(";")],
        "files": [vcf_file],
        "metaData": {"created": "2026-11-22T00:00:00Z", "phenopacketSchemaVersion": "2.0"},
    }


@pytest.fixture(scope="module")
def exome(shared_dir: Path) -> Path:
    path = shared_dir / "bench" / "vcf" / "pfeiffer-exome-background.b37.vcf.gz"
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return path


@pytest.fixture(scope="module")
def evidence(exome: Path, real_kb: KnowledgeBase) -> GenomeEvidence:
    return collect_evidence(exome, kb=real_kb)


def test_genotype_ratios_follow_the_vcf(evidence: GenomeEvidence, real_kb: KnowledgeBase) -> None:
    gl = genotype_evidence(evidence, real_kb)
    assert gl is genotype_evidence(evidence, real_kb)  # cached: re-ranking never re-reads
    params = GenotypeParameters()
    assert gl.no_fit_llr == pytest.approx(math.log(1 - params.sensitivity))
    fgfr1, fgfr2 = real_kb.resolve_gene("FGFR1"), real_kb.resolve_gene("FGFR2")
    assert fgfr1 not in gl.by_gene  # no qualifying variant
    assert gl.gene_llr(fgfr1, frozenset()) == gl.no_fit_llr
    modes = {e.mode: e for e in gl.by_gene[fgfr2]}
    ad = modes[InheritanceMode.AUTOSOMAL_DOMINANT]
    # an unannotated exome: only SNV/indel classes, backgrounds estimated from the exome itself
    assert ad.variant_class in (VariantClass.SNV, VariantClass.INDEL)
    assert 0 < ad.background < 1 and ad.llr > gl.no_fit_llr
    assert all(k.startswith("10-") for k in variant_keys(evidence, ad))
    every = [e for es in gl.by_gene.values() for e in es]
    assert {e.variant_class for e in every} <= {None, VariantClass.SNV, VariantClass.INDEL}
    # a rarer observation in the same exome earns a larger ratio
    fitted = [e for e in every if e.variant_class is not None]
    rare = min(fitted, key=lambda e: e.background)
    common = max(fitted, key=lambda e: e.background)
    assert rare.llr > common.llr
    assert len(gl.pair_llr) == len(phenotype_model(real_kb).gene_of_pair)


def test_vcf_moves_genes_without_a_fitting_genotype_down(
    evidence: GenomeEvidence, real_kb: KnowledgeBase
) -> None:
    plain = diagnose(CRANIOSYNOSTOSIS, kb=real_kb, top_genes=50)
    with_vcf = diagnose(CRANIOSYNOSTOSIS, kb=real_kb, top_genes=50, genome=evidence)
    rank = {g.symbol: g.rank for g in with_vcf.genes}
    plain_rank = {g.symbol: g.rank for g in plain.genes}
    assert plain_rank["FGFR1"] <= 3
    assert rank["FGFR2"] == 1
    assert rank.get("FGFR1", 99) > plain_rank["FGFR1"]
    top = with_vcf.genes[0].genotype
    assert top is not None and top.variants and top.log10_lr > 0
    assert with_vcf.genome is not None and with_vcf.genome.assembly == "GRCh37"
    assert with_vcf.diseases[0].genotype_log10_lr is not None
    assert plain.diseases[0].genotype_log10_lr is None and plain.genome is None
    assert sum(d.posterior for d in with_vcf.diseases) <= 1.0 + 1e-9
    # the phenotype half is untouched by the VCF
    by_id = {d.disease_id: d for d in plain.diseases}
    for d in with_vcf.diseases:
        if d.disease_id in by_id:
            assert d.log10_lr == by_id[d.disease_id].log10_lr


def test_evidence_from_another_kb_is_refused(
    evidence: GenomeEvidence, toy_kb: KnowledgeBase
) -> None:
    from raredx.errors import InputError

    with pytest.raises(InputError, match="another knowledge base"):
        diagnose("HP:0000002", kb=toy_kb, genome=evidence)


def test_cli_diagnose_with_vcf_writes_three_pheval_files(
    exome: Path, real_kb: KnowledgeBase, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "diagnose",
            "--hpo",
            CRANIOSYNOSTOSIS,
            "--vcf",
            str(exome),
            "--out",
            str(out),
            "-f",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.iterdir())
    assert files == [
        "query-pheval_disease_result.tsv",
        "query-pheval_gene_result.tsv",
        "query-pheval_variant_result.tsv",
    ]
    with (out / "query-pheval_variant_result.tsv").open() as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert list(rows[0]) == ["rank", "score", "chrom", "start", "end", "ref", "alt"]
    assert [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    records = set()
    with gzip.open(exome, "rt") as fh:
        for line in fh:
            if not line.startswith("#"):
                f = line.split("\t", 5)
                records.add((f[0], f[1], f[3], f[4]))
    for r in rows:
        assert (r["chrom"], r["start"], r["ref"], r["alt"]) in records
        assert int(r["end"]) == int(r["start"]) + len(r["ref"]) - 1
    payload = orjson.loads(result.stdout)
    assert payload["genome"]["vcf"] == str(exome)
    assert payload["genes"][0]["genotype"]["variants"]


def test_cli_phenopacket_naming_its_vcf(
    exome: Path, real_kb: KnowledgeBase, tmp_path: Path
) -> None:
    packet = _packet(
        {
            "uri": f"file://{exome}",
            "individualToFileIdentifiers": {"manuel": "manuel"},
            "fileAttributes": {"genomeAssembly": "GRCh37", "fileFormat": "VCF"},
        }
    )
    missing = dict(packet, id="missing-vcf")
    missing["files"] = [dict(packet["files"][0], uri="not-here.vcf.gz")]  # type: ignore[index]
    (tmp_path / "a.json").write_bytes(orjson.dumps(packet))
    (tmp_path / "b.json").write_bytes(orjson.dumps(missing))
    result = runner.invoke(app, ["diagnose", str(tmp_path), "-f", "json"])
    assert result.exit_code == 2  # the case with a missing VCF fails, the other still runs
    assert "not-here.vcf.gz" in " ".join(result.stderr.split())
    payload = orjson.loads(result.stdout)
    assert payload["case_id"] == "pfeiffer" and payload["genome"]["proband"] == "manuel"
    assert payload["genes"][0]["symbol"] == "FGFR2"
    plain = runner.invoke(app, ["diagnose", str(tmp_path / "a.json"), "--no-vcf", "-f", "json"])
    assert plain.exit_code == 0 and orjson.loads(plain.stdout)["genome"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hpo", "HP:0000244", "--ped", "x.ped"], "--ped goes with --vcf"),
        (["--hpo", "HP:0000244", "--vcf", "x.vcf", "--no-vcf"], "--no-vcf contradicts"),
        (["--hpo", "HP:0000244", "--vcf", "/nonexistent/x.vcf.gz"], "/nonexistent/x.vcf.gz"),
    ],
)
def test_cli_bad_genome_options(args: list[str], message: str, real_kb: KnowledgeBase) -> None:
    result = runner.invoke(app, ["diagnose", *args])
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


def test_cli_explain_gene(exome: Path, real_kb: KnowledgeBase) -> None:
    args = ["explain", "--gene", "FGFR1", "--hpo", CRANIOSYNOSTOSIS, "--vcf", str(exome)]
    result = runner.invoke(app, [*args, "-f", "json"])
    assert result.exit_code == 0, result.output
    payload = orjson.loads(result.stdout)
    assert payload["gene"] == "FGFR1" and payload["phenotype_rank"] <= 3
    assert payload["rank"] > payload["phenotype_rank"]
    assert payload["genotype"][0]["genotype class"] == "no qualifying variant in the gene"
    assert payload["diseases"] and any(d["log10 LR genotype"] < 0 for d in payload["diseases"])
    table = runner.invoke(
        app, ["explain", "--gene", "FGFR2", "--hpo", CRANIOSYNOSTOSIS, "--vcf", str(exome)]
    )
    assert table.exit_code == 0
    flat = " ".join(table.stdout.split())
    assert "genotype evidence per mode" in flat and "variants the proband carries" in flat
    bad = runner.invoke(app, ["explain", "--gene", "NOTAGENE1", "--hpo", CRANIOSYNOSTOSIS])
    assert bad.exit_code == 2 and "NOTAGENE1" in bad.stderr


def test_cli_explain_gene_from_a_phenopacket_naming_its_vcf(
    exome: Path, real_kb: KnowledgeBase, tmp_path: Path
) -> None:
    packet = _packet({"uri": str(exome), "fileAttributes": {"genomeAssembly": "GRCh37"}})
    case = tmp_path / "case.json"
    case.write_bytes(orjson.dumps(packet))
    result = runner.invoke(app, ["explain", "--gene", "FGFR2", str(case), "-f", "json"])
    assert result.exit_code == 0, result.output
    payload = orjson.loads(result.stdout)
    assert payload["rank"] == 1 and payload["vcf"]["fits"]
    assert {m["mode"] for m in payload["genotype"]} >= {"AD", "AR"}
    both = runner.invoke(app, ["explain", "--gene", "FGFR2", str(case), "--hpo", "HP:0000244"])
    assert both.exit_code == 2 and "one phenopacket or --hpo" in both.stderr
