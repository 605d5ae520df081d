"""Per-centre isolation: a user of centre B gets, for every case endpoint of a centre-A case,
exactly the reply a case that does not exist gets (404), and never sees A's cases in lists,
matches, jobs or reanalysis."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import ALPS_LIKE, ALPS_VCF, Api

CASE_PARAM = "{case_id}"

# A valid request for each case endpoint, so that only visibility can refuse it.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/v1/cases/{case_id}"): {},
    ("GET", "/api/v1/cases/{case_id}/phenopacket"): {},
    ("POST", "/api/v1/cases/{case_id}/observations"): {
        "json": {"provenance": "typed", "terms": [{"id": "HP:0001250"}]}
    },
    ("POST", "/api/v1/cases/{case_id}/observations/{observation_id}/review"): {
        "json": {"status": "rejected"}
    },
    ("POST", "/api/v1/cases/{case_id}/decisions"): {
        "json": {"kind": "diagnosis_confirmed", "value": {"disease_id": "OMIM:601859"}}
    },
    ("PUT", "/api/v1/cases/{case_id}/mme-sharing"): {"json": {"shared": True}},
    ("GET", "/api/v1/cases/{case_id}/similar"): {},
    ("PUT", "/api/v1/cases/{case_id}/vcf"): {
        "params": {"filename": "b.vcf"},
        "content": ALPS_VCF.read_bytes(),
    },
    ("POST", "/api/v1/cases/{case_id}/analyses"): {},
    ("GET", "/api/v1/cases/{case_id}/analyses/latest"): {},
    ("GET", "/api/v1/cases/{case_id}/explain"): {"params": {"gene": "FAS"}},
}


def _case_routes(api: Api) -> set[tuple[str, str]]:
    paths = api.client.get("/openapi.json").json()["paths"]
    return {
        (method.upper(), path)
        for path, operations in paths.items()
        if CASE_PARAM in path
        for method in operations
    }


def test_every_case_endpoint_answers_404_to_another_centre(api: Api) -> None:
    a = api.user("geneticist", centre="A")
    b = api.user("geneticist", centre="B")
    case = api.new_case(a, observed=ALPS_LIKE)
    cid = case["id"]
    obs_id = case["observations"][0]["id"]
    assert api.client.post(f"/api/v1/cases/{cid}/analyses", headers=a).status_code == 201
    assert _case_routes(api) == set(BODIES), "a case endpoint is not covered here"
    before = api.client.get(f"/api/v1/cases/{cid}", headers=a).json()

    for (method, template), kwargs in sorted(BODIES.items()):
        for target in (cid, "no-such-case"):
            url = template.replace(CASE_PARAM, target).replace("{observation_id}", str(obs_id))
            reply = api.client.request(method, url, headers=b, **kwargs)
            assert reply.status_code == 404, (method, template, target, reply.text)
            assert reply.json() == {"detail": f"no case {target!r}", "problems": []}
    assert api.client.get(f"/api/v1/cases/{cid}", headers=a).json() == before  # untouched

    for (method, template), kwargs in sorted(BODIES.items()):  # the owner's centre may
        url = template.replace(CASE_PARAM, cid).replace("{observation_id}", str(obs_id))
        owner = api.client.request(method, url, headers=a, **kwargs)
        assert owner.status_code < 400, (method, template, owner.text)


def test_lists_matches_jobs_and_reanalysis_stay_in_the_centre(api: Api) -> None:
    a = api.user("geneticist", centre="A")
    b = api.user("geneticist", centre="B")
    a_case = api.new_case(a)["id"]
    b_case = api.new_case(b)["id"]
    for status in (None, "unsolved", "new_results"):
        params = {"status": status} if status else {}
        listed = api.client.get("/api/v1/cases", params=params, headers=b).json()["cases"]
        assert a_case not in {c["id"] for c in listed}
    assert [c["id"] for c in api.client.get("/api/v1/cases", headers=b).json()["cases"]] == [b_case]
    matches = api.client.get(f"/api/v1/cases/{b_case}/similar", headers=b).json()["matches"]
    assert matches == []  # A's identical case is not B's to see

    vcf = api.import_example(a)
    upload = api.client.put(
        f"/api/v1/cases/{vcf['id']}/vcf",
        params={"filename": "alps.vcf"},
        content=ALPS_VCF.read_bytes(),
        headers=a,
    )
    assert upload.status_code == 201, upload.text
    reply = api.client.post(f"/api/v1/cases/{vcf['id']}/analyses", headers=a)
    assert reply.status_code == 202, reply.text
    job_id = reply.json()["job_id"]
    assert api.client.get(f"/api/v1/jobs/{job_id}", headers=b).status_code == 404
    assert api.wait(job_id, a)["state"] == "done"
    assert api.client.get(f"/api/v1/jobs/{job_id}", headers=b).json() == {
        "detail": f"no job {job_id!r}",
        "problems": [],
    }

    reply = api.client.post("/api/v1/reanalyze", json={"since_kb": "hpo-2099"}, headers=b)
    job = api.wait(reply.json()["job_id"], b)
    assert job["state"] == "done" and a_case not in job["result"]["reanalysed"]


def test_unauthenticated_requests_are_401(api: Api) -> None:
    a = api.user("clinician", centre="A")
    cid = api.new_case(a)["id"]
    for method, template in sorted(BODIES):
        url = template.replace(CASE_PARAM, cid).replace("{observation_id}", "1")
        reply = api.client.request(method, url, **BODIES[(method, template)])
        assert reply.status_code == 401, (method, template)
    assert api.client.get("/api/v1/cases").status_code == 401
    assert api.client.get("/api/v1/jobs/abc").status_code == 401
