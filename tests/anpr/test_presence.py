"""The query-side projections and the in-memory presence index follow the warehouse.

The association's fast path (candidates by SQL, history from :mod:`precinct.anpr.history`, ranking
SQL) must give exactly what the one SQL text gives (the text Spark runs), after more reads arrive
and after retention erases old ones; and both must equal a brute-force count. The history is
counted two ways, which must agree: from the whole-history index a server keeps in memory
(``resident``), and from the presence table's scene days and cells (a fresh process).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pytest

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


def _recomputed_presence(wh: Warehouse) -> list[tuple[Any, ...]]:
    """The presence rows as recomputed from the stored reads (what the table must hold)."""
    return wh.query(
        f"SELECT DISTINCT r.plate, (r.ts_us // {DAY_US})::INTEGER, floor(r.lat * 1000)::INTEGER, "
        f"floor(r.lon * 1000)::INTEGER, r.batch, v.vid FROM anpr_reads r JOIN {presence.VEHICLES} v "
        "ON v.plate = r.plate ORDER BY ALL"
    )


def _stored_presence(wh: Warehouse) -> list[tuple[Any, ...]]:
    return wh.query(f"SELECT DISTINCT plate, day, cy, cx, batch, vid FROM {presence.PRESENCE} ORDER BY ALL")


@pytest.mark.parametrize("resident", [True, False], ids=["index", "table"])
def test_fast_path_equals_one_query_and_brute_force_as_reads_arrive(
    db: Database, wh: Warehouse, resident: bool
) -> None:
    first = random_reads(3000, seed=5, plates=120, days=10)
    ingest_rows(db, wh, first)
    kw = _scene(first, 9)
    assert history.index_for(wh, build=resident).resident is resident
    a = _fast(wh, **kw)
    assert a == _one_query(wh, **kw)
    # more reads for the same days arrive after the index was built: it must follow
    more = random_reads(3000, seed=6, plates=120, days=10)
    for i, r in enumerate(more):
        r["read_id"] = f"M{i}"
    ingest_rows(db, wh, more)
    b = _fast(wh, **kw)
    assert history.index_for(wh).resident is resident
    assert b == _one_query(wh, **kw)
    assert b != a
    rows = first + more
    for r in rows:
        r["ts_us"] = us(r["ts"])
    want = _brute_days(rows, kw["lat"], kw["lon"], kw["radius_km"], kw["t0_us"] // DAY_US, 14)
    got = {r[0]: r[6] for r in b}
    assert any(got.values())
    assert got == {p: want.get(p, 0) for p in got}


@pytest.mark.parametrize("resident", [True, False], ids=["index", "table"])
def test_days_seen_counts_whole_days_in_the_area(resident: bool) -> None:
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
        idx = history.index_for(wh, build=resident)
        assert idx.resident is resident
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


@pytest.mark.parametrize("resident", [True, False], ids=["index", "table"])
def test_retention_erases_the_projections_and_the_index_follows(db: Database, wh: Warehouse, resident: bool) -> None:
    rows = random_reads(2000, seed=8, plates=80, days=10)
    ingest_rows(db, wh, rows)
    kw = _scene(rows, 9)
    history.index_for(wh, build=resident)
    before = _fast(wh, **kw)
    assert any(r[6] for r in before)
    cut = dt.datetime.fromtimestamp((T0_US + 9 * DAY_US) / 1e6, dt.UTC)
    store.erase_older_than(wh, cutoff=cut, keep_rids=set(), before_commit=lambda e, k: None)
    cut_us = T0_US + 9 * DAY_US
    assert wh.query(f"SELECT count(*) FROM {presence.BY_TIME} WHERE ts_us < {cut_us}")[0][0] == 0
    assert wh.query(f"SELECT count(*) FROM {presence.PRESENCE} WHERE day < {cut_us // DAY_US}")[0][0] == 0
    after = _fast(wh, **kw)  # a resident index answers from the table while it is rebuilt
    assert after == _one_query(wh, **kw)
    assert not any(r[6] for r in after), "nothing before the window's day is left to count"
    assert _stored_presence(wh) == _recomputed_presence(wh)
    if resident:  # rebuilt in the background and swapped in
        import time

        deadline = time.monotonic() + 30
        while not history.index_for(wh).resident and time.monotonic() < deadline:
            time.sleep(0.05)
        assert history.index_for(wh).resident and history.index_for(wh).parts
        assert _fast(wh, **kw) == after
    else:
        assert not history.index_for(wh).resident
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


def _scenes(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Scenes of several sizes, days and look-backs (300 km: a box too large to enumerate its cells)."""
    out = []
    sizes = ((0.4, 14), (2.0, 3), (6.0, 14), (25.0, 7), (1.0, 0), (3.0, 30), (300.0, 14))
    for j, (radius, lookback) in enumerate(sizes):
        t0 = T0_US + (4 + j) * DAY_US + (j * 5) * HOUR_US
        out.append({"lat": rows[j * 11]["lat"] + 0.0004 * j, "lon": rows[j * 11]["lon"], "radius_km": radius,
                    "t0_us": t0, "t1_us": t0 + 2 * HOUR_US, "watchlist": [rows[j]["plate"]],
                    "lookback_days": lookback})
    return out


def test_a_fresh_process_gives_the_associations_of_a_warm_one(db: Database, settings: Any) -> None:
    """A new warehouse object on an existing warehouse file (what a fresh process opens) answers
    from the presence table, without the whole-history index, exactly as the warm index does."""
    from precinct.anpr import service

    rows = random_reads(6000, seed=31, plates=150, days=12, cameras=60)
    wh = service.warehouse(settings)
    for i in range(0, len(rows), 1500):  # several ingests: several batches and chunks
        ingest_rows(db, wh, rows[i : i + 1500])
    scenes = _scenes(rows)
    assert history.index_for(wh, build=True).resident
    warm = [_fast(wh, **kw) for kw in scenes]
    assert any(r[6] for a in warm for r in a), "some vehicle has history in a scene"
    assert warm == [_one_query(wh, **kw) for kw in scenes]
    path = wh.path
    wh.close()

    fresh = Warehouse(path)
    try:
        cold = [_fast(fresh, **kw) for kw in scenes]
        idx = history.index_for(fresh)
        assert not idx.resident and not idx.parts, "the fresh process built no whole-history index"
        assert cold == warm
    finally:
        fresh.close()


def test_retention_keeps_the_presence_of_kept_reads(db: Database, wh: Warehouse) -> None:
    """After retention the table is exactly the presence of the reads left (kept ones included),
    and the association counts them as the one SQL text and Spark's view over the reads do."""
    rows = random_reads(3000, seed=33, plates=70, days=10)
    ingest_rows(db, wh, rows)
    cut_us = T0_US + 6 * DAY_US + 5 * HOUR_US
    old = wh.query("SELECT rid FROM anpr_reads WHERE ts_us < ? ORDER BY rid", [cut_us])
    keep = {int(r[0]) for r in old[::9]}  # hotlist hits and case pins
    cut = dt.datetime.fromtimestamp(cut_us / 1e6, dt.UTC)
    erased, kept = store.erase_older_than(wh, cutoff=cut, keep_rids=keep, before_commit=lambda e, k: None)
    assert kept == len(keep) and erased == len(old) - len(keep)
    assert _stored_presence(wh) == _recomputed_presence(wh)
    early = wh.query(f"SELECT count(*) FROM {presence.PRESENCE} WHERE day < ?", [cut_us // DAY_US])[0][0]
    assert early > 0, "the kept reads' days are still present"
    kw = _scene(rows, 9)
    for resident in (False, True):
        history._INDEXES.clear()
        history.index_for(wh, build=resident)
        got = _fast(wh, **kw)
        assert got == _one_query(wh, **kw)
    # a second retention further on: still exact
    cut2 = dt.datetime.fromtimestamp((cut_us + DAY_US) / 1e6, dt.UTC)
    store.erase_older_than(wh, cutoff=cut2, keep_rids=keep, before_commit=lambda e, k: None)
    assert _stored_presence(wh) == _recomputed_presence(wh)
    assert _fast(wh, **kw) == _one_query(wh, **kw)


def test_presence_rows_are_written_in_day_and_cell_order(db: Database, wh: Warehouse) -> None:
    rows = random_reads(3000, seed=35, plates=60, days=5)
    rows.sort(key=lambda r: r["ts"], reverse=True)  # out of time order, several ingests
    for i in range(0, len(rows), 1000):
        ingest_rows(db, wh, rows[i : i + 1000])
    before = _stored_presence(wh)
    assert before == _recomputed_presence(wh)
    order = "day, cy, cx, vid"
    for (batch,) in wh.query(f"SELECT DISTINCT batch FROM {presence.PRESENCE}"):  # each ingest chunk in order
        got = wh.query(f"SELECT {order} FROM {presence.PRESENCE} WHERE batch = ? ORDER BY rowid", [batch])
        assert got == sorted(got)
    presence.compact(wh)
    got = wh.query(f"SELECT {order} FROM {presence.PRESENCE} ORDER BY rowid")
    assert got == sorted(got), "after compaction the whole table is in day and cell order"
    assert _stored_presence(wh) == before


def test_many_ingests_merge_the_resident_index_in_the_background(db: Database, wh: Warehouse) -> None:
    rows = random_reads(2400, seed=37, plates=60, days=6)
    ingest_rows(db, wh, rows[:200])
    first = history.index_for(wh, build=True)
    kw = _scene(rows, 5)
    for i in range(200, 2400, 200):  # eleven more batches: more than eight parts
        ingest_rows(db, wh, rows[i : i + 200])
        assert _fast(wh, **kw) == _one_query(wh, **kw)
    import time

    deadline = time.monotonic() + 30
    while history.index_for(wh) is first and time.monotonic() < deadline:
        time.sleep(0.05)
    merged = history.index_for(wh)
    assert merged is not first and merged.resident and len(merged.parts) <= 8
    assert _fast(wh, **kw) == _one_query(wh, **kw)
