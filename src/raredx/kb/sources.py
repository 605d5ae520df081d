"""Readers for the raw release files a knowledge base is compiled from.

Each reader takes a local path (plain or gzip-compressed) and returns plain records; none of them
touches the network. Malformed files raise `KnowledgeBaseError` naming the file and line.
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from raredx.errors import KnowledgeBaseError

__all__ = [
    "GeneDiseaseLink",
    "HgncGene",
    "HpoaRow",
    "OntologyRelease",
    "RawTerm",
    "open_text",
    "read_french_labels",
    "read_french_synonyms",
    "read_genes_to_disease",
    "read_genes_to_phenotype",
    "read_hgnc",
    "read_hpoa",
    "read_obo",
    "read_obographs_json",
    "read_ontology",
    "read_sssom",
]


def open_text(path: Path) -> io.TextIOBase:
    """Open `path` as UTF-8 text, transparently decompressing `.gz` files."""
    if not path.exists():
        raise KnowledgeBaseError(f"{path}: file not found")
    with path.open("rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return path.open("r", encoding="utf-8")


@dataclass(slots=True)
class RawTerm:
    """One ontology term as read from the file, before indexing."""

    id: str
    label: str = ""
    definition: str = ""
    # (text, "SCOPE [type]"), e.g. ("Low platelet count", "EXACT layperson")
    synonyms: list[tuple[str, str]] = field(default_factory=list)
    alt_ids: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    obsolete: bool = False
    replaced_by: str | None = None
    consider: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OntologyRelease:
    """The terms of one HPO release and its version string (e.g. "2025-01-16")."""

    version: str
    terms: tuple[RawTerm, ...]


_QUOTED = re.compile(r'^"((?:[^"\\]|\\.)*)"\s*(.*)$')
_HP_ID = re.compile(r"^HP:\d{7}$")


def _unescape(text: str) -> str:
    return text.replace('\\"', '"').replace("\\n", " ").replace("\\\\", "\\")


def read_obo(path: Path) -> OntologyRelease:
    """Read an OBO 1.2/1.4 file; keeps only `[Term]` stanzas with HP ids."""
    version = ""
    terms: list[RawTerm] = []
    current: RawTerm | None = None
    in_term = False
    with open_text(path) as fh:
        for lineno, raw in enumerate(fh, start=1):
            line = raw.strip()
            if not line or line.startswith("!"):
                continue
            if line.startswith("["):
                if current is not None:
                    terms.append(current)
                current = None
                in_term = line == "[Term]"
                continue
            key, sep, value = line.partition(":")
            if not sep:
                raise KnowledgeBaseError(
                    f"{path}:{lineno}: not an OBO tag-value line: {line[:80]!r}"
                )
            value = value.strip()
            if not in_term:
                if key == "data-version":
                    version = value.rsplit("/", 1)[-1]
                continue
            if key == "id":
                current = RawTerm(id=value)
                continue
            if current is None:
                raise KnowledgeBaseError(f"{path}:{lineno}: tag {key!r} before the term's id")
            value = value.split(" ! ", 1)[0].strip()
            if key == "name":
                current.label = value
            elif key == "def":
                m = _QUOTED.match(value)
                current.definition = _unescape(m.group(1)) if m else value
            elif key == "synonym":
                m = _QUOTED.match(value)
                if m:
                    rest = [w for w in m.group(2).split() if not w.startswith("[")]
                    scope = " ".join(rest[:2]) if rest else "RELATED"
                    current.synonyms.append((_unescape(m.group(1)), scope))
            elif key == "alt_id":
                current.alt_ids.append(value)
            elif key == "is_a":
                current.parents.append(value.split()[0])
            elif key == "is_obsolete":
                current.obsolete = value == "true"
            elif key == "replaced_by":
                current.replaced_by = value.split()[0]
            elif key == "consider":
                current.consider.append(value.split()[0])
    if current is not None:
        terms.append(current)
    hp_terms = tuple(t for t in terms if _HP_ID.match(t.id))
    if not hp_terms:
        raise KnowledgeBaseError(f"{path}: no HP terms found; is this an HPO OBO file?")
    return OntologyRelease(version=version or "unknown", terms=hp_terms)


def _curie(iri: str) -> str:
    """`http://purl.obolibrary.org/obo/HP_0000118` -> `HP:0000118`."""
    tail = iri.rsplit("/", 1)[-1]
    return tail.replace("_", ":", 1) if "_" in tail and ":" not in tail else tail


def read_obographs_json(path: Path) -> OntologyRelease:
    """Read an OBO Graphs JSON file (`hp.json`)."""
    with open_text(path) as fh:
        try:
            doc = orjson.loads(fh.read())
        except orjson.JSONDecodeError as exc:
            raise KnowledgeBaseError(f"{path}: not valid JSON ({exc})") from None
    try:
        graph = doc["graphs"][0]
    except (KeyError, IndexError, TypeError):
        raise KnowledgeBaseError(f"{path}: no 'graphs' list; is this an OBO Graphs file?") from None
    version = ""
    meta_g = graph.get("meta") or {}
    if isinstance(meta_g.get("version"), str):
        version = meta_g["version"].rstrip("/").split("/")[-2]
    by_id: dict[str, RawTerm] = {}
    for node in graph.get("nodes", []):
        if node.get("type", "CLASS") != "CLASS" or "id" not in node:
            continue
        tid = _curie(node["id"])
        if not _HP_ID.match(tid):
            continue
        meta = node.get("meta") or {}
        term = RawTerm(id=tid, label=node.get("lbl", ""))
        term.definition = (meta.get("definition") or {}).get("val", "")
        for syn in meta.get("synonyms", []):
            scope = (
                str(syn.get("pred", "hasRelatedSynonym"))
                .replace("has", "")
                .replace("Synonym", "")
                .upper()
            )
            term.synonyms.append((syn.get("val", ""), scope))
        term.obsolete = bool(meta.get("deprecated", False))
        for bpv in meta.get("basicPropertyValues", []):
            pred = bpv.get("pred", "")
            if pred.endswith("hasAlternativeId"):
                term.alt_ids.append(bpv.get("val", ""))
            elif pred.endswith("IAO_0100001"):
                term.replaced_by = _curie(bpv.get("val", ""))
            elif pred.endswith("consider"):
                term.consider.append(_curie(bpv.get("val", "")))
        by_id[tid] = term
    for edge in graph.get("edges", []):
        if edge.get("pred") == "is_a":
            child, parent = _curie(edge["sub"]), _curie(edge["obj"])
            if child in by_id:
                by_id[child].parents.append(parent)
    if not by_id:
        raise KnowledgeBaseError(f"{path}: no HP terms found in the OBO Graphs JSON")
    return OntologyRelease(version=version or "unknown", terms=tuple(by_id.values()))


def read_ontology(path: Path) -> OntologyRelease:
    """Read `hp.obo` or `hp.json` (optionally gzipped), chosen by file name."""
    name = path.name.removesuffix(".gz")
    if name.endswith(".json"):
        return read_obographs_json(path)
    return read_obo(path)


@dataclass(frozen=True, slots=True)
class HpoaRow:
    """One line of `phenotype.hpoa` (columns as in the HPO annotation format 2.0)."""

    disease_id: str
    disease_name: str
    negated: bool
    hpo_id: str
    reference: str
    evidence: str
    onset: str
    frequency: str
    sex: str
    modifier: str
    aspect: str


def read_hpoa(path: Path) -> tuple[str, list[HpoaRow]]:
    """Read `phenotype.hpoa`; returns (release version from the `#version` header, rows)."""
    version = ""
    rows: list[HpoaRow] = []
    with open_text(path) as fh:
        header: list[str] | None = None
        for lineno, line in enumerate(fh, start=1):
            line = line.rstrip("\n")
            if line.startswith("#"):
                if line.startswith("#version:"):
                    version = line.split(":", 1)[1].strip()
                continue
            if not line:
                continue
            cols = line.split("\t")
            if header is None:
                header = cols
                if cols[:4] != ["database_id", "disease_name", "qualifier", "hpo_id"]:
                    raise KnowledgeBaseError(
                        f"{path}:{lineno}: unexpected header {cols[:4]}; expected phenotype.hpoa"
                    )
                continue
            if len(cols) < 11:
                raise KnowledgeBaseError(
                    f"{path}:{lineno}: expected 12 tab-separated columns, found {len(cols)}"
                )
            rows.append(
                HpoaRow(
                    disease_id=cols[0],
                    disease_name=cols[1],
                    negated=cols[2] == "NOT",
                    hpo_id=cols[3],
                    reference=cols[4],
                    evidence=cols[5],
                    onset=cols[6],
                    frequency=cols[7],
                    sex=cols[8].upper(),
                    modifier=cols[9],
                    aspect=cols[10],
                )
            )
    if not rows:
        raise KnowledgeBaseError(f"{path}: no annotation rows")
    return version or "unknown", rows


@dataclass(frozen=True, slots=True)
class GeneDiseaseLink:
    """A gene (NCBI Gene id and symbol as written in the HPO files) linked to a disease."""

    ncbi_gene_id: str
    symbol: str
    disease_id: str
    association: str  # MENDELIAN, POLYGENIC, UNKNOWN or "" when the file does not say


def _tsv_columns(
    path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> Iterator[tuple[int, list[str]]]:
    """(line number, values of `required` then `optional` columns) for each data row of a TSV
    whose first non-comment line is the header. Missing optional columns read as ""."""
    with open_text(path) as fh:
        positions: list[int] | None = None
        width = 0
        for lineno, line in enumerate(fh, start=1):
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\r\n").split("\t")
            if positions is None:
                missing = [c for c in required if c not in cols]
                if missing:
                    raise KnowledgeBaseError(
                        f"{path}:{lineno}: missing column(s) {', '.join(missing)} in the header"
                    )
                positions = [cols.index(c) if c in cols else -1 for c in required + optional]
                width = max(positions) + 1
                continue
            if len(cols) < width:
                cols += [""] * (width - len(cols))
            yield lineno, [cols[i].strip() if i >= 0 else "" for i in positions]


def read_genes_to_phenotype(path: Path) -> list[GeneDiseaseLink]:
    """Distinct gene-disease pairs from `genes_to_phenotype.txt`."""
    seen: dict[tuple[str, str], GeneDiseaseLink] = {}
    for _, (gene_id, symbol, disease) in _tsv_columns(
        path, ("ncbi_gene_id", "gene_symbol", "disease_id")
    ):
        key = (gene_id, disease)
        if key not in seen:
            seen[key] = GeneDiseaseLink(gene_id, symbol, disease, "")
    return list(seen.values())


def read_genes_to_disease(path: Path) -> list[GeneDiseaseLink]:
    """Gene-disease pairs from `genes_to_disease.txt` (`gene_id` is `NCBIGene:123`)."""
    links: dict[tuple[str, str], GeneDiseaseLink] = {}
    for _, (gene_id, symbol, assoc, disease) in _tsv_columns(
        path, ("gene_id", "gene_symbol", "association_type", "disease_id")
    ):
        gene_id = gene_id.removeprefix("NCBIGene:")
        links.setdefault((gene_id, disease), GeneDiseaseLink(gene_id, symbol, disease, assoc))
    return list(links.values())


@dataclass(frozen=True, slots=True)
class HgncGene:
    """One row of the HGNC gene table."""

    hgnc_id: str
    symbol: str
    name: str
    locus_type: str
    aliases: tuple[str, ...]
    previous: tuple[str, ...]
    ncbi_gene_id: str
    ensembl_gene_id: str
    omim_gene_id: str


def _split_symbols(value: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in re.split(r"[|,]", value) if s.strip())


def read_hgnc(path: Path) -> list[HgncGene]:
    """Approved genes of the HGNC table (`hgnc_id`, `symbol`, alias/previous symbols, ids)."""
    genes: list[HgncGene] = []
    optional = (
        "status",
        "name",
        "locus_type",
        "alias_symbol",
        "prev_symbol",
        "entrez_id",
        "ensembl_gene_id",
        "omim_id",
    )
    for _, values in _tsv_columns(path, ("hgnc_id", "symbol"), optional):
        hgnc_id, symbol, status, name, locus, alias, prev, ncbi, ensembl, omim = values
        if status not in ("Approved", "") or not hgnc_id or not symbol:
            continue
        genes.append(
            HgncGene(
                hgnc_id=hgnc_id,
                symbol=symbol,
                name=name,
                locus_type=locus,
                aliases=_split_symbols(alias),
                previous=_split_symbols(prev),
                ncbi_gene_id=ncbi,
                ensembl_gene_id=ensembl,
                omim_gene_id=omim,
            )
        )
    if not genes:
        raise KnowledgeBaseError(f"{path}: no genes read")
    return genes


def read_sssom(path: Path) -> tuple[str, list[tuple[str, str]]]:
    """(mapping set version, [(subject MONDO id, object id)]) for exact matches of an SSSOM file.

    Orphanet objects are normalised to the `ORPHA:` prefix that HPO annotations use.
    """
    version = ""
    with open_text(path) as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            if "mapping_set_version:" in line:
                version = line.split("mapping_set_version:", 1)[1].strip()
    pairs: list[tuple[str, str]] = []
    for _, (subject, predicate, obj) in _tsv_columns(
        path, ("subject_id", "predicate_id", "object_id")
    ):
        if predicate != "skos:exactMatch" or not subject.startswith("MONDO:"):
            continue
        if obj.startswith("Orphanet:"):
            obj = "ORPHA:" + obj.removeprefix("Orphanet:")
        pairs.append((subject, obj))
    match = re.search(r"releases/([0-9-]+)/", version)
    return (match.group(1) if match else version or "unknown"), pairs


def read_french_labels(path: Path) -> dict[str, list[str]]:
    """HPO id -> official French labels in file order (the first is the label; a few terms
    carry more than one, which are kept as synonyms), from the Babelon TSV."""
    labels: dict[str, list[str]] = {}
    for _, (subject, predicate, value) in _tsv_columns(
        path, ("subject_id", "predicate_id", "translation_value")
    ):
        if predicate == "rdfs:label" and value and subject.startswith("HP:"):
            known = labels.setdefault(subject, [])
            if value not in known:
                known.append(value)
    return labels


def read_french_synonyms(path: Path) -> dict[str, list[str]]:
    """HPO id -> French synonyms (official and candidate; rows marked NOT_TRANSLATED are
    skipped), from the synonyms TSV of hpo-translations."""
    synonyms: dict[str, list[str]] = {}
    for _, (subject, value, status) in _tsv_columns(
        path, ("subject_id", "translation_value"), ("Status",)
    ):
        if not subject.startswith("HP:") or status == "NOT_TRANSLATED":
            continue
        # Some cells pack several synonyms separated by "|".
        for part in value.split("|"):
            part = part.strip()
            if part and part not in synonyms.get(subject, ()):
                synonyms.setdefault(subject, []).append(part)
    return synonyms
