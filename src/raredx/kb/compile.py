"""Compile raw release files into the arrays and string tables of a knowledge base.

The result is plain data (numpy arrays, lists and dicts of strings) that `store` writes to the
cache and `KnowledgeBase` reads back; nothing here is needed at load time.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from raredx import __version__
from raredx.errors import KnowledgeBaseError
from raredx.kb import sources as src
from raredx.kb.model import SourceInfo

__all__ = [
    "FORMAT_VERSION",
    "FREQUENCY_TERMS",
    "CompiledKb",
    "ReleaseFiles",
    "compile_kb",
    "parse_frequency",
]

FORMAT_VERSION = 2
"""Bumped whenever the cache layout or its derivation changes; older caches are recompiled."""

INHERITANCE_ROOT = "HP:0000005"
PHENOTYPE_ROOT = "HP:0000118"

FREQUENCY_TERMS: dict[str, float] = {
    "HP:0040280": 1.0,  # Obligate (100%)
    "HP:0040281": 0.895,  # Very frequent (99-80%): midpoint
    "HP:0040282": 0.545,  # Frequent (79-30%)
    "HP:0040283": 0.17,  # Occasional (29-5%)
    "HP:0040284": 0.025,  # Very rare (4-1%)
    "HP:0040285": 0.0,  # Excluded (0%)
}
"""Frequency classes of the HPO 'Frequency' subtree, as the midpoint of their stated range."""

_FRACTION = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")

_HPO_LICENCE = "HPO licence (attribution, unaltered)"


def parse_frequency(text: str) -> tuple[float, int, int]:
    """Frequency as (fraction in [0, 1] or NaN if unstated, n, m); n = m = -1 unless "n/m".

    >>> parse_frequency("3/4")
    (0.75, 3, 4)
    >>> parse_frequency("HP:0040281")[0]
    0.895
    """
    text = text.strip()
    if not text:
        return math.nan, -1, -1
    m = _FRACTION.match(text)
    if m:
        n, d = int(m.group(1)), int(m.group(2))
        if d == 0 or n > d:
            raise ValueError(f"frequency {text!r} is not a fraction n/m with 0 <= n <= m, m > 0")
        return n / d, n, d
    m = _PERCENT.match(text)
    if m:
        value = float(m.group(1)) / 100.0
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"frequency {text!r} is outside 0-100%")
        return value, -1, -1
    if text in FREQUENCY_TERMS:
        return FREQUENCY_TERMS[text], -1, -1
    raise ValueError(f"unknown frequency {text!r}")


@dataclass(frozen=True, slots=True)
class ReleaseFiles:
    """Local files one KB is compiled from. `genes` is genes_to_phenotype or genes_to_disease."""

    ontology: Path
    annotations: Path
    genes: Path
    hgnc: Path
    mondo: tuple[Path, ...]
    french_labels: Path | None
    french_synonyms: Path | None


@dataclass(frozen=True, slots=True)
class CompiledKb:
    """Everything a KB cache holds: numeric arrays, string tables, and the manifest."""

    arrays: dict[str, np.ndarray]
    strings: dict[str, Any]
    manifest: dict[str, Any]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _csr(rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    indices = np.fromiter((i for r in rows for i in r), dtype=np.int32, count=int(indptr[-1]))
    return indptr, indices


def _ancestor_lists(parents: list[list[int]]) -> list[list[int]]:
    """Ancestors of every term, including the term itself, sorted; fails on cycles."""
    n = len(parents)
    result: list[list[int] | None] = [None] * n
    state = [0] * n  # 0 new, 1 on stack, 2 done
    for start in range(n):
        if result[start] is not None:
            continue
        stack: list[tuple[int, int]] = [(start, 0)]
        state[start] = 1
        while stack:
            node, i = stack[-1]
            if i < len(parents[node]):
                stack[-1] = (node, i + 1)
                p = parents[node][i]
                if state[p] == 1:
                    raise KnowledgeBaseError("the ontology's is_a graph has a cycle")
                if state[p] == 0:
                    state[p] = 1
                    stack.append((p, 0))
                continue
            acc = {node}
            for p in parents[node]:
                acc.update(result[p] or ())
            result[node] = sorted(acc)
            state[node] = 2
            stack.pop()
    return [r or [] for r in result]


def compile_kb(files: ReleaseFiles, *, version: str | None = None) -> CompiledKb:
    """Compile `files` into a KB. `version` defaults to `hpo-<annotation release>`."""
    ontology = src.read_ontology(files.ontology)
    hpoa_version, hpoa_rows = src.read_hpoa(files.annotations)
    gene_name = files.genes.name
    gene_links = (
        src.read_genes_to_disease(files.genes)
        if "genes_to_disease" in gene_name
        else src.read_genes_to_phenotype(files.genes)
    )
    hgnc = src.read_hgnc(files.hgnc)
    warnings: list[str] = []

    # --- terms -------------------------------------------------------------------------------
    live = [rt for rt in ontology.terms if not rt.obsolete]
    term_index = {rt.id: i for i, rt in enumerate(live)}
    alt_ids: dict[str, str] = {}
    for rt in live:
        for alt in rt.alt_ids:
            alt_ids[alt] = rt.id
    obsolete: dict[str, str] = {}
    for rt in ontology.terms:
        if not rt.obsolete:
            continue
        target = rt.replaced_by if rt.replaced_by in term_index else None
        if target is None and len(rt.consider) == 1 and rt.consider[0] in term_index:
            target = rt.consider[0]
        obsolete[rt.id] = target or ""
        for alt in rt.alt_ids:
            obsolete.setdefault(alt, target or "")
    parents = [sorted({term_index[p] for p in rt.parents if p in term_index}) for rt in live]
    ancestors = _ancestor_lists(parents)
    n_terms = len(live)

    # --- French --------------------------------------------------------------------------------
    fr_labels = src.read_french_labels(files.french_labels) if files.french_labels else {}
    fr_syns = src.read_french_synonyms(files.french_synonyms) if files.french_synonyms else {}

    def primary(tid: str) -> str | None:
        if tid in term_index:
            return tid
        if tid in alt_ids:
            return alt_ids[tid]
        return obsolete.get(tid) or None

    # --- diseases and annotations ---------------------------------------------------------------
    disease_index: dict[str, int] = {}
    disease_names: list[str] = []
    ann: dict[str, list[Any]] = defaultdict(list)
    inheritance: set[tuple[int, int]] = set()
    course: set[tuple[int, int]] = set()
    references: dict[str, int] = {}
    evidences: dict[str, int] = {}
    modifier_sets: dict[str, int] = {"": 0}
    unknown_terms: set[str] = set()
    bad_freq = 0
    inheritance_root = term_index.get(INHERITANCE_ROOT)
    for row in hpoa_rows:
        d = disease_index.get(row.disease_id)
        if d is None:
            d = disease_index[row.disease_id] = len(disease_names)
            disease_names.append(row.disease_name)
        tid = primary(row.hpo_id)
        if tid is None:
            unknown_terms.add(row.hpo_id)
            continue
        t = term_index[tid]
        if row.aspect == "I" or (inheritance_root is not None and inheritance_root in ancestors[t]):
            if not row.negated:
                inheritance.add((d, t))
            continue
        if row.aspect == "C":
            if not row.negated:
                course.add((d, t))
            continue
        try:
            freq, n, m = parse_frequency(row.frequency)
        except ValueError:
            bad_freq += 1
            freq, n, m = math.nan, -1, -1
        onset = primary(row.onset) if row.onset else None
        mods = ";".join(x for x in (primary(s.strip()) for s in row.modifier.split(";")) if x)
        ann["disease"].append(d)
        ann["term"].append(t)
        ann["freq"].append(freq)
        ann["num"].append(n)
        ann["den"].append(m)
        ann["onset"].append(term_index[onset] if onset else -1)
        ann["sex"].append({"MALE": 1, "FEMALE": 2}.get(row.sex, 0))
        ann["negated"].append(row.negated)
        ann["modifiers"].append(modifier_sets.setdefault(mods, len(modifier_sets)))
        ann["reference"].append(references.setdefault(row.reference, len(references)))
        ann["evidence"].append(evidences.setdefault(row.evidence, len(evidences)))
    if unknown_terms:
        warnings.append(
            f"{len(unknown_terms)} annotation term ids are not in the ontology and were skipped: "
            + ", ".join(sorted(unknown_terms)[:10])
        )
    if bad_freq:
        warnings.append(f"{bad_freq} annotations had an unreadable frequency (kept as unstated)")
    disease_ids = list(disease_index)
    n_diseases = len(disease_ids)

    # --- information content from positive phenotype annotations ------------------------------
    ann_d = np.asarray(ann["disease"], dtype=np.int32)
    ann_t = np.asarray(ann["term"], dtype=np.int32)
    ann_neg = np.asarray(ann["negated"], dtype=bool)
    anc_indptr, anc_indices = _csr(ancestors)
    anc = sp.csr_matrix(
        (np.ones(len(anc_indices), dtype=np.float32), anc_indices, anc_indptr),
        shape=(n_terms, n_terms),
    )
    pos = ~ann_neg
    annotated = sp.csr_matrix(
        (np.ones(int(pos.sum()), dtype=np.float32), (ann_d[pos], ann_t[pos])),
        shape=(n_diseases, n_terms),
    )
    closed = (annotated @ anc) > 0
    disease_count = np.asarray(closed.sum(axis=0)).ravel().astype(np.int32)
    # Smoothed so unannotated terms get a finite, maximal IC and the root gets ~0.
    ic = -np.log((disease_count + 1.0) / (n_diseases + 1.0))

    # --- genes ---------------------------------------------------------------------------------
    by_ncbi = {hg.ncbi_gene_id: i for i, hg in enumerate(hgnc) if hg.ncbi_gene_id}
    by_symbol = {hg.symbol: i for i, hg in enumerate(hgnc)}
    by_previous: dict[str, set[int]] = defaultdict(set)
    for i, hg in enumerate(hgnc):
        for symbol in hg.previous:
            by_previous[symbol].add(i)
    gd: set[tuple[int, int]] = set()
    gd_assoc: dict[tuple[int, int], str] = {}
    unmapped_genes: set[str] = set()
    for link in gene_links:
        if link.symbol in ("", "-") and link.ncbi_gene_id not in by_ncbi:
            continue  # placeholder rows without a gene
        g = by_ncbi.get(link.ncbi_gene_id)
        if g is None:
            g = by_symbol.get(link.symbol)
        if g is None and len(by_previous.get(link.symbol, ())) == 1:
            g = next(iter(by_previous[link.symbol]))
        if g is None:
            unmapped_genes.add(link.symbol)
            continue
        d = disease_index.get(link.disease_id)
        if d is None:
            continue
        gd.add((g, d))
        if link.association:
            gd_assoc[(g, d)] = link.association
    if unmapped_genes:
        warnings.append(
            f"{len(unmapped_genes)} gene symbols of the HPO gene file are not in HGNC: "
            + ", ".join(sorted(unmapped_genes)[:10])
        )
    gd_sorted = sorted(gd)

    # --- equivalent diseases across OMIM / ORPHA via MONDO ------------------------------------
    mondo_versions: list[str] = []
    mondo_links: dict[str, list[int]] = defaultdict(list)
    for path in files.mondo:
        mversion, pairs = src.read_sssom(path)
        mondo_versions.append(mversion)
        for mondo, obj in pairs:
            d = disease_index.get(obj)
            if d is not None:
                mondo_links[mondo].append(d)
    group = list(range(n_diseases))
    members: dict[int, set[int]] = {i: {i} for i in range(n_diseases)}
    prefixes = [did.split(":", 1)[0] for did in disease_ids]

    def find(x: int) -> int:
        while group[x] != x:
            group[x] = group[group[x]]
            x = group[x]
        return x

    for ds in (mondo_links[m] for m in sorted(mondo_links)):
        for d in ds[1:]:
            a, b = find(ds[0]), find(d)
            if a == b:
                continue
            # Never merge two entries of one source: they are distinct diseases in that source.
            pa = {prefixes[i] for i in members[a]}
            pb = {prefixes[i] for i in members[b]}
            if pa & pb:
                continue
            group[b] = a
            members[a] |= members.pop(b)
    roots = [find(i) for i in range(n_diseases)]
    root_ids = {r: k for k, r in enumerate(sorted(set(roots)))}
    disease_group = np.asarray([root_ids[r] for r in roots], dtype=np.int32)
    # A MONDO id names a group only when every KB entry it maps to ended up in that group.
    group_mondo: list[list[str]] = [[] for _ in root_ids]
    for mondo, ds in sorted(mondo_links.items()):
        groups = {int(disease_group[d]) for d in ds}
        if len(groups) == 1:
            group_mondo[groups.pop()].append(mondo)

    inh = sorted(inheritance)
    crs = sorted(course)
    arrays: dict[str, np.ndarray] = {
        "parent_indptr": _csr(parents)[0],
        "parent_indices": _csr(parents)[1],
        "ancestor_indptr": anc_indptr,
        "ancestor_indices": anc_indices,
        "term_ic": ic.astype(np.float64),
        "term_disease_count": disease_count,
        "ann_disease": ann_d,
        "ann_term": ann_t,
        "ann_freq": np.asarray(ann["freq"], dtype=np.float64),
        "ann_num": np.asarray(ann["num"], dtype=np.int32),
        "ann_den": np.asarray(ann["den"], dtype=np.int32),
        "ann_onset": np.asarray(ann["onset"], dtype=np.int32),
        "ann_sex": np.asarray(ann["sex"], dtype=np.int8),
        "ann_negated": ann_neg,
        "ann_modifiers": np.asarray(ann["modifiers"], dtype=np.int32),
        "ann_reference": np.asarray(ann["reference"], dtype=np.int32),
        "ann_evidence": np.asarray(ann["evidence"], dtype=np.int16),
        "inheritance_disease": np.asarray([d for d, _ in inh], dtype=np.int32),
        "inheritance_term": np.asarray([t for _, t in inh], dtype=np.int32),
        "course_disease": np.asarray([d for d, _ in crs], dtype=np.int32),
        "course_term": np.asarray([t for _, t in crs], dtype=np.int32),
        "disease_group": disease_group,
        "gene_disease_gene": np.asarray([g for g, _ in gd_sorted], dtype=np.int32),
        "gene_disease_disease": np.asarray([d for _, d in gd_sorted], dtype=np.int32),
    }
    strings: dict[str, Any] = {
        "term_ids": [t.id for t in live],
        "term_labels": [t.label for t in live],
        "term_definitions": [t.definition for t in live],
        "term_synonyms": [_usable_synonyms(rt.synonyms) for rt in live],
        "term_alt_ids": [t.alt_ids for t in live],
        "term_labels_fr": [fr_labels.get(rt.id, [""])[0] for rt in live],
        "term_synonyms_fr": [_french_synonyms(rt.id, fr_labels, fr_syns) for rt in live],
        "alt_ids": alt_ids,
        "obsolete": obsolete,
        "disease_ids": disease_ids,
        "disease_names": disease_names,
        "group_mondo": group_mondo,
        "references": list(references),
        "evidences": list(evidences),
        "modifier_sets": list(modifier_sets),
        "gene_hgnc_ids": [g.hgnc_id for g in hgnc],
        "gene_symbols": [g.symbol for g in hgnc],
        "gene_names": [g.name for g in hgnc],
        "gene_locus_types": [g.locus_type for g in hgnc],
        "gene_aliases": [list(g.aliases) for g in hgnc],
        "gene_previous": [list(g.previous) for g in hgnc],
        "gene_ncbi_ids": [g.ncbi_gene_id for g in hgnc],
        "gene_ensembl_ids": [g.ensembl_gene_id for g in hgnc],
        "gene_disease_association": [gd_assoc.get(p, "") for p in gd_sorted],
    }

    hpo_release = hpoa_version if hpoa_version != "unknown" else ontology.version
    name = version or f"hpo-{hpo_release}"
    sources = [
        SourceInfo(
            "HPO ontology",
            ontology.version,
            _HPO_LICENCE,
            files.ontology.name,
            _sha256(files.ontology),
        ),
        SourceInfo(
            "HPO disease annotations",
            hpoa_version,
            _HPO_LICENCE,
            files.annotations.name,
            _sha256(files.annotations),
        ),
        SourceInfo(
            "HPO gene-disease links",
            hpo_release,
            _HPO_LICENCE,
            files.genes.name,
            _sha256(files.genes),
        ),
        SourceInfo(
            "HGNC gene table", "2025-06", "CC0 (HGNC)", files.hgnc.name, _sha256(files.hgnc)
        ),
    ]
    for path, mversion in zip(files.mondo, mondo_versions, strict=True):
        sources.append(
            SourceInfo("MONDO exact mappings", mversion, "CC-BY 4.0", path.name, _sha256(path))
        )
    for fr_path in (files.french_labels, files.french_synonyms):
        if fr_path is not None:
            sources.append(
                SourceInfo(
                    "HPO French translation",
                    "hpo-translations@62f1d25",
                    _HPO_LICENCE,
                    fr_path.name,
                    _sha256(fr_path),
                )
            )
    prefix_counts: dict[str, int] = defaultdict(int)
    for p in prefixes:
        prefix_counts[p] += 1
    manifest: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "version": name,
        "hpo_release": hpo_release,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "built_by": f"raredx {__version__}",
        "sources": [_source_dict(s) for s in sources],
        "counts": {
            "terms": n_terms,
            "obsolete_terms": sum(1 for t in ontology.terms if t.obsolete),
            "alt_ids": len(alt_ids),
            "terms_with_french_label": sum(1 for t in live if t.id in fr_labels),
            "diseases": n_diseases,
            "diseases_by_source": dict(sorted(prefix_counts.items())),
            "disease_groups": len(root_ids),
            "phenotype_annotations": int(pos.sum()),
            "negated_annotations": int(ann_neg.sum()),
            "inheritance_annotations": len(inh),
            "genes": len(hgnc),
            "genes_with_diseases": len({g for g, _ in gd_sorted}),
            "gene_disease_links": len(gd_sorted),
        },
        "warnings": warnings,
    }
    return CompiledKb(arrays=arrays, strings=strings, manifest=manifest)


def _usable_synonyms(synonyms: list[tuple[str, str]]) -> list[str]:
    """EXACT and RELATED synonyms. BROAD and NARROW ones name another concept and obsolete
    synonyms are discarded wording: matching them would put words in the clinician's mouth."""
    out: list[str] = []
    for text, scope in synonyms:
        kind = scope.split()
        usable = kind[:1] in (["EXACT"], ["RELATED"]) and "obsolete_synonym" not in kind[1:]
        if usable and text not in out:
            out.append(text)
    return out


def _french_synonyms(
    term_id: str, labels: dict[str, list[str]], synonyms: dict[str, list[str]]
) -> list[str]:
    """Extra official labels first, then synonyms; without repeating the label."""
    names = labels.get(term_id, [])
    out: list[str] = []
    for name in names[1:] + synonyms.get(term_id, []):
        if name not in out and name not in names[:1]:
            out.append(name)
    return out


def _source_dict(s: SourceInfo) -> dict[str, str]:
    return {
        "name": s.name,
        "version": s.version,
        "licence": s.licence,
        "file": s.file,
        "sha256": s.sha256,
    }
