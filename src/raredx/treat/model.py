"""Treatment value objects: one disease-therapy pair with its evidence, sources and cautions.

Every `Treatment` is validated when it is made: it names at least one disease id, has an
evidence level and at least one citation, and its drug identifiers are well formed. Nothing
here knows about a knowledge base; `raredx.treat.index` links treatments to KB diseases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Final

__all__ = [
    "ATC_PATTERN",
    "CHEBI_PATTERN",
    "DECISION_SUPPORT_NOTICE",
    "DISEASE_ID_PATTERN",
    "DRUGBANK_PATTERN",
    "MAXO_PATTERN",
    "EvidenceLevel",
    "LineOfUse",
    "Origin",
    "Status",
    "Treatment",
]

CHEBI_PATTERN: Final = re.compile(r"^CHEBI:\d+$")
"""A ChEBI entity: `CHEBI:` and digits."""

DRUGBANK_PATTERN: Final = re.compile(r"^DB\d{5}$")
"""A DrugBank accession: `DB` and five digits."""

ATC_PATTERN: Final = re.compile(r"^[A-Z]\d\d[A-Z][A-Z]\d\d$")
"""A complete (level 5) WHO ATC code, e.g. `L04AC03`."""

MAXO_PATTERN: Final = re.compile(r"^MAXO:\d{7}$")
"""A Medical Action Ontology term: `MAXO:` and seven digits."""

DISEASE_ID_PATTERN: Final = re.compile(r"^(OMIM:\d{6}|ORPHA:\d+|MONDO:\d{7})$")
"""The disease ids a treatment may name: OMIM, Orphanet (ORPHA:) or MONDO."""

DECISION_SUPPORT_NOTICE: Final = (
    "Decision support for specialists, not a prescription: treatments are listed with their "
    "evidence level and sources; check the current product information, guidelines and the "
    "patient's own situation before any decision."
)
"""The wording shown wherever raredx lists treatments."""


class EvidenceLevel(StrEnum):
    """How strong the evidence for a treatment is, strongest first (`rank` 0 is strongest).

    `annotation` marks MAxO annotations, which are ungraded (their TAS/PCS evidence codes say
    where a statement comes from, not how strong the evidence is).
    """

    APPROVED = "approved"
    GUIDELINE = "guideline"
    PROSPECTIVE_STUDY = "prospective_study"
    CASE_SERIES = "case_series"
    CASE_REPORT = "case_report"
    ANNOTATION = "annotation"

    @property
    def rank(self) -> int:
        """0 for `approved` ... 5 for `annotation`: sort ascending to show strongest first."""
        return _LEVEL_ORDER.index(self)

    @property
    def label(self) -> str:
        """Human wording, e.g. "approved for this indication"."""
        return _LEVEL_LABELS[self]


_LEVEL_ORDER: Final = tuple(EvidenceLevel)
_LEVEL_LABELS: Final = {
    EvidenceLevel.APPROVED: "approved for this indication",
    EvidenceLevel.GUIDELINE: "guideline",
    EvidenceLevel.PROSPECTIVE_STUDY: "prospective study",
    EvidenceLevel.CASE_SERIES: "case series",
    EvidenceLevel.CASE_REPORT: "case report",
    EvidenceLevel.ANNOTATION: "MAxO annotation (ungraded)",
}


class LineOfUse(StrEnum):
    """Where a treatment sits in the management of the disease."""

    FIRST_LINE = "first_line"
    SECOND_LINE = "second_line"
    REFRACTORY = "refractory"
    CURATIVE = "curative"
    PROPHYLAXIS = "prophylaxis"
    SUPPORTIVE = "supportive"
    UNSPECIFIED = "unspecified"


class Origin(StrEnum):
    """Which table a treatment comes from."""

    CURATED = "curated"
    MAXO = "MAxO"


class Status(StrEnum):
    """Availability of the therapy; withdrawn products stay listed, marked as withdrawn."""

    AVAILABLE = "available"
    INVESTIGATIONAL = "investigational"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class Treatment:
    """One therapy for one disease (or one group of equivalent disease entries).

    - `disease_ids`: OMIM/ORPHA/MONDO ids the row names (resolved against a KB later).
    - `genes`: HGNC symbols; `genotype`: the restriction that matters ("gain of function",
      "loss of function", "KIT D816V-negative"...), empty when none.
    - `chebi`/`drugbank`/`atc`: drug identifiers, empty when none exists or none is certain.
    - `citations`: at least one; approvals read "FDA 2023 approval: Joenja (leniolisib) ...".
    - `targets`: HPO terms a MAxO action is annotated to treat (empty for curated rows).
    - `reviewed`: the date the row was last checked (None for MAxO rows, which carry their own
      curation dates upstream).
    """

    therapy: str
    disease_ids: tuple[str, ...]
    evidence_level: EvidenceLevel
    citations: tuple[str, ...]
    origin: Origin
    genes: tuple[str, ...] = ()
    genotype: str = ""
    mechanism: str = ""
    line: LineOfUse = LineOfUse.UNSPECIFIED
    chebi: str = ""
    drugbank: str = ""
    atc: str = ""
    maxo_id: str = ""
    cautions: tuple[str, ...] = ()
    status: Status = Status.AVAILABLE
    reviewed: date | None = None
    targets: tuple[str, ...] = ()
    disease_name: str = ""

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ValueError(f"invalid treatment {self.therapy!r}: " + "; ".join(problems))

    def problems(self) -> list[str]:
        """Every reason this row is invalid (empty when valid)."""
        out: list[str] = []
        if not self.therapy.strip():
            out.append("empty therapy")
        if not self.disease_ids:
            out.append("no disease id")
        out += [f"malformed disease id {d!r}" for d in self.disease_ids if not _is_disease(d)]
        if not self.citations or not all(c.strip() for c in self.citations):
            out.append("no citation")
        for value, pattern, name in (
            (self.chebi, CHEBI_PATTERN, "ChEBI"),
            (self.drugbank, DRUGBANK_PATTERN, "DrugBank"),
            (self.atc, ATC_PATTERN, "ATC"),
            (self.maxo_id, MAXO_PATTERN, "MAxO"),
        ):
            if value and not pattern.match(value):
                out.append(f"malformed {name} id {value!r}")
        if self.origin is Origin.CURATED and self.reviewed is None:
            out.append("curated row without a review date")
        return out

    @property
    def identifiers(self) -> tuple[str, ...]:
        """The therapy's identifiers as CURIEs (`DRUGBANK:DB00026`, `ATC:L04AC03`, ...)."""
        out = []
        if self.chebi:
            out.append(self.chebi)
        if self.drugbank:
            out.append(f"DRUGBANK:{self.drugbank}")
        if self.atc:
            out.append(f"ATC:{self.atc}")
        if self.maxo_id:
            out.append(self.maxo_id)
        return tuple(out)

    @property
    def sort_key(self) -> tuple[int, int, int, str]:
        """Evidence level first, then curated before MAxO, withdrawn last, then therapy."""
        return (
            self.evidence_level.rank,
            0 if self.origin is Origin.CURATED else 1,
            1 if self.status is Status.WITHDRAWN else 0,
            self.therapy.casefold(),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: every field, enums as their values, the date as ISO text."""
        return {
            "therapy": self.therapy,
            "evidence_level": self.evidence_level.value,
            "evidence": self.evidence_level.label,
            "citations": list(self.citations),
            "disease_ids": list(self.disease_ids),
            "disease_name": self.disease_name,
            "genes": list(self.genes),
            "genotype": self.genotype,
            "mechanism": self.mechanism,
            "line": self.line.value,
            "identifiers": list(self.identifiers),
            "chebi": self.chebi,
            "drugbank": self.drugbank,
            "atc": self.atc,
            "maxo_id": self.maxo_id,
            "cautions": list(self.cautions),
            "status": self.status.value,
            "reviewed": self.reviewed.isoformat() if self.reviewed else None,
            "targets": list(self.targets),
            "origin": self.origin.value,
        }


def _is_disease(disease_id: str) -> bool:
    return DISEASE_ID_PATTERN.match(disease_id) is not None
