"""A compact allele-keyed store: sorted numpy columns, memory-mapped, written atomically.

Layout of a store folder: ``manifest.json`` (kind, build, source, version, columns, counts),
``offsets.npy`` (row range of each primary contig), ``keys.npy`` (int64: position << 32 | CRC-32
of ``REF>ALT``, sorted within each contig) and one ``<column>.npy`` per value column. Two
different alleles at one position share a key with probability 2**-32.
"""

from __future__ import annotations

import bisect
import json
import os
import zlib
from array import array
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from raredx._files import atomic_directory
from raredx.errors import InputError
from raredx.genome.vcf import PRIMARY_CONTIGS, Assembly, contig_index

__all__ = ["FORMAT_VERSION", "KeyedStore", "StoreBuilder", "StoreView", "allele_key"]

FORMAT_VERSION = 1
"""Bumped whenever the layout changes; older stores must be compiled again."""

_TYPECODES = {np.dtype(np.int8): "b", np.dtype(np.int32): "i", np.dtype(np.float32): "f"}
_CHUNK = 65536


def allele_key(pos: int, ref: str, alt: str) -> int:
    """The int64 key of an allele: position in the high bits, CRC-32 of ``REF>ALT`` below."""
    return (pos << 32) | zlib.crc32(f"{ref}>{alt}".encode())


class StoreBuilder:
    """Collects (allele, values) rows in compact arrays, then sorts and writes a store."""

    def __init__(
        self,
        kind: str,
        assembly: Assembly,
        columns: dict[str, type[np.generic]],
        *,
        source: str,
        version: str = "",
    ) -> None:
        self.kind = kind
        self.assembly = assembly
        self.source = source
        self.version = version
        self.dtypes = {name: np.dtype(t) for name, t in columns.items()}
        n = len(PRIMARY_CONTIGS)
        self._keys = [array("q") for _ in range(n)]
        self._cols: dict[str, list[array[Any]]] = {
            name: [array(_TYPECODES[dt]) for _ in range(n)] for name, dt in self.dtypes.items()
        }
        self._names = tuple(self.dtypes)

    def add(self, chrom: str, pos: int, ref: str, alt: str, values: tuple[float, ...]) -> None:
        c = contig_index(chrom)
        if c < 0:
            return
        self._keys[c].append(allele_key(pos, ref, alt))
        for name, value in zip(self._names, values, strict=True):
            self._cols[name][c].append(value)

    def write(self, out: str | os.PathLike[str]) -> KeyedStore:
        """Sort, write to a temporary folder beside `out`, then rename it into place."""
        target = Path(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() and not (target / "manifest.json").is_file():
            raise InputError(f"{target}: exists and is not a raredx store; choose another path")
        with atomic_directory(target) as tmp:
            offsets = np.zeros(len(PRIMARY_CONTIGS) + 1, dtype=np.int64)
            parts_keys = []
            parts_cols: dict[str, list[np.ndarray]] = {n: [] for n in self._names}
            for c, keys in enumerate(self._keys):
                k = np.frombuffer(keys, dtype=np.int64) if len(keys) else np.zeros(0, np.int64)
                order = np.argsort(k, kind="stable")
                k = k[order]
                # duplicate alleles: keep the first occurrence
                keep = np.ones(len(k), dtype=bool)
                keep[1:] = k[1:] != k[:-1]
                parts_keys.append(k[keep])
                for name in self._names:
                    col = np.frombuffer(self._cols[name][c], dtype=self.dtypes[name])
                    parts_cols[name].append(col[order][keep] if len(col) else col)
                offsets[c + 1] = offsets[c] + int(keep.sum())
            np.save(tmp / "offsets.npy", offsets)
            np.save(tmp / "keys.npy", np.concatenate(parts_keys))
            for name in self._names:
                np.save(
                    tmp / f"{name}.npy", np.concatenate(parts_cols[name]).astype(self.dtypes[name])
                )
            manifest = {
                "kind": self.kind,
                "format_version": FORMAT_VERSION,
                "assembly": str(self.assembly),
                "source": self.source,
                "version": self.version,
                "columns": {n: str(dt) for n, dt in self.dtypes.items()},
                "rows": int(offsets[-1]),
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        return KeyedStore.open(target)


class KeyedStore:
    """An opened store: memory-mapped columns and exact-allele lookups."""

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = path
        self.manifest = manifest
        self.kind = str(manifest["kind"])
        self.assembly = Assembly(manifest["assembly"])
        self.source = str(manifest.get("source", ""))
        self.version = str(manifest.get("version", ""))
        self.offsets = np.load(path / "offsets.npy")
        self.keys = np.load(path / "keys.npy", mmap_mode="r")
        self.columns = {
            name: np.load(path / f"{name}.npy", mmap_mode="r") for name in manifest["columns"]
        }
        self._chunk_contig = -1
        self._chunk_lo = 0
        self._chunk_keys: list[int] = []
        self._chunk_first = 0
        self._chunk_last = -1

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> KeyedStore:
        p = Path(path)
        manifest_path = p / "manifest.json"
        if not manifest_path.is_file():
            raise InputError(f"{p}: not a raredx store (no manifest.json); compile one first")
        try:
            manifest = json.loads(manifest_path.read_text())
        except (OSError, ValueError) as exc:
            raise InputError(f"{manifest_path}: unreadable manifest ({exc})") from None
        if manifest.get("format_version") != FORMAT_VERSION:
            raise InputError(
                f"{p}: store format {manifest.get('format_version')} is not the current "
                f"{FORMAT_VERSION}; compile it again"
            )
        try:
            return cls(p, manifest)
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"{p}: damaged store ({exc}); compile it again") from None

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def find(self, chrom: str, pos: int, ref: str, alt: str) -> int | None:
        """Row of this allele, or None. Fast for position-sorted queries (a cached window of
        keys is bisected in Python); any order works."""
        c = contig_index(chrom)
        if c < 0:
            return None
        key = allele_key(pos, ref, alt)
        outside = c != self._chunk_contig or not self._chunk_first <= key <= self._chunk_last
        if outside and not self._load_chunk(c, key):
            return None
        i = bisect.bisect_left(self._chunk_keys, key)
        if i < len(self._chunk_keys) and self._chunk_keys[i] == key:
            return self._chunk_lo + i
        return None

    def _load_chunk(self, c: int, key: int) -> bool:
        lo, hi = int(self.offsets[c]), int(self.offsets[c + 1])
        if lo == hi:
            self._chunk_contig, self._chunk_keys = c, []
            self._chunk_first, self._chunk_last = 1, 0
            return False
        start = lo + int(np.searchsorted(self.keys[lo:hi], key))
        start = max(lo, start - 1)
        end = min(hi, start + _CHUNK)
        self._chunk_contig = c
        self._chunk_lo = start
        self._chunk_keys = self.keys[start:end].tolist()
        # the window answers for keys between its first and last (exclusive of beyond)
        self._chunk_first = self._chunk_keys[0] if start > lo else -(1 << 62)
        self._chunk_last = self._chunk_keys[-1] if end < hi else (1 << 62)
        return True

    def values(self, row: int, names: tuple[str, ...]) -> tuple[Any, ...]:
        return tuple(self.columns[n][row].item() for n in names)


class StoreView:
    """Base of the typed views over a `KeyedStore` (ClinVar, frequencies): checks the store's
    kind and exposes its provenance. Subclasses set `KIND` and `LABEL`."""

    KIND: ClassVar[str] = ""
    LABEL: ClassVar[str] = ""

    def __init__(self, store: KeyedStore) -> None:
        if store.kind != self.KIND:
            raise InputError(f"{store.path}: a {store.kind} store, not a {self.LABEL} store")
        self._store = store

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Self:
        return cls(KeyedStore.open(path))

    @property
    def assembly(self) -> Assembly:
        return self._store.assembly

    @property
    def source(self) -> str:
        return self._store.source

    @property
    def version(self) -> str:
        return self._store.version

    def __len__(self) -> int:
        return len(self._store)
