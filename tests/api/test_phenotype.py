"""Notes and lab results to HPO terms over HTTP: the same logic as the CLI, bad input refused."""

from __future__ import annotations

import json

from raredx.api.rest.phenotype import MAX_LAB_UPLOAD_BYTES
from raredx.labs import labs_to_hpo, parse_labs
from raredx.phenotype import extract_phenotype
from tests.api.conftest import Api

NOTE_FR = "Splénomégalie, thrombopénie. Pas d'hépatomégalie. Sa mère a un PTI."
NOTE_EN = (
    "Four-year-old boy with splenomegaly and lymphadenopathy. No hepatomegaly. "
    "Suspected autoimmune hemolytic anemia. His mother has thrombocytopenia."
)
LABS = (
    "test,loinc,value,unit\nHb,,6.8,g/dL\nDAT,,positive,\nferritin,,40,ug/L\nweight,29463-7,15,kg\n"
)


def _extract(api: Api, headers: dict[str, str], **body: object) -> dict:  # type: ignore[type-arg]
    reply = api.client.post("/api/v1/phenotype/extract", json=body, headers=headers)
    assert reply.status_code == 200, reply.text
    found: dict = reply.json()  # type: ignore[type-arg]
    return found


def test_extract_french_note_with_negation_and_family(
    shared_api: Api, headers: dict[str, str]
) -> None:
    found = _extract(shared_api, headers, text=NOTE_FR)
    assert found["language"] == "fr"
    status = {t["id"]: t["status"] for t in found["terms"]}
    assert status["HP:0001744"] == "present"  # splénomégalie
    assert status["HP:0001873"] == "present"  # thrombopénie
    assert status["HP:0002240"] == "excluded"  # pas d'hépatomégalie
    for m in found["mentions"]:
        assert NOTE_FR[m["start"] : m["end"]] == m["text"]
        assert m["excluded"] == (m["status"] == "excluded")
        assert m["family"] == (m["status"] == "family")
        assert m["uncertain"] == (m["status"] == "uncertain")
    assert any(m["family"] for m in found["mentions"])  # "sa mère a un PTI"


def test_extract_is_the_library_result(shared_api: Api, headers: dict[str, str]) -> None:
    kb = shared_api.svc.kb
    for lang in ("auto", "en"):
        found = _extract(shared_api, headers, text=NOTE_EN, language=lang)
        expected = extract_phenotype(kb, NOTE_EN, lang)  # type: ignore[arg-type]
        assert [(t["id"], t["status"]) for t in found["terms"]] == [
            (t.id, t.status) for t in expected.terms
        ]
        assert [[tuple(s) for s in t["spans"]] for t in found["terms"]] == [
            list(t.spans) for t in expected.terms
        ]
    statuses = {m["status"] for m in found["mentions"]}
    assert {"present", "excluded", "uncertain", "family"} <= statuses


def test_extract_refuses_bad_text(shared_api: Api, headers: dict[str, str]) -> None:
    post = shared_api.client.post
    url = "/api/v1/phenotype/extract"
    for body in (
        {"text": ""},
        {"text": "   "},
        {"text": "x" * 100_001},
        {"text": "fever\x00"},
        {"text": NOTE_EN, "language": "de"},
        {"text": 42},
        {"text": NOTE_EN, "unknown": 1},
        [],
    ):
        reply = post(url, json=body, headers=headers)
        assert reply.status_code == 422, (body, reply.text)
    reply = post(
        url, content=b'{"text": "fever', headers={**headers, "content-type": "application/json"}
    )
    assert reply.status_code == 422
    assert post(url, json={"text": NOTE_EN}).status_code == 401


def test_labs_csv_gives_terms_values_intervals_and_set_aside_rows(
    shared_api: Api, headers: dict[str, str]
) -> None:
    reply = shared_api.client.post(
        "/api/v1/phenotype/labs",
        files={"file": ("results.csv", LABS.encode(), "text/csv")},
        data={"age_years": "3", "sex": "F"},
        headers=headers,
    )
    assert reply.status_code == 200, reply.text
    found = reply.json()
    expected = labs_to_hpo(parse_labs(LABS), shared_api.svc.kb, 3.0, "F")
    assert found["observed"] == list(expected.observed_ids)
    assert found["excluded"] == list(expected.excluded_ids)
    assert [(t["hpo_id"], t["excluded"]) for t in found["terms"]] == [
        (e.hpo_id, e.excluded) for e in expected.evidence
    ]
    hb = next(t for t in found["terms"] if t["test"] == "Hemoglobin")
    assert hb["given"] == "6.8 g/dL" and hb["interval"] and hb["interval_from"] == "shipped"
    assert hb["source"] and hb["limits"] and hb["outcome"] == "L"
    aside = {s["test"]: s["reason"] for s in found["set_aside"]}
    assert set(aside) == {"Ferritin", "29463-7"} and all(aside.values())


def test_labs_fhir_json(shared_api: Api, headers: dict[str, str]) -> None:
    observation = {
        "resourceType": "Observation",
        "id": "hb1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "718-7"}]},
        "valueQuantity": {"value": 6.8, "unit": "g/dL"},
        "interpretation": [{"coding": [{"code": "L"}]}],
    }
    reply = shared_api.client.post(
        "/api/v1/phenotype/labs",
        files={"file": ("obs.json", json.dumps(observation).encode(), "application/json")},
        headers=headers,
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["terms"][0]["interval_from"] == "flag in file"


def test_labs_refuses_bad_files(shared_api: Api, headers: dict[str, str]) -> None:
    post = shared_api.client.post
    url = "/api/v1/phenotype/labs"

    def send(data: bytes, **form: str) -> int:
        reply = post(url, files={"file": ("f.csv", data)}, data=form, headers=headers)
        assert "detail" in reply.json()
        return reply.status_code

    assert send(b"\xff\xfe not utf-8") == 422
    assert send(b"test,value\x00,unit\n") == 422
    assert send(b"") == 422
    assert send(b"no,header,that,makes,sense\n1,2,3,4,5\n") == 422
    assert send(b"test,value,unit\nmystery test,3,mg/L\n") == 422
    assert send(b"test,loinc,value,unit\nsodium,2951-2,140,mmol/L\n") == 422  # no interval
    assert send(LABS.encode(), age_years="-1") == 422
    assert send(LABS.encode(), age_years="nan") == 422
    assert send(LABS.encode(), sex="X") == 422
    assert send(b"a" * (MAX_LAB_UPLOAD_BYTES + 1)) == 413
    assert post(url, data={"age_years": "3"}, headers=headers).status_code == 422  # no file
    assert post(url, files={"file": ("f.csv", LABS.encode())}).status_code == 401
