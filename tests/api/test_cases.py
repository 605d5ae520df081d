"""Cases over HTTP on SQLite and PostgreSQL: create, import, export, observations and their
review, decisions, consent, analyses, explanations, similar cases, reanalysis."""

from __future__ import annotations

import json
from typing import Any

import orjson

from raredx.api.rest.schemas import AnalysisOut, CaseDetail, DiseaseExplanation, GeneExplanation
from raredx.case import read_phenopacket
from raredx.diagnosis import diagnose
from tests.api.conftest import ALPS_LIKE, EXAMPLE, Api, unique


def test_create_list_and_read_a_case(api: Api) -> None:
    h = api.user("clinician")
    created = api.new_case(h, id="rdb-001", patient="P-0001", sex="F", age_years=4.5,
                           excluded=["HP:0002240"])  # fmt: skip
    CaseDetail.model_validate(created)
    assert created["id"] == "rdb-001" and created["patient"] == "P-0001"
    assert created["status"] == "unsolved" and created["sex"] == "FEMALE"
    assert created["age_years"] == 4.5 and created["mme_shared"] is False
    obs = {(o["term_id"], o["excluded"], o["review_status"]) for o in created["observations"]}
    assert obs == {(t, False, "accepted") for t in ALPS_LIKE} | {("HP:0002240", True, "accepted")}
    assert created["analyses"] == [] and created["decisions"] == [] and created["vcfs"] == []

    generated = api.new_case(h)
    assert generated["id"].startswith("case-")
    listed = api.client.get("/api/v1/cases", headers=h).json()["cases"]
    assert [c["id"] for c in listed] == ["rdb-001", generated["id"]]
    assert api.client.get("/api/v1/cases?status=solved", headers=h).json() == {"cases": []}
    reply = api.client.get("/api/v1/cases/rdb-001", headers=h)
    assert reply.status_code == 200 and reply.json()["id"] == "rdb-001"

    again = api.client.post("/api/v1/cases", json={"id": "rdb-001", "patient": "P-2"}, headers=h)
    assert again.status_code == 409
    bad_term = {"patient": "P-3", "observed": ["HP:0001744", "HP:9999999"]}
    reply = api.client.post("/api/v1/cases", json=bad_term, headers=h)
    assert reply.status_code == 422 and "HP:9999999" in reply.json()["problems"][0]
    assert len(api.client.get("/api/v1/cases", headers=h).json()["cases"]) == 2  # nothing added


def test_hostile_ids_and_pseudonyms_are_refused(api: Api) -> None:
    h = api.user()
    for body in (
        {"id": "<script>alert(1)</script>", "patient": "P-1"},
        {"id": "../../etc/passwd", "patient": "P-1"},
        {"id": "a\x00b", "patient": "P-1"},
        {"id": "x" * 257, "patient": "P-1"},
        {"patient": "Jean Dupont <b>"},
        {"patient": ""},
        {"patient": "P\ud800"},
        {"patient": "P-1", "sex": "male"},
    ):
        data = json.dumps(body, ensure_ascii=True).encode()
        json_h = {**h, "Content-Type": "application/json"}
        reply = api.client.post("/api/v1/cases", content=data, headers=json_h)
        assert reply.status_code == 422, (body, reply.text)
    assert api.client.get("/api/v1/cases", headers=h).json() == {"cases": []}


def test_import_and_export_a_phenopacket(api: Api) -> None:
    h = api.user()
    created = api.import_example(h)
    assert created["patient"] == "DEMO-ALPS-001" and created["sex"] == "MALE"
    assert all(o["provenance"] == "phenopacket" for o in created["observations"])
    reply = api.client.get(f"/api/v1/cases/{created['id']}/phenopacket", headers=h)
    assert reply.status_code == 200
    exported = read_phenopacket(reply.json())
    original = read_phenopacket(EXAMPLE)
    assert exported.id == created["id"]
    assert exported.features == original.features and exported.subject == original.subject

    url = "/api/v1/cases/import"
    json_h = {**h, "Content-Type": "application/json"}
    assert api.client.post(url, content=EXAMPLE.read_bytes(), headers=json_h).status_code == 201
    again = api.client.post(url, content=EXAMPLE.read_bytes(), headers=json_h)
    assert again.status_code == 409
    packet = json.loads(EXAMPLE.read_text())
    for broken in (
        b"",
        b"{not json",
        b"[]",
        json.dumps({**packet, "id": "<img src=x>"}).encode(),
        json.dumps({**packet, "id": unique("p-"), "subject": {"id": "../x"}}).encode(),
        json.dumps({**packet, "id": unique("p-"), "phenotypicFeatures": [{"type": 3}]}).encode(),
    ):
        reply = api.client.post(url, content=broken, headers=json_h)
        assert reply.status_code == 422, (broken[:80], reply.text)
        assert reply.json()["detail"]
    huge = json.dumps({**packet, "id": unique("p-"), "x": "a" * (4 << 20)}).encode()
    assert api.client.post(url, content=huge, headers=json_h).status_code == 413
    assert len(api.client.get("/api/v1/cases", headers=h).json()["cases"]) == 2


def _add(api: Api, h: dict[str, str], case_id: str, provenance: str, *terms: Any) -> Any:
    body = {"provenance": provenance, "terms": list(terms)}
    return api.client.post(f"/api/v1/cases/{case_id}/observations", json=body, headers=h)


def test_observations_and_their_review(api: Api) -> None:
    h = api.user("clinician")
    case = api.new_case(h, observed=["HP:0001744"])
    cid = case["id"]
    reply = _add(
        api,
        h,
        cid,
        "note",
        {"id": "HP:0001873", "evidence": "thrombopénie"},
        {"id": "hépatomégalie", "excluded": True, "evidence": "pas d'hépatomégalie"},
    )
    assert reply.status_code == 201, reply.text
    proposed = reply.json()["observations"]
    assert [(o["term_id"], o["review_status"], o["provenance"]) for o in proposed] == [
        ("HP:0001873", "proposed", "note"),
        ("HP:0002240", "proposed", "note"),
    ]
    assert proposed[0]["evidence"] == "thrombopénie" and proposed[1]["excluded"] is True
    packet = api.client.get(f"/api/v1/cases/{cid}/phenopacket", headers=h).json()
    assert [f["type"]["id"] for f in packet["phenotypicFeatures"]] == ["HP:0001744"]

    review = f"/api/v1/cases/{cid}/observations/{proposed[0]['id']}/review"
    reply = api.client.post(review, json={"status": "accepted"}, headers=h)
    assert reply.status_code == 200, reply.text
    assert reply.json()["review_status"] == "accepted" and reply.json()["reviewed_by"]
    packet = api.client.get(f"/api/v1/cases/{cid}/phenopacket", headers=h).json()
    assert [f["type"]["id"] for f in packet["phenotypicFeatures"]] == ["HP:0001744", "HP:0001873"]
    other = f"/api/v1/cases/{cid}/observations/{proposed[1]['id']}/review"
    assert api.client.post(other, json={"status": "rejected"}, headers=h).status_code == 200
    bad = api.client.post(other, json={"status": "rejected", "excluded": True}, headers=h)
    assert bad.status_code == 422
    assert api.client.post(other, json={"status": "maybe"}, headers=h).status_code == 422

    # a typed term whose opposite is accepted: review that one instead
    reply = _add(api, h, cid, "typed", {"id": "HP:0001744", "excluded": True})
    assert reply.status_code == 409 and "instead" in reply.json()["problems"][0]
    # accepting a second observation of an accepted term
    dup = _add(api, h, cid, "labs", {"id": "HP:0001744", "excluded": True, "evidence": "US"})
    dup_id = dup.json()["observations"][0]["id"]
    reply = api.client.post(
        f"/api/v1/cases/{cid}/observations/{dup_id}/review", json={"status": "accepted"}, headers=h
    )
    assert reply.status_code == 409
    # unknown terms, unknown observations, observations of another case
    reply = _add(api, h, cid, "typed", {"id": "HP:0001744"}, {"id": "HP:1234567"})
    assert reply.status_code == 422 and reply.json()["problems"][0].startswith("terms[2]")
    other_case = api.new_case(h)
    for obs_id, target in ((999_999, cid), (proposed[0]["id"], other_case["id"])):
        url = f"/api/v1/cases/{target}/observations/{obs_id}/review"
        assert api.client.post(url, json={"status": "accepted"}, headers=h).status_code == 404
    for obs_id in ("0", "-1", "2147483648", "99999999999999999999", "abc"):
        url = f"/api/v1/cases/{cid}/observations/{obs_id}/review"
        assert api.client.post(url, json={"status": "accepted"}, headers=h).status_code == 422
    for body in (
        {"provenance": "typed", "terms": []},
        {"provenance": "phenopacket", "terms": [{"id": "HP:0001744"}]},
        {"provenance": "note", "terms": [{"id": "HP:0001744", "evidence": "x" * 2001}]},
        {"provenance": "note", "terms": [{"id": "HP:0001744", "evidence": "a\x00"}]},
    ):
        reply = api.client.post(f"/api/v1/cases/{cid}/observations", json=body, headers=h)
        assert reply.status_code == 422, (body, reply.text)


def test_decisions_consent_and_roles(api: Api) -> None:
    clinician = api.user("clinician", centre="RDB")
    geneticist = api.user("geneticist", centre="RDB")
    cid = api.new_case(clinician)["id"]
    url = f"/api/v1/cases/{cid}/decisions"
    variant = {
        "kind": "variant_classified",
        "value": {"gene": "TNFRSF6", "variant": "10-90771767-C-T",
                  "classification": "pathogenic", "zygosity": "heterozygous"},
    }  # fmt: skip
    assert api.client.post(url, json=variant, headers=clinician).status_code == 403
    reply = api.client.post(url, json=variant, headers=geneticist)
    assert reply.status_code == 201, reply.text
    assert reply.json()["value"]["gene"] == "FAS"  # previous symbol resolved
    confirmed = {"kind": "diagnosis_confirmed", "value": {"disease_id": "OMIM:601859"}}
    reply = api.client.post(url, json=confirmed, headers=clinician)
    assert reply.status_code == 201 and reply.json()["kind"] == "diagnosis_confirmed"
    detail = api.client.get(f"/api/v1/cases/{cid}", headers=clinician).json()
    assert detail["status"] == "solved" and len(detail["decisions"]) == 2
    solved = api.client.get("/api/v1/cases?status=solved", headers=clinician).json()["cases"]
    assert [c["id"] for c in solved] == [cid]
    for body in (
        {"kind": "diagnosis_confirmed", "value": {"disease_id": "OMIM:0000000"}},
        {"kind": "diagnosis_confirmed", "value": {}},
        {"kind": "variant_classified", "value": {**variant["value"], "gene": "NOTAGENE"}},
        {"kind": "variant_classified", "value": {**variant["value"], "classification": "bad"}},
        {"kind": "case_closed", "value": {}},
        {"kind": "diagnosis_confirmed", "value": {"disease_id": "OMIM:601859", "x": 1}},
    ):
        reply = api.client.post(url, json=body, headers=geneticist)
        assert reply.status_code == 422, (body, reply.text)
    detail = api.client.get(f"/api/v1/cases/{cid}", headers=geneticist).json()
    assert len(detail["decisions"]) == 2  # nothing of the refused ones

    sharing = f"/api/v1/cases/{cid}/mme-sharing"
    reply = api.client.put(sharing, json={"shared": True}, headers=clinician)
    assert reply.json() == {"case_id": cid, "mme_shared": True}
    assert api.client.get(f"/api/v1/cases/{cid}", headers=clinician).json()["mme_shared"] is True
    assert api.client.put(sharing, json={"shared": "yes"}, headers=clinician).status_code == 422
    api.client.put(sharing, json={"shared": False}, headers=clinician)
    assert api.client.get(f"/api/v1/cases/{cid}", headers=clinician).json()["mme_shared"] is False


def test_phenotype_analysis_latest_and_explanations(api: Api) -> None:
    h = api.user("clinician")
    cid = api.new_case(h, sex="M", age_years=4)["id"]
    reply = api.client.post(f"/api/v1/cases/{cid}/analyses", headers=h)
    assert reply.status_code == 201, reply.text
    created = reply.json()
    assert created["case_id"] == cid and created["results"]["diseases"]
    latest = api.client.get(f"/api/v1/cases/{cid}/analyses/latest", headers=h)
    assert latest.status_code == 200
    AnalysisOut.model_validate(latest.json())
    assert latest.json()["id"] == created["analysis_id"]
    assert latest.json()["results"] == created["results"]
    detail = api.client.get(f"/api/v1/cases/{cid}", headers=h).json()
    assert [a["id"] for a in detail["analyses"]] == [created["analysis_id"]]
    assert detail["analyses"][0]["top_disease"] == created["results"]["diseases"][0]["disease_id"]

    # a disease far down the list is explained as the ranking would explain it
    case = api.svc.store.get_case(cid, user=_name(api, h))
    full = diagnose(case, kb=api.svc.kb, lenient=True, top=300, explain=True)
    far = full.diseases[250]
    reply = api.client.get(f"/api/v1/cases/{cid}/explain", params={"disease": far.disease_id},
                           headers=h)  # fmt: skip
    assert reply.status_code == 200, reply.text
    DiseaseExplanation.model_validate(reply.json())
    assert far.rank == 251
    assert reply.json()["disease"] == orjson.loads(orjson.dumps(far.to_dict()))
    reply = api.client.get(f"/api/v1/cases/{cid}/explain", params={"gene": "FAS"}, headers=h)
    assert reply.status_code == 200, reply.text
    gene = GeneExplanation.model_validate(reply.json())
    assert gene.gene == "FAS" and gene.phenotype_rank is not None and gene.vcf is None
    assert any(d["disease"] == "OMIM:601859" for d in gene.diseases)
    explain = f"/api/v1/cases/{cid}/explain"
    for params in ({}, {"disease": "OMIM:601859", "gene": "FAS"}, {"disease": "OMIM:0000000"},
                   {"gene": "NOTAGENE"}, {"disease": "x" * 65}):  # fmt: skip
        assert api.client.get(explain, params=params, headers=h).status_code == 422, params

    empty = api.new_case(h, observed=[])
    reply = api.client.post(f"/api/v1/cases/{empty['id']}/analyses", headers=h)
    assert reply.status_code == 422 and reply.json()["detail"] == "empty phenotype"
    reply = api.client.get(f"/api/v1/cases/{empty['id']}/analyses/latest", headers=h)
    assert reply.status_code == 404


def _name(api: Api, headers: dict[str, str]) -> str:
    reply = api.client.get("/api/v1/me", headers=headers)
    name: str = reply.json()["user"]
    return name


def test_similar_cases_and_treatments(api: Api) -> None:
    h = api.user()
    query = api.new_case(h)["id"]
    close = api.new_case(h, observed=ALPS_LIKE[:4])["id"]
    far = api.new_case(h, observed=["HP:0001250", "HP:0001263", "HP:0000252"])["id"]
    reply = api.client.get(f"/api/v1/cases/{query}/similar", params={"limit": 5}, headers=h)
    assert reply.status_code == 200, reply.text
    matches = reply.json()["matches"]
    assert [m["case_id"] for m in matches] == [close, far]
    assert matches[0]["score"] > matches[1]["score"]
    for limit in (0, 101, "x"):
        url = f"/api/v1/cases/{query}/similar"
        assert api.client.get(url, params={"limit": limit}, headers=h).status_code == 422

    reply = api.client.get("/api/v1/treatments", params={"disease": "OMIM:615513"}, headers=h)
    assert reply.status_code == 200, reply.text
    assert reply.json()["treatments"] and "prescription" in reply.json()["notice"]
    reply = api.client.get("/api/v1/treatments", params={"gene": "PIK3CD"}, headers=h)
    assert reply.json()["treatments"][0]["therapy"] == "leniolisib"
    assert api.client.get("/api/v1/treatments", params={"disease": "OMIM:0000000"},
                          headers=h).status_code == 404  # fmt: skip
    assert api.client.get("/api/v1/treatments", headers=h).status_code == 422
    assert (
        api.client.get("/api/v1/treatments", params={"disease": "OMIM:615513"}).status_code == 401
    )


def test_reanalysis_runs_as_a_job(api: Api) -> None:
    clinician = api.user("clinician", centre="NCK")
    geneticist = api.user("geneticist", centre="NCK")
    cid = api.new_case(clinician)["id"]
    assert api.client.post(f"/api/v1/cases/{cid}/analyses", headers=clinician).status_code == 201
    assert api.client.post("/api/v1/reanalyze", json={}, headers=clinician).status_code == 403
    for body in ({"threshold": 0}, {"threshold": 1.5}, {"since_kb": ""}, {"x": 1}):
        reply = api.client.post("/api/v1/reanalyze", json=body, headers=geneticist)
        assert reply.status_code == 422, body
    reply = api.client.post("/api/v1/reanalyze", json={"since_kb": "hpo-2099-01-01"},
                            headers=geneticist)  # fmt: skip
    assert reply.status_code == 202, reply.text
    assert reply.headers["location"] == f"/api/v1/jobs/{reply.json()['job_id']}"
    job = api.wait(reply.json()["job_id"], geneticist)
    assert job["state"] == "done", job
    assert job["result"]["reanalysed"] == []  # analysed with the current KB: not due
    assert api.client.get(f"/api/v1/jobs/{job['job_id']}", headers=clinician).status_code == 200
