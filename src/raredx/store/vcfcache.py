"""Genotype evidence cached in the store: a documented, code-free serialisation.

A `raredx.genome.GenomeEvidence` read from a VCF is cached in ``vcf_references.evidence`` so
that reanalysis and repeated diagnoses do not read an unchanged VCF again. The cache is **not**
a pickle: a shared database must never execute code when it is read. It is an uncompressed
ZIP of NumPy ``.npy`` members written with `numpy.savez_compressed` (DEFLATE) and read with
``numpy.load(..., allow_pickle=False)``:

- ``meta.npy``: uint8, the UTF-8 JSON of ``{"format": "raredx-genome-evidence", "version": 1,
  "inputs": ..., "header": ..., "pedigree": ..., "config": ..., "sources": ..., "vocab": ...,
  "counts": ..., "rows": [names], "samples": [names]}``;
- ``row.<name>.npy``: one per variant-table row column (1-D, ``rows`` names);
- ``sample.<name>.npy``: one per per-sample column (2-D, samples x rows);
- ``text.blob.npy`` (uint8) and ``text.ends.npy`` (int64): the table's string column.

``inputs`` (`evidence_inputs`) names what the evidence was computed from: the format version,
the VCF's sha256, the KB version and a digest of its gene list (evidence rows hold KB gene
indices), the raredx version, the assembly and sample the VCF was attached with, the pedigree
and sample mapping taken from the case, and the genome configuration. A cache whose inputs
differ from the current ones is stale and is recomputed; a cache that cannot be decoded (other
version, damaged, oversized) is treated the same way.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from array import array
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

import raredx
from raredx.case import Sex
from raredx.genome import (
    AnnotationSources,
    Assembly,
    GenomeConfig,
    GenomeEvidence,
    HeaderField,
    InheritanceMode,
    Pedigree,
    PedigreeMember,
    VcfHeader,
)
from raredx.genome._collect import Vocabulary
from raredx.genome._table import ROW_COLUMN_NAMES, SAMPLE_COLUMN_NAMES, StringColumn, VariantTable
from raredx.kb import KnowledgeBase

__all__ = [
    "EVIDENCE_FORMAT",
    "EVIDENCE_VERSION",
    "HASH_CHUNK_BYTES",
    "MAX_EVIDENCE_BYTES",
    "StaleEvidence",
    "decode_evidence",
    "encode_evidence",
    "evidence_inputs",
    "file_sha256",
    "genes_digest",
]

EVIDENCE_FORMAT = "raredx-genome-evidence"
"""``format`` of a cached evidence blob's metadata."""

EVIDENCE_VERSION = 1
"""Version of the cached evidence layout (this module's documentation)."""

MAX_EVIDENCE_BYTES = 256 * 1024 * 1024
"""Largest cached evidence (compressed and uncompressed): bigger evidence is not cached."""

HASH_CHUNK_BYTES = 1 << 20
"""Files are hashed in chunks of this size (memory stays bounded whatever the file size)."""


class StaleEvidence(ValueError):
    """A cached evidence blob that cannot be used: other inputs, other version, damaged."""


def file_sha256(path: Path) -> tuple[str, int]:
    """The sha256 (hex) and size in bytes of the file at `path`, read in 1 MiB chunks.

    Raises `OSError` when the file cannot be read."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def genes_digest(kb: KnowledgeBase) -> str:
    """A digest of the KB's gene list (HGNC ids and symbols, in index order)."""
    digest = hashlib.sha256()
    digest.update("\n".join(kb.gene_hgnc_ids).encode())
    digest.update(b"\0")
    digest.update("\n".join(kb.gene_symbols).encode())
    return digest.hexdigest()


def _config_json(config: GenomeConfig) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(config):
        value = getattr(config, f.name)
        if f.name == "modes":
            value = [mode.value for mode in value]
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def _config_from(data: Mapping[str, Any]) -> GenomeConfig:
    values: dict[str, Any] = {}
    for f in fields(GenomeConfig):
        value = data[f.name]
        if f.name == "modes":
            value = tuple(InheritanceMode(v) for v in value)
        elif isinstance(value, list):
            value = tuple(value)
        values[f.name] = value
    return GenomeConfig(**values)


def _member_json(m: PedigreeMember) -> dict[str, Any]:
    return {
        "id": m.id,
        "family": m.family,
        "father": m.father,
        "mother": m.mother,
        "sex": m.sex.value,
        "affected": m.affected,
        "sample": m.sample,
    }


def _pedigree_json(p: Pedigree) -> dict[str, Any]:
    return {
        "family_id": p.family_id,
        "proband": p.proband,
        "members": [_member_json(m) for m in p.members],
    }


def _pedigree_from(data: Mapping[str, Any]) -> Pedigree:
    members = tuple(
        PedigreeMember(
            id=m["id"],
            family=m["family"],
            father=m["father"],
            mother=m["mother"],
            sex=Sex(m["sex"]),
            affected=m["affected"],
            sample=m["sample"],
        )
        for m in data["members"]
    )
    return Pedigree(data["family_id"], members, data["proband"])


def evidence_inputs(
    *,
    sha256: str,
    kb: KnowledgeBase,
    assembly: str | None,
    sample: str | None,
    pedigree: Pedigree,
    sample_map: Mapping[str, str],
    config: GenomeConfig,
) -> dict[str, Any]:
    """What cached evidence depends on (JSON): equal inputs give equal evidence."""
    return {
        "format": EVIDENCE_VERSION,
        "sha256": sha256,
        "kb_version": kb.version,
        "genes": genes_digest(kb),
        "raredx": raredx.__version__,
        "assembly": assembly,
        "sample": sample,
        "pedigree": _pedigree_json(pedigree),
        "sample_map": dict(sorted(sample_map.items())),
        "config": _config_json(config),
    }


def _normalised(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True))


def _header_json(h: VcfHeader) -> dict[str, Any]:
    def field_json(f: HeaderField) -> list[str]:
        return [f.id, f.number, f.type, f.description]

    return {
        "path": h.path,
        "file_format": h.file_format,
        "compression": h.compression,
        "samples": list(h.samples),
        "contigs": [[name, length] for name, length in h.contigs],
        "info": [field_json(f) for f in h.info],
        "formats": [field_json(f) for f in h.formats],
        "filters": list(h.filters),
        "assembly": h.assembly.value,
        "assembly_source": h.assembly_source,
        "chr_prefix": h.chr_prefix,
        "header_lines": h.header_lines,
        "raw_lines": list(h.raw_lines),
    }


def _header_from(d: Mapping[str, Any]) -> VcfHeader:
    return VcfHeader(
        path=str(d["path"]),
        file_format=str(d["file_format"]),
        compression=str(d["compression"]),
        samples=tuple(str(s) for s in d["samples"]),
        contigs=tuple((str(n), None if n_len is None else int(n_len)) for n, n_len in d["contigs"]),
        info=tuple(HeaderField(*map(str, f)) for f in d["info"]),
        formats=tuple(HeaderField(*map(str, f)) for f in d["formats"]),
        filters=tuple(str(f) for f in d["filters"]),
        assembly=Assembly(d["assembly"]),
        assembly_source=str(d["assembly_source"]),
        chr_prefix=bool(d["chr_prefix"]),
        header_lines=int(d["header_lines"]),
        raw_lines=tuple(str(line) for line in d["raw_lines"]),
    )


def _sources_json(sources: AnnotationSources) -> dict[str, Any]:
    return {
        f.name: (list(v) if isinstance(v := getattr(sources, f.name), tuple) else v)
        for f in fields(sources)
    }


def _sources_from(d: Mapping[str, Any]) -> AnnotationSources:
    values: dict[str, Any] = {
        f.name: (tuple(str(x) for x in d[f.name]) if isinstance(d[f.name], list) else d[f.name])
        for f in fields(AnnotationSources)
    }
    return AnnotationSources(**values)


def _vocab_from(d: Mapping[str, Any]) -> Vocabulary:
    vocab = Vocabulary()
    vocab.filters = [str(x) for x in d["filters"]]
    vocab.fields = [str(x) for x in d["fields"]]
    vocab.consequences = [str(x) for x in d["consequences"]]
    # The lookup tables are rebuilt from the lists (the codes are list positions).
    vocab._filters = {t: i for i, t in enumerate(vocab.filters)}
    vocab._fields = {t: i for i, t in enumerate(vocab.fields)}
    vocab._consequences = {t: i for i, t in enumerate(vocab.consequences)}
    return vocab


def _text_column(blob: np.ndarray, ends: np.ndarray) -> StringColumn:
    column = StringColumn()
    column._blob = bytearray(blob.tobytes())
    column._ends = array("q", ends.astype(np.int64).tolist())
    return column


def encode_evidence(evidence: GenomeEvidence, inputs: Mapping[str, Any]) -> bytes:
    """`evidence` as a cache blob (see the module documentation), tagged with `inputs`."""
    table = evidence.table
    text = table.text
    text.flush()
    meta = {
        "format": EVIDENCE_FORMAT,
        "version": EVIDENCE_VERSION,
        "inputs": _normalised(dict(inputs)),
        "header": _header_json(evidence.header),
        "pedigree": _pedigree_json(evidence.pedigree),
        "config": _config_json(evidence.config),
        "sources": _sources_json(evidence.sources),
        "vocab": {
            "filters": list(evidence.vocab.filters),
            "fields": list(evidence.vocab.fields),
            "consequences": list(evidence.vocab.consequences),
        },
        "counts": {str(k): int(v) for k, v in evidence.counts.items()},
        "rows": list(table.rows),
        "samples": list(table.samples),
    }
    arrays: dict[str, np.ndarray] = {
        "meta": np.frombuffer(json.dumps(meta, allow_nan=False).encode(), dtype=np.uint8),
        "text.blob": np.frombuffer(bytes(text._blob), dtype=np.uint8),
        "text.ends": np.frombuffer(text._ends, dtype=np.int64),
    }
    for name, column in table.rows.items():
        arrays[f"row.{name}"] = column
    for name, column in table.samples.items():
        arrays[f"sample.{name}"] = column
    out = io.BytesIO()
    np.savez_compressed(out, allow_pickle=False, **arrays)
    return out.getvalue()


def _check_zip(blob: bytes) -> None:
    """Refuse a blob that is not a ZIP of .npy members or expands beyond the limit."""
    if len(blob) > MAX_EVIDENCE_BYTES:
        raise StaleEvidence(f"cached evidence is larger than {MAX_EVIDENCE_BYTES} bytes")
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise StaleEvidence(f"cached evidence is not a ZIP archive ({exc})") from None
    if sum(i.file_size for i in infos) > MAX_EVIDENCE_BYTES:
        raise StaleEvidence(f"cached evidence expands beyond {MAX_EVIDENCE_BYTES} bytes")
    if any(not i.filename.endswith(".npy") for i in infos):
        raise StaleEvidence("cached evidence holds members that are not .npy arrays")


def _frozen(a: np.ndarray) -> np.ndarray:
    out = np.ascontiguousarray(a)
    out.flags.writeable = False
    return out


def decode_evidence(blob: bytes, kb: KnowledgeBase, inputs: Mapping[str, Any]) -> GenomeEvidence:
    """The `GenomeEvidence` cached in `blob`, for `kb`; raises `StaleEvidence` when the blob
    was made from other `inputs`, by another layout version, or cannot be read."""
    _check_zip(blob)
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise StaleEvidence(f"cached evidence cannot be read ({exc})") from None
    try:
        meta_array = arrays.pop("meta")
        if meta_array.dtype != np.uint8 or meta_array.ndim != 1:
            raise StaleEvidence("cached evidence metadata is not UTF-8 bytes")
        meta = json.loads(meta_array.tobytes().decode())
        if not isinstance(meta, dict) or meta.get("format") != EVIDENCE_FORMAT:
            raise StaleEvidence("not cached raredx genome evidence")
        if meta.get("version") != EVIDENCE_VERSION:
            raise StaleEvidence(f"cached evidence layout version {meta.get('version')!r}")
        if meta.get("inputs") != _normalised(dict(inputs)):
            raise StaleEvidence("cached evidence was computed from other inputs")
        return _build(meta, arrays, kb)
    except StaleEvidence:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise StaleEvidence(f"cached evidence is damaged ({type(exc).__name__}: {exc})") from None


def _build(
    meta: Mapping[str, Any], arrays: dict[str, np.ndarray], kb: KnowledgeBase
) -> GenomeEvidence:
    row_names, sample_names = list(meta["rows"]), list(meta["samples"])
    if set(row_names) != set(ROW_COLUMN_NAMES) or set(sample_names) != set(SAMPLE_COLUMN_NAMES):
        raise StaleEvidence("cached evidence columns differ from this raredx's variant table")
    rows = {name: _frozen(arrays[f"row.{name}"]) for name in row_names}
    samples = {name: _frozen(arrays[f"sample.{name}"]) for name in sample_names}
    n = len(rows["pos"])
    if any(a.ndim != 1 or len(a) != n for a in rows.values()):
        raise StaleEvidence("cached evidence row columns have unequal lengths")
    if any(a.ndim != 2 or a.shape[1] != n for a in samples.values()):
        raise StaleEvidence("cached evidence sample columns do not match the rows")
    if len({a.shape[0] for a in samples.values()}) > 1:
        raise StaleEvidence("cached evidence sample columns disagree on the sample count")
    blob, ends = arrays["text.blob"], arrays["text.ends"]
    if blob.dtype != np.uint8 or ends.ndim != 1 or len(ends) != n:
        raise StaleEvidence("cached evidence text column does not match the rows")
    if n and (int(ends[-1]) != len(blob) or bool(np.any(np.diff(ends) < 0)) or int(ends[0]) < 0):
        raise StaleEvidence("cached evidence text offsets are inconsistent")
    genes = rows["gene"]
    if n and (int(genes.min()) < 0 or int(genes.max()) >= len(kb.gene_symbols)):
        raise StaleEvidence("cached evidence names genes the knowledge base does not have")
    pedigree = _pedigree_from(meta["pedigree"])
    if any(a.shape[0] != len(pedigree.sequenced) for a in samples.values()):
        raise StaleEvidence("cached evidence sample columns do not match the pedigree")
    table = VariantTable(rows, samples, _text_column(blob, ends))
    counts = {str(k): int(v) for k, v in meta["counts"].items()}
    return GenomeEvidence(
        _header_from(meta["header"]),
        pedigree,
        _config_from(meta["config"]),
        kb,
        _sources_from(meta["sources"]),
        table,
        _vocab_from(meta["vocab"]),
        counts,
    )
