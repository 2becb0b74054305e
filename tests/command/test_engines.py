"""The services on SQLite and PostgreSQL: lifecycle, a race for one unit, overdue flags, orders."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import func, select

from precinct.city.access import CityLink
from precinct.command import dispatch as svc
from precinct.command.intake import create_call
from precinct.command.lifecycle import close_incident
from precinct.command.models import Assignment, Incident
from precinct.command.monitors import flag_overdue
from precinct.command.orders import acknowledge_order, create_order, escalate_overdue
from precinct.command.units import upsert_unit
from precinct.core.db import Database, utcnow
from precinct.core.identity import Principal
from precinct.core.roles import Role
from precinct.errors import Conflict

BASE = (32.49, 119.92)


def _incident(db: Database, type: str = "robbery") -> str:
    with db.session() as s:
        res = create_call(
            s,
            actor="ct",
            role="call_taker",
            city=CityLink(None),
            type=type,
            lat=BASE[0],
            lon=BASE[1],
            caller_phone="13800001111",
        )
        return res.incident.id


def test_lifecycle_race_overdue_and_orders(any_db: Database) -> None:
    db = any_db
    with db.session() as s:
        for i in range(3):
            upsert_unit(s, id=f"P{i}", unit_type="patrol", station="east", lat=BASE[0], lon=BASE[1])
    a, b = _incident(db), _incident(db)
    # two dispatchers race for P0: exactly one wins
    outcomes: list[str] = []

    def send(iid: str) -> None:
        try:
            with db.session() as s:
                svc.dispatch_units(s, incident_id=iid, unit_ids=["P0"], actor="d")
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=send, args=(iid,)) for iid in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    with db.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(Assignment)) == 1
        won = s.scalar(select(Assignment.incident_id))
    with db.session() as s:
        svc.acknowledge(s, incident_id=won, unit_id="P0", actor="p")
        svc.arrive(s, incident_id=won, unit_id="P0", actor="p")
        svc.clear(s, incident_id=won, unit_id="P0", actor="p")
        close_incident(s, incident_id=won, disposition="arrested", actor="d")
    with db.sessionmaker() as s:
        inc = s.get(Incident, won)
        assert inc is not None and inc.status == "closed"
        assert inc.dispatched_at <= inc.en_route_at <= inc.on_scene_at <= inc.cleared_at <= inc.closed_at
    # the other (red) incident was never dispatched: overdue for dispatch, flagged once
    other = b if won == a else a
    with db.session() as s:
        flagged = flag_overdue(s, now=utcnow() + dt.timedelta(minutes=2))
        assert [f["id"] for f in flagged] == [other]
        assert flag_overdue(s, now=utcnow() + dt.timedelta(minutes=3)) == []
    # an order to a station, acknowledged by one unit, escalated when the deadline passes
    with db.session() as s:
        order = create_order(
            s,
            title="设卡",
            body="",
            recipients=["station:east"],
            deadline=utcnow() + dt.timedelta(minutes=5),
            issued_by="d",
        )
        oid = order.id
        acknowledge_order(s, order_id=oid, principal=Principal(1, "p1", Role.patrol, unit_id="P1"))
    with db.session() as s:
        escalated = escalate_overdue(s, now=utcnow() + dt.timedelta(minutes=6))
        assert [o.id for o in escalated] == [oid]


def test_same_key_concurrently_runs_once(any_db: Database) -> None:
    """A client retrying while its first attempt still runs gets the first answer, not a 409."""
    import time

    from precinct.command.idempotency import run_idempotent

    runs: list[int] = []
    results: list[tuple[str, bool]] = []

    def action(s: object) -> dict[str, str]:
        runs.append(1)
        time.sleep(0.5)
        return {"id": f"run-{len(runs)}"}

    def attempt() -> None:
        out = run_idempotent(any_db, scope="u:POST /x", key="same", payload={"a": 1}, action=action)
        results.append((out.body["id"], out.replayed))

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.1)
    for t in threads:
        t.join()
    assert len(runs) == 1
    assert sorted(results) == [("run-1", False), ("run-1", True)]


def test_two_workers_flag_and_escalate_once(pg_db: Database) -> None:
    """Every API worker runs the overdue and escalation checks: on PostgreSQL, while one worker's
    check holds an incident or order, another's skips it, and after its commit sees it done."""
    db = pg_db
    iid = _incident(db)
    with db.session() as s:
        upsert_unit(s, id="P9", unit_type="patrol", station="east", lat=BASE[0], lon=BASE[1])
    with db.session() as s:
        oid = create_order(
            s, title="设卡", body="", recipients=["all"], deadline=utcnow() + dt.timedelta(minutes=1), issued_by="d"
        ).id
    later = utcnow() + dt.timedelta(minutes=5)
    with db.session() as a:
        assert [f["id"] for f in flag_overdue(a, now=later)] == [iid]
        assert [o.id for o in escalate_overdue(a, now=later)] == [oid]
        with db.session() as b:  # the second worker, while the first has not committed
            assert flag_overdue(b, now=later) == []
            assert escalate_overdue(b, now=later) == []
    with db.session() as b:  # and after it committed
        assert flag_overdue(b, now=later) == []
        assert escalate_overdue(b, now=later) == []
    with db.sessionmaker() as s:
        from precinct.command.models import IncidentEvent

        kinds = s.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == iid)).all()
        assert kinds.count("overdue_dispatch") == 1
