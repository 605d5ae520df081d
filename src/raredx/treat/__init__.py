"""Treatments: disease-specific therapies (curated) and MAxO medical actions, with sources.

>>> from raredx.kb import load_kb
>>> from raredx.treat import treatment_index
>>> index = treatment_index(load_kb())  # doctest: +SKIP
>>> index.find("PIK3CD")[0].therapy  # doctest: +SKIP
'leniolisib'

Decision support for specialists: every treatment carries its evidence level and citations.
"""

from raredx.treat.index import MAX_QUERY_LENGTH, TreatmentIndex, normalize_text, treatment_index
from raredx.treat.load import load_treatments, read_curated, read_maxo
from raredx.treat.model import (
    DECISION_SUPPORT_NOTICE,
    EvidenceLevel,
    LineOfUse,
    Origin,
    Status,
    Treatment,
)

__all__ = [
    "DECISION_SUPPORT_NOTICE",
    "MAX_QUERY_LENGTH",
    "EvidenceLevel",
    "LineOfUse",
    "Origin",
    "Status",
    "Treatment",
    "TreatmentIndex",
    "load_treatments",
    "normalize_text",
    "read_curated",
    "read_maxo",
    "treatment_index",
]
