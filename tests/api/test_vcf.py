"""VCF uploads: streamed to the data folder, size-limited, content-checked, attached; then
analysed in the background and explained with the genotype."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx2 as httpx
import pytest

from raredx.api.rest.vcf import MAX_UPLOAD_ENV, looks_like_vcf, upload_folder
from raredx.kb import raredx_home
from tests.api.conftest import ALPS_VCF, Api, bgzip

VCF = ALPS_VCF.read_bytes()


def _put(
    api: Api, case_id: str, headers: dict[str, str], data: bytes, **params: str
) -> httpx.Response:
    params.setdefault("filename", "P1.vcf")
    return api.client.put(
        f"/api/v1/cases/{case_id}/vcf", params=params, content=data, headers=headers
    )


def _files(case_id: str) -> list[Path]:
    folder = upload_folder(case_id)
    return sorted(folder.iterdir()) if folder.exists() else []


def test_looks_like_vcf() -> None:
    assert looks_like_vcf(VCF, complete=True) is True
    assert looks_like_vcf(gzip.compress(VCF), complete=True) is True
    assert looks_like_vcf(bgzip(VCF, block=100), complete=True) is True
    assert looks_like_vcf(b"##file", complete=False) is None
    assert looks_like_vcf(b"##file", complete=True) is False
    assert looks_like_vcf(b"BCF\x02\x02", complete=False) is False
    assert looks_like_vcf(gzip.compress(b"hello world, this is text"), complete=True) is False
    assert looks_like_vcf(b"\x1f\x8bgarbage", complete=True) is False
    assert looks_like_vcf(gzip.compress(VCF)[:5], complete=False) is None


@pytest.mark.parametrize("packing", ["plain", "gzip", "bgzip"])
def test_upload_then_analyse_in_the_background(api: Api, packing: str) -> None:
    h = api.user("geneticist")
    case = api.import_example(h)
    cid = case["id"]
    data = {"plain": VCF, "gzip": gzip.compress(VCF), "bgzip": bgzip(VCF, block=512)}[packing]
    name = "P1.vcf" if packing == "plain" else "P1.vcf.gz"
    reply = _put(api, cid, h, data, filename=name)
    assert reply.status_code == 201, reply.text
    record = reply.json()
    assert record["attached"] and record["assembly"] == "GRCh37" and record["sample"] == "S1"
    assert record["size"] == len(data) and record["file"].endswith(name)
    [stored] = _files(cid)
    assert stored.read_bytes() == data and stored.is_relative_to(raredx_home() / "uploads")
    assert str(raredx_home()) not in reply.text

    reply = api.client.post(f"/api/v1/cases/{cid}/analyses", headers=h)
    assert reply.status_code == 202, reply.text
    job = api.wait(reply.json()["job_id"], h)
    assert job["state"] == "done", job
    assert job["result"]["genome"] is True and job["case_id"] == cid
    unread = api.client.get("/api/v1/cases", params={"status": "new_results"}, headers=h)
    assert [c["id"] for c in unread.json()["cases"]] == [cid]  # finished while nobody looked
    latest = api.client.get(f"/api/v1/cases/{cid}/analyses/latest", headers=h).json()
    unread = api.client.get("/api/v1/cases", params={"status": "new_results"}, headers=h)
    assert unread.json()["cases"] == []  # read: the mark is cleared
    assert latest["id"] == job["result"]["analysis_id"]
    assert latest["results"]["genome"]["sample"] == "S1"
    assert latest["results"]["genes"][0]["symbol"] == "FAS"
    detail = api.client.get(f"/api/v1/cases/{cid}", headers=h).json()
    assert detail["vcfs"][-1]["evidence_cached"] is True
    assert detail["analyses"][-1]["genome"] is True

    reply = api.client.get(f"/api/v1/cases/{cid}/explain", params={"gene": "FAS"}, headers=h)
    assert reply.status_code == 200, reply.text
    gene = reply.json()
    assert gene["rank"] == 1 and gene["genotype"] and gene["vcf"]["variants"]
    reply = api.client.get(f"/api/v1/cases/{cid}/explain", params={"disease": "OMIM:601859"},
                           headers=h)  # fmt: skip
    disease = reply.json()["disease"]
    assert reply.json()["genome"] is True and disease["genotype_log10_lr"] > 0


def test_a_second_analysis_request_while_one_runs_gets_the_same_job(api: Api) -> None:
    h = api.user("geneticist")
    cid = api.import_example(h)["id"]
    assert _put(api, cid, h, VCF).status_code == 201
    first = api.client.post(f"/api/v1/cases/{cid}/analyses", headers=h).json()
    second = api.client.post(f"/api/v1/cases/{cid}/analyses", headers=h).json()
    if second["state"] in ("queued", "running"):
        assert second["job_id"] == first["job_id"]
    assert api.wait(first["job_id"], h)["state"] == "done"
    assert api.wait(second["job_id"], h)["state"] == "done"


def test_refused_uploads_leave_nothing(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    h = api.user("geneticist")
    cid = api.import_example(h)["id"]
    for data, status in (
        (b"", 415),
        (b"#CHROM\tPOS\n", 415),
        (b"BCF\x02\x02" + b"\x00" * 100, 415),
        (gzip.compress(b"just some text, not a vcf" * 100), 415),
        (b"\x1f\x8b" + b"\x00" * 1000, 415),
        (VCF.replace(b"S1", b"S1\tS2"), 422),  # two samples, none named: which is the child?
        (VCF, 422),  # with a sample the file does not have
    ):
        params = {"sample": "NOPE"} if data == VCF else {}
        reply = _put(api, cid, h, data, **params)
        assert reply.status_code == status, (data[:20], reply.text)
        assert _files(cid) == []
    for name in ("../../etc/passwd.vcf", "a/b.vcf", "..vcf", ".hidden.vcf", "x.txt", "a\x00.vcf",
                 "<script>.vcf", "x" * 201 + ".vcf", ""):  # fmt: skip
        reply = _put(api, cid, h, VCF, filename=name)
        assert reply.status_code == 422, (name, reply.text)
    assert _put(api, cid, h, VCF, assembly="GRCh99").status_code == 422
    assert _files(cid) == []

    monkeypatch.setenv(MAX_UPLOAD_ENV, "100")
    reply = _put(api, cid, h, VCF)
    assert reply.status_code == 413
    assert _files(cid) == []
    detail = api.client.get(f"/api/v1/cases/{cid}", headers=h).json()
    assert [v for v in detail["vcfs"] if v["attached"]] == []


def test_large_uploads_pass_the_app_limit_but_other_case_bodies_do_not(api: Api) -> None:
    from raredx.api.app import MAX_REQUEST_BYTES

    h = api.user("geneticist")
    cid = api.import_example(h)["id"]
    big = VCF + b"#" * (MAX_REQUEST_BYTES + 10)  # attaching reads the header only
    reply = _put(api, cid, h, big)
    assert reply.status_code == 201, reply.text
    assert [f.stat().st_size for f in _files(cid)] == [len(big)]
    huge = b'{"provenance": "typed", "terms": []' + b" " * MAX_REQUEST_BYTES + b"}"
    reply = api.client.post(
        f"/api/v1/cases/{cid}/observations",
        content=huge,
        headers={**h, "Content-Type": "application/json"},
    )
    assert reply.status_code == 413


def test_roles_and_centres(api: Api) -> None:
    clinician = api.user("clinician", centre="A")
    admin = api.user("admin", centre="A")
    cid = api.import_example(clinician)["id"]
    assert _put(api, cid, clinician, VCF).status_code == 403
    assert _put(api, cid, admin, VCF).status_code == 201
    assert _put(api, cid, {}, VCF).status_code == 401
