"""The genome layer's front door: a VCF and a family in, per-variant and per-gene evidence out.

>>> evidence = collect_evidence("child.vcf.gz", read_ped("family.ped"))  # doctest: +SKIP
>>> evidence.gene("FBN1").fit(InheritanceMode.AUTOSOMAL_DOMINANT)  # doctest: +SKIP
ModeFit(mode=<InheritanceMode.AUTOSOMAL_DOMINANT: 'AD'>, compatible=True, genotype='de novo …')

The VCF is streamed once (`raredx.genome._collect`); memory holds only the alleles the proband
carries inside genes, in compact columns (tens of bytes each). Per-gene fits are computed on
demand and are cheap. Every variant looked at keeps its reasons: `variants(gene)` lists the
set-aside ones too.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from raredx.case.model import Case
from raredx.errors import InputError
from raredx.genome._collect import Collector, Vocabulary
from raredx.genome._fit import (
    CLASS_X,
    CLASS_Y,
    STATUS_FREQUENCY,
    STATUS_OK,
    STATUS_SEGREGATION,
    STATUS_SINGLE_HET,
    AllFits,
    FamilyArrays,
    ModeResult,
    fit_all,
)
from raredx.genome._table import (
    ABSENT_ALLELE,
    REASON_CONSEQUENCE,
    REASON_FREQUENCY,
    REASON_QUALITY,
    VariantTable,
)
from raredx.genome.annotations import AnnotationSources, Impact, annotation_sources
from raredx.genome.clinvar import ClinicalSignificance, ClinVarStore
from raredx.genome.config import GenomeConfig, InheritanceMode
from raredx.genome.frequency import FrequencyStore
from raredx.genome.genes import GeneLocator, GeneResolver
from raredx.genome.inheritance import gene_modes
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
from raredx.genome.pedigree import Pedigree, bind_samples, case_vcf, pedigree_from_case
from raredx.genome.vcf import PRIMARY_CONTIGS, Assembly, VcfHeader, read_header
from raredx.kb import KnowledgeBase, load_kb

__all__ = ["GenomeEvidence", "collect_evidence", "evidence_from_case"]

_SIGNIFICANCES = tuple(ClinicalSignificance)
_LIST_CELLS = 2_000_000
_PHASES = {
    1: "trans (same site)",
    2: "trans (read-backed)",
    3: "trans (parents)",
    -1: "cis (read-backed)",
    -2: "cis (parents)",
    0: "unknown",
}
_WHY = {
    3: "one heterozygous variant only: {mode} needs a second allele (which may be missed: a "
    "deletion, a deep intronic variant)",
    4: "the two variants are in cis (on one parental allele)",
    5: "no pair among the gene's {limit} best heterozygous variants",
    6: "the proband is not male",
    7: "no variant on this chromosome",
}
_ROW_WHY = {
    3: "one heterozygous variant, a second allele is needed",
    4: "in cis with every other qualifying variant",
    5: "beyond the gene's {limit} best heterozygous variants: not paired",
    6: "the proband is not male",
    7: "fits no mode of the gene's diseases ({names}) on this chromosome",
}


def _first_reason(code: int) -> Reason:
    if code & REASON_FREQUENCY:
        return Reason.FREQUENCY
    if code & REASON_QUALITY:
        return Reason.QUALITY
    return Reason.CONSEQUENCE


def collect_evidence(
    vcf: str | os.PathLike[str] | VcfHeader,
    pedigree: Pedigree | None = None,
    kb: KnowledgeBase | None = None,
    *,
    assembly: Assembly | str | None = None,
    config: GenomeConfig | None = None,
    clinvar: ClinVarStore | str | os.PathLike[str] | None = None,
    frequency: FrequencyStore | str | os.PathLike[str] | None = None,
    sample_map: Mapping[str, str] | None = None,
    threads: int | None = None,
) -> GenomeEvidence:
    """Read `vcf` for the proband of `pedigree` and gather the evidence.

    Without a pedigree the VCF must have one sample, taken as an affected proband of unknown
    sex. `sample_map` maps pedigree individuals to VCF sample names (phenopacket files).
    `clinvar` and `frequency` are local stores (or their folders) compiled beforehand; their
    build must be the VCF's. `threads` are extra decompression threads for htslib (default:
    one when the machine has more than one core, so that decompression runs beside parsing).
    """
    header = vcf if isinstance(vcf, VcfHeader) else read_header(vcf, assembly)
    if pedigree is None:
        if len(header.samples) != 1:
            raise InputError(
                f"{header.path}: {len(header.samples)} samples: give a pedigree (PED) naming "
                "the proband"
                if header.samples
                else f"{header.path}: no sample columns (a sites-only VCF has no genotypes)"
            )
        pedigree = Pedigree.singleton(header.samples[0])
    bound = bind_samples(pedigree, header.samples, sample_map, source=header.path)
    kb = kb if kb is not None else load_kb()
    cfg = config or GenomeConfig()
    clinvar_store = (
        ClinVarStore.open(clinvar) if isinstance(clinvar, str | os.PathLike) else clinvar
    )
    freq_store = (
        FrequencyStore.open(frequency) if isinstance(frequency, str | os.PathLike) else frequency
    )
    for name, store in (("ClinVar", clinvar_store), ("frequency", freq_store)):
        if store is not None and store.assembly is not header.assembly:
            raise InputError(
                f"the {name} store is {store.assembly} but {header.path} is {header.assembly}"
            )
    locator = GeneLocator.bundled(header.assembly, kb, cfg.gene_flank_bp)
    sources = annotation_sources(header.info)
    collector = Collector(
        header,
        bound,
        cfg,
        locator,
        GeneResolver(kb),
        sources,
        clinvar=clinvar_store,
        frequency=freq_store,
    )
    if threads is None:
        threads = 1 if (os.cpu_count() or 1) > 1 else 0
    table = collector.run(threads=threads or None)
    return GenomeEvidence(
        header, bound, cfg, kb, sources, table, collector.vocab, dict(collector.counts)
    )


def evidence_from_case(
    case: Case,
    kb: KnowledgeBase | None = None,
    *,
    base: str | os.PathLike[str] = ".",
    vcf: str | os.PathLike[str] | None = None,
    **options: Any,
) -> GenomeEvidence:
    """`collect_evidence` for a phenopacket case: its pedigree (or the subject alone, with its
    sex), the VCF its ``files`` name (relative to `base`, the phenopacket's folder) unless
    `vcf` is given, that file's ``genomeAssembly`` and its individual-to-sample mapping.
    `options` are passed on (config, clinvar, frequency, threads, assembly)."""
    pedigree, mapping = pedigree_from_case(case)
    assembly = options.pop("assembly", None)
    if vcf is None:
        path, named = case_vcf(case, base)
        vcf, assembly = path, assembly or named
    return collect_evidence(vcf, pedigree, kb, assembly=assembly, sample_map=mapping, **options)


class GenomeEvidence:
    """Evidence gathered from one VCF for one proband and family (see `collect_evidence`).

    `counts` tallies records and alleles by what happened to them. Genes are reached by
    `gene(query)` (symbol, HGNC/Ensembl id or KB index), or all of them, in genome order, by
    iterating; both compute fits on demand.
    """

    def __init__(
        self,
        header: VcfHeader,
        pedigree: Pedigree,
        config: GenomeConfig,
        kb: KnowledgeBase,
        sources: AnnotationSources,
        table: VariantTable,
        vocab: Vocabulary,
        counts: Mapping[str, int],
    ) -> None:
        self.header = header
        self.pedigree = pedigree
        self.config = config
        self.kb = kb
        self.sources = sources
        self.table = table
        self.vocab = vocab
        self.counts: dict[str, int] = dict(counts)

    def __repr__(self) -> str:
        return (
            f"GenomeEvidence({Path(self.header.path).name!r}, proband={self.pedigree.proband!r},"
            f" {self.header.assembly}, rows={len(self.table)}, genes={len(self.gene_indices)})"
        )

    @property
    def assembly(self) -> Assembly:
        return self.header.assembly

    # ------------------------------------------------------------------ fits
    @cached_property
    def family(self) -> FamilyArrays:
        return FamilyArrays(self.table, self.pedigree, self.config, self.header.assembly)

    @cached_property
    def fits(self) -> AllFits:
        """Every gene's fits, computed together (vectorised) on first use."""
        return fit_all(self.family, self.table, self.kb)

    @cached_property
    def _rows_by_gene(self) -> dict[int, np.ndarray]:
        genes = self.table.rows["gene"]
        order = np.argsort(genes, kind="stable")
        sorted_genes = genes[order]
        cuts = (np.flatnonzero(np.diff(sorted_genes)) + 1).tolist()
        bounds = [0, *cuts, len(order)]
        return {
            int(sorted_genes[bounds[i]]): order[bounds[i] : bounds[i + 1]]
            for i in range(len(bounds) - 1)
            if bounds[i] < bounds[i + 1]
        }

    @cached_property
    def gene_indices(self) -> tuple[int, ...]:
        """KB indices of the genes with at least one qualifying variant, in genome order."""
        f = self.fits
        if not len(f.genes):
            return ()
        first_rows = f.rows[f.first]
        chrom = self.table.rows["chrom"][first_rows]
        pos = self.table.rows["pos"][first_rows]
        order = np.lexsort((f.genes, pos, chrom))
        return tuple(int(g) for g in f.genes[order])

    def __iter__(self) -> Iterator[GeneGenotype]:
        for gene in self.gene_indices:
            found = self.gene(gene)
            if found is not None:
                yield found

    def __len__(self) -> int:
        return len(self.gene_indices)

    def _gene_index(self, query: str | int) -> int:
        return query if isinstance(query, int) else self.kb.resolve_gene(query)

    def compatible_modes(self) -> dict[int, tuple[InheritanceMode, ...]]:
        """Every gene with a qualifying variant -> the modes its genotype fits (possibly
        none): the whole genome at array speed, for ranking."""
        f = self.fits
        columns = [(m, r.compatible.tolist()) for m, r in f.modes.items()]
        return {g: tuple(m for m, ok in columns if ok[j]) for j, g in enumerate(f.genes.tolist())}

    def mode_fits(self, query: str | int) -> tuple[ModeFit, ...]:
        """The gene's fits only (no variant objects): the fast path for ranking."""
        grp = self.fits.gene_group(self._gene_index(query))
        if grp is None:
            return ()
        return tuple(
            self._mode_fit(res, grp) for res in self.fits.modes.values() if res.applicable[grp]
        )

    # ------------------------------------------------------------------ genes
    def gene(self, query: str | int) -> GeneGenotype | None:
        """The gene's evidence, None when the proband has no qualifying variant in it.
        InputError for a name that is not a gene."""
        g = self._gene_index(query)
        f = self.fits
        grp = f.gene_group(g)
        if grp is None:
            return None
        lo, hi = int(f.first[grp]), int(f.last[grp])
        variants = tuple(self._variant(int(f.rows[q]), self._gene_reason(q)) for q in range(lo, hi))
        rows = self._rows_by_gene.get(g, np.zeros(0, dtype=np.int64))
        reason = self.table.rows["reason"][rows]
        counts = Counter[Reason]()
        for code in reason[reason != 0].tolist():
            counts[_first_reason(int(code))] += 1
        order = {m: i for i, m in enumerate(InheritanceMode)}
        known = gene_modes(self.kb, g)
        return GeneGenotype(
            gene=g,
            symbol=self.kb.gene_symbols[g],
            hgnc_id=self.kb.gene_hgnc_ids[g],
            chrom=PRIMARY_CONTIGS[int(self.table.rows["chrom"][f.rows[lo]])],
            variants=variants,
            fits=self.mode_fits(g),
            modes=tuple(sorted(known, key=lambda m: order[m])),
            set_aside=tuple(sorted(counts.items(), key=lambda kv: list(Reason).index(kv[0]))),
        )

    def variants(self, query: str | int, *, set_aside: bool = True) -> tuple[VariantEvidence, ...]:
        """Every variant of the gene the proband carries, qualifying first (with the reasons
        the gene stage adds), then those set aside while reading (with theirs)."""
        g = self._gene_index(query)
        genotype = self.gene(g)
        out = list(genotype.variants) if genotype is not None else []
        if set_aside:
            rows = self._rows_by_gene.get(g, np.zeros(0, dtype=np.int64))
            bad = rows[self.table.rows["reason"][rows] != 0]
            bad = bad[np.lexsort((self.table.rows["alt_index"][bad], self.table.rows["pos"][bad]))]
            out.extend(self._variant(int(r), None) for r in bad)
        return tuple(out)

    def _mode_fit(self, res: ModeResult, grp: int) -> ModeFit:
        fa, mode = self.family, res.mode
        a, b = int(res.best_a[grp]), int(res.best_b[grp])
        why = int(res.why[grp])
        n = int(res.candidates[grp])
        if a < 0:
            return ModeFit(mode, False, candidates=n, reason=self._why(mode, why, grp))
        recessive = mode is InheritanceMode.AUTOSOMAL_RECESSIVE or (
            mode is InheritanceMode.X_LINKED_RECESSIVE and not fa.proband_male
        )
        xl = mode is InheritanceMode.X_LINKED_RECESSIVE
        rows = np.array([a])
        de_novo: bool | None = None
        if b >= 0:
            states = fa.pair_states(rows, np.array([b]), xl)[:, 0]
            genotype = "compound heterozygous"
            keys: tuple[str, ...] = (self._key(a), self._key(b))
        elif recessive and why != STATUS_SINGLE_HET:
            states = fa.hom_states(rows, xl)[:, 0]
            genotype = fa.zygosity_label(a, mode)
            keys = (self._key(a),)
        elif recessive:
            states = np.zeros(len(fa.members) - 1, dtype=np.int8)
            genotype = "heterozygous"
            keys = (self._key(a),)
        else:
            states = fa.single_states(mode, rows)[:, 0]
            dn = int(fa.de_novo(mode, rows)[0])
            de_novo = None if dn < 0 else bool(dn)
            genotype = fa.zygosity_label(a, mode)
            if de_novo:
                genotype = f"de novo {genotype}"
            keys = (self._key(a),)
        segregation = fa.segregation(states)
        compatible = bool(res.compatible[grp])
        return ModeFit(
            mode,
            compatible,
            genotype=genotype,
            variants=keys,
            phase=_PHASES.get(int(res.phase[grp]), "") if b >= 0 else "",
            de_novo=de_novo,
            segregation=segregation,
            candidates=n,
            reason="" if compatible else self._why(mode, why, grp, segregation),
        )

    def _why(
        self, mode: InheritanceMode, why: int, grp: int, segregation: Segregation | None = None
    ) -> str:
        if why == STATUS_SEGREGATION and segregation is not None and segregation.inconsistent:
            return "segregation: " + ", ".join(f"{x} disagrees" for x in segregation.inconsistent)
        if why == STATUS_FREQUENCY:
            return (
                f"no variant rare enough: a {mode.label} allele may have a frequency of at "
                f"most {self.config.max_credible_af(mode):.3%}"
            )
        return _WHY.get(why, "no qualifying variant").format(
            limit=self.config.max_compound_candidates, mode=mode.label
        )

    def _gene_reason(self, q: int) -> tuple[Reason, str] | None:
        """Why qualifying row `q` (position in `fits.rows`) fits none of its gene's modes,
        with one clause per mode; None when it fits one."""
        f = self.fits
        code = int(f.reason[q])
        if code == STATUS_OK:
            return None
        r = int(f.rows[q])
        parts = []
        for j, m in enumerate(InheritanceMode):
            if not f.relevant[q, j] or m not in f.modes:
                continue
            parts.append(f"{m.value}: {self._mode_clause(m, int(f.modes[m].status[q]), r)}")
        reason = {STATUS_SEGREGATION: Reason.SEGREGATION, STATUS_FREQUENCY: Reason.FREQUENCY}
        detail = "; ".join(parts) or _ROW_WHY[7].format(names="its modes")
        return reason.get(code, Reason.INHERITANCE), detail

    def _mode_clause(self, mode: InheritanceMode, status: int, r: int) -> str:
        if status == STATUS_FREQUENCY:
            return (
                f"frequency {float(self.table.rows['af'][r]):.3%} is above "
                f"{self.config.max_credible_af(mode):.3%}"
            )
        if status == STATUS_SEGREGATION:
            fa = self.family
            one = np.array([r])
            recessive = mode is InheritanceMode.AUTOSOMAL_RECESSIVE or (
                mode is InheritanceMode.X_LINKED_RECESSIVE and not fa.proband_male
            )
            if recessive and int(fa.copies[0, r]) == 1 and not bool(fa.haploid[0, r]):
                return "no compound heterozygous pair segregates"
            states = (
                fa.hom_states(one, mode is InheritanceMode.X_LINKED_RECESSIVE)[:, 0]
                if recessive
                else fa.single_states(mode, one)[:, 0]
            )
            bad = fa.segregation(states).inconsistent
            return ", ".join(f"{x} disagrees" for x in bad) or "does not segregate"
        if status == STATUS_OK:
            return "fits"
        return _ROW_WHY.get(status, "does not fit").format(
            names="it", limit=self.config.max_compound_candidates
        )

    # ------------------------------------------------------------------ rows -> objects
    def _key(self, r: int) -> str:
        ref, alt = self.table.text.get(r).split("\t", 2)[:2]
        chrom = PRIMARY_CONTIGS[int(self.table.rows["chrom"][r])]
        return f"{chrom}-{int(self.table.rows['pos'][r])}-{ref}-{alt}"

    def _row_reasons(self, r: int) -> list[SetAside]:
        rows = self.table.rows
        code = int(rows["reason"][r])
        out: list[SetAside] = []
        if code & REASON_FREQUENCY:
            af = float(rows["af"][r])
            field = self.vocab.fields[int(rows["af_field"][r])] if rows["af_field"][r] >= 0 else ""
            out.append(
                SetAside(
                    Reason.FREQUENCY,
                    f"population frequency {af:.3%} ({field}) is above "
                    f"{self.config.max_any_af:.3%}, the most any mode of inheritance allows",
                )
            )
        if code & REASON_QUALITY:
            out.append(SetAside(Reason.QUALITY, self._quality_detail(r)))
        if code & REASON_CONSEQUENCE:
            term = self._consequence(r) or "no gene consequence"
            impact = int(rows["impact"][r])
            label = Impact(impact).name if impact >= 0 else "unknown"
            out.append(
                SetAside(
                    Reason.CONSEQUENCE,
                    f"{term} ({label} impact) alters neither protein nor splicing",
                )
            )
        return out

    def _quality_detail(self, r: int) -> str:
        rows, s = self.table.rows, self.table.samples
        cfg = self.config
        parts = []
        filt = self.vocab.filters[int(rows["filter"][r])]
        if filt != "PASS" and any(f not in cfg.accepted_filters for f in filt.split(";")):
            parts.append(f"FILTER {filt}")
        gq = float(s["gq"][0, r])
        if not math.isnan(gq) and gq < cfg.min_gq:
            parts.append(f"GQ {gq:g} < {cfg.min_gq:g}")
        dp, ref_n, alt_n = int(s["dp"][0, r]), int(s["ad_ref"][0, r]), int(s["ad_alt"][0, r])
        depth = dp if dp >= 0 else (ref_n + alt_n if ref_n >= 0 and alt_n >= 0 else -1)
        if 0 <= depth < cfg.min_depth:
            parts.append(f"depth {depth} < {cfg.min_depth}")
        a0, a1, alt = int(s["a0"][0, r]), int(s["a1"][0, r]), int(rows["alt_index"][r])
        balance = {a0, a1} == {0, alt} and ref_n >= 0 and alt_n >= 0
        if balance and not cfg.allele_balance_ok(alt_n, ref_n + alt_n):
            parts.append(
                f"allele balance {alt_n}/{ref_n + alt_n} ALT reads is not a heterozygote "
                f"(binomial test, level {cfg.genotype_error:g})"
            )
        return "; ".join(parts) or "call quality"

    def _consequence(self, r: int) -> str | None:
        code = int(self.table.rows["consequence"][r])
        return self.vocab.consequences[code] if code >= 0 else None

    @cached_property
    def _values(self) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        """Row and sample columns for `_variant`, indexed ``rows[name][r]`` and
        ``samples[name][k][r]``: Python lists for tables of up to `_LIST_CELLS` values (one
        element read from a list is far cheaper than from numpy), else the arrays."""
        t = self.table
        cells = len(t) * (len(t.rows) + len(t.samples) * max(1, len(self.family.members)))
        if cells > _LIST_CELLS:
            return t.rows, t.samples
        return (
            {k: a.tolist() for k, a in t.rows.items()},
            {k: a.tolist() for k, a in t.samples.items()},
        )

    @cached_property
    def _roles(self) -> list[str]:
        return [self.pedigree.role(m.id) for m in self.family.members]

    def _variant(self, r: int, extra: tuple[Reason, str] | None) -> VariantEvidence:
        t = self.table
        rows, s = self._values
        ref, alt, vid, transcript, hgvs_c, hgvs_p = t.text.get(r).split("\t")
        chrom = PRIMARY_CONTIGS[int(rows["chrom"][r])]
        impact = int(rows["impact"][r])
        af = float(rows["af"][r])
        field = int(rows["af_field"][r])
        cv = int(rows["clinvar"][r])
        qual = float(rows["qual"][r])
        reasons = self._row_reasons(r)
        if extra is not None:
            reasons.append(SetAside(*extra))
        fa = self.family
        calls = []
        alt_index = int(rows["alt_index"][r])
        hemizygous_site = int(fa.klass[r]) in (CLASS_X, CLASS_Y)
        a0s, a1s, phs, gqs = s["a0"], s["a1"], s["phased"], s["gq"]
        dps, refs, alts, pss = s["dp"], s["ad_ref"], s["ad_alt"], s["ps"]
        roles = self._roles
        for k, m in enumerate(fa.members):
            a0, a1 = int(a0s[k][r]), int(a1s[k][r])
            ph = bool(phs[k][r])
            calls.append(
                SampleCall(
                    individual=m.id,
                    role=roles[k],
                    sample=m.sample or "",
                    genotype=_gt(a0, a1, ph),
                    zygosity=_zygosity(a0, a1, alt_index, hemizygous_site and m.male),
                    gq=_opt_float(float(gqs[k][r])),
                    dp=_opt_int(int(dps[k][r])),
                    ad_ref=_opt_int(int(refs[k][r])),
                    ad_alt=_opt_int(int(alts[k][r])),
                    phase_set=_opt_int(int(pss[k][r])) if ph else None,
                )
            )
        de_novo: bool | None = None
        if fa.father is not None and fa.mother is not None:
            if fa.noncarrier[fa.father, r] and fa.noncarrier[fa.mother, r]:
                de_novo = True
            elif fa.carrier[fa.father, r] or fa.carrier[fa.mother, r]:
                de_novo = False
        filt = self.vocab.filters[int(rows["filter"][r])]
        gene = int(rows["gene"][r])
        revel, am = _opt_float(float(rows["revel"][r])), _opt_float(float(rows["alphamissense"][r]))
        cadd, spliceai = _opt_float(float(rows["cadd"][r])), _opt_float(float(rows["spliceai"][r]))
        return VariantEvidence(
            chrom=chrom,
            pos=int(rows["pos"][r]),
            ref=ref,
            alt=alt,
            gene=gene,
            symbol=self.kb.gene_symbols[gene],
            variant_id=vid or None,
            consequence=self._consequence(r),
            impact=Impact(impact) if impact >= 0 else None,
            transcript=transcript,
            hgvs_c=hgvs_c,
            hgvs_p=hgvs_p,
            frequency=None if math.isnan(af) else af,
            frequency_source=self.vocab.fields[field] if field >= 0 else None,
            cadd=cadd,
            revel=revel,
            spliceai=spliceai,
            alphamissense=am,
            clinvar=_SIGNIFICANCES[cv] if cv >= 0 else None,
            clinvar_stars=int(rows["clinvar_stars"][r]),
            filter=None if filt == "PASS" else filt,
            qual=None if math.isnan(qual) else qual,
            in_silico=_in_silico(self.config, revel, am, cadd, spliceai),
            calls=tuple(calls),
            de_novo=de_novo,
            set_aside=tuple(reasons),
        )


def _gt(a0: int, a1: int, phased: bool) -> str:
    def allele(a: int) -> str:
        return "." if a < 0 else str(a)

    if a1 == ABSENT_ALLELE:
        return allele(a0)
    return f"{allele(a0)}{'|' if phased else '/'}{allele(a1)}"


def _zygosity(a0: int, a1: int, alt: int, hemizygous_site: bool) -> Zygosity:
    haploid = a1 == ABSENT_ALLELE
    if a0 < 0 and (haploid or a1 < 0):
        return Zygosity.NO_CALL
    copies = (a0 == alt) + (a1 == alt)
    if copies == 0:
        return Zygosity.HOM_REF
    if haploid or hemizygous_site:
        return Zygosity.HEMIZYGOUS
    return Zygosity.HOMOZYGOUS if copies == 2 else Zygosity.HETEROZYGOUS


def _opt_float(value: float) -> float | None:
    return None if math.isnan(value) else value


def _opt_int(value: int) -> int | None:
    return None if value < 0 else value


def _in_silico(
    cfg: GenomeConfig,
    revel: float | None,
    am: float | None,
    cadd: float | None,
    spliceai: float | None,
) -> str:
    """The strongest in-silico statement available (ClinGen-calibrated thresholds)."""
    if spliceai is not None and spliceai >= cfg.spliceai_min:
        return f"splicing: SpliceAI {spliceai:.2f} >= {cfg.spliceai_min:g}"
    if revel is not None:
        if revel >= cfg.revel_pathogenic:
            return f"pathogenic: REVEL {revel:.3f} >= {cfg.revel_pathogenic:g}"
        if revel <= cfg.revel_benign:
            return f"benign: REVEL {revel:.3f} <= {cfg.revel_benign:g}"
        return ""
    if am is not None:
        if am > cfg.alphamissense_pathogenic:
            return f"pathogenic: AlphaMissense {am:.3f} > {cfg.alphamissense_pathogenic:g}"
        if am < cfg.alphamissense_benign:
            return f"benign: AlphaMissense {am:.3f} < {cfg.alphamissense_benign:g}"
        return ""
    if cadd is not None:
        if cadd >= cfg.cadd_pathogenic:
            return f"pathogenic: CADD {cadd:.1f} >= {cfg.cadd_pathogenic:g}"
        if cadd <= cfg.cadd_benign:
            return f"benign: CADD {cadd:.1f} <= {cfg.cadd_benign:g}"
    return ""
