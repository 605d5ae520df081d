"""Lab results to HPO terms: CSV/TSV tables or FHIR R4 Observations, judged against the file's
own range or flag, or against cited pediatric limits shipped with raredx, then mapped with the
LOINC2HPO annotations (L/H/POS observed, N/NEG excluded).

>>> from raredx.kb import load_kb
>>> from raredx.labs import labs_to_hpo, parse_labs
>>> results = parse_labs("test,value,unit\\nHb,6.8,g/dL\\nDAT,positive,\\n")
>>> phenotype = labs_to_hpo(results, load_kb(), age_years=3, sex="F")  # doctest: +SKIP
>>> phenotype.observed_ids  # doctest: +SKIP
('HP:0020062', 'HP:0032366')
"""

from raredx.labs.catalog import (
    LOINC_PATTERN,
    Annotation,
    LabTest,
    ReferenceLimit,
    annotations_for,
    lab_tests,
    reference_limits,
    resolve_test,
)
from raredx.labs.derive import labs_to_hpo, normalize_sex
from raredx.labs.model import (
    AppliedLimit,
    IntervalOrigin,
    LabEvidence,
    LabPhenotype,
    LabResult,
    Outcome,
    SetAsideResult,
)
from raredx.labs.read import MAX_LAB_BYTES, MAX_RESULTS, parse_labs, parse_range, read_labs
from raredx.labs.units import UnitError, convert

__all__ = [
    "LOINC_PATTERN",
    "MAX_LAB_BYTES",
    "MAX_RESULTS",
    "Annotation",
    "AppliedLimit",
    "IntervalOrigin",
    "LabEvidence",
    "LabPhenotype",
    "LabResult",
    "LabTest",
    "Outcome",
    "ReferenceLimit",
    "SetAsideResult",
    "UnitError",
    "annotations_for",
    "convert",
    "lab_tests",
    "labs_to_hpo",
    "normalize_sex",
    "parse_labs",
    "parse_range",
    "read_labs",
    "reference_limits",
    "resolve_test",
]
