"""`TreatmentIndex`: the shipped treatments linked to one knowledge base's diseases and genes.

Built once per KB (`treatment_index(kb)` caches it). A treatment row names OMIM, ORPHA or MONDO
ids; each is resolved to the KB's disease entries and from there to their equivalence group
(OMIM/ORPHA entries sharing a MONDO exact match), so asking for any id of a disease returns
the treatments written under any of its equivalent ids.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Final

import numpy as np

from raredx.errors import InputError
from raredx.kb import KnowledgeBase, per_kb
from raredx.treat.load import load_treatments
from raredx.treat.model import EvidenceLevel, Origin, Treatment

__all__ = [
    "MAX_QUERY_LENGTH",
    "MIN_NAME_QUERY",
    "TreatmentIndex",
    "normalize_text",
    "treatment_index",
]

MAX_QUERY_LENGTH: Final = 200
"""Longest query `find` accepts (characters)."""

MIN_NAME_QUERY: Final = 3
"""Shortest disease or therapy name fragment `find` matches (characters)."""

_DISEASE_ID: Final = re.compile(r"^(OMIM|ORPHA|ORPHANET|MONDO)[:_]\s*\d+$", re.IGNORECASE)


def normalize_text(text: str) -> str:
    """Case-folded, accent-free, single-spaced text for name matching ("Chédiak" -> "chediak")."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


def _canonical_id(disease_id: str) -> str:
    prefix, _, number = disease_id.replace("_", ":", 1).partition(":")
    prefix = prefix.strip().upper()
    if prefix == "ORPHANET":
        prefix = "ORPHA"
    return f"{prefix}:{number.strip()}"


class TreatmentIndex:
    """Treatments by KB disease group and by gene; `find` answers a free-text query.

    - `treatments`: every treatment, MAxO rows given the genes the KB links to their diseases.
    - `unresolved`: disease ids of the tables that this KB does not know (kept, not indexed).
    """

    def __init__(self, kb: KnowledgeBase, treatments: Sequence[Treatment] | None = None) -> None:
        self.kb = kb
        rows = tuple(load_treatments() if treatments is None else treatments)
        self._mondo: dict[str, set[int]] = defaultdict(set)
        for d in range(kb.n_diseases):
            for other in kb.equivalent_ids(d):
                if other.startswith("MONDO:"):
                    self._mondo[other].add(d)
        by_group: dict[int, list[int]] = defaultdict(list)
        by_gene: dict[str, list[int]] = defaultdict(list)
        unresolved: set[str] = set()
        resolved_rows: list[Treatment] = []
        for i, t in enumerate(rows):
            diseases: set[int] = set()
            for disease_id in t.disease_ids:
                found = self._resolve_id(disease_id)
                if not found:
                    unresolved.add(disease_id)
                diseases |= found
            if not t.genes and t.origin is Origin.MAXO and diseases:
                genes = kb.genes_of_diseases(sorted(diseases))
                t = replace(t, genes=tuple(sorted({kb.gene_symbols[int(g)] for g in genes})))
            if not t.disease_name and diseases:
                t = replace(t, disease_name=kb.disease_names[min(diseases)])
            resolved_rows.append(t)
            for g in {int(kb.disease_group[d]) for d in diseases}:
                by_group[g].append(i)
            for symbol in t.genes:
                by_gene[symbol.upper()].append(i)
        self.treatments: tuple[Treatment, ...] = tuple(resolved_rows)
        self.unresolved: frozenset[str] = frozenset(unresolved)
        self._by_group = {g: tuple(sorted(set(v))) for g, v in by_group.items()}
        self._by_gene = {g: tuple(sorted(set(v))) for g, v in by_gene.items()}

    def __repr__(self) -> str:
        return (
            f"TreatmentIndex(kb={self.kb.version!r}, treatments={len(self.treatments)}, "
            f"groups={len(self._by_group)})"
        )

    # ------------------------------------------------------------------ lookups
    def _resolve_id(self, disease_id: str) -> set[int]:
        key = _canonical_id(disease_id)
        if key.startswith("MONDO:"):
            return set(self._mondo.get(key, ()))
        idx = self.kb.disease_index.get(key)
        return set() if idx is None else {idx}

    def _sorted(self, rows: Iterable[int]) -> tuple[Treatment, ...]:
        return tuple(sorted((self.treatments[i] for i in set(rows)), key=lambda t: t.sort_key))

    def treatments_for_groups(self, groups: Iterable[int]) -> tuple[Treatment, ...]:
        """Treatments of these KB disease groups (`kb.disease_group` values), strongest first."""
        return self._sorted(i for g in groups for i in self._by_group.get(int(g), ()))

    def treatments_for_disease(self, disease: str | int) -> tuple[Treatment, ...]:
        """Treatments of a disease given by any id (OMIM, ORPHA, MONDO) or KB index.

        Covers the disease's whole equivalence group; evidence level first. InputError if the
        id is unknown to the KB.
        """
        if isinstance(disease, int):
            if not 0 <= disease < self.kb.n_diseases:
                raise InputError("unknown disease index", [str(disease)])
            indices = {disease}
        else:
            indices = self._resolve_id(disease) if _DISEASE_ID.match(disease.strip()) else set()
            if not indices:
                raise InputError("unknown disease id", [disease])
        return self.treatments_for_groups({int(self.kb.disease_group[d]) for d in indices})

    def treatments_for_gene(self, gene: str) -> tuple[Treatment, ...]:
        """Treatments whose genes include this gene (symbol, previous symbol, alias or id)."""
        indices = self.kb.gene_indices(gene)
        if not indices:
            raise InputError("unknown gene", [gene])
        symbols = {self.kb.gene_symbols[g].upper() for g in indices}
        return self._sorted(i for s in symbols for i in self._by_gene.get(s, ()))

    def has_treatment(self, disease: int, *, include_annotations: bool = False) -> bool:
        """Whether the disease (KB index) has a curated treatment (or any, with annotations)."""
        group = int(self.kb.disease_group[disease])
        return any(
            include_annotations or self.treatments[i].origin is Origin.CURATED
            for i in self._by_group.get(group, ())
        )

    def treatable_mask(self, *, min_level: EvidenceLevel = EvidenceLevel.CASE_REPORT) -> np.ndarray:
        """Boolean array over KB disease indices: True where the disease's group has a treatment
        at `min_level` or stronger (MAxO annotations count only with `min_level=ANNOTATION`).

        Meant for a "do not miss" list: treatable diseases worth showing even when not first.
        """
        groups = [
            g
            for g, rows in self._by_group.items()
            if any(self.treatments[i].evidence_level.rank <= min_level.rank for i in rows)
        ]
        return np.isin(self.kb.disease_group, np.asarray(groups, dtype=np.int64))

    def find(self, query: str) -> tuple[Treatment, ...]:
        """Treatments for a gene symbol, disease id, or disease/therapy name fragment.

        Disease ids (any of OMIM/ORPHA/MONDO, `_` or `:`) are tried first, then genes, then a
        case- and accent-insensitive substring of disease names and therapy names. Raises
        InputError for an empty, over-long or unprintable query and for one that names no
        known disease, gene or therapy; a known disease without treatments gives `()`.
        """
        text = query.strip()
        if not text:
            raise InputError("empty query: give a gene symbol, disease id or name")
        if len(text) > MAX_QUERY_LENGTH:
            raise InputError(
                f"query longer than {MAX_QUERY_LENGTH} characters", [text[:40] + "..."]
            )
        if any(unicodedata.category(c) in {"Cc", "Cf", "Cs", "Co", "Cn"} for c in text):
            raise InputError("query contains control or unprintable characters", [repr(text[:40])])
        if _DISEASE_ID.match(text):
            return self.treatments_for_disease(text)
        if self.kb.gene_indices(text):
            return self.treatments_for_gene(text)
        needle = normalize_text(text)
        if len(needle) < MIN_NAME_QUERY:
            raise InputError(
                f"no gene or disease id matches, and names need at least {MIN_NAME_QUERY} "
                "characters",
                [text],
            )
        groups = {
            int(self.kb.disease_group[d])
            for d, name in enumerate(self.kb.disease_names)
            if needle in normalize_text(name)
        }
        rows = {i for g in groups for i in self._by_group.get(g, ())}
        rows |= {
            i
            for i, t in enumerate(self.treatments)
            if needle in normalize_text(t.therapy) or needle in normalize_text(t.disease_name)
        }
        if not groups and not rows:
            raise InputError("no disease, gene or therapy matches the query", [text])
        return self._sorted(rows)


@per_kb
def treatment_index(kb: KnowledgeBase) -> TreatmentIndex:
    """The `TreatmentIndex` of this KB, built on first use (~0.1 s) and kept while the KB lives."""
    return TreatmentIndex(kb)
