"""The domain model of a patient case: small, immutable, validated value objects.

Identifiers (HPO, OMIM, HGNC, GENO…) are kept as written in the source (``"HP:0001873"``);
resolving them against the ontologies happens in later stages. Ages are in years (float,
0-150); prenatal times are days of gestation. Every object validates itself in
``__post_init__`` and raises `ValueError` naming the offending attribute.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

__all__ = [
    "ACMG_CLASSES",
    "EMBRYONAL_ONSET",
    "FETAL_ONSET",
    "INTERPRETATION_STATUSES",
    "MAX_AGE_YEARS",
    "MAX_GESTATIONAL_DAYS",
    "PROGRESS_STATUSES",
    "ZYGOSITY_GENO_IDS",
    "Case",
    "CaseMeta",
    "ExternalReference",
    "GenomicFile",
    "PedigreePerson",
    "PhenotypeObservation",
    "RecordedDiagnosis",
    "Resource",
    "Sex",
    "Subject",
    "VariantCall",
    "gestational_onset_term",
]

MAX_AGE_YEARS = 150.0
"""Upper bound (years) accepted for an age or onset."""

MAX_GESTATIONAL_DAYS = 44 * 7
"""Upper bound (days) accepted for a gestational age: 44 weeks."""

EMBRYONAL_ONSET = "HP:0011460"
"""HPO onset class for onset up to 10 weeks of gestation (8 weeks after fertilisation)."""

FETAL_ONSET = "HP:0011461"
"""HPO onset class for onset from 10 weeks of gestation until birth."""

_EMBRYONAL_LIMIT_DAYS = 10 * 7

ACMG_CLASSES: tuple[str, ...] = (
    "BENIGN",
    "LIKELY_BENIGN",
    "UNCERTAIN_SIGNIFICANCE",
    "LIKELY_PATHOGENIC",
    "PATHOGENIC",
)
"""ACMG pathogenicity classes as named in Phenopacket v2 (``NOT_PROVIDED`` is ``None``)."""

INTERPRETATION_STATUSES: tuple[str, ...] = ("REJECTED", "CANDIDATE", "CONTRIBUTORY", "CAUSATIVE")
"""Genomic interpretation statuses of Phenopacket v2 (``UNKNOWN_STATUS`` is ``None``)."""

PROGRESS_STATUSES: tuple[str, ...] = ("IN_PROGRESS", "COMPLETED", "SOLVED", "UNSOLVED")
"""Interpretation progress statuses of Phenopacket v2 (``UNKNOWN_PROGRESS`` is ``None``)."""

ZYGOSITY_GENO_IDS: dict[str, str] = {
    "heterozygous": "GENO:0000135",
    "homozygous": "GENO:0000136",
    "hemizygous": "GENO:0000134",
    "compound heterozygous": "GENO:0000402",
    "unspecified zygosity": "GENO:0000137",
    "homoplasmic": "GENO:0000602",
    "heteroplasmic": "GENO:0000603",
}
"""Zygosity labels (lower case) and their Genotype Ontology (GENO) ids."""

_CURIE = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*:\S+")


class Sex(StrEnum):
    """Phenotypic sex, as in Phenopacket v2."""

    FEMALE = "FEMALE"
    MALE = "MALE"
    OTHER_SEX = "OTHER_SEX"
    UNKNOWN_SEX = "UNKNOWN_SEX"


def _text(name: str, value: object) -> None:
    """Require a non-empty string with no surrounding whitespace."""
    if not isinstance(value, str) or not value or value != value.strip():
        raise ValueError(f"{name} must be a non-empty string without surrounding spaces: {value!r}")


def _text_or_empty(name: str, value: object) -> None:
    if not isinstance(value, str) or value != value.strip():
        raise ValueError(f"{name} must be a string without surrounding spaces: {value!r}")


def _opt_text(name: str, value: object) -> None:
    if value is not None:
        _text(name, value)


def _curie(name: str, value: object) -> None:
    if not isinstance(value, str) or not _CURIE.fullmatch(value):
        raise ValueError(f"{name} must be a compact identifier such as HP:0001873: {value!r}")


def _years(name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number of years: {value!r}")
    if not math.isfinite(value) or not 0.0 <= value <= MAX_AGE_YEARS:
        raise ValueError(f"{name} must be between 0 and {MAX_AGE_YEARS:g} years: {value!r}")


def _tuple_of(name: str, value: object, kind: type | tuple[type, ...]) -> None:
    if not isinstance(value, tuple) or not all(isinstance(v, kind) for v in value):
        raise ValueError(f"{name} must be a tuple of {kind}")


def _one_of(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}: {value!r}")


def gestational_onset_term(days: int) -> str:
    """HPO onset class for a time in gestation (days): embryonal before 10 weeks, else fetal."""
    return EMBRYONAL_ONSET if days < _EMBRYONAL_LIMIT_DAYS else FETAL_ONSET


@dataclass(frozen=True, slots=True)
class PhenotypeObservation:
    """One phenotypic feature: an ontology term, observed or excluded, with an optional onset.

    At most one onset representation is set: `onset_years` (postnatal age, 0-150 years),
    `onset_gestational_days` (days of gestation, 0-308; `onset_term` is then derived as
    embryonal or fetal onset), or `onset_term` alone (an HPO onset class such as HP:0003577).
    """

    term_id: str
    label: str | None = None
    excluded: bool = False
    onset_years: float | None = None
    onset_term: str | None = None
    onset_gestational_days: int | None = None

    def __post_init__(self) -> None:
        _curie("term_id", self.term_id)
        _opt_text("label", self.label)
        if not isinstance(self.excluded, bool):
            raise ValueError(f"excluded must be a bool: {self.excluded!r}")
        _years("onset_years", self.onset_years)
        days = self.onset_gestational_days
        if days is not None:
            if isinstance(days, bool) or not isinstance(days, int):
                raise ValueError(f"onset_gestational_days must be an integer: {days!r}")
            if not 0 <= days <= MAX_GESTATIONAL_DAYS:
                raise ValueError(
                    f"onset_gestational_days must be between 0 and {MAX_GESTATIONAL_DAYS}: {days}"
                )
            if self.onset_years is not None:
                raise ValueError("give onset_years or onset_gestational_days, not both")
            derived = gestational_onset_term(days)
            if self.onset_term is None:
                object.__setattr__(self, "onset_term", derived)
            elif self.onset_term != derived:
                raise ValueError(
                    f"onset_term {self.onset_term} contradicts a gestational onset of {days} days"
                    f" ({derived})"
                )
        elif self.onset_term is not None:
            _curie("onset_term", self.onset_term)
            if self.onset_years is not None:
                raise ValueError("give onset_years or onset_term, not both")

    @property
    def observed(self) -> bool:
        """True when the feature is present (not excluded)."""
        return not self.excluded

    @property
    def prenatal(self) -> bool:
        """True when the onset is given as a gestational age."""
        return self.onset_gestational_days is not None


@dataclass(frozen=True, slots=True)
class Subject:
    """The individual: id, sex, age at last encounter (years, 0-150) and date of birth."""

    id: str
    sex: Sex = Sex.UNKNOWN_SEX
    age_years: float | None = None
    date_of_birth: date | None = None

    def __post_init__(self) -> None:
        _text("subject id", self.id)
        if not isinstance(self.sex, Sex):
            raise ValueError(f"sex must be a Sex: {self.sex!r}")
        _years("age_years", self.age_years)
        if self.date_of_birth is not None and (
            not isinstance(self.date_of_birth, date) or isinstance(self.date_of_birth, datetime)
        ):
            raise ValueError(f"date_of_birth must be a date: {self.date_of_birth!r}")


@dataclass(frozen=True, slots=True)
class VariantCall:
    """A variant (or a gene alone) reported for the case.

    Coordinates follow VCF: `pos` is 1-based on `chrom` of `assembly` (as written, e.g.
    "hg38"); `chrom`, `pos`, `ref` and `alt` are all given or all absent. A call with no
    coordinates, HGVS, zygosity, class, label or id is a gene-only interpretation.
    `zygosity` is a lower-case GENO label such as "heterozygous".
    """

    chrom: str | None = None
    pos: int | None = None
    ref: str | None = None
    alt: str | None = None
    assembly: str | None = None
    gene_symbol: str | None = None
    gene_id: str | None = None
    hgvs: tuple[str, ...] = ()
    zygosity: str | None = None
    interpretation_status: str | None = None
    acmg_class: str | None = None
    variant_id: str | None = None
    label: str | None = None
    structural_type: str | None = None

    def __post_init__(self) -> None:
        for name in ("chrom", "ref", "alt", "assembly", "gene_symbol", "variant_id", "label"):
            _opt_text(name, getattr(self, name))
        coords = (self.chrom, self.pos, self.ref, self.alt)
        if any(c is not None for c in coords) and any(c is None for c in coords):
            raise ValueError("chrom, pos, ref and alt must be given together")
        if self.pos is not None and (
            isinstance(self.pos, bool) or not isinstance(self.pos, int) or not 1 <= self.pos < 2**63
        ):
            raise ValueError(f"pos must be a 1-based position: {self.pos!r}")
        for name in ("ref", "alt"):
            value = getattr(self, name)
            if value is not None and any(ch.isspace() for ch in value):
                raise ValueError(f"{name} must not contain spaces: {value!r}")
        if self.assembly is not None and self.chrom is None:
            raise ValueError("assembly needs coordinates (chrom, pos, ref, alt)")
        if self.gene_id is not None:
            _curie("gene_id", self.gene_id)
        if self.structural_type is not None:
            _curie("structural_type", self.structural_type)
        _tuple_of("hgvs", self.hgvs, str)
        for expression in self.hgvs:
            _text("hgvs expression", expression)
        if self.zygosity is not None:
            _text("zygosity", self.zygosity)
            if self.zygosity != self.zygosity.lower():
                raise ValueError(f"zygosity must be lower case: {self.zygosity!r}")
        _one_of("interpretation_status", self.interpretation_status, INTERPRETATION_STATUSES)
        _one_of("acmg_class", self.acmg_class, ACMG_CLASSES)
        if self.gene_only and self.gene_symbol is None and self.gene_id is None:
            raise ValueError("a variant call needs coordinates, HGVS, a label or a gene")

    @property
    def has_coordinates(self) -> bool:
        """True when chrom, pos, ref and alt are known."""
        return self.pos is not None

    @property
    def gene_only(self) -> bool:
        """True when only a gene (and status) is known: no variant description at all."""
        return (
            self.pos is None
            and not self.hgvs
            and self.zygosity is None
            and self.acmg_class is None
            and self.variant_id is None
            and self.label is None
            and self.structural_type is None
        )


@dataclass(frozen=True, slots=True)
class RecordedDiagnosis:
    """A diagnosis recorded in the case (disease CURIE such as OMIM:601859) and its variants.

    `disease_id` may be absent for an unsolved interpretation that lists candidate variants.
    `progress_status` is the interpretation's status (SOLVED, UNSOLVED…), if given. The
    disease's onset, when recorded, is `onset_years` (postnatal age) or `onset_term` (an HPO
    onset class; a gestational onset is kept as embryonal or fetal onset), never both.
    """

    disease_id: str | None
    label: str | None = None
    variants: tuple[VariantCall, ...] = ()
    progress_status: str | None = None
    onset_years: float | None = None
    onset_term: str | None = None

    def __post_init__(self) -> None:
        if self.disease_id is not None:
            _curie("disease_id", self.disease_id)
        _opt_text("label", self.label)
        _years("onset_years", self.onset_years)
        if self.onset_term is not None:
            _curie("onset_term", self.onset_term)
            if self.onset_years is not None:
                raise ValueError("give onset_years or onset_term, not both")
        _tuple_of("variants", self.variants, VariantCall)
        _one_of("progress_status", self.progress_status, PROGRESS_STATUSES)
        if self.disease_id is None and not self.variants:
            raise ValueError("a diagnosis needs a disease id or at least one variant")
        if self.disease_id is None and self.label is not None:
            raise ValueError("a diagnosis label needs a disease id")


@dataclass(frozen=True, slots=True)
class GenomicFile:
    """A sequencing file (VCF, BAM…) and the mapping of case individuals to its sample ids.

    `individual_to_file_ids` holds (individual id, sample id in the file) pairs, sorted.
    """

    uri: str
    assembly: str | None = None
    file_format: str | None = None
    individual_to_file_ids: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        _text("uri", self.uri)
        _opt_text("assembly", self.assembly)
        _opt_text("file_format", self.file_format)
        _tuple_of("individual_to_file_ids", self.individual_to_file_ids, tuple)
        seen: set[str] = set()
        for pair in self.individual_to_file_ids:
            if len(pair) != 2:
                raise ValueError(f"individual_to_file_ids entries are pairs: {pair!r}")
            _text("individual id", pair[0])
            _text("file sample id", pair[1])
            if pair[0] in seen:
                raise ValueError(f"individual {pair[0]!r} is mapped twice in {self.uri}")
            seen.add(pair[0])
        # A map: kept sorted so that equal mappings compare equal whatever their order.
        object.__setattr__(
            self, "individual_to_file_ids", tuple(sorted(self.individual_to_file_ids))
        )

    def sample_id(self, individual_id: str) -> str | None:
        """The sample id of `individual_id` in this file, if mapped."""
        return next((s for i, s in self.individual_to_file_ids if i == individual_id), None)


@dataclass(frozen=True, slots=True)
class PedigreePerson:
    """One row of a pedigree (PED semantics); `affected` is None when unknown."""

    family_id: str
    individual_id: str
    paternal_id: str | None = None
    maternal_id: str | None = None
    sex: Sex = Sex.UNKNOWN_SEX
    affected: bool | None = None

    def __post_init__(self) -> None:
        _text("family_id", self.family_id)
        _text("individual_id", self.individual_id)
        for name in ("paternal_id", "maternal_id"):
            value = getattr(self, name)
            _opt_text(name, value)
            if value == "0":
                raise ValueError(f"{name} '0' means unknown: use None")
        if not isinstance(self.sex, Sex):
            raise ValueError(f"sex must be a Sex: {self.sex!r}")
        if self.affected is not None and not isinstance(self.affected, bool):
            raise ValueError(f"affected must be a bool or None: {self.affected!r}")


@dataclass(frozen=True, slots=True)
class Resource:
    """An ontology or database the case refers to (Phenopacket metaData.resources)."""

    id: str
    name: str = ""
    url: str = ""
    version: str = ""
    namespace_prefix: str = ""
    iri_prefix: str = ""

    def __post_init__(self) -> None:
        _text("resource id", self.id)
        for name in ("name", "url", "version", "namespace_prefix", "iri_prefix"):
            _text_or_empty(f"resource {name}", getattr(self, name))


@dataclass(frozen=True, slots=True)
class ExternalReference:
    """A publication or record the case comes from, such as PMID:15266616."""

    id: str
    reference: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        _text("external reference id", self.id)
        _text_or_empty("external reference", self.reference)
        _text_or_empty("external reference description", self.description)


@dataclass(frozen=True, slots=True)
class CaseMeta:
    """Provenance of the case: who created it and when (timezone-aware), schema, resources."""

    created: datetime | None = None
    created_by: str | None = None
    submitted_by: str | None = None
    schema_version: str = "2.0"
    resources: tuple[Resource, ...] = ()
    external_references: tuple[ExternalReference, ...] = ()

    def __post_init__(self) -> None:
        if self.created is not None and (
            not isinstance(self.created, datetime) or self.created.utcoffset() is None
        ):
            raise ValueError(f"created must be a timezone-aware datetime: {self.created!r}")
        _opt_text("created_by", self.created_by)
        _opt_text("submitted_by", self.submitted_by)
        _text("schema_version", self.schema_version)
        if not self.schema_version.startswith("2"):
            raise ValueError(f"only Phenopacket schema 2.x is supported: {self.schema_version}")
        _tuple_of("resources", self.resources, Resource)
        _tuple_of("external_references", self.external_references, ExternalReference)


@dataclass(frozen=True, slots=True)
class Case:
    """A patient case: the subject, phenotypic features, recorded diagnoses, files, family.

    `family_id` is set when the case comes from (and is written as) a Phenopacket Family;
    only then may it carry `pedigree`, `relatives` and `consanguineous_parents`.
    """

    id: str
    subject: Subject
    features: tuple[PhenotypeObservation, ...] = ()
    diagnoses: tuple[RecordedDiagnosis, ...] = ()
    files: tuple[GenomicFile, ...] = ()
    pedigree: tuple[PedigreePerson, ...] = ()
    relatives: tuple[Case, ...] = ()
    family_id: str | None = None
    consanguineous_parents: bool = False
    meta: CaseMeta = field(default_factory=CaseMeta)

    def __post_init__(self) -> None:
        _text("case id", self.id)
        if not isinstance(self.subject, Subject):
            raise ValueError("subject must be a Subject")
        _tuple_of("features", self.features, PhenotypeObservation)
        _tuple_of("diagnoses", self.diagnoses, RecordedDiagnosis)
        _tuple_of("files", self.files, GenomicFile)
        _tuple_of("pedigree", self.pedigree, PedigreePerson)
        _tuple_of("relatives", self.relatives, Case)
        _opt_text("family_id", self.family_id)
        if not isinstance(self.consanguineous_parents, bool):
            raise ValueError("consanguineous_parents must be a bool")
        if not isinstance(self.meta, CaseMeta):
            raise ValueError("meta must be a CaseMeta")
        if self.family_id is None and (
            self.pedigree or self.relatives or self.consanguineous_parents
        ):
            raise ValueError("pedigree, relatives and consanguinity need a family_id")
        if any(r.family_id is not None for r in self.relatives):
            raise ValueError("relatives are single phenopackets: they carry no family_id")

    @property
    def proband_id(self) -> str:
        """The id of the individual this case is about (the subject)."""
        return self.subject.id

    @property
    def observed_terms(self) -> tuple[str, ...]:
        """Ids of observed (not excluded) features, first occurrence order, no duplicates."""
        return tuple(dict.fromkeys(f.term_id for f in self.features if not f.excluded))

    @property
    def excluded_terms(self) -> tuple[str, ...]:
        """Ids of excluded features, first occurrence order, no duplicates."""
        return tuple(dict.fromkeys(f.term_id for f in self.features if f.excluded))

    @property
    def variants(self) -> tuple[VariantCall, ...]:
        """Every variant call of every recorded diagnosis, in order."""
        return tuple(v for d in self.diagnoses for v in d.variants)

    @property
    def disease_ids(self) -> tuple[str, ...]:
        """Ids of the recorded diagnoses, no duplicates."""
        return tuple(dict.fromkeys(d.disease_id for d in self.diagnoses if d.disease_id))
