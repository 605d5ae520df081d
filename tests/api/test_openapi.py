"""The OpenAPI spec documents every REST operation: summary, description, success schema and
error responses."""

from __future__ import annotations

from raredx.api.rest.common import REST_PREFIXES
from tests.api.conftest import Api

PUBLIC = {("get", "/api/v1/kb"), ("get", "/api/v1/hpo/search")}
REST_PATHS = REST_PREFIXES


def test_every_operation_is_documented(shared_api: Api) -> None:
    spec = shared_api.client.get("/openapi.json").json()
    seen = 0
    for path, operations in spec["paths"].items():
        if not path.startswith(REST_PATHS):
            continue
        for method, op in operations.items():
            seen += 1
            where = f"{method.upper()} {path}"
            assert op.get("summary") and op.get("description"), where
            assert op.get("tags"), where
            ok = [c for c in op["responses"] if c.startswith("2")]
            assert ok, where
            for code in ok:
                content = op["responses"][code].get("content", {})
                assert content.get("application/json", {}).get("schema"), (where, code)
            errors = set(op["responses"]) - set(ok)
            if op.get("parameters") or op.get("requestBody"):
                assert "422" in errors, where
            if (method, path) not in PUBLIC:
                assert {"401", "403"} <= errors, where
            if "{case_id}" in path:
                assert "404" in errors, where
    assert seen >= 20


def test_upload_and_import_bodies_are_described(shared_api: Api) -> None:
    paths = shared_api.client.get("/openapi.json").json()["paths"]
    upload = paths["/api/v1/cases/{case_id}/vcf"]["put"]["requestBody"]["content"]
    assert upload["application/octet-stream"]["schema"]["format"] == "binary"
    imported = paths["/api/v1/cases/import"]["post"]["requestBody"]["content"]
    assert imported["application/json"]["schema"]["type"] == "object"
