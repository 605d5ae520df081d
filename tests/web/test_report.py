"""The results view built from a stored analysis (toy KB): bars, labels, the matrix."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from raredx.kb import KnowledgeBase
from raredx.store import AnalysisRecord
from raredx.web.report import analysis_view, bar_width, localized_label


def _evidence(term: str, kind: str, lr: float) -> dict[str, Any]:
    return {
        "term_id": term,
        "term_label": term,
        "kind": kind,
        "log10_lr": lr,
        "annotation_id": None,
        "annotation_label": None,
        "frequency": None,
        "source": None,
    }


def _disease(rank: int, posterior: float, evidence: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "rank": rank,
        "disease_id": f"OMIM:60000{rank}",
        "ids": [f"OMIM:60000{rank}", "ORPHA:1"],
        "name": f"Disease {rank}",
        "posterior": posterior,
        "log10_lr": 2.0 - rank,
        "genes": ["FAS"],
        "absent_log10_lr": -0.2,
        "onset_log10_lr": 0.0,
        "sex_log10_lr": 0.0,
        "genotype_log10_lr": None,
        "evidence": evidence,
        "treatments": [],
    }


def test_bar_widths() -> None:
    assert [bar_width(x) for x in (None, 0.0, -1.0, 0.0001, 0.494, 0.996, 1.5)] == [
        0,
        0,
        0,
        1,
        49,
        100,
        100,
    ]
    assert bar_width(float("nan")) == 0


def test_french_labels_where_the_kb_has_them(toy_kb: KnowledgeBase) -> None:
    assert localized_label(toy_kb, "HP:0001873", "x", "fr") == "Thrombopénie"
    assert localized_label(toy_kb, "HP:0001873", "x", "en") == "Thrombocytopenia"
    assert localized_label(toy_kb, "HP:9999999", "Given", "fr") == "Given"


def test_matrix_rows_are_findings_and_columns_the_top_five(toy_kb: KnowledgeBase) -> None:
    diseases = [
        _disease(
            k,
            0.5 / k,
            [
                _evidence("HP:0001873", "exact", 1.2),
                _evidence("HP:0001903", "excluded", -0.4),
                _evidence("HP:0001903", "absent", -0.01),
            ],
        )
        for k in range(1, 8)
    ]
    diseases[1]["evidence"] = [_evidence("HP:0001873", "related", -0.1)]
    results = {
        "observed": [{"id": "HP:0001873", "label": "Thrombocytopenia"}],
        "excluded": [{"id": "HP:0001903", "label": "Anemia"}],
        "diseases": diseases,
        "genes": [
            {
                "rank": 1,
                "symbol": "FAS",
                "hgnc_id": "HGNC:11920",
                "score": 0.7,
                "diseases": ["OMIM:600001"],
                "genotype": None,
            }
        ],
        "hpo_release": "toy",
    }
    record = AnalysisRecord(
        7, "case-1", toy_kb.version, {"noise": 0.6}, results, datetime(2026, 1, 2, tzinfo=UTC)
    )
    view = analysis_view(record, toy_kb, lang="fr", patient="P1", sex="MALE", age_years=4.0)
    assert [f.label for f in view.findings] == ["Thrombopénie", "Anémie"]
    assert [d.rank for d in view.matrix.columns] == [1, 2, 3, 4, 5]
    observed, excluded = view.matrix.rows
    assert [(c.log10_lr, c.kind, c.tone) for c in observed.cells[:2]] == [
        (1.2, "exact", "pos3"),
        (-0.1, "related", "neg1"),
    ]
    assert excluded.excluded and excluded.cells[0].kind == "excluded"  # not the absent row
    assert excluded.cells[1].kind is None and excluded.cells[1].tone == "none"
    assert [row.key for row in view.matrix.summary] == [
        "explain.absent",
        "explain.total_phenotype",
    ]
    assert view.diseases[0].bar == 50 and view.diseases[0].other_ids == ("ORPHA:1",)
    assert view.genes[0].bar == 70
    assert view.parameters == (("noise", "0.6"),)
    assert view.sources and not view.outdated
