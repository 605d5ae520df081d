"""`raredx kb`: inspect, build and select knowledge-base releases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from raredx.cli._options import FORMAT_OPTION, KB_OPTION
from raredx.cli._output import OutputFormat, err_console, exit_on_error, print_json, print_rows
from raredx.kb import activate_kb, build_kb, find_release_files, installed_kbs, load_kb

__all__ = ["KB_OPTION", "app"]

app = typer.Typer(help="Inspect, build and select knowledge-base releases.", no_args_is_help=True)


@app.command("info")
def info(kb_version: str | None = KB_OPTION, fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Print the KB's version, sources with their versions and licences, and counts."""
    with exit_on_error():
        kb = load_kb(kb_version)
    manifest: dict[str, Any] = dict(kb.manifest)
    counts: dict[str, Any] = manifest["counts"]
    if fmt is OutputFormat.json:
        print_json(manifest)
        return
    rows: list[dict[str, Any]] = [
        {"item": "version", "value": kb.version},
        {"item": "HPO release", "value": kb.hpo_release},
        {"item": "built", "value": f"{manifest['built_at']} by {manifest['built_by']}"},
    ]
    for key, value in counts.items():
        if isinstance(value, dict):
            for sub, n in value.items():
                rows.append({"item": f"{key.replace('_', ' ')}: {sub}", "value": n})
        else:
            rows.append({"item": key.replace("_", " "), "value": value})
    print_rows(rows, ["item", "value"], fmt, title=f"raredx knowledge base {kb.version}")
    sources = [
        {"source": s.name, "version": s.version, "file": s.file, "licence": s.licence}
        for s in kb.sources
    ]
    print_rows(sources, ["source", "version", "file", "licence"], fmt, title="Sources")
    for warning in manifest.get("warnings", []):
        err_console.print(f"warning: {warning}", highlight=False, markup=False)


@app.command("list")
def list_(fmt: OutputFormat = FORMAT_OPTION) -> None:
    """List the compiled KBs in the cache; the active one is marked."""
    rows = [
        {
            "version": k.version,
            "hpo_release": k.hpo_release,
            "built_at": k.built_at,
            "active": "*" if k.active else "",
            "status": "ok" if k.current_format else "needs rebuild",
        }
        for k in installed_kbs()
    ]
    print_rows(rows, ["version", "hpo_release", "built_at", "active", "status"], fmt)


@app.command("build")
def build(
    hpo: Path = typer.Option(
        ...,
        "--hpo",
        help="Directory with hp.obo or hp.json, phenotype.hpoa and genes_to_phenotype.txt "
        "(or genes_to_disease.txt); files may be gzipped.",
    ),
    name: str | None = typer.Option(
        None, "--name", help="Version name to build under (default: hpo-<release>)."
    ),
    hgnc: Path | None = typer.Option(
        None, "--hgnc", help="An HGNC gene table to use instead of the bundled one."
    ),
    activate: bool = typer.Option(
        True, "--activate/--no-activate", help="Make the new build the active KB."
    ),
) -> None:
    """Compile an HPO release you downloaded into the cache (earlier builds stay selectable)."""
    with exit_on_error():
        files = find_release_files(hpo, hgnc=hgnc)
        with err_console.status(f"compiling {files.ontology.parent} ..."):
            version = build_kb(files, version=name, activate=activate)
    err_console.print(
        f"built knowledge base {version}" + (" (active)" if activate else ""), highlight=False
    )
    typer.echo(version)


@app.command("use")
def use(version: str = typer.Argument(..., help="A version listed by `raredx kb list`.")) -> None:
    """Make VERSION the active KB."""
    with exit_on_error():
        activate_kb(version)
    err_console.print(f"active knowledge base: {version}", highlight=False)
