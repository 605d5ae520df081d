"""In-house allele frequencies: genotypes of a cohort's VCFs, families counted once, by centre
and overall (Parquet + DuckDB), used as frequency evidence with the case's family left out."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from typer.testing import CliRunner

from raredx.batch import Cluster, collect_inhouse, plan_items
from raredx.case import Case, read_phenopacket
from raredx.errors import InputError
from raredx.genome import (
    Assembly,
    FrequencyStore,
    GeneLocator,
    Reason,
    collect_evidence,
    evidence_from_case,
)
from raredx.genome.frequency import minimal_allele
from raredx.genome.inhouse import (
    CombinedFrequency,
    InhouseStore,
    collect_member,
    family_key,
    filtering_af,
)
from raredx.kb import KnowledgeBase
from tests.batch.conftest import cli_app, phenopacket
from tests.genome.conftest import VcfFactory, call, record

META = {
    "created": "2024-01-01T00:00:00Z",
    "createdBy": "tests",
    "phenopacketSchemaVersion": "2.0",
}


@pytest.fixture(scope="module")
def fbn1(real_kb: KnowledgeBase) -> int:
    loc = GeneLocator.bundled(Assembly.GRCH37, real_kb)
    (span,) = loc.spans_of(real_kb.resolve_gene("FBN1"))
    return span.start + 1000


def _single(case_id: str, vcf: Path, sample: str) -> Case:
    packet = phenopacket(case_id, ["HP:0001166"])
    packet["files"] = [
        {
            "uri": vcf.name,
            "individualToFileIdentifiers": {packet["subject"]["id"]: sample},
            "fileAttributes": {"fileFormat": "VCF", "genomeAssembly": "GRCh37"},
        }
    ]
    return read_phenopacket(packet)


def _trio(vcf: Path) -> Case:
    proband = phenopacket("B", ["HP:0001166"])
    proband["subject"] = {"id": "b", "sex": "MALE"}
    family = {
        "id": "FAM-B",
        "proband": proband,
        "pedigree": {
            "persons": [
                {
                    "familyId": "FAM-B",
                    "individualId": "b",
                    "paternalId": "bd",
                    "maternalId": "bm",
                    "sex": "MALE",
                    "affectedStatus": "AFFECTED",
                },
                {
                    "familyId": "FAM-B",
                    "individualId": "bd",
                    "sex": "MALE",
                    "affectedStatus": "UNAFFECTED",
                },
                {
                    "familyId": "FAM-B",
                    "individualId": "bm",
                    "sex": "FEMALE",
                    "affectedStatus": "UNAFFECTED",
                },
            ]
        },
        "files": [{"uri": vcf.name, "fileAttributes": {"fileFormat": "VCF"}}],
        "metaData": META,
    }
    return read_phenopacket(family)


def _sibling(vcf: Path) -> Case:
    """A second affected child of FAM-B, sequenced on its own: the same family."""
    proband = phenopacket("B2", ["HP:0001166"])
    proband["subject"] = {"id": "b2", "sex": "FEMALE"}
    family = {
        "id": "FAM-B",
        "proband": proband,
        "files": [
            {
                "uri": vcf.name,
                "individualToFileIdentifiers": {"b2": "s"},
                "fileAttributes": {"fileFormat": "VCF"},
            }
        ],
        "metaData": META,
    }
    return read_phenopacket(family)


@pytest.fixture
def cohort(tmp_path: Path, fbn1: int) -> dict[str, Any]:
    """Six cases in two centres, four families (see the assertions)."""
    vcfs = VcfFactory(tmp_path)
    p, q = fbn1, fbn1 + 500
    a = vcfs.write(
        [record("7", 92132000, "G", "A", call("1/1")), record("15", p, "G", "A", call("0/1"))],
        ["a"],
        name="a.vcf",
    )
    b = vcfs.write(
        [
            record("7", 92132000, "G", "A", call("0/0"), call("0/1"), call("0/0")),
            record("15", p, "G", "A", call("0/1"), call("0/1"), call("0/0")),
        ],
        ["b", "bd", "bm"],
        name="b.vcf",
    )
    b2 = vcfs.write([record("15", p, "G", "A", call("1/1"))], ["s"], name="b2.vcf")
    c = vcfs.write([record("15", q, "GTT", "GT,G", call("1/2"))], ["c"], name="c.vcf")
    d = vcfs.write([record("15", q, "GT", "G", call("0/1"))], ["d"], name="d.vcf")
    cases = {
        "A": (_single("A", a, "a"), "C1"),
        "A2": (_single("A2", a, "a"), "C1"),  # the same exome filed twice
        "B": (_trio(b), "C1"),
        "B2": (_sibling(b2), "C1"),
        "C": (_single("C", c, "c"), "C2"),
        "D": (_single("D", d, "d"), "C2"),
    }
    return {"cases": cases, "folder": tmp_path, "p": p, "q": q}


def _build(cohort: dict[str, Any], root: Path) -> InhouseStore:
    store = InhouseStore.create(root)
    members = [
        collect_member(case, root, centre=centre, source=name, base=cohort["folder"])
        for name, (case, centre) in cohort["cases"].items()
    ]
    store.register(members)
    store.build()
    return store


def _row(table: Any, **where: Any) -> dict[str, Any]:
    rows = [r for r in table.to_pylist() if all(r[k] == v for k, v in where.items())]
    assert len(rows) == 1, (where, rows)
    return dict(rows[0])


def test_families_count_once_overall_and_by_centre(cohort: dict[str, Any], tmp_path: Path) -> None:
    root = tmp_path / "inhouse"
    store = _build(cohort, root)
    p, q = cohort["p"], cohort["q"]
    summary = store.summary
    assert summary["families"] == 4  # A (+A2: same sample), FAM-B (trio + sibling), C, D
    assert summary["families_by_centre"] == {"C1": 2, "C2": 2}
    assert summary["an"] == 8
    assert store.families()["C1/A2"] == "C1/A"
    assert family_key(cohort["cases"]["B2"][0], "C1") == "C1/FAM-B"

    overall = pq.read_table(root / "frequencies" / "overall.parquet")
    shared = _row(overall, chrom="15", pos=p, ref="G", alt="A")
    # A carries one copy, FAM-B two (the sibling is homozygous): one dose per family
    assert (shared["ac"], shared["an"], shared["families"], shared["hom"]) == (3, 8, 2, 1)
    assert shared["af"] == pytest.approx(3 / 8)
    assert shared["faf95"] == pytest.approx(filtering_af(3, 8))
    pex1 = _row(overall, chrom="7", pos=92132000)
    assert (pex1["ac"], pex1["hom"], pex1["families"]) == (3, 1, 2)  # A hom, B's father het
    # the multi-allelic GTT>GT (C) and the biallelic GT>G (D) are one allele
    assert _row(overall, chrom="15", pos=q, ref="GT", alt="G")["ac"] == 2
    assert _row(overall, chrom="15", pos=q, ref="GTT", alt="G")["ac"] == 1

    by_centre = pq.read_table(root / "frequencies" / "by_centre.parquet")
    c1 = _row(by_centre, centre="C1", chrom="15", pos=p, ref="G", alt="A")
    assert (c1["ac"], c1["an"]) == (3, 4)
    assert _row(by_centre, centre="C2", chrom="15", pos=q, ref="GT", alt="G")["an"] == 4

    # DuckDB over the partitioned genotypes, the tables, and the frequency store interface
    [(n,)] = store.query("SELECT count(DISTINCT centre) FROM genotypes")
    assert n == 2
    [(ac,)] = store.query("SELECT ac FROM overall WHERE pos = ? AND alt = 'A'", [p])
    assert ac == 3
    plain = FrequencyStore.open(root)
    assert plain.lookup("15", p, "G", "A") == pytest.approx(filtering_af(3, 8), rel=1e-6)
    assert plain.lookup("15", q, "GTT", "GT") == pytest.approx(filtering_af(2, 8), rel=1e-6)
    assert plain.lookup("15", p, "G", "C") is None


def test_leave_one_out(cohort: dict[str, Any], tmp_path: Path) -> None:
    store = _build(cohort, tmp_path / "inhouse")
    p, q = cohort["p"], cohort["q"]
    d_case = cohort["cases"]["D"][0]
    view = store.for_case(d_case, centre="C2")
    assert view.counts("15", q, "GT", "G") == (1, 6)  # D's own copy and alleles left out
    assert view.lookup("15", q, "GT", "G") == pytest.approx(filtering_af(1, 6))
    assert view.lookup("15", p, "G", "A") == pytest.approx(filtering_af(3, 6))
    # C alone carries GTT>G: without C it is as unknown as for a case outside the cohort
    c_view = store.for_case(cohort["cases"]["C"][0], centre=None, sample_keys=())
    assert c_view.lookup("15", q, "GTT", "G") is not None  # no centre, no sample: not found
    c_case = cohort["cases"]["C"][0]
    member = next(m for m in store.members.values() if m.case_id == "C")
    c_view = store.for_case(c_case, sample_keys=member.sample_keys)
    assert c_view.lookup("15", q, "GTT", "G") is None
    # relatives of FAM-B: the sibling's family is left out as a whole
    b2_view = store.for_case(cohort["cases"]["B2"][0], centre="C1")
    assert b2_view.counts("15", p, "G", "A") == (1, 6)
    # the filtering frequency: the lower bound of the one-sided 95% Poisson interval
    assert filtering_af(1, 1) == pytest.approx(0.0512933, rel=1e-5)
    assert filtering_af(2, 1000) == pytest.approx(0.35536 / 1000, rel=1e-4)
    assert filtering_af(0, 10) == 0.0 and math.isnan(filtering_af(1, 0))
    assert minimal_allele(10, "gtt", "gt") == (10, "GT", "G")
    assert minimal_allele(10, "ACT", "AGT") == (11, "C", "G")


def test_inhouse_frequencies_in_genome_evidence(
    cohort: dict[str, Any], tmp_path: Path, real_kb: KnowledgeBase
) -> None:
    store = _build(cohort, tmp_path / "inhouse")
    p = cohort["p"]
    vcfs = VcfFactory(tmp_path / "new")
    (tmp_path / "new").mkdir()
    path = vcfs.write(
        [record("15", p, "G", "A", call("0/1")), record("15", p + 7, "C", "T", call("0/1"))],
        ["e"],
        name="e.vcf",
    )
    new_case = _single("E", path, "e")
    ev = evidence_from_case(new_case, real_kb, base=path.parent, frequency=store.for_case(new_case))
    shared, private = sorted(ev.variants("FBN1"), key=lambda v: v.pos)
    assert shared.reasons == (Reason.FREQUENCY,)  # two other families carry it: too common
    assert shared.frequency_source is not None and "in-house" in shared.frequency_source
    assert private.frequency is None and Reason.FREQUENCY not in private.reasons
    # A's own variant is not evidence against A: left out, it is unknown
    a_case = cohort["cases"]["A"][0]
    a_ev = evidence_from_case(
        a_case, real_kb, base=cohort["folder"], frequency=store.for_case(a_case, centre="C1")
    )
    (a_var,) = a_ev.variants("FBN1")
    assert a_var.frequency == pytest.approx(filtering_af(2, 6))  # FAM-B's two copies remain
    # with another frequency store: the larger frequency wins
    combined = CombinedFrequency([store.frequency(), store.frequency()])
    assert combined.lookup("15", p, "G", "A") == store.frequency().lookup("15", p, "G", "A")
    assert "in-house" in combined.source
    ev2 = collect_evidence(path, None, real_kb, frequency=combined)
    assert {v.pos for v in ev2.variants("FBN1") if Reason.FREQUENCY in v.reasons} == {p}


def test_bad_folders_and_builds(tmp_path: Path, cohort: dict[str, Any]) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.txt").write_text("x")
    with pytest.raises(InputError, match="not an in-house frequency folder"):
        InhouseStore.create(other)
    with pytest.raises(InputError, match="not an in-house frequency folder"):
        InhouseStore.open(tmp_path / "nope")
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        InhouseStore.create(a_file)
    store = InhouseStore.create(tmp_path / "empty")
    with pytest.raises(InputError, match="no collected genotypes"):
        store.build()
    with pytest.raises(InputError, match="no frequencies yet"):
        store.frequency()
    root = tmp_path / "inh"
    store = _build(cohort, root)
    member = next(iter(store.members.values()))
    from dataclasses import replace

    with pytest.raises(InputError, match="one genome build"):
        store.register([replace(member, key="x", assembly="GRCh38")])
    with store.lock(), pytest.raises(InputError, match="another raredx process"):  # noqa: SIM117
        with InhouseStore.open(root).lock():
            pass


def test_collect_on_the_cluster_and_the_cli(
    cluster: Cluster, cohort: dict[str, Any], tmp_path: Path
) -> None:
    folder = cohort["folder"] / "packets"
    folder.mkdir()
    for name, (case, _) in cohort["cases"].items():
        if name in ("A", "D"):
            packet = json.loads(
                json.dumps(
                    {
                        **phenopacket(case.id, ["HP:0001166"]),
                        "subject": {"id": case.subject.id},
                        "files": [
                            {
                                "uri": f"../{name.lower()}.vcf",
                                "individualToFileIdentifiers": {case.subject.id: name.lower()},
                            }
                        ],
                    }
                )
            )
            (folder / f"{name}.json").write_text(json.dumps(packet))
    (folder / "phenotype-only.json").write_text(json.dumps(phenopacket("P", ["HP:0001166"])))
    (folder / "bad-vcf.json").write_text(
        json.dumps({**phenopacket("X", ["HP:0001166"]), "files": [{"uri": "missing.vcf"}]})
    )
    root = tmp_path / "inhouse"
    report = collect_inhouse(plan_items([folder]), root, centre="RDB", cluster=cluster)
    status = {Path(o.source).name: o.status for o in report.outcomes}
    assert status == {
        "A.json": "collected",
        "D.json": "collected",
        "bad-vcf.json": "failed",
        "phenotype-only.json": "no VCF",
    }
    assert report.summary["families"] == 2
    assert (root / "genotypes" / "centre=RDB").is_dir()

    again = collect_inhouse(plan_items([folder]), root, centre="RDB", cluster=cluster)
    assert again.count("unchanged") == 2

    runner = CliRunner()
    result = runner.invoke(
        cli_app(),
        [
            "compile-inhouse",
            str(folder),
            "--out",
            str(root),
            "--centre",
            "RDB",
            "--scheduler",
            cluster.address,
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 2, result.output  # bad-vcf.json failed
    payload = json.loads(result.stdout)
    assert payload["counts"]["unchanged"] == 2 and payload["summary"]["families"] == 2
    assert "missing.vcf" in payload["failed"][0]["error"]
