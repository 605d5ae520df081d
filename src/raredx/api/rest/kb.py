"""``GET /api/v1/kb``: the knowledge base in use (no authentication: it holds no patient data)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from raredx.api.rest.common import API, Svc
from raredx.api.rest.schemas import KbInfo

__all__ = ["router"]

router = APIRouter(prefix=API, tags=["Knowledge base"])


@router.get("/kb", response_model=KbInfo, summary="Knowledge base version, sources and counts")
def kb_info(svc: Svc) -> Any:
    """The KB's version, HPO release, build, every source with its version and licence, and
    counts (terms, diseases, genes, annotations), as ``raredx kb info --format json``."""
    manifest = dict(svc.kb.manifest)
    return {
        "version": svc.kb.version,
        "hpo_release": svc.kb.hpo_release,
        "built_at": str(manifest.get("built_at", "")),
        "built_by": str(manifest.get("built_by", "")),
        "sources": [
            {
                "name": s.name,
                "version": s.version,
                "licence": s.licence,
                "file": s.file,
                "sha256": s.sha256,
            }
            for s in svc.kb.sources
        ],
        "counts": manifest.get("counts", {}),
        "warnings": list(manifest.get("warnings", [])),
    }
