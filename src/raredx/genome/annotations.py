"""Variant annotations a VCF may carry, parsed into typed fields.

Whichever the file has is read: VEP ``CSQ`` (field order from the header), SnpEff ``ANN``, and
INFO fields for population frequency (gnomAD, ExAC, 1000 Genomes, national references; popmax
when present), CADD, REVEL, SpliceAI, AlphaMissense and ClinVar. Field names are recognised by
pattern (`annotation_sources`); what was recognised is shown by ``raredx genome inspect``.

Consequences are Sequence Ontology terms ranked as VEP ranks them (most severe first), with
SnpEff's extra terms slotted in by their impact:

>>> consequence_rank("stop_gained") < consequence_rank("missense_variant")
True
>>> impact_of("splice_region_variant")
<Impact.LOW: 1>
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import IntEnum

from raredx.genome._cyvcf2 import CyVariant
from raredx.genome.clinvar import ClinicalSignificance, parse_significance, review_stars
from raredx.genome.vcf import HeaderField

__all__ = [
    "CONSEQUENCE_TERMS",
    "AlleleAnnotation",
    "AnnotationError",
    "AnnotationReader",
    "AnnotationSources",
    "GeneConsequence",
    "Impact",
    "annotation_sources",
    "consequence_rank",
    "impact_of",
    "vep_allele",
]


class Impact(IntEnum):
    """VEP/SnpEff impact classes, ordered."""

    MODIFIER = 0
    LOW = 1
    MODERATE = 2
    HIGH = 3


_H, _M, _L, _X = Impact.HIGH, Impact.MODERATE, Impact.LOW, Impact.MODIFIER
_TERMS: tuple[tuple[str, Impact], ...] = (
    # Ensembl VEP's consequence table, most severe first, with SnpEff-only terms by impact
    ("transcript_ablation", _H),
    ("exon_loss_variant", _H),
    ("splice_acceptor_variant", _H),
    ("splice_donor_variant", _H),
    ("stop_gained", _H),
    ("frameshift_variant", _H),
    ("stop_lost", _H),
    ("start_lost", _H),
    ("transcript_amplification", _H),
    ("feature_elongation", _H),
    ("feature_truncation", _H),
    ("gene_fusion", _H),
    ("bidirectional_gene_fusion", _H),
    ("rare_amino_acid_variant", _H),
    ("protein_protein_contact", _H),
    ("structural_interaction_variant", _H),
    ("inframe_insertion", _M),
    ("disruptive_inframe_insertion", _M),
    ("conservative_inframe_insertion", _M),
    ("inframe_deletion", _M),
    ("disruptive_inframe_deletion", _M),
    ("conservative_inframe_deletion", _M),
    ("missense_variant", _M),
    ("protein_altering_variant", _M),
    ("5_prime_UTR_truncation", _M),
    ("3_prime_UTR_truncation", _M),
    ("regulatory_region_ablation", _M),
    ("splice_donor_5th_base_variant", _L),
    ("splice_region_variant", _L),
    ("splice_donor_region_variant", _L),
    ("splice_polypyrimidine_tract_variant", _L),
    ("incomplete_terminal_codon_variant", _L),
    ("initiator_codon_variant", _L),
    ("start_retained_variant", _L),
    ("start_retained", _L),
    ("stop_retained_variant", _L),
    ("non_canonical_start_codon", _L),
    ("synonymous_variant", _L),
    ("5_prime_UTR_premature_start_codon_gain_variant", _L),
    ("sequence_feature", _L),
    ("coding_sequence_variant", _X),
    ("mature_miRNA_variant", _X),
    ("miRNA", _X),
    ("5_prime_UTR_variant", _X),
    ("3_prime_UTR_variant", _X),
    ("non_coding_transcript_exon_variant", _X),
    ("non_coding_exon_variant", _X),
    ("exon_variant", _X),
    ("intron_variant", _X),
    ("conserved_intron_variant", _X),
    ("NMD_transcript_variant", _X),
    ("non_coding_transcript_variant", _X),
    ("coding_transcript_variant", _X),
    ("transcript_variant", _X),
    ("gene_variant", _X),
    ("intragenic_variant", _X),
    ("upstream_gene_variant", _X),
    ("downstream_gene_variant", _X),
    ("TFBS_ablation", _X),
    ("TFBS_amplification", _X),
    ("TF_binding_site_variant", _X),
    ("regulatory_region_amplification", _X),
    ("regulatory_region_variant", _X),
    ("conserved_intergenic_variant", _X),
    ("intergenic_variant", _X),
    ("intergenic_region", _X),
    ("chromosome", _X),
    ("sequence_variant", _X),
)

CONSEQUENCE_TERMS: tuple[str, ...] = tuple(t for t, _ in _TERMS)
"""Known consequence terms, most severe first; a term's index is its rank and array code."""

_RANK = {t: i for i, t in enumerate(CONSEQUENCE_TERMS)}
_IMPACT = dict(_TERMS)
_UNKNOWN_RANK = len(CONSEQUENCE_TERMS)


def consequence_rank(term: str) -> int:
    """Severity rank of a consequence term (0 = most severe); unknown terms rank last."""
    return _RANK.get(term, _UNKNOWN_RANK)


def impact_of(term: str) -> Impact | None:
    """The impact class VEP gives `term`, None for an unknown term."""
    return _IMPACT.get(term)


class AnnotationError(ValueError):
    """A malformed annotation value; the reader adds the line."""


@dataclass(frozen=True, slots=True)
class GeneConsequence:
    """The most severe consequence of one allele on one gene, from its transcripts.

    `hgnc_id` is ``HGNC:n`` when the annotation gives it. `canonical` marks a canonical or
    MANE Select transcript. HGVS strings are as the annotator wrote them (may be empty).
    `biotype` is ``protein_coding`` when any of the gene's transcripts is, else the biotype of
    the transcript with the worst consequence.
    """

    symbol: str
    gene_id: str
    hgnc_id: str
    consequence: str
    impact: Impact
    transcript: str = ""
    hgvs_c: str = ""
    hgvs_p: str = ""
    biotype: str = ""
    canonical: bool = False


@dataclass(frozen=True, slots=True)
class AlleleAnnotation:
    """What the annotations say about one ALT allele. Scores are None when absent; the
    frequency is the largest population frequency found (0-1) with the field it came from."""

    genes: tuple[GeneConsequence, ...] = ()
    frequency: float | None = None
    frequency_field: str | None = None
    cadd: float | None = None
    revel: float | None = None
    spliceai: float | None = None
    alphamissense: float | None = None
    clinvar: ClinicalSignificance | None = None
    clinvar_stars: int = 0


# --------------------------------------------------------------------------- recognising fields
_POPULATIONS = (
    "gnomad",
    "exac",
    "1000g",
    "1kg",
    "kg_",
    "thousandg",
    "thousand_g",
    "esp",
    "topmed",
    "swegen",
    "sweref",
    "uk10k",
    "gme",
    "alfa",
    "max_af",
    "maxaf",
    "af_popmax",
    "af_grpmax",
    "popmax",
    "grpmax",
    "faf95",
    "tgp",
    "af_exac",
    "af_esp",
    "af_tgp",
)
_COUNT_TOKENS = frozenset({"ac", "an", "nhomalt", "hom", "het", "hemi", "count", "n", "filter"})
_CSQ_POP_AF = re.compile(r"^([A-Za-z]{2,3}_)?AF$|^(gnomad|exac|max_af)", re.IGNORECASE)
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _is_population_frequency(key: str, *, csq: bool) -> bool:
    low = key.lower()
    tokens = low.split("_")
    if set(tokens) & _COUNT_TOKENS and not any("af" in t or "freq" in t for t in tokens):
        return False
    if "af" not in low and "freq" not in low and "popmax" not in low and "grpmax" not in low:
        return False
    if csq:
        return bool(_CSQ_POP_AF.search(key)) or low.startswith(_POPULATIONS)
    return low.startswith(_POPULATIONS)


def _score_keys(keys: Sequence[str], names: Sequence[str]) -> tuple[str, ...]:
    wanted = {n.lower() for n in names}
    return tuple(k for k in keys if k.lower() in wanted)


_CADD = ("CADD", "CADD_PHRED", "CADD_phred", "dbNSFP_CADD_phred", "CADD_score")
_REVEL = ("REVEL", "REVEL_score", "dbNSFP_REVEL_score")
_ALPHAMISSENSE = (
    "am_pathogenicity",
    "AlphaMissense",
    "AlphaMissense_score",
    "dbNSFP_AlphaMissense_score",
)
_CLNSIG = ("CLNSIG", "CLINVAR_CLNSIG", "ClinVar_CLNSIG", "CLIN_SIG", "clinvar_sig", "ClinVar_SIG")
_CLNREVSTAT = ("CLNREVSTAT", "CLINVAR_CLNREVSTAT", "ClinVar_CLNREVSTAT", "clinvar_revstat")
_SPLICEAI_DS = re.compile(r"^spliceai.*ds_(ag|al|dg|dl)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class AnnotationSources:
    """Which annotations a VCF carries, read from its header.

    `csq`/`ann` hold the VEP/SnpEff field names in order (empty when absent); the other
    attributes name the INFO keys (``info_*``) or CSQ fields (``csq_*``) recognised for each
    kind of evidence.
    """

    csq_key: str = ""
    csq: tuple[str, ...] = ()
    ann: tuple[str, ...] = ()
    info_frequency: tuple[str, ...] = ()
    info_cadd: tuple[str, ...] = ()
    info_revel: tuple[str, ...] = ()
    info_spliceai: tuple[str, ...] = ()
    info_alphamissense: tuple[str, ...] = ()
    info_clinvar: tuple[str, ...] = ()
    info_clinvar_review: tuple[str, ...] = ()
    csq_frequency: tuple[str, ...] = ()
    csq_cadd: tuple[str, ...] = ()
    csq_revel: tuple[str, ...] = ()
    csq_spliceai: tuple[str, ...] = ()
    csq_alphamissense: tuple[str, ...] = ()
    csq_clinvar: tuple[str, ...] = ()
    csq_clinvar_review: tuple[str, ...] = ()

    @property
    def consequences(self) -> bool:
        """True when records carry VEP or SnpEff consequences."""
        return bool(self.csq or self.ann)

    @property
    def frequencies(self) -> bool:
        return bool(self.info_frequency or self.csq_frequency)

    def describe(self) -> tuple[tuple[str, str], ...]:
        """(evidence, fields) pairs for display; one row per kind found."""
        rows: list[tuple[str, str]] = []
        if self.csq:
            rows.append(("consequence (VEP)", f"{self.csq_key} ({len(self.csq)} fields)"))
        if self.ann:
            rows.append(("consequence (SnpEff)", f"ANN ({len(self.ann)} fields)"))
        for label, info, csq in (
            ("population frequency", self.info_frequency, self.csq_frequency),
            ("CADD", self.info_cadd, self.csq_cadd),
            ("REVEL", self.info_revel, self.csq_revel),
            ("SpliceAI", self.info_spliceai, self.csq_spliceai),
            ("AlphaMissense", self.info_alphamissense, self.csq_alphamissense),
            ("ClinVar", self.info_clinvar, self.csq_clinvar),
        ):
            names = [*(f"INFO/{k}" for k in info), *(f"{self.csq_key}/{k}" for k in csq)]
            if names:
                rows.append((label, ", ".join(names)))
        return tuple(rows)


_FORMAT_LIST = re.compile(r"Format:\s*'?\s*([^'\"]+?)\s*'?\s*\"?$")


def _subfields(description: str) -> tuple[str, ...]:
    m = _FORMAT_LIST.search(description.strip())
    if not m:
        return ()
    return tuple(part.strip() for part in m.group(1).split("|"))


def annotation_sources(info: Sequence[HeaderField]) -> AnnotationSources:
    """Recognise the annotation fields among a header's INFO definitions."""
    keys = [f.id for f in info]
    csq_key, csq = "", tuple[str, ...]()
    for f in info:
        if f.id in ("CSQ", "vep", "BCSQ_VEP") or (
            "Ensembl VEP" in f.description and "Format:" in f.description
        ):
            fields = _subfields(f.description)
            if fields and "Consequence" in fields and "Allele" in fields:
                csq_key, csq = f.id, fields
                break
    ann: tuple[str, ...] = ()
    field_ann = next((f for f in info if f.id == "ANN"), None)
    if field_ann is not None:
        ann = tuple(
            p.strip() for p in field_ann.description.split(":", 1)[-1].strip(" '\"").split("|")
        )
        if len(ann) < 4:
            ann = ()
    info_freq = tuple(
        f.id
        for f in info
        if f.type in ("Float", "String") and _is_population_frequency(f.id, csq=False)
    )
    spliceai_info = tuple(
        k for k in keys if k.lower() in ("spliceai", "spliceai_pred") or _SPLICEAI_DS.match(k)
    )
    return AnnotationSources(
        csq_key=csq_key,
        csq=csq,
        ann=ann,
        info_frequency=info_freq,
        info_cadd=_score_keys(keys, _CADD),
        info_revel=_score_keys(keys, _REVEL),
        info_spliceai=spliceai_info,
        info_alphamissense=_score_keys(keys, _ALPHAMISSENSE),
        info_clinvar=_score_keys(keys, _CLNSIG),
        info_clinvar_review=_score_keys(keys, _CLNREVSTAT),
        csq_frequency=tuple(k for k in csq if _is_population_frequency(k, csq=True)),
        csq_cadd=_score_keys(csq, _CADD),
        csq_revel=_score_keys(csq, _REVEL),
        csq_spliceai=tuple(k for k in csq if _SPLICEAI_DS.match(k) or k == "SpliceAI_pred"),
        csq_alphamissense=_score_keys(csq, _ALPHAMISSENSE),
        csq_clinvar=_score_keys(csq, _CLNSIG),
        csq_clinvar_review=_score_keys(csq, _CLNREVSTAT),
    )


# --------------------------------------------------------------------------- parsing values
def _numbers(text: str, what: str) -> list[float]:
    """Numbers in an annotation value (``0.5``, ``0.1&0.7``, ``.``); AnnotationError if the
    value is neither empty nor numeric."""
    out: list[float] = []
    for part in re.split(r"[&,|/]", text):
        p = part.strip()
        if not p or p == "." or p.lower() in ("na", "nan", "none"):
            continue
        try:
            out.append(float(p))
        except ValueError:
            raise AnnotationError(f"{what}: {text!r} is not a number") from None
    return out


def _max(values: list[float]) -> float | None:
    clean = [v for v in values if not math.isnan(v)]
    return max(clean) if clean else None


def vep_allele(ref: str, alts: Sequence[str], alt: str) -> str:
    """The allele string VEP writes in CSQ for `alt`: when every allele of the record starts
    with the same base, that base is dropped (an empty allele is ``-``)."""
    alleles = [ref, *alts]
    first = ref[:1]
    if all(a[:1] == first for a in alleles) and all(not a.startswith("<") for a in alleles):
        return alt[1:] or "-"
    return alt


def _hgnc(value: str) -> str:
    v = value.strip()
    if not v:
        return ""
    return v if v.upper().startswith("HGNC:") else f"HGNC:{v}" if v.isdigit() else ""


class AnnotationReader:
    """Reads one record's annotations for one ALT allele, as the header describes them."""

    def __init__(
        self, sources: AnnotationSources, numbers: Mapping[str, str] | None = None
    ) -> None:
        """`numbers` maps INFO keys to their header ``Number`` (to check ``A`` lists)."""
        self.sources = s = sources
        self.per_allele = frozenset(k for k, n in (numbers or {}).items() if n in ("A", "R"))
        """INFO keys with one value per ALT allele (``Number=A`` or ``R``)."""
        self._csq = {name: i for i, name in enumerate(s.csq)}
        self._ann = {name: i for i, name in enumerate(s.ann)}
        self._csq_freq = [self._csq[k] for k in s.csq_frequency]
        self._csq_scores = {
            "cadd": [self._csq[k] for k in s.csq_cadd],
            "revel": [self._csq[k] for k in s.csq_revel],
            "spliceai": [self._csq[k] for k in s.csq_spliceai if k != "SpliceAI_pred"],
            "alphamissense": [self._csq[k] for k in s.csq_alphamissense],
        }
        self._csq_spliceai_pred = self._csq.get("SpliceAI_pred", -1)
        self._csq_clinvar = [self._csq[k] for k in s.csq_clinvar]
        self._csq_review = [self._csq[k] for k in s.csq_clinvar_review]
        self._allele_num = self._csq.get("ALLELE_NUM", -1)

    # ------------------------------------------------------------------ cheap, early
    def info_value(self, record: CyVariant, key: str, alt_index: int, n_alts: int) -> object:
        """An INFO value for this ALT allele (Number=A lists are indexed); None if absent."""
        value = record.INFO.get(key)
        if isinstance(value, tuple):
            if len(value) == n_alts:
                return value[alt_index - 1]
            if n_alts > 1 and len(value) < n_alts:
                raise AnnotationError(
                    f"INFO/{key} has {len(value)} values for {n_alts} ALT alleles"
                )
            return ",".join(str(v) for v in value)
        if n_alts > 1 and value is not None and key in self.per_allele:
            raise AnnotationError(f"INFO/{key} has 1 values for {n_alts} ALT alleles")
        return value

    def info_numbers(
        self, record: CyVariant, keys: Sequence[str], alt_index: int, n_alts: int
    ) -> tuple[float | None, str | None]:
        """(largest value among `keys`, its key) for this allele; (None, None) if none."""
        best: float | None = None
        best_key: str | None = None
        for key in keys:
            value = self.info_value(record, key, alt_index, n_alts)
            if value is None:
                continue
            if isinstance(value, bool):
                continue
            if isinstance(value, int | float):
                number: float | None = None if math.isnan(value) else float(value)
            else:
                number = _max(_numbers(str(value), f"INFO/{key}"))
            if number is not None and (best is None or number > best):
                best, best_key = number, key
        return best, best_key

    def entries(
        self, record: CyVariant, ref: str, alts: Sequence[str], alt_index: int
    ) -> list[list[str]]:
        """The CSQ (else ANN) entries of this ALT allele, split into fields."""
        if self.sources.csq:
            raw = record.INFO.get(self.sources.csq_key)
            if raw is None:
                return []
            rows = [e.split("|") for e in _as_text(raw).split(",")]
            if self._allele_num >= 0:
                want = str(alt_index)
                return [
                    r for r in rows if len(r) > self._allele_num and r[self._allele_num] == want
                ]
            if len(alts) == 1:
                return rows
            allele = vep_allele(ref, alts, alts[alt_index - 1])
            return [r for r in rows if r[0] == allele]
        if self.sources.ann:
            raw = record.INFO.get("ANN")
            if raw is None:
                return []
            rows = [e.split("|") for e in _as_text(raw).split(",")]
            if len(alts) == 1:
                return rows
            alt = alts[alt_index - 1]
            return [r for r in rows if r[0].strip() == alt]
        return []

    def csq_frequency(self, entries: list[list[str]]) -> tuple[float | None, str | None]:
        """Largest population frequency among the CSQ frequency fields of these entries."""
        best: float | None = None
        best_key: str | None = None
        for idx, key in zip(self._csq_freq, self.sources.csq_frequency, strict=True):
            for e in entries[:1] if entries else ():
                if idx < len(e) and e[idx]:
                    v = _max(_numbers(e[idx], f"{self.sources.csq_key}/{key}"))
                    if v is not None and (best is None or v > best):
                        best, best_key = v, key
        return best, best_key

    def clinvar(
        self, record: CyVariant, entries: list[list[str]], alt_index: int, n_alts: int
    ) -> tuple[ClinicalSignificance | None, int]:
        """ClinVar significance and review stars from INFO, else from CSQ fields."""
        texts: list[str] = []
        for key in self.sources.info_clinvar:
            value = self.info_value(record, key, alt_index, n_alts)
            if value is not None:
                texts.append(str(value))
        reviews: list[str] = []
        for key in self.sources.info_clinvar_review:
            value = self.info_value(record, key, alt_index, n_alts)
            if value is not None:
                reviews.append(str(value))
        if not texts:
            for e in entries:
                for idx in self._csq_clinvar:
                    if idx < len(e) and e[idx]:
                        texts.append(e[idx])
                for idx in self._csq_review:
                    if idx < len(e) and e[idx]:
                        reviews.append(e[idx])
        if not texts:
            return None, 0
        significance = parse_significance("|".join(texts))
        stars = max((review_stars(r) for r in reviews), default=0)
        return significance, stars

    # ------------------------------------------------------------------ full parse
    def annotate(
        self,
        record: CyVariant,
        ref: str,
        alts: Sequence[str],
        alt_index: int,
        entries: list[list[str]] | None = None,
    ) -> AlleleAnnotation:
        """Everything the annotations say about ALT allele `alt_index` (1-based)."""
        s = self.sources
        n_alts = len(alts)
        if entries is None:
            entries = self.entries(record, ref, alts, alt_index)
        freq, freq_key = self.info_numbers(record, s.info_frequency, alt_index, n_alts)
        cfreq, cfreq_key = self.csq_frequency(entries)
        if cfreq is not None and (freq is None or cfreq > freq):
            freq, freq_key = cfreq, cfreq_key
        scores: dict[str, float | None] = {}
        for name, info_keys in (
            ("cadd", s.info_cadd),
            ("revel", s.info_revel),
            ("alphamissense", s.info_alphamissense),
        ):
            scores[name] = self.info_numbers(record, info_keys, alt_index, n_alts)[0]
        scores["spliceai"] = self._info_spliceai(record, alts[alt_index - 1], alt_index, n_alts)
        for name, idxs in self._csq_scores.items():
            values = []
            for e in entries:
                for idx in idxs:
                    if idx < len(e) and e[idx]:
                        values.extend(_numbers(e[idx], f"{s.csq_key}/{s.csq[idx]}"))
            if name == "spliceai" and self._csq_spliceai_pred >= 0:
                for e in entries:
                    if self._csq_spliceai_pred < len(e):
                        parts = e[self._csq_spliceai_pred].split("|")
                        values.extend(_numbers("|".join(parts[1:5]), "SpliceAI_pred"))
            best = _max(values)
            if best is not None and (scores[name] is None or best > (scores[name] or 0.0)):
                scores[name] = best
        clinvar, stars = self.clinvar(record, entries, alt_index, n_alts)
        return AlleleAnnotation(
            genes=self._genes(entries),
            frequency=freq,
            frequency_field=freq_key,
            cadd=scores["cadd"],
            revel=scores["revel"],
            spliceai=scores["spliceai"],
            alphamissense=scores["alphamissense"],
            clinvar=clinvar,
            clinvar_stars=stars,
        )

    def _info_spliceai(
        self, record: CyVariant, alt: str, alt_index: int, n_alts: int
    ) -> float | None:
        best: float | None = None
        for key in self.sources.info_spliceai:
            value = record.INFO.get(key)
            if value is None:
                continue
            if _SPLICEAI_DS.match(key):
                v, _ = self.info_numbers(record, (key,), alt_index, n_alts)
                candidates = [v] if v is not None else []
            else:
                # Illumina format: ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|…, one per gene
                candidates = []
                for entry in _as_text(value).split(","):
                    parts = entry.split("|")
                    if (
                        len(parts) >= 6 and parts[0] in (alt, "")
                    ) or key.lower() == "spliceai_pred":
                        start = 1 if key.lower() == "spliceai_pred" else 2
                        candidates.extend(_numbers("|".join(parts[start : start + 4]), key))
            v = _max([c for c in candidates if c is not None])
            if v is not None and (best is None or v > best):
                best = v
        return best

    def _genes(self, entries: list[list[str]]) -> tuple[GeneConsequence, ...]:
        best: dict[str, tuple[int, int, GeneConsequence]] = {}
        coding: set[str] = set()
        if self.sources.csq:
            c = self._csq
            i_cons, i_imp = c["Consequence"], c.get("IMPACT", -1)
            i_sym, i_gene, i_hgnc = c.get("SYMBOL", -1), c.get("Gene", -1), c.get("HGNC_ID", -1)
            i_ft, i_feat, i_bio = (
                c.get("Feature_type", -1),
                c.get("Feature", -1),
                c.get("BIOTYPE", -1),
            )
            i_hc, i_hp = c.get("HGVSc", -1), c.get("HGVSp", -1)
            i_can, i_mane = c.get("CANONICAL", -1), c.get("MANE_SELECT", -1)
            for e in entries:
                get = _getter(e)
                if i_ft >= 0 and get(i_ft) not in ("Transcript", ""):
                    continue
                symbol, gene_id, hgnc = get(i_sym), get(i_gene), _hgnc(get(i_hgnc))
                if not (symbol or gene_id or hgnc):
                    continue
                terms = [t for t in get(i_cons).split("&") if t]
                if not terms:
                    continue
                term = min(terms, key=consequence_rank)
                impact = _impact(get(i_imp), term)
                canonical = get(i_can) == "YES" or bool(get(i_mane))
                key = hgnc or gene_id or symbol
                if get(i_bio) == "protein_coding":
                    coding.add(key)
                gc = GeneConsequence(
                    symbol,
                    gene_id,
                    hgnc,
                    term,
                    impact,
                    get(i_feat),
                    get(i_hc),
                    get(i_hp),
                    get(i_bio),
                    canonical,
                )
                _keep_worst(best, key, gc)
        elif self.sources.ann:
            a = self._ann
            i_cons = a.get("Annotation", 1)
            i_imp = a.get("Annotation_Impact", 2)
            i_sym, i_gene = a.get("Gene_Name", 3), a.get("Gene_ID", 4)
            i_ft, i_feat, i_bio = (
                a.get("Feature_Type", 5),
                a.get("Feature_ID", 6),
                a.get("Transcript_BioType", 7),
            )
            i_hc, i_hp = a.get("HGVS.c", 9), a.get("HGVS.p", 10)
            for e in entries:
                get = _getter(e)
                terms = [t for t in get(i_cons).split("&") if t]
                if not terms or terms[0] in ("intergenic_region", "intergenic_variant"):
                    continue
                symbol, gene_id = get(i_sym), get(i_gene)
                if not (symbol or gene_id):
                    continue
                term = min(terms, key=consequence_rank)
                feature_type = get(i_ft)
                gc = GeneConsequence(
                    symbol,
                    gene_id if gene_id.startswith("ENSG") else "",
                    "",
                    term,
                    _impact(get(i_imp), term),
                    get(i_feat) if feature_type == "transcript" else "",
                    get(i_hc),
                    get(i_hp),
                    get(i_bio),
                    False,
                )
                _keep_worst(best, gc.gene_id or symbol, gc)
        out = []
        for key, (_, _, gc) in sorted(best.items(), key=lambda kv: (kv[1][0], kv[1][1])):
            # a gene with any protein-coding transcript is a protein-coding gene
            out.append(replace(gc, biotype="protein_coding") if key in coding else gc)
        return tuple(out)


def _getter(entry: list[str]) -> Callable[[int], str]:
    n = len(entry)

    def get(i: int) -> str:
        return entry[i].strip() if 0 <= i < n else ""

    return get


def _as_text(value: object) -> str:
    """An INFO value as text (cyvcf2 gives tuples for some multi-valued fields)."""
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    return str(value)


def _impact(text: str, term: str) -> Impact:
    try:
        return Impact[text.strip().upper()]
    except KeyError:
        return _IMPACT.get(term, Impact.MODIFIER)


def _keep_worst(
    best: dict[str, tuple[int, int, GeneConsequence]], key: str, gc: GeneConsequence
) -> None:
    rank = (consequence_rank(gc.consequence), 0 if gc.canonical else 1)
    current = best.get(key)
    if current is None or rank < (current[0], current[1]):
        best[key] = (rank[0], rank[1], gc)
