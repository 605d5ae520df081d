"""The variant table: one row per (ALT allele, gene), columns in compact arrays.

Rows are appended while the VCF streams (tuples, packed into numpy every 65,536 rows: about
40 bytes a row plus 24 a sample) and frozen into read-only numpy arrays at the end. Strings
(alleles, id, transcript, HGVS) live in one byte blob with offsets. Per-sample columns are 2-D:
(samples, rows).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "REASON_CONSEQUENCE",
    "REASON_FREQUENCY",
    "REASON_QUALITY",
    "RowBuilder",
    "StringColumn",
    "VariantTable",
]

REASON_QUALITY = 1
REASON_FREQUENCY = 2
REASON_CONSEQUENCE = 4

MISSING_ALLELE = -1
"""GT allele written as ``.``."""
ABSENT_ALLELE = -2
"""Second allele of a haploid call."""
MISSING_INT = -1


class StringColumn:
    """Strings appended to one blob (in batches); `get(i)` decodes row i."""

    def __init__(self) -> None:
        self._blob = bytearray()
        self._ends = array("q")
        self.pending: list[str] = []

    def append(self, text: str) -> None:
        self.pending.append(text)

    def flush(self) -> None:
        if self.pending:
            encoded = [t.encode() for t in self.pending]
            ends = np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)))
            self._ends.extend((ends + len(self._blob)).tolist())
            self._blob += b"".join(encoded)
            self.pending = []

    def __len__(self) -> int:
        return len(self._ends) + len(self.pending)

    def get(self, i: int) -> str:
        self.flush()
        start = self._ends[i - 1] if i else 0
        return self._blob[start : self._ends[i]].decode()

    def get_many(self, rows: list[int]) -> list[str]:
        """`get(i)` for every i of `rows`, in one pass."""
        self.flush()
        blob, ends = self._blob, self._ends
        return [blob[(ends[i - 1] if i else 0) : ends[i]].decode() for i in rows]

    @property
    def nbytes(self) -> int:
        return len(self._blob) + 8 * len(self._ends)

    @classmethod
    def concat(cls, columns: list[StringColumn]) -> StringColumn:
        """One column holding the rows of `columns` in turn."""
        out = cls()
        for column in columns:
            column.flush()
            shift = len(out._blob)
            ends = np.frombuffer(column._ends, dtype=np.int64) + shift
            out._ends.extend(ends.tolist())
            out._blob += column._blob
        return out


_ROW_COLUMNS: tuple[tuple[str, str], ...] = (
    ("chrom", "b"),
    ("pos", "i"),
    ("alt_index", "b"),
    ("gene", "i"),
    ("reason", "B"),
    ("filter", "h"),
    ("qual", "f"),
    ("af", "f"),
    ("af_field", "h"),
    ("consequence", "h"),
    ("impact", "b"),
    ("cadd", "f"),
    ("revel", "f"),
    ("spliceai", "f"),
    ("alphamissense", "f"),
    ("clinvar", "b"),
    ("clinvar_stars", "b"),
    ("annotated", "b"),
)
_SAMPLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("a0", "b"),
    ("a1", "b"),
    ("phased", "b"),
    ("ps", "i"),
    ("gq", "f"),
    ("dp", "i"),
    ("ad_ref", "i"),
    ("ad_alt", "i"),
)
ROW_COLUMN_NAMES = tuple(n for n, _ in _ROW_COLUMNS)
SAMPLE_COLUMN_NAMES = tuple(n for n, _ in _SAMPLE_COLUMNS)


_CHUNK_ROWS = 65536
_NUMPY_CODES = {"b": "i1", "B": "u1", "h": "i2", "i": "i4", "f": "f4"}


class RowBuilder:
    """Rows appended as tuples (row columns in `ROW_COLUMN_NAMES` order, then the sample
    columns of each sample in turn), packed into numpy every 65,536 rows; `freeze()` gives a
    `VariantTable`."""

    def __init__(self, n_samples: int) -> None:
        self.n_samples = n_samples
        fields = [(name, _NUMPY_CODES[code]) for name, code in _ROW_COLUMNS]
        for k in range(n_samples):
            fields += [(f"{name}_{k}", _NUMPY_CODES[code]) for name, code in _SAMPLE_COLUMNS]
        self.dtype = np.dtype(fields)
        self.pending: list[tuple[Any, ...]] = []
        """Rows not yet packed: callers on a hot path append here and call `maybe_flush()`."""
        self._chunks: list[np.ndarray] = []
        self._count = 0
        self.text = StringColumn()  # "ref\talt\tid\ttranscript\thgvs_c\thgvs_p"

    def append(self, row: tuple[Any, ...]) -> None:
        self.pending.append(row)
        if len(self.pending) >= _CHUNK_ROWS:
            self._flush()

    def maybe_flush(self) -> None:
        if len(self.pending) >= _CHUNK_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self._count += len(self.pending)
            self._chunks.append(np.array(self.pending, dtype=self.dtype))
            self.pending = []
            self.text.flush()

    def __len__(self) -> int:
        return self._count + len(self.pending)

    def freeze(self) -> VariantTable:
        self._flush()
        self.text.flush()
        packed = np.concatenate(self._chunks) if self._chunks else np.zeros(0, self.dtype)
        self._chunks = []
        rows = {name: _frozen(packed[name]) for name, _ in _ROW_COLUMNS}
        samples = {}
        for name, code in _SAMPLE_COLUMNS:
            stacked = (
                np.stack([packed[f"{name}_{k}"] for k in range(self.n_samples)])
                if self.n_samples
                else np.zeros((0, len(packed)), dtype=_NUMPY_CODES[code])
            )
            samples[name] = _frozen(stacked)
        del packed
        return VariantTable(rows, samples, self.text)


def _frozen(a: np.ndarray) -> np.ndarray:
    out = np.ascontiguousarray(a)
    if out.base is not None:
        out = out.copy()
    out.flags.writeable = False
    return out


@dataclass(frozen=True, slots=True, eq=False)
class VariantTable:
    """Frozen rows: `rows[name]` 1-D and `samples[name]` 2-D (samples x rows) arrays."""

    rows: dict[str, np.ndarray]
    samples: dict[str, np.ndarray]
    text: StringColumn

    def __len__(self) -> int:
        return len(self.rows["pos"])

    @property
    def nbytes(self) -> int:
        arrays = sum(a.nbytes for a in self.rows.values())
        arrays += sum(a.nbytes for a in self.samples.values())
        return arrays + self.text.nbytes

    def recoded(self, **codes: list[int]) -> VariantTable:
        """This table with the row codes of the named columns renumbered (`codes[name][old]`
        is the new code; negative codes, meaning missing, stay)."""
        rows = dict(self.rows)
        for name, mapping in codes.items():
            column = rows[name]
            if not len(column):
                continue
            table = np.asarray([*mapping, 0], dtype=column.dtype)  # [-1] -> 0, masked below
            rows[name] = _frozen(np.where(column >= 0, table[column], column).astype(column.dtype))
        return VariantTable(rows, self.samples, self.text)

    @classmethod
    def concat(cls, tables: list[VariantTable]) -> VariantTable:
        """The rows of `tables` in turn (same samples)."""
        if len(tables) == 1:
            return tables[0]
        rows = {
            name: _frozen(np.concatenate([t.rows[name] for t in tables]))
            for name in ROW_COLUMN_NAMES
        }
        samples = {
            name: _frozen(np.concatenate([t.samples[name] for t in tables], axis=1))
            for name in SAMPLE_COLUMN_NAMES
        }
        return cls(rows, samples, StringColumn.concat([t.text for t in tables]))

    def copies(self) -> np.ndarray:
        """(samples x rows) int8: copies of the row's ALT allele in each sample's genotype."""
        alt = self.rows["alt_index"][None, :]
        a0, a1 = self.samples["a0"], self.samples["a1"]
        out: np.ndarray = (a0 == alt).astype(np.int8) + (a1 == alt).astype(np.int8)
        return out

    def called(self) -> np.ndarray:
        """(samples x rows) bool: the genotype has at least one called allele."""
        return (self.samples["a0"] >= 0) | (self.samples["a1"] >= 0)
