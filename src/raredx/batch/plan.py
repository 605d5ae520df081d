"""What a batch runs: one `BatchItem` per case, planned by the client without parsing.

Parsing and checking a phenopacket costs about as much as ranking it (~10 ms), so the client
only finds the cases (files, folders, JSON Lines, the store), reads their bytes and peeks at
their id; the workers do the rest. Items are named and ordered exactly as
`raredx.case.read_cases` orders them, and get the file stems `raredx diagnose --out` gives them
(the file name without its suffix; for a JSON Lines line or a stored case, the case id; clashes
get ``_2``, ``_3``...).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from raredx.case import read_case_bytes
from raredx.pheval import file_stem, safe_stem, unique_stem

__all__ = ["VCF_WEIGHT", "BatchItem", "chunks", "peek_case", "plan_items", "store_items"]

VCF_WEIGHT = 50
"""How many phenotype-only cases one case with a VCF weighs when cases are grouped into tasks
(reading an exome takes about as long as ranking 50 phenotypes)."""


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


def _line_stem(source: str) -> str:
    """The stem of an input with no case id to name it: its file's name and line number."""
    parts = source.rsplit(":", 1)
    return safe_stem(Path(parts[0]).name + "-" + parts[-1])


def plan_items(paths: Iterable[str | Path]) -> list[BatchItem]:
    """The cases under `paths` (files, folders walked recursively for phenopacket files, JSON
    Lines), in `read_cases` order, each with its bytes, stem and digest."""
    items: list[BatchItem] = []
    used: set[str] = set()
    for found in read_case_bytes(paths):
        source, index = found.source, len(items)
        if found.data is None:
            error = str(found.error)
            items.append(BatchItem(index, source, _line_stem(source), None, None, "", "", 1, error))
            continue
        case_id, names_file = peek_case(found.data)
        if found.line is None:
            stem = unique_stem(file_stem(found.path), used)
        elif case_id is not None:
            stem = unique_stem(safe_stem(case_id), used)
        else:  # the worker will report why the line is not a phenopacket
            stem = _line_stem(source)
        items.append(
            BatchItem(
                index,
                source,
                stem,
                case_id,
                found.data,
                os.path.abspath(found.path.parent),
                hashlib.sha256(found.data).hexdigest(),
                VCF_WEIGHT if names_file else 1,
            )
        )
    return items


def store_items(
    cases: Iterable[tuple[str, str]], *, start: int = 0, used: Iterable[str] = ()
) -> list[BatchItem]:
    """Items for stored cases, given (case id, version: e.g. the case's last update time): the
    worker reads each case from the store; the version makes a rerun skip unchanged cases."""
    taken = set(used)
    out: list[BatchItem] = []
    for i, (case_id, version) in enumerate(cases):
        digest = hashlib.sha256(f"store\0{case_id}\0{version}".encode()).hexdigest()
        out.append(
            BatchItem(
                start + i,
                f"store:{case_id}",
                unique_stem(safe_stem(case_id), taken),
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
