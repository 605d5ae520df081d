"""Request and response models of the REST API (``/api/v1``): they check what comes in and
document, in the OpenAPI spec, what goes out.

Requests refuse unknown fields (a typo is an error, not silently ignored), control
characters and lone surrogates in text, and oversized lists and strings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from raredx.api.rest.common import CASE_ID_PATTERN, Line, Text

__all__ = [
    "MAX_TERMS",
    "AcceptedJob",
    "AnalysisCreated",
    "AnalysisOut",
    "AnalysisSummary",
    "CandidateDiseaseOut",
    "CandidateGeneOut",
    "CaseCreate",
    "CaseDetail",
    "CaseList",
    "CaseSummaryOut",
    "ConfirmedDiagnosis",
    "DecisionCreate",
    "DecisionOut",
    "DiagnoseRequest",
    "DiagnosisOut",
    "DiseaseExplanation",
    "EvidenceOut",
    "ExtractRequest",
    "ExtractResponse",
    "ExtractedTermOut",
    "GeneExplanation",
    "GenomeSummaryOut",
    "GenotypeSupportOut",
    "JobOut",
    "KbInfo",
    "KbSource",
    "LabLimitOut",
    "LabSetAsideOut",
    "LabTermOut",
    "LabsResponse",
    "MatchOut",
    "MentionOut",
    "MmeSharing",
    "MmeSharingOut",
    "NewTerm",
    "ObservationOut",
    "ObservationsCreate",
    "ObservationsOut",
    "ReanalysisRequest",
    "ReviewRequest",
    "SimilarCases",
    "SuggestedFindingOut",
    "TermHit",
    "TermRef",
    "TreatmentOut",
    "Treatments",
    "VariantClassification",
    "VcfOut",
]

MAX_TERMS = 500
"""Most HPO terms one request may carry (a case has tens)."""

TermItem = Annotated[Line, Field(min_length=1, max_length=500)]
"""An HPO term: an id (HP:0001873, HP_0001873, 0001873) or an exact name in English/French."""

CaseId = Annotated[Line, Field(min_length=1, max_length=256, pattern=CASE_ID_PATTERN)]
Pseudonym = Annotated[Line, Field(min_length=1, max_length=128, pattern=CASE_ID_PATTERN)]
Sex = Literal["M", "F"]
Zygosity = Literal["heterozygous", "homozygous", "hemizygous", "compound_heterozygous"]
Age = Annotated[float, Field(ge=0, le=150, allow_inf_nan=False, description="Years (0-150)")]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- knowledge base and HPO terms ---------------------------------------------------------------


class KbSource(BaseModel):
    """A data source compiled into the KB."""

    name: str
    version: str
    licence: str
    file: str
    sha256: str


class KbInfo(BaseModel):
    """The knowledge base in use: versions, sources, counts."""

    version: str
    hpo_release: str
    built_at: str
    built_by: str
    sources: list[KbSource]
    counts: dict[str, int | dict[str, int]]
    warnings: list[str]


class TermHit(BaseModel):
    """An HPO search hit: the term, and the name (EN or FR label or synonym) that matched."""

    id: str
    label: str
    label_fr: str | None
    matched_text: str
    lang: Literal["en", "fr"] | None = Field(
        description="Language of the matched name (null for a match by id)"
    )
    match_kind: Literal["id", "exact", "prefix", "words", "fuzzy"]
    score: float


# -- phenotype: notes and lab results -----------------------------------------------------------


class ExtractRequest(_Request):
    """A clinical note (English or French) to read HPO terms from."""

    text: Annotated[Text, Field(min_length=1, max_length=100_000)]
    language: Literal["auto", "en", "fr"] = "auto"
    nested: StrictBool = Field(
        False, description='Also report general terms named inside longer mentions ("colitis")'
    )


MentionStatus = Literal["present", "excluded", "uncertain", "family"]


class ExtractedTermOut(BaseModel):
    """A term the note mentions, with its overall status and every span naming it."""

    id: str
    label: str
    status: MentionStatus
    excluded: bool
    spans: list[tuple[int, int]]


class MentionOut(BaseModel):
    """One mention: ``text == note[start:end]`` (character offsets, end exclusive)."""

    start: int
    end: int
    text: str
    term_id: str
    label: str
    status: MentionStatus
    excluded: bool = Field(description="Negated: the patient does not have it")
    uncertain: bool = Field(description="Suspected or hypothetical")
    family: bool = Field(description="A relative's finding, not the patient's")


class ExtractResponse(BaseModel):
    """The HPO terms of a note, for the clinician to review."""

    language: Literal["en", "fr"]
    kb_version: str
    terms: list[ExtractedTermOut]
    mentions: list[MentionOut]


class LabLimitOut(BaseModel):
    """A limit a lab value was checked against, and the result of the check."""

    kind: Literal["interval", "threshold"]
    label: str
    side: Literal["low", "high"]
    value: float
    unit: str
    abnormal_at_limit: bool
    rules_out: bool
    status: Literal["beyond", "within", "unplaceable"]
    source: str


class LabTermOut(BaseModel):
    """An HPO term derived from one lab result, with the value and the interval behind it."""

    where: str
    test: str
    loinc: str
    given: str = Field(description="The result as written in the file")
    value: str = Field(description="The value in `unit`, the interval's unit")
    unit: str
    interval: str
    interval_from: Literal["result in file", "flag in file", "range in file", "shipped"]
    outcome: Literal["L", "N", "H", "POS", "NEG"]
    hpo_id: str
    hpo_label: str
    excluded: bool
    date: str | None
    source: str = Field(description="Citation of every limit shown in `interval`")
    note: str
    limits: list[LabLimitOut]


class LabSetAsideOut(BaseModel):
    """A lab result that gave no term, and why."""

    where: str
    test: str
    loinc: str
    value: str
    reason: str


class LabsResponse(BaseModel):
    """HPO terms derived from lab results: observed (abnormal), excluded (normal)."""

    kb_version: str
    observed: list[str]
    excluded: list[str]
    terms: list[LabTermOut]
    set_aside: list[LabSetAsideOut]


# -- diagnosis ------------------------------------------------------------------------------------


class DiagnoseRequest(_Request):
    """A phenotype to rank diseases and genes for (no patient data is kept)."""

    observed: list[TermItem] = Field(min_length=1, max_length=MAX_TERMS)
    excluded: list[TermItem] = Field(default_factory=list, max_length=MAX_TERMS)
    age_years: Age | None = None
    sex: Sex | None = None
    top: int = Field(10, ge=1, le=100, description="Diseases and genes returned")
    explain: bool = Field(
        True,
        description="Per-finding evidence of each disease (false: an empty `evidence` list, "
        "about three times less work, for pipelines that only need the ranking)",
    )


class TermRef(BaseModel):
    id: str
    label: str


class EvidenceOut(BaseModel):
    """One finding's evidence for or against a candidate (log10 likelihood ratio)."""

    term_id: str
    term_label: str
    kind: Literal[
        "exact", "broader", "narrower", "related", "unrelated", "negated", "excluded", "absent"
    ]
    log10_lr: float
    annotation_id: str | None
    annotation_label: str | None
    frequency: float | None
    source: str | None


class TreatmentOut(BaseModel):
    """A treatment with its evidence level and sources (decision support, not a prescription)."""

    therapy: str
    evidence_level: str
    evidence: str
    citations: list[str]
    disease_ids: list[str]
    disease_name: str
    genes: list[str]
    genotype: str
    mechanism: str
    line: str
    identifiers: list[str]
    chebi: str
    drugbank: str
    atc: str
    maxo_id: str
    cautions: list[str]
    status: str
    reviewed: str | None
    targets: list[str]
    origin: str


class CandidateDiseaseOut(BaseModel):
    """A ranked disease with its posterior, likelihood ratios, evidence and treatments."""

    rank: int
    disease_id: str
    ids: list[str]
    name: str
    posterior: float
    log10_lr: float
    genes: list[str]
    absent_log10_lr: float
    onset_log10_lr: float
    sex_log10_lr: float
    genotype_log10_lr: float | None
    evidence: list[EvidenceOut]
    treatments: list[TreatmentOut]


class GenotypeSupportOut(BaseModel):
    mode: str
    genotype: str
    variants: list[str]
    variant_class: str
    background: float
    log10_lr: float


class CandidateGeneOut(BaseModel):
    rank: int
    symbol: str
    hgnc_id: str
    score: float
    diseases: list[str]
    genotype: GenotypeSupportOut | None


class SuggestedFindingOut(BaseModel):
    term_id: str
    term_label: str
    information_gain: float
    probability: float
    if_present: list[str]
    if_absent: list[str]


class GenomeSummaryOut(BaseModel):
    vcf: str
    assembly: str
    proband: str
    sample: str
    annotations: str
    counts: dict[str, int]


class DiagnosisOut(BaseModel):
    """A ranked differential: the same JSON as ``raredx diagnose --format json``."""

    case_id: str | None
    notice: str
    kb_version: str
    hpo_release: str
    observed: list[TermRef]
    excluded: list[TermRef]
    ignored: list[str]
    warnings: list[str]
    diseases: list[CandidateDiseaseOut]
    genes: list[CandidateGeneOut]
    next_findings: list[SuggestedFindingOut]
    parameters: dict[str, Any]
    kb_estimates: dict[str, Any]
    genome: GenomeSummaryOut | None
    do_not_miss: list[CandidateDiseaseOut]


# -- cases ----------------------------------------------------------------------------------------


class CaseCreate(_Request):
    """A new case: the patient's pseudonymous id (never a name) and typed observations."""

    id: CaseId | None = Field(None, description="Case id (default: generated)")
    patient: Pseudonym = Field(description="The patient's pseudonymous id (never a name)")
    sex: Sex | None = None
    age_years: Age | None = None
    observed: list[TermItem] = Field(default_factory=list, max_length=MAX_TERMS)
    excluded: list[TermItem] = Field(default_factory=list, max_length=MAX_TERMS)


class CaseSummaryOut(BaseModel):
    """A case as listed: id, patient pseudonym, status, times, flags."""

    id: str
    patient: str
    centre: str
    status: Literal["unsolved", "solved"]
    created: datetime
    updated: datetime
    new_results: bool = Field(
        False, description="An analysis finished since the latest one was last read"
    )


class CaseList(BaseModel):
    cases: list[CaseSummaryOut]


class ObservationOut(BaseModel):
    """A phenotype observation and its review (only accepted ones are the case's phenotype)."""

    id: int
    term_id: str
    label: str | None
    excluded: bool
    provenance: Literal["typed", "note", "labs", "phenopacket"]
    review_status: Literal["proposed", "accepted", "rejected"]
    evidence: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None


class AnalysisSummary(BaseModel):
    """A recorded analysis, without its results."""

    id: int
    kb_version: str
    created: datetime
    genome: bool = Field(description="Ranked with the VCF's genotype evidence")
    top_disease: str | None
    top_gene: str | None


class DecisionOut(BaseModel):
    id: int
    kind: Literal["diagnosis_confirmed", "variant_classified"]
    value: dict[str, Any]
    user: str
    created: datetime


class VcfOut(BaseModel):
    """A VCF of the case (`attached`: uploaded and hashed; else named by an imported
    phenopacket, never read)."""

    id: int
    file: str = Field(description="File name (the server path is not shown)")
    assembly: str | None
    sample: str | None
    sha256: str | None
    size: int | None
    attached: bool
    evidence_cached: bool


class CaseDetail(CaseSummaryOut):
    """A case with everything recorded about it."""

    mme_shared: bool
    sex: Literal["FEMALE", "MALE", "OTHER_SEX", "UNKNOWN_SEX"]
    age_years: float | None
    observations: list[ObservationOut]
    analyses: list[AnalysisSummary]
    decisions: list[DecisionOut]
    vcfs: list[VcfOut]


class NewTerm(_Request):
    """An observation to add: an HPO id (or exact name), excluded or not, and its evidence."""

    id: TermItem
    excluded: StrictBool = False
    evidence: Annotated[Text, Field(max_length=2000)] | None = None


class ObservationsCreate(_Request):
    """Observations to add: typed ones are accepted at once, note/labs ones are proposed."""

    provenance: Literal["typed", "note", "labs"]
    terms: list[NewTerm] = Field(min_length=1, max_length=MAX_TERMS)


class ObservationsOut(BaseModel):
    case_id: str
    observations: list[ObservationOut]


class ReviewRequest(_Request):
    status: Literal["accepted", "rejected"]
    excluded: StrictBool | None = Field(None, description="With accepted only: the term is absent")


class ConfirmedValue(_Request):
    disease_id: Annotated[Line, Field(min_length=1, max_length=64)] = Field(
        description="OMIM, ORPHA or MONDO id known to the knowledge base"
    )
    note: Annotated[Text, Field(max_length=2000)] | None = None


class ConfirmedDiagnosis(_Request):
    """The diagnosis is confirmed: the case becomes solved."""

    kind: Literal["diagnosis_confirmed"]
    value: ConfirmedValue


class VariantValue(_Request):
    gene: Annotated[Line, Field(min_length=1, max_length=64)] = Field(
        description="HGNC symbol or id known to the knowledge base"
    )
    variant: Annotated[Line, Field(min_length=1, max_length=512)] = Field(
        description="chrom-pos-ref-alt or HGVS"
    )
    classification: Literal[
        "pathogenic", "likely_pathogenic", "uncertain_significance", "likely_benign", "benign"
    ]
    zygosity: (
        Literal["heterozygous", "homozygous", "hemizygous", "compound_heterozygous"] | None
    ) = None
    note: Annotated[Text, Field(max_length=2000)] | None = None


class VariantClassification(_Request):
    """A variant's classification (geneticists and admins only)."""

    kind: Literal["variant_classified"]
    value: VariantValue


DecisionCreate = Annotated[ConfirmedDiagnosis | VariantClassification, Field(discriminator="kind")]


class MmeSharing(_Request):
    shared: StrictBool = Field(
        description="The patient consents to sharing through Matchmaker Exchange"
    )


class MmeSharingOut(BaseModel):
    case_id: str
    mme_shared: bool


# -- analyses and jobs ----------------------------------------------------------------------------


class AnalysisCreated(BaseModel):
    """A phenotype-only analysis, ranked and recorded at once."""

    analysis_id: int
    case_id: str
    kb_version: str
    results: DiagnosisOut


class AcceptedJob(BaseModel):
    """Work started in the background: poll ``GET /api/v1/jobs/{job_id}``."""

    job_id: str
    kind: str
    state: Literal["queued", "running", "done", "failed"]
    case_id: str | None


class JobOut(AcceptedJob):
    """A background job's state; `result` when done, `error` when failed."""

    created: datetime
    started: datetime | None
    finished: datetime | None
    step: str | None
    error: str | None
    problems: list[str]
    result: dict[str, Any] | None


class AnalysisOut(BaseModel):
    """A recorded analysis with its full results."""

    id: int
    case_id: str
    kb_version: str
    created: datetime
    parameters: dict[str, Any]
    results: DiagnosisOut


class DiseaseExplanation(BaseModel):
    """One disease's rank and evidence for the case, finding by finding."""

    case_id: str
    kb_version: str
    notice: str
    genome: bool = Field(description="Ranked with the VCF's genotype evidence")
    disease: CandidateDiseaseOut


class GeneExplanation(BaseModel):
    """Why a gene ranks where it does: its diseases, and the VCF's evidence per mode."""

    case_id: str
    kb_version: str
    notice: str
    gene: str
    hgnc_id: str
    modes: list[str]
    phenotype_rank: int | None
    phenotype_score: float
    genes_ranked: int
    rank: int | None = Field(None, description="With the VCF (absent without one)")
    score: float | None = None
    diseases: list[dict[str, Any]]
    genotype: list[dict[str, Any]]
    vcf: dict[str, Any] | None = Field(
        None, description="The gene's genotype fits and every variant the proband carries"
    )


# -- treatments, matching, reanalysis -----------------------------------------------------------


class Treatments(BaseModel):
    query: str
    kb_version: str
    notice: str
    treatments: list[TreatmentOut]


class MatchOut(BaseModel):
    case_id: str
    score: float
    phenotype_similarity: float
    gene_similarity: float
    shared_genes: list[str]
    centre: str
    status: str


class SimilarCases(BaseModel):
    case_id: str
    kb_version: str
    matches: list[MatchOut]


class ReanalysisRequest(_Request):
    since_kb: Annotated[Line, Field(min_length=1, max_length=64)] | None = Field(
        None, description="Only cases last analysed with a KB sorting before this version"
    )
    threshold: float = Field(
        0.1, gt=0, lt=1, allow_inf_nan=False, description="Posterior crossing to report"
    )
