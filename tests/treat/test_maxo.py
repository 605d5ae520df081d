"""The shipped MAxO table: derived exactly from the raw shared files, mapped via MONDO SSSOM."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import pytest

from raredx.kb import KnowledgeBase
from raredx.treat import EvidenceLevel, Origin, read_maxo
from raredx.treat.load import MAXO_COLUMNS, build_maxo_rows, write_maxo_table


def _shipped_rows() -> list[dict[str, str]]:
    text = resources.files("raredx.treat").joinpath("data", "maxo_treatments.tsv").read_text()
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    reader = csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    return list(reader)


def _raw(shared: Path) -> list[dict[str, str]]:
    with (shared / "data" / "maxo" / "maxo-annotations.tsv").open() as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def _sssom(shared: Path) -> list[Path]:
    d = shared / "data" / "mondo"
    return [d / "mondo_exactmatch_omim.sssom.tsv", d / "mondo_exactmatch_orphanet.sssom.tsv"]


def test_shipped_table_equals_its_derivation(shared_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "maxo.tsv"
    write_maxo_table(shared_dir / "data/maxo/maxo-annotations.tsv", _sssom(shared_dir), out)
    shipped = resources.files("raredx.treat").joinpath("data", "maxo_treatments.tsv")
    assert out.read_text() == shipped.read_text()


def test_only_treats_and_contraindicated_rows_are_kept(shared_dir: Path) -> None:
    raw = _raw(shared_dir)
    kept = [r for r in raw if r["relation"] in {"treats", "contraindicated"}]
    mapped, unmapped = build_maxo_rows(
        shared_dir / "data/maxo/maxo-annotations.tsv", _sssom(shared_dir)
    )
    assert len(mapped) + len(unmapped) == len(kept)
    assert {r["relation"] for r in _shipped_rows()} == {"treats", "contraindicated"}
    assert len(_shipped_rows()) == len(mapped)


def _sssom_targets(shared: Path, mondo: str) -> set[str]:
    out = set()
    for path in _sssom(shared):
        for line in path.read_text().splitlines():
            cells = line.split("\t")
            if cells[0] == mondo and cells[2] == "skos:exactMatch":
                out.add(cells[3].replace("Orphanet:", "ORPHA:"))
    return out


@pytest.mark.parametrize(
    ("mondo", "expected"),
    [
        ("MONDO:0011382", "OMIM:603903"),  # sickle cell anemia
        ("MONDO:0008854", "OMIM:209900"),  # Bardet-Biedl syndrome 1
        ("MONDO:0010200", "OMIM:277900"),  # Wilson disease
    ],
)
def test_mapping_matches_the_raw_sssom_files(shared_dir: Path, mondo: str, expected: str) -> None:
    rows = [r for r in _shipped_rows() if r["disease_id"] == mondo]
    assert rows, mondo
    targets = _sssom_targets(shared_dir, mondo)
    assert expected in targets
    for r in rows:
        assert set(r["disease_ids"].split(";")) == targets


def test_pmids_are_kept_and_rows_match_the_raw_file(shared_dir: Path) -> None:
    raw = {
        (r["disease_id"], r["maxo_id"], r["hpo_id"], r["source_id"])
        for r in _raw(shared_dir)
        if r["relation"] in {"treats", "contraindicated"}
    }
    shipped = _shipped_rows()
    assert all((r["disease_id"], r["maxo_id"], r["hpo_id"], r["source_id"]) in raw for r in shipped)
    assert sum(r["source_id"].startswith("PMID:") for r in shipped) > 0.9 * len(shipped)
    assert list(shipped[0]) == list(MAXO_COLUMNS)


def test_maxo_treatments_are_ungraded_annotations_with_sources() -> None:
    maxo = read_maxo()
    assert maxo
    for t in maxo:
        assert t.origin is Origin.MAXO and t.evidence_level is EvidenceLevel.ANNOTATION
        assert t.citations and t.targets and t.maxo_id.startswith("MAXO:")


def test_contraindicated_rows_become_cautions() -> None:
    sickle = [t for t in read_maxo() if t.disease_ids[0] == "MONDO:0011382"]
    assert sickle
    assert all(
        any("avoid excessive exercise contraindicated" in c for c in t.cautions) for t in sickle
    )
    assert not any(t.therapy == "contraindicated" for t in sickle)


@pytest.mark.slow
def test_most_maxo_diseases_resolve_in_the_real_kb(real_kb: KnowledgeBase) -> None:
    from raredx.treat import treatment_index

    index = treatment_index(real_kb)
    maxo = [t for t in index.treatments if t.origin is Origin.MAXO]
    resolved = [t for t in maxo if any(d in real_kb.disease_index for d in t.disease_ids)]
    assert len(resolved) == len(maxo)
    sickle = index.treatments_for_disease("OMIM:603903")
    assert any(t.origin is Origin.MAXO and t.maxo_id == "MAXO:0000756" for t in sickle)
