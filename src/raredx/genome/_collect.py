"""The streaming pass: each VCF record is reduced, as early and cheaply as possible, to rows.

Order of the checks (cheapest first): primary contig; ALT allele carried by the proband; inside
a gene (bundled coordinates); population frequency above what any mode allows (INFO, the
first CSQ entry, a local store), unless ClinVar calls it pathogenic; call quality of the
proband (FILTER, GQ, depth, allele balance); then the full annotation (genes, consequence,
scores). Records that are not carried or lie outside genes are only counted; every allele in a
gene becomes one row per gene, with the reason it was set aside (0 = it qualifies).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import os
import pickle
import signal
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any, NamedTuple

from raredx.genome import _split
from raredx.genome._cyvcf2 import CyVariant
from raredx.genome._table import (
    ABSENT_ALLELE,
    MISSING_ALLELE,
    REASON_CONSEQUENCE,
    REASON_FREQUENCY,
    REASON_QUALITY,
    RowBuilder,
    VariantTable,
)
from raredx.genome.annotations import (
    CONSEQUENCE_TERMS,
    AlleleAnnotation,
    AnnotationError,
    AnnotationReader,
    AnnotationSources,
    GeneConsequence,
    Impact,
)
from raredx.genome.clinvar import ClinicalSignificance, ClinVarStore
from raredx.genome.config import GenomeConfig
from raredx.genome.frequency import FrequencyStore
from raredx.genome.genes import GeneLocator, GeneResolver
from raredx.genome.pedigree import Pedigree
from raredx.genome.vcf import (
    CONTIG_LENGTHS,
    PRIMARY_CONTIGS,
    VcfHeader,
    VcfStream,
    check_numeric_info,
    contig_index,
    normalise_contig,
)

__all__ = ["Collector", "Vocabulary"]

_Fmt = tuple[float, int, list[int] | None, int]
"""FORMAT values of one sample: GQ (NaN missing), DP (-1), the AD list (None), PS (-1)."""

_INT_MISSING = -2147483640  # cyvcf2 writes int32 missing/vector-end as values below this
_NONCODING_EXON = frozenset({"non_coding_transcript_exon_variant", "non_coding_exon_variant"})


_Tally = tuple[int, int, int, int, int, int]
"""(records, non-primary, outside genes, not carried, alleles in genes, common) of a pass."""


class _Fallback(Exception):
    """Reading in parts failed: read the file again in one pass (which names any error)."""


class _PartResult(NamedTuple):
    table: VariantTable
    vocab: Vocabulary
    counts: Counter[str]
    tally: _Tally


def _kill(pid: int) -> None:
    """Stop and reap a child process of ours (a reader or feeder of a part)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


class _NumericCheck:
    """`check_numeric_info` in a background thread (zlib releases the GIL), joined at the end
    of the pass; its error, if any, is raised then."""

    def __init__(self, header: VcfHeader, keys: list[str]) -> None:
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self.stop = threading.Event()
        """Set to make the scan give up early (the main pass failed)."""
        if keys and not header.is_bcf:
            self._thread = threading.Thread(
                target=self._run, args=(header, keys), name="raredx-info-check", daemon=True
            )
            self._thread.start()

    def _run(self, header: VcfHeader, keys: list[str]) -> None:
        try:
            check_numeric_info(header, keys, self.stop)
        except BaseException as exc:  # handed to the caller's thread
            self._error = exc

    def cancel(self) -> None:
        self.stop.set()

    def result(self) -> None:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error


class Vocabulary:
    """Interned strings behind small integer codes in the table."""

    def __init__(self) -> None:
        self.filters: list[str] = ["PASS"]
        self._filters = {"PASS": 0}
        self.fields: list[str] = []
        self._fields: dict[str, int] = {}
        self.consequences: list[str] = list(CONSEQUENCE_TERMS)
        self._consequences = {t: i for i, t in enumerate(self.consequences)}

    def filter_code(self, text: str | None) -> int:
        if text is None:
            return 0
        code = self._filters.get(text)
        if code is None:
            code = self._filters[text] = len(self.filters)
            self.filters.append(text)
        return code

    def field_code(self, text: str | None) -> int:
        if text is None:
            return -1
        code = self._fields.get(text)
        if code is None:
            code = self._fields[text] = len(self.fields)
            self.fields.append(text)
        return code

    def consequence_code(self, term: str) -> int:
        code = self._consequences.get(term)
        if code is None:
            code = self._consequences[term] = len(self.consequences)
            self.consequences.append(term)
        return code


class Collector:
    """Reads a VCF into a `VariantTable` for a bound pedigree (see `collect_evidence`)."""

    def __init__(
        self,
        header: VcfHeader,
        pedigree: Pedigree,
        config: GenomeConfig,
        locator: GeneLocator,
        resolver: GeneResolver,
        sources: AnnotationSources,
        *,
        clinvar: ClinVarStore | None = None,
        frequency: FrequencyStore | None = None,
    ) -> None:
        self.header = header
        self.pedigree = pedigree
        self.config = config
        self.locator = locator
        self.resolver = resolver
        self.sources = sources
        self.reader = AnnotationReader(sources, {f.id: f.number for f in header.info})
        self.clinvar = clinvar
        self.frequency = frequency
        self.members = pedigree.sequenced
        self.samples = [m.sample for m in self.members if m.sample is not None]
        self.rows = RowBuilder(len(self.samples))
        self.vocab = Vocabulary()
        self.counts: Counter[str] = Counter()
        self.accepted_filters = frozenset(config.accepted_filters) | {"PASS", "."}
        self.max_any = config.max_any_af
        self.min_gq = config.min_gq
        self.min_dp = config.min_depth
        self.kept_impacts = frozenset(Impact[i] for i in config.kept_impacts)
        self.kept_low = frozenset(config.kept_low_impact_terms)
        has = {f.id for f in header.formats}
        self.has_gq, self.has_dp, self.has_ad, self.has_ps = (
            "GQ" in has,
            "DP" in has,
            "AD" in has,
            "PS" in has,
        )

    # ------------------------------------------------------------------ the pass
    def run(self, threads: int | None = None) -> VariantTable:
        """Read the VCF: in parts by several processes when it is large (see `_split`), else
        (or when a part fails: the single pass then names the error's line) in one pass."""
        workers = _split.worker_count(self.header.path)
        parts = _split.plan_parts(self.header, workers) if workers > 1 else None
        if parts is not None:
            try:
                return self._run_parts(parts)
            except _Fallback:
                pass
        checker = _NumericCheck(self.header, self._numeric_keys())
        try:
            tally = self._pass(self.header, threads)
        except BaseException:
            checker.stop.set()
            raise
        checker.result()
        self._finish(tally)
        return self.rows.freeze()

    def _fresh(self) -> Collector:
        """A copy with empty rows, vocabulary and counts (for one part of the file)."""
        other = copy.copy(self)
        other.rows = RowBuilder(len(self.samples))
        other.vocab = Vocabulary()
        other.counts = Counter()
        return other

    def _finish(self, tally: _Tally) -> None:
        n, non_primary, outside, not_carried, in_genes, common = tally
        counts = self.counts
        counts["records"] = n
        counts["alleles in genes"] += in_genes
        counts["set aside: frequency"] += common
        for key, value in (
            ("non-primary contig", non_primary),
            ("outside genes", outside),
            ("not carried by the proband", not_carried),
        ):
            if value:
                counts[key] = value

    def _run_parts(self, parts: list[_split.Part]) -> VariantTable:
        """Each part read by its own process (this one reads the first), results merged in
        file order: rows, vocabularies (codes renumbered as one pass would have numbered
        them) and counts. Raises `_Fallback` when anything fails."""
        children: list[tuple[int, int]] = []
        keys = self._numeric_keys()
        prefix = _split.header_bytes(self.header.path)
        try:
            for part in parts[1:]:
                read_fd, write_fd = os.pipe()
                pid = os.fork()
                if pid == 0:  # pragma: no cover - runs in the child process
                    status = 1
                    try:
                        os.close(read_fd)
                        for _, fd in children:
                            os.close(fd)
                        result = self._fresh()._read_part(part, prefix, keys)
                        with os.fdopen(write_fd, "wb") as out:
                            pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)
                        status = 0
                    finally:
                        os._exit(status)
                os.close(write_fd)
                children.append((pid, read_fd))
            results = [self._fresh()._read_part(parts[0], b"", keys)]
            while children:
                pid, fd = children.pop(0)
                try:
                    with os.fdopen(fd, "rb") as inp:
                        result = pickle.load(inp)
                except BaseException:
                    _kill(pid)
                    raise
                if os.waitpid(pid, 0)[1] != 0:
                    raise _Fallback
                results.append(result)
        except Exception as exc:
            raise _Fallback from exc
        finally:
            for pid, fd in children:
                _kill(pid)
                os.close(fd)
        self.vocab = results[0].vocab
        self.counts = Counter()
        tables = []
        for k, part_result in enumerate(results):
            self.counts.update(part_result.counts)
            tables.append(part_result.table)
            if k:
                tables[-1] = part_result.table.recoded(
                    filter=[self.vocab.filter_code(t) for t in part_result.vocab.filters],
                    af_field=[self.vocab.field_code(t) for t in part_result.vocab.fields],
                    consequence=[
                        self.vocab.consequence_code(t) for t in part_result.vocab.consequences
                    ],
                )
        total = tuple(sum(r.tally[i] for r in results) for i in range(6))
        self._finish(total)  # type: ignore[arg-type]
        return VariantTable.concat(tables)

    def _read_part(self, part: _split.Part, prefix: bytes, keys: list[str]) -> _PartResult:
        """Read one part through a pipe fed by a child process (see `_split.feed_part`)."""
        read_fd, write_fd = os.pipe()
        _split.widen_pipe(write_fd)
        feeder = os.fork()
        if feeder == 0:  # pragma: no cover - runs in the child process
            status = _split.FEED_FAILED
            try:
                os.close(read_fd)
                status = _split.feed_part(self.header, part, prefix, keys, write_fd)
            finally:
                os._exit(status)
        os.close(write_fd)
        try:
            piped = dataclasses.replace(self.header, path=f"/dev/fd/{read_fd}", compression="none")
            tally = self._pass(piped, None)
        except BaseException:
            _kill(feeder)
            raise
        finally:
            os.close(read_fd)
        status = os.waitpid(feeder, 0)[1]
        if status != 0:
            raise _Fallback
        return _PartResult(self.rows.freeze(), self.vocab, self.counts, tally)

    def _pass(self, header: VcfHeader, threads: int | None) -> _Tally:
        """One pass over `header`'s file: rows into `rows`, counts into `counts`; returns the
        tallies `_finish` records."""
        lengths = CONTIG_LENGTHS[header.assembly]
        contigs: dict[str, int] = {}
        counts = self.counts
        locator = self.locator
        seg_contig, seg_first, seg_last = -1, 0, -1
        seg_genes: tuple[int, ...] = ()
        file_order = [s for s in header.samples if s in set(self.samples)]
        non_primary = outside = not_carried = in_genes = common = 0
        n = 0
        src = self.sources
        max_any = self.max_any
        rows = self.rows
        single = len(self.samples) == 1
        fast = bool(
            src.info_frequency
            and not src.csq_frequency
            and not src.info_clinvar
            and self.frequency is None
            and self.clinvar is None
        )
        with VcfStream(header, samples=file_order, threads=threads) as stream:
            cols = [file_order.index(s) for s in self.samples]
            pcol = cols[0]
            it = iter(stream.reader)
            while True:
                try:
                    rec = next(it)
                except StopIteration:
                    break
                except Exception:
                    stream.records = n + 1
                    raise stream.parse_error() from None
                n += 1
                raw = rec.CHROM
                c = contigs.get(raw)
                if c is None:
                    norm = normalise_contig(raw)
                    c = contigs[raw] = contig_index(norm) if norm is not None else -1
                if c < 0:
                    non_primary += 1
                    continue
                pos = rec.POS
                if pos > lengths[c]:
                    stream.records = n
                    raise stream.fail(_beyond(header, raw, pos, c))
                ref = rec.REF
                end = pos + len(ref) - 1
                if c == seg_contig and seg_first <= pos and end <= seg_last:
                    genes = seg_genes
                else:
                    seg_genes, seg_first, seg_last = locator.segment(c, pos)
                    seg_contig = c
                    genes = seg_genes if end <= seg_last else locator.genes_at(c, pos, end)
                if not genes:
                    outside += 1
                    continue
                gts = rec.genotypes
                pg = gts[pcol]
                if len(pg) == 3:
                    x, y = pg[0], pg[1]
                elif len(pg) == 2:
                    x, y = pg[0], ABSENT_ALLELE
                else:
                    stream.records = n
                    raise stream.fail(_ploidy(pg))
                if x <= 0 and y <= 0:
                    not_carried += 1
                    continue
                stream.records = n
                alts = rec.ALT
                n_alts = len(alts)
                if single:
                    if x > n_alts or y > n_alts:
                        raise stream.fail(
                            f"malformed genotype of {self.samples[0]}: allele {max(x, y)} but "
                            f"the record has {n_alts} ALT allele(s)"
                        )
                    calls = [(x if x >= 0 else -1, y if y >= -2 else -1, 1 if pg[-1] else 0)]
                else:
                    calls = self._calls(gts, cols, n_alts, stream)
                fmt: list[_Fmt] | None = None
                light: tuple[Any, ...] | None = None
                rows.maybe_flush()
                for i in (x,) if y <= 0 or y == x else (x, y) if x > 0 else (y,):
                    if i <= 0:
                        continue
                    alt = alts[i - 1]
                    if not alt or alt == "*" or alt == "." or alt[0] == "<":
                        counts["symbolic or spanning-deletion allele"] += 1
                        continue
                    in_genes += 1
                    if fast:
                        # only INFO frequencies to consult: the common allele leaves here
                        try:
                            af, field = self._info_frequency(rec, i, n_alts)
                        except AnnotationError as exc:
                            raise stream.fail(f"malformed annotation: {exc}") from None
                        if af is not None and max_any < af <= 1.0:
                            common += 1
                            if light is None:
                                light = _light(calls)
                            self._frequency_rows(
                                rec, c, pos, ref, alt, i, genes, light, af, field, None, 0
                            )
                            continue
                    try:
                        fmt = self._allele(
                            rec, stream, c, pos, ref, alts, i, genes, calls, cols, fmt
                        )
                    except AnnotationError as exc:
                        raise stream.fail(f"malformed annotation: {exc}") from None
            stream.records = n
            stream.check_end()
        return n, non_primary, outside, not_carried, in_genes, common

    def _numeric_keys(self) -> list[str]:
        """INFO keys read as numbers whose text htslib does not check (see vcf)."""
        src = self.sources
        keys = (*src.info_frequency, *src.info_cadd, *src.info_revel, *src.info_alphamissense,
                *src.info_spliceai)  # fmt: skip
        return [
            k
            for k in dict.fromkeys(keys)
            if (f := self.header.info_field(k)) is not None and f.type in ("Float", "Integer")
        ]

    def _calls(
        self, gts: list[list[int | bool]], cols: Sequence[int], n_alts: int, stream: VcfStream
    ) -> list[tuple[int, int, int]]:
        """(a0, a1, phased) per member sample; checks ploidy and allele indices."""
        out: list[tuple[int, int, int]] = []
        for k, col in enumerate(cols):
            g = gts[col]
            n = len(g)
            if n == 3:
                a0, a1, ph = g[0], g[1], 1 if g[2] else 0
            elif n == 2:
                a0, a1, ph = g[0], ABSENT_ALLELE, 0
            else:
                raise stream.fail(_ploidy(g))
            if a0 > n_alts or a1 > n_alts:
                raise stream.fail(
                    f"malformed genotype of {self.samples[k]}: allele {max(a0, a1)} but the "
                    f"record has {n_alts} ALT allele(s)"
                )
            out.append((a0 if a0 >= 0 else MISSING_ALLELE, a1 if a1 >= -2 else -1, ph))
        return out

    def _format(self, rec: CyVariant, cols: Sequence[int], phased: bool) -> list[_Fmt]:
        """Per member sample: (GQ, depth, AD list, PS); NaN / -1 / None when missing. Depth is
        the sum of the allelic depths (the informative reads) when AD is given, else DP."""
        ad_raw = rec.format("AD") if self.has_ad else None
        ad: list[list[int]] | None = (
            ad_raw.tolist() if ad_raw is not None and ad_raw.dtype.kind in "iu" else None
        )
        gq = _first_values(rec, "GQ") if self.has_gq else None
        dp = _first_values(rec, "DP") if self.has_dp and ad is None else None
        ps = _first_values(rec, "PS") if phased and self.has_ps else None
        out: list[_Fmt] = []
        for col in cols:
            q = gq[col] if gq is not None else math.nan
            if ad is not None:
                depths = ad[col]
                if depths[0] >= 0 and (len(depths) < 2 or depths[1] >= 0) and len(depths) <= 2:
                    depth = sum(depths)
                else:
                    known = [v for v in depths if v >= 0]
                    depth = sum(known) if known else -1
            else:
                d = dp[col] if dp is not None else math.nan
                depth = -1 if d != d else int(d)
            p = ps[col] if ps is not None else math.nan
            out.append((q, depth, ad[col] if ad is not None else None, -1 if p != p else int(p)))
        return out

    def _allele(
        self,
        rec: CyVariant,
        stream: VcfStream,
        c: int,
        pos: int,
        ref: str,
        alts: list[str],
        i: int,
        genes: tuple[int, ...],
        calls: list[tuple[int, int, int]],
        cols: Sequence[int],
        fmt: list[_Fmt] | None,
    ) -> list[_Fmt] | None:
        counts = self.counts
        src = self.sources
        reader = self.reader
        alt = alts[i - 1]
        n_alts = len(alts)
        chrom = PRIMARY_CONTIGS[c]
        # ClinVar and frequency: cheap, before anything else
        clinvar: ClinicalSignificance | None = None
        stars = 0
        if src.info_clinvar:
            clinvar, stars = reader.clinvar(rec, [], i, n_alts)
        if self.clinvar is not None and clinvar is None:
            hit = self.clinvar.lookup(chrom, pos, ref, alt)
            if hit is not None:
                clinvar, stars = hit.significance, hit.stars
        rescued = (
            clinvar is not None and clinvar.is_pathogenic and stars >= self.config.clinvar_min_stars
        )
        af, af_field = self._info_frequency(rec, i, n_alts) if src.info_frequency else (None, None)
        entries: list[list[str]] | None = None
        if src.csq_frequency:
            entries = reader.entries(rec, ref, alts, i)
            caf, cfield = reader.csq_frequency(entries)
            if caf is not None and (af is None or caf > af):
                af, af_field = caf, cfield
        if self.frequency is not None:
            saf = self.frequency.lookup(chrom, pos, ref, alt)
            if saf is not None and (af is None or saf > af):
                af, af_field = saf, f"store:{self.frequency.source}"
        if af is not None and not 0.0 <= af <= 1.0:
            raise stream.fail(f"population frequency {af_field}={af} is not between 0 and 1")
        if af is not None and af > self.max_any and not rescued:
            counts["set aside: frequency"] += 1
            self._frequency_rows(
                rec, c, pos, ref, alt, i, genes, _light(calls), af, af_field, clinvar, stars
            )
            return fmt
        # call quality of the proband
        if fmt is None:
            fmt = self._format(rec, cols, any(ph for _, _, ph in calls))
        row_fmt = fmt

        def emit(
            row_genes: tuple[int, ...],
            reason: int,
            ann: AlleleAnnotation | None = None,
            gc: GeneConsequence | None = None,
            consequence: str | None = None,
        ) -> None:
            # One row per (allele, gene) with the frequency and ClinVar values known so far.
            self._rows(
                rec,
                c,
                pos,
                ref,
                alt,
                i,
                row_genes,
                calls,
                row_fmt,
                reason,
                af=af,
                af_field=af_field,
                clinvar=clinvar,
                stars=stars,
                ann=ann,
                gc=gc,
                consequence=consequence,
            )

        bad_quality = self._bad_quality(rec.FILTER, fmt[0], calls[0], i)
        if bad_quality:
            counts["set aside: quality"] += 1
            emit(genes, REASON_QUALITY)
            return fmt
        # annotation
        if not src.consequences:
            counts["qualifying"] += 1
            emit(genes, 0)
            return fmt
        if not _carries_consequences(rec, src):
            # VEP and SnpEff annotate every record, intergenic ones included: a record without
            # CSQ/ANN was added after annotation, so its genes come from its position
            counts["qualifying"] += 1
            emit(genes, 0)
            return fmt
        ann = reader.annotate(rec, ref, alts, i, entries)
        if ann.clinvar is not None and clinvar is None:
            clinvar, stars = ann.clinvar, ann.clinvar_stars
            rescued = clinvar.is_pathogenic and stars >= self.config.clinvar_min_stars
        annotated = [(self.resolver.consequence_gene(gc), gc) for gc in ann.genes]
        annotated = [(g, gc) for g, gc in annotated if g >= 0]
        if not annotated:
            # annotated record with no known gene: set aside under the genes by position
            counts["qualifying" if rescued else "set aside: consequence"] += 1
            emit(genes, 0 if rescued else REASON_CONSEQUENCE, ann, consequence="intergenic_variant")
            return fmt
        any_kept = False
        seen: set[int] = set()
        for gene, gc in annotated:
            if gene in seen:
                continue
            seen.add(gene)
            keep = rescued or self._consequence_kept(gc, ann)
            any_kept |= keep
            emit((gene,), 0 if keep else REASON_CONSEQUENCE, ann, gc)
        counts["qualifying" if any_kept else "set aside: consequence"] += 1
        return fmt

    def _info_frequency(
        self, rec: CyVariant, i: int, n_alts: int
    ) -> tuple[float | None, str | None]:
        """Largest INFO population frequency of ALT `i`: floats (the usual case) inline, any
        other shape through the annotation reader (which checks it)."""
        best: float | None = None
        best_key: str | None = None
        get = rec.INFO.get
        per_allele = self.reader.per_allele
        for key in self.sources.info_frequency:
            value = get(key)
            if value is None:
                continue
            number: float | None
            if isinstance(value, float) and (n_alts == 1 or key not in per_allele):
                number = None if value != value else value
            elif isinstance(value, tuple) and len(value) == n_alts:
                item = value[i - 1]
                number = None if item is None or item != item else float(item)
            else:
                number, _ = self.reader.info_numbers(rec, (key,), i, n_alts)
            if number is not None and (best is None or number > best):
                best, best_key = number, key
        return best, best_key

    def _frequency_rows(
        self,
        rec: CyVariant,
        c: int,
        pos: int,
        ref: str,
        alt: str,
        i: int,
        genes: tuple[int, ...],
        light: tuple[Any, ...],
        af: float,
        af_field: str | None,
        clinvar: ClinicalSignificance | None,
        stars: int,
    ) -> None:
        """Rows of an allele set aside for its frequency: the light path (no FORMAT fields,
        no annotation), since most alleles of a genome end here. `light` holds the sample
        columns built from the genotypes alone."""
        qual = rec.QUAL
        head = (
            REASON_FREQUENCY,
            self.vocab.filter_code(rec.FILTER),
            math.nan if qual is None else qual,
            af,
            self.vocab.field_code(af_field),
            -1,
            -1,
            math.nan,
            math.nan,
            math.nan,
            math.nan,
            clinvar.code if clinvar is not None else -1,
            stars,
            0,
            *light,
        )
        text = f"{ref}\t{alt}\t\t\t\t"
        pending = self.rows.pending
        texts = self.rows.text.pending
        for gene in genes:
            pending.append((c, pos, i, gene, *head))
            texts.append(text)

    def _consequence_kept(self, gc: GeneConsequence, ann: AlleleAnnotation) -> bool:
        if gc.impact in self.kept_impacts or gc.consequence in self.kept_low:
            return True
        if ann.spliceai is not None and ann.spliceai >= self.config.spliceai_min:
            return True
        return (
            self.config.keep_noncoding_exon_in_noncoding_genes
            and gc.consequence in _NONCODING_EXON
            and bool(gc.biotype)
            and gc.biotype != "protein_coding"
        )

    def _bad_quality(self, filt: str | None, fmt: _Fmt, call: tuple[int, int, int], i: int) -> bool:
        if (
            filt is not None
            and filt not in self.accepted_filters
            and any(f not in self.accepted_filters for f in filt.split(";"))
        ):
            return True
        gq, dp, ad, _ = fmt
        if gq == gq and gq < self.min_gq:
            return True
        ad_ref, ad_alt = _depths(ad, i)
        depth = dp if dp >= 0 else (ad_ref + ad_alt if ad_ref >= 0 and ad_alt >= 0 else -1)
        if 0 <= depth < self.min_dp:
            return True
        a0, a1, _ = call
        het_with_ref = (a0 == 0 and a1 == i) or (a1 == 0 and a0 == i)
        if het_with_ref and ad_ref >= 0 and ad_alt >= 0:
            return not self.config.allele_balance_ok(ad_alt, ad_ref + ad_alt)
        return False

    def _rows(
        self,
        rec: CyVariant,
        c: int,
        pos: int,
        ref: str,
        alt: str,
        i: int,
        genes: tuple[int, ...],
        calls: list[tuple[int, int, int]],
        fmt: list[_Fmt] | None,
        reason: int,
        *,
        af: float | None,
        af_field: str | None,
        clinvar: ClinicalSignificance | None,
        stars: int,
        ann: AlleleAnnotation | None = None,
        gc: GeneConsequence | None = None,
        consequence: str | None = None,
    ) -> None:
        rows = self.rows
        vocab = self.vocab
        qual = rec.QUAL
        text = f"{ref}\t{alt}\t{rec.ID or ''}"
        text += f"\t{gc.transcript}\t{gc.hgvs_c}\t{gc.hgvs_p}" if gc else "\t\t\t"
        term = gc.consequence if gc is not None else consequence
        cons = vocab.consequence_code(term) if term else -1
        impact = int(gc.impact) if gc is not None else (0 if term else -1)
        per_sample: tuple[Any, ...] = ()
        for k, (a0, a1, ph) in enumerate(calls):
            if fmt is None:
                per_sample += (a0, a1, ph, 0 if ph else -1, math.nan, -1, -1, -1)
            else:
                gq, dp, ad, ps = fmt[k]
                ad_ref, ad_alt = _depths(ad, i)
                per_sample += (a0, a1, ph, ps if ps >= 0 else (0 if ph else -1), gq, dp,
                               ad_ref, ad_alt)  # fmt: skip
        scores = (
            _NO_SCORES
            if ann is None
            else (_nan(ann.cadd), _nan(ann.revel), _nan(ann.spliceai), _nan(ann.alphamissense))
        )
        head = (
            vocab.filter_code(rec.FILTER),
            math.nan if qual is None else qual,
            math.nan if af is None else af,
            vocab.field_code(af_field),
            cons,
            impact,
            *scores,
            clinvar.code if clinvar is not None else -1,
            stars,
            1 if ann is not None else 0,
            *per_sample,
        )
        pending, texts = rows.pending, rows.text.pending
        for gene in genes:
            pending.append((c, pos, i, gene, reason, *head))
            texts.append(text)


_NO_SCORES = (math.nan, math.nan, math.nan, math.nan)


def _light(calls: list[tuple[int, int, int]]) -> tuple[Any, ...]:
    """Sample columns from genotypes alone (no FORMAT fields read)."""
    out: tuple[Any, ...] = ()
    for a0, a1, ph in calls:
        out += (a0, a1, ph, 0 if ph else -1, math.nan, -1, -1, -1)
    return out


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def _first_values(rec: CyVariant, key: str) -> list[float] | None:
    """FORMAT `key`'s first value per sample (NaN when missing), or None if not numeric."""
    values = rec.format(key)
    if values is None or values.dtype.kind not in "iuf":
        return None
    first: list[float] = values[:, 0].tolist()
    if values.dtype.kind in "iu":
        return [math.nan if v < _INT_MISSING else v for v in first]
    return first


def _depths(ad: list[int] | None, i: int) -> tuple[int, int]:
    """(REF reads, reads of ALT allele `i`) from one sample's AD list; -1 when missing."""
    if ad is None or i >= len(ad):
        return -1, -1
    r, a = ad[0], ad[i]
    return (r if r >= 0 else -1), (a if a >= 0 else -1)


def _ploidy(g: Sequence[int | bool]) -> str:
    return (
        f"genotype with {len(g) - 1} alleles: only haploid and diploid calls are supported"
        if len(g) > 3
        else "missing genotype (GT)"
    )


def _beyond(header: VcfHeader, raw: str, pos: int, c: int) -> str:
    length = CONTIG_LENGTHS[header.assembly][c]
    return (
        f"position {raw}:{pos:,} lies beyond the end of chromosome {PRIMARY_CONTIGS[c]} in "
        f"{header.assembly} ({length:,} bp): contigs of another build?"
    )


def _carries_consequences(rec: CyVariant, sources: AnnotationSources) -> bool:
    """True when the record has the CSQ or ANN field its header declares."""
    get = rec.INFO.get
    return bool(sources.csq and get(sources.csq_key) is not None) or bool(
        sources.ann and get("ANN") is not None
    )
