"""Treatments attached to a diagnosis: per candidate, strongest evidence first, and the
"do not miss" list of treatable diseases not ranked first."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from raredx import diagnose
from raredx.case import read_phenopacket
from raredx.cli.app import app
from raredx.kb import KnowledgeBase
from raredx.treat import EvidenceLevel

runner = CliRunner()

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "alps-fas.phenopacket.json"


def test_candidates_carry_their_treatments(real_kb: KnowledgeBase) -> None:
    case = read_phenopacket(EXAMPLE)
    result = diagnose(case, kb=real_kb, top=10)
    alps = [d for d in result.diseases if "OMIM:601859" in d.ids]
    assert alps, [d.name for d in result.diseases]
    therapies = [t.therapy for t in alps[0].treatments]
    assert "sirolimus" in therapies
    for d in result.diseases:
        ranks = [t.evidence_level.rank for t in d.treatments]
        assert ranks == sorted(ranks)  # strongest evidence first
        for t in d.treatments:
            assert t.citations and t.evidence_level in EvidenceLevel
    untreated = diagnose(case, kb=real_kb, top=10, treatments=False)
    assert all(not d.treatments for d in untreated.diseases) and not untreated.do_not_miss


def test_do_not_miss_lists_treatable_diseases_above_the_threshold(real_kb: KnowledgeBase) -> None:
    case = read_phenopacket(EXAMPLE)
    result = diagnose(case, kb=real_kb, top=3)
    top = result.diseases[0]
    assert result.do_not_miss, "a treatable ALPS entry should pass 2%"
    for d in result.do_not_miss:
        assert d.posterior >= 0.02 and d.treatments and d.rank > 1
        assert d.disease_id != top.disease_id
    posteriors = [d.posterior for d in result.do_not_miss]
    assert posteriors == sorted(posteriors, reverse=True)
    strict = diagnose(case, kb=real_kb, top=3, do_not_miss_threshold=0.99)
    assert not strict.do_not_miss


def test_cli_json_carries_treatments_and_do_not_miss(real_kb: KnowledgeBase) -> None:
    result = runner.invoke(app, ["diagnose", str(EXAMPLE), "-f", "json"])
    assert result.exit_code == 0, result.output
    payload = orjson.loads(result.stdout)
    first = next(d for d in payload["diseases"] if d["treatments"])
    t = first["treatments"][0]
    assert {"therapy", "evidence_level", "citations", "disease_ids", "genes"} <= set(t)
    assert payload["do_not_miss"] and payload["do_not_miss"][0]["treatments"]
    table = runner.invoke(app, ["diagnose", str(EXAMPLE)])
    flat = " ".join(table.stdout.split())
    assert "Treatments of the top candidates" in flat and "sirolimus" in flat
    assert "Do not miss" in flat
