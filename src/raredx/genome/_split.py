"""Cutting a large bgzipped VCF into parts that separate processes read at the same time.

A bgzipped file is a chain of independent gzip blocks. `plan_parts` walks the block headers
(no decompression) and cuts the chain into parts of about equal compressed size; each part's
text then runs from just after the first newline of its first block to the first newline of
the next part's first block, so that every line belongs to exactly one part. `feed_part`
decompresses a part (prefixed by the file's header for the parts after the first) into a pipe,
where cyvcf2 reads it as an uncompressed VCF, and scans it for malformed numeric INFO values
on the way (`NumericInfoScanner`).

The feeders and readers only ever report success or failure: on any failure the caller reads
the file again in one pass, whose errors name the exact line.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from raredx.genome.vcf import NumericInfoScanner, VcfHeader

__all__ = [
    "FEED_BAD_NUMBER",
    "FEED_FAILED",
    "FEED_OK",
    "MIN_SPLIT_BYTES",
    "Part",
    "feed_part",
    "plan_parts",
    "widen_pipe",
    "worker_count",
]

MIN_SPLIT_BYTES = 24 << 20
"""Compressed size from which a file is read in parts by default (about 800,000 records)."""

FEED_OK, FEED_BAD_NUMBER, FEED_FAILED = 0, 3, 4
_MAX_PARTS = 4
_GZIP_HEAD = struct.Struct("<4BI2BH")  # magic 1f 8b, CM, FLG, MTIME, XFL, OS, XLEN
_CHUNK = 4 << 20


@dataclass(frozen=True, slots=True)
class Part:
    """Blocks [`start`, `stop`) (compressed offsets) of a bgzipped file; the first part holds the
    header, the others get `header` (the header's bytes) written before their lines."""

    index: int
    start: int
    stop: int
    first: bool
    last: bool


def worker_count(path: str) -> int:
    """How many processes should read `path`: ``RAREDX_GENOME_WORKERS`` when set (any size),
    else the usable cores (at most 4) for a file of at least `MIN_SPLIT_BYTES`, else 1."""
    forced = os.environ.get("RAREDX_GENOME_WORKERS", "").strip()
    if forced:
        try:
            return max(1, min(int(forced), 16))
        except ValueError:
            return 1
    try:
        size = os.path.getsize(path)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    except OSError:
        return 1
    return min(cores, _MAX_PARTS) if size >= MIN_SPLIT_BYTES else 1


def _block_offsets(stream: BinaryIO, size: int) -> list[int] | None:
    """Offsets of every BGZF block, None when the file is not a well-formed BGZF chain."""
    offsets: list[int] = []
    at = 0
    while at < size:
        stream.seek(at)
        head = stream.read(_GZIP_HEAD.size)
        if len(head) < _GZIP_HEAD.size:
            return None
        m1, m2, cm, flg, _, _, _, xlen = _GZIP_HEAD.unpack(head)
        if (m1, m2, cm) != (0x1F, 0x8B, 8) or not flg & 4:
            return None
        extra = stream.read(xlen)
        bsize = -1
        i = 0
        while i + 4 <= len(extra):
            sub_len = extra[i + 2] | extra[i + 3] << 8
            if extra[i : i + 2] == b"BC" and sub_len == 2 and i + 6 <= len(extra):
                bsize = extra[i + 4] | extra[i + 5] << 8
            i += 4 + sub_len
        if bsize < 0:
            return None
        offsets.append(at)
        at += bsize + 1
    return offsets if at == size else None


def plan_parts(header: VcfHeader, parts: int) -> list[Part] | None:
    """`parts` parts of about equal compressed size of a bgzipped text VCF, or None when it
    cannot (or need not) be split: BCF, not BGZF, too few blocks, a header spanning the cut."""
    if parts < 2 or header.is_bcf or header.compression != "bgzip":
        return None
    path = header.path
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as stream:
            offsets = _block_offsets(stream, size)
    except OSError:
        return None
    if offsets is None:
        return None
    # the header must end before the first cut: find the block in which it ends
    try:
        header_end_block = _header_end_block(path, offsets)
    except (OSError, zlib.error):
        return None
    if header_end_block is None:
        return None
    candidates = offsets[header_end_block + 1 :]
    cuts: list[int] = []
    for k in range(1, parts):
        target = size * k // parts
        best = min(candidates, key=lambda o: abs(o - target), default=None)
        if best is not None and best not in cuts and (not cuts or best > cuts[-1]):
            cuts.append(best)
    # the last block is the empty end-of-file block: never a cut
    cuts = [c for c in cuts if c < offsets[-1]]
    if not cuts:
        return None
    bounds = [0, *cuts, size]
    return [
        Part(i, bounds[i], bounds[i + 1], i == 0, i == len(bounds) - 2)
        for i in range(len(bounds) - 1)
    ]


def _inflate(block: bytes) -> bytes:
    return zlib.decompress(block, 31)


def _header_end_block(path: str, offsets: list[int]) -> int | None:
    """Index of the block holding the end of the header's ``#CHROM`` line (None: no body)."""
    text = b""
    with open(path, "rb") as stream:
        for k, start in enumerate(offsets):
            stop = offsets[k + 1] if k + 1 < len(offsets) else None
            stream.seek(start)
            text += _inflate(stream.read(stop - start) if stop is not None else stream.read())
            at = _chrom_line_end(text)
            if at is not None:
                return k
            if len(text) > 256 << 20:
                return None
    return None


def _chrom_line_end(text: bytes) -> int | None:
    """Offset just after the ``#CHROM`` line of `text`, None when not there (yet)."""
    i = 0 if text.startswith(b"#CHROM") else text.find(b"\n#CHROM")
    if i < 0:
        return None
    end = text.find(b"\n", i + 1)
    return None if end < 0 else end + 1


def header_bytes(path: str) -> bytes:
    """The file's header, as written, through the ``#CHROM`` line."""
    lines: list[bytes] = []
    with gzip.open(path, "rb") as stream:
        for line in stream:
            lines.append(line)
            if line.startswith(b"#CHROM"):
                return b"".join(lines)
    raise ValueError(f"{path}: no #CHROM line")


def widen_pipe(fd: int, size: int = 1 << 20) -> None:
    """Give the pipe `fd` a larger buffer where the system allows it (fewer context switches
    between a feeder and its reader)."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except (OSError, ImportError):
        pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _blocks(stream: BinaryIO, start: int, stop: int | None) -> tuple[list[bytes], int]:
    """(inflated blocks, compressed bytes they took) of the whole blocks at the start of
    [start, stop) (None: to the end of the file), at most a few MiB; ([], 0) at the end."""
    stream.seek(start)
    raw = stream.read(_CHUNK if stop is None else min(_CHUNK, stop - start))
    out: list[bytes] = []
    i = 0
    while i + _GZIP_HEAD.size <= len(raw):
        xlen = raw[i + 10] | raw[i + 11] << 8
        extra = raw[i + 12 : i + 12 + xlen]
        j, bsize = 0, -1
        while j + 4 <= len(extra):
            sub_len = extra[j + 2] | extra[j + 3] << 8
            if extra[j : j + 2] == b"BC" and sub_len == 2 and j + 6 <= len(extra):
                bsize = extra[j + 4] | extra[j + 5] << 8
            j += 4 + sub_len
        if bsize < 0:
            raise zlib.error("not a BGZF block")
        end = i + bsize + 1
        if end > len(raw):
            break
        out.append(_inflate(raw[i:end]))
        i = end
    if raw and not out:
        raise zlib.error("truncated BGZF block")
    return out, i


def feed_part(header: VcfHeader, part: Part, prefix: bytes, keys: list[str], fd: int) -> int:
    """Write the part's text (after `prefix`, the header, for parts after the first) to `fd`,
    scanning numeric INFO `keys`; returns `FEED_OK`, `FEED_BAD_NUMBER` or `FEED_FAILED`."""
    scanner = NumericInfoScanner(keys) if keys else None
    try:
        if prefix:
            _write_all(fd, prefix)
        pending = bytearray()
        skipping = not part.first  # the first line (or its tail) belongs to the previous part

        def emit(data: bytes, final: bool) -> bool:
            """Scan and write whole lines; False when a malformed number was found."""
            pending.extend(data)
            if len(pending) < _CHUNK and not final:
                return True
            cut = pending.rfind(b"\n") + 1 if not final else len(pending)
            block = bytes(pending[:cut])
            del pending[:cut]
            if scanner is not None and scanner.first_bad(block) is not None:
                return False
            _write_all(fd, block)
            return True

        with open(header.path, "rb") as stream:
            at = part.start
            while at < part.stop:
                blocks, consumed = _blocks(stream, at, part.stop)
                if not consumed:
                    return FEED_FAILED
                at += consumed
                for text in blocks:
                    if skipping:
                        nl = text.find(b"\n")
                        if nl < 0:
                            continue
                        text, skipping = text[nl + 1 :], False
                    if not emit(text, False):
                        return FEED_BAD_NUMBER
            # finish the last line, which runs into the next part's first block
            while not part.last and not skipping:
                blocks, consumed = _blocks(stream, at, None)
                done = False
                for text in blocks:
                    nl = text.find(b"\n")
                    if nl >= 0:
                        text, done = text[: nl + 1], True
                    if not emit(text, False):
                        return FEED_BAD_NUMBER
                    if done:
                        break
                if done or not consumed:
                    break
                at += consumed
            if not emit(b"", True):
                return FEED_BAD_NUMBER
    except BrokenPipeError:
        return FEED_FAILED
    except (OSError, zlib.error, ValueError):
        return FEED_FAILED
    return FEED_OK
