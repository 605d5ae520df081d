"""`raredx batch` on a real LocalCluster: the same results as `raredx diagnose`, resume,
failures recorded, bad input and lost clusters reported without a traceback."""

from __future__ import annotations

import csv
import filecmp
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from raredx._files import exclusive_lock
from raredx.batch import (
    BatchSettings,
    Cluster,
    ClusterError,
    open_cluster,
    plan_items,
    run_batch,
    store_items,
)
from raredx.batch.worker import STATE_FOLDER
from raredx.case import read_phenopacket
from raredx.diagnosis import diagnose
from raredx.kb import KnowledgeBase
from tests.batch.conftest import EXAMPLE, cli_app, dev_lines, phenopacket

ROOT = Path(__file__).resolve().parents[2]


def _results(folder: Path) -> dict[str, Path]:
    return {p.name: p for p in folder.iterdir() if p.is_file() and p.name.endswith("_result.tsv")}


def _flat(text: str) -> str:
    """Console output without the line wrapping of a narrow terminal."""
    return " ".join(text.split())


def _summary(folder: Path) -> list[dict[str, str]]:
    with (folder / "batch-summary.tsv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_same_results_as_raredx_diagnose(
    cluster: Cluster, real_kb: KnowledgeBase, tmp_path: Path, vcf_case: Path
) -> None:
    inputs = [EXAMPLE, vcf_case]
    try:
        lines = dev_lines(120)
        dev = tmp_path / "dev.jsonl"
        dev.write_bytes(b"".join(lines))
        inputs.append(dev)
    except pytest.skip.Exception:
        pass
    runner = CliRunner()
    ref = tmp_path / "ref"
    done = runner.invoke(
        cli_app(), ["diagnose", *map(str, inputs), "--out", str(ref), "--format", "tsv"]
    )
    assert done.exit_code in (0, 2), done.output
    failed_diagnose = done.stderr.count("error: ")

    out = tmp_path / "out"
    report = run_batch(
        plan_items(inputs), BatchSettings(real_kb.version, out=str(out)), cluster=cluster
    )

    expected, got = _results(ref), _results(out)
    assert set(got) == set(expected)
    # the example (2 files) and the VCF case (3 files), then the dev cases' when ../shared is there
    assert len(expected) >= (7 if len(inputs) > 2 else 5)
    assert any(n.endswith("pheval_variant_result.tsv") for n in got)
    differ = [n for n in expected if not filecmp.cmp(expected[n], got[n], shallow=False)]
    assert differ == []
    assert report.count("failed") == failed_diagnose
    assert report.count("done") + report.count("failed") == len(report.outcomes)
    # the JSON is the full result, as `diagnose` returns it
    case = read_phenopacket(EXAMPLE)
    result = diagnose(case, kb=real_kb, top=100, top_genes=100, next_findings=0, explain=False)
    saved = orjson.loads((out / "alps-fas.phenopacket.json").read_bytes())
    assert saved == {"source": str(EXAMPLE), **orjson.loads(orjson.dumps(result.to_dict()))}
    # every worker loaded the KB once and ran cases
    assert {w.cases > 0 for w in report.workers} == {True}
    assert all(w.peak_rss > 100 * 2**20 for w in report.workers)


def test_rerun_skips_finished_cases_and_redoes_changed_ones(
    cluster: Cluster, real_kb: KnowledgeBase, write_cases: Callable[..., Path], tmp_path: Path
) -> None:
    folder = write_cases(
        [phenopacket(f"case{i}", ["HP:0001744", "HP:0001873"][: 1 + i % 2]) for i in range(12)]
    )
    out = tmp_path / "out"
    settings = BatchSettings(real_kb.version, out=str(out))
    first = run_batch(plan_items([folder]), settings, cluster=cluster, chunk_size=3)
    assert first.counts()["done"] == 12

    again = run_batch(plan_items([folder]), settings, cluster=cluster)
    assert again.counts()["finished_before"] == 12
    assert again.workers == []  # nothing to run: no task sent

    (folder / "case3.json").write_text(json.dumps(phenopacket("case3", ["HP:0002716"])))
    (out / "case5-pheval_gene_result.tsv").unlink()
    third = run_batch(plan_items([folder]), settings, cluster=cluster)
    redone = sorted(o.stem for o in third.outcomes if o.status == "done")
    assert redone == ["case3", "case5"]
    assert third.counts()["finished_before"] == 10
    assert "HP:0002716" in (out / "case3.json").read_text()

    lenient = BatchSettings(real_kb.version, out=str(out), lenient=True)
    assert run_batch(plan_items([folder]), lenient, cluster=cluster).counts()["done"] == 12


def test_failures_are_recorded_and_the_batch_goes_on(
    cluster: Cluster, real_kb: KnowledgeBase, write_cases: Callable[..., Path], tmp_path: Path
) -> None:
    folder = write_cases(
        [
            phenopacket("good", ["HP:0001744"]),
            phenopacket("unknown-term", ["HP:9999999"]),
            phenopacket(
                "missing-vcf",
                ["HP:0001744"],
                files=[{"uri": "nowhere.vcf", "fileAttributes": {"fileFormat": "VCF"}}],
            ),
        ]
    )
    (folder / "broken.json").write_text('{"id": "broken", ')
    out = tmp_path / "out"
    settings = BatchSettings(real_kb.version, out=str(out))

    report = run_batch(plan_items([folder]), settings, cluster=cluster)

    status = {o.stem: o.status for o in report.outcomes}
    assert status == {
        "broken": "failed",
        "good": "done",
        "missing-vcf": "failed",
        "unknown-term": "failed",
    }
    errors = {o.stem: o.error or "" for o in report.failed}
    assert "not valid JSON" in errors["broken"]
    assert "HP:9999999" in errors["unknown-term"]
    assert "nowhere.vcf" in errors["missing-vcf"]
    for stem in errors:
        saved = json.loads((out / f"{stem}.error.json").read_text())
        assert saved["error"] == errors[stem] and saved["traceback"] is None
    rows = {r["stem"]: r for r in _summary(out)}
    assert rows["good"]["status"] == "done" and rows["good"]["top_disease"]
    assert rows["broken"]["error"] == errors["broken"]
    assert json.loads((out / "batch.json").read_text())["counts"]["failed"] == 3

    # a case that now fails loses its old results; one that now works loses its error file
    (folder / "good.json").write_text(json.dumps(phenopacket("good", ["HP:9999998"])))
    (folder / "unknown-term.json").write_text(
        json.dumps(phenopacket("unknown-term", ["HP:0001744"]))
    )
    run_batch(plan_items([folder]), settings, cluster=cluster)
    assert not (out / "good-pheval_disease_result.tsv").exists()
    assert (out / "good.error.json").exists()
    assert (out / "unknown-term-pheval_disease_result.tsv").exists()
    assert not (out / "unknown-term.error.json").exists()


def test_cli_summary_formats_and_exit_codes(
    cluster: Cluster, write_cases: Callable[..., Path], tmp_path: Path
) -> None:
    folder = write_cases([phenopacket("ok", ["HP:0001744"]), phenopacket("bad", ["HP:9999999"])])
    runner = CliRunner()
    out = tmp_path / "out"
    args = ["batch", str(folder), "--out", str(out), "--scheduler", cluster.address]
    result = runner.invoke(cli_app(), args)
    assert result.exit_code == 2, result.output
    assert "ranked now" in result.stdout and "Failed cases (1" in _flat(result.stdout)
    assert "Traceback" not in result.output

    result = runner.invoke(cli_app(), [*args, "--format", "tsv"])
    rows = list(csv.DictReader(result.stdout.splitlines(), delimiter="\t"))
    assert [(r["stem"], r["status"]) for r in rows] == [
        ("bad", "failed"),
        ("ok", "finished before"),
    ]
    result = runner.invoke(cli_app(), [*args, "--format", "json"])
    payload = json.loads(result.stdout)
    assert payload["counts"] == {
        "cases": 2,
        "done": 0,
        "finished_before": 1,
        "failed": 1,
        "pending": 0,
    }


def test_bad_output_folder_and_dead_scheduler(
    write_cases: Callable[..., Path], tmp_path: Path, real_kb: KnowledgeBase
) -> None:
    folder = write_cases([phenopacket("ok", ["HP:0001744"])])
    runner = CliRunner()
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    result = runner.invoke(cli_app(), ["batch", str(folder), "--out", str(a_file)])
    assert result.exit_code == 2
    assert "exists and is not a folder" in _flat(result.stderr)

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    result = runner.invoke(
        cli_app(),
        [
            "batch",
            str(folder),
            "--out",
            str(tmp_path / "out"),
            "--scheduler",
            f"tcp://127.0.0.1:{port}",
            "--timeout",
            "1",
        ],
    )
    assert result.exit_code == 2, result.output
    assert "cannot reach the Dask scheduler" in _flat(result.stderr)
    assert "Traceback" not in result.output
    assert time.perf_counter() - t0 < 30
    with pytest.raises(ClusterError, match="not both"), open_cluster(workers=1, scheduler="x"):
        pass

    result = runner.invoke(cli_app(), ["batch", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "nothing to run" in _flat(result.stderr)

    busy = tmp_path / "busy"
    (busy / STATE_FOLDER).mkdir(parents=True)
    with exclusive_lock(busy / STATE_FOLDER / "lock", "held by this test"):
        result = runner.invoke(cli_app(), ["batch", str(folder), "--out", str(busy)])
    assert result.exit_code == 2, result.output
    assert "another raredx batch is writing to this folder" in _flat(result.stderr)
    assert not list(busy.glob("*.tsv"))


def test_stored_cases_are_read_by_the_workers(
    cluster: Cluster, real_kb: KnowledgeBase, tmp_path: Path
) -> None:
    from raredx.store import Store

    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    with Store.open(url) as store:
        store.add_centre("C1", "Centre one")
        store.add_user("alice", role="geneticist", centre="C1")
        store.import_phenopackets([EXAMPLE], centre="C1", user="alice")
        rows = [(s.id, s.updated.isoformat()) for s in store.list_cases("C1", user="alice")]
    settings = BatchSettings(
        real_kb.version, out=str(tmp_path / "out"), store_url=url, store_user="alice"
    )
    report = run_batch(store_items(rows), settings, cluster=cluster)
    [outcome] = report.outcomes
    assert outcome.status == "done", outcome.error
    case = read_phenopacket(EXAMPLE)
    expected = diagnose(case, kb=real_kb, top=100, top_genes=100, next_findings=0, explain=False)
    saved = orjson.loads((tmp_path / "out" / f"{case.id}.json").read_bytes())
    assert saved["diseases"] == orjson.loads(orjson.dumps(expected.to_dict()))["diseases"]

    wrong = BatchSettings(
        real_kb.version, out=str(tmp_path / "out2"), store_url=url, store_user="mallory"
    )
    [bad] = run_batch(store_items(rows), wrong, cluster=cluster).outcomes
    assert bad.status == "failed" and "mallory" in (bad.error or "")


def _exit_in_worker(items: list[int]) -> list[int]:
    if 3 in items:
        os._exit(1)  # a case that kills its worker (segfault, out of memory...)
    return items


def test_a_case_that_kills_its_worker_fails_alone(real_kb: KnowledgeBase) -> None:
    import dask

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        open_cluster(workers=1, timeout=30) as small,
    ):
        ok: set[int] = set()
        killed: dict[int, str] = {}
        for group, result in small.map(_exit_in_worker, [[1, 2], [3, 4], [5]]):
            if isinstance(result, BaseException):
                killed.update((i, type(result).__name__) for i in group)
            else:
                ok.update(result)
    assert ok == {1, 2, 4, 5}  # split from the poisonous group or retried after a death
    assert killed == {3: "KilledWorker"}


_CLI = (
    "import sys; from tests.batch.conftest import cli_app; "
    "cli_app()(sys.argv[1:], prog_name='raredx')"
)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_keeps_finished_cases_and_resumes(
    cluster: Cluster, tmp_path: Path, sig: signal.Signals
) -> None:
    lines = dev_lines(300)
    cases = tmp_path / "cases.jsonl"
    cases.write_bytes(b"".join(lines))
    out = tmp_path / "out"
    args = [sys.executable, "-c", _CLI, "batch", str(cases), "--out", str(out)]
    args += ["--scheduler", cluster.address, "--chunk-size", "2", "--no-json"]
    proc = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    done = out / ".raredx-batch" / "done"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if done.is_dir() and len(list(done.iterdir())) >= 6:
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "run the same command again to resume" in _flat(stderr)
    assert "Traceback" not in stderr + stdout
    kept = len(list(done.iterdir()))
    assert 6 <= kept < 300
    assert sum(r["status"] == "pending" for r in _summary(out)) > 0

    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode in (0, 2), result.stderr
    rows = _summary(out)
    assert sum(r["status"] == "finished before" for r in rows) >= kept - 2
    assert not any(r["status"] == "pending" for r in rows)
    assert len(list(done.iterdir())) == sum(r["status"] != "failed" for r in rows)
