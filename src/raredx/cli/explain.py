"""`raredx explain --gene X`: why a gene ranks where it does, or why it is not higher.

Both halves of the evidence: the phenotype (the gene's diseases, their rank and likelihood
ratio against the patient's findings) and the genotype (per mode of inheritance: the genotype
found, how often an uninvolved gene of its size shows one in this VCF, the ratio), then every
variant the proband carries in the gene with the reason each one set aside was set aside.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from raredx.case import Case, read_cases
from raredx.cli._options import CLINVAR_OPTION, FORMAT_OPTION, FREQUENCY_OPTION, KB_OPTION
from raredx.cli._output import OutputFormat, exit_on_error, out_console, print_json, print_rows
from raredx.cli.diagnose import GenomeInput
from raredx.cli.genome import show_genes
from raredx.diagnosis import diagnose
from raredx.errors import InputError
from raredx.explanation import gene_explanation
from raredx.genome import GenomeEvidence
from raredx.kb import KnowledgeBase, load_kb
from raredx.rank.result import Diagnosis

__all__ = ["explain"]

_ALL = 100_000


def explain(
    gene: str = typer.Option(..., "--gene", "-g", help="The gene to explain (symbol or HGNC id)."),
    case: Path | None = typer.Argument(
        None, help="A phenopacket (its VCF is used when its files name one).", show_default=False
    ),
    hpo: str | None = typer.Option(None, "--hpo", help="Observed HPO terms (instead of a case)."),
    not_hpo: str | None = typer.Option(None, "--not-hpo", help="Excluded HPO terms (with --hpo)."),
    vcf: Path | None = typer.Option(None, "--vcf", help="The patient's VCF/BCF.", dir_okay=False),
    ped: Path | None = typer.Option(None, "--ped", help="PED file (with --vcf).", dir_okay=False),
    assembly: str | None = typer.Option(None, "--assembly", help="GRCh37 or GRCh38."),
    clinvar: Path | None = CLINVAR_OPTION,
    frequency: Path | None = FREQUENCY_OPTION,
    fmt: OutputFormat = FORMAT_OPTION,
    kb_version: str | None = KB_OPTION,
) -> None:
    """Why a gene ranks where it does: phenotype and genotype evidence, variant by variant.

    Shows the gene's diseases with both likelihood ratios, its genotype under each mode of
    inheritance, and every variant the proband carries with the reason it was kept or set aside.
    """
    with exit_on_error():
        if (case is None) == (hpo is None):
            raise InputError("give one phenopacket or --hpo terms")
        if ped is not None and vcf is None:
            raise InputError("--ped goes with --vcf")
        kb = load_kb(kb_version)
        g = kb.resolve_gene(gene)
        genome = GenomeInput(vcf, ped, assembly, clinvar, frequency, True)
        subject: Case | str
        if case is not None:
            items = list(read_cases([case]))
            if len(items) != 1:
                raise InputError(f"{case}: give one case ({len(items)} read)")
            item = items[0]
            if item.case is None:
                raise item.error or InputError(f"{case}: unreadable case")
            subject = item.case
            evidence = genome.for_case(kb, item.case, item.source)
        else:
            subject = hpo or ""
            evidence = genome.for_terms(kb)
        kwargs: dict[str, Any] = {"kb": kb, "top": _ALL, "top_genes": _ALL, "next_findings": 0}
        if case is None:
            kwargs["excluded"] = not_hpo or ""
        plain = diagnose(subject, explain=False, **kwargs)
        full = diagnose(subject, genome=evidence, explain=False, **kwargs) if evidence else None
        _report(kb, g, plain, full, evidence, fmt)


def _report(
    kb: KnowledgeBase,
    gene: int,
    plain: Diagnosis,
    full: Diagnosis | None,
    evidence: GenomeEvidence | None,
    fmt: OutputFormat,
) -> None:
    summary = gene_explanation(kb, gene, plain, full, evidence, with_vcf=fmt is OutputFormat.json)
    if fmt is OutputFormat.json:
        print_json(summary)
        return
    symbol, rank_p = summary["gene"], summary["phenotype_rank"]
    result = full or plain
    diseases, modes = summary["diseases"], summary["genotype"]
    where = (
        f"rank {summary.get('rank')} with the VCF, " if full is not None else ""
    ) + f"rank {rank_p} on the phenotype alone, of {len(plain.genes)} genes"
    out_console.print(f"[bold]{escape(symbol)}[/bold] ({kb.gene_hgnc_ids[gene]}): {where}")
    out_console.print(result.notice, style="italic")
    cols = ["rank", "disease", "name", "posterior", "log10 LR phenotype", "log10 LR genotype"]
    print_rows(diseases, cols, fmt, title=f"{symbol}: its diseases in the differential")
    if modes:
        cols = ["mode", "genotype class", "variants", "background", "log10 LR"]
        print_rows(modes, cols, fmt, title=f"{symbol}: genotype evidence per mode")
        assert evidence is not None
        show_genes(evidence, [symbol], fmt)
    else:
        out_console.print("No VCF given: genotype evidence needs --vcf or a case naming one.")
