"""`raredx treatments QUERY`: the treatments raredx knows for a gene, disease id or name."""

from __future__ import annotations

from typing import Any

import typer

from raredx.cli._options import FORMAT_OPTION, KB_OPTION
from raredx.cli._output import OutputFormat, err_console, exit_on_error, out_console, print_rows
from raredx.kb import load_kb
from raredx.treat import DECISION_SUPPORT_NOTICE, Treatment, treatment_index

__all__ = ["treatments"]

COLUMNS = (
    "evidence_level",
    "therapy",
    "disease_ids",
    "disease_name",
    "genes",
    "genotype",
    "line",
    "status",
    "identifiers",
    "cautions",
    "citations",
    "origin",
)


def _row(t: Treatment) -> dict[str, Any]:
    d = t.to_dict()
    for key in ("disease_ids", "genes", "identifiers"):
        d[key] = ", ".join(d[key])
    for key in ("cautions", "citations"):
        d[key] = " | ".join(d[key])
    d["evidence_level"] = t.evidence_level.label
    return d


def treatments(
    query: str = typer.Argument(
        ..., help="Gene symbol (PIK3CD), disease id (OMIM:615513, ORPHA:397596, MONDO:...) or name."
    ),
    fmt: OutputFormat = FORMAT_OPTION,
    kb_version: str | None = KB_OPTION,
) -> None:
    """List the treatments of the diseases a gene, disease id or name points to.

    Strongest evidence first (approved, guideline, prospective study, case series, case report,
    then ungraded MAxO annotations), each with its sources. Decision support for specialists.
    """
    with exit_on_error():
        kb = load_kb(kb_version)
        found = treatment_index(kb).find(query)
    if fmt is OutputFormat.json:
        payload = {
            "query": query,
            "kb_version": kb.version,
            "notice": DECISION_SUPPORT_NOTICE,
            "treatments": [t.to_dict() for t in found],
        }
        print_rows([], COLUMNS, fmt, json_payload=payload)
        return
    if not found:
        err_console.print(f"no treatment recorded for {query!r}", highlight=False, markup=False)
    rows = [_row(t) for t in found]
    if fmt is OutputFormat.table:
        out_console.print(DECISION_SUPPORT_NOTICE, highlight=False, markup=False)
        columns: tuple[str, ...] = (
            "evidence_level",
            "therapy",
            "disease_name",
            "genotype",
            "line",
            "status",
            "cautions",
            "citations",
        )
        print_rows(rows, columns, fmt, title=f"Treatments for {query} (KB {kb.version})")
    else:
        print_rows(rows, COLUMNS, fmt)
