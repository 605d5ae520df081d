"""`raredx diagnose`: rank rare diseases and genes for one or many patients.

Register with ``app.command()(diagnose)``. Input is either HPO terms (``--hpo``, ``--not-hpo``)
or phenopacket files, folders and JSON Lines. Many cases load the knowledge base once, show
progress on stderr, and a bad case is reported while the others still run (exit code 2 at
the end). ``--out DIR`` writes PhEval result files per case.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from raredx.case import Case, read_cases
from raredx.cli._options import (
    CLINVAR_OPTION,
    FREQUENCY_OPTION,
    KB_OPTION,
    LENIENT_OPTION,
    NO_VCF_OPTION,
)
from raredx.cli._output import OutputFormat, err_console, exit_on_error, out_console, print_json
from raredx.cli.labs import derive_lab_terms, short_source
from raredx.diagnosis import DO_NOT_MISS_THRESHOLD
from raredx.diagnosis import diagnose as run_diagnosis
from raredx.errors import InputError, RaredxError
from raredx.genome import (
    GenomeEvidence,
    case_vcf,
    collect_evidence,
    evidence_from_case,
    read_ped,
)
from raredx.kb import KnowledgeBase, load_kb
from raredx.phenotype import (
    decode_note,
    extract_phenotype,
    parse_observed_and_excluded,
    parse_terms,
    read_note,
)
from raredx.pheval import PHEVAL_ROWS, case_stem, tsv_text, unique_stem, write_pheval
from raredx.rank.result import Diagnosis, GenotypeSupport, MatchKind

__all__ = ["GenomeInput", "diagnose"]

_TSV_COLUMNS = (
    "case",
    "rank",
    "disease_id",
    "name",
    "posterior",
    "log10_lr",
    "genes",
    "equivalent_ids",
)
_SUMMARY_COLUMNS = ("source", "case", "top_disease", "name", "posterior", "top_gene")
_MARK = {
    MatchKind.EXACT: "=",
    MatchKind.BROADER: ">",
    MatchKind.NARROWER: "<",
    MatchKind.RELATED: "~",
    MatchKind.UNRELATED: "?",
    MatchKind.NEGATED: "NOT",
    MatchKind.EXCLUDED: "-",
    MatchKind.ABSENT: "0",
}


# ------------------------------------------------------------------------------------- files
def _stem(source: str, case: Case) -> str:
    """File stem of a case's PhEval results (`raredx.pheval.case_stem`)."""
    return case_stem(source, case.id)


# ------------------------------------------------------------------------------------ output
def _evidence_text(result: Diagnosis, rank: int) -> str:
    d = result.diseases[rank]
    shown = [e for e in d.evidence if e.kind is not MatchKind.ABSENT]
    shown.sort(key=lambda e: -abs(e.log10_lr))
    parts = [f"{_MARK[e.kind]}{e.term_label} ({e.log10_lr:+.1f})" for e in shown[:4]]
    return "; ".join(parts)


def _print_table(result: Diagnosis, source: str | None, top: int) -> None:
    title = f"raredx diagnose: {result.case_id or 'patient'}" + (f" ({source})" if source else "")
    out_console.print(Text(title, style="bold"))
    out_console.print(Text(result.notice, style="italic"))
    out_console.print(
        f"Knowledge base {escape(result.kb_version)} (HPO release {escape(result.hpo_release)}); "
        f"{len(result.observed)} observed, {len(result.excluded)} excluded terms"
    )
    for line in (*result.warnings, *result.ignored):
        err_console.print(Text.assemble(("note: ", "yellow"), line), highlight=False)
    if result.genome is not None:
        gs = result.genome
        out_console.print(
            f"VCF {escape(gs.vcf)} ({gs.assembly}, proband {escape(gs.proband)}); "
            f"annotations: {escape(gs.annotations)}"
        )
    with_vcf = result.genome is not None
    table = Table(title="Diseases", show_lines=False)
    columns = ["#", "disease", "name", "posterior", "log10 LR phenotype"]
    columns += ["log10 LR genotype"] if with_vcf else []
    for col in (*columns, "genes", "key findings"):
        table.add_column(col, overflow="fold")
    for i, d in enumerate(result.diseases[:top]):
        genotype = [f"{d.genotype_log10_lr:+.1f}" if d.genotype_log10_lr is not None else ""]
        table.add_row(
            str(d.rank),
            escape(d.disease_id),
            escape(d.name),
            f"{d.posterior:.1%}",
            f"{d.log10_lr:+.1f}",
            *(genotype if with_vcf else []),
            escape(", ".join(d.genes[:4]) + (" ..." if len(d.genes) > 4 else "")),
            escape(_evidence_text(result, i)),
        )
    out_console.print(table)
    if result.genes:
        genes = Table(title="Genes", show_lines=False)
        for col in ("#", "gene", "score", "diseases", *(["genotype"] if with_vcf else [])):
            genes.add_column(col, overflow="fold")
        for g in result.genes[:top]:
            genes.add_row(
                str(g.rank),
                escape(g.symbol),
                f"{g.score:.1%}",
                escape(", ".join(g.diseases)),
                *([escape(_genotype_text(g.genotype))] if with_vcf else []),
            )
        out_console.print(genes)
    _print_treatments(result, top)
    if result.next_findings:
        nxt = Table(title="What to check next", show_lines=False)
        for col in ("finding", "gain (bits)", "P(present)", "if present", "if absent"):
            nxt.add_column(col, overflow="fold")
        for f in result.next_findings:
            nxt.add_row(
                escape(f"{f.term_id} {f.term_label}"),
                f"{f.information_gain:.2f}",
                f"{f.probability:.0%}",
                escape(", ".join(f.if_present)),
                escape(", ".join(f.if_absent)),
            )
        out_console.print(nxt)
    out_console.print(
        "Findings: = exact, > patient term broader, < patient term narrower, ~ related, "
        "? unrelated, - excluded, NOT disease annotated not to show it.",
        style="dim",
    )


def _print_treatments(result: Diagnosis, top: int) -> None:
    """Treatments of the top candidates, then the treatable diseases not to miss."""
    rows = [(d, t) for d in result.diseases[: min(top, 5)] for t in d.treatments[:3]]
    if rows:
        table = Table(title="Treatments of the top candidates (strongest evidence first)")
        for col in ("#", "disease", "therapy", "evidence", "source"):
            table.add_column(col, overflow="fold")
        for d, t in rows:
            table.add_row(
                str(d.rank),
                escape(d.name),
                escape(
                    t.therapy + (f" [{t.status.value}]" if t.status.value != "available" else "")
                ),
                escape(t.evidence_level.label),
                escape("; ".join(short_source(c) for c in t.citations[:2])),
            )
        out_console.print(table)
    if result.do_not_miss:
        miss = Table(
            title="Do not miss: treatable diseases with a posterior of "
            f"{DO_NOT_MISS_THRESHOLD:.0%} or more"
        )
        for col in ("#", "disease", "name", "posterior", "treatments"):
            miss.add_column(col, overflow="fold")
        for d in result.do_not_miss:
            therapies = ", ".join(dict.fromkeys(t.therapy for t in d.treatments[:4]))
            miss.add_row(
                str(d.rank),
                escape(d.disease_id),
                escape(d.name),
                f"{d.posterior:.1%}",
                escape(therapies),
            )
        out_console.print(miss)


def _genotype_text(support: GenotypeSupport | None) -> str:
    if support is None:
        return ""
    if not support.variants:
        return f"{support.variant_class} ({support.log10_lr:+.1f})"
    return (
        f"{support.mode} {support.genotype}: {', '.join(support.variants)} "
        f"[{support.variant_class}; background {support.background:.1%}] ({support.log10_lr:+.1f})"
    )


def _print_variants(result: Diagnosis, evidence: GenomeEvidence, top: int) -> None:
    """The variants behind the top genes' genotypes, with what the VCF says of each."""
    table = Table(title="Variants behind the top genes", show_lines=False)
    for col in (
        "gene",
        "variant",
        "zygosity",
        "consequence",
        "HGVS",
        "frequency",
        "ClinVar",
        "quality",
    ):
        table.add_column(col, overflow="fold")
    for g in result.genes[:top]:
        wanted = set(g.genotype.variants) if g.genotype else set()
        if not wanted:
            continue
        for v in evidence.variants(g.symbol, set_aside=False):
            if v.key not in wanted:
                continue
            call = v.proband
            table.add_row(
                escape(g.symbol),
                escape(v.key),
                escape(f"{call.zygosity} ({call.genotype})"),
                escape(v.consequence_label),
                escape(" ".join(x for x in (v.hgvs_c, v.hgvs_p) if x)),
                "not listed" if v.frequency is None else f"{v.frequency:.3%}",
                escape(str(v.clinvar or "")),
                escape(f"GQ {_or_unknown(call.gq)}, DP {_or_unknown(call.dp)}"),
            )
    if table.row_count:
        out_console.print(table)


def _or_unknown(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def _tsv_rows(result: Diagnosis, top: int) -> list[tuple[Any, ...]]:
    return [
        (
            result.case_id or "",
            d.rank,
            d.disease_id,
            d.name,
            f"{d.posterior:.6g}",
            d.log10_lr,
            ",".join(d.genes),
            ",".join(d.ids[1:]),
        )
        for d in result.diseases[:top]
    ]


def _report(source: str, error: RaredxError) -> None:
    where = "" if str(error).startswith(source) else f"{source}: "
    err_console.print(
        Text.assemble(("error: ", "bold red"), where, str(error)), highlight=False, soft_wrap=True
    )


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=not enabled,
        transient=True,
    )


# --------------------------------------------------------------------------------- command
_CASES = typer.Argument(
    None,
    help="Phenopacket files (.json, .json.gz), folders, or JSON Lines (.jsonl, .jsonl.gz); "
    "or give --hpo instead.",
    show_default=False,
)


def diagnose(
    cases: list[Path] | None = _CASES,
    hpo: str | None = typer.Option(
        None, "--hpo", help="Observed HPO terms: ids or names, separated by ';' or ','."
    ),
    not_hpo: str | None = typer.Option(
        None, "--not-hpo", help="Excluded HPO terms (examined and absent), as for --hpo."
    ),
    note: Path | None = typer.Option(
        None,
        "--note",
        help="A clinical note (English or French text file, '-' for stdin): its present and "
        "negated findings join --hpo/--not-hpo; they are listed on stderr for review.",
        dir_okay=False,
        allow_dash=True,
    ),
    labs: Path | None = typer.Option(
        None,
        "--labs",
        help="Lab results (CSV/TSV or FHIR R4 Observation/Bundle): abnormal results add HPO "
        "terms, normal ones exclude them (see `raredx phenotype labs`); listed for review.",
        dir_okay=False,
    ),
    age: str | None = typer.Option(
        None,
        "--age",
        help="Age at examination: years, 4y, 18m, 3y6m, 10d or P4Y (overrides cases).",
    ),
    sex: str | None = typer.Option(None, "--sex", help="M or F (overrides cases)."),
    onset: str | None = typer.Option(
        None, "--onset", help="Age at onset (as --age) or an HPO onset term such as HP:0003593."
    ),
    top: int = typer.Option(10, "--top", "-n", min=1, max=10_000, help="Diseases and genes shown."),
    fmt: OutputFormat = typer.Option(
        OutputFormat.table,
        "--format",
        "-f",
        help="table, tsv (one row per candidate) or json (the full result with evidence).",
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Write <case>-pheval_disease_result.tsv and <case>-pheval_gene_result.tsv per case "
        "into this folder; stdout then gets one summary row per case.",
        file_okay=False,
    ),
    kb_version: str | None = KB_OPTION,
    lenient: bool = LENIENT_OPTION,
    vcf: Path | None = typer.Option(
        None,
        "--vcf",
        help="The patient's VCF/BCF (plain or bgzipped): rank gene-disease pairs with the "
        "genotype too. Phenopackets whose files name a VCF use it without this option.",
        dir_okay=False,
    ),
    ped: Path | None = typer.Option(
        None,
        "--ped",
        help="PED file naming proband, parents, relatives (with --vcf).",
        dir_okay=False,
    ),
    assembly: str | None = typer.Option(
        None, "--assembly", help="GRCh37 or GRCh38 (default: read from the VCF header)."
    ),
    clinvar: Path | None = CLINVAR_OPTION,
    frequency: Path | None = FREQUENCY_OPTION,
    no_vcf: bool = NO_VCF_OPTION,
) -> None:
    """Rank rare diseases and genes from the phenotype, notes, labs and VCF (decision support).

    raredx supports, and never replaces, the clinician's judgement. Exit code 2 when the input
    is unusable or when any case of a batch failed (the others are still ranked).
    """
    with exit_on_error():
        typed = hpo is not None or note is not None or labs is not None
        if cases and typed:
            raise InputError("give phenopacket files or --hpo/--note/--labs, not both")
        if not cases and not typed:
            raise InputError(
                "nothing to diagnose",
                ["give --hpo TERMS, --note FILE, --labs FILE or phenopacket files"],
            )
        if cases and not_hpo is not None:
            raise InputError("--not-hpo goes with --hpo; phenopackets carry their excluded terms")
        if no_vcf and (vcf or ped):
            raise InputError("--no-vcf contradicts --vcf/--ped")
        if ped is not None and vcf is None:
            raise InputError("--ped goes with --vcf")
        if vcf is not None and cases and (len(cases) > 1 or cases[0].is_dir()):
            raise InputError("--vcf belongs to one patient: give one phenopacket with it")
        kb = load_kb(kb_version)
        genome = GenomeInput(vcf, ped, assembly, clinvar, frequency, not no_vcf)
        if typed:
            observed, excluded = _typed_terms(kb, hpo or "", not_hpo or "", note, labs, age, sex)
            _single(kb, observed, excluded, age, sex, onset, top, fmt, out, genome)
            return
        failed = _batch(kb, cases or [], age, sex, onset, top, fmt, out, lenient, genome)
    if failed:
        raise typer.Exit(code=2)


@dataclass(frozen=True, slots=True)
class GenomeInput:
    """The genome options of one `diagnose` call."""

    vcf: Path | None
    ped: Path | None
    assembly: str | None
    clinvar: Path | None
    frequency: Path | None
    enabled: bool

    def _options(self) -> dict[str, Any]:
        return {"assembly": self.assembly, "clinvar": self.clinvar, "frequency": self.frequency}

    def for_terms(self, kb: KnowledgeBase) -> GenomeEvidence | None:
        vcf = self.vcf
        if vcf is None:
            return None
        pedigree = read_ped(self.ped) if self.ped is not None else None
        return _read(vcf, lambda: collect_evidence(vcf, pedigree, kb, **self._options()))

    def for_case(self, kb: KnowledgeBase, case: Case, source: str) -> GenomeEvidence | None:
        """The case's VCF evidence: --vcf (with --ped, else the case's pedigree), else the VCF
        its files name (relative to the phenopacket's folder); None without either."""
        if not self.enabled or (self.vcf is None and not _names_vcf(case)):
            return None
        if self.ped is not None and self.vcf is not None:
            pedigree, mapping = read_ped(self.ped), None
            vcf = self.vcf
            return _read(
                vcf,
                lambda: collect_evidence(vcf, pedigree, kb, sample_map=mapping, **self._options()),
            )
        base = Path(source.rsplit(":", 1)[0] if ":" in Path(source).name else source).parent
        where = self.vcf or case_vcf(case, base)[0]
        options = {k: v for k, v in self._options().items() if v is not None}
        return _read(
            where, lambda: evidence_from_case(case, kb, base=base, vcf=self.vcf, **options)
        )


def _names_vcf(case: Case) -> bool:
    try:
        case_vcf(case)
    except InputError:
        return False
    return True


def _read(vcf: Path, reader: Callable[[], GenomeEvidence]) -> GenomeEvidence:
    with err_console.status(f"reading {vcf}", spinner="dots"):
        return reader()


def _emit(result: Diagnosis, top: int, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.json:
        print_json(result.to_dict())
    elif fmt is OutputFormat.tsv:
        sys.stdout.write(tsv_text(_TSV_COLUMNS, _tsv_rows(result, top)))
    else:
        _print_table(result, None, top)


def _typed_terms(
    kb: KnowledgeBase,
    hpo: str,
    not_hpo: str,
    note: Path | None,
    labs: Path | None,
    age: str | None,
    sex: str | None,
) -> tuple[list[str], list[str]]:
    """Observed and excluded terms from --hpo/--not-hpo, the note and the lab results (those
    two listed on stderr for review). An observed term wins over an exclusion of it or of an
    ancestor (a patient with a term has its ancestors)."""
    observed: list[str] = []
    excluded: list[str] = []
    if hpo:
        typed = parse_observed_and_excluded(kb, hpo, not_hpo)
        observed, excluded = [t.id for t in typed.observed], [t.id for t in typed.excluded]
        for line in typed.warnings:
            err_console.print(Text.assemble(("note: ", "yellow"), line), highlight=False)
    elif not_hpo:
        excluded = list(parse_terms(kb, not_hpo).ids)
    derived_present: list[str] = []
    derived_excluded: list[str] = []
    if note is not None:
        text = (
            decode_note(sys.stdin.buffer.read(), "stdin") if str(note) == "-" else read_note(note)
        )
        found = extract_phenotype(kb, text)
        rows = [
            (t.id, t.label, str(t.status), " / ".join(text[x:y] for x, y in t.spans[:2]))
            for t in found.terms
        ]
        title = f"Findings read from {note} (review them; the negated ones count as excluded)"
        _print_review(title, rows)
        derived_present += found.present_ids
        derived_excluded += found.excluded_ids
    if labs is not None:
        lab_observed, lab_excluded, lab_table = derive_lab_terms(labs, kb, age, sex)
        rows = [
            (
                str(r["hpo_id"]),
                str(r["hpo_label"]),
                "excluded" if r["excluded"] == "yes" else "present",
                f"{r['test']} {r['given']} ({r['outcome']}; {r['interval']}, {r['interval_from']})",
            )
            for r in lab_table
        ]
        _print_review(f"Terms from the lab results in {labs} (review them)", rows)
        derived_present += lab_observed
        derived_excluded += lab_excluded
    observed += [t for t in dict.fromkeys(derived_present) if t not in observed]
    implied = {a for tid in observed for a in _ancestors(kb, tid)}
    for tid in dict.fromkeys(derived_excluded):
        term = kb.lookup_term(tid)
        if tid not in excluded and (term is None or term.index not in implied):
            excluded.append(tid)
    if not observed:
        raise InputError(
            "no present finding",
            ["none given with --hpo, recognised in the note or derived from the lab results"],
        )
    return observed, excluded


def _ancestors(kb: KnowledgeBase, term_id: str) -> list[int]:
    term = kb.lookup_term(term_id)
    return [] if term is None else [int(a) for a in kb.ancestors(term.index)]


def _print_review(title: str, rows: list[tuple[str, str, str, str]]) -> None:
    table = Table(title=title, show_lines=False)
    for col in ("term", "label", "status", "text"):
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*(escape(x) for x in row))
    err_console.print(table)


def _single(
    kb: KnowledgeBase,
    hpo: list[str],
    not_hpo: list[str],
    age: str | None,
    sex: str | None,
    onset: str | None,
    top: int,
    fmt: OutputFormat,
    out: Path | None,
    genome: GenomeInput,
) -> None:
    evidence = genome.for_terms(kb)
    result = run_diagnosis(
        hpo,
        excluded=not_hpo,
        age=age,
        sex=sex,
        onset=onset,
        kb=kb,
        top=max(top, PHEVAL_ROWS) if out else top,
        top_genes=max(top, PHEVAL_ROWS) if out else top,
        case_id="query",
        genome=evidence,
    )
    if out is not None:
        write_pheval(result, out, "query")
    _emit(result, top, fmt)
    if fmt is OutputFormat.table and evidence is not None:
        _print_variants(result, evidence, top)


def _batch(
    kb: KnowledgeBase,
    paths: list[Path],
    age: str | None,
    sex: str | None,
    onset: str | None,
    top: int,
    fmt: OutputFormat,
    out: Path | None,
    lenient: bool,
    genome: GenomeInput,
) -> int:
    failed = 0
    summaries: list[dict[str, Any]] = []
    json_items: list[dict[str, Any]] = []
    tsv_rows: list[tuple[Any, ...]] = []
    used_stems: set[str] = set()
    n_rows = max(top, PHEVAL_ROWS) if out else top
    results = read_cases(paths)
    show_progress = err_console.is_terminal and (out is not None or fmt is not OutputFormat.table)
    with _progress(show_progress) as progress:
        task = progress.add_task("diagnosing", total=None)
        for item in results:
            progress.advance(task)
            if item.case is None:
                failed += 1
                _report(item.source, item.error or InputError("unreadable case"))
                continue
            try:
                evidence = genome.for_case(kb, item.case, item.source)
                result = run_diagnosis(
                    item.case,
                    age=age,
                    sex=sex,
                    onset=onset,
                    kb=kb,
                    top=n_rows,
                    top_genes=n_rows,
                    next_findings=0 if out else 5,
                    explain=not out and fmt is not OutputFormat.tsv,
                    lenient=lenient,
                    genome=evidence,
                )
            except RaredxError as exc:
                failed += 1
                _report(f"{item.source} ({item.case.id})", exc)
                continue
            if out is not None:
                stem = unique_stem(_stem(item.source, item.case), used_stems)
                write_pheval(result, out, stem)
                best = result.top
                gene = result.genes[0].symbol if result.genes else None
                summaries.append(
                    {
                        "source": item.source,
                        "case": item.case.id,
                        "top_disease": best.disease_id if best else None,
                        "name": best.name if best else None,
                        "posterior": f"{best.posterior:.3f}" if best else None,
                        "top_gene": gene,
                    }
                )
            elif fmt is OutputFormat.json:
                json_items.append({"source": item.source, **result.to_dict()})
            elif fmt is OutputFormat.tsv:
                tsv_rows.extend(_tsv_rows(result, top))
            else:
                _print_table(result, item.source, top)
                if evidence is not None:
                    _print_variants(result, evidence, top)
    if out is not None:
        _print_summary(summaries, fmt)
    elif fmt is OutputFormat.json:
        print_json(json_items[0] if len(json_items) == 1 else json_items)
    elif fmt is OutputFormat.tsv:
        sys.stdout.write(tsv_text(_TSV_COLUMNS, tsv_rows))
    return failed


def _print_summary(rows: list[dict[str, Any]], fmt: OutputFormat) -> None:
    if fmt is OutputFormat.json:
        print_json(rows)
    elif fmt is OutputFormat.tsv:
        sys.stdout.write(
            tsv_text(_SUMMARY_COLUMNS, [tuple(r[c] or "" for c in _SUMMARY_COLUMNS) for r in rows])
        )
    else:
        table = Table(title="PhEval results written", show_lines=False)
        for c in _SUMMARY_COLUMNS:
            table.add_column(c, overflow="fold")
        for r in rows:
            table.add_row(*(escape(str(r[c] or "")) for c in _SUMMARY_COLUMNS))
        out_console.print(table)
