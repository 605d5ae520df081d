"""Options several commands share, declared once so their names and help stay the same."""

from __future__ import annotations

import typer

from raredx.cli._output import OutputFormat

__all__ = [
    "CLINVAR_OPTION",
    "FORMAT_OPTION",
    "FREQUENCY_OPTION",
    "KB_OPTION",
    "LENIENT_OPTION",
    "NO_VCF_OPTION",
]

FORMAT_OPTION = typer.Option(OutputFormat.table, "--format", "-f", help="Output format.")
KB_OPTION = typer.Option(
    None, "--kb", help="Knowledge-base version to use (default: the active one; see `kb list`)."
)
CLINVAR_OPTION = typer.Option(
    None, "--clinvar", help="A ClinVar store compiled by `raredx genome compile-clinvar`."
)
FREQUENCY_OPTION = typer.Option(
    None,
    "--frequency",
    help="A frequency store (`raredx genome compile-frequency`, or an in-house folder used as is).",
)
LENIENT_OPTION = typer.Option(
    False,
    "--lenient",
    help="For phenopackets: skip term ids this KB does not know (e.g. from a newer HPO) and "
    "excluded terms an observed term implies, with a warning, instead of failing the case.",
)
NO_VCF_OPTION = typer.Option(
    False, "--no-vcf", help="Phenotype only, even when a phenopacket names a VCF."
)
