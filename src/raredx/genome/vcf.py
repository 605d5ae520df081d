"""Streaming VCF/BCF reading over cyvcf2: header, genome build, contig names, clear errors.

A VCF is read once, record by record; nothing is held but the current record. Errors name the
file and the line (for BCF, the record number) and quote htslib's own diagnosis:

>>> read_header("missing.vcf")  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
raredx.errors.InputError: missing.vcf: no such file

Contigs are normalised to ``1``…``22``, ``X``, ``Y``, ``MT`` whether the file writes ``chr1`` or
``1`` (``chrM``/``M`` become ``MT``); other contigs (alternate haplotypes, decoys, patches) are
counted and skipped. The build is GRCh37 or GRCh38, read from the header's contig lengths, else
from its reference/assembly lines, else given; a contradiction between them is an error.
"""

from __future__ import annotations

import gzip
import os
import re
import threading
import zlib
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType

from raredx.errors import InputError
from raredx.genome._cyvcf2 import (
    CyReader,
    CyVariant,
    HtslibMessages,
    capture_htslib_messages,
    open_reader,
)

__all__ = [
    "CONTIG_LENGTHS",
    "PAR_REGIONS",
    "PRIMARY_CONTIGS",
    "Assembly",
    "HeaderField",
    "NumericInfoScanner",
    "SiteAllele",
    "VcfHeader",
    "VcfStream",
    "check_numeric_info",
    "contig_index",
    "in_par",
    "iter_alleles",
    "normalise_contig",
    "parse_assembly",
    "read_header",
]


class Assembly(StrEnum):
    """Human reference genome builds raredx reads."""

    GRCH37 = "GRCh37"
    GRCH38 = "GRCh38"


PRIMARY_CONTIGS: tuple[str, ...] = (*(str(i) for i in range(1, 23)), "X", "Y", "MT")
"""The contigs raredx analyses, in order; their index is the contig code used in arrays."""

_CONTIG_INDEX = {c: i for i, c in enumerate(PRIMARY_CONTIGS)}

CONTIG_LENGTHS: dict[Assembly, tuple[int, ...]] = {
    Assembly.GRCH37: (
        249250621,
        243199373,
        198022430,
        191154276,
        180915260,
        171115067,
        159138663,
        146364022,
        141213431,
        135534747,
        135006516,
        133851895,
        115169878,
        107349540,
        102531392,
        90354753,
        81195210,
        78077248,
        59128983,
        63025520,
        48129895,
        51304566,
        155270560,
        59373566,
        16569,
    ),
    Assembly.GRCH38: (
        248956422,
        242193529,
        198295559,
        190214555,
        181538259,
        170805979,
        159345973,
        145138636,
        138394717,
        133797422,
        135086622,
        133275309,
        114364328,
        107043718,
        101991189,
        90338345,
        83257441,
        80373285,
        58617616,
        64444167,
        46709983,
        50818468,
        156040895,
        57227415,
        16569,
    ),
}
"""Lengths of `PRIMARY_CONTIGS` in each build (GRC assembly reports; MT is the rCRS)."""

_HG19_CHRM = 16571  # UCSC hg19's chrM (Yoruba sequence): a GRCh37-era header

PAR_REGIONS: dict[Assembly, tuple[tuple[int, int], ...]] = {
    Assembly.GRCH37: ((60001, 2699520), (154931044, 155260560)),
    Assembly.GRCH38: ((10001, 2781479), (155701383, 156030895)),
}
"""Pseudo-autosomal regions of chromosome X (1-based, inclusive), inherited like autosomes."""

_ASSEMBLY_NAMES = {
    "grch37": Assembly.GRCH37,
    "hg19": Assembly.GRCH37,
    "b37": Assembly.GRCH37,
    "hs37d5": Assembly.GRCH37,
    "37": Assembly.GRCH37,
    "grch38": Assembly.GRCH38,
    "hg38": Assembly.GRCH38,
    "b38": Assembly.GRCH38,
    "hs38": Assembly.GRCH38,
    "hs38dh": Assembly.GRCH38,
    "38": Assembly.GRCH38,
}
_ASSEMBLY_TOKEN = re.compile(
    r"(?<![A-Za-z0-9])(grch37|hg19|b37|hs37d5|g1k_v37|grch38|hg38|b38|hs38(?:dh)?)(?![0-9])",
    re.IGNORECASE,
)
_GZIP_MAGIC = b"\x1f\x8b"
_MAX_HEADER_BYTES = 256 * 1024 * 1024


def parse_assembly(text: str) -> Assembly:
    """The build named by `text`: GRCh37/hg19/b37/hs37d5 or GRCh38/hg38 (any case, with or
    without a patch suffix such as ``GRCh38.p14``)."""
    key = text.strip().lower().split(".", 1)[0]
    if key.startswith("g1k_v37") or key.startswith("human_g1k_v37"):
        return Assembly.GRCH37
    found = _ASSEMBLY_NAMES.get(key)
    if found is None:
        raise InputError(f"unknown genome build {text!r}: use GRCh37 (hg19) or GRCh38 (hg38)")
    return found


def normalise_contig(name: str) -> str | None:
    """``chr1``/``1`` -> ``1``, ``chrX`` -> ``X``, ``chrM``/``M``/``MT`` -> ``MT``; None for
    contigs outside `PRIMARY_CONTIGS` (alternate haplotypes, decoys, unplaced scaffolds).

    >>> normalise_contig("chr7"), normalise_contig("M"), normalise_contig("chr1_KI270706v1_random")
    ('7', 'MT', None)
    """
    n = name.strip()
    if n[:3].lower() == "chr":
        n = n[3:]
    n = n.upper()
    if n in ("M", "MT"):
        return "MT"
    if n == "23":
        return "X"
    if n == "24":
        return "Y"
    if n.isdigit() and n.startswith("0"):
        n = n.lstrip("0")
    return n if n in _CONTIG_INDEX else None


def contig_index(name: str) -> int:
    """Index in `PRIMARY_CONTIGS` of a normalised contig name, -1 if not primary."""
    return _CONTIG_INDEX.get(name, -1)


def in_par(assembly: Assembly, pos: int) -> bool:
    """True when X:`pos` lies in a pseudo-autosomal region."""
    return any(start <= pos <= end for start, end in PAR_REGIONS[assembly])


@dataclass(frozen=True, slots=True)
class HeaderField:
    """One ``##INFO`` or ``##FORMAT`` definition."""

    id: str
    number: str
    type: str
    description: str


@dataclass(frozen=True, slots=True)
class VcfHeader:
    """What a VCF/BCF header says, checked: samples, contigs, fields, genome build.

    `assembly_source` says how the build was decided: ``contig lengths``, ``header`` (a
    reference or assembly line), or ``given``. `header_lines` counts the header's lines, so that
    record n (1-based) is on line ``header_lines + n`` of a text VCF.
    """

    path: str
    file_format: str
    compression: str
    samples: tuple[str, ...]
    contigs: tuple[tuple[str, int | None], ...]
    info: tuple[HeaderField, ...]
    formats: tuple[HeaderField, ...]
    filters: tuple[str, ...]
    assembly: Assembly
    assembly_source: str
    chr_prefix: bool
    header_lines: int
    raw_lines: tuple[str, ...]

    def info_field(self, key: str) -> HeaderField | None:
        return next((f for f in self.info if f.id == key), None)

    def format_field(self, key: str) -> HeaderField | None:
        return next((f for f in self.formats if f.id == key), None)

    @property
    def is_bcf(self) -> bool:
        return self.file_format == "BCF"


def _sniff(path: Path) -> tuple[str, str]:
    """(file format VCF/BCF, compression none/gzip/bgzip) from the first bytes."""
    with path.open("rb") as stream:
        head = stream.read(65536)
    if not head:
        raise InputError(f"{path}: empty file (no VCF header)")
    if head[:2] == _GZIP_MAGIC:
        bgzf = len(head) >= 16 and head[3] & 4 and head[12:14] == b"BC"
        compression = "bgzip" if bgzf else "gzip"
        try:
            text = zlib.decompressobj(wbits=31).decompress(head, 8)
        except zlib.error as exc:
            raise InputError(
                f"{path}: corrupt gzip data at the start of the file ({exc})"
            ) from None
        if not text:
            raise InputError(f"{path}: empty or corrupt compressed file (no VCF header)")
    else:
        compression, text = "none", head[:8]
    if text.startswith(b"BCF"):
        return "BCF", compression
    if not text.startswith(b"##"):
        raise InputError(
            f"{path}: not a VCF: the file must start with the '##fileformat=VCFv4.x' header line"
        )
    return "VCF", compression


_META = re.compile(r"^##(INFO|FORMAT|FILTER|contig)=<(.*)>\s*$")


def _meta_fields(body: str) -> dict[str, str]:
    """Parse ``ID=AF,Number=A,Description="a, b"`` (quoted values may hold commas)."""
    out: dict[str, str] = {}
    i, n = 0, len(body)
    while i < n:
        eq = body.find("=", i)
        if eq < 0:
            break
        key = body[i:eq].strip()
        j = eq + 1
        if j < n and body[j] == '"':
            k = j + 1
            buf = []
            while k < n and body[k] != '"':
                if body[k] == "\\" and k + 1 < n:
                    k += 1
                buf.append(body[k])
                k += 1
            out[key] = "".join(buf)
            i = body.find(",", k)
        else:
            k = body.find(",", j)
            out[key] = body[j : (k if k >= 0 else n)]
            i = k
        if i < 0:
            break
        i += 1
    return out


def _detect_assembly(
    contigs: Sequence[tuple[str, int | None]], lines: Sequence[str]
) -> tuple[Assembly | None, str, list[str]]:
    """(build, how, contradictions) from contig lengths, then reference/assembly lines."""
    votes: dict[Assembly, list[str]] = {a: [] for a in Assembly}
    for name, length in contigs:
        norm = normalise_contig(name)
        if norm is None or length is None:
            continue
        idx = _CONTIG_INDEX[norm]
        if norm == "MT":
            if length == _HG19_CHRM:
                votes[Assembly.GRCH37].append(name)
            continue
        for assembly, lengths in CONTIG_LENGTHS.items():
            if lengths[idx] == length:
                votes[assembly].append(f"{name} ({length:,} bp)")
    matched = [a for a in Assembly if votes[a]]
    if len(matched) == 2:
        detail = [f"{a}: {', '.join(votes[a][:4])}" for a in Assembly]
        return None, "contig lengths", detail
    if matched:
        return matched[0], "contig lengths", []
    header_votes: set[Assembly] = set()
    for line in lines:
        if line.startswith(("##reference", "##assembly", "##contig", "##VEP", "##genome")):
            for token in _ASSEMBLY_TOKEN.findall(line):
                header_votes.add(parse_assembly(token))
    if len(header_votes) == 1:
        return header_votes.pop(), "header", []
    return None, "", []


def read_header(path: str | os.PathLike[str], assembly: Assembly | str | None = None) -> VcfHeader:
    """Open `path` (VCF or BCF, plain, gzip or bgzip), read and check its header.

    `assembly` (if given) must agree with what the header says; when the header says nothing
    it is required. Raises `InputError` for a missing or empty file, a file that is not a VCF,
    a header without its ``#CHROM`` line, duplicate samples, or contigs of another build.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir():
        raise InputError(f"{p}: is a folder, not a VCF file")
    file_format, compression = _sniff(p)
    given = parse_assembly(assembly) if isinstance(assembly, str) else assembly
    with capture_htslib_messages() as messages:
        try:
            reader = open_reader(str(p))
        except Exception as exc:  # cyvcf2 raises bare OSError/Exception
            raise _open_error(p, exc, messages) from None
        try:
            raw = reader.raw_header
            samples = tuple(reader.samples)
        finally:
            reader.close()
    for line in messages.lines():
        if "EOF marker is absent" in line:
            raise InputError(f"{p}: the file is truncated (its BGZF end-of-file marker is missing)")
    if len(raw) > _MAX_HEADER_BYTES:
        raise InputError(f"{p}: the header is larger than {_MAX_HEADER_BYTES >> 20} MiB")
    lines = raw.splitlines()
    if not lines or not lines[-1].startswith("#CHROM"):
        raise InputError(f"{p}: the header has no '#CHROM POS ID REF ALT…' line")
    columns = lines[-1].lstrip("#").split("\t")
    expected = ["CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]
    if columns[:8] != expected:
        raise InputError(
            f"{p}: line {len(lines)}: the column header must start with "
            f"{' '.join(expected)} separated by tabs; found {' '.join(columns[:8])!r}"
        )
    if len(columns) > 8 and columns[8] != "FORMAT":
        raise InputError(f"{p}: line {len(lines)}: column 9 must be FORMAT, not {columns[8]!r}")
    duplicates = sorted({s for s in samples if samples.count(s) > 1})
    if duplicates:
        raise InputError(f"{p}: samples named twice in the header", duplicates)
    info: list[HeaderField] = []
    formats: list[HeaderField] = []
    filters: list[str] = []
    contigs: list[tuple[str, int | None]] = []
    for line in lines:
        m = _META.match(line)
        if not m:
            continue
        kind, fields = m.group(1), _meta_fields(m.group(2))
        ident = fields.get("ID", "")
        if kind == "contig":
            length = fields.get("length", "")
            contigs.append((ident, int(length) if length.isdigit() else None))
        elif kind == "FILTER":
            filters.append(ident)
        else:
            field = HeaderField(
                ident,
                fields.get("Number", "."),
                fields.get("Type", "String"),
                fields.get("Description", ""),
            )
            (info if kind == "INFO" else formats).append(field)
    detected, how, clash = _detect_assembly(contigs, lines)
    if clash:
        raise InputError(f"{p}: the header mixes contigs of two genome builds", clash)
    if given is not None and detected is not None and given is not detected:
        raise InputError(
            f"{p}: contigs of another build: the header's {how} are {detected}, "
            f"but {given} was given"
        )
    chosen = given or detected
    if chosen is None:
        raise InputError(
            f"{p}: cannot tell the genome build (no contig lengths or reference in the header):"
            " give it (GRCh37 or GRCh38)"
        )
    source = how if detected is not None else "given"
    header_lines = _count_header_lines(p, compression) if file_format == "VCF" else len(lines)
    primary = [n for n, _ in contigs if normalise_contig(n) is not None]
    chr_prefix = bool(primary) and all(n.lower().startswith("chr") for n in primary)
    return VcfHeader(
        path=str(p),
        file_format=file_format,
        compression=compression,
        samples=samples,
        contigs=tuple(contigs),
        info=tuple(info),
        formats=tuple(formats),
        filters=tuple(filters),
        assembly=chosen,
        assembly_source=source,
        chr_prefix=chr_prefix,
        header_lines=header_lines,
        raw_lines=tuple(lines),
    )


_BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def _has_bgzf_eof(path: str) -> bool:
    try:
        with open(path, "rb") as stream:
            stream.seek(-len(_BGZF_EOF), os.SEEK_END)
            return stream.read() == _BGZF_EOF
    except OSError:
        return False


def _count_header_lines(path: Path, compression: str) -> int:
    """Lines of a text VCF's header as written (htslib adds lines to the header it returns)."""
    opener = gzip.open if compression != "none" else open
    count = 0
    try:
        with opener(path, "rb") as stream:
            for line in stream:
                if not line.startswith(b"#"):
                    break
                count += 1
    except (OSError, EOFError, zlib.error):
        pass
    return count


def _htslib_detail(messages: HtslibMessages) -> str:
    found = [m for m in messages.lines() if m.startswith("[E::") or "truncated" in m]
    if not found:
        return ""
    text = re.sub(r"^\[[EW]::[A-Za-z0-9_]+\]\s*", "", found[-1])
    return f" ({text})"


def _open_error(path: Path, exc: Exception, messages: HtslibMessages) -> InputError:
    detail = _htslib_detail(messages)
    return InputError(f"{path}: not a readable VCF/BCF file{detail or f' ({exc})'}")


class VcfStream:
    """Records of a VCF/BCF, one at a time, with the line being read and errors that name it.

    Use as a context manager (it captures htslib's diagnostics meanwhile)::

        with VcfStream(header, samples=["child"]) as stream:
            for record in stream:
                ...
                raise stream.fail("what is wrong")  # an InputError naming the line

    `samples` restricts (and orders as in the file) the genotype columns decoded. Iteration ends
    with an error, never silently, when the file is truncated or a record cannot be parsed.
    """

    def __init__(
        self, header: VcfHeader, samples: Sequence[str] | None = None, threads: int | None = None
    ) -> None:
        self.header = header
        self.samples = list(samples) if samples is not None else list(header.samples)
        self.threads = threads
        self.records = 0
        self._reader: CyReader | None = None
        self._messages: HtslibMessages | None = None
        self._stack = ExitStack()

    # ------------------------------------------------------------------ context
    def __enter__(self) -> VcfStream:
        self._messages = self._stack.enter_context(capture_htslib_messages())
        try:
            self._reader = open_reader(
                self.header.path,
                samples=self.samples if self.samples != list(self.header.samples) else None,
                threads=self.threads,
            )
        except Exception as exc:
            messages = self._messages
            self._close()
            assert messages is not None
            raise _open_error(Path(self.header.path), exc, messages) from None
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._close()

    def _close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self._stack.close()

    # ------------------------------------------------------------------ iteration
    @property
    def reader(self) -> CyReader:
        """The open cyvcf2 reader, for callers that iterate it themselves (fast path): they
        keep `records` up to date and turn exceptions into `parse_error()`."""
        if self._reader is None:
            raise RuntimeError("VcfStream must be entered (with ...) before reading")
        return self._reader

    def parse_error(self) -> InputError:
        """The error for a record (number `records`) cyvcf2 could not parse."""
        return self._error("the record cannot be parsed")

    def __iter__(self) -> Iterator[CyVariant]:
        reader = self._reader
        if reader is None:
            raise RuntimeError("VcfStream must be entered (with ...) before iterating")
        while True:
            try:
                record = next(reader)
            except StopIteration:
                break
            except Exception:
                self.records += 1
                raise self._error("the record cannot be parsed") from None
            self.records += 1
            yield record
        self.check_end()

    def check_end(self) -> None:
        """Raise if htslib reported the file truncated (no BGZF end-of-file marker)."""
        assert self._messages is not None
        for line in self._messages.lines():
            if "EOF marker is absent" in line or "truncated" in line.lower():
                raise InputError(
                    f"{self.header.path}: the file is truncated after "
                    f"{self.where()} (no end-of-file marker)"
                )

    def where(self) -> str:
        """``line N`` (text VCF) or ``record N`` (BCF) of the record just read."""
        if self.header.is_bcf:
            return f"record {self.records}"
        return f"line {self.header.header_lines + self.records}"

    def _error(self, message: str) -> InputError:
        detail = _htslib_detail(self._messages) if self._messages is not None else ""
        truncated = "truncated" in detail.lower() or "inflate" in detail.lower()
        if truncated or "BGZF" in detail or "gzip" in detail.lower():
            message = "the compressed file is truncated or corrupt"
        elif self.header.compression == "bgzip" and not _has_bgzf_eof(self.header.path):
            # htslib's worker threads may report after the failure: the missing end-of-file
            # block tells the story on its own
            message = "the compressed file is truncated or corrupt (no BGZF end-of-file marker)"
        return InputError(f"{self.header.path}: {self.where()}: {message}{detail}")

    def fail(self, message: str) -> InputError:
        """An InputError naming the current line (raise it)."""
        return InputError(f"{self.header.path}: {self.where()}: {message}")


_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?i:inf|nan)"
_SCAN_CHUNK = 1 << 22


class NumericInfoScanner:
    """Finds INFO values of `keys` (declared numbers) that are not numbers in blocks of whole
    lines of VCF text (see `check_numeric_info`)."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = list(keys)
        self._value_ok = re.compile(rf"(?:\.|{_NUM})(?:,(?:\.|{_NUM}))*".encode())
        # candidates: a value holding a character no number has (a C-speed literal scan per key)
        self._suspects = [
            re.compile(re.escape(k.encode()) + rb"=([^;\t\n]*[^-+0-9eE.,;\t\nInfaINFA][^;\t\n]*)")
            for k in self.keys
        ]

    def first_bad(self, block: bytes) -> tuple[int, str, bytes] | None:
        """(offset in `block`, key, value) of the first malformed value, None if none."""
        first: tuple[int, str, bytes] | None = None
        for key, suspect in zip(self.keys, self._suspects, strict=True):
            for found in suspect.finditer(block):
                start = found.start()
                if start == 0 or block[start - 1 : start] not in (b";", b"\t"):
                    continue  # a longer key ending with this one
                if self._value_ok.fullmatch(found.group(1)):
                    continue  # inf/nan spelled out
                if first is None or start < first[0]:
                    first = (start, key, found.group(1))
                break
        return first


def check_numeric_info(
    header: VcfHeader, keys: Sequence[str], stop: threading.Event | None = None
) -> None:
    """Raise InputError naming the line of the first value of INFO `keys` (declared Float or
    Integer) that is not a number.

    htslib reads such a value as missing without a word, which would make a common allele look
    unknown (so rare); a single C-speed scan of the text (not needed for BCF, which stores
    numbers) closes that gap.
    """
    if header.is_bcf or not keys:
        return
    scanner = NumericInfoScanner(keys)
    opener = gzip.open if header.compression != "none" else open
    line = 0
    tail = b""
    with opener(header.path, "rb") as stream:
        while stop is None or not stop.is_set():
            chunk = stream.read(_SCAN_CHUNK)
            data = tail + chunk
            cut = data.rfind(b"\n") + 1 if chunk else len(data)
            block, tail = data[:cut], data[cut:]
            first = scanner.first_bad(block)
            if first is not None:
                start, key, value = first
                at = line + block.count(b"\n", 0, start) + 1
                raise InputError(
                    f"{header.path}: line {at}: malformed INFO/{key}="
                    f"{value.decode('utf-8', 'replace')!r}: not a number"
                )
            line += block.count(b"\n")
            if not chunk:
                return


@dataclass(frozen=True, slots=True)
class SiteAllele:
    """One ALT allele of one record (multi-allelic records are split): 1-based `pos`,
    normalised `chrom`, `alt_index` (1 for the first ALT), the record's FILTER (None = PASS)."""

    chrom: str
    pos: int
    ref: str
    alt: str
    alt_index: int
    id: str | None
    qual: float | None
    filter: str | None
    line: str


def iter_alleles(
    header: VcfHeader, *, threads: int | None = None, samples: Sequence[str] = ()
) -> Iterator[tuple[SiteAllele, CyVariant]]:
    """Every (ALT allele, its record) of primary contigs, multi-allelic records split; symbolic
    (``<DEL>``), spanning-deletion (``*``) and missing (``.``) ALT alleles are skipped."""
    lengths = CONTIG_LENGTHS[header.assembly]
    cache: dict[str, str | None] = {}
    with VcfStream(header, samples=list(samples) or None, threads=threads) as stream:
        for record in stream:
            raw = record.CHROM
            chrom = cache.get(raw, "")
            if chrom == "":
                chrom = cache[raw] = normalise_contig(raw)
            if chrom is None:
                continue
            pos = record.POS
            if pos > lengths[_CONTIG_INDEX[chrom]]:
                raise stream.fail(_beyond_message(header, raw, pos))
            for i, alt in enumerate(record.ALT, start=1):
                if not alt or alt == "*" or alt == "." or alt[0] == "<":
                    continue
                yield (
                    SiteAllele(
                        chrom,
                        pos,
                        record.REF,
                        alt,
                        i,
                        record.ID,
                        record.QUAL,
                        record.FILTER,
                        stream.where(),
                    ),
                    record,
                )


def _beyond_message(header: VcfHeader, raw: str, pos: int) -> str:
    norm = normalise_contig(raw)
    assert norm is not None
    length = CONTIG_LENGTHS[header.assembly][_CONTIG_INDEX[norm]]
    other = next(a for a in Assembly if a is not header.assembly)
    return (
        f"position {raw}:{pos:,} lies beyond the end of chromosome {norm} in "
        f"{header.assembly} ({length:,} bp): contigs of another build ({other}?)"
    )
