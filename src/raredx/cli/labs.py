"""`raredx phenotype labs`: HPO terms from lab results (CSV/TSV or FHIR R4 Observations).

`labs` is the command (registered under the `phenotype` group by cli/app.py);
`derive_lab_terms` is what `raredx diagnose --labs FILE` calls.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from raredx.cli._options import FORMAT_OPTION, KB_OPTION
from raredx.cli._output import OutputFormat, err_console, exit_on_error, print_rows
from raredx.diagnosis import parse_age
from raredx.kb import KnowledgeBase, load_kb
from raredx.labs import LabPhenotype, labs_to_hpo, read_labs

__all__ = ["LAB_COLUMNS", "derive_lab_terms", "lab_rows", "labs", "short_source"]

LAB_COLUMNS = (
    "where",
    "test",
    "loinc",
    "given",
    "value",
    "unit",
    "interval",
    "interval_from",
    "outcome",
    "hpo_id",
    "hpo_label",
    "excluded",
    "date",
    "source",
    "note",
)
"""Columns of the rows `lab_rows` returns (TSV and JSON output)."""

_FILE_ARGUMENT = typer.Argument(
    ...,
    help="Lab results: CSV/TSV with a header (test or LOINC, value, unit, optional range, "
    "flag, date) or FHIR R4 JSON (an Observation or a Bundle).",
    dir_okay=False,
)
_AGE_OPTION = typer.Option(
    None, "--age", help="Age at sampling: years, 4y, 18m, 3y6m, 10d or P4Y (for shipped intervals)."
)
_SEX_OPTION = typer.Option(None, "--sex", help="M or F (for sex-specific shipped intervals).")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


def short_source(source: str) -> str:
    """A citation shortened for tables: "Henter JI et al. 2007", "World Health Organization
    2011"; texts that are not citations ("range given in the file") are returned as is."""
    authors = source.split(". ", 1)[0]
    years = _YEAR.findall(source)
    if not years or authors == source:
        return source
    first = authors.split(",")[0].strip()
    return f"{first}{' et al.' if ',' in authors else ''} {years[-1]}"


def lab_rows(phenotype: LabPhenotype, *, short: bool = False) -> list[dict[str, Any]]:
    """One display row per derived term (LAB_COLUMNS), full citations unless `short`."""
    rows: list[dict[str, Any]] = []
    for e in phenotype.evidence:
        row = {c: v for c, v in e.to_dict().items() if c in LAB_COLUMNS}
        row["excluded"] = "yes" if e.excluded else "no"
        row["date"] = e.date or ""
        if short:
            row["source"] = " | ".join(short_source(s) for s in e.source.split(" | "))
        rows.append(row)
    return rows


def derive_lab_terms(
    path: str | Path,
    kb: KnowledgeBase,
    age: str | float | None = None,
    sex: str | None = None,
) -> tuple[tuple[str, ...], tuple[str, ...], list[dict[str, Any]]]:
    """(observed HPO ids, excluded HPO ids, display rows) of a lab file for `diagnose --labs`.

    `age` as `raredx diagnose --age` takes it (years, "3y", "18m", "P3Y"); `sex` F or M.
    Raises InputError (printed by the CLI without a traceback) for any bad input.
    """
    years = parse_age(age) if age is not None else None
    phenotype = labs_to_hpo(read_labs(path), kb, years, sex)
    return phenotype.observed_ids, phenotype.excluded_ids, lab_rows(phenotype)


def labs(
    file: Path = _FILE_ARGUMENT,
    age: str | None = _AGE_OPTION,
    sex: str | None = _SEX_OPTION,
    fmt: OutputFormat = FORMAT_OPTION,
    kb_version: str | None = KB_OPTION,
) -> None:
    """Derive HPO terms from lab results, with the value and interval behind each.

    Each result is judged by the file's flag, else its reference range, else the pediatric
    limits raredx ships (cited; see docs/labs.md) for the child's --age and --sex, and mapped
    with LOINC2HPO: low/high/positive results give observed terms, normal/negative ones
    excluded terms. Results that give no term are listed on stderr.
    """
    with exit_on_error():
        years = parse_age(age) if age is not None else None
        results = read_labs(file)
        kb = load_kb(kb_version)
        phenotype = labs_to_hpo(results, kb, years, sex)
    if fmt is OutputFormat.json:
        # terms as display rows (excluded "yes"/"no", no limits); the rest as the library has it
        payload = {"kb_version": kb.version, **phenotype.to_dict(), "terms": lab_rows(phenotype)}
        print_rows([], LAB_COLUMNS, fmt, json_payload=payload)
        return
    columns: Sequence[str] = LAB_COLUMNS
    rows = lab_rows(phenotype, short=fmt is OutputFormat.table)
    if fmt is OutputFormat.table:
        columns = ("test", "given", "judged", "interval", "interval_from", "term", "excluded",
                   "source")  # fmt: skip
        for row in rows:
            row["judged"] = f"{row['value']} {row['unit']} ({row['outcome']})".replace("  ", " ")
            row["term"] = f"{row['hpo_id']} {row['hpo_label']}"
    print_rows(rows, columns, fmt, title=f"HPO terms from lab results in {file}")
    for s in phenotype.set_aside:
        err_console.print(
            f"no term: {s.where} {s.test} {s.value}: {s.reason}", markup=False, highlight=False
        )
    if not phenotype.evidence:
        err_console.print("no HPO term derived", markup=False, highlight=False)
