"""Two raredx nodes on loopback, each a real `raredx serve` process with its own store and
MME settings, querying each other with `raredx mme query`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import pytest

from raredx.kb import KnowledgeBase
from raredx.mme.config import token_digest
from raredx.store import Store
from tests.mme.conftest import (
    ALPS_LIKE,
    TOKEN_FROM_A,
    TOKEN_FROM_B,
    UNRELATED,
    example_case,
    populate,
    simple_case,
    write_config,
)
from tests.store.conftest import _free_port

RAREDX = str(Path(sys.executable).with_name("raredx"))


@dataclass(frozen=True)
class Node:
    name: str
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]


def _start(name: str, env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [RAREDX, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_until_up(node: Node, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            raise AssertionError(f"{node.name} exited: {log.read_text()}")
        try:
            httpx.get(f"{node.url}/match", timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"{node.name} did not start: {log.read_text()}")


@pytest.fixture(scope="module")
def nodes(
    tmp_path_factory: pytest.TempPathFactory, real_kb: KnowledgeBase
) -> Iterator[dict[str, Node]]:
    """Node A (centre A) holds the ALPS example; node B (centre B) an ALPS-like case and an
    unrelated one. Each accepts the other's token and knows the other's URL."""
    root = tmp_path_factory.mktemp("two-nodes")
    ports = {"a": _free_port(), "b": _free_port()}
    holdings = {
        "a": [(example_case(), True)],
        "b": [
            (simple_case("b-alps", "PB-1", ALPS_LIKE, excluded=("HP:0002718",)), True),
            (simple_case("b-neuro", "PB-2", UNRELATED), True),
        ],
    }
    tokens = {"a": TOKEN_FROM_A, "b": TOKEN_FROM_B}
    started: dict[str, Node] = {}
    try:
        for name, other in (("a", "b"), ("b", "a")):
            url = f"sqlite:///{root / f'{name}.sqlite3'}"
            with Store.open(url) as store:
                populate(store, name.upper(), f"mme-{name}", holdings[name])
            config = write_config(
                root / f"{name}.toml",
                centre=name.upper(),
                user=f"mme-{name}",
                peers=[
                    {
                        "name": f"node-{other}",
                        "base_url": f"http://127.0.0.1:{ports[other]}",
                        "token": tokens[name],
                        "accept_token_sha256": token_digest(tokens[other]),
                    }
                ],
            )
            env = {
                **os.environ,
                "RAREDX_DATABASE_URL": url,
                "RAREDX_MME_CONFIG": str(config),
                "RAREDX_USER": f"mme-{name}",
            }
            log = root / f"{name}.log"
            started[name] = Node(
                name, f"http://127.0.0.1:{ports[name]}", env, _start(name, env, ports[name], log)
            )
        for name, node in started.items():
            _wait_until_up(node, root / f"{name}.log")
        yield started
    finally:
        for node in started.values():
            node.process.terminate()
            node.process.wait(timeout=30)


def _query(node: Node, case_id: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RAREDX, "mme", "query", case_id, "--format", "json", *extra],
        env=node.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_finds_b_s_similar_patient(nodes: dict[str, Node]) -> None:
    done = _query(nodes["a"], "raredx-demo-alps-fas-001")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    (peer,) = answer["answers"]
    assert peer["peer"] == "node-b" and peer["error"] is None
    results = peer["results"]
    assert results[0]["patient"]["id"] == "b-alps"
    assert results[0]["patient"]["contact"]["href"] == "mailto:mme-b@example.org"
    assert 0.5 < results[0]["score"] <= 1.0
    assert all(r["patient"]["id"] != "b-neuro" or r["score"] < 0.5 for r in results)
    # What A sent is what `raredx mme patient` shows.
    shown = subprocess.run(
        [RAREDX, "mme", "patient", "raredx-demo-alps-fas-001"],
        env=nodes["a"].env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == answer["sent"]


def test_b_finds_a_s_patient_by_phenotype_and_gene(nodes: dict[str, Node]) -> None:
    done = _query(nodes["b"], "b-alps")
    assert done.returncode == 0, done.stderr
    (peer,) = json.loads(done.stdout)["answers"]
    assert peer["peer"] == "node-a"
    top = peer["results"][0]
    assert top["patient"]["id"] == "raredx-demo-alps-fas-001"
    assert "FAS" in {g["gene"].get("_geneName") for g in top["patient"]["genomicFeatures"]}
    assert {"id": "MIM:601859"} in top["patient"]["disorders"]


def test_a_wrong_token_is_reported_not_crashed(nodes: dict[str, Node], tmp_path: Path) -> None:
    node = nodes["a"]
    config = write_config(
        tmp_path / "bad.toml",
        centre="A",
        user="mme-a",
        peers=[
            {"name": "node-b", "base_url": nodes["b"].url, "token": "not-the-right-token"},
            {"name": "nobody", "base_url": f"http://127.0.0.1:{_free_port()}", "token": "t"},
        ],
    )
    done = _query(node, "raredx-demo-alps-fas-001", "--config", str(config))
    assert done.returncode == 1
    answers = {a["peer"]: a for a in json.loads(done.stdout)["answers"]}
    assert answers["node-b"]["error"].startswith("HTTP 401")
    assert "Connect" in answers["nobody"]["error"]


def test_an_unshared_case_is_not_sent(nodes: dict[str, Node]) -> None:
    done = _query(nodes["b"], "no-such-case")
    assert done.returncode == 2
    assert "no-such-case" in done.stderr
