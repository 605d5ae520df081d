"""`POST /match` on the real app over a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from raredx.api import create_app
from raredx.api.mme import MAX_BODY_BYTES
from raredx.kb import KnowledgeBase
from raredx.mme.schema import MatchResponse
from raredx.store import Store
from raredx.store import models as m
from tests.mme.conftest import (
    ALPS_LIKE,
    TOKEN_FROM_B,
    UNRELATED,
    example_case,
    populate,
    simple_case,
    write_config,
)

V10 = "application/vnd.ga4gh.matchmaker.v1.0+json"
V11 = "application/vnd.ga4gh.matchmaker.v1.1+json"
HEADERS = {"X-Auth-Token": TOKEN_FROM_B, "Content-Type": V10, "Accept": V10}


def query_body(terms: tuple[str, ...] = ALPS_LIKE, genes: tuple[str, ...] = ()) -> dict[str, Any]:
    patient: dict[str, Any] = {
        "id": "remote-17",
        "contact": {"name": "Dr Remote", "href": "mailto:remote@example.org"},
        "features": [{"id": t} for t in terms],
    }
    if genes:
        patient["genomicFeatures"] = [{"gene": {"id": g}} for g in genes]
    return {"patient": patient}


@pytest.fixture
def node(
    store_url: str, tmp_path: Path, peer_b: dict[str, str], real_kb: KnowledgeBase
) -> Iterator[tuple[TestClient, Store]]:
    """Node A (centre A, user mme-a): the ALPS example and an ALPS-like case shared, an
    unrelated case shared, an ALPS-like case not shared; centre Z's ALPS-like case shared by Z."""
    with Store.open(store_url) as store:
        populate(
            store,
            "A",
            "mme-a",
            [
                (example_case(), True),
                (simple_case("a-alps-like", "PA-2", ALPS_LIKE[:4]), True),
                (simple_case("a-unrelated", "PA-3", UNRELATED), True),
                (simple_case("a-private", "PA-4", ALPS_LIKE), False),
            ],
        )
        populate(store, "Z", "mme-z", [(simple_case("z-alps", "PZ-1", ALPS_LIKE), True)])
    config = write_config(tmp_path / "mme.toml", centre="A", user="mme-a", peers=[peer_b])
    app = create_app(database_url=store_url, mme_config=config, kb=real_kb)
    with TestClient(app) as client:
        yield client, app.state.services.store


def test_a_similar_patient_is_found_first(node: tuple[TestClient, Store]) -> None:
    client, _ = node
    reply = client.post("/match", json=query_body(), headers=HEADERS)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == V10
    answer = MatchResponse.model_validate_json(reply.content)
    ids = [r.patient.id for r in answer.results]
    assert ids[0] in ("raredx-demo-alps-fas-001", "a-alps-like")
    assert set(ids[:2]) == {"raredx-demo-alps-fas-001", "a-alps-like"}
    assert "a-private" not in ids  # not shared
    assert "z-alps" not in ids  # another centre's case
    scores = [r.score.patient for r in answer.results]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    if "a-unrelated" in ids:
        assert scores[ids.index("a-unrelated")] < scores[0] / 2


def test_only_what_the_spec_allows_leaves_the_node(node: tuple[TestClient, Store]) -> None:
    client, _ = node
    reply = client.post("/match", json=query_body(), headers=HEADERS)
    text = reply.text
    assert "DEMO-ALPS-001" not in text  # the subject's pseudonym stays home
    assert "PA-2" not in text
    example = next(r for r in reply.json()["results"] if r["patient"]["id"].startswith("raredx"))
    patient = example["patient"]
    assert patient["contact"] == {
        "name": "MME desk, centre A",
        "href": "mailto:mme-a@example.org",
        "institution": "Test hospital",
    }
    assert set(patient) <= {
        "id",
        "contact",
        "species",
        "sex",
        "ageOfOnset",
        "disorders",
        "features",
        "genomicFeatures",
    }
    assert {"id": "MIM:601859"} in patient["disorders"]
    genes = {g["gene"]["_geneName"] for g in patient["genomicFeatures"]}
    assert "FAS" in genes
    fas = next(g for g in patient["genomicFeatures"] if g["gene"]["_geneName"] == "FAS")
    assert fas["gene"]["id"].startswith("ENSG")
    excluded = {f["id"] for f in patient["features"] if f["observed"] == "no"}
    assert "HP:0002718" in excluded  # excluded findings are shared as observed "no"


def test_a_gene_only_query_matches_by_gene(node: tuple[TestClient, Store]) -> None:
    client, _ = node
    body = query_body(terms=(), genes=("ENSG00000026103",))  # FAS, by Ensembl id
    del body["patient"]["features"]
    reply = client.post("/match", json=body, headers=HEADERS)
    assert reply.status_code == 200, reply.text
    results = reply.json()["results"]
    assert results[0]["patient"]["id"] == "raredx-demo-alps-fas-001"
    assert results[0]["score"]["patient"] == pytest.approx(1.0)


def test_versions_negotiated(node: tuple[TestClient, Store]) -> None:
    client, _ = node
    for sent, answered in (
        (V10, V10),
        (V11, V11),
        ("application/vnd.ga4gh.matchmaker.v1.7+json", V11),
    ):
        headers = {**HEADERS, "Content-Type": sent, "Accept": sent}
        reply = client.post("/match", content=json.dumps(query_body()), headers=headers)
        assert reply.status_code == 200, reply.text
        assert reply.headers["content-type"] == answered


def test_reads_are_audited_as_the_node_user(node: tuple[TestClient, Store]) -> None:
    client, store = node
    client.post("/match", json=query_body(), headers=HEADERS)
    with store.transaction() as s:
        rows = s.execute(
            select(m.AuditEntry.entity_id, m.User.name)
            .join(m.User, m.User.id == m.AuditEntry.user_id)
            .where(m.AuditEntry.action == "read", m.AuditEntry.entity == "case")
        ).all()
    assert {name for _, name in rows} == {"mme-a"}
    assert "a-private" not in {case for case, _ in rows}


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Content-Type": V10}, 401),
        ({"Content-Type": V10, "X-Auth-Token": "wrong"}, 401),
        ({"X-Auth-Token": TOKEN_FROM_B, "Content-Type": "application/json"}, 415),
        ({"X-Auth-Token": TOKEN_FROM_B}, 415),
        ({"X-Auth-Token": TOKEN_FROM_B, "Content-Type": "text/plain"}, 415),
        (
            {
                "X-Auth-Token": TOKEN_FROM_B,
                "Content-Type": "application/vnd.ga4gh.matchmaker.v2.0+json",
            },
            406,
        ),
        ({**HEADERS, "Accept": "application/vnd.ga4gh.matchmaker.v0.9+json"}, 406),
        ({**HEADERS, "Accept": "text/html"}, 406),
    ],
)
def test_refusals_by_header(
    node: tuple[TestClient, Store], headers: dict[str, str], status: int
) -> None:
    client, _ = node
    reply = client.post("/match", content=json.dumps(query_body()), headers=headers)
    assert reply.status_code == status
    assert reply.headers["content-type"].startswith("application/vnd.ga4gh.matchmaker.v1.")
    assert isinstance(reply.json()["message"], str)
    if status == 406:
        assert reply.json()["supportedVersions"] == ["1.0", "1.1"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 400),
        (b"{not json", 400),
        (b"\xff\xfe", 400),
        (b"[1, 2]", 400),
        (b"{}", 422),
        (json.dumps({"patient": {"id": "x"}}).encode(), 422),
        (
            json.dumps(
                {"patient": {"id": "x", "contact": {"name": "n", "href": "mailto:a@b"}}}
            ).encode(),
            422,
        ),  # neither features nor genomicFeatures
        (
            json.dumps(
                {
                    "patient": {
                        "id": "x",
                        "contact": {"name": "n", "href": "javascript:alert(1)"},
                        "features": [{"id": "HP:0001744"}],
                    }
                }
            ).encode(),
            422,
        ),
        (json.dumps(query_body(terms=("HP:12",))).encode(), 422),
        (json.dumps(query_body(terms=("HP:0001744",) * 501)).encode(), 422),
        (json.dumps({"patient": {**query_body()["patient"], "id": "x" * 256}}).encode(), 422),
    ],
)
def test_refusals_by_body(node: tuple[TestClient, Store], body: bytes, status: int) -> None:
    client, _ = node
    reply = client.post("/match", content=body, headers=HEADERS)
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/vnd.ga4gh.matchmaker.v1.1+json"
    assert reply.json()["message"]


def test_oversized_body_refused(node: tuple[TestClient, Store]) -> None:
    client, _ = node
    body = b'{"patient": {"id": "' + b"x" * MAX_BODY_BYTES + b'"}}'
    reply = client.post("/match", content=body, headers=HEADERS)
    assert reply.status_code == 413


def test_other_methods_refused(node: tuple[TestClient, Store]) -> None:
    client, _ = node
    reply = client.get("/match", headers=HEADERS)
    assert reply.status_code == 405
    assert reply.headers["allow"] == "POST"


def test_node_without_mme_settings_refuses(
    store_url: str, tmp_path: Path, real_kb: KnowledgeBase
) -> None:
    missing = tmp_path / "no-such-mme.toml"
    assert not missing.exists()
    with Store.open(store_url) as store:
        store.add_centre("A", "A")
    # No config file: the app starts, /match refuses every token.
    app = create_app(database_url=store_url, kb=real_kb)
    with TestClient(app) as client:
        reply = client.post("/match", content=json.dumps(query_body()), headers=HEADERS)
    assert reply.status_code == 401
    assert "no peers" in reply.json()["message"]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    patient=st.dictionaries(
        st.sampled_from(["id", "contact", "features", "genomicFeatures", "sex", "disorders", "x"]),
        _json,
    )
)
def test_arbitrary_bodies_never_crash(
    node: tuple[TestClient, Store], patient: dict[str, Any]
) -> None:
    client, _ = node
    reply = client.post("/match", content=json.dumps({"patient": patient}), headers=HEADERS)
    assert reply.status_code in (200, 422), reply.text
