"""Access that means something: the case decides every personal-data read.

1. Built from the route table and the CLI command tree: every personal-data route and command
   (``personal=True`` in core/policy.py) called with (a) no case, (b) an invented case, (c) a closed
   case, (d) an open case the caller is not on, (e) a purpose the case type does not allow is
   refused with 403 (exit code 4) and the refusal is audited with its reason; with a valid case it
   answers (anything but 401/403).
2. The access decision against a brute-force table of (role, purpose, case type, membership,
   status, linked incident): exhaustively for the pure decision, and through ``check_purpose`` on
   SQLite and PostgreSQL for examples drawn by hypothesis.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from conftest import make_user
from precinct.app import iter_routes
from precinct.cases import service
from precinct.cases.codes import CASE_TYPES, CaseFacts, decide
from precinct.cases.models import Case, CaseLink
from precinct.cli import app as cli_app
from precinct.core.access import PersonalDataRule, check_purpose
from precinct.core.db import Database
from precinct.core.identity import Principal
from precinct.core.models import AuditRecord
from precinct.core.policy import POLICY
from precinct.core.roles import PURPOSE_ROLES, Purpose, Role
from precinct.errors import Forbidden

runner = CliRunner()

# --- the brute-force table, written out independently of precinct.cases.codes --------------------

ROLES_FOR = {  # which roles may use each purpose at all (core/roles.py, spelled out)
    "investigation": {"analyst", "supervisor", "dispatcher", "admin"},
    "missing_person": {"analyst", "supervisor", "dispatcher", "patrol", "admin"},
    "hotlist_alert": {"dispatcher", "patrol", "analyst", "supervisor", "admin"},
    "audit_review": {"auditor", "supervisor"},
    "incident_response": {"call_taker", "dispatcher", "patrol", "supervisor", "admin"},
    "callback": {"call_taker", "supervisor"},
}
TYPES = sorted(CASE_TYPES)
NOT_REVIEW = {t for t in TYPES if t != "review"}
TYPES_FOR = {"investigation": NOT_REVIEW, "missing_person": {"missing_person"}, "hotlist_alert": NOT_REVIEW,
             "audit_review": set(TYPES), "incident_response": NOT_REVIEW, "callback": NOT_REVIEW}
PURPOSES = [p.value for p in Purpose if p.value in ROLES_FOR]
MEMBERSHIP = ("lead", "member", "none")
STATUS = ("open", "closed", "missing")


def expected(role: str, purpose: str, ctype: str, membership: str, status: str, incident: bool) -> bool:
    if role not in ROLES_FOR[purpose] or status != "open" or ctype not in TYPES_FOR[purpose]:
        return False
    if purpose in ("incident_response", "callback") and not incident:
        return False
    return membership != "none" or (purpose == "audit_review" and role in ("auditor", "supervisor"))


def test_roles_table_matches_core() -> None:
    for p in PURPOSES:
        assert {r.value for r in PURPOSE_ROLES[Purpose(p)]} == ROLES_FOR[p], p


def test_decision_against_the_brute_force_table() -> None:
    """Every combination: the role check of core.access followed by the case decision."""
    n = 0
    for role, purpose, ctype, membership, status, incident in itertools.product(
            [r.value for r in Role], PURPOSES, TYPES, MEMBERSHIP, STATUS, (False, True)):
        facts = None if status == "missing" else CaseFacts(
            id="C", status=status, type=ctype, lead="lead" if membership != "lead" else "me",
            members=frozenset({"me"} if membership == "member" else {"x"}), incidents=int(incident))
        got = Role(role) in PURPOSE_ROLES[Purpose(purpose)] and decide(
            facts, case_id="C", username="me", role=Role(role), purpose=purpose) is None
        assert got == expected(role, purpose, ctype, membership, status, incident), (
            role, purpose, ctype, membership, status, incident)
        n += 1
    assert n == 7 * len(PURPOSES) * len(TYPES) * 3 * 3 * 2


def _make_case(db: Database, *, ctype: str, lead: str, members: list[str], status: str = "open",
               incident: bool = False) -> str:
    case_id = f"T-{uuid.uuid4().hex[:10]}"
    with db.session() as s:
        service.import_case(s, case_id=case_id, title="t", type=ctype, lead=lead, members=members, by="tests")
        if incident:
            s.add(CaseLink(case_id=case_id, kind="incident", ref_id="INC-X", linked_by="tests"))
        if status == "closed":
            s.execute(update(Case).where(Case.id == case_id).values(status="closed", close_reason="t"))
    return case_id


def _refusals(db: Database) -> int:
    with db.sessionmaker() as s:
        return s.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.outcome == "refused")) or 0


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(role=st.sampled_from([r.value for r in Role]), purpose=st.sampled_from(PURPOSES),
       ctype=st.sampled_from(TYPES), membership=st.sampled_from(MEMBERSHIP), status=st.sampled_from(STATUS),
       incident=st.booleans())
def test_check_purpose_on_the_database(any_db: Database, role: str, purpose: str, ctype: str, membership: str,
                                       status: str, incident: bool) -> None:
    me = Principal(user_id=0, username=f"u{uuid.uuid4().hex[:8]}", role=Role(role))
    if status == "missing":
        case_id = f"NOPE-{uuid.uuid4().hex[:8]}"
    else:
        lead = me.username if membership == "lead" else "someone_else"
        case_id = _make_case(any_db, ctype=ctype, lead=lead, members=[me.username] if membership == "member" else [],
                             status=status, incident=incident)
    before = _refusals(any_db)
    try:
        check_purpose(any_db, me, resource="test", case_id=case_id, purpose=purpose)
        allowed = True
    except Forbidden:
        allowed = False
    assert allowed == expected(role, purpose, ctype, membership, status, incident)
    assert _refusals(any_db) == before + (0 if allowed else 1), "every refusal is audited"


# --- every personal-data route and command ---------------------------------------------------------

def _access_rule(route: Any) -> Any:
    def walk(dep: Any) -> Any:
        for d in dep.dependencies:
            yield d.call
            yield from walk(d)
    return next((c for c in walk(route.dependant) if isinstance(c, PersonalDataRule)), None)


def _pick(roles: frozenset[Role], purposes: frozenset[Purpose]) -> tuple[Role, str]:
    """A role of the rule and a purpose it may use here, preferring a non-oversight purpose."""
    options = [(r, p) for r in sorted(roles) for p in Purpose
               if r in PURPOSE_ROLES[p] and (not purposes or p in purposes) and p.value in ROLES_FOR]
    options.sort(key=lambda rp: rp[1] == Purpose.audit_review)
    role, purpose = options[0]
    return role, purpose.value


def _situations(db: Database, me: str, purpose: str) -> dict[str, tuple[str | None, str]]:
    """case ids for (a)-(e) and the valid one, with the purpose each is tried with."""
    ok_type = "missing_person" if purpose == "missing_person" else "other"
    needs_incident = purpose in ("incident_response", "callback")
    out: dict[str, tuple[str | None, str]] = {
        "a no case": (None, purpose),
        "b invented case": (f"INVENTED-{uuid.uuid4().hex[:6]}", purpose),
        "c closed case": (_make_case(db, ctype=ok_type, lead=me, members=[], status="closed",
                                     incident=needs_incident), purpose),
    }
    if purpose != "audit_review":  # oversight reads need no membership (documented in cases/codes.py)
        out["d not a member"] = (_make_case(db, ctype=ok_type, lead="someone_else", members=[],
                                            incident=needs_incident), purpose)
        bad_type = "review" if purpose != "missing_person" else "theft"
        out["e purpose does not fit"] = (_make_case(db, ctype=bad_type, lead=me, members=[],
                                                    incident=needs_incident), purpose)
    out["valid"] = (_make_case(db, ctype=ok_type, lead=me, members=[], incident=needs_incident), purpose)
    return out


def _path(path: str) -> str:
    import re

    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_personal_route_refuses_without_a_valid_case(app: FastAPI, client: TestClient) -> None:
    db: Database = app.state.db
    checked, wrong = 0, []
    for path, methods, route in iter_routes(app):
        rule = _access_rule(route) if hasattr(route, "dependant") else None
        if rule is None:
            continue
        role, purpose = _pick(rule.roles, rule.purposes)
        me = make_user(db, role.value)
        token = client.post("/api/v1/auth/token", data={"username": me, "password": "test-password-123"})
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        stream = bool((getattr(route, "openapi_extra", None) or {}).get("x-stream"))
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            for name, (case_id, p) in _situations(db, me, purpose).items():
                headers = {**auth, "X-Purpose": p, **({"X-Case-Id": case_id} if case_id else {})}
                if name == "valid":
                    if stream:
                        continue  # an endless stream cannot be read to its end here
                    r = client.request(method, _path(path), headers=headers,
                                       json={} if method in ("POST", "PUT", "PATCH") else None)
                    if r.status_code in (401, 403):
                        wrong.append(f"{method} {path} {role.value}/{p} valid case: {r.status_code} {r.text[:100]}")
                    continue
                before = _refusals(db)
                r = client.request(method, _path(path), headers=headers,
                                   json={} if method in ("POST", "PUT", "PATCH") else None)
                if r.status_code != 403 or _refusals(db) != before + 1:
                    wrong.append(f"{method} {path} {role.value}/{p} {name}: {r.status_code}, "
                                 f"refusals +{_refusals(db) - before}")
            checked += 1
    assert checked >= 10, checked
    assert not wrong, "\n".join(wrong)


def _leaves(group: Any, prefix: list[str]) -> list[tuple[list[str], Any]]:
    out = []
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            out.extend(_leaves(cmd, [*prefix, name]))
        else:
            out.append(([*prefix, name], cmd))
    return out


def _personal_commands() -> list[tuple[list[str], Any, str]]:
    import ast
    import inspect
    import textwrap

    found = []
    for path, cmd in _leaves(typer.main.get_command(cli_app), []):
        tree = ast.parse(textwrap.dedent(inspect.getsource(cmd.callback)))
        actions = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in POLICY}
        personal = [a for a in actions if POLICY[a].personal]
        if personal and any("--case" in (p.opts or []) for p in cmd.params):
            found.append((path, cmd, personal[0]))
    return found


def _dummy_args(cmd: Any, tmp: Path) -> list[str]:
    """Values for a command's required parameters (by their type hints), enough to reach its access check."""
    import typing

    csv = tmp / "dummy.csv"
    csv.write_text("plate,reason,list\n苏E00001,t,t\n", encoding="utf-8")
    hints = typing.get_type_hints(cmd.callback)
    args: list[str] = []
    for p in cmd.params:
        if not p.required:
            continue
        hint = hints.get(p.name)
        if hint is float:
            value = "31.3"
        elif hint is int:
            value = "1"
        elif hint is Path:
            value = str(csv)
        elif any(k in p.name for k in ("start", "end", "seen", "since", "until")):
            value = "2026-03-01T00:00:00Z"
        else:
            value = "苏E00001"
        args += [value] if p.param_type_name == "argument" else [p.opts[0], value]
    return args


def test_every_personal_command_refuses_without_a_valid_case(db: Database, settings: Any, tmp_path: Path) -> None:
    commands = _personal_commands()
    assert any(path[:1] == ["anpr"] for path, _, _ in commands) and ["cases", "timeline"] in [c[0] for c in commands]
    wrong = []
    for path, cmd, action in commands:
        rule = POLICY[action]
        role, purpose = _pick(rule.roles, rule.purposes)
        me = make_user(db, role.value)
        base = [*path, *_dummy_args(cmd, tmp_path), "--as", me, "--format", "json"]
        if not any("--format" in (p.opts or []) for p in cmd.params):
            base = base[:-2]
        for name, (case_id, p) in _situations(db, me, purpose).items():
            args = [*base, "--purpose", p, *(["--case", case_id] if case_id else [])]
            before = _refusals(db)
            r = runner.invoke(cli_app, args)
            refused = isinstance(r.exception, Forbidden)
            if name == "valid":
                if refused:
                    wrong.append(f"{' '.join(path)} valid case refused: {r.exception}")
            elif not refused or _refusals(db) != before + 1:
                wrong.append(f"{' '.join(path)} {name}: {r.exit_code} {r.exception!r} {r.output[:100]}")
    assert not wrong, "\n".join(wrong)


def test_closing_ends_access_at_once(app: FastAPI, client: TestClient,
                                     auth_headers: Callable[..., dict[str, str]]) -> None:
    h = auth_headers("analyst", case="CASE-END-1", purpose="investigation")
    assert client.get("/api/v1/cases/timeline", headers=h).status_code == 200
    with app.state.db.session() as s:
        lead = service.get_case(s, "CASE-END-1")["lead"]
        service.close_case(s, case_id="CASE-END-1", by=lead, reason="solved", disposition="solved")
    r = client.get("/api/v1/cases/timeline", headers=h)
    assert r.status_code == 403 and "closed" in r.json()["message"]


def test_timeline_lists_queries_with_who_params_and_counts(app: FastAPI, client: TestClient,
                                                           auth_headers: Callable[..., dict[str, str]]) -> None:
    h = auth_headers("supervisor", case="CASE-TL-1", purpose="investigation")
    client.post("/api/v1/cases/CASE-TL-1/notes", headers=h, json={"text": "嫌疑车辆 16:08 出现"})
    client.get("/api/v1/anpr/trajectory", headers=h, params={"plate": "苏E12345", "start": "2026-03-01T00:00:00Z",
                                                            "end": "2026-03-02T00:00:00Z"})
    tl = client.get("/api/v1/cases/timeline", headers=h).json()
    kinds = [e["kind"] for e in tl["events"]]
    assert "note" in kinds and "case" in kinds
    queries = [e for e in tl["events"] if e["kind"] == "query" and e["resource"] == "anpr.trajectory"]
    if queries:  # the trajectory answered: its audit record is on the timeline with who, what, how many
        assert queries[0]["params"].get("plate") == "苏E12345" and queries[0]["result_count"] is not None
