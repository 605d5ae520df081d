"""Facts and counts of the bundled release, recomputed from the raw files in ../shared."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import pytest

from raredx.kb import BUNDLED_HPO_RELEASE, KnowledgeBase

pytestmark = pytest.mark.slow


def _hpoa_rows(shared: Path) -> list[list[str]]:
    with gzip.open(shared / "data" / "hpo" / "phenotype.hpoa.gz", "rt", encoding="utf-8") as fh:
        lines = [ln.rstrip("\n").split("\t") for ln in fh if not ln.startswith("#")]
    return lines[1:]  # header


def test_release_and_sources(real_kb: KnowledgeBase) -> None:
    assert real_kb.hpo_release == BUNDLED_HPO_RELEASE
    names = {s.name for s in real_kb.sources}
    assert {"HPO ontology", "HPO disease annotations", "HGNC gene table"} <= names
    assert all(len(s.sha256) == 64 and s.version for s in real_kb.sources)


def test_diseases_per_source_match_raw_file(real_kb: KnowledgeBase, shared_dir: Path) -> None:
    rows = _hpoa_rows(shared_dir)
    expected = Counter(d.split(":")[0] for d in {r[0] for r in rows})
    assert real_kb.manifest["counts"]["diseases_by_source"] == dict(expected)
    assert real_kb.n_diseases == sum(expected.values())


def test_not_annotations_match_raw_file(real_kb: KnowledgeBase, shared_dir: Path) -> None:
    rows = _hpoa_rows(shared_dir)
    raw_not = {(r[0], r[3]) for r in rows if r[2] == "NOT" and r[10] not in ("I", "C")}
    stored = {
        (real_kb.disease_ids[d], real_kb.term_ids[t])
        for d, t, neg in zip(
            real_kb.ann_disease, real_kb.ann_term, real_kb.ann_negated, strict=True
        )
        if neg
    }
    # Ids in the raw file may be alt ids: compare after resolving them.
    resolved = set()
    for disease, term in raw_not:
        found = real_kb.lookup_term(term)
        assert found is not None, term
        resolved.add((disease, found.term_id))
    assert stored == resolved


def test_fraction_frequencies_match_raw_file(real_kb: KnowledgeBase, shared_dir: Path) -> None:
    rows = _hpoa_rows(shared_dir)
    raw = [(r[0], r[7]) for r in rows if "/" in r[7] and r[10] not in ("I", "C")]
    stored = (real_kb.ann_num >= 0).sum()
    assert stored == len(raw)
    # One disease in detail: every n/m of the raw file is there with its value.
    disease = raw[0][0]
    raw_fracs = sorted(f for d, f in raw if d == disease)
    got = sorted(
        f"{a.frequency_n}/{a.frequency_m}"
        for a in real_kb.disease(disease).annotations
        if a.frequency_n is not None
    )
    assert got == raw_fracs


def test_known_facts(real_kb: KnowledgeBase) -> None:
    assert real_kb.is_ancestor("HP:0001872", "HP:0001873")
    assert "OMIM:601859" in real_kb.gene("FAS").diseases
    assert "FAS" in real_kb.disease("OMIM:601859").genes
    assert real_kb.gene("TNFRSF6").symbol == "FAS"  # previous symbol resolves to current
    assert real_kb.term("HP:0001873").label_fr == "Thrombopénie"
    assert "HP:0000006" in real_kb.disease("OMIM:601859").inheritance  # ALPS: AD
    # Every term reaches the root; IC is 0 only at the root.
    root = real_kb.term_index["HP:0000001"]
    assert all(root in real_kb.ancestors(i) for i in range(0, real_kb.n_terms, 97))


def test_equivalent_ids_link_omim_and_orpha(real_kb: KnowledgeBase) -> None:
    groups = real_kb.manifest["counts"]["disease_groups"]
    assert groups < real_kb.n_diseases
    # Marfan syndrome: OMIM:154700 and ORPHA:558 are one disease (MONDO:0007947).
    eq = real_kb.equivalent_ids("OMIM:154700")
    assert "ORPHA:558" in eq and "MONDO:0007947" in eq
    # No group holds two entries of the same source.
    members: dict[int, list[str]] = {}
    for d, g in enumerate(real_kb.disease_group.tolist()):
        members.setdefault(g, []).append(real_kb.disease_ids[d].split(":")[0])
    assert all(len(m) == len(set(m)) for m in members.values())
