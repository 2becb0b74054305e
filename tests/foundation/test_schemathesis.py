"""Property-based API testing from the OpenAPI schema: no 5xx, no route ignores auth, and every
response is the one the document states (status code, content type, body schema, headers).

Runs every operation in the schema with generated inputs (hypothesis, derandomised), as a
supervisor (every generated request also runs without credentials through `ignored_auth`). The
error responses are documented centrally (``precinct.core.openapi``); a failure here is either an
undocumented status or body, or a response that is not what the route promises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from precinct.core.openapi import ERROR_BODY

EXAMPLES = 12
CHECKS = [not_a_server_error, ignored_auth, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
ERROR_REF = f"#/components/schemas/{ERROR_BODY}"


def _ends_session(op: Any) -> bool:
    return str(op.path).endswith("/auth/logout")


def test_api_fuzz(app: FastAPI, client: TestClient, auth_headers: Callable[..., dict[str, str]]) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    token = auth_headers("supervisor")
    # logout ends the token's session: run it last, so every other route is called as a live user
    ops = sorted((r.ok() for r in schema.get_all_operations()), key=_ends_session)
    failures: list[str] = []
    ran = 0
    for op in ops:
        if (op.definition.raw or {}).get("x-stream"):
            continue  # endless event streams cannot be read to the end here; the access matrix covers them
        if _ends_session(op):
            me = client.get("/api/v1/auth/me", headers=token)
            assert me.status_code == 200, f"the supervisor's session ended before logout ran: {me.text}"

        @given(case=op.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  derandomize=True, database=None)
        def run(case: schemathesis.Case) -> None:
            headers = dict(case.headers or {})
            headers.setdefault("Authorization", token["Authorization"])
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except BaseException as exc:  # collect every operation's failure (schemathesis raises groups)
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            failures.append(f"{op.label}: {type(exc).__name__}: {str(exc)[:1500]}")
        ran += 1
    assert ran >= 100
    assert not failures, f"{len(failures)} operations fail:\n\n" + "\n\n".join(failures)


def _error_schema_ok(response: dict[str, Any]) -> bool:
    body = (response.get("content") or {}).get("application/json", {}).get("schema") or {}
    return body.get("$ref") == ERROR_REF or {"$ref": ERROR_REF} in body.get("allOf", [])


def test_every_error_status_is_documented_with_the_error_body(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert ERROR_BODY in doc["components"]["schemas"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]  # never sent: 422 is an ErrorBody
    seen = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            responses = op["responses"]
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    seen += 1
                    assert _error_schema_ok(response), f"{method.upper()} {path} {status}: {response}"
            if op.get("security"):  # an authenticated route
                assert {"401", "403", "503"} <= set(responses), f"{method.upper()} {path}: {sorted(responses)}"
                assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True
            if "{" in path:
                assert "404" in responses, f"{method.upper()} {path}: {sorted(responses)}"
            if method in ("post", "put", "patch", "delete"):
                assert "413" in responses, f"{method.upper()} {path}: {sorted(responses)}"
    assert seen > 300
    stats = doc["paths"]["/api/v1/public/stats"]["get"]["responses"]  # a public route, format=json|csv|geojson
    assert "429" in stats and "401" not in stats  # the rate limit (@documents(429)), no login
    assert {"application/json", "text/csv", "application/geo+json"} <= set(stats["200"]["content"])
    login = doc["paths"]["/api/v1/auth/token"]["post"]["responses"]["401"]
    assert "not_authenticated" in login["content"]["application/json"]["schema"]["allOf"][1]["properties"][
        "error"]["enum"]  # the codes of the PrecinctError classes with status 401


def test_validation_errors_are_sent_as_the_documented_error_body(client: TestClient,
                                                                auth_headers: Callable[..., dict[str, str]]) -> None:
    r = client.post("/api/v1/calls", json={"lat": 500, "type": ""}, headers=auth_headers("dispatcher"))
    assert r.status_code == 422
    body = r.json()
    assert set(body) == {"error", "message", "detail"} and body["error"] == "bad_input"
    assert {d["field"] for d in body["detail"]} >= {"lat", "type"}


def test_a_polygon_point_that_is_not_a_pair_is_bad_input_not_a_server_error(
        client: TestClient, auth_headers: Callable[..., dict[str, str]]) -> None:
    # found by the fuzz above once logout no longer ended its session early (it was a 500)
    ring = [[32.47, 119.89], [32.48, 119.89, 7.0], [32.48, 119.90], [32.47, 119.89]]
    r = client.post("/api/v1/publishing/station-areas", headers=auth_headers("supervisor"),
                    json={"id": "S-X", "name_zh": "测试", "name_en": "test", "points": ring})
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "bad_input" and "point 2" in r.json()["message"]


def test_an_until_with_no_window_before_it_is_bad_input_not_a_server_error(
        client: TestClient, auth_headers: Callable[..., dict[str, str]]) -> None:
    # found by the fuzz above (an OverflowError, answered 500)
    r = client.get("/api/v1/analytics/evaluate", params={"until": "0001-01-01T00:00:00Z"},
                   headers=auth_headers("supervisor"))
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "bad_input" and r.json()["detail"]["field"] == "until"
