"""Population allele frequencies from a local file the user points raredx at, never downloaded.

`compile_frequency` reads a sites VCF (gnomAD, a national reference…) or a TSV and keeps one
number per allele: the highest credible population frequency (popmax/grpmax/faf95 when the file
has them, else the largest of its per-population frequencies), in a compact indexed store.

TSV input: a header row naming ``chrom``, ``pos``, ``ref``, ``alt`` (aliases ``chr``,
``chromosome``, ``position``) and one or more frequency columns (names containing ``af``,
``freq`` or ``popmax``); gzip allowed; ``.`` or empty means unknown.
"""

from __future__ import annotations

import gzip
import math
import os
import re
from collections.abc import Iterator
from pathlib import Path
from zlib import error as zlib_error

import numpy as np

from raredx.errors import InputError
from raredx.genome._store import KeyedStore, StoreBuilder, StoreView
from raredx.genome.vcf import (
    Assembly,
    HeaderField,
    iter_alleles,
    normalise_contig,
    parse_assembly,
    read_header,
)

__all__ = [
    "FREQUENCY_STORE_KIND",
    "MINIMAL_ALLELES",
    "FrequencyStore",
    "compile_frequency",
    "minimal_allele",
    "population_frequency_fields",
]

FREQUENCY_STORE_KIND = "frequency"
"""The `kind` written in a frequency store's manifest."""

MINIMAL_ALLELES = "minimal"
"""Value of a store manifest's ``alleles`` key when its rows are keyed by minimal alleles
(`minimal_allele`): lookups then trim the queried allele the same way. Stores without the key
(every `compile_frequency` store) are looked up with the alleles as given."""

_MAX_FIELDS = re.compile(r"(popmax|grpmax|faf95|faf99|max_af|maxaf)", re.IGNORECASE)
_AF_LIKE = re.compile(r"(^|_)af($|_)|^af|af$|freq", re.IGNORECASE)
_COUNT_TOKENS = frozenset({"ac", "an", "nhomalt", "hom", "het", "hemi", "count", "n"})
_CHROM_NAMES = ("chrom", "#chrom", "chr", "chromosome", "contig")
_POS_NAMES = ("pos", "position", "start")


def population_frequency_fields(fields: tuple[HeaderField, ...]) -> tuple[str, ...]:
    """INFO keys of a population sites VCF to take the maximum of: popmax-like fields (and the
    global ``AF``) when present, else every float field that is an allele frequency."""
    floats = [f.id for f in fields if f.type == "Float" and _is_frequency_name(f.id)]
    preferred = [k for k in floats if _MAX_FIELDS.search(k)]
    if preferred:
        return tuple(dict.fromkeys([*preferred, *(k for k in floats if k == "AF")]))
    return tuple(floats)


def _is_frequency_name(name: str) -> bool:
    if not _AF_LIKE.search(name) and not _MAX_FIELDS.search(name):
        return False
    tokens = name.lower().split("_")
    return not (set(tokens) & _COUNT_TOKENS and not any("af" in t for t in tokens))


def minimal_allele(pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    """The allele with the bases REF and ALT share trimmed: the common suffix, then the common
    prefix (the position moves past it), each keeping at least one base; upper case. A split
    multi-allelic record (``GTT>GT``) and its biallelic form (``GT>G``) then have one key.
    No left-alignment (that needs the reference sequence)."""
    ref, alt = ref.upper(), alt.upper()
    while len(ref) > 1 and len(alt) > 1 and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    return pos, ref, alt


class FrequencyStore(StoreView):
    """A compiled frequency store, memory-mapped; `lookup` gives one frequency per allele."""

    KIND = FREQUENCY_STORE_KIND
    LABEL = "frequency"

    def __init__(self, store: KeyedStore) -> None:
        super().__init__(store)
        self._af = store.columns["af"]
        self._minimal = store.manifest.get("alleles") == MINIMAL_ALLELES

    def lookup(self, chrom: str, pos: int, ref: str, alt: str) -> float | None:
        """The allele's population frequency (0-1), or None when the file does not list it."""
        if self._minimal:
            pos, ref, alt = minimal_allele(pos, ref, alt)
        row = self._store.find(chrom, pos, ref, alt)
        if row is None:
            return None
        value = float(self._af[row])
        return None if math.isnan(value) else value


def compile_frequency(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    assembly: Assembly | str | None = None,
    fields: tuple[str, ...] | None = None,
) -> FrequencyStore:
    """Compile a sites VCF/BCF or a TSV of allele frequencies into a store at `out`.

    `fields` overrides which INFO keys (VCF) or columns (TSV) are read. A TSV needs `assembly`.
    """
    p = Path(path)
    name = p.name.lower()
    is_tsv = name.endswith((".tsv", ".tsv.gz", ".txt", ".txt.gz", ".tsv.bgz"))
    if is_tsv:
        if assembly is None:
            raise InputError(f"{p}: give the genome build of a frequency TSV (GRCh37 or GRCh38)")
        chosen = parse_assembly(assembly) if isinstance(assembly, str) else assembly
        builder = StoreBuilder(FREQUENCY_STORE_KIND, chosen, {"af": np.float32}, source=p.name)
        for chrom, pos, ref, alt, af in _read_tsv(p, fields):
            builder.add(chrom, pos, ref, alt, (af,))
        return FrequencyStore(builder.write(out))
    header = read_header(p, assembly)
    keys = fields or population_frequency_fields(header.info)
    if not keys:
        raise InputError(f"{p}: no allele-frequency INFO field in the header (give fields=…)")
    missing = [k for k in keys if header.info_field(k) is None]
    if missing:
        raise InputError(f"{p}: INFO fields not in the header", missing)
    builder = StoreBuilder(FREQUENCY_STORE_KIND, header.assembly, {"af": np.float32}, source=p.name)
    for allele, record in iter_alleles(header):
        best = math.nan
        for key in keys:
            value = record.INFO.get(key)
            if value is None:
                continue
            if isinstance(value, tuple):
                if len(value) < allele.alt_index:
                    continue
                value = value[allele.alt_index - 1]
            if isinstance(value, int | float) and not math.isnan(value):
                best = value if math.isnan(best) else max(best, float(value))
        if not math.isnan(best):
            builder.add(allele.chrom, allele.pos, allele.ref, allele.alt, (best,))
    return FrequencyStore(builder.write(out))


def _read_tsv(
    path: Path, fields: tuple[str, ...] | None
) -> Iterator[tuple[str, int, str, str, float]]:
    with path.open("rb") as probe:
        compressed = probe.read(2) == b"\x1f\x8b"
    try:
        with (
            gzip.open(path, "rt", encoding="utf-8") if compressed else path.open(encoding="utf-8")
        ) as stream:
            header: list[str] | None = None
            cols: tuple[int, int, int, int, list[int]] | None = None
            for number, line in enumerate(stream, start=1):
                line = line.rstrip("\n\r")
                if not line.strip():
                    continue
                parts = line.split("\t")
                if header is None:
                    header = [h.strip().lower() for h in parts]
                    cols = _tsv_columns(path, header, fields)
                    continue
                assert cols is not None
                ci, pi, ri, ai, fi = cols
                if len(parts) < len(header):
                    raise InputError(
                        f"{path}: line {number}: {len(parts)} columns, the header has {len(header)}"
                    )
                chrom = normalise_contig(parts[ci])
                if chrom is None:
                    continue
                try:
                    pos = int(parts[pi])
                    values = [_freq(parts[i]) for i in fi]
                except ValueError as exc:
                    raise InputError(f"{path}: line {number}: {exc}") from None
                known = [v for v in values if not math.isnan(v)]
                if pos < 1:
                    raise InputError(f"{path}: line {number}: position must be >= 1")
                if known:
                    yield chrom, pos, parts[ri].strip(), parts[ai].strip(), max(known)
            if header is None:
                raise InputError(f"{path}: empty file (no header row)")
    except (OSError, EOFError, UnicodeDecodeError, zlib_error) as exc:
        raise InputError(f"{path}: unreadable or truncated ({exc})") from None


def _freq(text: str) -> float:
    t = text.strip()
    if t in ("", ".", "NA", "nan"):
        return math.nan
    value = float(t)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"frequency {t} is not between 0 and 1")
    return value


def _tsv_columns(
    path: Path, header: list[str], fields: tuple[str, ...] | None
) -> tuple[int, int, int, int, list[int]]:
    def find(names: tuple[str, ...], label: str) -> int:
        for n in names:
            if n in header:
                return header.index(n)
        raise InputError(f"{path}: line 1: no {label} column (one of {', '.join(names)})")

    ci = find(_CHROM_NAMES, "chromosome")
    pi = find(_POS_NAMES, "position")
    ri = find(("ref",), "REF")
    ai = find(("alt",), "ALT")
    if fields:
        wanted = [f.lower() for f in fields]
        missing = [f for f in wanted if f not in header]
        if missing:
            raise InputError(f"{path}: line 1: columns not found", missing)
        fi = [header.index(f) for f in wanted]
    else:
        fi = [
            i
            for i, h in enumerate(header)
            if i not in (ci, pi, ri, ai) and (_is_frequency_name(h) or "popmax" in h)
        ]
    if not fi:
        raise InputError(f"{path}: line 1: no frequency column (a name with af, freq or popmax)")
    return ci, pi, ri, ai, fi
