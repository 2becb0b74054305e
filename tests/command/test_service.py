"""The command domain's public face (command.service), with known answers from independent references:
incident_records for the analysis domains, nearest_available_units (a brute-force ranking), ISO times."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from precinct.city.access import DETOUR_FACTOR, FALLBACK_SPEED_MPS, CityLink
from precinct.command import dispatch, service
from precinct.command.flows import import_calls
from precinct.command.intake import create_call
from precinct.command.lifecycle import close_incident, merge_incident
from precinct.command.units import upsert_unit
from precinct.core.db import Database
from precinct.core.timeutil import parse_iso, parse_iso_field, to_iso
from precinct.errors import BadInput

BASE = (32.49, 119.92)
UTC = dt.UTC


def _great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Reference distance: the spherical law of cosines (a different formula from haversine)."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return 6_371_008.8 * math.acos(max(-1.0, min(1.0, c)))


def _call(db: Database, *, type: str = "theft", dlat: float = 0.0, **kw: object) -> str:
    with db.session() as s:
        res = create_call(s, actor="ct", role="call_taker", city=CityLink(None), type=type,
                          lat=BASE[0] + dlat, lon=BASE[1], caller_phone="13812345678",
                          caller_name="Zhang San", description="my bike was stolen", **kw)  # type: ignore[arg-type]
        return res.incident.id


def test_incident_records_known_answers(any_db: Database, tmp_path) -> None:
    db = any_db
    a = _call(db, type="robbery")
    b = _call(db, type="theft", dlat=0.05)  # 5.5 km away: not a duplicate
    dup = _call(db, type="theft", dlat=0.05)
    with db.session() as s:
        upsert_unit(s, id="P1", unit_type="patrol", lat=BASE[0], lon=BASE[1])
        upsert_unit(s, id="P2", unit_type="patrol", lat=BASE[0], lon=BASE[1])
        dispatch.dispatch_units(s, incident_id=a, unit_ids=["P1", "P2"], actor="d")
    with db.session() as s:
        first = dispatch.arrive(s, incident_id=a, unit_id="P2", actor="p").arrived_at
    with db.session() as s:
        dispatch.arrive(s, incident_id=a, unit_id="P1", actor="p")
    with db.session() as s:
        dispatch.clear(s, incident_id=a, unit_id=None, actor="d")
    with db.session() as s:
        closed = close_incident(s, incident_id=a, disposition="resolved", actor="d").closed_at
        merge_incident(s, incident_id=dup, into=b, actor="ct")
    csv = tmp_path / "calls.csv"
    csv.write_text("call_id,ts,lat,lon,type,priority,description\n"
                   "H1,2026-03-02T08:00:00+08:00,32.5,119.9,burglary,,Li Si's flat\n", encoding="utf-8")
    import_calls(db, csv, actor="admin", role="admin")

    with db.sessionmaker() as s:
        rows = service.incident_records(s)
    by_id = {r["id"]: r for r in rows}
    assert set(by_id) == {a, b} | {r["id"] for r in rows if r["type"] == "burglary"} and len(rows) == 3
    assert dup not in by_id  # merged duplicates are left out
    for r in rows:
        assert set(r) == {"id", "ts", "type", "priority", "lat", "lon", "status", "closed_at", "arrived_at"}
        assert r["ts"].tzinfo is not None and r["ts"].utcoffset() == dt.timedelta(0)
        text = repr(r)
        assert "13812345678" not in text and "Zhang" not in text and "bike" not in text and "Li Si" not in text
    assert by_id[a]["type"] == "robbery" and by_id[a]["priority"] == "red" and by_id[a]["status"] == "closed"
    assert by_id[a]["arrived_at"] == first  # the first unit on scene, not the second
    assert by_id[a]["closed_at"] == closed
    assert by_id[b]["arrived_at"] is None and by_id[b]["status"] == "new"
    hist = next(r for r in rows if r["type"] == "burglary")
    assert hist["ts"] == dt.datetime(2026, 3, 2, 0, 0, tzinfo=UTC) and hist["status"] == "closed"
    # oldest first; filters
    assert [r["ts"] for r in rows] == sorted(r["ts"] for r in rows)
    with db.sessionmaker() as s:
        assert [r["id"] for r in service.incident_records(s, types=["burglary"])] == [hist["id"]]
        assert service.incident_records(s, until=dt.datetime(2026, 3, 2, 0, 0, tzinfo=UTC)) == []
        recent = service.incident_records(s, since=dt.datetime(2026, 3, 2, 0, 0, 1, tzinfo=UTC))
        assert {r["id"] for r in recent} == {a, b}
        assert {r["id"] for r in service.incident_records(s, include_merged=True)} >= {dup}
        with pytest.raises(ValueError, match="timezone"):
            service.incident_records(s, since=dt.datetime(2026, 3, 2))


def test_nearest_available_units_against_brute_force(db: Database) -> None:
    rng = np.random.default_rng(7)
    spec = [(f"U{i:02d}", ("patrol", "traffic", "special")[i % 3],
             BASE[0] + float(rng.uniform(-0.03, 0.03)), BASE[1] + float(rng.uniform(-0.03, 0.03)))
            for i in range(30)]
    with db.session() as s:
        for uid, utype, lat, lon in spec:
            upsert_unit(s, id=uid, unit_type=utype, lat=lat, lon=lon)
        upsert_unit(s, id="BUSY", unit_type="patrol", lat=BASE[0], lon=BASE[1])
        upsert_unit(s, id="NOFIX", unit_type="patrol")
    with db.session() as s:
        incident = _call(db, type="theft")
        dispatch.dispatch_units(s, incident_id=incident, unit_ids=["BUSY"], actor="d")
    city = CityLink(None)  # straight line: the ranking is by distance
    reference = sorted(spec, key=lambda u: (_great_circle_m(BASE[0], BASE[1], u[2], u[3]), u[0]))
    with db.sessionmaker() as s:
        near = service.nearest_available_units(s, lat=BASE[0], lon=BASE[1], limit=5, city=city)
        assert near.eta_source == "straight_line"
        assert [u.unit_id for u in near.units] == [u[0] for u in reference[:5]]  # BUSY, NOFIX never
        for u in near.units:
            d = _great_circle_m(BASE[0], BASE[1], u.lat, u.lon)
            assert u.distance_m == pytest.approx(d, rel=1e-6)  # law of cosines: ~1e-8 rounding at 300 m
            assert u.travel_time_s == pytest.approx(d * DETOUR_FACTOR / FALLBACK_SPEED_MPS, rel=1e-6)
        traffic = service.nearest_available_units(s, lat=BASE[0], lon=BASE[1], limit=3, city=city,
                                                  unit_types=["traffic"])
        assert [u.unit_id for u in traffic.units] == [u[0] for u in reference if u[1] == "traffic"][:3]
        # a plan keeps the fastest of each type it needs, beyond the limit
        planned = service.nearest_available_units(s, lat=BASE[0], lon=BASE[1], limit=1, city=city,
                                                  plan={"special": 2})
        want = {reference[0][0], *[u[0] for u in reference if u[1] == "special"][:2]}
        assert {u.unit_id for u in planned.units} == want
        # the same answer from rows read once (the alert fan-out reads them once per batch)
        rows = service.available_units(s)
    again = service.nearest_available_units(None, lat=BASE[0], lon=BASE[1], limit=5, city=city, candidates=rows)
    assert again == near


def test_nearest_by_road_matches_the_graphs_own_k_nearest(db: Database, small_city) -> None:
    rng = np.random.default_rng(3)
    pts = [(BASE[0] + float(rng.uniform(-0.012, 0.012)), BASE[1] + float(rng.uniform(-0.012, 0.012)))
           for _ in range(12)]
    with db.session() as s:
        for i, (lat, lon) in enumerate(pts):
            upsert_unit(s, id=f"R{i:02d}", unit_type="patrol", lat=lat, lon=lon)
    with db.sessionmaker() as s:
        near = service.nearest_available_units(s, lat=BASE[0], lon=BASE[1], limit=4, city=CityLink(small_city))
    best = small_city.k_nearest_by_time(BASE[0], BASE[1], np.array(pts), 4)
    assert near.eta_source == "road"
    assert [u.unit_id for u in near.units] == [f"R{i:02d}" for i, _ in best]
    assert [u.travel_time_s for u in near.units] == pytest.approx([t for _, t in best])


def test_iso_times_parse_and_format_once() -> None:
    assert parse_iso("2026-05-01T08:30:00+08:00") == dt.datetime(2026, 5, 1, 0, 30, tzinfo=UTC)
    assert parse_iso(" 2026-05-01T00:30:00Z ") == dt.datetime(2026, 5, 1, 0, 30, tzinfo=UTC)
    assert parse_iso("2026-05-01T00:30:00", naive_as_utc=True) == dt.datetime(2026, 5, 1, 0, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="offset"):
        parse_iso("2026-05-01T00:30:00")
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_iso("yesterday")
    with pytest.raises(BadInput) as err:
        parse_iso_field("soon", "start")
    assert err.value.message.startswith("start: ") and err.value.detail["field"] == "start"
    assert to_iso(dt.datetime(2026, 5, 1, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))) == "2026-05-01T00:30:00Z"
    assert to_iso(None) is None
