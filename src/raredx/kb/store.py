"""Where compiled knowledge bases live, which one is active, and how they are loaded.

Layout under the raredx home (argument, else `$RAREDX_HOME`, else the user's cache dir):

    kb/<version>/manifest.json   provenance, counts, format version
    kb/<version>/arrays.npz      numeric arrays (uncompressed: loads without decompression)
    kb/<version>/strings.json    ids, labels, synonyms
    kb/ACTIVE                    the version used when none is asked for

A build is written to a temporary directory and renamed into place, so readers never see a
half-written KB. The bundled release compiles itself on first use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import platformdirs

from raredx._files import atomic_directory
from raredx.errors import KnowledgeBaseError
from raredx.kb.compile import FORMAT_VERSION, CompiledKb, ReleaseFiles, compile_kb
from raredx.kb.knowledge_base import KnowledgeBase

__all__ = [
    "BUNDLED_HPO_RELEASE",
    "BUNDLED_VERSION",
    "InstalledKb",
    "activate_kb",
    "build_kb",
    "bundled_release_files",
    "find_release_files",
    "installed_kbs",
    "load_kb",
    "raredx_home",
]

BUNDLED_HPO_RELEASE = "2025-01-16"
BUNDLED_VERSION = f"hpo-{BUNDLED_HPO_RELEASE}"
"""Version name of the KB compiled from the release shipped inside the package."""

_ACTIVE = "ACTIVE"


def raredx_home(home: Path | str | None = None) -> Path:
    """The raredx home: `home` if given, else `$RAREDX_HOME`, else the per-user cache dir."""
    if home is not None:
        return Path(home)
    env = os.environ.get("RAREDX_HOME")
    if env:
        return Path(env)
    return Path(platformdirs.user_cache_dir("raredx"))


def _kb_root(home: Path | str | None) -> Path:
    return raredx_home(home) / "kb"


def _data_dir() -> Path:
    return Path(str(resources.files("raredx") / "data"))


def bundled_release_files() -> ReleaseFiles:
    """The release files shipped as package data."""
    data = _data_dir()
    hpo = data / "hpo" / BUNDLED_HPO_RELEASE
    return ReleaseFiles(
        ontology=hpo / "hp.obo.gz",
        annotations=hpo / "phenotype.hpoa.gz",
        genes=hpo / "genes_to_phenotype.txt.gz",
        hgnc=data / "hgnc" / "hgnc_genes.tsv.gz",
        mondo=(
            data / "mondo" / "mondo_exactmatch_omim.sssom.tsv.gz",
            data / "mondo" / "mondo_exactmatch_orphanet.sssom.tsv.gz",
        ),
        french_labels=data / "hpo-fr" / "hp-fr.babelon.tsv.gz",
        french_synonyms=data / "hpo-fr" / "hp-fr.synonyms.tsv.gz",
    )


def _first(directory: Path, *names: str) -> Path | None:
    for name in names:
        for candidate in (directory / name, directory / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def find_release_files(hpo_dir: Path, *, hgnc: Path | None = None) -> ReleaseFiles:
    """Release files in a directory the user downloaded (hp.obo or hp.json, phenotype.hpoa,
    genes_to_phenotype.txt or genes_to_disease.txt; each may be gzipped). HGNC, MONDO and the
    French translation come from the package unless given."""
    if not hpo_dir.is_dir():
        raise KnowledgeBaseError(f"{hpo_dir}: not a directory")
    ontology = _first(hpo_dir, "hp.obo", "hp.json")
    annotations = _first(hpo_dir, "phenotype.hpoa")
    genes = _first(hpo_dir, "genes_to_phenotype.txt", "genes_to_disease.txt")
    missing = [
        name
        for name, found in (
            ("hp.obo or hp.json", ontology),
            ("phenotype.hpoa", annotations),
            ("genes_to_phenotype.txt or genes_to_disease.txt", genes),
        )
        if found is None
    ]
    if missing or ontology is None or annotations is None or genes is None:
        raise KnowledgeBaseError(f"{hpo_dir}: missing " + "; ".join(missing))
    bundled = bundled_release_files()
    return ReleaseFiles(
        ontology=ontology,
        annotations=annotations,
        genes=genes,
        hgnc=hgnc or bundled.hgnc,
        mondo=bundled.mondo,
        french_labels=bundled.french_labels,
        french_synonyms=bundled.french_synonyms,
    )


def _write(compiled: CompiledKb, root: Path) -> Path:
    target = root / str(compiled.manifest["version"])
    with atomic_directory(target) as tmp:
        np.savez(tmp / "arrays.npz", allow_pickle=False, **compiled.arrays)
        (tmp / "strings.json").write_bytes(orjson.dumps(compiled.strings))
        (tmp / "manifest.json").write_bytes(
            orjson.dumps(compiled.manifest, option=orjson.OPT_INDENT_2)
        )
    return target


def activate_kb(version: str, *, home: Path | str | None = None) -> None:
    """Make `version` the KB used when none is asked for."""
    root = _kb_root(home)
    if not (root / version / "manifest.json").is_file():
        raise KnowledgeBaseError(f"no knowledge base {version!r} in {root}")
    tmp = root / f".{_ACTIVE}.tmp"
    tmp.write_text(version + "\n", encoding="utf-8")
    tmp.replace(root / _ACTIVE)


def build_kb(
    files: ReleaseFiles,
    *,
    version: str | None = None,
    home: Path | str | None = None,
    activate: bool = True,
) -> str:
    """Compile `files` into the cache under `version` (default `hpo-<release>`); returns it."""
    compiled = compile_kb(files, version=version)
    name = str(compiled.manifest["version"])
    if "/" in name or name.startswith("."):
        raise KnowledgeBaseError(f"invalid knowledge-base version name {name!r}")
    _write(compiled, _kb_root(home))
    if activate:
        activate_kb(name, home=home)
    return name


@dataclass(frozen=True, slots=True)
class InstalledKb:
    """A compiled KB in the cache."""

    version: str
    hpo_release: str
    built_at: str
    active: bool
    current_format: bool


def _read_manifest(directory: Path) -> dict[str, Any] | None:
    try:
        data = orjson.loads((directory / "manifest.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _active_version(root: Path) -> str | None:
    try:
        text = (root / _ACTIVE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None


def installed_kbs(*, home: Path | str | None = None) -> list[InstalledKb]:
    """Every compiled KB in the cache, sorted by version."""
    root = _kb_root(home)
    if not root.is_dir():
        return []
    active = _active_version(root) or BUNDLED_VERSION
    found = []
    for directory in sorted(root.iterdir()):
        if directory.name.startswith(".") or not directory.is_dir():
            continue
        manifest = _read_manifest(directory)
        if manifest is None:
            continue
        found.append(
            InstalledKb(
                version=directory.name,
                hpo_release=str(manifest.get("hpo_release", "")),
                built_at=str(manifest.get("built_at", "")),
                active=directory.name == active,
                current_format=manifest.get("format") == FORMAT_VERSION,
            )
        )
    return found


def _read(directory: Path, manifest: dict[str, Any]) -> KnowledgeBase:
    try:
        with np.load(directory / "arrays.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        strings = orjson.loads((directory / "strings.json").read_bytes())
    except (OSError, ValueError, orjson.JSONDecodeError) as exc:
        raise KnowledgeBaseError(f"{directory}: unreadable knowledge base ({exc})") from None
    for arr in arrays.values():
        arr.setflags(write=False)
    return KnowledgeBase(arrays, strings, manifest)


def load_kb(version: str | None = None, *, home: Path | str | None = None) -> KnowledgeBase:
    """Load a compiled KB: `version`, else the active one, else the bundled release.

    The bundled release is compiled on first use (a few seconds) and whenever the cache was
    written by an incompatible raredx; user builds must be rebuilt with `raredx kb build`.
    """
    root = _kb_root(home)
    wanted = version or _active_version(root) or BUNDLED_VERSION
    directory = root / wanted
    manifest = _read_manifest(directory)
    if manifest is None or manifest.get("format") != FORMAT_VERSION:
        if wanted != BUNDLED_VERSION:
            available = ", ".join(k.version for k in installed_kbs(home=home)) or "none"
            state = "was built by an incompatible raredx" if manifest else "is not installed"
            raise KnowledgeBaseError(
                f"knowledge base {wanted!r} {state} (installed: {available}); "
                "build it with `raredx kb build --hpo DIR`"
            )
        build_kb(bundled_release_files(), version=BUNDLED_VERSION, home=home, activate=False)
        manifest = _read_manifest(directory)
        if manifest is None:
            raise KnowledgeBaseError(f"{directory}: compiled knowledge base has no manifest")
    return _read(directory, manifest)
