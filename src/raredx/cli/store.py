"""`raredx reanalyze`, `raredx match` and `raredx store ...`: the case store on the command line.

Every command opens the store named by ``RAREDX_DATABASE_URL`` (else the SQLite file in the
raredx home) and acts for ``--user`` (default: ``$RAREDX_USER``, else ``admin``), who sees the
cases of their own centre only. Results go to stdout (``--format table|json|tsv``), progress
and notes to stderr.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import typer

from raredx.cli._options import FORMAT_OPTION, KB_OPTION
from raredx.cli._output import OutputFormat, err_console, exit_on_error, print_rows
from raredx.diagnosis import diagnose, parse_age
from raredx.errors import InputError
from raredx.kb import KnowledgeBase, load_kb
from raredx.labs import labs_to_hpo, read_labs
from raredx.observations import lab_observations, note_observations
from raredx.phenotype import parse_terms, read_note
from raredx.store import Store
from raredx.store import matching as _matching
from raredx.store import reanalysis as _reanalysis
from raredx.store.store import (
    DecisionRecord,
    NewObservation,
    ObservationRecord,
    VcfRecord,
    VcfUnavailable,
)

__all__ = [
    "add_terms",
    "analyze",
    "app",
    "attach_vcf",
    "decisions",
    "export_cases",
    "import_cases",
    "init",
    "list_cases",
    "match",
    "observations",
    "reanalyze",
    "review",
    "share",
]

USER_OPTION = typer.Option(
    "admin",
    "--user",
    envvar="RAREDX_USER",
    help="Store user acting (default: $RAREDX_USER, else admin); sees their centre's cases.",
)
CHANGE_COLUMNS = ("case_id", "previous_kb", "current_kb", "kind", "disease_id", "detail")
OBSERVATION_COLUMNS = (
    "id",
    "term_id",
    "label",
    "excluded",
    "provenance",
    "review_status",
    "evidence",
    "reviewed_by",
    "reviewed_at",
)
DECISION_COLUMNS = ("id", "kind", "value", "user", "created")
VCF_COLUMNS = ("id", "path", "assembly", "sample", "sha256", "size")
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
CASE_COLUMNS = ("case_id", "patient", "status", "created", "updated")

_T = TypeVar("_T")


def _with_store(action: Callable[[Store], _T]) -> _T:
    """What `action` returns on the opened store; a RaredxError (bad input, a case the user may
    not see) becomes a message on stderr and exit code 2."""
    with exit_on_error(), Store.open() as store:
        return action(store)


def _say(text: str) -> None:
    """One message on stderr, printed as it is (no markup, no highlighting)."""
    err_console.print(text, highlight=False, markup=False)


def _note(text: str) -> None:
    _say(f"note: {text}")


def _when(value: Any) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


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
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help="Rank the due cases on an existing Dask cluster (its scheduler's address); its "
        "workers need the same KB and, for cases with a VCF, the store and the VCFs.",
    ),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Rank the due cases on a local Dask cluster of N processes."
    ),
    timeout: float = typer.Option(
        10.0, "--timeout", min=0.1, help="Seconds to wait for the Dask scheduler and workers."
    ),
) -> None:
    """Re-run unsolved stored cases with the current KB and report material changes.

    Reported: new gene-disease links among the candidates, candidates whose posterior crossed
    the threshold, newly treatable candidates. Every re-run is recorded as a new analysis.
    With --scheduler or --workers the cases are ranked on a Dask cluster (the results are the
    same); an interrupted run resumes where it stopped.
    """
    with exit_on_error():
        if scheduler is not None and workers is not None:
            raise InputError("give --workers (a local cluster) or --scheduler, not both")
        kb = load_kb(kb_version)
        with Store.open() as store:
            if scheduler is None and workers is None:
                found = _reanalysis.reanalyze(
                    store, kb, user=user, since_kb=since_kb, threshold=threshold
                )
            else:
                found = _reanalyze_on_cluster(
                    store, kb, user, since_kb, threshold, scheduler, workers, timeout
                )
    changed = _reanalysis.changed_only(found)
    _say(
        f"{len(found)} case(s) due for reanalysis with KB {kb.version}; "
        f"{len(changed)} with material changes"
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


def _reanalyze_on_cluster(
    store: Store,
    kb: KnowledgeBase,
    user: str,
    since_kb: str | None,
    threshold: float,
    scheduler: str | None,
    workers: int | None,
    timeout: float,
) -> tuple[_reanalysis.CaseChange, ...]:
    """`reanalyze` with the due cases ranked on a Dask cluster (`raredx.batch`)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from raredx.batch import cluster_reranker, open_cluster
    from raredx.batch.worker import store_url_for_workers

    bar = Progress(
        "reanalysing",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=not err_console.is_terminal,
        transient=True,
    )
    task = bar.add_task("reanalysing", total=None)
    try:
        with open_cluster(workers=workers, scheduler=scheduler, timeout=timeout) as cluster, bar:
            reranker = cluster_reranker(cluster, user=user, store_url=store_url_for_workers(store))
            return _reanalysis.reanalyze(
                store,
                kb,
                user=user,
                since_kb=since_kb,
                threshold=threshold,
                reranker=reranker,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except KeyboardInterrupt:
        err_console.print(
            "reanalysis interrupted: the cases re-run so far are recorded; run the same "
            "command again to resume",
            style="bold red",
            highlight=False,
        )
        raise typer.Exit(code=130) from None


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
    found = _with_store(lambda s: _matching.similar_cases(s, kb, case_id, user=user, limit=limit))
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

    def add(store: Store) -> None:
        store.add_centre(centre, name)
        store.add_user(user, role=role, centre=centre)

    _with_store(add)
    _say(f"centre {centre} and user {user} ({role}) added")


@app.command("import")
def import_cases(
    paths: list[Path] = typer.Argument(..., help="Phenopacket files, folders or JSON Lines."),
    centre: str = CENTRE_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Import phenopackets into the store: all of them, or none when any is bad."""
    ids = _with_store(lambda s: s.import_phenopackets(paths, centre=centre, user=user))
    _say(f"{len(ids)} cases imported")


@app.command("list")
def list_cases(
    centre: str = CENTRE_OPTION,
    status: str | None = typer.Option(None, "--status", help="unsolved or solved."),
    fmt: OutputFormat = FORMAT_OPTION,
    user: str = USER_OPTION,
) -> None:
    """The centre's cases with their patient and status."""
    cases = _with_store(lambda s: s.list_cases(centre, status, user=user))
    rows = [
        {
            "case_id": c.id,
            "patient": c.patient,
            "status": c.status,
            "created": _when(c.created),
            "updated": _when(c.updated),
        }
        for c in cases
    ]
    print_rows(rows, CASE_COLUMNS, fmt, title="Cases")


@app.command("export")
def export_cases(
    folder: Path = typer.Argument(..., help="Folder to write <case id>.json into."),
    centre: str | None = typer.Option(None, "--centre", help="Only this centre's cases."),
    user: str = USER_OPTION,
) -> None:
    """Write the cases back as phenopackets."""
    written = _with_store(lambda s: s.export_phenopackets(folder, user=user, centre=centre))
    _say(f"{len(written)} phenopackets written to {folder}")


@app.command("analyze")
def analyze(
    centre: str = CENTRE_OPTION,
    status: str | None = typer.Option("unsolved", "--status", help="unsolved, solved or all."),
    kb_version: str | None = KB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Rank the centre's cases and record each result as an analysis.

    A case with an attached VCF (`raredx store attach-vcf`) is ranked with its genotype
    evidence (cached in the store after the first read). Cases that cannot be ranked (no
    accepted phenotype, VCF missing or changed) are skipped with a note on stderr.
    """
    skipped = 0
    with exit_on_error(), Store.open() as store:
        kb = load_kb(kb_version)
        wanted = None if status == "all" else status
        done = 0
        for summary in store.list_cases(centre, wanted, user=user):
            case = store.get_case(summary.id, user=user)
            try:
                genome = store.genome_evidence(summary.id, kb, user=user)
                diagnosis = diagnose(case, kb=kb, lenient=True, genome=genome)
            except InputError as exc:  # VcfUnavailable included
                vcf = f"VCF file {exc.reason}: " if isinstance(exc, VcfUnavailable) else ""
                _note(f"{summary.id} skipped: {vcf}{exc}")
                skipped += 1
                continue
            store.record_analysis(summary.id, diagnosis, user=user)
            done += 1
    extra = f"; {skipped} skipped" if skipped else ""
    _say(f"{done} cases analysed with KB {kb.version}{extra}")


def _observation_row(o: ObservationRecord) -> dict[str, Any]:
    return {
        "id": o.id,
        "term_id": o.term_id,
        "label": o.label,
        "excluded": "yes" if o.excluded else "no",
        "provenance": o.provenance,
        "review_status": o.review_status,
        "evidence": o.evidence,
        "reviewed_by": o.reviewed_by,
        "reviewed_at": _when(o.reviewed_at),
    }


def _observation_json(o: ObservationRecord) -> dict[str, Any]:
    return {**_observation_row(o), "excluded": o.excluded, "case_id": o.case_id}


def _print_observations(
    found: Sequence[ObservationRecord], case_id: str, fmt: OutputFormat, title: str
) -> None:
    print_rows(
        [_observation_row(o) for o in found],
        OBSERVATION_COLUMNS,
        fmt,
        title=title,
        json_payload={"case_id": case_id, "observations": [_observation_json(o) for o in found]},
    )


CASE_ARGUMENT = typer.Argument(..., help="Id of a stored case.")


@app.command("observations")
def observations(
    case_id: str = CASE_ARGUMENT,
    fmt: OutputFormat = FORMAT_OPTION,
    user: str = USER_OPTION,
) -> None:
    """The case's phenotype observations: where each came from and its review.

    Only accepted observations are the case's phenotype (what diagnose and reanalysis see);
    proposed ones (from notes and lab results) wait for `raredx store review`.
    """
    found = _with_store(lambda s: s.observations(case_id, user=user))
    _print_observations(found, case_id, fmt, f"Observations of {case_id}")


@app.command("review")
def review(
    case_id: str = CASE_ARGUMENT,
    observation_id: int = typer.Argument(..., help="Observation id (raredx store observations)."),
    accept: bool = typer.Option(False, "--accept", help="Accept: the term joins the phenotype."),
    reject: bool = typer.Option(False, "--reject", help="Reject: the term leaves the phenotype."),
    excluded: bool | None = typer.Option(
        None,
        "--excluded/--present",
        help="With --accept: the patient does not have (--excluded) or has (--present) it.",
    ),
    fmt: OutputFormat = FORMAT_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Accept or reject one observation of CASE_ID; records who reviewed it and when."""
    with exit_on_error():
        if accept == reject:
            raise InputError("give one of --accept and --reject")
    status = "accepted" if accept else "rejected"
    record = _with_store(
        lambda s: s.review_observation(
            observation_id, status=status, excluded=excluded, user=user, case_id=case_id
        )
    )
    _print_observations([record], case_id, fmt, f"Observation {observation_id} of {case_id}")


def _term_observations(
    kb: KnowledgeBase, hpo: Sequence[str], not_hpo: Sequence[str]
) -> list[NewObservation]:
    out: list[NewObservation] = []
    for items, flag in ((hpo, False), (not_hpo, True)):
        if items:
            parsed = parse_terms(kb, ";".join(items))
            for line in parsed.warnings:
                _note(line)
            out += [NewObservation(t.id, excluded=flag, label=t.label) for t in parsed.terms]
    return out


@app.command("add-terms")
def add_terms(
    case_id: str = CASE_ARGUMENT,
    hpo: list[str] | None = typer.Option(
        None, "--hpo", help="Observed HPO terms typed by a clinician (ids or names; repeatable)."
    ),
    not_hpo: list[str] | None = typer.Option(
        None, "--not-hpo", help="Excluded HPO terms typed by a clinician (with --hpo or alone)."
    ),
    note: Path | None = typer.Option(
        None, "--note", help="Clinical note (text): its findings are proposed for review."
    ),
    labs: Path | None = typer.Option(
        None, "--labs", help="Lab results (CSV/TSV): derived terms are proposed for review."
    ),
    age: str | None = typer.Option(None, "--age", help="With --labs: age (4y, 18m, P4Y)."),
    sex: str | None = typer.Option(None, "--sex", help="With --labs: F or M."),
    fmt: OutputFormat = FORMAT_OPTION,
    kb_version: str | None = KB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Add phenotype observations to a stored case.

    Typed terms (--hpo, --not-hpo) are accepted at once. Terms read from a note (--note) or
    derived from lab results (--labs) are *proposed*: they join the case's phenotype only once
    accepted with `raredx store review`. A term the case already has is not added twice.
    """
    with exit_on_error():
        typed = bool(hpo or not_hpo)
        if typed + (note is not None) + (labs is not None) != 1:
            raise InputError("give one of --hpo/--not-hpo, --note or --labs")
        if (age is not None or sex is not None) and labs is None:
            raise InputError("--age and --sex go with --labs")
        kb = load_kb(kb_version)
        if typed:
            new, provenance = _term_observations(kb, hpo or [], not_hpo or []), "typed"
        elif note is not None:
            new, provenance = note_observations(kb, read_note(note)), "note"
        else:
            assert labs is not None
            years = parse_age(age) if age is not None else None
            new = lab_observations(labs_to_hpo(read_labs(labs), kb, years, sex))
            provenance = "labs"
        if not new:
            raise InputError(f"no HPO term found in {note or labs}")
        with Store.open() as store:
            ids = store.add_observations(case_id, new, provenance=provenance, user=user)
            wanted = set(ids)
            found = [o for o in store.observations(case_id, user=user) if o.id in wanted]
    pending = sum(o.review_status == "proposed" for o in found)
    _say(f"{len(found)} observation(s) of {case_id} ({provenance}); {pending} waiting for review")
    _print_observations(found, case_id, fmt, f"Observations added to {case_id}")


@app.command("attach-vcf")
def attach_vcf(
    case_id: str = CASE_ARGUMENT,
    file: Path = typer.Argument(..., help="The patient's VCF or BCF (plain, gzip or bgzip)."),
    assembly: str | None = typer.Option(
        None, "--assembly", help="GRCh37 or GRCh38 (default: read from the VCF header)."
    ),
    sample: str | None = typer.Option(
        None, "--sample", help="The proband's sample column (default: the only one)."
    ),
    fmt: OutputFormat = FORMAT_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Attach a VCF to a stored case: its path, sha256 and size are recorded.

    The genotypes are read once, at the first analysis or reanalysis, and the evidence is
    cached in the store; a changed or missing file is reported instead of being used.
    """
    record = _with_store(
        lambda s: s.attach_vcf(case_id, file, assembly=assembly, sample=sample, user=user)
    )
    row = _vcf_row(record)
    print_rows([row], VCF_COLUMNS, fmt, title=f"VCF of {case_id}", json_payload=row)


def _vcf_row(v: VcfRecord) -> dict[str, Any]:
    return {
        "id": v.id,
        "case_id": v.case_id,
        "path": v.path,
        "assembly": v.assembly,
        "sample": v.sample,
        "sha256": v.sha256,
        "size": v.size,
    }


@app.command("decisions")
def decisions(
    case_id: str = CASE_ARGUMENT,
    fmt: OutputFormat = FORMAT_OPTION,
    user: str = USER_OPTION,
) -> None:
    """The clinical decisions recorded on a case (diagnosis confirmed, variant classified)."""
    found = _with_store(lambda s: s.decisions(case_id, user=user))
    rows = [_decision_row(d) for d in found]
    payload = {
        "case_id": case_id,
        "decisions": [{**_decision_row(d), "value": d.value} for d in found],
    }
    print_rows(rows, DECISION_COLUMNS, fmt, title=f"Decisions on {case_id}", json_payload=payload)


def _decision_row(d: DecisionRecord) -> dict[str, Any]:
    value = ", ".join(f"{k}={v}" for k, v in d.value.items())
    return {"id": d.id, "kind": d.kind, "value": value, "user": d.user, "created": _when(d.created)}


@app.command("share")
def share(
    case_id: str = CASE_ARGUMENT,
    off: bool = typer.Option(False, "--off", help="Stop sharing the case."),
    user: str = USER_OPTION,
) -> None:
    """Record the consent to share a case through Matchmaker Exchange (--off withdraws it)."""
    _with_store(lambda s: s.set_mme_sharing(case_id, not off, user=user))
    _say(f"{case_id}: {'not shared' if off else 'shared'} through Matchmaker Exchange")
