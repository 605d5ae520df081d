"""KB logic on the hand-drawn toy release (tests/data/toy/hp.obo draws the tree)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from raredx.errors import InputError, KnowledgeBaseError
from raredx.kb import (
    KnowledgeBase,
    Sex,
    TermLookupKind,
    build_kb,
    installed_kbs,
    load_kb,
    parse_frequency,
)
from raredx.kb.compile import compile_kb
from raredx.kb.sources import read_obo
from tests.conftest import TOY, toy_release_files


def test_terms_and_hierarchy(toy_kb: KnowledgeBase) -> None:
    assert toy_kb.n_terms == 12  # 14 stanzas, 2 obsolete
    assert toy_kb.is_ancestor("HP:0001872", "HP:0001873")
    assert toy_kb.is_ancestor("HP:0001873", "HP:0001873")
    assert not toy_kb.is_ancestor("HP:0001873", "HP:0001872")
    # Two parents: AIHA is under both anemia and the immune system.
    aiha = toy_kb.term_index["HP:0001890"]
    ancestors = {toy_kb.term_ids[i] for i in toy_kb.ancestors(aiha)}
    assert ancestors == {
        "HP:0001890",
        "HP:0001903",
        "HP:0001871",
        "HP:0002715",
        "HP:0000118",
        "HP:0000001",
    }
    blood = toy_kb.term_index["HP:0001871"]
    assert {toy_kb.term_ids[i] for i in toy_kb.descendants(blood)} == {
        "HP:0001871",
        "HP:0001872",
        "HP:0001873",
        "HP:0001903",
        "HP:0001890",
    }


def test_term_details(toy_kb: KnowledgeBase) -> None:
    t = toy_kb.term("HP:0001873")
    assert t.label == "Thrombocytopenia"
    assert t.synonyms == ("Low platelet count",)
    assert t.label_fr == "Thrombopénie"
    assert t.synonyms_fr == ("Thrombocytopénie", "Plaquettes basses")  # "|"-packed cell split
    assert t.alt_ids == ("HP:0001906",)
    assert t.parents == ("HP:0001872",)
    assert toy_kb.term("HP:0001871").definition == (
        'An abnormality of the "blood" and blood-forming tissues.'
    )


def test_alt_and_obsolete_ids_resolve(toy_kb: KnowledgeBase) -> None:
    alt = toy_kb.lookup_term("HP:0001906")
    assert alt is not None and alt.term_id == "HP:0001873" and alt.kind is TermLookupKind.ALT_ID
    obs = toy_kb.lookup_term("HP:0009999")
    assert obs is not None and obs.term_id == "HP:0001903" and obs.kind is TermLookupKind.OBSOLETE
    assert toy_kb.lookup_term("HP:0009998") is None
    assert toy_kb.is_obsolete_without_replacement("HP:0009998")
    assert toy_kb.lookup_term("HP:1234567") is None
    with pytest.raises(InputError, match="HP:1234567"):
        toy_kb.term("HP:1234567")


def test_information_content_grows_with_specificity(toy_kb: KnowledgeBase) -> None:
    ic = toy_kb.term_ic
    idx = toy_kb.term_index
    assert ic[idx["HP:0000001"]] == pytest.approx(0.0, abs=1e-12)
    assert ic[idx["HP:0001871"]] <= ic[idx["HP:0001872"]] <= ic[idx["HP:0001873"]]
    # Recompute by hand: 3 of 4 diseases carry thrombocytopenia (one through the alt id).
    assert ic[idx["HP:0001873"]] == pytest.approx(-math.log((3 + 1) / (4 + 1)))
    assert np.all(ic >= 0)


def test_annotations_frequencies_and_qualifiers(toy_kb: KnowledgeBase) -> None:
    d1 = toy_kb.disease("OMIM:100001")
    by_term = {a.term_id: a for a in d1.annotations}
    assert by_term["HP:0001873"].frequency == 0.75
    assert (by_term["HP:0001873"].frequency_n, by_term["HP:0001873"].frequency_m) == (3, 4)
    assert by_term["HP:0001903"].frequency == pytest.approx(0.17)
    assert by_term["HP:0001744"].negated and by_term["HP:0001744"].frequency is None
    assert [a.term_id for a in d1.excluded] == ["HP:0001744"]
    assert d1.inheritance == ("HP:0000006",)
    d2 = toy_kb.disease("OMIM:100002")
    aiha = next(a for a in d2.annotations if a.term_id == "HP:0001890")
    assert aiha.frequency == 0.5 and aiha.sex is Sex.FEMALE
    # The alt id written in the annotation file is stored as the current term.
    assert "HP:0001873" in {a.term_id for a in d2.annotations}
    assert toy_kb.disease("ORPHA:901").annotations[0].term_id == "HP:0001903"


def test_equivalents_across_sources(toy_kb: KnowledgeBase) -> None:
    assert toy_kb.equivalent_ids("OMIM:100001") == ("ORPHA:900", "MONDO:0000001")
    # MONDO:0000002 also claims OMIM:100001, which would merge two OMIM entries: refused.
    assert toy_kb.equivalent_ids("OMIM:100002") == ("ORPHA:901",)
    assert toy_kb.disease("Orphanet:900").id == "ORPHA:900"
    assert toy_kb.disease("MONDO:0000001").id in {"OMIM:100001", "ORPHA:900"}
    assert len(set(toy_kb.disease_group.tolist())) == 2


def test_genes_and_symbols(toy_kb: KnowledgeBase) -> None:
    assert toy_kb.gene("GENEA").diseases == ("OMIM:100001",)
    assert toy_kb.gene("olda").symbol == "GENEA"  # previous symbol, any case
    assert toy_kb.gene("CD99").symbol == "GENEB"  # alias
    assert toy_kb.gene("HGNC:2").symbol == "GENEB"
    assert toy_kb.gene("NCBIGene:11").symbol == "GENEA"
    # A gene file row under an old symbol without an NCBI id still links via HGNC's history.
    assert toy_kb.gene("GENEC").diseases == ("ORPHA:901",)
    with pytest.raises(InputError, match="ambiguous"):
        toy_kb.gene("ALIASX")
    with pytest.raises(InputError, match="unknown gene"):
        toy_kb.gene("NOPE")
    assert toy_kb.disease("OMIM:100001").genes == ("GENEA",)


@pytest.mark.parametrize(
    ("text", "value"),
    [("1/2", 0.5), ("0/3", 0.0), ("12%", 0.12), ("HP:0040280", 1.0), ("HP:0040285", 0.0)],
)
def test_parse_frequency(text: str, value: float) -> None:
    assert parse_frequency(text)[0] == pytest.approx(value)


@pytest.mark.parametrize("text", ["3/0", "4/3", "150%", "often", "HP:0000001"])
def test_parse_frequency_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError):
        parse_frequency(text)


def test_manifest_counts(toy_kb: KnowledgeBase) -> None:
    counts = toy_kb.manifest["counts"]
    assert counts["diseases_by_source"] == {"OMIM": 2, "ORPHA": 2}
    assert counts["negated_annotations"] == 1
    assert counts["inheritance_annotations"] == 2
    assert toy_kb.hpo_release == "2020-02-02"


def test_build_activate_and_select_versions(tmp_path: Path) -> None:
    home = tmp_path / "home"
    v1 = build_kb(toy_release_files(), home=home)
    assert v1 == "hpo-2020-02-02"
    v2 = build_kb(toy_release_files(), version="toy-2", home=home, activate=False)
    assert [k.version for k in installed_kbs(home=home)] == [v1, v2]
    assert load_kb(home=home).version == v1  # still the active one
    assert load_kb("toy-2", home=home).version == "toy-2"
    kb = load_kb(home=home)
    assert kb.is_ancestor("HP:0001872", "HP:0001873")
    with pytest.raises(KnowledgeBaseError, match="not installed"):
        load_kb("nope", home=home)
    # The arrays handed out are read-only: nobody can corrupt a shared KB in place.
    with pytest.raises(ValueError):
        kb.term_ic[0] = 1.0


def test_obographs_json_matches_obo(tmp_path: Path) -> None:
    import json

    release = read_obo(TOY / "hp.obo")
    nodes, edges = [], []
    for t in release.terms:
        meta: dict[str, object] = {
            "synonyms": [{"pred": "hasExactSynonym", "val": s} for s, _ in t.synonyms],
            "basicPropertyValues": [
                {"pred": "http://www.geneontology.org/formats/oboInOwl#hasAlternativeId", "val": a}
                for a in t.alt_ids
            ],
        }
        if t.replaced_by:
            meta["basicPropertyValues"] = [  # type: ignore[assignment]
                {
                    "pred": "http://purl.obolibrary.org/obo/IAO_0100001",
                    "val": "http://purl.obolibrary.org/obo/" + t.replaced_by.replace(":", "_"),
                }
            ]
        if t.definition:
            meta["definition"] = {"val": t.definition}
        if t.obsolete:
            meta["deprecated"] = True
        nodes.append(
            {
                "id": "http://purl.obolibrary.org/obo/" + t.id.replace(":", "_"),
                "lbl": t.label,
                "type": "CLASS",
                "meta": meta,
            }
        )
        edges += [
            {
                "sub": "http://purl.obolibrary.org/obo/" + t.id.replace(":", "_"),
                "pred": "is_a",
                "obj": "http://purl.obolibrary.org/obo/" + p.replace(":", "_"),
            }
            for p in t.parents
        ]
    doc = {
        "graphs": [
            {
                "nodes": nodes,
                "edges": edges,
                "meta": {
                    "version": "http://purl.obolibrary.org/obo/hp/releases/2020-02-02/hp.json"
                },
            }
        ]
    }
    hpo_dir = tmp_path / "release"
    hpo_dir.mkdir()
    (hpo_dir / "hp.json").write_text(json.dumps(doc))
    for name in ("phenotype.hpoa", "genes_to_phenotype.txt"):
        shutil.copy(TOY / name, hpo_dir / name)
    files = toy_release_files()
    from_json = compile_kb(
        type(files)(
            hpo_dir / "hp.json",
            files.annotations,
            files.genes,
            files.hgnc,
            files.mondo,
            files.french_labels,
            files.french_synonyms,
        )
    )
    from_obo = compile_kb(files)
    assert from_json.strings["term_ids"] == from_obo.strings["term_ids"]
    assert from_json.strings["term_synonyms"] == from_obo.strings["term_synonyms"]
    for key in ("ancestor_indices", "term_ic", "ann_term"):
        assert np.array_equal(from_json.arrays[key], from_obo.arrays[key])


def test_genes_to_disease_file_is_read(tmp_path: Path) -> None:
    g2d = tmp_path / "genes_to_disease.txt"
    g2d.write_text(
        "gene_id\tgene_symbol\tassociation_type\tdisease_id\tsource\n"
        "NCBIGene:11\tGENEA\tMENDELIAN\tOMIM:100001\tomim\n"
        "NCBIGene:22\tGENEB\tMENDELIAN\tOMIM:100002\tomim\n"
        "NCBIGene:22\tGENEB\tPOLYGENIC\tORPHA:900\torphanet\n"
    )
    files = toy_release_files()
    c = compile_kb(
        type(files)(
            files.ontology,
            files.annotations,
            g2d,
            files.hgnc,
            files.mondo,
            files.french_labels,
            files.french_synonyms,
        )
    )
    kb = KnowledgeBase(c.arrays, c.strings, c.manifest)
    assert kb.gene("GENEB").diseases == ("OMIM:100002", "ORPHA:900")
    assert sorted(c.strings["gene_disease_association"]) == ["MENDELIAN", "MENDELIAN", "POLYGENIC"]
