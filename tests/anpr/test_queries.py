"""Investigative queries against brute-force reference answers computed in plain Python/numpy."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from precinct.anpr import analysis, queries, service
from precinct.anpr.queries import DuckEngine, Scene
from precinct.core.db import Database
from precinct.core.warehouse import Warehouse
from precinct.errors import BadInput

from .conftest import (
    CENTER,
    DAY_US,
    HOUR_US,
    T0_US,
    haversine_km,
    ingest_rows,
    iso,
    random_reads,
    us,
)


@pytest.fixture
def loaded(db: Database, wh: Warehouse) -> list[dict[str, Any]]:
    rows = random_reads(4000, seed=7, plates=250, days=12)
    r = ingest_rows(db, wh, rows)
    assert r.stored == len(rows) and r.rejected == 0
    for row in rows:
        row["ts_us"] = us(row["ts"])
    return rows


def _brute_associate(
    rows: list[dict[str, Any]],
    lat: float,
    lon: float,
    r_km: float,
    t0: int,
    t1: int,
    lookback_days: int,
    watch: set[str],
) -> list[dict[str, Any]]:
    by: dict[str, dict[str, Any]] = {}
    mid, half = (t0 + t1) // 2, max((t1 - t0) / 2e6, 1.0)
    for x in rows:
        d = float(haversine_km(lat, lon, x["lat"], x["lon"]))
        if t0 <= x["ts_us"] <= t1 and d <= r_km:
            c = by.setdefault(
                x["plate"],
                {
                    "plate": x["plate"],
                    "reads": 0,
                    "first": x["ts_us"],
                    "last": x["ts_us"],
                    "min_d": d,
                    "min_dt": abs(x["ts_us"] - mid),
                },
            )
            c["reads"] += 1
            c["first"], c["last"] = min(c["first"], x["ts_us"]), max(c["last"], x["ts_us"])
            c["min_d"], c["min_dt"] = min(c["min_d"], d), min(c["min_dt"], abs(x["ts_us"] - mid))
    day0 = t0 // DAY_US
    for c in by.values():
        # whole days before the window's day, read in a 0.001° cell whose centre is in the circle
        days = {
            x["ts_us"] // DAY_US
            for x in rows
            if x["plate"] == c["plate"]
            and day0 - lookback_days <= x["ts_us"] // DAY_US < day0
            and float(
                haversine_km(
                    lat,
                    lon,
                    (math.floor(x["lat"] * 1000) + 0.5) / 1000,
                    (math.floor(x["lon"] * 1000) + 0.5) / 1000,
                )
            )
            <= r_km
        }
        rarity = 1 / (1 + len(days))
        c_space = max(0.0, 1 - c["min_d"] / r_km)
        c_time = max(0.0, 1 - (c["min_dt"] / 1e6) / half)
        c["days"] = len(days)
        c["score"] = 0.5 * rarity + 0.3 * c_space + 0.2 * c_time
        c["on_watchlist"] = c["plate"] in watch
    return sorted(
        by.values(), key=lambda c: (not c["on_watchlist"], -round(c["score"], 6), c["plate"])
    )


@pytest.mark.parametrize(("r_km", "hours", "lookback"), [(5.0, 2, 14), (2.0, 30, 3), (12.0, 6, 0)])
def test_associate_matches_brute_force(
    loaded: list[dict[str, Any]], wh: Warehouse, r_km: float, hours: int, lookback: int
) -> None:
    lat, lon = loaded[3]["lat"] + 0.004, loaded[3]["lon"]  # near a camera, not on it
    t0 = T0_US + 6 * DAY_US + 5 * HOUR_US
    t1 = t0 + hours * HOUR_US
    watch = {loaded[0]["plate"], loaded[5]["plate"], "苏E99999"}
    got = analysis.associate(
        DuckEngine(wh),
        lat=lat,
        lon=lon,
        radius_km=r_km,
        t0_us=t0,
        t1_us=t1,
        watchlist=sorted(watch),
        lookback_days=lookback,
    )
    want = _brute_associate(loaded, lat, lon, r_km, t0, t1, lookback, watch)
    assert want, "the scenario should find vehicles"
    if lookback and hours >= 24:  # the long window's vehicles were seen before
        assert any(w["days"] for w in want), "the scenario should exercise the rarity history"
    assert [c["plate"] for c in got["candidates"]] == [c["plate"] for c in want]
    for g, w in zip(got["candidates"], want, strict=True):
        assert g["reads"] == w["reads"]
        assert g["first_seen"] == iso(w["first"]) and g["last_seen"] == iso(w["last"])
        assert g["min_distance_km"] == pytest.approx(w["min_d"], abs=1e-5)
        assert g["components"]["days_seen_before"] == w["days"]
        assert g["score"] == pytest.approx(w["score"], abs=1e-5)
        assert g["on_watchlist"] == w["on_watchlist"]
    assert got["scanned_reads"] == sum(w["reads"] for w in want)
    only = analysis.associate(
        DuckEngine(wh),
        lat=lat,
        lon=lon,
        radius_km=r_km,
        t0_us=t0,
        t1_us=t1,
        watchlist=sorted(watch),
        only_watchlist=True,
    )
    assert {c["plate"] for c in only["candidates"]} == {
        w["plate"] for w in want if w["on_watchlist"]
    }
    assert only["scanned_reads"] == got["scanned_reads"]
    for c in only["candidates"]:  # ranked as in the full list
        assert c == next(g for g in got["candidates"] if g["plate"] == c["plate"])


def test_commuter_ranks_below_newcomer(db: Database, wh: Warehouse) -> None:
    lat, lon = CENTER
    t0 = T0_US + 10 * DAY_US
    rows = []
    for d in range(10):  # the commuter passes the same camera every day at 08:00
        rows.append(
            {
                "plate": "COMMUTER",
                "ts": iso(T0_US + d * DAY_US + 8 * HOUR_US),
                "lat": lat,
                "lon": lon,
            }
        )
    rows.append({"plate": "COMMUTER", "ts": iso(t0 + 8 * HOUR_US), "lat": lat, "lon": lon})
    rows.append({"plate": "NEWCOMER", "ts": iso(t0 + 8 * HOUR_US), "lat": lat, "lon": lon})
    ingest_rows(db, wh, rows)
    got = analysis.associate(
        DuckEngine(wh),
        lat=lat,
        lon=lon,
        radius_km=1,
        t0_us=t0 + 7 * HOUR_US,
        t1_us=t0 + 9 * HOUR_US,
    )
    plates = [c["plate"] for c in got["candidates"]]
    assert plates == ["NEWCOMER", "COMMUTER"]
    assert got["candidates"][1]["components"]["days_seen_before"] == 10


def test_series_matches_brute_force(loaded: list[dict[str, Any]], wh: Warehouse) -> None:
    rng = np.random.default_rng(3)
    scenes = []
    for i in range(6):
        x = loaded[int(rng.integers(len(loaded)))]
        scenes.append(
            Scene(
                f"C{i}",
                x["lat"] + 0.003,
                x["lon"],
                x["ts_us"] - 2 * DAY_US,
                x["ts_us"] + 2 * DAY_US,
                1.5,
            )
        )
    got = analysis.series(DuckEngine(wh), scenes=scenes, min_cases=2)
    want: dict[str, set[str]] = defaultdict(set)
    for s in scenes:
        for x in loaded:
            if (
                s.t0_us <= x["ts_us"] <= s.t1_us
                and float(haversine_km(s.lat, s.lon, x["lat"], x["lon"])) <= s.radius_km
            ):
                want[x["plate"]].add(s.case_id)
    want = {p: c for p, c in want.items() if len(c) >= 2}
    assert want
    assert {c["plate"]: set(c["cases"]) for c in got["candidates"]} == want
    counts = [c["n_cases"] for c in got["candidates"]]
    assert counts == sorted(counts, reverse=True)
    # each scene's closest read: where the vehicle's read nearest that scene was (for the map)
    by_case = {s.case_id: s for s in scenes}
    for c in got["candidates"]:
        for pc in c["per_case"]:
            s = by_case[pc["case_id"]]
            near = [(float(haversine_km(s.lat, s.lon, x["lat"], x["lon"])), x["lat"], x["lon"]) for x in loaded
                    if x["plate"] == c["plate"] and s.t0_us <= x["ts_us"] <= s.t1_us]
            d, lat, lon = min(n for n in near if n[0] <= s.radius_km)
            assert pc["min_distance_km"] == pytest.approx(d, abs=1e-5)
            assert (pc["closest"]["lat"], pc["closest"]["lon"]) == (lat, lon), (c["plate"], pc)
    # the SQL text (Spark's path) gives the same answer as the fast path
    sql = analysis.series(_SqlOnly(wh), scenes=scenes, min_cases=2)
    assert sql == got


class _SqlOnly:
    """The warehouse answering the SQL text itself (no DuckDB fast path), as Spark does."""

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh

    def run(self, q: queries.Query) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.wh.query(q.sql)]


def test_trajectory_reads_in_order_and_next_cameras(
    loaded: list[dict[str, Any]], wh: Warehouse
) -> None:
    plate = loaded[0]["plate"]
    t0, t1 = T0_US, T0_US + 12 * DAY_US
    got = analysis.trajectory(DuckEngine(wh), plate=plate, t0_us=t0, t1_us=t1, paths=False)
    mine = sorted((x for x in loaded if x["plate"] == plate), key=lambda x: x["ts_us"])
    assert [r["ts"] for r in got["reads"]] == [iso(x["ts_us"]) for x in mine]
    assert got["last_seen"]["camera_id"] == mine[-1]["camera_id"]
    # likely next = where vehicles read at the last camera in the look-back were read next; the
    # look-back is the last hour, or 24 h when the hour's top five hold fewer than 100 transitions
    last_cam, before = mine[-1]["camera_id"], mine[-1]["ts_us"]

    def top(lookback_us: int) -> list[tuple[str, int]]:
        lo, hi = before - lookback_us, before + 1800 * 1_000_000
        trans: dict[str, int] = defaultdict(int)
        by_plate: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for x in loaded:
            if lo <= x["ts_us"] <= hi:
                by_plate[x["plate"]].append(x)
        for seq in by_plate.values():
            seq.sort(key=lambda x: x["ts_us"])
            for a, b in itertools.pairwise(seq):
                if (
                    a["camera_id"] == last_cam
                    and a["ts_us"] <= before
                    and b["camera_id"] != last_cam
                    and b["ts_us"] - a["ts_us"] <= 1800e6
                ):
                    trans[b["camera_id"]] += 1
        return sorted(trans.items(), key=lambda kv: (-kv[1], kv[0]))[:5]

    for lookback in (HOUR_US, DAY_US):
        want = top(lookback)
        if sum(n for _, n in want) >= analysis.NEXT_ENOUGH:
            break
    assert got["likely_next_lookback_s"] == lookback // 1_000_000
    assert [(c["camera_id"], c["transitions"]) for c in got["likely_next"]] == want


def test_trajectory_paths_follow_roads(db: Database, wh: Warehouse) -> None:
    from precinct.city import RoadGraph

    city = RoadGraph.synthetic(size_km=4, seed=2, center=CENTER)
    a = city.snap(CENTER[0] - 0.005, CENTER[1] - 0.005)
    b = city.snap(CENTER[0] + 0.008, CENTER[1] + 0.006)
    lat0, lon0 = a.lat, a.lon
    rows = [
        {"plate": "TRAJ1", "ts": iso(T0_US), "lat": lat0, "lon": lon0},
        {"plate": "TRAJ1", "ts": iso(T0_US + 600 * 1_000_000), "lat": b.lat, "lon": b.lon},
    ]
    ingest_rows(db, wh, rows)
    got = analysis.trajectory(
        DuckEngine(wh), plate="TRAJ1", t0_us=T0_US, t1_us=T0_US + DAY_US, paths=True, city=city
    )
    assert len(got["legs"]) == 1
    leg = got["legs"][0]
    assert len(leg["path"]) >= 2 and leg["length_m"] > 0
    want = city.route((a.lat, a.lon), (b.lat, b.lon))
    assert leg["length_m"] == pytest.approx(want.length_m, abs=0.01)
    # at least as long as the straight line between the reads
    assert leg["length_m"] >= float(haversine_km(a.lat, a.lon, b.lat, b.lon)) * 1000 - 1


def _brute_convoy(
    rows: list[dict[str, Any]], target: str, t0: int, t1: int, gap_us: int, k: int
) -> dict[str, int]:
    tr = [x for x in rows if x["plate"] == target and t0 <= x["ts_us"] <= t1]
    cams: dict[str, set[str]] = defaultdict(set)
    for x in rows:
        if x["plate"] == target:
            continue
        for t in tr:
            if x["camera_id"] == t["camera_id"] and abs(x["ts_us"] - t["ts_us"]) <= gap_us:
                cams[x["plate"]].add(x["camera_id"])
    return {p: len(c) for p, c in cams.items() if len(c) >= k}


def test_convoy_matches_brute_force(db: Database, wh: Warehouse) -> None:
    rows = random_reads(3000, seed=11, plates=120, days=3)
    base = T0_US + DAY_US
    for i, cam in enumerate(["CAM001", "CAM002", "CAM003", "CAM004"]):
        t = base + i * 900 * 1_000_000
        rows.append(
            {
                "plate": "TARGET",
                "ts": iso(t),
                "lat": 31.3,
                "lon": 120.6,
                "camera_id": cam,
                "read_id": f"T{i}",
            }
        )
        rows.append(
            {
                "plate": "FOLLOWER",
                "ts": iso(t + 20 * 1_000_000),
                "lat": 31.3,
                "lon": 120.6,
                "camera_id": cam,
                "read_id": f"F{i}",
            }
        )
    ingest_rows(db, wh, rows)
    for x in rows:
        x["ts_us"] = us(x["ts"])
    got = analysis.convoy(
        DuckEngine(wh),
        plate="TARGET",
        t0_us=T0_US,
        t1_us=T0_US + 3 * DAY_US,
        max_gap_s=60,
        min_cameras=2,
    )
    want = _brute_convoy(rows, "TARGET", T0_US, T0_US + 3 * DAY_US, 60_000_000, 2)
    assert {c["plate"]: c["cameras"] for c in got["candidates"]} == want
    assert got["candidates"][0]["plate"] == "FOLLOWER" and got["candidates"][0]["cameras"] == 4
    # the places each was seen with the target: per camera the reads together, the first, its place
    places = _brute_convoy_places(rows, "TARGET", T0_US, T0_US + 3 * DAY_US, 60_000_000)
    for c in got["candidates"]:
        assert [(p["camera_id"], p["co_reads"], p["first_seen"], p["lat"], p["lon"]) for p in c["places"]] == \
            places[c["plate"]], c["plate"]
        assert sum(p["co_reads"] for p in c["places"]) == c["co_reads"]
        assert len(c["places"]) == c["cameras"]
    follower = got["candidates"][0]["places"]
    assert [p["camera_id"] for p in follower] == ["CAM001", "CAM002", "CAM003", "CAM004"]
    assert all((p["lat"], p["lon"]) == (31.3, 120.6) for p in follower)


def _brute_convoy_places(
    rows: list[dict[str, Any]], target: str, t0: int, t1: int, gap_us: int
) -> dict[str, list[tuple[str, int, str, float, float]]]:
    """Per vehicle: (camera, reads together counted per target read, first time, place of the
    earliest such read) in time order."""
    rid = {id(x): i for i, x in enumerate(rows)}  # ingest order: the warehouse's rid order
    tr = [x for x in rows if x["plate"] == target and t0 <= x["ts_us"] <= t1]
    pairs: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for x in rows:
        if x["plate"] == target:
            continue
        for t in tr:
            if x["camera_id"] == t["camera_id"] and abs(x["ts_us"] - t["ts_us"]) <= gap_us:
                pairs[(x["plate"], x["camera_id"])].append(x)
    out: dict[str, list[tuple[int, str, int, float, float]]] = defaultdict(list)
    for (plate, cam), xs in pairs.items():
        first = min(xs, key=lambda x: (x["ts_us"], rid[id(x)]))
        out[plate].append((first["ts_us"], cam, len(xs), first["lat"], first["lon"]))
    return {p: [(cam, n, iso(ts), la, lo) for ts, cam, n, la, lo in sorted(v)] for p, v in out.items()}


def test_cloned_matches_brute_force(
    loaded: list[dict[str, Any]], wh: Warehouse, db: Database
) -> None:
    t0, t1 = T0_US, T0_US + 12 * DAY_US
    got = analysis.cloned(DuckEngine(wh), t0_us=t0, t1_us=t1, max_speed_kmh=60, min_distance_km=1.0)
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for x in loaded:
        by[x["plate"]].append(x)
    rid_order = {}
    want: dict[str, int] = {}
    for p, seq in by.items():
        seq.sort(key=lambda x: x["ts_us"])
        n = 0
        for a, b in itertools.pairwise(seq):
            d = float(haversine_km(a["lat"], a["lon"], b["lat"], b["lon"]))
            gap = max((b["ts_us"] - a["ts_us"]) / 1e6, 1.0)
            if d >= 1.0 and d / (gap / 3600) > 60:
                n += 1
        if n:
            want[p] = n
    del rid_order
    assert want
    assert {c["plate"]: c["impossible_pairs"] for c in got["candidates"]} == want


def test_person_many_vehicles(db: Database, wh: Warehouse, tmp_path: Path) -> None:
    lines = ["person_id,plate,ts,source"]
    # P1: 7 e-bikes in 9 days; P2: 7 e-bikes but over 20 days (never 5 in 9 days); P3: one bike many times
    for i in range(7):
        lines.append(f"P1,TAG{i:03d},{iso(T0_US + int(i * 1.2 * DAY_US))},tag-reader")
        lines.append(f"P2,TAGX{i:02d},{iso(T0_US + i * 3 * DAY_US + HOUR_US)},tag-reader")
        lines.append(f"P3,TAGONE,{iso(T0_US + i * HOUR_US)},tag-reader")
    lines.append("P4,,2026-03-01T00:00:00Z,x")
    path = tmp_path / "links.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = service.import_links(db=db, wh=wh, path=path, actor="t", role="admin")
    assert res["stored"] == 21 and res["rejected"] == 1
    got = analysis.person_many_vehicles(DuckEngine(wh), min_vehicles=5, days=9)
    assert [(p["person_id"], p["vehicles"]) for p in got["people"]] == [("P1", 7)]
    assert got["people"][0]["plates"] == [f"TAG{i:03d}" for i in range(7)]
    # brute force for P2 over every window start
    p2 = [T0_US + i * 3 * DAY_US + HOUR_US for i in range(7)]
    best = max(sum(1 for t in p2 if s <= t < s + 9 * DAY_US) for s in p2)
    got2 = analysis.person_many_vehicles(DuckEngine(wh), min_vehicles=best, days=9)
    assert ("P2", best) in [(p["person_id"], p["vehicles"]) for p in got2["people"]]


def test_bad_query_parameters_are_bad_input() -> None:
    with pytest.raises(BadInput):
        queries.associate(lat=91, lon=0, radius_km=1, t0_us=0, t1_us=1)
    with pytest.raises(BadInput):
        queries.associate(lat=0, lon=0, radius_km=1, t0_us=2, t1_us=1)
    with pytest.raises(BadInput):
        queries.trajectory(plate="a\\b", t0_us=0, t1_us=1)
    q = queries.trajectory(plate="O'BRIEN", t0_us=0, t1_us=1)
    assert "'O''BRIEN'" in q.sql


def test_likely_next_uses_the_last_hour_at_a_busy_camera(db: Database, wh: Warehouse) -> None:
    t = T0_US + 2 * DAY_US
    rows = []
    for i in range(150):  # in the last hour: A -> B
        a = t - 1800 * 1_000_000 + i * 1_000_000
        rows.append({"plate": f"B{i:04d}", "ts": iso(a), "lat": 31.30, "lon": 120.60, "camera_id": "A"})
        rows.append({"plate": f"B{i:04d}", "ts": iso(a + 300_000_000), "lat": 31.31, "lon": 120.60, "camera_id": "B"})
    for i in range(300):  # three hours earlier, more of them: A -> C
        a = t - 3 * HOUR_US + i * 1_000_000
        rows.append({"plate": f"C{i:04d}", "ts": iso(a), "lat": 31.30, "lon": 120.60, "camera_id": "A"})
        rows.append({"plate": f"C{i:04d}", "ts": iso(a + 300_000_000), "lat": 31.29, "lon": 120.60, "camera_id": "C"})
    rows.append({"plate": "TGT", "ts": iso(t), "lat": 31.30, "lon": 120.60, "camera_id": "A"})
    ingest_rows(db, wh, rows)
    got = analysis.trajectory(DuckEngine(wh), plate="TGT", t0_us=T0_US, t1_us=t + DAY_US, paths=False)
    assert got["likely_next_lookback_s"] == 3600
    assert [(c["camera_id"], c["transitions"]) for c in got["likely_next"]] == [("B", 150)]
