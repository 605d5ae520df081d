"""What a batch runs: one `BatchItem` per case, planned by the client without parsing.

Parsing and checking a phenopacket costs about as much as ranking it (~10 ms), so the client
only finds the cases (files, folders, JSON Lines, the store), reads their bytes and peeks at
their id; the workers do the rest. Items are named and ordered exactly as
`raredx.case.read_cases` orders them, and get the file stems `raredx diagnose --out` gives them
(the file name without its suffix; for a JSON Lines line or a stored case, the case id; clashes
get ``_2``, ``_3``...).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from raredx.case.phenopacket import (
    _GZIP_MAGIC,
    CASE_FILE_SUFFIXES,
    MAX_INPUT_BYTES,
    _is_case_file,
    _is_jsonl,
    _lines,
    _os_reason,
    _read_file_bytes,
    _Stream,
)
from raredx.errors import InputError

__all__ = ["VCF_WEIGHT", "BatchItem", "chunks", "peek_case", "plan_items", "store_items"]

VCF_WEIGHT = 50
"""How many phenotype-only cases one case with a VCF weighs when cases are grouped into tasks
(reading an exome takes about as long as ranking 50 phenotypes)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One case to run (or an input that could not even be read: `error`).

    `source` names it as `read_cases` does (``file``, ``file:line``; ``store:ID`` for a stored
    case); `stem` is its output file stem; `data` the phenopacket JSON (None for a stored case,
    read by the worker); `base` the (absolute) folder its relative VCF paths start from, so
    that workers need not share the client's working folder; `digest` what
    the input was (a rerun skips the case only when it is unchanged); `weight` its expected
    cost (`VCF_WEIGHT` when it names a VCF)."""

    index: int
    source: str
    stem: str
    case_id: str | None
    data: bytes | None
    base: str
    digest: str
    weight: int = 1
    error: str | None = None


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("._") or "case"


def peek_case(data: bytes) -> tuple[str | None, bool]:
    """(case id, names a file) of phenopacket JSON, without checking it; (None, False) when it
    is not a JSON object."""
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None, False
    if not isinstance(obj, Mapping):
        return None, False
    files: list[Any] = list(obj.get("files") or ())
    if "proband" in obj:
        proband = obj.get("proband")
        proband = proband if isinstance(proband, Mapping) else {}
        files += list(proband.get("files") or ())
        case_id = proband.get("id") or obj.get("id")
    else:
        case_id = obj.get("id")
    if not isinstance(case_id, str) or not case_id.strip():
        return None, bool(files)
    return case_id.strip(), bool(files)


class _Planner:
    def __init__(self) -> None:
        self.items: list[BatchItem] = []
        self.used: set[str] = set()

    def stem(self, base: str) -> str:
        stem, k = base, 2
        while stem in self.used:
            stem, k = f"{base}_{k}", k + 1
        self.used.add(stem)
        return stem

    def error(self, source: str, message: str) -> None:
        name = _safe(Path(source.rsplit(":", 1)[0]).name + "-" + source.rsplit(":", 1)[-1])
        self.items.append(BatchItem(len(self.items), source, name, None, None, "", "", 1, message))

    def case(self, source: str, data: bytes, base: str, *, file_stem: str | None) -> None:
        case_id, names_file = peek_case(data)
        if file_stem is not None:
            stem = self.stem(file_stem)
        elif case_id is not None:
            stem = self.stem(_safe(case_id))
        else:  # the worker will report why the line is not a phenopacket
            stem = _safe(Path(source.rsplit(":", 1)[0]).name + "-" + source.rsplit(":", 1)[-1])
        self.items.append(
            BatchItem(
                len(self.items),
                source,
                stem,
                case_id,
                data,
                base,
                hashlib.sha256(data).hexdigest(),
                VCF_WEIGHT if names_file else 1,
            )
        )


def _file_stem(path: Path) -> str:
    name = path.name
    lowered = name.lower()
    for suffix in sorted(CASE_FILE_SUFFIXES, key=len, reverse=True):
        if lowered.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return _safe(name)


def _jsonl(planner: _Planner, path: Path) -> None:
    source = str(path)
    if not path.exists():
        planner.error(source, f"{path}: no such file")
        return
    number = 0
    base = os.path.abspath(path.parent)
    try:
        with contextlib.ExitStack() as stack:
            raw = stack.enter_context(path.open("rb"))
            gzipped = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            stream: _Stream = stack.enter_context(gzip.GzipFile(fileobj=raw)) if gzipped else raw
            for number, line in _lines(stream):
                where = f"{source}:{number}"
                if line is None:
                    planner.error(where, f"{where}: line longer than {MAX_INPUT_BYTES} bytes")
                elif line.strip():
                    planner.case(where, line, base, file_stem=None)
    except (OSError, EOFError, zlib.error) as exc:
        where = f"{source}:{number + 1}" if number else source
        planner.error(where, f"{where}: cannot read ({_os_reason(exc)})")


def _path(planner: _Planner, path: Path) -> None:
    if _is_jsonl(path):
        _jsonl(planner, path)
        return
    source = str(path)
    try:
        data = _read_file_bytes(path, source)
    except InputError as exc:
        planner.error(source, str(exc))
        return
    planner.case(source, data, os.path.abspath(path.parent), file_stem=_file_stem(path))


def plan_items(paths: Iterable[str | Path]) -> list[BatchItem]:
    """The cases under `paths` (files, folders walked recursively for phenopacket files, JSON
    Lines), in `read_cases` order, each with its bytes, stem and digest."""
    planner = _Planner()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            try:
                found = sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and _is_case_file(p)
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            except OSError as exc:
                planner.error(str(path), f"{path}: cannot list the folder ({_os_reason(exc)})")
                continue
            if not found:
                planner.error(
                    str(path),
                    f"{path}: no phenopacket files ({', '.join(CASE_FILE_SUFFIXES)}) in this "
                    "folder",
                )
            for file in found:
                _path(planner, file)
        else:
            _path(planner, path)
    return planner.items


def store_items(
    cases: Iterable[tuple[str, str]], *, start: int = 0, used: Iterable[str] = ()
) -> list[BatchItem]:
    """Items for stored cases, given (case id, version: e.g. the case's last update time): the
    worker reads each case from the store; the version makes a rerun skip unchanged cases."""
    planner = _Planner()
    planner.used.update(used)
    out: list[BatchItem] = []
    for i, (case_id, version) in enumerate(cases):
        digest = hashlib.sha256(f"store\0{case_id}\0{version}".encode()).hexdigest()
        out.append(
            BatchItem(
                start + i,
                f"store:{case_id}",
                planner.stem(_safe(case_id)),
                case_id,
                None,
                ".",
                digest,
            )
        )
    return out


def chunks(items: Iterable[BatchItem], target: int) -> Iterator[list[BatchItem]]:
    """Consecutive groups of items weighing about `target` (a heavy item travels alone)."""
    group: list[BatchItem] = []
    weight = 0
    for item in items:
        if group and weight + item.weight > target:
            yield group
            group, weight = [], 0
        group.append(item)
        weight += item.weight
    if group:
        yield group
