"""Issue 21: time in status. ``status_since`` is when a unit's status last changed: set when it is
created, taken out of service or back, dispatched (the guarded claim), and at each step of its
assignment; unchanged by a repeated status, a new description or a position."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from precinct.city.access import CityLink
from precinct.command import dispatch, units
from precinct.command.intake import create_call
from precinct.command.models import Unit
from precinct.core.db import Database
from precinct.core.timeutil import to_iso

T0 = dt.datetime(2026, 12, 5, 1, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def at(self, minutes: int) -> dt.datetime:
        self.now = T0 + dt.timedelta(minutes=minutes)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    c = Clock()
    for mod in ("precinct.command.models", "precinct.command.units", "precinct.command.dispatch",
                "precinct.command.incidents", "precinct.command.intake"):
        monkeypatch.setattr(f"{mod}.utcnow", c)
    yield c


def _since(db: Database, unit_id: str = "U1") -> dt.datetime | None:
    with db.sessionmaker() as s:
        u = s.get(Unit, unit_id)
        assert u is not None
        return u.status_since


def test_status_since_follows_every_status_change(any_db: Database, clock: Clock) -> None:
    db = any_db
    created = clock.at(0)
    with db.session() as s:
        units.upsert_unit(s, id="U1", unit_type="patrol", lat=32.49, lon=119.92)
    assert _since(db) == created
    clock.at(3)
    with db.session() as s:  # a new description, the same status again, a position: no change
        units.upsert_unit(s, id="U1", unit_type="patrol", callsign="巡1")
        units.set_unit_status(s, unit_id="U1", status="available")
        units.post_position(s, unit_id="U1", lat=32.491, lon=119.921)
    assert _since(db) == created
    off = clock.at(10)
    with db.session() as s:
        units.set_unit_status(s, unit_id="U1", status="out_of_service")
    assert _since(db) == off
    back = clock.at(25)
    with db.session() as s:
        view = units.unit_view(units.set_unit_status(s, unit_id="U1", status="available"))
    assert _since(db) == back and view["status_since"] == to_iso(back)
    with db.session() as s:
        inc = create_call(s, actor="ct", role="call_taker", city=CityLink(None), type="theft",
                          lat=32.49, lon=119.92).incident.id
    sent = clock.at(31)
    with db.session() as s:
        dispatch.dispatch_units(s, incident_id=inc, unit_ids=["U1"], actor="d")
    assert _since(db) == sent
    moving = clock.at(33)
    with db.session() as s:
        dispatch.acknowledge(s, incident_id=inc, unit_id="U1", actor="p")
    assert _since(db) == moving
    there = clock.at(40)
    with db.session() as s:
        dispatch.arrive(s, incident_id=inc, unit_id="U1", actor="p")
    assert _since(db) == there
    done = clock.at(52)
    with db.session() as s:
        dispatch.clear(s, incident_id=inc, unit_id="U1", actor="p")
    with db.sessionmaker() as s:
        u = s.get(Unit, "U1")
        assert u is not None and u.status == "available" and u.status_since == done
        assert units.unit_view(u)["status_since"] == to_iso(done)
