"""`raredx reanalyze` and `raredx match`: reanalysis and similar patients in the case store.

Both open the store named by ``RAREDX_DATABASE_URL`` (else the SQLite file in the raredx
home) and act for ``--user`` (default: ``$RAREDX_USER``, else ``admin``), who sees the cases
of their own centre only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from raredx.cli._output import OutputFormat, err_console, exit_on_error, print_rows
from raredx.cli.kb import KB_OPTION
from raredx.diagnosis import diagnose
from raredx.kb import load_kb
from raredx.store import Store
from raredx.store import matching as _matching
from raredx.store import reanalysis as _reanalysis

__all__ = [
    "analyze",
    "app",
    "export_cases",
    "import_cases",
    "init",
    "list_cases",
    "match",
    "reanalyze",
]

FORMAT_OPTION = typer.Option(OutputFormat.table, "--format", "-f", help="Output format.")
USER_OPTION = typer.Option(
    "admin",
    "--user",
    envvar="RAREDX_USER",
    help="Store user acting (default: $RAREDX_USER, else admin); sees their centre's cases.",
)
CHANGE_COLUMNS = ("case_id", "previous_kb", "current_kb", "kind", "disease_id", "detail")
MATCH_COLUMNS = (
    "rank",
    "case_id",
    "score",
    "phenotype_similarity",
    "gene_similarity",
    "shared_genes",
    "centre",
    "status",
)


def reanalyze(
    since_kb: str | None = typer.Option(
        None,
        "--since-kb",
        help="Only cases whose latest analysis used a KB version sorting before this one "
        "(natural order, e.g. hpo-2025-01-16); default: any KB or parameters but the current.",
    ),
    threshold: float = typer.Option(
        0.1, "--threshold", help="Posterior (0-1) whose crossing, up or down, is reported."
    ),
    fmt: OutputFormat = FORMAT_OPTION,
    kb_version: str | None = KB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Re-run unsolved stored cases with the current KB and report material changes.

    Reported: new gene-disease links among the candidates, candidates whose posterior crossed
    the threshold, newly treatable candidates. Every re-run is recorded as a new analysis.
    """
    with exit_on_error():
        kb = load_kb(kb_version)
        with Store.open() as store:
            found = _reanalysis.reanalyze(
                store, kb, user=user, since_kb=since_kb, threshold=threshold
            )
    changed = _reanalysis.changed_only(found)
    err_console.print(
        f"{len(found)} case(s) due for reanalysis with KB {kb.version}; "
        f"{len(changed)} with material changes",
        highlight=False,
        markup=False,
    )
    rows: list[dict[str, Any]] = [
        {
            "case_id": c.case_id,
            "previous_kb": c.previous_kb,
            "current_kb": c.current_kb,
            "kind": change.kind,
            "disease_id": change.disease_id,
            "detail": change.detail,
        }
        for c in changed
        for change in c.changes
    ]
    payload = {
        "kb_version": kb.version,
        "since_kb": since_kb,
        "threshold": threshold,
        "reanalysed": [c.case_id for c in found],
        "changed": [c.to_dict() for c in changed],
    }
    print_rows(
        rows,
        CHANGE_COLUMNS,
        fmt,
        title=f"Material changes with KB {kb.version}",
        json_payload=payload,
    )


def match(
    case_id: str = typer.Argument(..., help="Id of a stored case."),
    limit: int = typer.Option(10, "--limit", "-n", help="How many similar cases to list."),
    fmt: OutputFormat = FORMAT_OPTION,
    kb_version: str | None = KB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """List the stored cases most similar to CASE_ID: phenotype and shared candidate genes.

    score = 0.7 x phenotype similarity (symmetric Resnik best-match average, 0-1)
    + 0.3 x candidate-gene similarity (weighted Jaccard of the top genes, 0-1).
    """
    with exit_on_error():
        kb = load_kb(kb_version)
        with Store.open() as store:
            found = _matching.similar_cases(store, kb, case_id, user=user, limit=limit)
    rows = [
        {
            "rank": rank,
            "case_id": m.case_id,
            "score": f"{m.score:.3f}",
            "phenotype_similarity": f"{m.phenotype_similarity:.3f}",
            "gene_similarity": f"{m.gene_similarity:.3f}",
            "shared_genes": ", ".join(m.shared_genes),
            "centre": m.centre,
            "status": m.status,
        }
        for rank, m in enumerate(found, 1)
    ]
    payload = {
        "case_id": case_id,
        "kb_version": kb.version,
        "matches": [m.to_dict() for m in found],
    }
    print_rows(rows, MATCH_COLUMNS, fmt, title=f"Cases similar to {case_id}", json_payload=payload)


# --------------------------------------------------------------------- `raredx store ...`
app = typer.Typer(
    help="The case store (SQLite, or PostgreSQL via RAREDX_DATABASE_URL): centres, users, "
    "cases, analyses, with an audit log of every access.",
    no_args_is_help=True,
)
CENTRE_OPTION = typer.Option(..., "--centre", help="Centre code (e.g. RDB).")


@app.callback()
def _group() -> None:
    """The case store: centres, users, cases, analyses, audit log."""


@app.command("init")
def init(
    centre: str = CENTRE_OPTION,
    name: str = typer.Option(..., "--name", help="The centre's name."),
    user: str = typer.Option(..., "--user", help="First user of the centre."),
    role: str = typer.Option("admin", "--role", help="clinician, geneticist or admin."),
) -> None:
    """Create the store if needed, a centre and its first user."""
    with exit_on_error(), Store.open() as store:
        store.add_centre(centre, name)
        store.add_user(user, role=role, centre=centre)
    err_console.print(f"centre {centre} and user {user} ({role}) added")


@app.command("import")
def import_cases(
    paths: list[Path] = typer.Argument(..., help="Phenopacket files, folders or JSON Lines."),
    centre: str = CENTRE_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Import phenopackets into the store: all of them, or none when any is bad."""
    with exit_on_error(), Store.open() as store:
        ids = store.import_phenopackets(paths, centre=centre, user=user)
    err_console.print(f"{len(ids)} cases imported")


@app.command("list")
def list_cases(
    centre: str = CENTRE_OPTION,
    status: str | None = typer.Option(None, "--status", help="unsolved or solved."),
    fmt: OutputFormat = FORMAT_OPTION,
    user: str = USER_OPTION,
) -> None:
    """The centre's cases with their patient and status."""
    with exit_on_error(), Store.open() as store:
        cases = store.list_cases(centre, status, user=user)
    rows = [
        {
            "case_id": c.id,
            "patient": c.patient,
            "status": c.status,
            "created": c.created.isoformat(timespec="seconds"),
            "updated": c.updated.isoformat(timespec="seconds"),
        }
        for c in cases
    ]
    print_rows(rows, ["case_id", "patient", "status", "created", "updated"], fmt, title="Cases")


@app.command("export")
def export_cases(
    folder: Path = typer.Argument(..., help="Folder to write <case id>.json into."),
    centre: str | None = typer.Option(None, "--centre", help="Only this centre's cases."),
    user: str = USER_OPTION,
) -> None:
    """Write the cases back as phenopackets."""
    with exit_on_error(), Store.open() as store:
        written = store.export_phenopackets(folder, user=user, centre=centre)
    err_console.print(f"{len(written)} phenopackets written to {folder}")


@app.command("analyze")
def analyze(
    centre: str = CENTRE_OPTION,
    status: str | None = typer.Option("unsolved", "--status", help="unsolved, solved or all."),
    kb_version: str | None = KB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Rank the centre's cases (phenotype) and record each result as an analysis."""
    with exit_on_error(), Store.open() as store:
        kb = load_kb(kb_version)
        wanted = None if status == "all" else status
        done = 0
        for summary in store.list_cases(centre, wanted, user=user):
            case = store.get_case(summary.id, user=user)
            store.record_analysis(summary.id, diagnose(case, kb=kb, lenient=True), user=user)
            done += 1
    err_console.print(f"{done} cases analysed with KB {kb.version}")
