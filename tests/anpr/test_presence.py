"""The query-side projections and the in-memory presence index follow the warehouse.

The association's fast path (candidates by SQL, history from :mod:`precinct.anpr.history`, ranking
SQL) must give exactly what the one SQL text gives (the text Spark runs), after more reads arrive
and after retention erases old ones; and both must equal a brute-force count.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np

from precinct.anpr import analysis, history, presence, queries, store, warehouse_migrations
from precinct.anpr.queries import DuckEngine
from precinct.core.db import Database
from precinct.core.warehouse import Warehouse

from .conftest import DAY_US, HOUR_US, T0_US, haversine_km, ingest_rows, random_reads, us


def _one_query(wh: Warehouse, **kw: Any) -> list[tuple[Any, ...]]:
    q = queries.associate(**kw)
    return wh.query(q.sql, tables=q.tables)


def _fast(wh: Warehouse, **kw: Any) -> list[tuple[Any, ...]]:
    cols, _scanned = analysis._run_associate(DuckEngine(wh), queries.associate(**kw))
    return list(zip(*cols, strict=True))


def _brute_days(rows: list[dict[str, Any]], lat: float, lon: float, r: float, day0: int, lb: int) -> dict[str, int]:
    days: dict[str, set[int]] = {}
    for x in rows:
        d = x["ts_us"] // DAY_US
        c_lat = (math.floor(x["lat"] * 1000) + 0.5) / 1000
        c_lon = (math.floor(x["lon"] * 1000) + 0.5) / 1000
        if day0 - lb <= d < day0 and float(haversine_km(lat, lon, c_lat, c_lon)) <= r:
            days.setdefault(x["plate"], set()).add(d)
    return {p: len(v) for p, v in days.items()}


def _scene(rows: list[dict[str, Any]], day: int) -> dict[str, Any]:
    t0 = T0_US + day * DAY_US + 7 * HOUR_US
    return {
        "lat": rows[1]["lat"] + 0.002,
        "lon": rows[1]["lon"],
        "radius_km": 6.0,
        "t0_us": t0,
        "t1_us": t0 + 6 * HOUR_US,
        "watchlist": [rows[2]["plate"]],
        "lookback_days": 14,
    }


def test_fast_path_equals_one_query_and_brute_force_as_reads_arrive(db: Database, wh: Warehouse) -> None:
    first = random_reads(3000, seed=5, plates=120, days=10)
    ingest_rows(db, wh, first)
    kw = _scene(first, 9)
    a = _fast(wh, **kw)  # builds the index
    assert a == _one_query(wh, **kw)
    # more reads for the same days arrive after the index was built: it must follow
    more = random_reads(3000, seed=6, plates=120, days=10)
    for i, r in enumerate(more):
        r["read_id"] = f"M{i}"
    ingest_rows(db, wh, more)
    b = _fast(wh, **kw)
    assert b == _one_query(wh, **kw)
    assert b != a
    rows = first + more
    for r in rows:
        r["ts_us"] = us(r["ts"])
    want = _brute_days(rows, kw["lat"], kw["lon"], kw["radius_km"], kw["t0_us"] // DAY_US, 14)
    got = {r[0]: r[6] for r in b}
    assert any(got.values())
    assert got == {p: want.get(p, 0) for p in got}


def test_days_seen_counts_whole_days_in_the_area() -> None:
    """The index alone, against a hand-made history: blocks of 64 days, cells at the edge."""
    wh = Warehouse(":memory:")
    try:
        store.ensure_schema(wh)
        presence.ensure(wh)
        lat, lon = 31.3, 120.6
        rows = []
        # V1 inside on days 100..129 (crosses the 64-day block at 128); V2 only 3 km away (outside 2 km)
        for d in range(100, 130):
            rows.append(("V1", d, math.floor(lat * 1000), math.floor(lon * 1000), 1, 0))
            rows.append(("V2", d, math.floor((lat + 0.027) * 1000), math.floor(lon * 1000), 1, 1))
        rows.append(("V1", 100, 0, 0, 1, 0))  # the same day elsewhere: counted once
        with wh.transaction() as cur:
            cur.executemany(f"INSERT INTO {presence.VEHICLES} VALUES (?, ?)", [(0, "V1"), (1, "V2")])
            cur.executemany(f"INSERT INTO {presence.PRESENCE} VALUES (?, ?, ?, ?, ?, ?)", rows)
            cur.execute("UPDATE anpr_presence_state SET version = version + 1")
        idx = history.index_for(wh)
        for day_from, day_to in ((100, 130), (110, 129), (127, 129), (90, 101), (130, 140)):
            # V1, V2 and a vehicle id never given
            got = idx.days_seen(np.array([0, 1, -1]), lat=lat, lon=lon, radius_km=2.0, day_from=day_from,
                                day_to=day_to)
            want = len(set(range(100, 130)) & set(range(day_from, day_to)))
            assert got.tolist() == [want, 0, 0]
        got = idx.days_seen(np.array([1]), lat=lat, lon=lon, radius_km=4.0, day_from=100, day_to=130)
        assert got.tolist() == [30]
    finally:
        wh.close()


def test_retention_erases_the_projections_and_the_index_follows(db: Database, wh: Warehouse) -> None:
    rows = random_reads(2000, seed=8, plates=80, days=10)
    ingest_rows(db, wh, rows)
    kw = _scene(rows, 9)
    before = _fast(wh, **kw)
    assert any(r[6] for r in before)
    cut = dt.datetime.fromtimestamp((T0_US + 9 * DAY_US) / 1e6, dt.UTC)
    store.erase_older_than(wh, cutoff=cut, keep_rids=set(), before_commit=lambda e, k: None)
    cut_us = T0_US + 9 * DAY_US
    assert wh.query(f"SELECT count(*) FROM {presence.BY_TIME} WHERE ts_us < {cut_us}")[0][0] == 0
    assert wh.query(f"SELECT count(*) FROM {presence.PRESENCE} WHERE day < {cut_us // DAY_US}")[0][0] == 0
    after = _fast(wh, **kw)
    assert after == _one_query(wh, **kw)
    assert not any(r[6] for r in after), "nothing before the window's day is left to count"
    n = wh.query(f"SELECT count(*) FROM {presence.BY_TIME}")[0][0]
    assert n == wh.query("SELECT count(*) FROM anpr_reads")[0][0]
    left = wh.query(f"SELECT count(*) FROM {presence.VEHICLES}")[0][0]
    assert left == wh.query("SELECT count(DISTINCT plate) FROM anpr_reads")[0][0], "erased plates leave the dictionary"


def test_projections_built_for_a_warehouse_that_predates_them(db: Database, wh: Warehouse) -> None:
    rows = random_reads(500, seed=9, plates=40, days=3)
    ingest_rows(db, wh, rows)
    with wh.transaction() as cur:  # as before the upgrade
        cur.execute(f"DROP TABLE {presence.BY_TIME}")
        cur.execute(f"DROP TABLE {presence.PRESENCE}")
        cur.execute("DROP TABLE anpr_presence_state")
        cur.execute("DROP TABLE warehouse_schema_version")  # a release before versioning
    wh.schemas.discard(warehouse_migrations.MARK)
    presence.ensure(wh)  # adopts the warehouse, and migration 0003 builds the projections
    got = wh.query(f"SELECT rid, ts_us, lat, lon, plate FROM {presence.BY_TIME} ORDER BY rid")
    assert got == wh.query("SELECT rid, ts_us, lat, lon, plate FROM anpr_reads ORDER BY rid")
    n = wh.query(f"SELECT count(*) FROM (SELECT DISTINCT plate, day FROM {presence.PRESENCE})")[0][0]
    assert n == len({(r["plate"], us(r["ts"]) // DAY_US) for r in rows})


def test_series_fast_path_equals_one_query(db: Database, wh: Warehouse) -> None:
    rows = random_reads(3000, seed=12, plates=90, days=6)
    ingest_rows(db, wh, rows)
    scenes = [
        queries.Scene(f"S{j}", rows[j * 7]["lat"] + 0.001, rows[j * 7]["lon"], T0_US + j * HOUR_US * 9,
                      T0_US + j * HOUR_US * 9 + 2 * DAY_US, 1.0 + j / 2)
        for j in range(5)
    ]
    for k in (1, 2, 3):
        q = queries.series(scenes=scenes, min_cases=k)
        fast = list(zip(*analysis._run_series(DuckEngine(wh), q), strict=True))
        assert fast, "the scenario should find vehicles"
        assert fast == wh.query(q.sql)


def test_compaction_sorts_each_day_by_plate_and_keeps_every_read(db: Database, wh: Warehouse) -> None:
    rows = random_reads(3000, seed=14, plates=60, days=4)
    rows.sort(key=lambda r: r["ts"])
    for i in range(0, len(rows), 250):  # live micro-batches in time order
        ingest_rows(db, wh, rows[i : i + 250])
    cols = "rid, plate, ts_us, lat, lon, camera_id, read_id, kind, confidence, batch"
    before = sorted(wh.query(f"SELECT {cols} FROM anpr_reads"))
    traj = analysis.trajectory(DuckEngine(wh), plate=rows[0]["plate"], t0_us=T0_US, t1_us=T0_US + 5 * DAY_US,
                               paths=False)
    steps: list[tuple[int, int, int]] = []
    assert store.compact(wh, progress=lambda *a: steps.append(a)) == len(rows)
    assert [s[:2] for s in steps] == [(k, 4) for k in range(1, 5)]
    assert sorted(wh.query(f"SELECT {cols} FROM anpr_reads")) == before
    stored = wh.query("SELECT ts_us // 86400000000, plate, ts_us, rid FROM anpr_reads ORDER BY rowid")
    assert stored == sorted(stored), "each day in plate order, days in order"
    again = analysis.trajectory(DuckEngine(wh), plate=rows[0]["plate"], t0_us=T0_US, t1_us=T0_US + 5 * DAY_US,
                                paths=False)
    assert again == traj
    copy = f"SELECT rid, ts_us, lat, lon, plate, camera_id, vid FROM {presence.BY_TIME}"
    kept = sorted(wh.query(copy))
    assert presence.compact(wh) == len(rows)
    assert sorted(wh.query(copy)) == kept
    order = wh.query(f"SELECT ts_us, rid FROM {presence.BY_TIME} ORDER BY rowid")
    assert order == sorted(order), "the copy in time order"


def test_server_start_builds_the_presence_index_in_the_background(db: Database, wh: Warehouse) -> None:
    import time

    from fastapi.testclient import TestClient

    from precinct.app import create_app
    from precinct.config import get_settings

    ingest_rows(db, wh, random_reads(400, seed=15, plates=30, days=3))
    history._INDEXES.clear()
    with TestClient(create_app(get_settings(), db=db)) as client:
        assert client.get("/api/v1/health").status_code == 200
        deadline = time.monotonic() + 20
        while not any(i.version >= 1 for i in history._INDEXES.values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        (idx,) = history._INDEXES.values()
        assert idx.version >= 1 and sum(p.rows for p in idx.parts) > 0
