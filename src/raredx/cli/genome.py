"""`raredx genome`: read VCF/BCF files, show per-gene genotype evidence, compile local stores."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import typer

from raredx.case import read_phenopacket
from raredx.case.model import Sex
from raredx.cli._options import CLINVAR_OPTION, FORMAT_OPTION, FREQUENCY_OPTION, KB_OPTION
from raredx.cli._output import OutputFormat, err_console, exit_on_error, print_json, print_rows
from raredx.errors import InputError
from raredx.explanation import gene_in_vcf
from raredx.genome import (
    GeneGenotype,
    GenomeConfig,
    GenomeEvidence,
    Pedigree,
    VariantEvidence,
    annotation_sources,
    collect_evidence,
    compile_clinvar,
    compile_frequency,
    read_header,
    read_ped,
)
from raredx.genome.pedigree import bind_samples, case_vcf, pedigree_from_case
from raredx.genome.vcf import VcfHeader, VcfStream, contig_index, normalise_contig
from raredx.kb import load_kb

__all__ = ["app", "show_genes"]

app = typer.Typer(
    help="Read VCF/BCF files: samples, genome build, annotations, per-gene genotype evidence.",
    no_args_is_help=True,
)

_NO_ANNOTATION = "none: genes by position, consequence unknown"
_COUNT_ORDER = (
    "records",
    "non-primary contig",
    "not carried by the proband",
    "outside genes",
    "symbolic or spanning-deletion allele",
    "alleles in genes",
    "set aside: frequency",
    "set aside: quality",
    "set aside: consequence",
    "qualifying",
)

PED_OPTION = typer.Option(None, "--ped", help="PED file naming the proband, parents, relatives.")
PROBAND_OPTION = typer.Option(None, "--proband", help="The proband's id (PED with several).")
ASSEMBLY_OPTION = typer.Option(
    None, "--assembly", help="GRCh37 or GRCh38 (default: read from the VCF header)."
)


def _pedigree(
    header: VcfHeader, ped: Path | None, proband: str | None, sex: str | None
) -> Pedigree | None:
    if ped is not None:
        return read_ped(ped, proband)
    if proband is not None or sex is not None:
        sample = proband or (header.samples[0] if len(header.samples) == 1 else None)
        if sample is None:
            raise InputError(f"{header.path}: several samples: give --ped or --proband")
        if sex is not None and sex.upper() not in ("MALE", "FEMALE"):
            raise InputError(f"--sex must be male or female, not {sex!r}")
        return Pedigree.singleton(sample, Sex(sex.upper()) if sex else Sex.UNKNOWN_SEX)
    return None


@app.command("inspect")
def inspect(
    vcf: Path = typer.Argument(..., help="VCF or BCF file (plain, gzip or bgzip)."),
    ped: Path | None = PED_OPTION,
    proband: str | None = PROBAND_OPTION,
    assembly: str | None = ASSEMBLY_OPTION,
    count: bool = typer.Option(True, "--count/--no-count", help="Read every record to count."),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Summarise a VCF: samples (with their PED roles), build, annotations, records."""
    with exit_on_error():
        header = read_header(vcf, assembly)
        roles: dict[str, str] = {}
        if ped is not None:
            pedigree = bind_samples(read_ped(ped, proband), header.samples, source=str(vcf))
            roles = {
                m.sample: f"{pedigree.role(m.id)}, {m.sex.value.lower()}, "
                + {True: "affected", False: "unaffected", None: "status unknown"}[m.affected]
                for m in pedigree.members
                if m.sample is not None
            }
        counts = _count(header) if count else {}
    sources = annotation_sources(header.info)
    rows: list[dict[str, Any]] = [
        {"item": "file", "value": header.path},
        {"item": "format", "value": f"{header.file_format} ({header.compression})"},
        {"item": "genome build", "value": f"{header.assembly} ({header.assembly_source})"},
        {"item": "contig names", "value": "chr1…" if header.chr_prefix else "1…"},
        {"item": "samples", "value": len(header.samples)},
    ]
    for s in header.samples:
        rows.append({"item": f"  {s}", "value": roles.get(s, "")})
    described = sources.describe()
    if not described:
        rows.append(
            {"item": "annotations", "value": "none: genes by position, consequence unknown"}
        )
    for label, fields in described:
        rows.append({"item": label, "value": fields})
    for key, n in counts.items():
        rows.append({"item": key, "value": n})
    payload = {
        "file": header.path,
        "format": header.file_format,
        "compression": header.compression,
        "assembly": str(header.assembly),
        "assembly_source": header.assembly_source,
        "chr_prefix": header.chr_prefix,
        "samples": [{"sample": s, "role": roles.get(s)} for s in header.samples],
        "annotations": dict(described),
        "counts": counts,
    }
    print_rows(rows, ["item", "value"], fmt, title=f"{vcf.name}", json_payload=payload)


def _count(header: VcfHeader) -> dict[str, int]:
    counts: Counter[str] = Counter()
    per_contig: Counter[str] = Counter()
    cache: dict[str, str | None] = {}
    with VcfStream(header, samples=[]) as stream:
        for record in stream:
            raw = record.CHROM
            if raw not in cache:
                cache[raw] = normalise_contig(raw)
            chrom = cache[raw]
            if chrom is None:
                counts["records on other contigs"] += 1
                continue
            per_contig[chrom] += 1
            n = len(record.ALT)
            if n > 1:
                counts["multi-allelic records"] += 1
            counts["ALT alleles"] += n
            if record.FILTER is not None:
                counts["records not PASS"] += 1
        total = stream.records
    out = {"records": total, **counts}
    for chrom, n in sorted(per_contig.items(), key=lambda kv: contig_index(kv[0])):
        out[f"records on {chrom}"] = n
    return out


@app.command("genes")
def genes(
    vcf: Path | None = typer.Argument(None, help="VCF/BCF (default: the one --case names)."),
    ped: Path | None = PED_OPTION,
    proband: str | None = PROBAND_OPTION,
    sex: str | None = typer.Option(None, "--sex", help="Proband's sex without a PED: male/female."),
    case: Path | None = typer.Option(
        None, "--case", help="Phenopacket (or Family): pedigree, sample ids and VCF from it."
    ),
    assembly: str | None = ASSEMBLY_OPTION,
    gene: list[str] = typer.Option(
        [], "--gene", "-g", help="Show this gene's variants and fits in detail (repeatable)."
    ),
    clinvar: Path | None = CLINVAR_OPTION,
    frequency: Path | None = FREQUENCY_OPTION,
    all_genes: bool = typer.Option(
        False, "--all", help="List every gene with a qualifying variant, not only those that fit."
    ),
    limit: int = typer.Option(0, "--limit", help="Show at most this many genes (0: all)."),
    fmt: OutputFormat = FORMAT_OPTION,
    kb_version: str | None = KB_OPTION,
) -> None:
    """Per-gene genotype evidence: which modes of inheritance each gene's variants fit, how they
    segregate, and why the other variants were set aside."""
    with exit_on_error():
        mapping: dict[str, str] = {}
        pedigree: Pedigree | None = None
        if case is not None:
            packet = read_phenopacket(case)
            pedigree, mapping = pedigree_from_case(packet)
            if vcf is None:
                vcf, named = case_vcf(packet, case.parent)
                assembly = assembly or named
        if vcf is None:
            raise InputError("give a VCF (or a --case whose files name one)")
        header = read_header(vcf, assembly)
        if ped is not None or proband is not None or sex is not None:
            pedigree = _pedigree(header, ped, proband, sex)
        evidence = collect_evidence(
            header,
            pedigree,
            load_kb(kb_version),
            config=GenomeConfig(),
            clinvar=clinvar,
            frequency=frequency,
            sample_map=mapping,
        )
        chosen = [evidence.gene(g) for g in gene]
        for name, found in zip(gene, chosen, strict=True):
            if found is None and not evidence.variants(name):
                err_console.print(f"{name}: the proband carries no variant in this gene")
    if gene:
        show_genes(evidence, gene, fmt)
        return
    _list_genes(evidence, all_genes, limit, fmt)


def _fits_text(g: GeneGenotype) -> tuple[str, bool]:
    """Compatible fits, those of the gene's own modes first (others in brackets), and whether
    any of the gene's own modes fits."""
    own = {f.mode for m in g.modes if (f := g.fit(m)) is not None} if g.modes else None
    parts: list[str] = []
    others: list[str] = []
    for f in g.fits:
        if f.compatible:
            extra = f" {f.phase}" if f.phase and f.phase != "unknown" else ""
            text = f"{f.mode.value}: {f.genotype}{extra}"
            (parts if own is None or f.mode in own else others).append(text)
    shown = "; ".join(parts) + (f" ({'; '.join(others)})" if others else "")
    return shown.strip(), bool(parts)


def _list_genes(evidence: GenomeEvidence, all_genes: bool, limit: int, fmt: OutputFormat) -> None:
    rows: list[dict[str, Any]] = []
    payload: list[dict[str, Any]] = []
    for g in evidence:
        fits, own = _fits_text(g)
        if not own and not all_genes:
            continue
        rows.append(
            {
                "gene": g.symbol,
                "chrom": g.chrom,
                "modes": ",".join(m.value for m in g.modes) or "?",
                "qualifying": len(g.qualifying),
                "fits": fits or "-",
                "set aside": ", ".join(f"{r.value} {n}" for r, n in g.set_aside),
            }
        )
        if fmt is OutputFormat.json:
            payload.append(g.to_dict())
        if limit and len(rows) >= limit:
            break
    summary: dict[str, Any] = {"proband": evidence.pedigree.proband}
    summary.update({k: evidence.counts[k] for k in _COUNT_ORDER if k in evidence.counts})
    if fmt is OutputFormat.json:
        print_json({"summary": summary, "genes": payload})
        return
    cols = ["gene", "chrom", "modes", "qualifying", "fits", "set aside"]
    print_rows(
        rows, cols, fmt, title=f"Genes with qualifying variants ({evidence.header.assembly})"
    )
    if fmt is OutputFormat.table:
        print_rows(
            [{"item": k, "value": v} for k, v in summary.items()],
            ["item", "value"],
            fmt,
            title="Records",
        )


def _variant_row(v: VariantEvidence) -> dict[str, Any]:
    family = " ".join(f"{c.individual}:{c.genotype}" for c in v.calls[1:])
    return {
        "variant": v.key,
        "consequence": v.consequence_label,
        "hgvs": " ".join(x for x in (v.hgvs_c.split(":")[-1], v.hgvs_p.split(":")[-1]) if x),
        "frequency": "" if v.frequency is None else f"{v.frequency:.4%}",
        "clinvar": "" if v.clinvar is None else f"{v.clinvar.value} ({v.clinvar_stars}*)",
        "proband": v.proband.genotype,
        "family": family,
        "status": "qualifies"
        if v.qualifies
        else "; ".join(f"{s.reason.value}: {s.detail}" for s in v.set_aside),
    }


def show_genes(evidence: GenomeEvidence, queries: list[str], fmt: OutputFormat) -> None:
    """Print each gene's fits and variants (table/tsv); for json, a list of one object per
    gene (`raredx.explanation.gene_in_vcf`)."""
    if fmt is OutputFormat.json:
        print_json([gene_in_vcf(evidence, q) for q in queries])
        return
    for q in queries:
        g = evidence.gene(q)
        variants = evidence.variants(q)
        if g is not None:
            fit_rows = [
                {
                    "mode": f.mode.value,
                    "fits": "yes" if f.compatible else "no",
                    "genotype": f.genotype,
                    "variants": " + ".join(f.variants),
                    "phase": f.phase,
                    "segregation": ", ".join(f.segregation.consistent) or "-",
                    "why not": f.reason,
                }
                for f in g.fits
            ]
            cols = ["mode", "fits", "genotype", "variants", "phase", "segregation", "why not"]
            modes = ", ".join(m.label for m in g.modes) or "unknown"
            print_rows(fit_rows, cols, fmt, title=f"{g.symbol} ({g.hgnc_id}): diseases {modes}")
        rows = [_variant_row(v) for v in variants]
        cols = [
            "variant",
            "consequence",
            "hgvs",
            "frequency",
            "clinvar",
            "proband",
            "family",
            "status",
        ]
        print_rows(rows, cols, fmt, title=f"{q}: variants the proband carries")


@app.command("compile-clinvar")
def compile_clinvar_cmd(
    vcf: Path = typer.Argument(..., help="A ClinVar VCF (clinvar.vcf.gz of the right build)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the store to."),
    assembly: str | None = ASSEMBLY_OPTION,
) -> None:
    """Compile a local ClinVar VCF once into a compact indexed store (never downloaded)."""
    with exit_on_error():
        store = compile_clinvar(vcf, out, assembly=assembly)
    err_console.print(f"{out}: {len(store):,} ClinVar alleles ({store.assembly})", highlight=False)


@app.command("compile-frequency")
def compile_frequency_cmd(
    path: Path = typer.Argument(..., help="Sites VCF/BCF or TSV of population frequencies."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the store to."),
    assembly: str | None = ASSEMBLY_OPTION,
    field: list[str] = typer.Option([], "--field", help="INFO key / column to read (repeat)."),
) -> None:
    """Compile a local population-frequency file once into a compact indexed store."""
    with exit_on_error():
        store = compile_frequency(path, out, assembly=assembly, fields=tuple(field) or None)
    err_console.print(f"{out}: {len(store):,} alleles ({store.assembly})", highlight=False)
