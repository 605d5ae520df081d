"""Genes by position (bundled coordinates) and by annotation name, as current HGNC genes.

The bundled spans (``raredx/data/genes/ensembl_genes_{37,38}.txt.gz``: chromosome, 1-based
start and end, HGNC symbol of 2017, Ensembl gene id; genmod's annotation files, MIT) assign
unannotated records to genes. Each span is mapped to the knowledge base's current HGNC gene by
its Ensembl id, else by its symbol (approved, then previous, then alias; ambiguous aliases are
dropped), so that an old symbol such as ``C10orf2`` lands on ``TWNK``.

Lookups go through elementary segments: the genome of each contig is cut wherever a gene
starts or ends, and each segment keeps the (interned) tuple of genes covering it, so a lookup is
one bisection.
"""

from __future__ import annotations

import bisect
import gzip
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path

import numpy as np

from raredx._files import atomic_file
from raredx.errors import InputError
from raredx.genome.annotations import GeneConsequence
from raredx.genome.vcf import PRIMARY_CONTIGS, Assembly, contig_index, normalise_contig
from raredx.kb import KnowledgeBase, raredx_home

__all__ = ["GeneLocator", "GeneResolver", "GeneSpan", "bundled_gene_spans"]


@dataclass(frozen=True, slots=True)
class GeneSpan:
    """A gene's span on a primary contig (1-based, inclusive) and its KB gene index."""

    gene: int
    symbol: str
    chrom: str
    start: int
    end: int

    def __post_init__(self) -> None:
        if not 1 <= self.start <= self.end:
            raise ValueError(f"{self.symbol}: start {self.start} and end {self.end} disagree")
        if contig_index(self.chrom) < 0:
            raise ValueError(f"{self.symbol}: {self.chrom!r} is not a primary contig")


class GeneResolver:
    """Annotation gene names and ids -> KB gene index (current HGNC gene), memoised.

    Tries the HGNC id, then the Ensembl gene id, then the symbol (approved > previous > alias);
    -1 when none names exactly one gene.
    """

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._memo: dict[tuple[str, str, str], int] = {}

    def resolve(self, hgnc_id: str = "", gene_id: str = "", symbol: str = "") -> int:
        key = (hgnc_id, gene_id, symbol)
        found = self._memo.get(key)
        if found is None:
            found = -1
            for query in (hgnc_id, gene_id, symbol):
                if query:
                    hits = self.kb.gene_indices(query)
                    if len(hits) == 1:
                        found = hits[0]
                        break
            self._memo[key] = found
        return found

    def consequence_gene(self, gc: GeneConsequence) -> int:
        return self.resolve(gc.hgnc_id, gc.gene_id, gc.symbol)


def bundled_gene_spans(assembly: Assembly, kb: KnowledgeBase) -> tuple[GeneSpan, ...]:
    """The bundled gene spans of `assembly` on primary contigs, mapped to current HGNC genes
    (spans that map to no HGNC gene are dropped; one gene's spans on a contig are merged)."""
    return _bundled_spans(assembly, kb)


def gene_span_arrays(
    assembly: Assembly, kb: KnowledgeBase
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`bundled_gene_spans` as arrays: KB gene index, contig index (PRIMARY_CONTIGS), start,
    end (1-based, inclusive); read from the span cache without building span objects."""
    return _span_arrays(assembly, kb)


@cache
def _span_arrays(
    assembly: Assembly, kb: KnowledgeBase
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    _cached_locator(assembly, kb)  # writes the cache when it is missing
    try:
        with np.load(_cache_path(assembly, kb), allow_pickle=False) as data:
            return data["gene"], data["chrom"], data["start"], data["end"]
    except (OSError, KeyError, ValueError):
        spans = bundled_gene_spans(assembly, kb)
        return (
            np.array([x.gene for x in spans], dtype=np.int32),
            np.array([contig_index(x.chrom) for x in spans], dtype=np.int8),
            np.array([x.start for x in spans], dtype=np.int64),
            np.array([x.end for x in spans], dtype=np.int64),
        )


_CACHE_FORMAT = 2


def _cache_path(assembly: Assembly, kb: KnowledgeBase) -> Path:
    digest = hashlib.sha256()
    digest.update(f"{_CACHE_FORMAT}\n{assembly}\n".encode())
    digest.update("\n".join(kb.gene_hgnc_ids).encode())
    digest.update("\n".join(kb.gene_symbols).encode())
    return raredx_home() / "genome" / f"gene-spans-{assembly}-{digest.hexdigest()[:16]}.npz"


@cache
def _bundled_spans(assembly: Assembly, kb: KnowledgeBase) -> tuple[GeneSpan, ...]:
    return _cached_locator(assembly, kb).spans


@cache
def _cached_locator(assembly: Assembly, kb: KnowledgeBase) -> GeneLocator:
    """The flank-0 locator from the cache under RAREDX_HOME (keyed by the KB's genes), else
    parsed, built and cached; the cache is an optimisation: failing to write it is fine."""
    path = _cache_path(assembly, kb)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}

        def make() -> tuple[GeneSpan, ...]:
            genes, chroms = arrays["gene"].tolist(), arrays["chrom"].tolist()
            starts, ends = arrays["start"].tolist(), arrays["end"].tolist()
            return tuple(
                GeneSpan(g, kb.gene_symbols[g], PRIMARY_CONTIGS[c], s, e)
                for g, c, s, e in zip(genes, chroms, starts, ends, strict=True)
            )

        return GeneLocator.from_state(make, arrays, 0)
    except (OSError, KeyError, ValueError, IndexError):
        pass
    locator = GeneLocator(_parse_spans(assembly, kb), 0)
    built = locator.spans
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(path, binary=True) as tmp:
            arrays = {
                "gene": np.array([s.gene for s in built], dtype=np.int32),
                "chrom": np.array([contig_index(s.chrom) for s in built], dtype=np.int8),
                "start": np.array([s.start for s in built], dtype=np.int64),
                "end": np.array([s.end for s in built], dtype=np.int64),
                **locator.state(),
            }
            np.savez(tmp, allow_pickle=False, **arrays)
    except OSError:
        pass
    return locator


def _parse_spans(assembly: Assembly, kb: KnowledgeBase) -> tuple[GeneSpan, ...]:
    name = "ensembl_genes_37.txt.gz" if assembly is Assembly.GRCH37 else "ensembl_genes_38.txt.gz"
    resolver = GeneResolver(kb)
    merged: dict[tuple[int, str], list[int]] = {}
    source = resources.files("raredx") / "data" / "genes" / name
    with source.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as stream:
        for line in stream:
            if line.startswith("#"):
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 5:
                continue
            chrom = normalise_contig(parts[0])
            if chrom is None:
                continue
            gene = resolver.resolve(gene_id=parts[4].strip(), symbol=parts[3].strip())
            if gene < 0:
                gene = resolver.resolve(symbol=parts[3].strip())
            if gene < 0:
                continue
            start, end = int(parts[1]), int(parts[2])
            span = merged.get((gene, chrom))
            if span is None:
                merged[(gene, chrom)] = [start, end]
            else:
                span[0], span[1] = min(span[0], start), max(span[1], end)
    spans = [
        GeneSpan(gene, kb.gene_symbols[gene], chrom, s, e)
        for (gene, chrom), (s, e) in merged.items()
    ]
    spans.sort(key=lambda g: (contig_index(g.chrom), g.start, g.end, g.symbol))
    return tuple(spans)


class GeneLocator:
    """Which genes cover a position or an interval, per primary contig."""

    def __init__(self, spans: Iterable[GeneSpan], flank: int = 0) -> None:
        if flank < 0:
            raise ValueError(f"flank must be >= 0: {flank}")
        self.flank = flank
        fixed = tuple(spans)
        self._make_spans: Callable[[], tuple[GeneSpan, ...]] = lambda: fixed
        n = len(PRIMARY_CONTIGS)
        self._bounds: list[list[int]] = [[] for _ in range(n)]
        self._segments: list[list[tuple[int, ...]]] = [[] for _ in range(n)]
        per_contig: list[list[GeneSpan]] = [[] for _ in range(n)]
        for span in fixed:
            per_contig[contig_index(span.chrom)].append(span)
        interned: dict[tuple[int, ...], tuple[int, ...]] = {(): ()}
        for c, spans_c in enumerate(per_contig):
            events: list[tuple[int, int, int]] = []  # (position, +1 start / -1 end, gene)
            for s in spans_c:
                events.append((max(1, s.start - flank), 1, s.gene))
                events.append((s.end + flank + 1, -1, s.gene))
            events.sort()
            active: dict[int, int] = {}
            bounds, segments = self._bounds[c], self._segments[c]
            i = 0
            while i < len(events):
                pos = events[i][0]
                while i < len(events) and events[i][0] == pos:
                    _, kind, gene = events[i]
                    if kind > 0:
                        active[gene] = active.get(gene, 0) + 1
                    else:
                        active[gene] -= 1
                        if not active[gene]:
                            del active[gene]
                    i += 1
                genes = tuple(sorted(active))
                segment = interned.setdefault(genes, genes)
                if segments and segments[-1] is segment:
                    continue
                bounds.append(pos)
                segments.append(segment)

    def state(self) -> dict[str, np.ndarray]:
        """The segment index as arrays (for a cache): see `from_state`."""
        table: dict[tuple[int, ...], int] = {}
        bounds: list[int] = []
        ids: list[int] = []
        offsets = [0]
        for c in range(len(PRIMARY_CONTIGS)):
            bounds.extend(self._bounds[c])
            ids.extend(table.setdefault(seg, len(table)) for seg in self._segments[c])
            offsets.append(len(bounds))
        indptr = np.zeros(len(table) + 1, dtype=np.int64)
        flat: list[int] = []
        for seg, k in sorted(table.items(), key=lambda kv: kv[1]):
            flat.extend(seg)
            indptr[k + 1] = len(flat)
        return {
            "bounds": np.array(bounds, dtype=np.int64),
            "segment": np.array(ids, dtype=np.int32),
            "contig_offsets": np.array(offsets, dtype=np.int64),
            "seg_indptr": indptr,
            "seg_genes": np.array(flat, dtype=np.int32),
        }

    @classmethod
    def from_state(
        cls, spans: Callable[[], tuple[GeneSpan, ...]], state: dict[str, np.ndarray], flank: int
    ) -> GeneLocator:
        """Rebuild a locator from a `state()` without sweeping again; `spans` makes the span
        objects when first needed."""
        self = cls.__new__(cls)
        self.flank = flank
        self._make_spans = spans
        indptr, flat = state["seg_indptr"].tolist(), state["seg_genes"].tolist()
        segments = [tuple(flat[indptr[k] : indptr[k + 1]]) for k in range(len(indptr) - 1)]
        bounds, ids = state["bounds"].tolist(), state["segment"].tolist()
        offsets = state["contig_offsets"].tolist()
        self._bounds = [bounds[offsets[c] : offsets[c + 1]] for c in range(len(offsets) - 1)]
        self._segments = [
            [segments[k] for k in ids[offsets[c] : offsets[c + 1]]] for c in range(len(offsets) - 1)
        ]
        return self

    @classmethod
    def bundled(cls, assembly: Assembly, kb: KnowledgeBase, flank: int = 0) -> GeneLocator:
        """The locator over the bundled gene spans of `assembly` (built once per process)."""
        return _bundled_locator(assembly, kb, flank)

    def genes_at(self, contig: int, start: int, end: int | None = None) -> tuple[int, ...]:
        """KB gene indices covering any base of [start, end] on contig number `contig`
        (an index into `PRIMARY_CONTIGS`), sorted."""
        bounds = self._bounds[contig]
        i = bisect.bisect_right(bounds, start) - 1
        segments = self._segments[contig]
        if end is None or end <= start:
            return segments[i] if i >= 0 else ()
        j = bisect.bisect_right(bounds, end) - 1
        if j == i:
            return segments[i] if i >= 0 else ()
        found: set[int] = set()
        for k in range(max(i, 0), j + 1):
            found.update(segments[k])
        return tuple(sorted(found))

    @cached_property
    def spans(self) -> tuple[GeneSpan, ...]:
        """Every span, in genome order."""
        return self._make_spans()

    @cached_property
    def _by_gene(self) -> dict[int, list[GeneSpan]]:
        out: dict[int, list[GeneSpan]] = {}
        for span in self.spans:
            out.setdefault(span.gene, []).append(span)
        return out

    def segment(self, contig: int, pos: int) -> tuple[tuple[int, ...], int, int]:
        """(genes, first, last): the genes covering `pos` and the largest interval
        [first, last] around it covered by exactly those genes (for callers that walk a
        sorted file and skip most lookups)."""
        bounds = self._bounds[contig]
        i = bisect.bisect_right(bounds, pos) - 1
        first = bounds[i] if i >= 0 else 1
        last = bounds[i + 1] - 1 if i + 1 < len(bounds) else 1 << 62
        return (self._segments[contig][i] if i >= 0 else ()), first, last

    def spans_of(self, gene: int) -> tuple[GeneSpan, ...]:
        return tuple(self._by_gene.get(gene, ()))

    def chrom_of(self, gene: int) -> str | None:
        spans = self._by_gene.get(gene)
        return spans[0].chrom if spans else None

    def find(self, kb: KnowledgeBase, query: str) -> Sequence[GeneSpan]:
        """Spans of the gene `query` names (symbol, HGNC, Ensembl id); InputError if unknown."""
        return self.spans_of(kb.resolve_gene(query)) or _no_span(query)


def _no_span(query: str) -> Sequence[GeneSpan]:
    raise InputError(f"gene {query} has no coordinates in the bundled gene table")


@cache
def _bundled_locator(assembly: Assembly, kb: KnowledgeBase, flank: int) -> GeneLocator:
    if flank == 0:
        return _cached_locator(assembly, kb)
    return GeneLocator(_bundled_spans(assembly, kb), flank)
