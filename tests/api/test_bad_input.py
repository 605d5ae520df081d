"""Bad and hostile input never makes a 500 and never half-writes anything: malformed JSON,
wrong types, oversized bodies, markup, NUL bytes, lone surrogates (property-based, on SQLite
and PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx2 as httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from raredx.store import models as m
from tests.api.conftest import ALPS_LIKE, Api

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any character, including NUL, other controls, lone surrogates and markup.
hostile_text = st.text(
    alphabet=st.characters(categories=["L", "N", "P", "S", "Z", "Cc", "Cs", "Cf"]),
    max_size=40,
) | st.sampled_from(
    ["<script>alert(1)</script>", "../../etc/passwd", "a\x00b", "\ud800", "P-1", " P-1", "é" * 300,
     "HP:0001744", "'; DROP TABLE cases; --", "%00", "${jndi:ldap://x}"]
)  # fmt: skip

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=12,
)


def post(api: Api, url: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    """POST `body` as JSON with every non-ASCII character escaped (lone surrogates too)."""
    data = json.dumps(body, ensure_ascii=True).encode()
    return api.client.post(
        url, content=data, headers={**headers, "content-type": "application/json"}
    )


def rows(api: Api) -> dict[str, int]:
    """Row counts of the patient-data tables."""
    tables = (m.Case, m.Patient, m.PhenotypeObservation, m.Decision, m.Analysis, m.VcfReference)
    with api.svc.store.transaction() as s:
        return {t.__tablename__: int(s.scalar(select(func.count()).select_from(t)) or 0)
                for t in tables}  # fmt: skip


def assert_clean_refusal(reply: httpx.Response) -> None:
    assert reply.status_code < 500, reply.text
    if reply.status_code >= 400:
        assert reply.headers["content-type"].startswith("application/json"), reply.text
        assert "detail" in reply.json()


def test_random_json_bodies(api: Api) -> None:
    h = api.user("geneticist")
    case = api.new_case(h)
    cid, obs = case["id"], case["observations"][0]["id"]
    urls = [
        "/api/v1/diagnose",
        "/api/v1/phenotype/extract",
        "/api/v1/cases",
        "/api/v1/cases/import",
        f"/api/v1/cases/{cid}/observations",
        f"/api/v1/cases/{cid}/observations/{obs}/review",
        f"/api/v1/cases/{cid}/decisions",
        "/api/v1/reanalyze",
    ]
    before = rows(api)

    @SETTINGS
    @given(url=st.sampled_from(urls), body=json_values)
    def check(url: str, body: Any) -> None:
        reply = post(api, url, body, h)
        assert_clean_refusal(reply)

    check()
    after = rows(api)
    # random bodies may create cases (a valid import or creation is possible in principle)
    # but never leave a patient without a case, or observations without their case
    assert after["patients"] - before["patients"] <= after["cases"] - before["cases"]


def test_malformed_json_and_wrong_content(api: Api) -> None:
    h = api.user("geneticist")
    cid = api.new_case(h)["id"]
    before = rows(api)
    for url in ("/api/v1/diagnose", "/api/v1/cases", f"/api/v1/cases/{cid}/observations",
                "/api/v1/cases/import", f"/api/v1/cases/{cid}/decisions"):  # fmt: skip
        for data, kind in (
            (b"{", "application/json"),
            (b"\xff\xfe\x00", "application/json"),
            (b"null", "application/json"),
            (b'{"observed": ["HP:0001744"]}', "text/plain"),
            (b"observed=HP:0001744", "application/x-www-form-urlencoded"),
            (b"", "application/json"),
            (b"[" * 5000 + b"]" * 5000, "application/json"),
        ):
            reply = api.client.post(url, content=data, headers={**h, "content-type": kind})
            assert 400 <= reply.status_code < 500, (url, data[:20], reply.text)
    assert rows(api) == before


def test_hostile_case_fields_are_stored_exactly_or_refused(api: Api) -> None:
    h = api.user("clinician")

    @SETTINGS
    @given(case_id=hostile_text, patient=hostile_text)
    def check(case_id: str, patient: str) -> None:
        before = rows(api)
        reply = post(api, "/api/v1/cases", {"id": case_id, "patient": patient}, h)
        assert_clean_refusal(reply)
        if reply.status_code == 201:
            assert (reply.json()["id"], reply.json()["patient"]) == (case_id, patient)
            again = api.client.get(f"/api/v1/cases/{reply.json()['id']}", headers=h)
            assert again.status_code == 200 and again.json()["patient"] == patient
        else:
            assert rows(api) == before

    check()


def test_hostile_evidence_and_terms(api: Api) -> None:
    h = api.user("clinician")
    cid = api.new_case(h, observed=["HP:0001744"])["id"]

    @SETTINGS
    @given(
        term=st.sampled_from(["HP:0001873", "HP:0002240", "fever"]) | hostile_text,
        evidence=hostile_text,
        provenance=st.sampled_from(["typed", "note", "labs"]),
    )
    def check(term: str, evidence: str, provenance: str) -> None:
        before = rows(api)
        body = {"provenance": provenance, "terms": [{"id": term, "evidence": evidence}]}
        reply = post(api, f"/api/v1/cases/{cid}/observations", body, h)
        assert_clean_refusal(reply)
        if reply.status_code >= 400:
            assert rows(api) == before

    check()


def test_hostile_queries_and_paths(api: Api) -> None:
    h = api.user("geneticist")
    cid = api.new_case(h)["id"]

    @settings(SETTINGS, max_examples=20)  # eleven requests each
    @given(text=hostile_text)
    def check(text: str) -> None:
        for method, url, params in (
            ("GET", "/api/v1/hpo/search", {"q": text}),
            ("GET", "/api/v1/treatments", {"disease": text}),
            ("GET", "/api/v1/treatments", {"gene": text}),
            ("GET", f"/api/v1/cases/{cid}/explain", {"disease": text}),
            ("GET", f"/api/v1/cases/{cid}/explain", {"gene": text}),
            ("GET", "/api/v1/cases", {"status": text}),
            ("PUT", f"/api/v1/cases/{cid}/vcf", {"filename": text, "sample": text}),
            ("GET", f"/api/v1/jobs/{text.replace('/', '_')}" if text else "/api/v1/jobs/x", {}),
        ):
            try:
                reply = api.client.request(method, url, params=params, headers=h, content=b"##")
            except (UnicodeEncodeError, httpx.InvalidURL):
                continue  # the client cannot even send this (a lone surrogate, a control)
            assert_clean_refusal(reply)
        try:
            quoted = quote(text, safe="")
        except UnicodeEncodeError:
            return  # a lone surrogate cannot even be percent-encoded
        for suffix in ("", "/phenopacket", "/analyses/latest"):
            reply = api.client.get(f"/api/v1/cases/{quoted}{suffix}", headers=h)
            assert_clean_refusal(reply)

    check()


def test_diagnose_accepts_any_list_of_strings_or_says_why(api: Api) -> None:
    h = api.user("clinician")
    terms = st.sampled_from([*ALPS_LIKE, "HP:0000118", "HP:0000001", "splenomegaly"]) | hostile_text

    @SETTINGS
    @given(observed=st.lists(terms, min_size=1, max_size=6), excluded=st.lists(terms, max_size=3),
           top=st.integers(-5, 120), age=st.one_of(st.none(), st.floats(-10, 200)))  # fmt: skip
    def check(observed: list[str], excluded: list[str], top: int, age: float | None) -> None:
        body = {"observed": observed, "excluded": excluded, "top": top, "age_years": age}
        reply = post(api, "/api/v1/diagnose", body, h)
        assert reply.status_code in (200, 422), reply.text
        if reply.status_code == 200:
            assert len(reply.json()["diseases"]) <= top
        else:
            assert reply.json()["detail"]

    check()
