"""Stored cases as MME patients, and MME patients as what raredx compares.

What leaves the centre for a case (nothing else, and only for cases marked as shared):

- ``id``: the case id (store case ids are pseudonymous by contract; see docs/store.md);
- ``contact``: the node's configured contact (name, href, institution), never a user's;
- ``sex`` (genetic sex is not known: the phenotypic sex is sent when male or female);
- ``ageOfOnset``: the recorded diagnosis' HPO onset class, when it is one the MME allows;
- ``features``: every observed and excluded HPO term with its label;
- ``disorders``: OMIM and Orphanet ids of confirmed diagnoses (decisions) and of diagnoses
  recorded in the phenopacket;
- ``genomicFeatures``: genes of the phenopacket's interpretations (with the variant when it
  has coordinates on GRCh37/38), of ``variant_classified`` decisions, of the confirmed
  diseases, then the node's top candidate genes from the case's latest analysis (setting
  ``candidate_genes``), each gene identified by Ensembl id when the KB knows it (symbol in
  ``_geneName``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from raredx.case import Case, Sex
from raredx.kb import KnowledgeBase
from raredx.mme.config import NodeSettings
from raredx.mme.schema import AGE_OF_ONSET_TERMS, Patient
from raredx.store.store import StoredCase

__all__ = ["PatientProfile", "case_profile", "query_profile", "to_mme_patient"]

_ZYGOSITY = {"heterozygous": 1, "hemizygous": 1, "homozygous": 2}
_ASSEMBLIES = {"grch37": "GRCh37", "hg19": "GRCh37", "grch38": "GRCh38", "hg38": "GRCh38"}
_CONFIRMED_WEIGHT = 1.0


@dataclass(frozen=True, slots=True)
class PatientProfile:
    """What matching compares: observed HPO ids and candidate genes (approved symbol ->
    weight in 0-1; 1 for a gene with a reported or classified variant)."""

    observed: tuple[str, ...]
    genes: Mapping[str, float]


def _symbol(kb: KnowledgeBase, gene_id: str) -> str | None:
    query = gene_id.strip()
    if query.isdigit():
        query = f"NCBIGene:{query}"
    found = kb.gene_indices(query)
    return kb.gene_symbols[found[0]] if len(found) == 1 else None


def query_profile(kb: KnowledgeBase, patient: Patient) -> PatientProfile:
    """The observed terms and candidate genes of an incoming MME patient. Genes the KB cannot
    resolve to one approved symbol are ignored; every gene a query names weighs 1."""
    observed = tuple(dict.fromkeys(f.id for f in patient.features if f.observed == "yes"))
    genes: dict[str, float] = {}
    for feature in patient.genomicFeatures:
        symbol = _symbol(kb, feature.gene.id)
        if symbol is not None:
            genes[symbol] = _CONFIRMED_WEIGHT
    return PatientProfile(observed=observed, genes=genes)


def _disease_genes(kb: KnowledgeBase, disease_id: str) -> list[str]:
    try:
        disease = kb.disease(disease_id)
    except (KeyError, ValueError):
        return []
    return list(disease.genes)


def _confirmed_diseases(stored: StoredCase) -> list[str]:
    ids = [
        str(d.value.get("disease_id"))
        for d in stored.decisions
        if d.kind == "diagnosis_confirmed" and d.value.get("disease_id")
    ]
    return list(dict.fromkeys([*ids, *stored.case.disease_ids]))


def _reported_genes(stored: StoredCase, kb: KnowledgeBase) -> list[str]:
    names: list[str] = []
    for call in stored.case.variants:
        for gene in (call.gene_symbol, call.gene_id):
            if gene:
                names.append(gene)
                break
    for decision in stored.decisions:
        if decision.kind == "variant_classified":
            gene = decision.value.get("gene") or decision.value.get("gene_symbol")
            if isinstance(gene, str):
                names.append(gene)
    for disease_id in _confirmed_diseases(stored):
        names.extend(_disease_genes(kb, disease_id))
    symbols = (_symbol(kb, n) for n in names)
    return list(dict.fromkeys(s for s in symbols if s is not None))


def _candidate_genes(stored: StoredCase, node: NodeSettings) -> dict[str, float]:
    if stored.latest is None or node.candidate_genes == 0:
        return {}
    out: dict[str, float] = {}
    for gene in list(stored.latest.results.get("genes") or ())[: node.candidate_genes]:
        score = float(gene.get("score") or 0.0)
        if score >= node.candidate_min_score and score > 0.0:
            out[str(gene["symbol"])] = min(1.0, score)
    return out


def case_profile(stored: StoredCase, kb: KnowledgeBase, node: NodeSettings) -> PatientProfile:
    """What matching compares for a stored case: its observed terms, the genes it reports
    (weight 1) and its shared candidate genes (weight = gene score)."""
    genes = dict(_candidate_genes(stored, node))
    for symbol in _reported_genes(stored, kb):
        genes[symbol] = _CONFIRMED_WEIGHT
    return PatientProfile(observed=stored.case.observed_terms, genes=genes)


def _mme_disorder(disease_id: str) -> str | None:
    prefix, _, local = disease_id.partition(":")
    if prefix.upper() in ("OMIM", "MIM") and local.isdigit():
        return f"MIM:{local}"
    if prefix.upper() in ("ORPHA", "ORPHANET") and local:
        return f"Orphanet:{local}"
    return None


def _gene_entry(kb: KnowledgeBase, symbol: str) -> dict[str, Any]:
    gene = kb.gene(symbol)
    entry: dict[str, Any] = {"id": gene.ensembl_gene_id or gene.symbol, "_geneName": gene.symbol}
    if gene.ncbi_gene_id:
        entry["_entrezGeneID"] = gene.ncbi_gene_id
    return entry


def _variant_features(stored: StoredCase, kb: KnowledgeBase) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for call in stored.case.variants:
        gene = call.gene_symbol or call.gene_id
        symbol = _symbol(kb, gene) if gene else None
        if symbol is None:
            continue
        feature: dict[str, Any] = {"gene": _gene_entry(kb, symbol)}
        assembly = _ASSEMBLIES.get((call.assembly or "").lower())
        if assembly and call.chrom and call.pos and call.ref and call.alt:
            chrom = call.chrom.removeprefix("chr")
            feature["variant"] = {
                "assembly": assembly,
                "referenceName": "MT" if chrom == "M" else chrom,
                "start": call.pos - 1,
                "end": call.pos - 1 + len(call.ref),
                "referenceBases": call.ref.upper(),
                "alternateBases": call.alt.upper(),
            }
        zygosity = _ZYGOSITY.get((call.zygosity or "").lower())
        if zygosity is not None:
            feature["zygosity"] = zygosity
        out.append(feature)
    return out


def _onset(case: Case) -> str | None:
    for diagnosis in case.diagnoses:
        if diagnosis.onset_term in AGE_OF_ONSET_TERMS:
            return diagnosis.onset_term
    return None


def _features(case: Case, kb: KnowledgeBase) -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = []
    seen: set[tuple[str, bool]] = set()
    for f in case.features:
        hit = kb.lookup_term(f.term_id)
        if hit is None or (f.term_id, f.excluded) in seen or not f.term_id.startswith("HP:"):
            continue
        seen.add((f.term_id, f.excluded))
        entry: dict[str, Any] = {
            "id": hit.term_id,
            "label": kb.term_labels[hit.index],
            "observed": "no" if f.excluded else "yes",
        }
        if f.onset_term in AGE_OF_ONSET_TERMS:
            entry["ageOfOnset"] = f.onset_term
        features.append(entry)
    return features


def to_mme_patient(stored: StoredCase, kb: KnowledgeBase, node: NodeSettings) -> dict[str, Any]:
    """The MME patient JSON of a stored case (see the module documentation for what is sent).

    Raises ValueError when the case has nothing to match on (no known HPO term, no gene).
    """
    case = stored.case
    contact: dict[str, Any] = {"name": node.contact_name, "href": node.contact_href}
    if node.institution:
        contact["institution"] = node.institution
    patient: dict[str, Any] = {"id": stored.id, "contact": contact, "species": "NCBITaxon:9606"}
    if case.subject.sex in (Sex.FEMALE, Sex.MALE):
        patient["sex"] = case.subject.sex.value
    onset = _onset(case)
    if onset is not None:
        patient["ageOfOnset"] = onset
    disorders = (_mme_disorder(d) for d in _confirmed_diseases(stored))
    patient["disorders"] = [{"id": d} for d in dict.fromkeys(disorders) if d is not None]
    patient["features"] = _features(case, kb)
    genomic = _variant_features(stored, kb)
    listed = {g["gene"]["_geneName"] for g in genomic}
    for symbol in _genes_in_order(case_profile(stored, kb, node).genes):
        if symbol not in listed:
            genomic.append({"gene": _gene_entry(kb, symbol)})
            listed.add(symbol)
    patient["genomicFeatures"] = genomic
    # Validate what we send exactly as a peer would.
    Patient.model_validate(patient)
    return patient


def _genes_in_order(genes: Mapping[str, float]) -> Iterable[str]:
    return sorted(genes, key=lambda g: (-genes[g], g))
