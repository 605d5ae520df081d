"""``GET /api/v1/hpo/search``: HPO term autocomplete over English and French labels and
synonyms (`raredx.phenotype.TermSearch`, as ``raredx hpo search``). No authentication: it
reads the ontology only."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from raredx.api.rest.common import API, RestError, Svc, check_line, errors
from raredx.api.rest.schemas import TermHit
from raredx.kb import KnowledgeBase
from raredx.phenotype import MAX_QUERY_CHARS, TermMatch, term_search

__all__ = ["router"]

router = APIRouter(prefix=API, tags=["HPO terms"])


def _lang(kb: KnowledgeBase, match: TermMatch, asked: str) -> Literal["en", "fr"] | None:
    """The language of the name that matched (None for a match by id)."""
    if match.match_kind == "id":
        return None
    if asked in ("en", "fr"):
        return "en" if asked == "en" else "fr"
    found = kb.lookup_term(match.id)
    if found is None:
        return None
    index = found.index
    english = (kb.term_labels[index], *kb.term_synonyms[index])
    return "en" if match.matched_text in english else "fr"


@router.get(
    "/hpo/search",
    response_model=list[TermHit],
    summary="Search HPO terms (EN and FR labels and synonyms, typos tolerated)",
    responses=errors(422),
)
def search(
    svc: Svc,
    q: Annotated[
        str,
        Query(max_length=MAX_QUERY_CHARS, description="Words of a term name, or an id prefix"),
    ],
    lang: Annotated[
        Literal["en", "fr", "any"], Query(description="Names searched: English, French or both")
    ] = "any",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[TermHit]:
    """Terms best matching `q`, best first: id, exact name, name prefix, words (any order),
    then near misses. Each term appears once, with the name that matched."""
    try:
        check_line(q)
    except ValueError as exc:
        raise RestError(422, "invalid search text", [f"q: {exc}"]) from None
    kb = svc.kb
    matches = term_search(kb).search(q, limit=limit, lang=lang)
    return [
        TermHit(
            id=m.id,
            label=m.label,
            label_fr=m.label_fr,
            matched_text=m.matched_text,
            lang=_lang(kb, m, lang),
            match_kind=m.match_kind,
            score=m.score,
        )
        for m in matches
    ]
