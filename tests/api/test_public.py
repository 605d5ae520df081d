"""The endpoints anyone may call: the KB's description and HPO term search."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api


def test_kb_info_needs_no_login_and_lists_sources(shared_api: Api) -> None:
    reply = shared_api.client.get("/api/v1/kb")
    assert reply.status_code == 200, reply.text
    info = reply.json()
    kb = shared_api.svc.kb
    assert info["version"] == kb.version and info["hpo_release"] == kb.hpo_release
    names = {s["name"] for s in info["sources"]}
    assert {"HPO ontology", "HGNC gene table", "HPO French translation"} <= names
    assert all(s["version"] and s["licence"] and len(s["sha256"]) == 64 for s in info["sources"])
    assert info["counts"]["terms"] == kb.n_terms
    assert info["counts"]["diseases"] == kb.n_diseases


@pytest.mark.parametrize(
    ("q", "lang", "expected", "matched_lang"),
    [
        ("splenomegaly", "any", "HP:0001744", "en"),
        ("splenomgaly", "en", "HP:0001744", "en"),  # a typo
        ("thrombopénie", "any", "HP:0001873", "fr"),
        ("anemie hemolytique auto-immune", "fr", "HP:0001890", "fr"),  # no accents
        ("HP:0001873", "any", "HP:0001873", None),
        ("HP_0001744", "fr", "HP:0001744", None),
    ],
)
def test_search_finds_terms_in_english_and_french(
    shared_api: Api, q: str, lang: str, expected: str, matched_lang: str | None
) -> None:
    reply = shared_api.client.get("/api/v1/hpo/search", params={"q": q, "lang": lang})
    assert reply.status_code == 200, reply.text
    hits = reply.json()
    assert hits[0]["id"] == expected
    assert hits[0]["lang"] == matched_lang
    assert {"id", "label", "matched_text", "lang", "label_fr", "match_kind", "score"} <= set(
        hits[0]
    )


def test_search_by_language_returns_names_of_that_language(shared_api: Api) -> None:
    kb = shared_api.svc.kb
    for lang in ("en", "fr"):
        reply = shared_api.client.get("/api/v1/hpo/search", params={"q": "anemi", "lang": lang})
        hits = reply.json()
        assert hits and all(h["lang"] == lang for h in hits)
        for hit in hits:
            term = kb.term(hit["id"])
            names = (
                (term.label, *term.synonyms) if lang == "en" else (term.label_fr, *term.synonyms_fr)
            )
            assert hit["matched_text"] in names


def test_search_limits(shared_api: Api) -> None:
    get = shared_api.client.get
    assert len(get("/api/v1/hpo/search", params={"q": "anemia", "limit": 3}).json()) == 3
    assert len(get("/api/v1/hpo/search", params={"q": "a", "limit": 50}).json()) <= 50
    for params in (
        {"q": "anemia", "limit": 0},
        {"q": "anemia", "limit": 51},
        {"q": "x" * 201},
        {"q": "anemia", "lang": "de"},
        {"q": "ane\x00mia"},
        {},
    ):
        reply = get("/api/v1/hpo/search", params=params)
        assert reply.status_code == 422, (params, reply.text)
        assert "detail" in reply.json()
    assert get("/api/v1/hpo/search", params={"q": "   "}).json() == []
    assert get("/api/v1/hpo/search", params={"q": "<script>alert(1)</script>"}).status_code == 200
