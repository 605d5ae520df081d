"""Auth fixtures: the real app over a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from raredx.api import create_app
from raredx.api.auth import create_user
from raredx.kb import KnowledgeBase
from tests.store.conftest import make_store, postgres_server, store_url

__all__ = ["make_store", "postgres_server", "store_url"]

PASSWORD = "correct horse battery"


@pytest.fixture
def app(store_url: str, real_kb: KnowledgeBase) -> Iterator[FastAPI]:
    """The app with centres A and B; users alice (clinician, A), root (admin, A), bob (B)."""
    application = create_app(database_url=store_url, kb=real_kb)
    svc = application.state.services
    svc.store.add_centre("A", "Centre A")
    svc.store.add_centre("B", "Centre B")
    create_user(svc, "alice", "clinician", "A", PASSWORD, by=None)
    create_user(svc, "root", "admin", "A", PASSWORD, by=None)
    create_user(svc, "bob", "clinician", "B", PASSWORD, by=None)
    yield application
    svc.store.close()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def login(client: TestClient, user: str, password: str = PASSWORD) -> str:
    """Log `user` in with the JSON flavour of /auth/login; returns the CSRF token."""
    reply = client.post(
        "/auth/login",
        data={"username": user, "password": password},
        headers={"Accept": "application/json"},
    )
    assert reply.status_code == 200, reply.text
    token: str = reply.json()["csrf_token"]
    return token
