"""The access policy, read from the app's own route table: every route × every role.

A route without an access rule fails here, so a new route cannot ship without one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from precinct.app import iter_routes
from precinct.core.access import AccessRule, PersonalDataRule
from precinct.core.models import AuditRecord
from precinct.core.roles import PURPOSE_ROLES, Role


def _walk(dependant: Any) -> Iterator[Any]:
    for dep in dependant.dependencies:
        yield dep.call
        yield from _walk(dep)


def access_rule(route: Any) -> AccessRule | None:
    rules = [c for c in _walk(route.dependant) if isinstance(c, AccessRule)]
    return rules[0] if rules else None


class R:
    """A route with its full path (prefix applied)."""

    def __init__(self, path: str, methods: set[str], route: Any) -> None:
        self.path, self.methods, self.route = path, methods, route
        self.dependant = route.dependant
        self.openapi_extra = getattr(route, "openapi_extra", None)


def api_routes(app: FastAPI) -> list[R]:
    return [R(p, m, r) for p, m, r in iter_routes(app) if isinstance(r, APIRoute)]


def test_route_table_is_not_empty(app: FastAPI) -> None:
    paths = {r.path for r in api_routes(app)}
    assert {"/api/v1/auth/token", "/api/v1/audit/records", "/api/v1/health"} <= paths


def is_stream(route: R) -> bool:
    return bool((route.openapi_extra or {}).get("x-stream"))


def concrete_path(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def purpose_for(role: Role) -> str:
    return next(p.value for p, roles in PURPOSE_ROLES.items() if role in roles) if any(
        role in roles for roles in PURPOSE_ROLES.values()) else "investigation"


def test_every_route_has_an_access_rule(app: FastAPI) -> None:
    missing = [f"{sorted(m)} {p}" for p, m, r in iter_routes(app)
               if isinstance(r, APIRoute | APIWebSocketRoute) and access_rule(r) is None]
    assert not missing, f"routes without an access rule (allow/personal_data/public): {missing}"


def test_rules_name_known_roles(app: FastAPI) -> None:
    for r in api_routes(app):
        rule = access_rule(r)
        assert rule is not None
        assert rule.roles <= set(Role)
        if rule.authenticated:
            assert rule.roles, f"{r.path}: an authenticated rule must allow some role"


class Caller:
    """Logs a role in, and again if a route (logout) ended its session."""

    def __init__(self, client: TestClient, auth_headers: Callable[..., dict[str, str]], role: Role) -> None:
        self.client, self.auth_headers, self.role = client, auth_headers, role
        self.generation = 0

    def headers(self) -> dict[str, str]:
        return self.auth_headers(self.role.value, case="CASE-MATRIX-1", purpose=purpose_for(self.role),
                                 username=f"matrix_{self.role.value}_{self.generation}")

    def request(self, method: str, path: str) -> Any:
        kwargs: dict[str, Any] = {"headers": self.headers()}
        if method in {"POST", "PUT", "PATCH"}:
            kwargs["json"] = {}
        r = self.client.request(method, path, **kwargs)
        if r.status_code == 401:
            self.generation += 1
            kwargs["headers"] = self.headers()
            r = self.client.request(method, path, **kwargs)
        return r


@pytest.mark.parametrize("role", list(Role))
def test_route_table_allow_deny(app: FastAPI, client: TestClient, auth_headers: Callable[..., dict[str, str]],
                                role: Role) -> None:
    caller = Caller(client, auth_headers, role)
    wrong: list[str] = []
    routes = sorted(api_routes(app), key=lambda r: "logout" in r.path)  # logout last
    for route in routes:
        rule = access_rule(route)
        assert rule is not None
        if not rule.authenticated:
            continue
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            allowed = role in rule.roles
            if allowed and is_stream(route):
                continue  # an endless stream cannot be read to the end here; its denials are checked
            r = caller.request(method, concrete_path(route.path))
            # personal-data routes may still refuse this role's purpose; anything else is wrong
            if allowed and r.status_code in (401, 403) and not (
                    isinstance(rule, PersonalDataRule) and "purpose" in r.text):
                wrong.append(f"{method} {route.path}: {role} allowed but got {r.status_code} {r.text[:120]}")
            if not allowed and r.status_code != 403:
                wrong.append(f"{method} {route.path}: {role} denied but got {r.status_code}")
            if r.status_code >= 500:
                wrong.append(f"{method} {route.path}: {role} got a server error {r.status_code}")
            if r.status_code >= 400:
                body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
                if set(body) != {"error", "message", "detail"}:
                    wrong.append(f"{method} {route.path}: error body not in the standard shape: {r.text[:120]}")
    assert not wrong, "\n".join(wrong)


def test_every_route_refuses_without_token(app: FastAPI, client: TestClient) -> None:
    bad = []
    for route in api_routes(app):
        rule = access_rule(route)
        if rule is None or not rule.authenticated:
            continue
        for method in route.methods - {"HEAD", "OPTIONS"}:
            r = client.request(method, concrete_path(route.path))
            if r.status_code != 401:
                bad.append(f"{method} {route.path}: {r.status_code}")
            r = client.request(method, concrete_path(route.path), headers={"Authorization": "Bearer forged.token.x"})
            if r.status_code != 401:
                bad.append(f"{method} {route.path} with a forged token: {r.status_code}")
    assert not bad, bad


def _audit_count(app: FastAPI, **where: Any) -> int:
    with app.state.db.sessionmaker() as s:
        q = select(func.count()).select_from(AuditRecord)
        for k, v in where.items():
            q = q.where(getattr(AuditRecord, k) == v)
        return s.scalar(q) or 0


def test_personal_data_routes_refuse_and_audit_without_case_or_purpose(
        app: FastAPI, client: TestClient, auth_headers: Callable[..., dict[str, str]]) -> None:
    routes = [r for r in api_routes(app) if isinstance(access_rule(r), PersonalDataRule)]
    assert routes, "the audit review route at least is personal data"
    for route in routes:
        rule = access_rule(route)
        assert rule is not None
        role = sorted(rule.roles)[0]
        base = auth_headers(role.value)
        for method in route.methods - {"HEAD", "OPTIONS"}:
            for headers in (base, {**base, "X-Case-Id": "CASE-9"}, {**base, "X-Purpose": "investigation"},
                            {**base, "X-Case-Id": "CASE-9", "X-Purpose": "curiosity"}):
                before = _audit_count(app, outcome="refused")
                r = client.request(method, concrete_path(route.path), headers=headers)
                assert r.status_code == 403, (route.path, headers.keys(), r.status_code)
                assert r.json()["error"] == "forbidden"
                assert _audit_count(app, outcome="refused") == before + 1, f"refusal not audited: {route.path}"


def test_personal_data_success_is_audited_with_case_and_purpose(
        app: FastAPI, client: TestClient, auth_headers: Callable[..., dict[str, str]]) -> None:
    """Any personal-data route that answers 2xx to a plain request has written its audit record."""
    answered = 0
    for route in api_routes(app):
        rule = access_rule(route)
        if not isinstance(rule, PersonalDataRule) or "GET" not in route.methods or "{" in route.path:
            continue
        for role in sorted(rule.roles):
            purpose = purpose_for(role)
            case = f"CASE-OK-{route.path}-{role}"
            r = client.get(route.path, headers=auth_headers(role.value, case=case, purpose=purpose))
            if 200 <= r.status_code < 300:
                answered += 1
                assert _audit_count(app, case_id=case, outcome="ok") >= 1, f"{route.path} not audited"
    assert answered >= 1


def test_matrix_detects_a_route_without_a_rule(app: FastAPI) -> None:
    """The detector itself can fail: a bare route is reported."""
    @app.get("/api/v1/unguarded-for-test")
    def _unguarded() -> dict[str, str]:
        return {}

    missing = [p for p, _m, r in iter_routes(app) if isinstance(r, APIRoute) and access_rule(r) is None]
    assert missing == ["/api/v1/unguarded-for-test"]
