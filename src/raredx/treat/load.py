"""Read the treatment tables shipped in `raredx/treat/data/`, and derive the MAxO one.

- `curated_treatments.tsv`: written for raredx (docs/treatments.md gives the rules), one row
  per disease-therapy pair.
- `maxo_treatments.tsv`: the `treats` and `contraindicated` rows of the MAxO annotations
  (monarch-initiative/maxo-annotations, CC-BY 4.0), each with the OMIM/Orphanet ids its MONDO
  disease maps to (MONDO SSSOM exact matches). `build_maxo_rows` derives it from the raw files
  and `write_maxo_table` rewrites it; tests check the shipped file against that derivation.

Both tables are read once per process (cached). A malformed table raises
`KnowledgeBaseError` listing every bad row.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Final

from raredx.errors import KnowledgeBaseError
from raredx.treat.model import (
    CHEBI_PATTERN,
    EvidenceLevel,
    LineOfUse,
    Origin,
    Status,
    Treatment,
)

__all__ = [
    "CURATED_COLUMNS",
    "CURATED_FILE",
    "MAXO_COLUMNS",
    "MAXO_FILE",
    "MAXO_RELATIONS",
    "build_maxo_rows",
    "load_treatments",
    "read_curated",
    "read_maxo",
    "write_maxo_table",
]

CURATED_FILE: Final = "curated_treatments.tsv"
"""The curated table's file name inside `raredx/treat/data/`."""

MAXO_FILE: Final = "maxo_treatments.tsv"
"""The mapped MAxO table's file name inside `raredx/treat/data/`."""

CURATED_COLUMNS: Final = (
    "disease_ids",
    "genes",
    "genotype",
    "therapy",
    "chebi",
    "drugbank",
    "atc",
    "mechanism",
    "line",
    "evidence_level",
    "citations",
    "cautions",
    "status",
    "reviewed",
)
"""Columns of the curated table, in order. Lists: `;` in ids and genes, `|` in citations
and cautions."""

MAXO_COLUMNS: Final = (
    "disease_id",
    "disease_name",
    "disease_ids",
    "maxo_id",
    "maxo_name",
    "extension_id",
    "extension_name",
    "hpo_id",
    "relation",
    "evidence",
    "source_id",
    "comment",
)
"""Columns of the shipped MAxO table: the raw annotation's (`disease_id` is a MONDO id, or an
OMIM id in a few raw rows), plus `disease_ids`, the OMIM/ORPHA ids it maps to."""

MAXO_RELATIONS: Final = ("treats", "contraindicated")
"""The MAxO relations raredx keeps: `treats` rows become treatments, `contraindicated`
rows become cautions on the same disease's MAxO treatments."""


def _split(value: str, sep: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(sep) if v.strip())


def _data_text(name: str) -> str:
    return resources.files("raredx.treat").joinpath("data", name).read_text(encoding="utf-8")


def _rows(text: str, columns: Sequence[str], source: str) -> list[tuple[int, dict[str, str]]]:
    """Data rows of a TSV whose leading `#` lines are comments, with their line numbers."""
    lines = text.splitlines()
    start = 0
    while start < len(lines) and lines[start].startswith("#"):
        start += 1
    reader = csv.reader(lines[start:], delimiter="\t", quoting=csv.QUOTE_NONE, quotechar=None)
    header = next(reader, None)
    if header is None or tuple(header) != tuple(columns):
        expected = "\t".join(columns)
        raise KnowledgeBaseError(f"{source}: header must be {expected!r}")
    out = []
    for n, cells in enumerate(reader, start=start + 2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(columns):
            cells = cells + [""] * (len(columns) - len(cells))
            if len(cells) != len(columns):
                raise KnowledgeBaseError(f"{source}: line {n} has {len(cells)} columns")
        out.append((n, dict(zip(columns, cells, strict=True))))
    return out


def read_curated(text: str | None = None, *, source: str = CURATED_FILE) -> tuple[Treatment, ...]:
    """Parse the curated table (the shipped one when `text` is None); every bad row is listed."""
    rows = _rows(_data_text(CURATED_FILE) if text is None else text, CURATED_COLUMNS, source)
    treatments: list[Treatment] = []
    problems: list[str] = []
    for n, r in rows:
        try:
            treatments.append(
                Treatment(
                    therapy=r["therapy"].strip(),
                    disease_ids=_split(r["disease_ids"], ";"),
                    genes=_split(r["genes"], ";"),
                    genotype=r["genotype"].strip(),
                    chebi=r["chebi"].strip(),
                    drugbank=r["drugbank"].strip(),
                    atc=r["atc"].strip(),
                    mechanism=r["mechanism"].strip(),
                    line=LineOfUse(r["line"].strip() or LineOfUse.UNSPECIFIED),
                    evidence_level=EvidenceLevel(r["evidence_level"].strip()),
                    citations=_split(r["citations"], "|"),
                    cautions=_split(r["cautions"], "|"),
                    status=Status(r["status"].strip() or Status.AVAILABLE),
                    reviewed=date.fromisoformat(r["reviewed"].strip()),
                    origin=Origin.CURATED,
                )
            )
        except ValueError as exc:
            problems.append(f"line {n}: {exc}")
    if problems:
        raise KnowledgeBaseError(f"{source}: invalid rows\n  - " + "\n  - ".join(problems))
    return tuple(treatments)


def read_maxo(text: str | None = None, *, source: str = MAXO_FILE) -> tuple[Treatment, ...]:
    """Treatments from the mapped MAxO table (the shipped one when `text` is None).

    Rows sharing disease, action and extension (e.g. a drug class) become one treatment whose
    `targets` are the HPO features and whose citations are the sources. Contraindicated actions
    become cautions on every MAxO treatment of the same disease.
    """
    rows = _rows(_data_text(MAXO_FILE) if text is None else text, MAXO_COLUMNS, source)
    groups: dict[tuple[str, str, str], list[dict[str, str]]] = defaultdict(list)
    contraindicated: dict[str, list[str]] = defaultdict(list)
    problems: list[str] = []
    for n, r in rows:
        relation = r["relation"].strip()
        if relation not in MAXO_RELATIONS:
            problems.append(f"line {n}: relation {relation!r} is not one of {MAXO_RELATIONS}")
            continue
        if relation == "contraindicated":
            what = _maxo_therapy(r)
            contraindicated[r["disease_id"]].append(
                f"MAxO: {what} contraindicated for {r['hpo_id']} ({r['source_id']})"
            )
            continue
        key = (r["disease_id"], r["maxo_id"], r["extension_id"] or r["extension_name"])
        groups[key].append(r)
    treatments: list[Treatment] = []
    for (disease, maxo_id, _), members in groups.items():
        first = members[0]
        extension = first["extension_id"].strip()
        try:
            treatments.append(
                Treatment(
                    therapy=_maxo_therapy(first),
                    disease_ids=tuple(dict.fromkeys((disease, *_split(first["disease_ids"], ";")))),
                    disease_name=first["disease_name"],
                    evidence_level=EvidenceLevel.ANNOTATION,
                    citations=tuple(sorted({m["source_id"].strip() for m in members})),
                    targets=tuple(sorted({m["hpo_id"].strip() for m in members})),
                    maxo_id=maxo_id,
                    chebi=extension if CHEBI_PATTERN.match(extension) else "",
                    cautions=tuple(contraindicated.get(disease, ())),
                    origin=Origin.MAXO,
                )
            )
        except ValueError as exc:
            problems.append(f"{disease} {maxo_id}: {exc}")
    if problems:
        raise KnowledgeBaseError(f"{source}: invalid rows\n  - " + "\n  - ".join(problems))
    return tuple(treatments)


def _maxo_therapy(row: Mapping[str, str]) -> str:
    name = row["maxo_name"].strip()
    extension = row["extension_name"].strip()
    return f"{name} ({extension})" if extension else name


@cache
def load_treatments() -> tuple[Treatment, ...]:
    """Every shipped treatment: the curated rows, then the MAxO ones (read once, cached)."""
    return read_curated() + read_maxo()


# ---------------------------------------------------------------------- deriving the MAxO table
def _read_sssom(path: Path) -> dict[str, list[str]]:
    """MONDO id -> its OMIM/ORPHA ids (skos:exactMatch rows; `Orphanet:` becomes `ORPHA:`)."""
    out: dict[str, list[str]] = defaultdict(list)
    rows = _rows(
        path.read_text(encoding="utf-8"),
        (
            "subject_id",
            "subject_label",
            "predicate_id",
            "object_id",
            "object_label",
            "mapping_justification",
        ),
        str(path),
    )
    for _, r in rows:
        if r["predicate_id"] != "skos:exactMatch":
            continue
        obj = r["object_id"].strip()
        if obj.startswith("Orphanet:"):
            obj = "ORPHA:" + obj.split(":", 1)[1]
        out[r["subject_id"].strip()].append(obj)
    return out


def build_maxo_rows(
    annotations: Path, sssom_files: Iterable[Path]
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(mapped, unmapped) kept MAxO rows: `treats`/`contraindicated` rows of `annotations`,
    each with `disease_ids` = the OMIM/ORPHA ids its MONDO disease exactly matches.

    Rows whose MONDO id has no exact match are returned as `unmapped` (not shipped).
    """
    mapping: dict[str, list[str]] = defaultdict(list)
    for path in sssom_files:
        for mondo, ids in _read_sssom(path).items():
            mapping[mondo].extend(ids)
    raw_columns = (
        "disease_id", "disease_name", "source_id", "maxo_id", "maxo_name", "hpo_id",
        "relation", "evidence", "extension_id", "extension_name", "comment", "other",
        "author", "last_updated", "created",
    )  # fmt: skip
    mapped: list[dict[str, str]] = []
    unmapped: list[dict[str, str]] = []
    for _, r in _rows(annotations.read_text(encoding="utf-8"), raw_columns, str(annotations)):
        if r["relation"].strip() not in MAXO_RELATIONS:
            continue
        disease = r["disease_id"].strip()
        targets = mapping.get(disease, []) if disease.startswith("MONDO:") else [disease]
        row = {
            "disease_id": disease,
            "disease_name": _clean(r["disease_name"]),
            "disease_ids": ";".join(sorted(set(targets))),
            "maxo_id": r["maxo_id"].strip(),
            "maxo_name": _clean(r["maxo_name"]),
            "extension_id": r["extension_id"].strip(),
            "extension_name": _clean(r["extension_name"]),
            "hpo_id": r["hpo_id"].strip(),
            "relation": r["relation"].strip(),
            "evidence": r["evidence"].strip(),
            "source_id": r["source_id"].strip(),
            "comment": _clean(r["comment"]),
        }
        (mapped if row["disease_ids"] else unmapped).append(row)
    return mapped, unmapped


def _clean(value: str) -> str:
    return " ".join(value.replace("\t", " ").split())


def write_maxo_table(annotations: Path, sssom_files: Sequence[Path], out: Path) -> None:
    """Rewrite the shipped MAxO table from the raw annotations and MONDO SSSOM files."""
    mapped, unmapped = build_maxo_rows(annotations, sssom_files)
    buffer = io.StringIO()
    buffer.write(
        "# MAxO annotations (monarch-initiative/maxo-annotations @ 42edd96, CC-BY 4.0):\n"
        "# rows with relation treats or contraindicated, each with the OMIM/Orphanet ids of its\n"
        "# MONDO disease (MONDO SSSOM exact matches, monarch-initiative/mondo @ fad2512).\n"
        f"# {len(mapped)} rows mapped; {len(unmapped)} rows left out (MONDO id without an\n"
        "# OMIM/Orphanet exact match). Regenerate with raredx.treat.load.write_maxo_table.\n"
    )
    writer = csv.writer(
        buffer, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, quotechar=None
    )
    writer.writerow(MAXO_COLUMNS)
    for row in mapped:
        writer.writerow([row[c] for c in MAXO_COLUMNS])
    out.write_text(buffer.getvalue(), encoding="utf-8")
