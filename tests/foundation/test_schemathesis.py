"""Property-based API testing from the OpenAPI schema: no 5xx, and no route ignores auth.

Runs every operation in the schema with generated inputs (hypothesis, derandomised), as a
supervisor (every generated request also runs without credentials through `ignored_auth`).
"""

from __future__ import annotations

from collections.abc import Callable

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import ignored_auth

EXAMPLES = 12


def test_api_fuzz(app: FastAPI, auth_headers: Callable[..., dict[str, str]]) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    token = auth_headers("supervisor")
    ran = 0
    for result in schema.get_all_operations():
        op = result.ok()
        if (op.definition.raw or {}).get("x-stream"):
            continue  # endless event streams: their auth is covered by the access matrix

        @given(case=op.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  derandomize=True, database=None)
        def run(case: schemathesis.Case) -> None:
            headers = dict(case.headers or {})
            headers.setdefault("Authorization", token["Authorization"])
            case.call_and_validate(headers=headers, checks=[not_a_server_error, ignored_auth])

        run()
        ran += 1
    assert ran >= 5
