"""The root `raredx` Typer application with every command group registered."""

from __future__ import annotations

import typer

from raredx import __version__
from raredx.cli import case, genome, hpo, kb, mme, phenotype, store, users
from raredx.cli.batch import batch, compile_inhouse
from raredx.cli.diagnose import diagnose
from raredx.cli.explain import explain
from raredx.cli.serve import serve
from raredx.cli.store import match, reanalyze
from raredx.cli.treat import treatments

__all__ = ["app"]

app = typer.Typer(
    name="raredx",
    help="Ranked, explained differential diagnosis for rare genetic diseases. Decision support "
    "for specialists: raredx supports, and never replaces, the clinician's judgement.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"raredx {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """raredx supports, and never replaces, the clinician's judgement."""


app.command("diagnose")(diagnose)
app.command("explain")(explain)
app.command("treatments")(treatments)
app.command("reanalyze")(reanalyze)
app.command("match")(match)
app.command("serve")(serve)
app.command("batch")(batch)
genome.app.command("compile-inhouse")(compile_inhouse)
app.add_typer(kb.app, name="kb")
app.add_typer(hpo.app, name="hpo")
app.add_typer(phenotype.app, name="phenotype")
app.add_typer(genome.app, name="genome")
app.add_typer(case.app, name="case")
app.add_typer(store.app, name="store")
app.add_typer(mme.app, name="mme")
app.add_typer(users.app, name="users")
