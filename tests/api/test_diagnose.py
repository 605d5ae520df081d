"""``POST /api/v1/diagnose``: the JSON of ``raredx diagnose --format json``, nothing stored."""

from __future__ import annotations

import numpy as np
import orjson
from sqlalchemy import func, select
from typer.testing import CliRunner

from raredx.api.rest.common import json_bytes
from raredx.api.rest.diagnose import INLINE_TERMS
from raredx.api.rest.schemas import DiagnosisOut
from raredx.cli.app import app as cli_app
from raredx.diagnosis import diagnose
from raredx.rank import phenotype_model
from raredx.store import models as m
from tests.api.conftest import ALPS_LIKE, Api

URL = "/api/v1/diagnose"


def test_same_json_as_the_cli(shared_api: Api, headers: dict[str, str]) -> None:
    body = {
        "observed": ALPS_LIKE,
        "excluded": ["HP:0002240"],
        "age_years": 4,
        "sex": "M",
        "top": 5,
    }
    reply = shared_api.client.post(URL, json=body, headers=headers)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/json"
    found = reply.json()
    DiagnosisOut.model_validate(found)  # the documented schema is the real one
    result = CliRunner().invoke(
        cli_app,
        ["diagnose", "--hpo", "; ".join(ALPS_LIKE), "--not-hpo", "HP:0002240", "--age", "4",
         "--sex", "M", "--top", "5", "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert found == orjson.loads(result.stdout)
    assert len(found["diseases"]) == 5 and len(found["genes"]) == 5
    assert found["diseases"][0]["evidence"] and "never replaces" in found["notice"]


def test_explain_false_gives_the_same_ranking_without_evidence(
    shared_api: Api, headers: dict[str, str]
) -> None:
    full = shared_api.client.post(URL, json={"observed": ALPS_LIKE}, headers=headers).json()
    lean_reply = shared_api.client.post(
        URL, json={"observed": ALPS_LIKE, "explain": False}, headers=headers
    )
    assert lean_reply.status_code == 200, lean_reply.text
    lean = lean_reply.json()
    DiagnosisOut.model_validate(lean)
    assert all(d["evidence"] for d in full["diseases"])
    assert all(d["evidence"] == [] for d in lean["diseases"])
    for key in ("disease_id", "posterior", "log10_lr"):
        assert [d[key] for d in lean["diseases"]] == [d[key] for d in full["diseases"]]
    assert lean["genes"] == full["genes"]


def test_names_in_english_and_french_are_accepted(shared_api: Api, headers: dict[str, str]) -> None:
    body = {"observed": ["splénomégalie", "Lymphadenopathy", "HP_0001873"]}
    reply = shared_api.client.post(URL, json=body, headers=headers)
    assert reply.status_code == 200, reply.text
    ids = [t["id"] for t in reply.json()["observed"]]
    assert ids == ["HP:0001744", "HP:0002716", "HP:0001873"]


def test_nothing_is_stored_nor_audited(shared_api: Api, headers: dict[str, str]) -> None:
    def audit_rows() -> int:
        with shared_api.svc.store.transaction() as s:
            return int(s.scalar(select(func.count()).select_from(m.AuditEntry)) or 0)

    before = audit_rows()
    for _ in range(3):
        assert shared_api.client.post(URL, json={"observed": ALPS_LIKE}, headers=headers).is_success
    assert audit_rows() == before


def test_bad_phenotypes_are_422_with_every_problem(
    shared_api: Api, headers: dict[str, str]
) -> None:
    post = shared_api.client.post
    reply = post(URL, json={"observed": ["HP:9999999", "not a term at all"]}, headers=headers)
    assert reply.status_code == 422
    problems = reply.json()["problems"]
    assert len(problems) == 2 and "HP:9999999" in problems[0]
    contradiction = {"observed": ["HP:0001890"], "excluded": ["HP:0001890"]}
    assert post(URL, json=contradiction, headers=headers).status_code == 422
    only_onset = {"observed": ["HP:0003577"]}  # congenital onset: no phenotypic abnormality
    reply = post(URL, json=only_onset, headers=headers)
    assert reply.status_code == 422 and reply.json()["detail"] == "empty phenotype"
    for body in (
        {"observed": []},
        {"observed": ALPS_LIKE, "top": 0},
        {"observed": ALPS_LIKE, "top": 101},
        {"observed": ALPS_LIKE, "age_years": 151},
        {"observed": ALPS_LIKE, "sex": "X"},
        {"observed": "HP:0001744"},
        {"observed": [1, 2]},
        {"observed": ["HP:0001744\x00"]},
        {"observed": ["x" * 501]},
        {"observed": ["HP:0001744"] * 501},
        {"observed": ALPS_LIKE, "extra": True},
        {"observed": ["<script>alert(1)</script>"]},
    ):
        reply = post(URL, json=body, headers=headers)
        assert reply.status_code == 422, (body, reply.text)
    assert post(URL, json={"observed": ALPS_LIKE}).status_code == 401
    bad_token = {"Authorization": "Bearer rdx_nope"}
    assert post(URL, json={"observed": ALPS_LIKE}, headers=bad_token).status_code == 401


def test_a_large_phenotype_ranked_in_the_thread_pool_gives_the_library_answer(
    shared_api: Api, headers: dict[str, str]
) -> None:
    """More than INLINE_TERMS terms take the thread-pool path: same JSON as the library."""
    kb = shared_api.svc.kb
    model = phenotype_model(kb)
    # Distinct leaf-most terms (none an ancestor of another): nothing is dropped as implied.
    leaves = [
        kb.term_ids[i]
        for i in np.flatnonzero(model.phenotype_mask).tolist()
        if len(kb.descendants(i)) == 1
    ][: INLINE_TERMS + 20]
    reply = shared_api.client.post(URL, json={"observed": leaves, "top": 3}, headers=headers)
    assert reply.status_code == 200, reply.text
    expected = diagnose(leaves, kb=kb, top=3, top_genes=3, case_id="query")
    assert reply.json() == orjson.loads(json_bytes(expected.to_dict()))
    assert len(reply.json()["observed"]) == INLINE_TERMS + 20
