"""Matchmaker Exchange API v1 messages (search request and response) as pydantic models.

Follows the MME search API (ga4gh/mme-apis, ``search-api.md``, v1.0 with the v1.1 additions:
contact ``roles`` and ``email``, ``label`` on features and disorders). Ids are limited to 255
UTF-8 characters as the specification says; lists are bounded so that one request cannot make
a node compare millions of terms. Fields named with a leading underscore are the
specification's non-standard extension fields: accepted and ignored. Other unknown fields are
ignored too, and never echoed back.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = [
    "AGE_OF_ONSET_TERMS",
    "LATEST_VERSION",
    "MAX_FEATURES",
    "MAX_GENOMIC_FEATURES",
    "MEDIA_TYPE",
    "SUPPORTED_VERSIONS",
    "Contact",
    "Disorder",
    "Feature",
    "Gene",
    "GenomicFeature",
    "MatchRequest",
    "MatchResponse",
    "MatchResult",
    "Patient",
    "Score",
    "SoTerm",
    "Variant",
    "media_type",
    "parse_media_type",
]

SUPPORTED_VERSIONS = ("1.0", "1.1")
"""MME API versions this node speaks; minor versions of one major are cross-compatible."""

LATEST_VERSION = SUPPORTED_VERSIONS[-1]

MEDIA_TYPE = f"application/vnd.ga4gh.matchmaker.v{LATEST_VERSION}+json"
"""The media type of every /match response when the request named no usable version."""

MAX_FEATURES = 500
"""Most phenotypic features one patient may carry (an exhaustive record has about 100)."""

MAX_GENOMIC_FEATURES = 200
"""Most genomic features one patient may carry."""


_MEDIA = re.compile(
    r"^application/vnd\.ga4gh\.matchmaker\.v(?P<major>\d{1,3})\.(?P<minor>\d{1,3})\+json$"
)

Text255 = Annotated[str, StringConstraints(min_length=1, max_length=255)]
HpoId = Annotated[str, StringConstraints(pattern=r"^HP:\d{7}$")]
OnsetId = Literal[
    "HP:0003577",
    "HP:0011460",
    "HP:0011461",
    "HP:0003623",
    "HP:0003593",
    "HP:0011463",
    "HP:0003621",
    "HP:0003581",
    "HP:0011462",
    "HP:0003596",
    "HP:0003584",
]
AGE_OF_ONSET_TERMS: tuple[str, ...] = get_args(OnsetId)
"""The HPO onset classes the specification allows for ``ageOfOnset``."""


def media_type(version: str) -> str:
    """The MME media type of `version` ("1.0" -> application/vnd.ga4gh.matchmaker.v1.0+json)."""
    return f"application/vnd.ga4gh.matchmaker.v{version}+json"


def parse_media_type(value: str) -> tuple[int, int] | None:
    """(major, minor) of an MME media type, parameters such as ``; charset=utf-8`` ignored;
    None when `value` is not an MME media type."""
    found = _MEDIA.match(value.split(";", 1)[0].strip().lower())
    if found is None:
        return None
    return int(found["major"]), int(found["minor"])


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Contact(_Message):
    """Who to contact about a patient: a public URL (http(s) or mailto) and a name."""

    name: Text255
    href: Annotated[str, StringConstraints(pattern=r"^(https?|mailto):\S+$", max_length=2048)]
    institution: Text255 | None = None
    email: Text255 | None = None
    roles: list[Literal["clinician", "researcher", "patient"]] | None = Field(
        default=None, max_length=3
    )


class Feature(_Message):
    """A phenotypic feature: an HPO id, observed ("yes", the default) or explicitly not."""

    id: HpoId
    label: Text255 | None = None
    observed: Literal["yes", "no"] = "yes"
    ageOfOnset: OnsetId | None = None


class Disorder(_Message):
    """A diagnosed disorder: ``MIM:######`` or ``Orphanet:#####`` (other prefixes are kept)."""

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z][\w.-]*:\S+$", max_length=255)]
    label: Text255 | None = None


class Gene(_Message):
    """A gene: Ensembl gene id, Entrez gene id or HGNC symbol."""

    id: Text255


class Variant(_Message):
    """A variant: 0-based half-open coordinates on an assembly's chromosome."""

    assembly: Annotated[str, StringConstraints(pattern=r"^(NCBI36|GRCh3[78])(\.p\d{1,2})?$")]
    referenceName: Annotated[str, StringConstraints(pattern=r"^([1-9]|1\d|2[0-2]|X|Y|MT)$")]
    start: Annotated[int, Field(ge=0, le=300_000_000)]
    end: Annotated[int, Field(ge=0, le=300_000_000)] | None = None
    referenceBases: (
        Annotated[str, StringConstraints(pattern=r"^[ACGTN]+$", max_length=1000)] | None
    ) = None
    alternateBases: (
        Annotated[str, StringConstraints(pattern=r"^[ACGTN]+$", max_length=1000)] | None
    ) = None


class SoTerm(_Message):
    """A Sequence Ontology term naming a variant's effect."""

    id: Annotated[str, StringConstraints(pattern=r"^SO:\d{7}$")]
    label: Text255 | None = None


class GenomicFeature(_Message):
    """A candidate gene, with optionally its variant, zygosity (1 or 2) and effect."""

    gene: Gene
    variant: Variant | None = None
    zygosity: Literal[1, 2] | None = None
    type: SoTerm | None = None


class Patient(_Message):
    """An MME patient record; at least one feature or genomic feature is required."""

    id: Text255
    contact: Contact
    label: Text255 | None = None
    species: Annotated[str, StringConstraints(pattern=r"^NCBITaxon:\d+$")] | None = None
    sex: Literal["FEMALE", "MALE", "OTHER", "MIXED_SAMPLE", "NOT_APPLICABLE"] | None = None
    ageOfOnset: OnsetId | None = None
    inheritanceMode: HpoId | None = None
    disorders: list[Disorder] = Field(default_factory=list, max_length=100)
    features: list[Feature] = Field(default_factory=list, max_length=MAX_FEATURES)
    genomicFeatures: list[GenomicFeature] = Field(
        default_factory=list, max_length=MAX_GENOMIC_FEATURES
    )
    test: bool | None = None

    @model_validator(mode="after")
    def _something_to_match(self) -> Patient:
        if not self.features and not self.genomicFeatures:
            raise ValueError("a patient needs at least one of features or genomicFeatures")
        if self.species not in (None, "NCBITaxon:9606"):
            raise ValueError(f"species {self.species}: this node holds human patients only")
        return self


class MatchRequest(_Message):
    """A search request: the query patient, optionally the sender's disclaimer and terms."""

    patient: Patient
    disclaimer: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    terms: Annotated[str, StringConstraints(max_length=10_000)] | None = None


class Score(_Message):
    """How well a result matches the query: `patient` in 0..1 (1 is a perfect match)."""

    patient: Annotated[float, Field(ge=0.0, le=1.0)]


class MatchResult(_Message):
    """One matching patient and its score."""

    score: Score
    patient: Patient


class MatchResponse(_Message):
    """The synchronous search response: every match, best first (may be empty)."""

    results: list[MatchResult]
    disclaimer: str | None = None
    terms: str | None = None
