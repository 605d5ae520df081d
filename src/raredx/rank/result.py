"""The immutable result of a diagnosis: ranked diseases and genes, their evidence, what to check.

Every object is a frozen dataclass holding tuples; `Diagnosis.to_dict()` gives plain JSON-ready
data. Likelihood ratios are reported as log10 (positive: supports the disease).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from raredx.rank.parameters import KbEstimates, RankParameters
from raredx.treat.model import Treatment

__all__ = [
    "NOTICE",
    "CandidateDisease",
    "CandidateGene",
    "Diagnosis",
    "Evidence",
    "GenomeSummary",
    "GenotypeSupport",
    "MatchKind",
    "SuggestedFinding",
]

NOTICE = (
    "Decision support for specialists: a ranked differential from recorded findings, not a "
    "diagnosis. raredx supports, and never replaces, the clinician's judgement."
)
"""Shown with every result."""


class MatchKind(StrEnum):
    """How one patient finding relates to a candidate disease's annotations.

    - `exact`: the disease is annotated with the patient's term.
    - `broader`: the patient's term is broader than the disease's annotation.
    - `narrower`: the patient's term is more specific than the disease's annotation.
    - `related`: no annotation on the term's line, but one sharing an informative ancestor;
      the finding is scored as unrelated (background frequency).
    - `unrelated`: nothing related in the disease's annotations (background frequency).
    - `negated`: the disease is annotated *not* to show the finding.
    - `excluded`: an excluded finding; `annotation_id` is set when the disease shows it.
    - `absent`: a finding the disease shows that the patient's record does not mention.
    """

    EXACT = "exact"
    BROADER = "broader"
    NARROWER = "narrower"
    RELATED = "related"
    UNRELATED = "unrelated"
    NEGATED = "negated"
    EXCLUDED = "excluded"
    ABSENT = "absent"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One piece of evidence for or against a candidate.

    `term_id`/`term_label`: the patient's term (for `absent`: the disease's annotation).
    `log10_lr`: its log10 likelihood ratio for this disease against an average disease
    (`absent`: log10 of the factor this one annotation contributes, before centring).
    `annotation_id`/`annotation_label`/`frequency`: the disease annotation it matched and the
    frequency used (None when none matched). `source`: the disease entry of that annotation.
    """

    term_id: str
    term_label: str
    kind: MatchKind
    log10_lr: float
    annotation_id: str | None = None
    annotation_label: str | None = None
    frequency: float | None = None
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "term_id": self.term_id,
            "term_label": self.term_label,
            # str() of a StrEnum member is its value, as a plain str; `.value` goes through a
            # Python-level descriptor, which costs more with hundreds of rows per answer.
            "kind": str(self.kind),
            "log10_lr": self.log10_lr,
            "annotation_id": self.annotation_id,
            "annotation_label": self.annotation_label,
            "frequency": self.frequency,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class GenotypeSupport:
    """What the VCF says about one gene: the mode of inheritance its genotype fits best.

    `genotype` names the genotype (``heterozygous``, ``compound heterozygous``...; empty when
    nothing fits); `variants` are ``chrom-pos-ref-alt`` keys; `variant_class` the kind of allele
    scored; `background` (0-1) the chance that an uninvolved gene of the same size in this VCF
    shows such a genotype; `log10_lr` the genotype's likelihood ratio for the gene.
    """

    mode: str
    genotype: str
    variants: tuple[str, ...]
    variant_class: str
    background: float
    log10_lr: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "genotype": self.genotype,
            "variants": list(self.variants),
            "variant_class": self.variant_class,
            "background": self.background,
            "log10_lr": self.log10_lr,
        }


@dataclass(frozen=True, slots=True)
class GenomeSummary:
    """The VCF behind a diagnosis: file, build, proband sample, and what happened to records."""

    vcf: str
    assembly: str
    proband: str
    sample: str
    annotations: str
    counts: tuple[tuple[str, int], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "vcf": self.vcf,
            "assembly": self.assembly,
            "proband": self.proband,
            "sample": self.sample,
            "annotations": self.annotations,
            "counts": dict(self.counts),
        }


@dataclass(frozen=True, slots=True)
class CandidateDisease:
    """A ranked disease: its ids (primary first, then equivalents), posterior and evidence.

    `log10_lr` is the summed phenotype evidence against an average disease; `onset_log10_lr`,
    `sex_log10_lr` and `absent_log10_lr` are its parts beyond the per-finding evidence.
    `genotype_log10_lr` is the VCF's evidence (averaged over the disease's genes), None
    without a VCF.
    """

    rank: int
    disease_id: str
    ids: tuple[str, ...]
    name: str
    posterior: float
    log10_lr: float
    genes: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    absent_log10_lr: float
    onset_log10_lr: float
    sex_log10_lr: float
    genotype_log10_lr: float | None = None
    treatments: tuple[Treatment, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "disease_id": self.disease_id,
            "ids": list(self.ids),
            "name": self.name,
            "posterior": self.posterior,
            "log10_lr": self.log10_lr,
            "genes": list(self.genes),
            "absent_log10_lr": self.absent_log10_lr,
            "onset_log10_lr": self.onset_log10_lr,
            "sex_log10_lr": self.sex_log10_lr,
            "genotype_log10_lr": self.genotype_log10_lr,
            "evidence": [e.to_dict() for e in self.evidence],
            "treatments": [t.to_dict() for t in self.treatments],
        }


@dataclass(frozen=True, slots=True)
class CandidateGene:
    """A ranked gene: the posterior mass of the diseases it causes, and the best of them;
    with a VCF, `genotype` says what the gene's variants contribute (None: no VCF)."""

    rank: int
    symbol: str
    hgnc_id: str
    score: float
    diseases: tuple[str, ...]
    genotype: GenotypeSupport | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "symbol": self.symbol,
            "hgnc_id": self.hgnc_id,
            "score": self.score,
            "diseases": list(self.diseases),
            "genotype": self.genotype.to_dict() if self.genotype else None,
        }


@dataclass(frozen=True, slots=True)
class SuggestedFinding:
    """An unrecorded finding whose presence or absence best separates the top candidates.

    `information_gain`: expected reduction (bits) of the uncertainty over the top candidates.
    `probability`: chance the patient shows it, under the current posterior.
    `if_present`/`if_absent`: ids of the candidates that answer would make more likely.
    """

    term_id: str
    term_label: str
    information_gain: float
    probability: float
    if_present: tuple[str, ...]
    if_absent: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "term_id": self.term_id,
            "term_label": self.term_label,
            "information_gain": self.information_gain,
            "probability": self.probability,
            "if_present": list(self.if_present),
            "if_absent": list(self.if_absent),
        }


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The ranked differential for one patient, with what produced it.

    `observed`/`excluded`: the patient's terms as (id, label) pairs; `ignored`: terms given
    but not scored (not phenotypic abnormalities, or implied by another term), with why.
    `kb_version`/`hpo_release`, `parameters` and `kb_estimates` identify the model exactly.
    `genome` describes the VCF when one was used; `do_not_miss` lists treatable diseases whose
    posterior passed the threshold without being ranked first (with their treatments).
    """

    case_id: str | None
    diseases: tuple[CandidateDisease, ...]
    genes: tuple[CandidateGene, ...]
    next_findings: tuple[SuggestedFinding, ...]
    observed: tuple[tuple[str, str], ...]
    excluded: tuple[tuple[str, str], ...]
    ignored: tuple[str, ...]
    warnings: tuple[str, ...]
    kb_version: str
    hpo_release: str
    parameters: RankParameters
    kb_estimates: KbEstimates
    notice: str = NOTICE
    genome: GenomeSummary | None = None
    do_not_miss: tuple[CandidateDisease, ...] = ()

    @property
    def top(self) -> CandidateDisease | None:
        """The best-ranked disease, if any."""
        return self.diseases[0] if self.diseases else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "notice": self.notice,
            "kb_version": self.kb_version,
            "hpo_release": self.hpo_release,
            "observed": [{"id": i, "label": label} for i, label in self.observed],
            "excluded": [{"id": i, "label": label} for i, label in self.excluded],
            "ignored": list(self.ignored),
            "warnings": list(self.warnings),
            "diseases": [d.to_dict() for d in self.diseases],
            "genes": [g.to_dict() for g in self.genes],
            "next_findings": [f.to_dict() for f in self.next_findings],
            "parameters": dict(_settings_dict(self.parameters)),
            "kb_estimates": dict(_settings_dict(self.kb_estimates)),
            "genome": self.genome.to_dict() if self.genome else None,
            "do_not_miss": [d.to_dict() for d in self.do_not_miss],
        }


@lru_cache(maxsize=16)
def _settings_dict(settings: RankParameters | KbEstimates) -> dict[str, Any]:
    """`settings.to_dict()`, made once per distinct settings (`dataclasses.asdict` costs tens
    of microseconds, and every answer repeats the same few). Callers take a shallow copy: the
    values are numbers and tuples of numbers, so the copy shares nothing mutable."""
    return settings.to_dict()
