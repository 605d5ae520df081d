"""`raredx case`: read and check patient cases (GA4GH Phenopacket v2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.text import Text

from raredx.case import (
    Case,
    CaseResult,
    VariantCall,
    case_to_phenopacket,
    format_iso_duration,
    read_cases,
)
from raredx.cli._output import OutputFormat, err_console, exit_on_error, print_json, print_rows

__all__ = ["app"]

app = typer.Typer(help="Read and check patient cases (GA4GH Phenopacket v2).", no_args_is_help=True)

COLUMNS = (
    "source",
    "case",
    "sex",
    "age",
    "observed",
    "excluded",
    "observed_terms",
    "excluded_terms",
    "diagnoses",
    "variants",
    "files",
)
_UNITS = {"Y": " y ", "M": " mo ", "W": " wk ", "D": " d "}


def _age(years: float | None) -> str | None:
    """A short age such as "4 y 2 mo" (decimal years when not whole months/days)."""
    if years is None:
        return None
    duration = format_iso_duration(years)[1:]
    if "." in duration:
        return f"{years:.2f} y"
    for unit, text in _UNITS.items():
        duration = duration.replace(unit, text)
    return duration.strip()


def _variant(call: VariantCall) -> str:
    parts = [call.gene_symbol or call.gene_id or ""]
    if call.has_coordinates:
        parts.append(f"{call.chrom}:{call.pos} {call.ref}>{call.alt}")
        if call.assembly:
            parts.append(f"({call.assembly})")
    elif call.hgvs:
        parts.append(call.hgvs[0])
    elif call.label:
        parts.append(call.label)
    parts += [call.zygosity or "", call.acmg_class or "", call.interpretation_status or ""]
    return " ".join(p for p in parts if p)


def _row(result: CaseResult, case: Case, sep: str) -> dict[str, Any]:
    def terms(excluded: bool) -> str:
        return sep.join(
            f"{f.term_id} {f.label}" if f.label else f.term_id
            for f in case.features
            if f.excluded is excluded
        )

    files = []
    for f in case.files:
        details = ", ".join(x for x in (f.file_format, f.assembly) if x)
        files.append(f"{f.uri} ({details})" if details else f.uri)
    return {
        "source": result.source,
        "case": case.id if case.family_id is None else f"{case.id} (family {case.family_id})",
        "sex": case.subject.sex.value,
        "age": _age(case.subject.age_years),
        "observed": sum(1 for f in case.features if not f.excluded),
        "excluded": sum(1 for f in case.features if f.excluded),
        "observed_terms": terms(False),
        "excluded_terms": terms(True),
        "diagnoses": sep.join(
            " ".join(x for x in (d.disease_id, d.label) if x)
            for d in case.diagnoses
            if d.disease_id
        ),
        "variants": sep.join(_variant(v) for v in case.variants),
        "files": sep.join(files),
    }


def _report(result: CaseResult) -> None:
    message = Text.assemble(("error: ", "bold red"), str(result.error))
    err_console.print(message, highlight=False, soft_wrap=True)


_PATHS = typer.Argument(
    ..., help="Phenopacket files (.json, .json.gz), JSON Lines (.jsonl, .jsonl.gz) or folders."
)
_FORMAT = typer.Option(
    OutputFormat.table,
    "--format",
    "-f",
    help="table (one summary per case), tsv (one row per case) or json (the normalised "
    "phenopacket; an array when more than one case is read).",
)


@app.command("show")
def show(paths: list[Path] = _PATHS, fmt: OutputFormat = _FORMAT) -> None:
    """Summarise each case: sex, age, observed and excluded terms, diagnoses, variants, files.

    A case that cannot be read is reported on stderr and the others still print; the exit
    code is then 2.
    """
    failed = 0
    packets: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    with exit_on_error():
        for result in read_cases(paths):
            if result.case is None:
                failed += 1
                _report(result)
                continue
            case = result.case
            if fmt is OutputFormat.json:
                packets.append(case_to_phenopacket(case))
            elif fmt is OutputFormat.tsv:
                rows.append(_row(result, case, "; "))
            else:
                row = _row(result, case, "\n")
                fields = [
                    {"field": k, "value": escape(str(row[k]))}
                    for k in COLUMNS[2:]
                    if row[k] not in ("", None)
                ]
                title = escape(f"{row['case']} ({result.source})")
                print_rows(fields, ["field", "value"], fmt, title=title)
    if fmt is OutputFormat.json and packets:
        print_json(packets[0] if len(packets) == 1 else packets)
    elif fmt is OutputFormat.tsv:
        print_rows(rows, COLUMNS, fmt)
    if failed:
        raise typer.Exit(code=2)
