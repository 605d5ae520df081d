"""The typed edge over cyvcf2 (which ships no type information): nothing untyped leaks past it.

Only the attributes raredx reads are declared. htslib writes its diagnostics to file
descriptor 2; `capture_htslib_messages` collects them so that errors can quote them.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, cast

import numpy as np

__all__ = [
    "CyInfo",
    "CyReader",
    "CyVariant",
    "HtslibMessages",
    "capture_htslib_messages",
    "open_reader",
]


class CyInfo(Protocol):
    """The INFO column of one record."""

    def get(self, key: str) -> object: ...


class CyVariant(Protocol):
    """One VCF/BCF record as cyvcf2 exposes it."""

    CHROM: str
    POS: int
    ID: str | None
    REF: str
    ALT: list[str]
    QUAL: float | None
    FILTER: str | None
    INFO: CyInfo
    genotypes: list[list[int | bool]]

    def format(self, field: str) -> np.ndarray | None: ...


class CyReader(Protocol):
    """An open VCF/BCF file."""

    samples: list[str]
    raw_header: str

    def __iter__(self) -> Iterator[CyVariant]: ...

    def __next__(self) -> CyVariant: ...

    def close(self) -> None: ...


def open_reader(
    path: str, samples: list[str] | None = None, threads: int | None = None
) -> CyReader:
    """Open `path` with cyvcf2, restricted to `samples` (None: all), decompressing on
    `threads` extra threads. Raises whatever cyvcf2 raises (callers translate it)."""
    import cyvcf2  # type: ignore[import-untyped]

    reader = cyvcf2.VCF(path, samples=samples, threads=threads, strict_gt=False)
    return cast(CyReader, reader)


class HtslibMessages:
    """Lines htslib wrote to file descriptor 2 while a `capture_htslib_messages` block ran."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._final: list[str] | None = None

    def lines(self) -> list[str]:
        """Every line written so far (at most the first MiB)."""
        if self._final is not None:
            return list(self._final)
        sys.stderr.flush()
        size = os.fstat(self._fd).st_size
        text = os.pread(self._fd, min(size, 1 << 20), 0).decode("utf-8", "replace")
        return [line.strip() for line in text.splitlines() if line.strip()]

    def _close(self) -> None:
        self._final = self.lines()


@contextmanager
def capture_htslib_messages() -> Iterator[HtslibMessages]:
    """Redirect file descriptor 2 to a temporary file for the duration of the block.

    htslib reports parse errors and truncation there (``[E::…]``, ``[W::…]``); the yielded
    object reads them back so that raredx's own error can quote them. Process-wide while
    active: raredx reads a VCF in one thread and prints nothing meanwhile.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        messages = HtslibMessages(tmp.fileno())
        os.dup2(tmp.fileno(), 2)
        try:
            yield messages
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            messages._close()
