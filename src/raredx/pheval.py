"""PhEval result files: what `raredx diagnose --out` and `raredx batch` write for each case.

`write_pheval` writes a case's ranked diseases and genes (and, with a VCF, its variants) as the
TSV files PhEval reads; `case_stem`, `file_stem` and `unique_stem` name them: the phenopacket's
file name without its suffix, or for a JSON Lines line (or a stored case) the case id, made
safe for a file name, with ``_2``, ``_3``... for clashes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raredx._files import atomic_file
from raredx.case.phenopacket import CASE_FILE_SUFFIXES, is_jsonl

if TYPE_CHECKING:
    from raredx.rank.result import Diagnosis

__all__ = [
    "PHEVAL_ROWS",
    "case_stem",
    "file_stem",
    "safe_stem",
    "tsv_text",
    "unique_stem",
    "write_pheval",
]

PHEVAL_ROWS = 100
"""Diseases and genes written to each PhEval result file (best first)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


# ------------------------------------------------------------------------------------ names
def safe_stem(text: str) -> str:
    """`text` as a file stem: each run of characters other than ASCII letters, digits, ``.``,
    ``_`` and ``-`` becomes ``_``, leading and trailing ``.`` and ``_`` go; "case" if nothing
    is left."""
    return _UNSAFE.sub("_", text).strip("._") or "case"


def file_stem(path: Path) -> str:
    """The stem of a phenopacket file's results: its name without its `CASE_FILE_SUFFIXES`
    ending (the longest that fits), made safe (`safe_stem`)."""
    name = path.name
    lowered = name.lower()
    for suffix in sorted(CASE_FILE_SUFFIXES, key=len, reverse=True):
        if lowered.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return safe_stem(name)


def case_stem(source: str, case_id: str) -> str:
    """The stem of a case read from `source` (as `raredx.case.read_cases` names it): the
    phenopacket file's (`file_stem`); for a JSON Lines line or typed terms, the case id."""
    path = Path(source)
    if path.is_file() and not is_jsonl(path):
        return file_stem(path)
    return safe_stem(case_id)


def unique_stem(base: str, used: set[str]) -> str:
    """`base`, else the first of ``base_2``, ``base_3``... not in `used`; added to `used`."""
    stem, k = base, 2
    while stem in used:
        stem, k = f"{base}_{k}", k + 1
    used.add(stem)
    return stem


# ------------------------------------------------------------------------------------ files
def tsv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """`header` and `rows` as tab-separated text, one line each (``\\n`` endings)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _atomic_write(path: Path, text: str) -> None:
    with atomic_file(path, durable=False) as fh:  # results: recomputable, written by the 1,000
        fh.write(text)


def write_pheval(result: Diagnosis, directory: Path, stem: str) -> tuple[Path, ...]:
    """Write `<stem>-pheval_disease_result.tsv` and `<stem>-pheval_gene_result.tsv` atomically,
    and with a VCF `<stem>-pheval_variant_result.tsv` (rank, score, chrom, start, end, ref, alt).

    Scores are posterior probabilities (a variant gets its gene's); ranks follow them.
    """
    directory.mkdir(parents=True, exist_ok=True)
    diseases = [(d.rank, f"{d.posterior:.6g}", d.name, d.disease_id) for d in result.diseases]
    genes = [(g.rank, f"{g.score:.6g}", g.symbol, g.hgnc_id) for g in result.genes]
    disease_path = directory / f"{stem}-pheval_disease_result.tsv"
    gene_path = directory / f"{stem}-pheval_gene_result.tsv"
    disease_header = ("rank", "score", "disease_name", "disease_identifier")
    _atomic_write(disease_path, tsv_text(disease_header, diseases))
    _atomic_write(gene_path, tsv_text(("rank", "score", "gene_symbol", "gene_identifier"), genes))
    if result.genome is None:
        return disease_path, gene_path
    variant_path = directory / f"{stem}-pheval_variant_result.tsv"
    header = ("rank", "score", "chrom", "start", "end", "ref", "alt")
    _atomic_write(variant_path, tsv_text(header, _variant_rows(result)))
    return disease_path, gene_path, variant_path


def _variant_rows(result: Diagnosis) -> list[tuple[Any, ...]]:
    """Variants behind the ranked genes' genotypes, each once, best gene first."""
    rows: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    for g in result.genes:
        for key in g.genotype.variants if g.genotype else ():
            if key in seen:
                continue
            seen.add(key)
            chrom, pos, ref, alt = key.split("-", 3)
            start = int(pos)
            rows.append(
                (len(rows) + 1, f"{g.score:.6g}", chrom, start, start + len(ref) - 1, ref, alt)
            )
    return rows
