"""Web UI fixtures: the real app (with the web UI, and the REST API when it is installed) over
a real SQLite store, TestClient sessions logged in through the login form, and a real server
(uvicorn in a background thread) for the browser tests.

Centres RDB and NCK; users alice (clinician, RDB), gina (geneticist, RDB), nora (clinician,
NCK).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import NoMatchFound

from raredx.api import create_app
from raredx.api.auth import create_user
from raredx.api.deps import Services
from raredx.kb import KnowledgeBase
from raredx.web import include_web

PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[2]
ALPS = ROOT / "examples" / "alps-fas.phenopacket.json"
LABS = ROOT / "examples" / "aiha-3y.labs.csv"
NOTE_FR = ROOT / "examples" / "aiha-3y.note-fr.txt"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def has_route(app: FastAPI, name: str, **params: str) -> bool:
    """Whether `app` has a route called `name` (the endpoint's function name)."""
    try:
        app.url_path_for(name, **params)
    except NoMatchFound:
        return False
    return True


def build_app(database_url: str) -> FastAPI:
    """The app as `raredx serve` builds it, plus the web UI and the REST API when
    `create_app` does not register them yet."""
    app = create_app(database_url=database_url)
    if not has_route(app, "login_page"):
        include_web(app)
    if not has_route(app, "upload_vcf", case_id="x"):
        try:
            from raredx.api.rest import include_rest
        except ImportError:
            pass
        else:
            include_rest(app)
    return app


def populate(svc: Services) -> None:
    svc.store.add_centre("RDB", "Hôpital Robert-Debré")
    svc.store.add_centre("NCK", "Hôpital Necker")
    create_user(svc, "alice", "clinician", "RDB", PASSWORD, by=None)
    create_user(svc, "gina", "geneticist", "RDB", PASSWORD, by=None)
    create_user(svc, "nora", "clinician", "NCK", PASSWORD, by=None)


@pytest.fixture(scope="module")
def web_app(tmp_path_factory: pytest.TempPathFactory, real_kb: KnowledgeBase) -> Iterator[FastAPI]:
    folder = tmp_path_factory.mktemp("web-store")
    app = build_app(f"sqlite:///{folder / 'store.sqlite3'}")
    services: Services = app.state.services
    populate(services)
    yield app
    services.store.close()


@pytest.fixture
def svc(web_app: FastAPI) -> Services:
    found: Services = web_app.state.services
    return found


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def login(client: TestClient, user: str, password: str = PASSWORD) -> str:
    """Log in through the login form (as a browser does); returns the session's CSRF token."""
    page = client.get("/login")
    assert page.status_code == 200
    reply = client.post(
        "/login",
        data={"username": user, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert reply.status_code == 303, reply.text
    return csrf_of(client.get("/cases").text)


def browser_client(app: FastAPI) -> TestClient:
    """A TestClient that asks for HTML, as a browser does (the app answers JSON otherwise)."""
    return TestClient(app, headers={"Accept": "text/html,application/xhtml+xml"})


@dataclass
class Session:
    client: TestClient
    csrf: str
    user: str


@pytest.fixture
def alice(web_app: FastAPI) -> Session:
    client = browser_client(web_app)
    return Session(client, login(client, "alice"), "alice")


@pytest.fixture
def gina(web_app: FastAPI) -> Session:
    client = browser_client(web_app)
    return Session(client, login(client, "gina"), "gina")


@pytest.fixture
def nora(web_app: FastAPI) -> Session:
    client = browser_client(web_app)
    return Session(client, login(client, "nora"), "nora")


def new_case(session: Session, pseudonym: str, *, sex: str = "MALE", age: str = "4y") -> str:
    """Create a case through the form; returns its URL path."""
    reply = session.client.post(
        "/cases",
        data={"pseudonym": pseudonym, "sex": sex, "age": age, "csrf_token": session.csrf},
        follow_redirects=False,
    )
    assert reply.status_code == 303, reply.text
    location: str = reply.headers["location"]
    return location.split("?", 1)[0]


def add_term(session: Session, url: str, term: str, *, excluded: bool = False) -> None:
    reply = session.client.post(
        f"{url}/terms",
        data={
            "term": term,
            "state": "excluded" if excluded else "observed",
            "csrf_token": session.csrf,
        },
        follow_redirects=False,
    )
    assert reply.status_code == 303, reply.text


# ------------------------------------------------------------------------------ live server
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class LiveServer:
    url: str
    app: FastAPI


@pytest.fixture(scope="module")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, real_kb: KnowledgeBase
) -> Iterator[LiveServer]:
    """The app served by uvicorn on a free loopback port, in a background thread."""
    folder = tmp_path_factory.mktemp("web-live")
    app = build_app(f"sqlite:///{folder / 'store.sqlite3'}")
    populate(app.state.services)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="raredx-web-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the test server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
