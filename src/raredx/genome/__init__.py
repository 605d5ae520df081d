"""The genome layer: VCF/BCF and pedigree input, per-variant and per-gene genotype evidence.

Front door: `collect_evidence(vcf, pedigree, kb)` -> `GenomeEvidence`; inputs by `read_header`,
`read_ped`, `pedigree_from_case`; thresholds in `GenomeConfig`; local ClinVar and frequency
stores by `compile_clinvar` and `compile_frequency`.
"""

from raredx.genome.annotations import (
    CONSEQUENCE_TERMS,
    AlleleAnnotation,
    AnnotationReader,
    AnnotationSources,
    GeneConsequence,
    Impact,
    annotation_sources,
    consequence_rank,
    impact_of,
)
from raredx.genome.clinvar import (
    ClinicalSignificance,
    ClinVarRecord,
    ClinVarStore,
    compile_clinvar,
    parse_significance,
    review_stars,
)
from raredx.genome.config import GenomeConfig, InheritanceMode
from raredx.genome.evidence import GenomeEvidence, collect_evidence, evidence_from_case
from raredx.genome.frequency import FrequencyStore, compile_frequency
from raredx.genome.genes import (
    GeneLocator,
    GeneResolver,
    GeneSpan,
    bundled_gene_spans,
    gene_span_arrays,
)
from raredx.genome.inheritance import disease_modes, gene_modes, modes_from_terms
from raredx.genome.model import (
    GeneGenotype,
    ModeFit,
    Reason,
    SampleCall,
    Segregation,
    SetAside,
    VariantEvidence,
    Zygosity,
)
from raredx.genome.pedigree import (
    Pedigree,
    PedigreeMember,
    bind_samples,
    case_vcf,
    parse_ped,
    pedigree_from_case,
    read_ped,
)
from raredx.genome.vcf import (
    PRIMARY_CONTIGS,
    Assembly,
    HeaderField,
    VcfHeader,
    VcfStream,
    normalise_contig,
    parse_assembly,
    read_header,
)

__all__ = [
    "CONSEQUENCE_TERMS",
    "PRIMARY_CONTIGS",
    "AlleleAnnotation",
    "AnnotationReader",
    "AnnotationSources",
    "Assembly",
    "ClinVarRecord",
    "ClinVarStore",
    "ClinicalSignificance",
    "FrequencyStore",
    "GeneConsequence",
    "GeneGenotype",
    "GeneLocator",
    "GeneResolver",
    "GeneSpan",
    "GenomeConfig",
    "GenomeEvidence",
    "HeaderField",
    "Impact",
    "InheritanceMode",
    "ModeFit",
    "Pedigree",
    "PedigreeMember",
    "Reason",
    "SampleCall",
    "Segregation",
    "SetAside",
    "VariantEvidence",
    "VcfHeader",
    "VcfStream",
    "Zygosity",
    "annotation_sources",
    "bind_samples",
    "bundled_gene_spans",
    "case_vcf",
    "collect_evidence",
    "compile_clinvar",
    "compile_frequency",
    "consequence_rank",
    "disease_modes",
    "evidence_from_case",
    "gene_modes",
    "gene_span_arrays",
    "impact_of",
    "modes_from_terms",
    "normalise_contig",
    "parse_assembly",
    "parse_ped",
    "parse_significance",
    "pedigree_from_case",
    "read_header",
    "read_ped",
    "review_stars",
]
