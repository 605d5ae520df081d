"""REST API fixtures: the real app over real stores (SQLite and PostgreSQL, the store tests'
fixtures), the real bundled KB, users with API tokens, example cases and VCFs."""

from __future__ import annotations

import itertools
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from raredx.api import Services, create_app
from raredx.api.auth import create_user
from raredx.api.rest import include_rest
from raredx.kb import KnowledgeBase
from raredx.store import accounts
from tests.store.conftest import EXAMPLE, _free_port, make_store, postgres_server, store_url

__all__ = ["make_store", "postgres_server", "store_url"]

DATA = Path(__file__).resolve().parents[1] / "store" / "data"
ALPS_VCF = DATA / "alps-fas.vcf"  # hand-written: a FAS stop-gain in sample S1, GRCh37
PASSWORD = "correct-horse-battery-staple"
RAREDX = str(Path(sys.executable).with_name("raredx"))

ALPS_LIKE = ["HP:0002716", "HP:0001744", "HP:0001890", "HP:0001873", "HP:0002851"]
"""Lymphadenopathy, splenomegaly, AIHA, thrombocytopenia, double-negative T cells."""

_names = itertools.count(1)


def unique(prefix: str) -> str:
    """A name no other test of the session uses."""
    return f"{prefix}{next(_names)}"


@dataclass
class Api:
    """The app under test, its client, and helpers to make users and cases."""

    app: FastAPI
    client: TestClient

    @property
    def svc(self) -> Services:
        found: Services = self.app.state.services
        return found

    def user(self, role: str = "geneticist", centre: str | None = None) -> dict[str, str]:
        """Headers authenticating a new user of `centre` (created if needed) with `role`."""
        centre = centre or unique("C")
        if centre not in accounts.centre_codes(self.svc.store):
            self.svc.store.add_centre(centre, f"Centre {centre}")
        name = unique(f"{role[:3]}-")
        create_user(self.svc, name, role, centre, PASSWORD, by=None)
        _, token = accounts.add_api_token(self.svc.store, name, "tests", by=name)
        return {"Authorization": f"Bearer {token}"}

    def new_case(self, headers: dict[str, str], **body: Any) -> dict[str, Any]:
        """A case created through the API (ALPS-like phenotype unless `observed` is given)."""
        payload = {"patient": unique("P-"), "observed": ALPS_LIKE, **body}
        reply = self.client.post("/api/v1/cases", json=payload, headers=headers)
        assert reply.status_code == 201, reply.text
        found: dict[str, Any] = reply.json()
        return found

    def import_example(self, headers: dict[str, str]) -> dict[str, Any]:
        """The bundled ALPS phenopacket (FAS, subject DEMO-ALPS-001), under a fresh id."""
        text = EXAMPLE.read_text(encoding="utf-8").replace(
            "raredx-demo-alps-fas-001", unique("alps-")
        )
        reply = self.client.post(
            "/api/v1/cases/import",
            content=text.encode(),
            headers={**headers, "Content-Type": "application/json"},
        )
        assert reply.status_code == 201, reply.text
        found: dict[str, Any] = reply.json()
        return found

    def wait(self, job_id: str, headers: dict[str, str], timeout: float = 120) -> dict[str, Any]:
        """The job's final state (polls until done or failed)."""
        deadline = time.monotonic() + timeout
        while True:
            reply = self.client.get(f"/api/v1/jobs/{job_id}", headers=headers)
            assert reply.status_code == 200, reply.text
            job: dict[str, Any] = reply.json()
            if job["state"] in ("done", "failed") or time.monotonic() > deadline:
                return job
            time.sleep(0.05)


def open_api(url: str, kb: KnowledgeBase) -> Iterator[Api]:
    """The real app on `url` with the REST API, sharing the session's KB (its models and
    indexes are built once per KB object)."""
    app = create_app(database_url=url, mme_config=None)
    include_rest(app)  # a no-op once create_app calls it
    app.state.services = replace(app.state.services, kb=kb)
    with TestClient(app) as client:
        yield Api(app, client)


@pytest.fixture
def api(store_url: str, real_kb: KnowledgeBase) -> Iterator[Api]:
    """The app over a fresh store, on SQLite and on PostgreSQL."""
    yield from open_api(store_url, real_kb)


@pytest.fixture(scope="module")
def shared_api(tmp_path_factory: pytest.TempPathFactory, real_kb: KnowledgeBase) -> Iterator[Api]:
    """One app over one SQLite store for a whole module (for endpoints that do not depend on
    the database: each test makes its own centre and users)."""
    path = tmp_path_factory.mktemp("api") / "store.sqlite3"
    yield from open_api(f"sqlite:///{path}", real_kb)


@pytest.fixture(scope="module")
def headers(shared_api: Api) -> dict[str, str]:
    """A geneticist of a fresh centre in `shared_api`."""
    return shared_api.user("geneticist")


_BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def bgzip(data: bytes, block: int = 4096) -> bytes:
    """`data` as BGZF (blocked gzip, as bgzip writes it)."""
    out = bytearray()
    for i in range(0, len(data), block):
        chunk = data[i : i + block]
        comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = comp.compress(chunk) + comp.flush()
        out += b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00"
        out += struct.pack("<H", len(body) + 25) + body
        out += struct.pack("<II", zlib.crc32(chunk), len(chunk))
    return bytes(out + _BGZF_EOF)


@dataclass(frozen=True)
class Served:
    """A running ``raredx serve``: its base URL, port and process."""

    url: str
    port: int
    process: subprocess.Popen[bytes]


@contextmanager
def serve(env: dict[str, str], workers: int, log: Path) -> Iterator[Served]:
    """A real ``raredx serve --workers N`` on a free loopback port, once it answers."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [RAREDX, "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*command, "--workers", str(workers)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, f"raredx serve exited: {log.read_text()}"
            try:
                if httpx.get(f"{url}/api/v1/kb", timeout=2.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"raredx serve did not start: {log.read_text()}"
            time.sleep(0.2)
        yield Served(url, port, process)
    finally:
        process.terminate()
        process.wait(timeout=60)
