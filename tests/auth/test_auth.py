"""Accounts, sessions, CSRF and API tokens on the real app."""

from __future__ import annotations

import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from raredx.api import create_app
from raredx.api.auth import LOCKOUT_FAILURES, first_start, safe_next
from raredx.api.security import hash_password, verify_password
from raredx.kb import KnowledgeBase
from raredx.store import accounts
from raredx.store import models as m
from tests.auth.conftest import PASSWORD, login


def test_login_opens_a_session_and_me_tells_who(client: TestClient) -> None:
    csrf = login(client, "alice")
    reply = client.get("/api/v1/me")
    assert reply.json() == {"user": "alice", "role": "clinician", "centre": "A", "csrf_token": csrf}
    cookie = client.cookies.get("raredx_session")
    assert cookie and "alice" not in cookie  # signed, base64: not the plain name
    assert PASSWORD not in (cookie or "")


def test_form_login_redirects_only_to_local_paths(client: TestClient) -> None:
    for target, expected in (
        ("/cases/x", "/cases/x"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("/\\evil", "/"),
    ):
        reply = client.post(
            "/auth/login",
            data={"username": "alice", "password": PASSWORD, "next": target},
            follow_redirects=False,
        )
        assert reply.status_code == 303
        assert reply.headers["location"] == expected
    assert safe_next(None) == "/"


@pytest.mark.parametrize(
    ("user", "password"), [("alice", "wrong password"), ("nobody", PASSWORD), ("alice", "")]
)
def test_bad_credentials_are_refused(client: TestClient, user: str, password: str) -> None:
    reply = client.post("/auth/login", data={"username": user, "password": password})
    assert reply.status_code in (401, 422)
    assert client.get("/api/v1/me").status_code == 401


def test_repeated_failures_lock_the_name(client: TestClient) -> None:
    for _ in range(LOCKOUT_FAILURES):
        client.post("/auth/login", data={"username": "root", "password": "nope nope nope"})
    reply = client.post("/auth/login", data={"username": "root", "password": PASSWORD})
    assert reply.status_code == 401
    assert "too many" in reply.json()["detail"]
    login(client, "alice")  # other names are not locked


def test_unsafe_requests_with_a_session_need_the_csrf_token(client: TestClient) -> None:
    csrf = login(client, "alice")
    assert client.post("/api/v1/tokens", json={"label": "x"}).status_code == 403
    wrong = client.post("/api/v1/tokens", json={"label": "x"}, headers={"X-CSRF-Token": "no"})
    assert wrong.status_code == 403
    right = client.post("/api/v1/tokens", json={"label": "x"}, headers={"X-CSRF-Token": csrf})
    assert right.status_code == 201
    # The form flavour carries it as a field.
    out = client.post("/auth/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/api/v1/me").status_code == 401


def test_api_tokens_authenticate_without_cookie_or_csrf(app: FastAPI) -> None:
    with TestClient(app) as browser:
        csrf = login(browser, "alice")
        made = browser.post(
            "/api/v1/tokens", json={"label": "pipeline"}, headers={"X-CSRF-Token": csrf}
        ).json()
    token = made["token"]
    assert token.startswith("rdx_")
    with TestClient(app) as api:
        bearer = {"Authorization": f"Bearer {token}"}
        assert api.get("/api/v1/me", headers=bearer).json()["user"] == "alice"
        listed = api.get("/api/v1/tokens", headers=bearer).json()
        assert [t["label"] for t in listed] == ["pipeline"] and "token" not in listed[0]
        assert listed[0]["last_used"] is not None
        assert api.delete(f"/api/v1/tokens/{made['id']}", headers=bearer).status_code == 204
        assert api.get("/api/v1/me", headers=bearer).status_code == 401
        for bad in ("rdx_nope", "", "x" * 5000):
            assert (
                api.get("/api/v1/me", headers={"Authorization": f"Bearer {bad}"}).status_code == 401
            )
    with app.state.services.store.transaction() as s:
        stored = s.scalars(select(m.ApiToken.token_sha256)).all()
    assert token not in stored  # only the digest is kept


def test_a_token_revoked_elsewhere_stops_working_within_the_cache_time(app: FastAPI) -> None:
    # Revoked through the store (as another server process or the CLI would): this process
    # trusts its cached check for at most `ttl` seconds, then asks the store again.
    store = app.state.services.store
    cache = app.state.services.tokens
    cache.ttl = 0.3
    token_id, token = accounts.add_api_token(store, "alice", "ci", by="alice")
    bearer = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as api:
        assert api.get("/api/v1/me", headers=bearer).status_code == 200
        assert cache.get(token) is not None
        accounts.revoke_api_token(store, token_id, by="alice")
        time.sleep(0.4)
        assert api.get("/api/v1/me", headers=bearer).status_code == 401
        assert cache.get(token) is None


def test_a_token_label_with_control_characters_is_refused(app: FastAPI) -> None:
    # PostgreSQL refuses NUL in text outright: a clear 400 on both stores, nothing written.
    with TestClient(app) as browser:
        csrf = login(browser, "alice")
        for label in ("\x00", "a\x00b", "tab\there", "bell\x07"):
            reply = browser.post(
                "/api/v1/tokens", json={"label": label}, headers={"X-CSRF-Token": csrf}
            )
            assert reply.status_code == 400, (label, reply.text)
            assert "printable" in reply.text
    assert accounts.api_tokens(app.state.services.store, "alice") == ()
    with TestClient(app) as anyone:
        reply = anyone.post("/auth/login", json={"username": "a\x00", "password": "x\x00"})
        assert reply.status_code in (400, 401, 422), reply.text


def test_another_users_token_cannot_be_revoked(app: FastAPI) -> None:
    store = app.state.services.store
    token_id, _ = accounts.add_api_token(store, "alice", "a", by="alice")
    with TestClient(app) as c:
        csrf = login(c, "bob")
        reply = c.delete(f"/api/v1/tokens/{token_id}", headers={"X-CSRF-Token": csrf})
    assert reply.status_code == 400
    assert not accounts.api_tokens(store, "alice")[0].revoked


def test_a_password_change_ends_open_sessions(app: FastAPI, client: TestClient) -> None:
    login(client, "alice")
    assert client.get("/api/v1/me").status_code == 200
    accounts.set_password(
        app.state.services.store, "alice", hash_password("another one!"), by="root"
    )
    assert client.get("/api/v1/me").status_code == 401


def test_admins_manage_users_of_their_own_centre(client: TestClient, app: FastAPI) -> None:
    csrf = login(client, "alice")
    assert client.get("/api/v1/users").status_code == 403  # not an admin
    client.cookies.clear()
    csrf = login(client, "root")
    names = {u["name"] for u in client.get("/api/v1/users").json()}
    assert names == {"alice", "root"}  # bob is in centre B
    made = client.post(
        "/api/v1/users",
        headers={"X-CSRF-Token": csrf},
        json={"name": "carol", "role": "geneticist", "password": "long enough pw"},
    )
    assert made.status_code == 201 and made.json()["centre"] == "A"
    weak = client.post(
        "/api/v1/users",
        headers={"X-CSRF-Token": csrf},
        json={"name": "dave", "role": "clinician", "password": "short"},
    )
    assert weak.status_code == 400
    hostile = client.post(
        "/api/v1/users",
        headers={"X-CSRF-Token": csrf},
        json={"name": "<script>", "role": "clinician", "password": "x" * 12},
    )
    assert hostile.status_code == 422
    user = accounts.user_record(app.state.services.store, "carol")
    assert user is not None and verify_password(user.password_hash, "long enough pw")


def test_security_headers_and_body_limit(client: TestClient) -> None:
    reply = client.get("/api/v1/me")
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in reply.headers["content-security-policy"]
    big = client.post(
        "/api/v1/tokens", content=b"x" * (17 << 20), headers={"Content-Type": "application/json"}
    )
    assert big.status_code == 413


def test_first_start_creates_one_admin(store_url: str, real_kb: KnowledgeBase) -> None:
    application = create_app(database_url=store_url, kb=real_kb)
    svc = application.state.services
    try:
        password = first_start(svc)
        assert password is not None and len(password) >= 12
        admin = accounts.user_record(svc.store, "admin")
        assert admin is not None and admin.role == "admin" and admin.centre == "LOCAL"
        assert verify_password(admin.password_hash, password)
        assert first_start(svc) is None
    finally:
        svc.store.close()
