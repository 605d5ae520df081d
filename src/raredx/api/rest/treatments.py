"""``GET /api/v1/treatments?disease=ID`` (or ``?gene=SYMBOL``): the treatments raredx knows
(`raredx.treat`, as ``raredx treatments``), strongest evidence first. Decision support for
specialists, never a prescription."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from raredx.api.rest.common import API, CaseRole, Line, RestError, Svc, errors, unprocessable
from raredx.api.rest.schemas import Treatments
from raredx.errors import InputError
from raredx.treat import DECISION_SUPPORT_NOTICE, treatment_index

__all__ = ["router"]

router = APIRouter(prefix=API, tags=["Treatments"])


@router.get(
    "/treatments",
    response_model=Treatments,
    summary="Treatments of a disease (or of a gene's diseases), strongest evidence first",
    responses=errors(401, 403, 404, 422),
)
def treatments(
    svc: Svc,
    user: CaseRole,
    disease: Annotated[
        Line | None, Query(min_length=1, max_length=64, description="OMIM, ORPHA or MONDO id")
    ] = None,
    gene: Annotated[
        Line | None, Query(min_length=1, max_length=64, description="HGNC symbol or id")
    ] = None,
) -> Any:
    """Curated disease-specific and targeted therapies (evidence level, citations, cautions,
    status, review date) and MAxO annotations mapped through MONDO. A disease the KB does
    not know is a 404; a known disease without treatments gives an empty list."""
    if (disease is None) == (gene is None):
        raise RestError(422, "give one of disease and gene")
    index = treatment_index(svc.kb)
    try:
        found = (
            index.treatments_for_disease(disease.strip())
            if disease is not None
            else index.treatments_for_gene(str(gene).strip())
        )
    except InputError as exc:
        raise unprocessable(exc, 404) from None
    return {
        "query": disease if disease is not None else gene,
        "kb_version": svc.kb.version,
        "notice": DECISION_SUPPORT_NOTICE,
        "treatments": [t.to_dict() for t in found],
    }
