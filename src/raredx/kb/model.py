"""Value objects handed out by the knowledge base. Built on demand from the KB's arrays."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "Disease",
    "DiseaseAnnotation",
    "Gene",
    "Sex",
    "SourceInfo",
    "Term",
]


class Sex(StrEnum):
    """Sex restriction of an annotation, as written in `phenotype.hpoa`."""

    ANY = ""
    MALE = "MALE"
    FEMALE = "FEMALE"


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """One data source compiled into a KB: what it is, its version, licence and file digest."""

    name: str
    version: str
    licence: str
    file: str
    sha256: str


@dataclass(frozen=True, slots=True)
class Term:
    """An HPO term. `information_content` is -ln of the (smoothed) fraction of annotated
    diseases that carry the term or a descendant: 0 at the root, larger is more specific."""

    id: str
    label: str
    definition: str
    synonyms: tuple[str, ...]
    label_fr: str | None
    synonyms_fr: tuple[str, ...]
    alt_ids: tuple[str, ...]
    parents: tuple[str, ...]
    information_content: float


@dataclass(frozen=True, slots=True)
class DiseaseAnnotation:
    """One phenotype annotation of a disease.

    `frequency` is in [0, 1], or None when the source gives none. `frequency_n`/`frequency_m`
    hold the raw counts when the source wrote "n/m". `negated` marks a NOT annotation (the
    disease is annotated *not* to show the term).
    """

    term_id: str
    frequency: float | None
    frequency_n: int | None
    frequency_m: int | None
    onset_id: str | None
    sex: Sex
    modifiers: tuple[str, ...]
    negated: bool
    evidence: str
    reference: str


@dataclass(frozen=True, slots=True)
class Disease:
    """A disease entry of one source (OMIM, ORPHA or DECIPHER) with its equivalents.

    `equivalent_ids` lists the other sources' ids of the same disease (OMIM/ORPHA via MONDO,
    and the MONDO ids themselves), so the disease can be shown once with all its ids.
    """

    id: str
    name: str
    source: str
    annotations: tuple[DiseaseAnnotation, ...]
    inheritance: tuple[str, ...]
    clinical_course: tuple[str, ...]
    genes: tuple[str, ...]
    equivalent_ids: tuple[str, ...]

    @property
    def phenotype(self) -> tuple[DiseaseAnnotation, ...]:
        """Positive phenotype annotations."""
        return tuple(a for a in self.annotations if not a.negated)

    @property
    def excluded(self) -> tuple[DiseaseAnnotation, ...]:
        """NOT annotations: terms the disease is annotated not to show."""
        return tuple(a for a in self.annotations if a.negated)


@dataclass(frozen=True, slots=True)
class Gene:
    """An HGNC gene with its identifiers and the diseases it is linked to in the KB."""

    hgnc_id: str
    symbol: str
    name: str
    locus_type: str
    aliases: tuple[str, ...]
    previous_symbols: tuple[str, ...]
    ncbi_gene_id: str | None
    ensembl_gene_id: str | None
    diseases: tuple[str, ...]
