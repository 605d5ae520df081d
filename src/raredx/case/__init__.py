"""Patient cases: the domain model and GA4GH Phenopacket v2 reading and writing.

The front doors are `read_phenopacket` (one case), `read_cases` (files and folders, one
result per case or error), `read_case_bytes` (the same items, read but not parsed),
`case_to_phenopacket` and `write_phenopacket`. Constants (limits, vocabularies) live in
`raredx.case.model` and `raredx.case.phenopacket`.
"""

from raredx.case.model import (
    Case,
    CaseMeta,
    ExternalReference,
    GenomicFile,
    PedigreePerson,
    PhenotypeObservation,
    RecordedDiagnosis,
    Resource,
    Sex,
    Subject,
    VariantCall,
    gestational_onset_term,
)
from raredx.case.phenopacket import (
    CaseBytes,
    CaseResult,
    case_to_phenopacket,
    dumps_phenopacket,
    format_iso_duration,
    parse_iso_duration,
    read_case_bytes,
    read_cases,
    read_phenopacket,
    write_phenopacket,
)

__all__ = [
    "Case",
    "CaseBytes",
    "CaseMeta",
    "CaseResult",
    "ExternalReference",
    "GenomicFile",
    "PedigreePerson",
    "PhenotypeObservation",
    "RecordedDiagnosis",
    "Resource",
    "Sex",
    "Subject",
    "VariantCall",
    "case_to_phenopacket",
    "dumps_phenopacket",
    "format_iso_duration",
    "gestational_onset_term",
    "parse_iso_duration",
    "read_case_bytes",
    "read_cases",
    "read_phenopacket",
    "write_phenopacket",
]
