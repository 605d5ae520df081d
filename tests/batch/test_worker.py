"""What a worker does with a group of cases, run in this process (no cluster)."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from raredx.batch import BatchSettings, plan_items
from raredx.batch.worker import run_chunk, warm, worker_kb
from raredx.case import read_phenopacket
from raredx.diagnosis import diagnose
from raredx.kb import KnowledgeBase
from raredx.rank import model as rank_model
from tests.batch.conftest import phenopacket

A = ["HP:0001744", "HP:0001873", "HP:0002716", "HP:0001250"]
B = ["HP:0001744", "HP:0000252", "HP:0001263", "HP:0000365"]


def test_a_long_running_worker_survives_the_model_cache_evicting_its_own_terms(
    real_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # B shares HP:0001744 with A: filling a full cache with B's three new terms evicts it
    model = rank_model.phenotype_model(real_kb)
    model.clear_cache()
    monkeypatch.setattr(rank_model, "_TERM_CACHE_SIZE", 6)
    for name, terms in (("a", A), ("b", B)):
        (tmp_path / f"{name}.json").write_text(json.dumps(phenopacket(name, terms)))
    items = plan_items([tmp_path / "a.json", tmp_path / "b.json"])
    out = tmp_path / "out"
    info = warm(real_kb.version)
    assert info["pid"] > 0 and info["cpu"] > 0
    assert worker_kb(real_kb.version) is worker_kb(real_kb.version)  # loaded once
    model.clear_cache()

    outcomes = run_chunk(items, BatchSettings(real_kb.version, out=str(out)))

    assert [o.status for o in outcomes] == ["done", "done"], outcomes
    model.clear_cache()
    monkeypatch.setattr(rank_model, "_TERM_CACHE_SIZE", 4096)
    case = read_phenopacket(tmp_path / "b.json")
    expected = diagnose(
        case, kb=worker_kb(real_kb.version), top=100, top_genes=100, next_findings=0, explain=False
    )
    saved = orjson.loads((out / "b.json").read_bytes())
    assert saved["diseases"] == orjson.loads(orjson.dumps(expected.to_dict()))["diseases"]
