"""Keyset pagination of /incidents and /board: pages concatenate to exactly the full, sorted list."""

from __future__ import annotations

import datetime as dt
import random

from fastapi import FastAPI
from fastapi.testclient import TestClient

from precinct.command.models import Incident
from precinct.command.paging import MAX_PAGE, decode_cursor, encode_cursor
from precinct.command.views_common import full_incident

T0 = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)


def _seed(app: FastAPI, n: int, *, seed: int = 1) -> list[tuple[dt.datetime, str, str]]:
    """``n`` incidents with many equal creation times (ties broken by id); returns (ts, id, status)."""
    rng = random.Random(seed)
    rows = []
    with app.state.db.session() as s:
        for i in range(n):
            ts = T0 + dt.timedelta(seconds=rng.randrange(8), microseconds=rng.choice([0, 0, 250_000, 999_999]))
            status = rng.choice(["new", "dispatched", "closed", "on_scene"])
            iid = f"INC-P{rng.randrange(10**6):06d}-{i:03d}"
            s.add(
                Incident(
                    id=iid,
                    type="theft",
                    category="property",
                    priority="yellow",
                    status=status,
                    lat=32.49,
                    lon=119.92,
                    created_by="seed",
                    created_at=ts,
                    updated_at=ts,
                )
            )
            rows.append((ts, iid, status))
    return rows


def _pages(client: TestClient, url: str, h: dict[str, str], limit: int, **params: str) -> list[dict]:
    out, cursor, pages = [], None, 0
    while True:
        q = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        r = client.get(url, headers=h, params=q)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["incidents"]) <= limit
        out.extend(body["incidents"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return out
        assert pages < 1000


def test_incident_pages_equal_the_sorted_list(client: TestClient, login, app: FastAPI) -> None:
    rows = _seed(app, 120)
    h = login("dispatcher")
    expect = [iid for _, iid, _ in sorted(rows, key=lambda r: (r[0], r[1]), reverse=True)]
    for limit in (1, 7, 50, 120, 500):
        got = [i["id"] for i in _pages(client, "/api/v1/incidents", h, limit)]
        assert got == expect, limit
    # filters page the same way
    closed = [iid for ts, iid, st in sorted(rows, key=lambda r: (r[0], r[1]), reverse=True) if st == "closed"]
    got = [i["id"] for i in _pages(client, "/api/v1/incidents", h, 9, status="closed")]
    assert got == closed and closed
    # an exact page boundary: the last full page says there is no next page
    assert client.get("/api/v1/incidents", headers=h, params={"limit": 120}).json()["next_cursor"] is None


def test_pages_are_stable_while_incidents_arrive(client: TestClient, login, app: FastAPI) -> None:
    rows = _seed(app, 40, seed=2)
    h = login("call_taker")
    first = client.get("/api/v1/incidents", headers=h, params={"limit": 10}).json()
    # a new call arrives (newest of all) between pages: later pages neither repeat nor skip
    r = client.post(
        "/api/v1/calls",
        headers=h,
        json={"lat": 32.49, "lon": 119.92, "type": "noise", "caller_phone": "13800000001"},
    )
    assert r.status_code == 201
    seen = [i["id"] for i in first["incidents"]]
    cursor = first["next_cursor"]
    while cursor:
        body = client.get("/api/v1/incidents", headers=h, params={"limit": 10, "cursor": cursor}).json()
        seen += [i["id"] for i in body["incidents"]]
        cursor = body["next_cursor"]
    assert seen == [iid for _, iid, _ in sorted(rows, key=lambda r: (r[0], r[1]), reverse=True)]
    assert r.json()["incident_id"] not in seen


def test_board_pages_match_full_incidents(client: TestClient, login, app: FastAPI, make_units) -> None:
    h = login("dispatcher")
    make_units([("P1", "patrol", 0.001, 0.0), ("P2", "patrol", -0.001, 0.0)])
    ids = []
    for k in range(6):
        body = {"lat": 32.49 + 0.01 * k, "lon": 119.92, "type": "theft", "caller_phone": f"1380000{k:04d}"}
        ids.append(client.post("/api/v1/calls", headers=h, json=body).json()["incident_id"])
    # a second caller about the first incident, and units on two incidents
    dup = {"lat": 32.49, "lon": 119.92, "type": "theft", "caller_phone": "13912345678", "merge_into": ids[0]}
    assert client.post("/api/v1/calls", headers=h, json=dup).status_code == 201
    assert client.post(f"/api/v1/incidents/{ids[0]}/dispatch", headers=h, json={"unit_ids": ["P1"]}).status_code == 201
    assert client.post(f"/api/v1/incidents/{ids[3]}/dispatch", headers=h, json={"unit_ids": ["P2"]}).status_code == 201
    r = client.post(f"/api/v1/incidents/{ids[5]}/close", headers=h, json={"disposition": "no_action"})
    assert r.status_code == 200
    board = _pages(client, "/api/v1/board", h, 2)
    with app.state.db.sessionmaker() as s:
        expect = [full_incident(s, i) for i in reversed(ids)]
    expect = [e for e in expect if e["status"] not in ("closed", "merged")]
    strip = lambda d: {k: v for k, v in d.items() if k != "timers"}  # noqa: E731
    assert [strip(b) for b in board] == [strip(e) for e in expect]
    assert board[-1]["callers"] == ["138****0000", "139****5678"]
    first = client.get("/api/v1/board", headers=h, params={"limit": 2}).json()
    assert {u["id"] for u in first["units"]} == {"P1", "P2"} and "last_event_id" in first


def test_bad_cursor_and_limit_are_named(client: TestClient, login, app: FastAPI) -> None:
    h = login("dispatcher")
    for url in ("/api/v1/incidents", "/api/v1/board"):
        r = client.get(url, headers=h, params={"cursor": "not-a-cursor"})
        assert r.status_code == 422 and "cursor" in r.text
        r = client.get(url, headers=h, params={"limit": MAX_PAGE + 1})
        assert r.status_code == 422 and "limit" in r.text
        assert client.get(url, params={"limit": 5}).status_code == 401
    assert client.get("/api/v1/incidents", headers=h, params={"limit": MAX_PAGE}).status_code == 200


def test_cursor_round_trip_and_schema(client: TestClient) -> None:
    at = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
    assert decode_cursor(encode_cursor(at, "INC-1")) == (at, "INC-1")
    schema = client.get("/openapi.json").json()
    for path in ("/api/v1/incidents", "/api/v1/board"):
        params = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert params["limit"]["schema"]["maximum"] == MAX_PAGE
        assert "next_cursor" in params["cursor"]["description"]
