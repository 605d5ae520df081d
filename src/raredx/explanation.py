"""Why a gene ranks where it does: the phenotype and genotype evidence behind one gene.

`gene_explanation` is what ``raredx explain --gene X --format json`` prints and what
``GET /api/v1/cases/{id}/explain?gene=X`` returns: the gene's rank on the phenotype alone and
with the VCF, its diseases in the differential with both likelihood ratios, its genotype per
mode of inheritance (the genotype found, how often an uninvolved gene of its size shows one in
this VCF, the ratio) and every variant the proband carries in it (`gene_in_vcf`), with the
reason each one set aside was set aside.
"""

from __future__ import annotations

import math
from typing import Any

from raredx.diagnosis import genotype_evidence
from raredx.genome import GenomeEvidence, gene_modes
from raredx.kb import KnowledgeBase
from raredx.rank.genotype import variant_keys
from raredx.rank.result import Diagnosis

__all__ = ["gene_explanation", "gene_in_vcf"]

_LN10 = math.log(10.0)


def gene_in_vcf(evidence: GenomeEvidence, query: str) -> dict[str, Any]:
    """What ``raredx genome genes --gene QUERY --format json`` lists for one gene: its
    genotype evidence (`GeneGenotype.to_dict`; only ``gene`` when the proband has no
    qualifying variant in it) and every variant the proband carries in it, qualifying first."""
    g = evidence.gene(query)
    item: dict[str, Any] = g.to_dict() if g is not None else {"gene": query}
    item["variants"] = [v.to_dict() for v in evidence.variants(query)]
    return item


def _gene_rank(result: Diagnosis, symbol: str) -> tuple[int | None, float]:
    for c in result.genes:
        if c.symbol == symbol:
            return c.rank, c.score
    return None, 0.0


def gene_explanation(
    kb: KnowledgeBase,
    gene: int,
    plain: Diagnosis,
    full: Diagnosis | None,
    evidence: GenomeEvidence | None,
    *,
    with_vcf: bool = True,
) -> dict[str, Any]:
    """The evidence behind one gene (KB index `gene`): its rank on the phenotype alone
    (`plain`, every disease and gene ranked) and with the VCF (`full`), its diseases in the
    differential, its genotype evidence per mode and (`with_vcf`) its fits and variants in
    the VCF (`gene_in_vcf`)."""
    symbol = kb.gene_symbols[gene]
    rank_p, score_p = _gene_rank(plain, symbol)
    summary: dict[str, Any] = {
        "gene": symbol,
        "hgnc_id": kb.gene_hgnc_ids[gene],
        "modes": sorted(m.value for m in gene_modes(kb, gene)),
        "phenotype_rank": rank_p,
        "phenotype_score": score_p,
        "genes_ranked": len(plain.genes),
    }
    result = full or plain
    if full is not None:
        summary["rank"], summary["score"] = _gene_rank(full, symbol)
    summary["diseases"] = [
        {
            "rank": d.rank,
            "disease": d.disease_id,
            "name": d.name,
            "posterior": f"{d.posterior:.3g}",
            "log10 LR phenotype": d.log10_lr,
            "log10 LR genotype": "" if d.genotype_log10_lr is None else d.genotype_log10_lr,
        }
        for d in result.diseases
        if symbol in d.genes
    ]
    modes: list[dict[str, Any]] = []
    if evidence is not None:
        likelihood = genotype_evidence(evidence, kb)
        for e in likelihood.by_gene.get(gene, ()):
            modes.append(
                {
                    "mode": e.mode.value,
                    "genotype class": e.variant_class.label if e.variant_class else "no fit",
                    "variants": " + ".join(variant_keys(evidence, e)),
                    "background": f"{e.background:.2%}" if e.variant_class else "",
                    "log10 LR": round(e.llr / _LN10, 3),
                }
            )
        if not modes:
            modes.append(
                {
                    "mode": "any",
                    "genotype class": "no qualifying variant in the gene",
                    "variants": "",
                    "background": "",
                    "log10 LR": round(likelihood.no_fit_llr / _LN10, 3),
                }
            )
    summary["genotype"] = modes
    if evidence is not None and with_vcf:
        summary["vcf"] = gene_in_vcf(evidence, symbol)
    return summary
