"""``PUT /api/v1/cases/{case_id}/vcf``: upload a patient's VCF (the raw file is the body).

The body is streamed to ``<raredx home>/uploads/<case folder>/`` (never held in memory),
limited to ``$RAREDX_MAX_UPLOAD_BYTES`` (default 4 GiB; 413 beyond), and checked as it
arrives: a plain VCF starts with ``##fileformat=VCF``, a gzip/bgzip one decompresses to it
(415 otherwise, without reading the rest). The file is written under a temporary name and
renamed once complete, then attached with `raredx.store.Store.attach_vcf` (hash, assembly,
samples checked against the case); on any refusal the file is deleted and nothing is stored.
Geneticists and admins only.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import zlib
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from raredx.api.rest.cases import CaseIdPath, vcf_out
from raredx.api.rest.common import (
    API,
    GenomeRole,
    Line,
    RestError,
    Svc,
    errors,
    json_response,
    unprocessable,
    visible_case,
)
from raredx.api.rest.schemas import VcfOut
from raredx.errors import InputError
from raredx.kb import raredx_home

__all__ = [
    "DEFAULT_MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_ENV",
    "VCF_SUFFIXES",
    "looks_like_vcf",
    "max_upload_bytes",
    "router",
    "upload_folder",
]

MAX_UPLOAD_ENV = "RAREDX_MAX_UPLOAD_BYTES"
DEFAULT_MAX_UPLOAD_BYTES = 4 << 30
"""Largest VCF upload unless ``$RAREDX_MAX_UPLOAD_BYTES`` says otherwise (4 GiB)."""

VCF_SUFFIXES = (".vcf", ".vcf.gz", ".vcf.bgz")

_MAGIC = b"##fileformat=VCF"
_SNIFF_BYTES = 1 << 16  # a BGZF block is at most 64 KiB compressed
_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,199}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_log = logging.getLogger(__name__)

router = APIRouter(prefix=f"{API}/cases", tags=["VCF"])


def max_upload_bytes() -> int:
    """``$RAREDX_MAX_UPLOAD_BYTES`` (a positive integer), else `DEFAULT_MAX_UPLOAD_BYTES`."""
    text = os.environ.get(MAX_UPLOAD_ENV, "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    if text:
        _log.warning("%s=%r is not a positive integer: using %d", MAX_UPLOAD_ENV, text,
                     DEFAULT_MAX_UPLOAD_BYTES)  # fmt: skip
    return DEFAULT_MAX_UPLOAD_BYTES


def upload_folder(case_id: str) -> Path:
    """The case's upload folder: its id made safe for a file name, plus a digest of the id
    (two ids that differ only in unsafe characters never share a folder)."""
    stem = _UNSAFE.sub("_", case_id).strip("._")[:64] or "case"
    digest = hashlib.sha256(case_id.encode("utf-8")).hexdigest()[:12]
    return raredx_home() / "uploads" / f"{stem}-{digest}"


def _gunzip_head(data: bytes, want: int) -> bytes:
    """Up to `want` bytes decompressed from the start of gzip data (several members allowed);
    `zlib.error` if it is not gzip."""
    out = b""
    while data and len(out) < want:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out += d.decompress(data, want - len(out))
        if not d.eof:
            break
        data = d.unused_data
    return out


def looks_like_vcf(head: bytes, *, complete: bool) -> bool | None:
    """Whether the first bytes of a file are a VCF's (plain, gzip or bgzip): True, False, or
    None while undecided (more bytes needed; `complete`: there are no more)."""
    if head[:2] == b"\x1f\x8b":
        try:
            text = _gunzip_head(head, len(_MAGIC))
        except zlib.error:
            return False
        if len(text) >= len(_MAGIC):
            return text.startswith(_MAGIC)
        return False if complete or len(head) >= _SNIFF_BYTES else None
    if len(head) >= len(_MAGIC):
        return head.startswith(_MAGIC)
    return False if complete or not _MAGIC.startswith(head) else None


def _checked_filename(filename: str) -> str:
    problems = []
    if "/" in filename or "\\" in filename or ".." in filename:
        problems.append("a file name, not a path (no '/', '\\' or '..')")
    elif not _FILENAME.fullmatch(filename):
        problems.append(
            "letters, digits and ._+- only, starting with a letter or digit, at most 200"
        )
    elif not filename.lower().endswith(VCF_SUFFIXES):
        problems.append(f"must end with {', '.join(VCF_SUFFIXES)}")
    if problems:
        raise RestError(422, f"invalid file name {filename!r}", problems)
    return filename


async def _receive(request: Request, part: Path, limit: int) -> int:
    """Stream the body into `part` (a new file); the number of bytes. 413 or 415 as soon as
    known, without reading the rest."""
    size = 0
    head = b""
    verdict: bool | None = None
    with part.open("xb") as fh:
        async for chunk in request.stream():
            if not chunk:
                continue
            size += len(chunk)
            if size > limit:
                raise RestError(
                    413, f"the VCF is larger than {limit} bytes (RAREDX_MAX_UPLOAD_BYTES)"
                )
            if verdict is None:
                head += chunk
                verdict = looks_like_vcf(head, complete=False)
                if verdict is False:
                    break
            await run_in_threadpool(fh.write, chunk)
    if verdict is None:
        verdict = looks_like_vcf(head, complete=True)
    if not verdict:
        raise RestError(
            415,
            "not a VCF",
            ["a VCF starts with ##fileformat=VCF (plain text, gzip or bgzip; BCF is not taken)"],
        )
    return size


@router.put(
    "/{case_id}/vcf",
    response_model=VcfOut,
    status_code=201,
    summary="Upload the patient's VCF (plain, gzip or bgzip) as the request body",
    responses=errors(401, 403, 404, 413, 415, 422, 507),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The raw VCF file (streamed; at most RAREDX_MAX_UPLOAD_BYTES)",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def upload_vcf(
    case_id: CaseIdPath,
    request: Request,
    svc: Svc,
    user: GenomeRole,
    filename: Annotated[Line, Query(min_length=1, max_length=200, description="e.g. P1.vcf.gz")],
    assembly: Annotated[
        Line | None, Query(max_length=32, description="GRCh37 or GRCh38 (default: the header)")
    ] = None,
    sample: Annotated[
        Line | None, Query(max_length=256, description="The proband's sample column")
    ] = None,
) -> Response:
    """The VCF is stored under the raredx data folder and attached to the case: its sha256,
    size, assembly and proband sample are recorded and the case's phenopacket names it. Its
    genotypes are read at the first analysis (``POST .../analyses``) and cached."""
    name = _checked_filename(filename)
    await run_in_threadpool(visible_case, svc.store, case_id, user.name)
    limit = max_upload_bytes()
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RestError(413, f"the VCF is larger than {limit} bytes (RAREDX_MAX_UPLOAD_BYTES)")
    folder = upload_folder(case_id)
    token = secrets.token_hex(4)
    part = folder / f".{token}.part"
    final = folder / f"{token}-{name}"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        await _receive(request, part, limit)
        part.replace(final)
    except OSError as exc:
        part.unlink(missing_ok=True)
        _log.error("cannot store an upload in %s: %s", folder, exc)
        raise RestError(
            507, "the server cannot store the file", [exc.strerror or "I/O error"]
        ) from None
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    try:
        record = await run_in_threadpool(
            svc.store.attach_vcf, case_id, final, assembly=assembly, sample=sample,
            user=user.name,
        )  # fmt: skip
    except InputError as exc:
        final.unlink(missing_ok=True)
        hidden = InputError(
            exc.message.replace(str(final), name),
            [p.replace(str(final), name) for p in exc.problems],
        )
        raise unprocessable(hidden) from None
    except BaseException:
        final.unlink(missing_ok=True)
        raise
    payload = VcfOut.model_validate(vcf_out(record)).model_dump(mode="json")
    return json_response(payload, status_code=201)
