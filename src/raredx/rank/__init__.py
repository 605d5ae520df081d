"""Ranking rare diseases and genes from a patient's phenotype (see docs/ranking.md).

`PhenotypeModel` (built once per KB by `phenotype_model`) scores every disease group at once;
`raredx.diagnose` (in `raredx.diagnosis`) is the front door that turns its scores into a
`Diagnosis`.
"""

from raredx.rank.baseline import resnik_scores
from raredx.rank.model import (
    INHERITANCE_CLASSES,
    PHENOTYPE_ROOT,
    CaseScores,
    PatientQuery,
    PhenotypeModel,
    TermEvidence,
    onset_bins,
    phenotype_model,
)
from raredx.rank.parameters import ONSET_CLASSES, ONSET_EDGES_YEARS, KbEstimates, RankParameters
from raredx.rank.result import (
    NOTICE,
    CandidateDisease,
    CandidateGene,
    Diagnosis,
    Evidence,
    MatchKind,
    SuggestedFinding,
)

__all__ = [
    "INHERITANCE_CLASSES",
    "NOTICE",
    "ONSET_CLASSES",
    "ONSET_EDGES_YEARS",
    "PHENOTYPE_ROOT",
    "CandidateDisease",
    "CandidateGene",
    "CaseScores",
    "Diagnosis",
    "Evidence",
    "KbEstimates",
    "MatchKind",
    "PatientQuery",
    "PhenotypeModel",
    "RankParameters",
    "SuggestedFinding",
    "TermEvidence",
    "onset_bins",
    "phenotype_model",
    "resnik_scores",
]
