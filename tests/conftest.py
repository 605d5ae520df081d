"""Fixtures shared by every test package: the toy KB for logic, the real KB for facts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from raredx.kb import KnowledgeBase, ReleaseFiles, load_kb
from raredx.kb.compile import compile_kb

TESTS = Path(__file__).resolve().parent
TOY = TESTS / "data" / "toy"
SHARED = (TESTS.parent / ".." / "shared").resolve()


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Never touch the user's real cache: every test session gets its own RAREDX_HOME."""
    mp = pytest.MonkeyPatch()
    mp.setenv("RAREDX_HOME", str(tmp_path_factory.mktemp("raredx-home")))
    yield
    mp.undo()


def toy_release_files(directory: Path = TOY) -> ReleaseFiles:
    """ReleaseFiles of the hand-drawn toy release under tests/data/toy (see its hp.obo)."""
    return ReleaseFiles(
        ontology=directory / "hp.obo",
        annotations=directory / "phenotype.hpoa",
        genes=directory / "genes_to_phenotype.txt",
        hgnc=directory / "hgnc.tsv",
        mondo=(directory / "mondo_omim.sssom.tsv", directory / "mondo_orphanet.sssom.tsv"),
        french_labels=directory / "hp-fr.babelon.tsv",
        french_synonyms=directory / "hp-fr.synonyms.tsv",
    )


@pytest.fixture(scope="session")
def toy_kb() -> KnowledgeBase:
    """The toy KB, compiled in memory."""
    c = compile_kb(toy_release_files())
    return KnowledgeBase(c.arrays, c.strings, c.manifest)


@pytest.fixture(scope="session")
def real_kb(_isolated_home: None) -> KnowledgeBase:
    """The bundled release, compiled once per test session into the session's RAREDX_HOME."""
    return load_kb()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared (read-only development data); tests that need it skip when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not present")
    return SHARED
