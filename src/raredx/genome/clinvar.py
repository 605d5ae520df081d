"""ClinVar: clinical significance from a VCF's annotations or from a local ClinVar store.

ClinVar is never downloaded: the user points raredx at a ClinVar VCF (the NCBI
``clinvar.vcf.gz`` of the right build), which `compile_clinvar` turns once into a compact
indexed store; `ClinVarStore.lookup` then answers by (chrom, pos, ref, alt).

>>> parse_significance("Pathogenic/Likely_pathogenic")
<ClinicalSignificance.LIKELY_PATHOGENIC: 'likely pathogenic'>
>>> review_stars("criteria_provided,_multiple_submitters,_no_conflicts")
2
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import numpy as np

from raredx.errors import InputError
from raredx.genome._store import StoreBuilder, StoreView
from raredx.genome.vcf import Assembly, iter_alleles, read_header

__all__ = [
    "CLINVAR_STORE_KIND",
    "ClinVarRecord",
    "ClinVarStore",
    "ClinicalSignificance",
    "compile_clinvar",
    "parse_significance",
    "review_stars",
]

CLINVAR_STORE_KIND = "clinvar"
"""The `kind` written in a ClinVar store's manifest."""


class ClinicalSignificance(StrEnum):
    """ClinVar germline classification, collapsed to the ACMG five tiers plus two."""

    PATHOGENIC = "pathogenic"
    LIKELY_PATHOGENIC = "likely pathogenic"
    CONFLICTING = "conflicting"
    UNCERTAIN = "uncertain significance"
    LIKELY_BENIGN = "likely benign"
    BENIGN = "benign"
    OTHER = "other"

    @property
    def is_pathogenic(self) -> bool:
        """Pathogenic or likely pathogenic."""
        return self in (ClinicalSignificance.PATHOGENIC, ClinicalSignificance.LIKELY_PATHOGENIC)

    @property
    def code(self) -> int:
        """Small integer used in arrays (0 = pathogenic … 6 = other)."""
        return _SIGNIFICANCE_ORDER.index(self)


_SIGNIFICANCE_ORDER = tuple(ClinicalSignificance)
_NUMERIC_CODES = {
    "0": "uncertain_significance",
    "1": "not_provided",
    "2": "benign",
    "3": "likely_benign",
    "4": "likely_pathogenic",
    "5": "pathogenic",
    "6": "drug_response",
    "7": "histocompatibility",
    "255": "other",
}
_SPLIT = re.compile(r"[|&,/;]")


@lru_cache(maxsize=4096)
def parse_significance(text: str) -> ClinicalSignificance | None:
    """ClinVar significance written as in ClinVar's VCF (``Likely_pathogenic``), VEP's
    ``CLIN_SIG`` (``likely_benign&benign``) or the old numeric codes (``5``); None if empty.

    Pathogenic and benign assertions together are `CONFLICTING`; a mixture within one side is
    the weaker class (``Pathogenic/Likely_pathogenic`` is likely pathogenic).
    """
    tokens = set()
    for raw in _SPLIT.split(text.strip().lower().replace(" ", "_")):
        token = raw.strip("_ ")
        if not token or token == ".":
            continue
        tokens.add(_NUMERIC_CODES.get(token, token))
    if not tokens:
        return None
    pathogenic = {"pathogenic", "likely_pathogenic"} & tokens
    benign = {"benign", "likely_benign"} & tokens
    if any(t.startswith("conflicting") for t in tokens) or (pathogenic and benign):
        return ClinicalSignificance.CONFLICTING
    if pathogenic:
        if pathogenic == {"pathogenic"}:
            return ClinicalSignificance.PATHOGENIC
        return ClinicalSignificance.LIKELY_PATHOGENIC
    if "uncertain_significance" in tokens:
        return ClinicalSignificance.UNCERTAIN
    if benign:
        return (
            ClinicalSignificance.BENIGN
            if benign == {"benign"}
            else ClinicalSignificance.LIKELY_BENIGN
        )
    return ClinicalSignificance.OTHER


_STARS = (
    ("practice_guideline", 4),
    ("reviewed_by_expert_panel", 3),
    ("multiple_submitters", 2),
    ("single_submitter", 1),
    ("conflicting", 1),
    ("guideline", 4),
    ("exp", 3),
    ("mult", 2),
    ("single", 1),
    ("conf", 1),
)


@lru_cache(maxsize=1024)
def review_stars(text: str) -> int:
    """ClinVar review status as gold stars (0-4); also reads the old short codes
    (``guideline``, ``exp``, ``mult``, ``single``, ``conf``)."""
    status = text.strip().lower().replace(" ", "_")
    if not status or "no_assertion" in status or "no_criteria" in status:
        return 0
    for token in _SPLIT.split(status):
        token = token.strip("_")
        for key, stars in _STARS:
            if token == key or (len(key) > 6 and key in token):
                return stars
    return 0


@dataclass(frozen=True, slots=True)
class ClinVarRecord:
    """ClinVar's classification of one allele: significance, review stars, variation id."""

    significance: ClinicalSignificance
    stars: int
    variation_id: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.stars <= 4:
            raise ValueError(f"stars must be 0-4: {self.stars}")


class ClinVarStore(StoreView):
    """A compiled ClinVar store (see `compile_clinvar`), memory-mapped; lookups by allele."""

    KIND = CLINVAR_STORE_KIND
    LABEL = "ClinVar"

    def lookup(self, chrom: str, pos: int, ref: str, alt: str) -> ClinVarRecord | None:
        """ClinVar's record for this allele (normalised contig name), or None."""
        row = self._store.find(chrom, pos, ref, alt)
        if row is None:
            return None
        sig, stars, vid = self._store.values(row, ("significance", "stars", "variation_id"))
        return ClinVarRecord(
            _SIGNIFICANCE_ORDER[int(sig)], int(stars), int(vid) if vid >= 0 else None
        )


def compile_clinvar(
    vcf: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    assembly: Assembly | str | None = None,
) -> ClinVarStore:
    """Compile a ClinVar VCF (``CLNSIG``, ``CLNREVSTAT``; ID = variation id) into a store at
    `out` (a folder, written atomically). Records without a significance are skipped."""
    header = read_header(vcf, assembly)
    if header.info_field("CLNSIG") is None:
        raise InputError(f"{header.path}: not a ClinVar VCF (no CLNSIG INFO field in the header)")
    version = next(
        (line.split("=", 1)[1] for line in header.raw_lines if line.startswith("##fileDate=")),
        "",
    )
    builder = StoreBuilder(
        CLINVAR_STORE_KIND,
        header.assembly,
        columns={"significance": np.int8, "stars": np.int8, "variation_id": np.int32},
        source=Path(header.path).name,
        version=version,
    )
    for allele, record in iter_alleles(header):
        raw = record.INFO.get("CLNSIG")
        if raw is None:
            continue
        significance = parse_significance(_text(raw))
        if significance is None:
            continue
        status = record.INFO.get("CLNREVSTAT")
        stars = review_stars(_text(status)) if status is not None else 0
        vid = int(allele.id) if allele.id and allele.id.isdigit() else -1
        builder.add(
            allele.chrom,
            allele.pos,
            allele.ref,
            allele.alt,
            (significance.code, stars, vid),
        )
    return ClinVarStore(builder.write(out))


def _text(value: object) -> str:
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    return str(value)
