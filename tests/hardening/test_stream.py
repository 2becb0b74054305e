"""The live board stream under the REST policy (issue 15, item 6).

- no bearer token in a URL: ``?access_token=`` is refused; single-use, expiring stream tickets,
  redeemable on any worker, bound to the session; the access log holds neither token nor ticket;
- the events a role receives are those the REST routes for the same data would give it
  (``GET /anpr/alerts`` for ``anpr.*``, owner-scoped ``GET /orders/{id}`` for ``orders.*``), live
  and on a ``Last-Event-ID`` replay; every published subject has a policy;
- each delivery of a hotlist alert is audited per recipient, replays included;
- a stream ends within seconds of logout or of its session expiring.

SQLite and PostgreSQL where the database is involved (``any_db``).
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from precinct.app import create_app
from precinct.command.board import BoardHub
from precinct.command.board_policy import FAMILIES, access_for, family_of
from precinct.config import Settings, get_settings
from precinct.core import audit
from precinct.core.bus import InProcessBus
from precinct.core.db import Database
from precinct.core.identity import Principal, create_user
from precinct.core.models import AuditRecord, StreamTicket, User, UserSession
from precinct.core.policy import POLICY
from precinct.core.roles import Role
from precinct.core.streams import issue_ticket, redeem_ticket
from precinct.errors import NotAuthenticated
from support import ensure_test_case, free_port

PASSWORD = "test-password-123"
SRC = Path(__file__).resolve().parents[2] / "src" / "precinct"
STREAM = "/api/v1/board/stream"


# --- a live server on either engine -----------------------------------------------------------


class Live:
    def __init__(self, app: FastAPI, base: str, access_log: list[str]) -> None:
        self.app, self.base, self.access_log = app, base, access_log
        self._n = 0

    def user(self, role: str, unit_id: str | None = None) -> tuple[str, str]:
        """A new user of ``role`` logged in: (username, bearer token)."""
        self._n += 1
        name = f"{role}_s{self._n}"
        with self.app.state.db.session() as s:
            create_user(s, username=name, role=role, password=PASSWORD, unit_id=unit_id)
        r = httpx.post(f"{self.base}/api/v1/auth/token", data={"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return name, str(r.json()["access_token"])

    def ticket(self, token: str) -> str:
        r = httpx.post(f"{self.base}/api/v1/board/stream-ticket", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        assert 0 < r.json()["expires_in"] <= 60
        return str(r.json()["ticket"])

    def publish(self, subject: str, event: dict[str, Any]) -> None:
        self.app.state.bus.publish(subject, {"subject": subject, **event})


class _Capture(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__()
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())


@pytest.fixture
def live(any_db: Database, settings: Settings) -> Iterator[Live]:
    """The app on ``any_db`` served by uvicorn (access log on, captured)."""
    import uvicorn

    app = create_app(get_settings(), db=any_db)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info", access_log=True)
    lines: list[str] = []
    capture = _Capture(lines)
    access = logging.getLogger("uvicorn.access")
    access.addHandler(capture)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield Live(app, f"http://127.0.0.1:{port}", lines)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        access.removeHandler(capture)


def frames(response: httpx.Response) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(id, event, data)`` of each SSE frame, until the stream ends."""
    eid, name, data = "", "", ""
    for line in response.iter_lines():
        if line.startswith("id: "):
            eid = line[4:]
        elif line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line == "" and name:
            yield eid, name, json.loads(data)
            eid, name, data = "", "", ""


Frame = tuple[str, str, dict[str, Any]]


def until(stream: Iterator[Frame], subject: str,
          match: Callable[[dict[str, Any]], bool] = lambda _d: True) -> tuple[list[Frame], str]:
    """The frames before the first ``subject`` frame that ``match``es, and that frame's id."""
    seen = []
    for eid, name, data in stream:
        if name == subject and match(data):
            return seen, eid
        seen.append((eid, name, data))
    raise AssertionError(f"stream ended before {subject}; got {[n for _, n, _ in seen]}")


def _client() -> httpx.Client:
    # a stream that should end but does not fails on this read timeout
    return httpx.Client(timeout=httpx.Timeout(10.0, read=5.0))


# --- tokens never in URLs; tickets -------------------------------------------------------------


def test_a_token_in_the_url_is_refused(live: Live) -> None:
    _, token = live.user("supervisor")
    for params in ({"access_token": token}, {"access_token": token, "ticket": "x"}):
        r = httpx.get(f"{live.base}{STREAM}", params=params, timeout=10)
        assert r.status_code == 401, r.text
        assert "not accepted in URLs" in r.json()["message"]
    # the bearer header still works for non-browser clients
    with _client() as c, c.stream("GET", f"{live.base}{STREAM}", headers={"Authorization": f"Bearer {token}"}) as r:
        assert r.status_code == 200
        until(frames(r), "board.hello")


def test_a_ticket_opens_one_stream_once(live: Live) -> None:
    _, token = live.user("dispatcher")
    ticket = live.ticket(token)
    with _client() as c, c.stream("GET", f"{live.base}{STREAM}", params={"ticket": ticket}) as r:
        assert r.status_code == 200
        until(frames(r), "board.hello")
    again = httpx.get(f"{live.base}{STREAM}", params={"ticket": ticket}, timeout=10)
    assert again.status_code == 401 and "ticket" in again.json()["message"]
    assert httpx.get(f"{live.base}{STREAM}", params={"ticket": "made-up"}, timeout=10).status_code == 401
    # a ticket is no bearer token
    assert httpx.get(f"{live.base}/api/v1/board", headers={"Authorization": f"Bearer {live.ticket(token)}"},
                     timeout=10).status_code == 401


def test_tickets_expire_are_single_use_and_work_on_any_worker(any_db: Database, settings: Settings) -> None:
    with any_db.session() as s:
        user = create_user(s, username="tick1", role="dispatcher", password=PASSWORD)
        s.add(UserSession(id="sess-tick1", user_id=user.id))
        uid = user.id
    me = Principal(uid, "tick1", Role.dispatcher, session_id="sess-tick1")
    other_worker = Database(any_db.url)  # another API worker: its own engine on the same database
    try:
        ticket = issue_ticket(any_db, principal=me)
        with any_db.sessionmaker() as s:  # only the digest is stored
            assert s.scalar(select(StreamTicket.id)) != ticket
        assert redeem_ticket(other_worker, settings, ticket).username == "tick1"
        with pytest.raises(NotAuthenticated):
            redeem_ticket(any_db, settings, ticket)
        # many redeem one ticket at once: exactly one succeeds
        ticket = issue_ticket(any_db, principal=me)
        wins: list[str] = []

        def race(database: Database) -> None:
            with contextlib.suppress(NotAuthenticated):
                wins.append(redeem_ticket(database, settings, ticket).username)

        threads = [threading.Thread(target=race, args=(d,)) for d in (any_db, other_worker) * 4]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert wins == ["tick1"]
        # expired unused
        ticket = issue_ticket(any_db, principal=me)
        with any_db.session() as s:
            s.execute(update(StreamTicket).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        with pytest.raises(NotAuthenticated):
            redeem_ticket(any_db, settings, ticket)
        # bound to the session: unused, but its session has ended
        ticket = issue_ticket(any_db, principal=me)
        with any_db.session() as s:
            s.execute(update(UserSession).values(revoked=True))
        with pytest.raises(NotAuthenticated):
            redeem_ticket(any_db, settings, ticket)
    finally:
        other_worker.dispose()


def test_the_access_log_holds_no_token_or_ticket(live: Live) -> None:
    _, token = live.user("supervisor")
    ticket = live.ticket(token)
    with _client() as c:
        with c.stream("GET", f"{live.base}{STREAM}", params={"ticket": ticket}) as r:
            until(frames(r), "board.hello")
        with c.stream("GET", f"{live.base}{STREAM}", headers={"Authorization": f"Bearer {token}"}) as r:
            until(frames(r), "board.hello")
        c.get(f"{live.base}{STREAM}", params={"access_token": token})
    stream_lines = [line for line in live.access_log if "/board/stream" in line]
    assert len(stream_lines) >= 3, live.access_log
    for line in live.access_log:
        assert token not in line and ticket not in line, line
    assert any("ticket=[redacted]" in line for line in stream_lines)


# --- one policy for REST and stream ------------------------------------------------------------


def _published_subjects() -> tuple[set[str], list[str]]:
    """Every subject a ``*publish*(...)`` call in the code names as a literal (or as a module
    constant), and the calls whose subject is neither (forwarders)."""
    constants: dict[str, set[str]] = {}
    aliases: list[tuple[str, str]] = []
    trees = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        trees.append((path, tree))
        for node in tree.body:
            target = (node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1
                      else node.target if isinstance(node, ast.AnnAssign) else None)
            value = getattr(node, "value", None)
            if (isinstance(target, ast.Name) and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)):
                constants.setdefault(target.id, set()).add(value.value)
            if isinstance(node, ast.ImportFrom):
                aliases.extend((a.asname, a.name) for a in node.names if a.asname)
    for asname, name in aliases:  # from x import SUBJECT as WAVE_SUBJECT
        constants.setdefault(asname, set()).update(constants.get(name, set()))
    subjects: set[str] = set()
    opaque: list[str] = []
    for path, tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if "publish" not in name or name.startswith("_published"):
                continue
            found = False
            for arg in node.args[:2]:
                name_of = arg.id if isinstance(arg, ast.Name) else arg.attr if isinstance(arg, ast.Attribute) else ""
                values = {arg.value} if isinstance(arg, ast.Constant) else constants.get(name_of, set())
                for value in values:
                    if isinstance(value, str) and "." in value and " " not in value:
                        subjects.add(value)
                        found = True
            if not found:
                opaque.append(f"{path.relative_to(SRC)}:{node.lineno} {name}")
    return subjects, opaque


# calls that pass a subject through (their callers are walked instead), by file and name
FORWARDERS = {
    ("command/common.py", "publish"), ("core/bus.py", "publish"), ("core/bus.py", "_publisher"),
    ("command/views_orders.py", "publish"), ("command/views_common.py", "publish"),
    ("anpr/fanout.py", "_publish"), ("anpr/views.py", "_publish"),
}
# helpers whose own publish calls name their subjects (walked above), called from anywhere
HELPERS = ("publish_incident", "publish_units", "publish_orders_created")


def test_every_published_event_has_a_policy() -> None:
    subjects, opaque = _published_subjects()
    # the walk finds the known families (so it cannot pass by finding nothing)
    assert {"anpr.alert", "orders.created", "orders.escalated", "incidents.created", "units.position",
            "sessions.revoked", "fraud.wave"} <= subjects, subjects
    unmapped = sorted(s for s in subjects if family_of(s).prefix == "")
    assert not unmapped, f"published subjects with no live-board policy (command/board_policy.py): {unmapped}"
    for fam in FAMILIES:
        assert fam.action is None or fam.action in POLICY
    unknown = [o for o in opaque if (o.split(":")[0], o.split(" ")[1]) not in FORWARDERS
               and o.split(" ")[1] not in HELPERS]
    assert not unknown, f"publish calls whose subject the walk cannot read; check and list them: {unknown}"


def _rest_allows_alerts(client: TestClient, app: FastAPI, role: str, n: int) -> bool:
    name = f"{role}_rest{n}"
    with app.state.db.session() as s:
        create_user(s, username=name, role=role, password=PASSWORD)
    token = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD}).json()["access_token"]
    ensure_test_case(app.state.db, f"CASE-ALERT-{n}", name, "hotlist_alert")
    r = client.get("/api/v1/anpr/alerts", headers={"Authorization": f"Bearer {token}",
                                                    "X-Case-Id": f"CASE-ALERT-{n}", "X-Purpose": "hotlist_alert"})
    assert r.status_code in (200, 403), r.text
    return r.status_code == 200


def test_the_stream_gives_each_role_the_alerts_rest_gives_it(app: FastAPI, client: TestClient) -> None:
    rest = {role: _rest_allows_alerts(client, app, role.value, n) for n, role in enumerate(Role)}
    assert any(rest.values()) and not all(rest.values())  # the reference discriminates

    async def scenario() -> dict[Role, tuple[bytes, bytes]]:
        bus = InProcessBus()
        await bus.start()
        hub = BoardHub(bus)
        await hub.start()
        await asyncio.sleep(0)
        live = {role: hub.connect(access=access_for(Principal(i, f"u{i}", role))) for i, role in enumerate(Role)}
        bus.publish("anpr.alert", {"plate": "苏M12345", "alert_id": 7})
        bus.publish("incidents.created", {"id": "INC-9"})
        await asyncio.sleep(0.3)
        replay = {role: hub.connect("0", access=access_for(Principal(i, f"u{i}", role))) for i, role in enumerate(Role)}
        await asyncio.sleep(0.05)
        out = {}
        for role in Role:
            got = [b"".join(c.queue.get_nowait() for _ in range(c.queue.qsize())) for c in (live[role], replay[role])]
            out[role] = (got[0], got[1])
        await hub.stop()
        await bus.stop()
        return out

    got = asyncio.run(scenario())
    for role in Role:
        for kind, data in zip(("live", "replay"), got[role], strict=True):
            assert ("苏M12345".encode() in data) is rest[role], f"{role.value} {kind}: REST {rest[role]}"
            if role in POLICY["board.read"].roles:
                assert b"INC-9" in data, f"{role.value} {kind}"


def test_admin_refused_by_rest_gets_no_alert_on_the_live_stream(live: Live) -> None:
    _, admin = live.user("admin")
    _, dispatcher = live.user("dispatcher")
    assert httpx.get(f"{live.base}/api/v1/anpr/alerts", headers={"Authorization": f"Bearer {admin}"},
                     timeout=10).status_code == 403
    with (
        _client() as c,
        c.stream("GET", f"{live.base}{STREAM}", params={"ticket": live.ticket(admin)}) as ra,
        c.stream("GET", f"{live.base}{STREAM}", params={"ticket": live.ticket(dispatcher)}) as rd,
    ):
        sa, sd = frames(ra), frames(rd)
        until(sa, "board.hello")
        until(sd, "board.hello")
        live.publish("anpr.alert", {"plate": "苏M54321", "alert_id": 11})
        live.publish("incidents.updated", {"incident_id": "INC-X"})
        before, _ = until(sa, "incidents.updated")
        assert [n for _, n, _ in before if n.startswith("anpr.")] == []
        until(sd, "anpr.alert")


def test_a_patrol_unit_gets_only_its_own_orders(live: Live) -> None:
    from precinct.command.units import upsert_unit

    with live.app.state.db.session() as s:
        for uid in ("P1", "P2"):
            upsert_unit(s, id=uid, unit_type="patrol", station="east", group="patrol", lat=32.49, lon=119.92)
    _, p1 = live.user("patrol", unit_id="P1")
    _, dispatcher = live.user("dispatcher")
    d = {"Authorization": f"Bearer {dispatcher}"}
    with _client() as c, c.stream("GET", f"{live.base}{STREAM}", params={"ticket": live.ticket(p1)}) as r:
        s = frames(r)
        until(s, "board.hello")
        theirs = httpx.post(f"{live.base}/api/v1/orders", headers=d, timeout=10,
                            json={"title": "for P2", "body": "b", "recipients": ["unit:P2"], "deadline_minutes": 30})
        mine = httpx.post(f"{live.base}/api/v1/orders", headers=d, timeout=10,
                          json={"title": "for P1", "body": "b", "recipients": ["unit:P1"], "deadline_minutes": 30})
        assert theirs.status_code == mine.status_code == 201, theirs.text
        before, _ = until(s, "orders.created", lambda data: data["order_id"] == mine.json()["id"])
        assert theirs.json()["id"] not in json.dumps(before)
    # the same answer as REST
    h = {"Authorization": f"Bearer {p1}"}
    assert httpx.get(f"{live.base}/api/v1/orders/{theirs.json()['id']}", headers=h, timeout=10).status_code == 404
    assert httpx.get(f"{live.base}/api/v1/orders/{mine.json()['id']}", headers=h, timeout=10).status_code == 200


# --- per-recipient audit -----------------------------------------------------------------------


def _disclosures(db: Database, actor: str) -> list[dict[str, Any]]:
    with db.sessionmaker() as s:
        rows = s.scalars(select(AuditRecord).where(AuditRecord.actor == actor, AuditRecord.action == "disclosure")
                         .order_by(AuditRecord.seq)).all()
        return [{"resource": r.resource, "purpose": r.purpose, "count": r.result_count, **json.loads(r.params)}
                for r in rows]


def test_each_alert_delivery_and_replay_is_audited_per_recipient(live: Live) -> None:
    sup, sup_token = live.user("supervisor")
    disp, disp_token = live.user("dispatcher")
    ct, ct_token = live.user("call_taker")
    live.publish("incidents.updated", {"incident_id": "INC-0"})  # a point to replay from
    with (
        _client() as c,
        c.stream("GET", f"{live.base}{STREAM}", params={"ticket": live.ticket(sup_token)}) as rs,
        c.stream("GET", f"{live.base}{STREAM}", params={"ticket": live.ticket(disp_token)}) as rd,
        c.stream("GET", f"{live.base}{STREAM}", params={"ticket": live.ticket(ct_token)}) as rc,
    ):
        ss, sd, sc = frames(rs), frames(rd), frames(rc)
        for s in (ss, sd, sc):
            until(s, "board.hello")
        live.publish("incidents.updated", {"incident_id": "INC-1"})
        _, mark = until(ss, "incidents.updated", lambda d: d["incident_id"] == "INC-1")
        live.publish("anpr.alert", {"plate": "苏A11111", "alert_id": 21, "hotlist_id": 3})
        live.publish("anpr.alert", {"plate": "苏B22222", "alert_id": 22, "hotlist_id": 4})
        live.publish("incidents.updated", {"incident_id": "INC-2"})
        for s in (ss, sd):
            got, _ = until(s, "incidents.updated", lambda d: d["incident_id"] == "INC-2")
            assert {d["plate"] for _, n, d in got if n == "anpr.alert"} == {"苏A11111", "苏B22222"}
        until(sc, "incidents.updated", lambda d: d["incident_id"] == "INC-2")
    db = live.app.state.db
    for user in (sup, disp):
        recs = _disclosures(db, user)
        plates = [e["plate"] for r in recs if r["delivery"] == "live" for e in r["events"]]
        assert sorted(plates) == ["苏A11111", "苏B22222"], recs
        assert all(r["resource"] == "anpr.alerts" and r["purpose"] == "hotlist_alert" for r in recs)
        assert {e["alert_id"] for r in recs for e in r["events"]} == {21, 22}
    assert _disclosures(db, ct) == []  # nothing disclosed to a role that may not see alerts
    # a reconnect after Last-Event-ID replays the alerts: audited again, as a replay
    with (
        _client() as c,
        c.stream("GET", f"{live.base}{STREAM}", params={"ticket": live.ticket(disp_token)},
                 headers={"Last-Event-ID": mark}) as rr,
    ):
        got, _ = until(frames(rr), "incidents.updated", lambda d: d["incident_id"] == "INC-2")
        assert {d["plate"] for _, n, d in got if n == "anpr.alert"} == {"苏A11111", "苏B22222"}
    replays = [r for r in _disclosures(db, disp) if r["delivery"] == "replay"]
    assert sorted(e["plate"] for r in replays for e in r["events"]) == ["苏A11111", "苏B22222"]
    assert audit.verify(db.engine).ok


# --- streams end with their session ------------------------------------------------------------


def test_logout_ends_the_session_streams(live: Live) -> None:
    _, token = live.user("dispatcher")
    _, other = live.user("dispatcher")
    h = {"Authorization": f"Bearer {token}"}
    with (
        _client() as c,
        c.stream("GET", f"{live.base}{STREAM}", params={"ticket": live.ticket(token)}) as by_ticket,
        c.stream("GET", f"{live.base}{STREAM}", headers=h) as by_header,
        c.stream("GET", f"{live.base}{STREAM}", params={"ticket": live.ticket(other)}) as unrelated,
    ):
        st, sh, su = frames(by_ticket), frames(by_header), frames(unrelated)
        for s in (st, sh, su):
            until(s, "board.hello")
        assert httpx.post(f"{live.base}/api/v1/auth/logout", headers=h, timeout=10).status_code == 204
        # each ends on its own (the client's read timeout is 5 s: a stream still open fails here)
        assert [n for _, n, _ in st][-1:] == ["board.auth_expired"]
        assert [n for _, n, _ in sh][-1:] == ["board.auth_expired"]
        live.publish("incidents.updated", {"incident_id": "INC-after"})
        until(su, "incidents.updated")  # another session's stream goes on


def test_an_expired_session_ends_its_stream(live: Live) -> None:
    name, token = live.user("analyst")
    with _client() as c, c.stream("GET", f"{live.base}{STREAM}", params={"ticket": live.ticket(token)}) as r:
        s = frames(r)
        until(s, "board.hello")
        with live.app.state.db.session() as ses:  # idle past the limit (no logout, no bus event)
            uid = ses.scalar(select(User.id).where(User.username == name))
            ses.execute(update(UserSession).where(UserSession.user_id == uid)
                        .values(last_seen=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)))
        assert [n for _, n, _ in s][-1:] == ["board.auth_expired"]


def test_alerts_are_withheld_when_their_audit_cannot_be_written() -> None:
    calls: list[int] = []

    def failing(disclosures: list[Any]) -> None:
        calls.append(len(disclosures))
        raise RuntimeError("database down")

    async def scenario() -> tuple[bytes, bytes]:
        bus = InProcessBus()
        await bus.start()
        hub = BoardHub(bus, auditor=failing)
        await hub.start()
        await asyncio.sleep(0)
        live = hub.connect(access=access_for(Principal(1, "d1", Role.dispatcher, session_id="s1")))
        bus.publish("anpr.alert", {"plate": "苏M99999", "alert_id": 5})
        bus.publish("incidents.updated", {"incident_id": "INC-W"})
        await asyncio.sleep(0.3)
        replay = hub.connect("0", access=access_for(Principal(1, "d1", Role.dispatcher, session_id="s1")))
        await asyncio.sleep(0.1)
        got = [b"".join(c.queue.get_nowait() for _ in range(c.queue.qsize())) for c in (live, replay)]
        await hub.stop()
        await bus.stop()
        return got[0], got[1]

    live, replay = asyncio.run(scenario())
    assert calls and all(n == 1 for n in calls)  # it was asked, for the one recipient
    for data in (live, replay):
        assert b"INC-W" in data and "苏M99999".encode() not in data
