"""Malformed, truncated, empty and hostile release files give clear KnowledgeBaseErrors."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from raredx.errors import KnowledgeBaseError
from raredx.kb import build_kb, find_release_files
from raredx.kb.compile import compile_kb
from raredx.kb.sources import read_hgnc, read_hpoa, read_obo, read_ontology
from tests.conftest import TOY, toy_release_files


def _release_dir(tmp_path: Path) -> Path:
    d = tmp_path / "release"
    d.mkdir()
    for name in ("hp.obo", "phenotype.hpoa", "genes_to_phenotype.txt"):
        shutil.copy(TOY / name, d / name)
    return d


def test_empty_obo(tmp_path: Path) -> None:
    p = tmp_path / "hp.obo"
    p.write_text("")
    with pytest.raises(KnowledgeBaseError, match="no HP terms"):
        read_obo(p)


def test_garbage_obo_names_the_line(tmp_path: Path) -> None:
    p = tmp_path / "hp.obo"
    p.write_text("format-version: 1.2\n\n[Term]\nid: HP:0000001\nthis line has no colon\n")
    with pytest.raises(KnowledgeBaseError, match=r"hp.obo:5"):
        read_obo(p)


def test_truncated_gzip(tmp_path: Path) -> None:
    data = gzip.compress((TOY / "hp.obo").read_bytes())
    p = tmp_path / "hp.obo.gz"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises((KnowledgeBaseError, EOFError, OSError)):
        read_ontology(p)


def test_cycle_is_rejected(tmp_path: Path) -> None:
    text = (
        (TOY / "hp.obo").read_text().replace("name: All\n", "name: All\nis_a: HP:0001873 ! loop\n")
    )
    files = toy_release_files()
    (tmp_path / "hp.obo").write_text(text)
    with pytest.raises(KnowledgeBaseError, match="cycle"):
        compile_kb(
            type(files)(
                tmp_path / "hp.obo",
                *list(
                    files.__getattribute__(f)
                    for f in (
                        "annotations",
                        "genes",
                        "hgnc",
                        "mondo",
                        "french_labels",
                        "french_synonyms",
                    )
                ),
            )
        )


def test_hpoa_wrong_header_and_short_rows(tmp_path: Path) -> None:
    p = tmp_path / "phenotype.hpoa"
    p.write_text("a\tb\tc\td\n1\t2\t3\t4\n")
    with pytest.raises(KnowledgeBaseError, match="unexpected header"):
        read_hpoa(p)
    lines = (TOY / "phenotype.hpoa").read_text().splitlines()
    lines[6] = "OMIM:1\tname\t\tHP:0001873"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(KnowledgeBaseError, match=r"phenotype.hpoa:7: expected 12"):
        read_hpoa(p)
    p.write_text("#version: x\n")
    with pytest.raises(KnowledgeBaseError, match="no annotation rows"):
        read_hpoa(p)


def test_hgnc_missing_columns(tmp_path: Path) -> None:
    p = tmp_path / "hgnc.tsv"
    p.write_text("id\tname\nHGNC:1\tx\n")
    with pytest.raises(KnowledgeBaseError, match="missing column"):
        read_hgnc(p)


def test_find_release_files_reports_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match="not a directory"):
        find_release_files(tmp_path / "nope")
    d = tmp_path / "partial"
    d.mkdir()
    (d / "hp.obo").write_text("x")
    with pytest.raises(KnowledgeBaseError, match=r"phenotype.hpoa.*genes_to_phenotype"):
        find_release_files(d)


def test_failed_build_leaves_existing_kbs_intact(tmp_path: Path) -> None:
    home = tmp_path / "home"
    good = build_kb(toy_release_files(), home=home)
    bad_dir = _release_dir(tmp_path)
    (bad_dir / "phenotype.hpoa").write_text("nonsense\n")
    with pytest.raises(KnowledgeBaseError):
        build_kb(find_release_files(bad_dir), home=home)
    entries = sorted(p.name for p in (home / "kb").iterdir())
    assert entries == ["ACTIVE", good]  # no half-written directory left behind


def test_user_release_in_gzip_builds(tmp_path: Path) -> None:
    d = _release_dir(tmp_path)
    for p in list(d.iterdir()):
        p.with_name(p.name + ".gz").write_bytes(gzip.compress(p.read_bytes()))
        p.unlink()
    files = find_release_files(d)
    assert files.ontology.name == "hp.obo.gz"
    version = build_kb(files, home=tmp_path / "home", version="gz-build")
    assert version == "gz-build"
