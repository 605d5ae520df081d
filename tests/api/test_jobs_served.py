"""Jobs under a real ``raredx serve --workers 2``: two uvicorn worker processes share the store,
so every poll of a job answers, whichever process accepts the connection; a restarted server
still knows the job. Users and tokens are made with the CLI, the case and VCF go through the
API, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx

from raredx.kb import KnowledgeBase
from raredx.store import Store, accounts
from tests.api.conftest import ALPS_VCF, PASSWORD, RAREDX, serve
from tests.store.conftest import EXAMPLE

_ORDER = {"queued": 0, "running": 1, "done": 2, "failed": 2}


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [RAREDX, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _poll(url: str, job_id: str, headers: dict[str, str], log: Path) -> list[dict[str, Any]]:
    """At least 20 polls (each on a new connection: the workers take turns accepting them),
    then on until the job has finished."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 120
    while len(seen) < 20 or seen[-1]["state"] in ("queued", "running"):
        reply = httpx.get(f"{url}/api/v1/jobs/{job_id}", headers=headers, timeout=10.0)
        assert reply.status_code == 200, (len(seen), reply.text, log.read_text())
        seen.append(reply.json())
        assert time.monotonic() < deadline, seen[-1]
        time.sleep(0.05)
    return seen


def test_every_worker_answers_for_every_job_and_a_restart_keeps_them(
    store_url: str, tmp_path: Path, real_kb: KnowledgeBase
) -> None:
    env = {**os.environ, "RAREDX_DATABASE_URL": store_url}
    env.pop("RAREDX_MME_CONFIG", None)
    _cli(env, "users", "add", "gina", "--centre", "RDB", "--role", "geneticist",
         "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    gina = {
        "Authorization": "Bearer " + _cli(env, "users", "token", "gina", "--label", "t").strip()
    }
    with Store.open(store_url) as store:  # another centre's user (the CLI takes seconds a call)
        store.add_centre("NCK", "Necker")
        store.add_user("nora", role="geneticist", centre="NCK")
        nora = {
            "Authorization": "Bearer " + accounts.add_api_token(store, "nora", "t", by="nora")[1]
        }
    log = tmp_path / "serve.log"

    with serve(env, 2, log) as served:
        url = served.url
        reply = httpx.post(
            f"{url}/api/v1/cases/import",
            content=EXAMPLE.read_bytes(),
            headers={**gina, "Content-Type": "application/json"},
            timeout=60.0,
        )
        assert reply.status_code == 201, reply.text
        case_id = reply.json()["id"]
        reply = httpx.put(
            f"{url}/api/v1/cases/{case_id}/vcf",
            params={"filename": "P1.vcf"},
            content=ALPS_VCF.read_bytes(),
            headers=gina,
            timeout=60.0,
        )
        assert reply.status_code == 201, reply.text
        reply = httpx.post(f"{url}/api/v1/cases/{case_id}/analyses", headers=gina, timeout=60.0)
        assert reply.status_code == 202, reply.text
        accepted = reply.json()
        job_id = accepted["job_id"]

        seen = _poll(url, job_id, gina, log)
        first = seen[0]
        for job in seen:  # one job, moving forward only
            assert {k: job[k] for k in ("job_id", "kind", "case_id", "created")} == {
                k: first[k] for k in ("job_id", "kind", "case_id", "created")
            }
        states = [_ORDER[job["state"]] for job in seen]
        assert states == sorted(states)
        final = seen[-1]
        assert final["state"] == "done", final
        assert all(job == final for job in seen[seen.index(final) :])
        assert final["result"]["genome"] is True and final["case_id"] == case_id
        latest = httpx.get(
            f"{url}/api/v1/cases/{case_id}/analyses/latest", headers=gina, timeout=60.0
        ).json()
        assert latest["id"] == final["result"]["analysis_id"]
        for _ in range(10):  # another centre never sees it, from any worker
            reply = httpx.get(f"{url}/api/v1/jobs/{job_id}", headers=nora, timeout=10.0)
            assert reply.status_code == 404 and reply.json()["detail"] == f"no job {job_id!r}"

        reply = httpx.post(f"{url}/api/v1/reanalyze", json={}, headers=gina, timeout=60.0)
        assert reply.status_code == 202, reply.text
        reanalysis = _poll(url, reply.json()["job_id"], gina, log)[-1]
        assert reanalysis["state"] == "done" and reanalysis["result"]["reanalysed"] == []

    with serve(env, 1, log) as served:  # a restart keeps the jobs' history
        url = served.url
        for job_id_, expected in ((job_id, final), (reanalysis["job_id"], reanalysis)):
            reply = httpx.get(f"{url}/api/v1/jobs/{job_id_}", headers=gina, timeout=10.0)
            assert reply.status_code == 200 and reply.json() == expected
