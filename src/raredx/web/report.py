"""What the results page and the report show, built from a stored analysis.

`analysis_view` turns an `AnalysisRecord` (its results are `Diagnosis.to_dict()`) into plain
view objects: the ranked diseases and genes with their posterior bars, the patient's findings
(in French where the KB has a French label), the explanation matrix (findings x top
candidates, each cell the finding's log10 likelihood ratio and how it matched), the findings
to check next, treatments, the "do not miss" list and, when a VCF was analysed, its variants
with the reason each was kept or set aside. `render_pdf` prints the report with WeasyPrint,
reading nothing but the package's own style sheet.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote

from raredx.errors import InputError
from raredx.genome import GenomeEvidence
from raredx.kb import KnowledgeBase
from raredx.store import AnalysisRecord

__all__ = [
    "MATRIX_CANDIDATES",
    "VARIANTS_PER_GENE",
    "VARIANT_GENES",
    "AnalysisView",
    "Cell",
    "DiseaseView",
    "EvidenceView",
    "FindingView",
    "GeneView",
    "GenomeView",
    "MatrixRow",
    "MatrixView",
    "NextFindingView",
    "SummaryRow",
    "TreatmentView",
    "VariantView",
    "analysis_view",
    "bar_width",
    "localized_label",
    "render_pdf",
    "variant_rows",
]

MATRIX_CANDIDATES = 5
"""Candidates (columns) of the explanation matrix."""
VARIANT_GENES = 10
"""Top genes whose variants the variant table lists."""
VARIANTS_PER_GENE = 25
"""At most this many variants per gene (qualifying ones first)."""


def bar_width(value: float | None) -> int:
    """A 0-1 value as a whole percentage for a CSS width class (``w0`` ... ``w100``); values
    above 0 never round to an empty bar."""
    if value is None or not math.isfinite(value) or value <= 0:
        return 0
    return max(1, min(100, round(value * 100)))


def localized_label(kb: KnowledgeBase, term_id: str, label: str | None, lang: str) -> str:
    """The term's French label when `lang` is fr and the KB has one; else the KB's English
    label, else `label`, else the id."""
    found = kb.lookup_term(term_id)
    if found is None:
        return label or term_id
    if lang == "fr":
        french = kb.term_labels_fr[found.index]
        if french:
            return str(french)
    return str(kb.term_labels[found.index]) or label or term_id


@dataclass(frozen=True, slots=True)
class FindingView:
    id: str
    label: str
    excluded: bool


@dataclass(frozen=True, slots=True)
class EvidenceView:
    term_id: str
    label: str
    kind: str
    log10_lr: float
    annotation_id: str | None
    annotation_label: str | None
    frequency: float | None
    source: str | None


@dataclass(frozen=True, slots=True)
class TreatmentView:
    therapy: str
    level: str
    citations: tuple[str, ...]
    status: str
    cautions: tuple[str, ...]
    genotype: str
    origin: str


@dataclass(frozen=True, slots=True)
class DiseaseView:
    rank: int
    disease_id: str
    other_ids: tuple[str, ...]
    name: str
    posterior: float
    bar: int
    log10_lr: float
    genotype_log10_lr: float | None
    genes: tuple[str, ...]
    evidence: tuple[EvidenceView, ...]
    treatments: tuple[TreatmentView, ...]
    parts: tuple[tuple[str, float], ...]
    """Message key and log10 LR of the parts beyond the per-finding evidence."""

    @property
    def therapies(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.therapy for t in self.treatments[:4]))


@dataclass(frozen=True, slots=True)
class GeneView:
    rank: int
    symbol: str
    hgnc_id: str
    score: float
    bar: int
    diseases: tuple[str, ...]
    genotype: str
    variants: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Cell:
    """One matrix cell: the finding's log10 LR for the candidate and how it matched (None:
    no evidence row); `tone` is its CSS class."""

    log10_lr: float | None
    kind: str | None
    tone: str
    annotation: str = ""


@dataclass(frozen=True, slots=True)
class MatrixRow:
    term_id: str
    label: str
    excluded: bool
    cells: tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class SummaryRow:
    key: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class MatrixView:
    columns: tuple[DiseaseView, ...]
    rows: tuple[MatrixRow, ...]
    summary: tuple[SummaryRow, ...]


@dataclass(frozen=True, slots=True)
class NextFindingView:
    term_id: str
    label: str
    gain: float
    probability: float
    if_present: tuple[str, ...]
    if_absent: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VariantView:
    gene: str
    key: str
    consequence: str
    hgvs: str
    frequency: str
    clinvar: str
    zygosity: str
    quality: str
    kept: bool
    in_genotype: bool
    reasons: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class GenomeView:
    vcf_name: str
    assembly: str
    proband: str
    annotations: str


@dataclass(frozen=True, slots=True)
class AnalysisView:
    case_id: str
    patient: str
    sex: str
    age_years: float | None
    analysis_id: int
    created: datetime
    kb_version: str
    hpo_release: str
    current_kb: str
    outdated: bool
    sources: tuple[tuple[str, str, str], ...]
    """(name, version, licence) of each source of the KB the analysis used."""
    parameters: tuple[tuple[str, str], ...]
    notice: str
    findings: tuple[FindingView, ...]
    diseases: tuple[DiseaseView, ...]
    genes: tuple[GeneView, ...]
    matrix: MatrixView
    next_findings: tuple[NextFindingView, ...]
    do_not_miss: tuple[DiseaseView, ...]
    warnings: tuple[str, ...]
    ignored: tuple[str, ...]
    genome: GenomeView | None
    variants: tuple[VariantView, ...] = ()
    variant_note: str | None = None

    @property
    def n_observed(self) -> int:
        return sum(not f.excluded for f in self.findings)

    @property
    def n_excluded(self) -> int:
        return sum(f.excluded for f in self.findings)


# ------------------------------------------------------------------------------ conversion
def _float(value: object, default: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    number = float(value)
    return number if math.isfinite(number) else default


def _opt_float(value: object) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _str(value: object) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _strs(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(_str(v) for v in value)


def _dicts(value: object) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, Mapping)]


def _treatment(item: Mapping[str, Any]) -> TreatmentView:
    return TreatmentView(
        therapy=_str(item.get("therapy")),
        level=_str(item.get("evidence_level")) or "annotation",
        citations=_strs(item.get("citations")),
        status=_str(item.get("status")) or "available",
        cautions=_strs(item.get("cautions")),
        genotype=_str(item.get("genotype")),
        origin=_str(item.get("origin")),
    )


def _disease(item: Mapping[str, Any], kb: KnowledgeBase, lang: str) -> DiseaseView:
    evidence = tuple(
        EvidenceView(
            term_id=_str(e.get("term_id")),
            label=localized_label(kb, _str(e.get("term_id")), _str(e.get("term_label")), lang),
            kind=_str(e.get("kind")),
            log10_lr=_float(e.get("log10_lr")),
            annotation_id=_str(e.get("annotation_id")) or None,
            annotation_label=(
                localized_label(kb, _str(e["annotation_id"]), _str(e.get("annotation_label")), lang)
                if e.get("annotation_id")
                else None
            ),
            frequency=_opt_float(e.get("frequency")),
            source=_str(e.get("source")) or None,
        )
        for e in _dicts(item.get("evidence"))
    )
    parts = [
        ("explain.absent", _float(item.get("absent_log10_lr"))),
        ("explain.onset", _float(item.get("onset_log10_lr"))),
        ("explain.sex", _float(item.get("sex_log10_lr"))),
    ]
    genotype = _opt_float(item.get("genotype_log10_lr"))
    if genotype is not None:
        parts.append(("explain.genotype", genotype))
    ids = _strs(item.get("ids"))
    disease_id = _str(item.get("disease_id"))
    posterior = _float(item.get("posterior"))
    return DiseaseView(
        rank=int(_float(item.get("rank"))),
        disease_id=disease_id,
        other_ids=tuple(i for i in ids if i != disease_id),
        name=_str(item.get("name")),
        posterior=posterior,
        bar=bar_width(posterior),
        log10_lr=_float(item.get("log10_lr")),
        genotype_log10_lr=genotype,
        genes=_strs(item.get("genes")),
        evidence=evidence,
        treatments=tuple(_treatment(t) for t in _dicts(item.get("treatments"))),
        parts=tuple(p for p in parts if p[1] != 0.0),
    )


def _genotype_text(item: object) -> tuple[str, tuple[str, ...]]:
    """The gene's VCF evidence in words, as `raredx diagnose` prints it."""
    if not isinstance(item, Mapping):
        return "", ()
    variants = _strs(item.get("variants"))
    lr = _float(item.get("log10_lr"))
    if not variants:
        return f"{_str(item.get('variant_class'))} ({lr:+.1f})", ()
    return (
        f"{_str(item.get('mode'))} {_str(item.get('genotype'))}: {', '.join(variants)} "
        f"[{_str(item.get('variant_class'))}; background "
        f"{_float(item.get('background')):.1%}] ({lr:+.1f})",
        variants,
    )


def _tone(log10_lr: float | None) -> str:
    if log10_lr is None:
        return "none"
    size = abs(log10_lr)
    strength = 3 if size >= 1.0 else 2 if size >= 0.3 else 1 if size >= 0.05 else 0
    if strength == 0:
        return "zero"
    return f"{'pos' if log10_lr > 0 else 'neg'}{strength}"


def _matrix(findings: Sequence[FindingView], diseases: Sequence[DiseaseView]) -> MatrixView:
    columns = tuple(diseases[:MATRIX_CANDIDATES])
    by_column = [{e.term_id: e for e in d.evidence if e.kind != "absent"} for d in columns]
    rows = []
    for f in findings:
        cells = []
        for found in by_column:
            e = found.get(f.id)
            if e is None:
                cells.append(Cell(None, None, "none"))
            else:
                annotation = f"{e.annotation_label} {e.annotation_id}" if e.annotation_id else ""
                cells.append(Cell(e.log10_lr, e.kind, _tone(e.log10_lr), annotation))
        rows.append(MatrixRow(f.id, f.label, f.excluded, tuple(cells)))
    summary = []
    keys = ["explain.absent", "explain.onset", "explain.sex"]
    if any(d.genotype_log10_lr is not None for d in columns):
        keys.append("explain.genotype")
    for key in keys:
        values = [dict(d.parts).get(key, 0.0) for d in columns]
        if any(values):
            summary.append(SummaryRow(key, tuple(Cell(v, None, _tone(v)) for v in values)))
    summary.append(
        SummaryRow(
            "explain.total_phenotype",
            tuple(Cell(d.log10_lr, None, _tone(d.log10_lr)) for d in columns),
        )
    )
    return MatrixView(columns, tuple(rows), tuple(summary))


def _parameters(parameters: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    out = []
    for key in sorted(parameters):
        value = parameters[key]
        if isinstance(value, float):
            text = f"{value:.6g}"
        elif isinstance(value, list | tuple):
            text = ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in value)
        else:
            text = str(value)
        out.append((str(key), text))
    return tuple(out)


def analysis_view(
    record: AnalysisRecord,
    kb: KnowledgeBase,
    *,
    lang: str,
    patient: str,
    sex: str,
    age_years: float | None,
    variants: Sequence[VariantView] = (),
    variant_note: str | None = None,
) -> AnalysisView:
    """The view of one stored analysis, labels in `lang` where the KB has them."""
    results = record.results
    findings = tuple(
        FindingView(
            _str(t.get("id")),
            localized_label(kb, _str(t.get("id")), _str(t.get("label")), lang),
            flag,
        )
        for key, flag in (("observed", False), ("excluded", True))
        for t in _dicts(results.get(key))
    )
    diseases = tuple(_disease(d, kb, lang) for d in _dicts(results.get("diseases")))
    genes = []
    for g in _dicts(results.get("genes")):
        text, keys = _genotype_text(g.get("genotype"))
        score = _float(g.get("score"))
        genes.append(
            GeneView(
                rank=int(_float(g.get("rank"))),
                symbol=_str(g.get("symbol")),
                hgnc_id=_str(g.get("hgnc_id")),
                score=score,
                bar=bar_width(score),
                diseases=_strs(g.get("diseases")),
                genotype=text,
                variants=keys,
            )
        )
    next_findings = tuple(
        NextFindingView(
            term_id=_str(f.get("term_id")),
            label=localized_label(kb, _str(f.get("term_id")), _str(f.get("term_label")), lang),
            gain=_float(f.get("information_gain")),
            probability=_float(f.get("probability")),
            if_present=_strs(f.get("if_present")),
            if_absent=_strs(f.get("if_absent")),
        )
        for f in _dicts(results.get("next_findings"))
    )
    genome = results.get("genome")
    genome_view = None
    if isinstance(genome, Mapping):
        genome_view = GenomeView(
            vcf_name=PurePosixPath(_str(genome.get("vcf"))).name,
            assembly=_str(genome.get("assembly")),
            proband=_str(genome.get("proband")),
            annotations=_str(genome.get("annotations")),
        )
    same_kb = record.kb_version == kb.version
    return AnalysisView(
        case_id=record.case_id,
        patient=patient,
        sex=sex,
        age_years=age_years,
        analysis_id=record.id,
        created=record.created,
        kb_version=record.kb_version,
        hpo_release=_str(results.get("hpo_release")),
        current_kb=kb.version,
        outdated=not same_kb,
        sources=tuple(dict.fromkeys((s.name, s.version, s.licence) for s in kb.sources))
        if same_kb
        else (),
        parameters=_parameters(record.parameters),
        notice=_str(results.get("notice")),
        findings=findings,
        diseases=diseases,
        genes=tuple(genes),
        matrix=_matrix(findings, diseases),
        next_findings=next_findings,
        do_not_miss=tuple(_disease(d, kb, lang) for d in _dicts(results.get("do_not_miss"))),
        warnings=_strs(results.get("warnings")),
        ignored=_strs(results.get("ignored")),
        genome=genome_view,
        variants=tuple(variants),
        variant_note=variant_note,
    )


def _number(value: float | None, text: str = "?") -> str:
    return text if value is None else f"{value:g}"


def variant_rows(evidence: GenomeEvidence, genes: Iterable[GeneView]) -> tuple[VariantView, ...]:
    """Every variant the proband carries in the top genes, qualifying ones first, each with
    the reason it was kept or set aside (as `raredx explain --gene` lists them)."""
    out: list[VariantView] = []
    for g in list(genes)[:VARIANT_GENES]:
        try:
            found = evidence.variants(g.symbol)
        except InputError:  # a symbol this evidence's KB does not know: nothing to show
            continue
        wanted = set(g.variants)
        for v in found[:VARIANTS_PER_GENE]:
            call = v.proband
            clinvar = "" if v.clinvar is None else f"{v.clinvar.value} ({v.clinvar_stars}*)"
            parts = (v.hgvs_c.split(":")[-1], v.hgvs_p.split(":")[-1])
            hgvs = unquote(" ".join(x for x in parts if x))  # VEP writes "=" as %3D
            out.append(
                VariantView(
                    gene=g.symbol,
                    key=v.key,
                    consequence=v.consequence_label,
                    hgvs=hgvs,
                    frequency="" if v.frequency is None else f"{v.frequency:.4%}",
                    clinvar=clinvar,
                    zygosity=f"{call.zygosity.value} ({call.genotype})",
                    quality=f"GQ {_number(call.gq)}, DP {_number(call.dp)}",
                    kept=v.qualifies,
                    in_genotype=v.key in wanted,
                    reasons=tuple((s.reason.value, s.detail) for s in v.set_aside),
                )
            )
    return tuple(out)


# ------------------------------------------------------------------------------------ PDF
@lru_cache(maxsize=1)
def _stylesheet_text() -> str:
    return (resources.files("raredx.web") / "static" / "raredx.css").read_text(encoding="utf-8")


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """WeasyPrint's URL fetcher: the report embeds nothing, so nothing is ever fetched."""
    raise ValueError(f"the report does not load external resources ({url[:80]})")


def render_pdf(html: str) -> bytes:
    """The report's HTML printed to PDF with the package's style sheet (print media)."""
    # imported on first use (pango loads in ~0.5 s); WeasyPrint ships no type hints
    from weasyprint import CSS, HTML  # type: ignore[import-untyped]

    sheet = CSS(string=_stylesheet_text(), url_fetcher=_no_fetch)
    pdf = HTML(string=html, url_fetcher=_no_fetch, base_url=None).write_pdf(stylesheets=[sheet])
    if pdf is None:  # only when writing to a target
        raise RuntimeError("WeasyPrint returned no PDF")
    return bytes(pdf)
