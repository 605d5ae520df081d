"""`raredx reanalyze --scheduler/--workers`: due cases ranked on the Dask cluster, compared and
recorded by the client, with the same changes as the single-process path."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from raredx.batch import Cluster, cluster_reranker
from raredx.batch.worker import store_url_for_workers
from raredx.case import Case, read_phenopacket
from raredx.diagnosis import diagnose
from raredx.kb import KnowledgeBase
from raredx.rank.result import GenomeSummary
from raredx.store import Store
from raredx.store.reanalysis import CaseChange, reanalyze
from tests.batch.conftest import ALPS_VCF, EXAMPLE, cli_app


def _fill(url: str, toy_kb: KnowledgeBase, vcf: Path) -> None:
    alps = read_phenopacket(EXAMPLE)
    with Store.open(url) as store:
        store.add_centre("C1", "Centre")
        store.add_user("alice", role="geneticist", centre="C1")
        cases: list[Case] = [alps, *(dataclasses.replace(alps, id=f"alps-{i}") for i in range(5))]
        for i, case in enumerate(cases):
            store.add_case(case, centre="C1", user="alice", patient=f"P{i}")
            store.record_analysis(case.id, diagnose(case, kb=toy_kb, lenient=True), user="alice")
        store.attach_vcf("alps-1", vcf, user="alice", sample="S1")
        # alps-2 was once ranked with a VCF never attached to the store: not re-run
        summary = GenomeSummary("elsewhere.vcf", "GRCh37", "p", "p", "none", ())
        with_vcf = dataclasses.replace(diagnose(cases[3], kb=toy_kb, lenient=True), genome=summary)
        store.record_analysis("alps-2", with_vcf, user="alice")


def _plain(changes: tuple[CaseChange, ...]) -> list[tuple[str, str, tuple[str, ...]]]:
    return [
        (c.case_id, c.current_kb, tuple(f"{x.kind}|{x.disease_id}|{x.detail}" for x in c.changes))
        for c in changes
    ]


def test_cluster_reanalysis_equals_the_single_process_one(
    cluster: Cluster, toy_kb: KnowledgeBase, real_kb: KnowledgeBase, tmp_path: Path
) -> None:
    vcf = tmp_path / "alps-fas.vcf"
    shutil.copy(ALPS_VCF, vcf)
    urls = [f"sqlite:///{tmp_path / name}.sqlite3" for name in ("local", "dask")]
    for url in urls:
        _fill(url, toy_kb, vcf)
    with Store.open(urls[0]) as store:
        local = reanalyze(store, real_kb, user="alice")
    seen: list[tuple[int, int]] = []
    with Store.open(urls[1]) as store:
        reranker = cluster_reranker(cluster, user="alice", store_url=store_url_for_workers(store))
        remote = reanalyze(
            store,
            real_kb,
            user="alice",
            reranker=reranker,
            progress=lambda done, total: seen.append((done, total)),
        )
        again = reanalyze(store, real_kb, user="alice", reranker=reranker)
        assert [c.case_id for c in again] == ["alps-2"]  # still due: never re-run
        latest = store.analyses("alps-1", user="alice")[-1]
    assert _plain(remote) == _plain(local)
    assert len(remote) == 6
    not_rerun = [c for c in remote if c.analysis_id is None]
    assert [(c.case_id, c.changes[0].kind) for c in not_rerun] == [("alps-2", "not_rerun")]
    assert seen[-1] == (6, 6)
    # the attached VCF was read by a worker: its genotype is in the recorded analysis
    assert latest.results["genome"] is not None
    assert latest.kb_version == real_kb.version


def test_cli_reanalyze_on_the_cluster(
    cluster: Cluster,
    toy_kb: KnowledgeBase,
    real_kb: KnowledgeBase,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    alps = read_phenopacket(EXAMPLE)
    with Store.open(url) as store:
        store.add_centre("C1", "Centre")
        store.add_user("alice", role="geneticist", centre="C1")
        store.add_case(alps, centre="C1", user="alice")
        store.record_analysis(alps.id, diagnose(alps, kb=toy_kb, lenient=True), user="alice")
    monkeypatch.setenv("RAREDX_DATABASE_URL", url)
    runner = CliRunner()
    args = ["reanalyze", "--user", "alice", "--format", "json", "--scheduler", cluster.address]
    result = runner.invoke(cli_app(), args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["reanalysed"] == [alps.id]
    kinds = {c["kind"] for c in payload["changed"][0]["changes"]}
    assert "new_gene_link" in kinds
    result = runner.invoke(cli_app(), [*args, "--workers", "2"])
    assert result.exit_code == 2 and "not both" in " ".join(result.stderr.split())
