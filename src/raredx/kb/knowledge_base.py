"""The loaded knowledge base: arrays for the hot paths, value objects on demand."""

from __future__ import annotations

import functools
import math
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
import scipy.sparse as sp

from raredx.errors import InputError
from raredx.kb.model import Disease, DiseaseAnnotation, Gene, Sex, SourceInfo, Term

__all__ = ["KnowledgeBase", "TermLookup", "TermLookupKind", "per_kb"]

_T = TypeVar("_T")

_SEX = (Sex.ANY, Sex.MALE, Sex.FEMALE)


class TermLookupKind(StrEnum):
    """How an id was resolved to a current term."""

    CURRENT = "current"
    ALT_ID = "alt_id"
    OBSOLETE = "obsolete"


@dataclass(frozen=True, slots=True)
class TermLookup:
    """Result of resolving a term id: the current term's index and how it was reached."""

    index: int
    term_id: str
    kind: TermLookupKind
    given: str


class KnowledgeBase:
    """An immutable, loaded KB. Term, disease and gene indices are stable within one version.

    Arrays (read-only numpy):
    - terms: `ancestor_indptr/indices` (CSR, each term's ancestors including itself),
      `parent_indptr/indices`, `term_ic` (information content, nats, >= 0).
    - annotations, one row each: `ann_disease`, `ann_term`, `ann_freq` (in [0, 1], NaN when
      unstated), `ann_num`/`ann_den` (raw n/m or -1), `ann_onset` (term index or -1),
      `ann_sex` (0 any, 1 male, 2 female), `ann_negated`.
    - `disease_group`: equivalence class of each disease across OMIM/ORPHA (via MONDO).
    - `gene_disease_gene/disease`: gene-disease links.
    """

    def __init__(
        self,
        arrays: Mapping[str, np.ndarray],
        strings: Mapping[str, Any],
        manifest: Mapping[str, Any],
    ) -> None:
        self.manifest: Mapping[str, Any] = manifest
        self.version: str = str(manifest["version"])
        self.hpo_release: str = str(manifest["hpo_release"])
        a = arrays
        self.parent_indptr = a["parent_indptr"]
        self.parent_indices = a["parent_indices"]
        self.ancestor_indptr = a["ancestor_indptr"]
        self.ancestor_indices = a["ancestor_indices"]
        self.term_ic = a["term_ic"]
        self.term_disease_count = a["term_disease_count"]
        self.ann_disease = a["ann_disease"]
        self.ann_term = a["ann_term"]
        self.ann_freq = a["ann_freq"]
        self.ann_num = a["ann_num"]
        self.ann_den = a["ann_den"]
        self.ann_onset = a["ann_onset"]
        self.ann_sex = a["ann_sex"]
        self.ann_negated = a["ann_negated"]
        self.ann_modifiers = a["ann_modifiers"]
        self.ann_reference = a["ann_reference"]
        self.ann_evidence = a["ann_evidence"]
        self.inheritance_disease = a["inheritance_disease"]
        self.inheritance_term = a["inheritance_term"]
        self.course_disease = a["course_disease"]
        self.course_term = a["course_term"]
        self.disease_group = a["disease_group"]
        self.gene_disease_gene = a["gene_disease_gene"]
        self.gene_disease_disease = a["gene_disease_disease"]
        s = strings
        self.term_ids: list[str] = s["term_ids"]
        self.term_labels: list[str] = s["term_labels"]
        self.term_labels_fr: list[str] = s["term_labels_fr"]
        self.term_synonyms: list[list[str]] = s["term_synonyms"]
        self.term_synonyms_fr: list[list[str]] = s["term_synonyms_fr"]
        self._term_definitions: list[str] = s["term_definitions"]
        self._term_alt_ids: list[list[str]] = s["term_alt_ids"]
        self._alt_ids: dict[str, str] = s["alt_ids"]
        self._obsolete: dict[str, str] = s["obsolete"]
        self.disease_ids: list[str] = s["disease_ids"]
        self.disease_names: list[str] = s["disease_names"]
        self._group_mondo: list[list[str]] = s["group_mondo"]
        self._references: list[str] = s["references"]
        self._evidences: list[str] = s["evidences"]
        self._modifier_sets: list[str] = s["modifier_sets"]
        self.gene_hgnc_ids: list[str] = s["gene_hgnc_ids"]
        self.gene_symbols: list[str] = s["gene_symbols"]
        self._gene_names: list[str] = s["gene_names"]
        self._gene_locus_types: list[str] = s["gene_locus_types"]
        self._gene_aliases: list[list[str]] = s["gene_aliases"]
        self._gene_previous: list[list[str]] = s["gene_previous"]
        self._gene_ncbi: list[str] = s["gene_ncbi_ids"]
        self._gene_ensembl: list[str] = s["gene_ensembl_ids"]
        self.term_index: dict[str, int] = {t: i for i, t in enumerate(self.term_ids)}
        self.disease_index: dict[str, int] = {d: i for i, d in enumerate(self.disease_ids)}

    # ------------------------------------------------------------------ sizes and provenance
    @property
    def n_terms(self) -> int:
        return len(self.term_ids)

    @property
    def n_diseases(self) -> int:
        return len(self.disease_ids)

    @property
    def n_genes(self) -> int:
        return len(self.gene_symbols)

    @property
    def sources(self) -> tuple[SourceInfo, ...]:
        return tuple(SourceInfo(**s) for s in self.manifest["sources"])

    def __repr__(self) -> str:
        return (
            f"KnowledgeBase(version={self.version!r}, terms={self.n_terms}, "
            f"diseases={self.n_diseases}, genes={self.n_genes})"
        )

    # ------------------------------------------------------------------ terms
    def lookup_term(self, term_id: str) -> TermLookup | None:
        """Resolve a CURIE (`HP:0001873`) to a current term, following alt ids and obsolete
        terms' replacements; None if unknown or obsolete without replacement."""
        idx = self.term_index.get(term_id)
        if idx is not None:
            return TermLookup(idx, term_id, TermLookupKind.CURRENT, term_id)
        target = self._alt_ids.get(term_id)
        if target is not None:
            return TermLookup(self.term_index[target], target, TermLookupKind.ALT_ID, term_id)
        target = self._obsolete.get(term_id)
        if target:
            return TermLookup(self.term_index[target], target, TermLookupKind.OBSOLETE, term_id)
        return None

    def is_obsolete_without_replacement(self, term_id: str) -> bool:
        return self._obsolete.get(term_id) == ""

    def term(self, term: str | int) -> Term:
        """The term with this id (alt ids and obsolete ids follow their replacement) or index."""
        idx = term if isinstance(term, int) else self._term_idx(term)
        return Term(
            id=self.term_ids[idx],
            label=self.term_labels[idx],
            definition=self._term_definitions[idx],
            synonyms=tuple(self.term_synonyms[idx]),
            label_fr=self.term_labels_fr[idx] or None,
            synonyms_fr=tuple(self.term_synonyms_fr[idx]),
            alt_ids=tuple(self._term_alt_ids[idx]),
            parents=tuple(self.term_ids[p] for p in self.parents(idx)),
            information_content=float(self.term_ic[idx]),
        )

    def _term_idx(self, term_id: str) -> int:
        found = self.lookup_term(term_id)
        if found is None:
            raise InputError("unknown HPO term", [term_id])
        return found.index

    def parents(self, idx: int) -> np.ndarray:
        return self.parent_indices[self.parent_indptr[idx] : self.parent_indptr[idx + 1]]

    def ancestors(self, idx: int) -> np.ndarray:
        """Indices of `idx`'s ancestors, including `idx` itself (sorted)."""
        return self.ancestor_indices[self.ancestor_indptr[idx] : self.ancestor_indptr[idx + 1]]

    def descendants(self, idx: int) -> np.ndarray:
        """Indices of `idx`'s descendants, including `idx` itself (sorted)."""
        m = self.descendant_matrix
        indices: np.ndarray = m.indices[m.indptr[idx] : m.indptr[idx + 1]]
        return indices

    def is_ancestor(self, ancestor: str | int, term: str | int) -> bool:
        """True if `ancestor` is `term` or one of its ancestors."""
        a = ancestor if isinstance(ancestor, int) else self._term_idx(ancestor)
        t = term if isinstance(term, int) else self._term_idx(term)
        anc = self.ancestors(t)
        pos = int(np.searchsorted(anc, a))
        return pos < len(anc) and int(anc[pos]) == a

    @cached_property
    def term_annotation_count(self) -> np.ndarray:
        """Positive annotations made with exactly this term (not its descendants), per term."""
        counts: np.ndarray = np.bincount(self.ann_term[~self.ann_negated], minlength=self.n_terms)
        return counts

    @cached_property
    def ancestor_matrix(self) -> sp.csr_matrix:
        """Terms x terms, 1 where column is an ancestor of (or equal to) row."""
        data = np.ones(len(self.ancestor_indices), dtype=np.float32)
        return sp.csr_matrix(
            (data, self.ancestor_indices, self.ancestor_indptr), shape=(self.n_terms, self.n_terms)
        )

    @cached_property
    def descendant_matrix(self) -> sp.csr_matrix:
        """Terms x terms, 1 where column is a descendant of (or equal to) row."""
        m = self.ancestor_matrix.T.tocsr()
        m.sort_indices()
        return m

    # ------------------------------------------------------------------ diseases
    @cached_property
    def _ann_by_disease(self) -> tuple[np.ndarray, np.ndarray]:
        """(annotation rows ordered by disease, offsets of each disease in that order)."""
        order = np.argsort(self.ann_disease, kind="stable")
        counts = np.bincount(self.ann_disease, minlength=self.n_diseases)
        offsets = np.zeros(self.n_diseases + 1, dtype=np.int64)
        offsets[1:] = np.cumsum(counts)
        return order, offsets

    def disease_annotation_rows(self, disease: int) -> np.ndarray:
        """Row numbers (into the `ann_*` arrays) of one disease's annotations, in file order."""
        order, offsets = self._ann_by_disease
        return order[offsets[disease] : offsets[disease + 1]]

    def disease(self, disease: str | int) -> Disease:
        """The disease with this id (`OMIM:601859`, `ORPHA:3261`) or index."""
        d = disease if isinstance(disease, int) else self._disease_idx(disease)
        annotations = []
        for r in self.disease_annotation_rows(d):
            freq = float(self.ann_freq[r])
            onset = int(self.ann_onset[r])
            mods = self._modifier_sets[int(self.ann_modifiers[r])]
            annotations.append(
                DiseaseAnnotation(
                    term_id=self.term_ids[int(self.ann_term[r])],
                    frequency=None if math.isnan(freq) else freq,
                    frequency_n=int(self.ann_num[r]) if self.ann_num[r] >= 0 else None,
                    frequency_m=int(self.ann_den[r]) if self.ann_den[r] >= 0 else None,
                    onset_id=self.term_ids[onset] if onset >= 0 else None,
                    sex=_SEX[int(self.ann_sex[r])],
                    modifiers=tuple(mods.split(";")) if mods else (),
                    negated=bool(self.ann_negated[r]),
                    evidence=self._evidences[int(self.ann_evidence[r])],
                    reference=self._references[int(self.ann_reference[r])],
                )
            )
        inh = self.inheritance_term[self.inheritance_disease == d]
        crs = self.course_term[self.course_disease == d]
        genes = self.gene_disease_gene[self.gene_disease_disease == d]
        return Disease(
            id=self.disease_ids[d],
            name=self.disease_names[d],
            source=self.disease_ids[d].split(":", 1)[0],
            annotations=tuple(annotations),
            inheritance=tuple(self.term_ids[int(t)] for t in inh),
            clinical_course=tuple(self.term_ids[int(t)] for t in crs),
            genes=tuple(sorted(self.gene_symbols[int(g)] for g in genes)),
            equivalent_ids=self.equivalent_ids(d),
        )

    def _disease_idx(self, disease_id: str) -> int:
        key = disease_id.strip()
        if key.upper().startswith("ORPHANET:"):
            key = "ORPHA:" + key.split(":", 1)[1]
        idx = self.disease_index.get(key)
        if idx is None:
            mondo = self._mondo_index.get(key.upper())
            if mondo:
                return mondo[0]
            raise InputError("unknown disease id", [disease_id])
        return idx

    @cached_property
    def _group_members(self) -> list[list[int]]:
        members: list[list[int]] = [[] for _ in self._group_mondo]
        for d, g in enumerate(self.disease_group):
            members[int(g)].append(d)
        return members

    @cached_property
    def _mondo_index(self) -> dict[str, list[int]]:
        index: dict[str, list[int]] = {}
        for g, mondos in enumerate(self._group_mondo):
            for m in mondos:
                index.setdefault(m, []).extend(self._group_members[g])
        return index

    def equivalent_ids(self, disease: str | int) -> tuple[str, ...]:
        """Other ids of the same disease: OMIM/ORPHA entries in its group, then MONDO ids."""
        d = disease if isinstance(disease, int) else self._disease_idx(disease)
        g = int(self.disease_group[d])
        others = [self.disease_ids[o] for o in self._group_members[g] if o != d]
        return tuple(sorted(others)) + tuple(self._group_mondo[g])

    def inheritance_modes(self, disease: int) -> tuple[str, ...]:
        terms = self.inheritance_term[self.inheritance_disease == disease]
        return tuple(self.term_ids[int(t)] for t in terms)

    # ------------------------------------------------------------------ genes
    @cached_property
    def _symbol_index(self) -> dict[str, list[int]]:
        """Upper-cased symbol -> genes: approved first, then previous, then alias symbols."""
        index: dict[str, list[int]] = {}
        for i, sym in enumerate(self.gene_symbols):
            index.setdefault(sym.upper(), []).append(i)
        approved = set(index)
        for names in (self._gene_previous, self._gene_aliases):
            extra: dict[str, list[int]] = {}
            for i, syms in enumerate(names):
                for s in syms:
                    if s.upper() not in approved:
                        extra.setdefault(s.upper(), []).append(i)
            for k, v in extra.items():
                index.setdefault(k, v)
            approved |= set(extra)
        for i, hgnc in enumerate(self.gene_hgnc_ids):
            index[hgnc.upper()] = [i]
        for i, ncbi in enumerate(self._gene_ncbi):
            if ncbi:
                index.setdefault(f"NCBIGENE:{ncbi}", [i])
        for i, ens in enumerate(self._gene_ensembl):
            if ens:
                index.setdefault(ens.upper(), [i])
        return index

    def gene_indices(self, query: str) -> list[int]:
        """Genes matching a symbol (current, previous or alias), HGNC id, NCBIGene or Ensembl id.

        Approved symbols win over previous symbols, which win over aliases; an ambiguous alias
        returns every gene it names.
        """
        return list(self._symbol_index.get(query.strip().upper(), []))

    def resolve_gene(self, query: str) -> int:
        """Index of the one gene `query` names; InputError if unknown or ambiguous."""
        found = self.gene_indices(query)
        if not found:
            raise InputError("unknown gene", [query])
        if len(found) > 1:
            names = ", ".join(self.gene_symbols[i] for i in found)
            raise InputError("ambiguous gene symbol", [f"{query} could be {names}"])
        return found[0]

    def gene(self, gene: str | int) -> Gene:
        """The gene named by symbol or id (old symbols resolve to the current one), or index."""
        g = gene if isinstance(gene, int) else self.resolve_gene(gene)
        diseases = self.gene_disease_disease[self.gene_disease_gene == g]
        return Gene(
            hgnc_id=self.gene_hgnc_ids[g],
            symbol=self.gene_symbols[g],
            name=self._gene_names[g],
            locus_type=self._gene_locus_types[g],
            aliases=tuple(self._gene_aliases[g]),
            previous_symbols=tuple(self._gene_previous[g]),
            ncbi_gene_id=self._gene_ncbi[g] or None,
            ensembl_gene_id=self._gene_ensembl[g] or None,
            diseases=tuple(sorted(self.disease_ids[int(d)] for d in diseases)),
        )

    def genes_of_diseases(self, diseases: Iterable[int]) -> np.ndarray:
        """Gene indices linked to any of `diseases`."""
        mask = np.isin(self.gene_disease_disease, np.fromiter(diseases, dtype=np.int32))
        return np.unique(self.gene_disease_gene[mask])


def per_kb(build: Callable[[KnowledgeBase], _T]) -> Callable[[KnowledgeBase], _T]:
    """Decorate a function of a knowledge base so that it runs once per KB object: the result
    is kept (weakly keyed) for as long as that KB lives. For models and indexes built from it."""
    results: weakref.WeakKeyDictionary[KnowledgeBase, _T] = weakref.WeakKeyDictionary()

    @functools.wraps(build)
    def cached(kb: KnowledgeBase) -> _T:
        found = results.get(kb)
        if found is None:
            found = results[kb] = build(kb)
        return found

    return cached
