"""Modes of inheritance from HPO terms, per disease and per gene.

HPO writes inheritance as terms under *Mode of inheritance* (HP:0000005). Each is mapped to
the `InheritanceMode` values whose genotype patterns it allows; a term that constrains nothing
testable (digenic, polygenic, multifactorial…) maps to no mode, and a disease with no mode is
treated as compatible with every pattern.

>>> sorted(m.value for m in modes_from_terms(["HP:0001417"]))
['XLD', 'XLR']
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from raredx.genome.config import InheritanceMode
from raredx.kb import KnowledgeBase

__all__ = [
    "AUTOSOMAL_DOMINANT_TERM",
    "AUTOSOMAL_RECESSIVE_TERM",
    "INHERITANCE_TERM_MODES",
    "MITOCHONDRIAL_TERM",
    "X_LINKED_DOMINANT_TERM",
    "X_LINKED_RECESSIVE_TERM",
    "X_LINKED_TERM",
    "Y_LINKED_TERM",
    "disease_modes",
    "gene_modes",
    "modes_from_terms",
]

AUTOSOMAL_DOMINANT_TERM = "HP:0000006"
AUTOSOMAL_RECESSIVE_TERM = "HP:0000007"
X_LINKED_TERM = "HP:0001417"
X_LINKED_RECESSIVE_TERM = "HP:0001419"
X_LINKED_DOMINANT_TERM = "HP:0001423"
Y_LINKED_TERM = "HP:0001450"
MITOCHONDRIAL_TERM = "HP:0001427"

_AD, _AR = InheritanceMode.AUTOSOMAL_DOMINANT, InheritanceMode.AUTOSOMAL_RECESSIVE
_XLD, _XLR = InheritanceMode.X_LINKED_DOMINANT, InheritanceMode.X_LINKED_RECESSIVE

INHERITANCE_TERM_MODES: dict[str, frozenset[InheritanceMode]] = {
    AUTOSOMAL_DOMINANT_TERM: frozenset({_AD}),
    "HP:0012275": frozenset({_AD}),  # AD with maternal imprinting
    "HP:0012274": frozenset({_AD}),  # AD with paternal imprinting
    "HP:0025352": frozenset({_AD}),  # typically de novo
    "HP:0001442": frozenset({_AD}),  # somatic mosaicism
    "HP:0003745": frozenset({_AD}),  # sporadic: a de novo dominant allele
    "HP:0032113": frozenset({_AD, _AR}),  # semidominant
    AUTOSOMAL_RECESSIVE_TERM: frozenset({_AR}),
    X_LINKED_TERM: frozenset({_XLD, _XLR}),
    X_LINKED_RECESSIVE_TERM: frozenset({_XLR}),
    X_LINKED_DOMINANT_TERM: frozenset({_XLD}),
    Y_LINKED_TERM: frozenset({InheritanceMode.Y_LINKED}),
    MITOCHONDRIAL_TERM: frozenset({InheritanceMode.MITOCHONDRIAL}),
}
"""HPO inheritance terms and the genotype patterns (modes) each allows."""


def modes_from_terms(terms: Iterable[str]) -> frozenset[InheritanceMode]:
    """Modes allowed by a disease's inheritance terms; empty when none constrains."""
    out: set[InheritanceMode] = set()
    for t in terms:
        out |= INHERITANCE_TERM_MODES.get(t, frozenset())
    return frozenset(out)


def disease_modes(kb: KnowledgeBase, disease: int) -> frozenset[InheritanceMode]:
    """Modes of a KB disease (by index); empty when HPO gives none that constrains."""
    return _tables(kb)[0].get(disease, frozenset())


def gene_modes(kb: KnowledgeBase, gene: int) -> frozenset[InheritanceMode]:
    """Union of the modes of the diseases linked to a KB gene; empty when none is known."""
    return _tables(kb)[1].get(gene, frozenset())


@cache
def _tables(
    kb: KnowledgeBase,
) -> tuple[dict[int, frozenset[InheritanceMode]], dict[int, frozenset[InheritanceMode]]]:
    terms: dict[int, list[str]] = {}
    for d, t in zip(kb.inheritance_disease.tolist(), kb.inheritance_term.tolist(), strict=True):
        terms.setdefault(int(d), []).append(kb.term_ids[int(t)])
    by_disease = {d: modes_from_terms(ts) for d, ts in terms.items()}
    by_gene: dict[int, set[InheritanceMode]] = {}
    for g, d in zip(kb.gene_disease_gene.tolist(), kb.gene_disease_disease.tolist(), strict=True):
        by_gene.setdefault(int(g), set()).update(by_disease.get(int(d), frozenset()))
    return by_disease, {g: frozenset(m) for g, m in by_gene.items()}
