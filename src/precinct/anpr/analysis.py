"""Investigative analyses on top of :mod:`precinct.anpr.queries`: run a query on an engine and
shape the answer (the same for the CLI, the API and the dashboard).

None of these scores people: association ranks *vehicles* for an investigator and returns the
components of the rank; the person–vehicle analysis counts links, it does not predict anything.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from precinct.anpr import queries
from precinct.anpr.queries import DuckEngine, QueryEngine, Scene
from precinct.anpr.timetext import iso_many
from precinct.core import gcpause
from precinct.errors import BadInput

log = logging.getLogger("precinct.anpr")


def iso(ts_us: int | None) -> str | None:
    if ts_us is None:
        return None
    return dt.datetime.fromtimestamp(ts_us / 1e6, dt.UTC).isoformat().replace("+00:00", "Z")


def associate(
    engine: QueryEngine,
    *,
    lat: float,
    lon: float,
    radius_km: float,
    t0_us: int,
    t1_us: int,
    watchlist: Sequence[str] = (),
    only_watchlist: bool = False,
    lookback_days: int = 14,
    limit: int | None = None,
) -> dict[str, Any]:
    q = queries.associate(
        lat=lat,
        lon=lon,
        radius_km=radius_km,
        t0_us=t0_us,
        t1_us=t1_us,
        watchlist=watchlist,
        only_watchlist=only_watchlist,
        lookback_days=lookback_days,
        limit=limit,
    )
    cols, scanned_all = _run_associate(engine, q)
    plate, n, first, last, min_d, min_dt, days, on_wl, rarity, c_space, c_time, score = cols
    first_iso, last_iso = iso_many(first), iso_many(last)
    # values are already Python ints/floats (NumPy's tolist or the engine's rows)
    with gcpause.paused():
        candidates = _candidates(plate, n, first_iso, last_iso, min_d, on_wl, score, rarity, days, c_space, c_time,
                                 min_dt)
    if scanned_all is not None:  # counted from all candidates before filtering and limiting
        scanned = scanned_all
    elif only_watchlist or limit:  # the candidates no longer cover every read in the circle
        q2 = queries.scanned_reads(lat=lat, lon=lon, radius_km=radius_km, t0_us=t0_us, t1_us=t1_us)
        scanned = int(engine.run(q2)[0][0])
    else:
        scanned = sum(c["reads"] for c in candidates)
    return {
        "candidates": candidates,
        "scanned_reads": scanned,
        "scoring": {
            "order": "on_watchlist first, then score",
            "score": f"{queries.W_RARITY}*rarity + {queries.W_SPACE}*closeness_space + "
            f"{queries.W_TIME}*closeness_time",
            "lookback_days": lookback_days,
        },
    }


def _candidates(
    plate: list[Any], n: list[Any], first_iso: list[str], last_iso: list[str], min_d: list[Any], on_wl: list[Any],
    score: list[Any], rarity: list[Any], days: list[Any], c_space: list[Any], c_time: list[Any], min_dt: list[Any],
) -> list[dict[str, Any]]:
    """The association's candidates as the CLI and the API print them."""
    return [
        {
            "plate": p,
            "reads": k,
            "first_seen": f,
            "last_seen": la,
            "min_distance_km": d,
            "on_watchlist": w == 1,
            "score": sc,
            "components": {
                "rarity": ra,
                "days_seen_before": ds,
                "closeness_space": cs,
                "closeness_time": ct,
                "min_time_from_middle_s": dt_,
            },
        }
        for p, k, f, la, d, w, sc, ra, ds, cs, ct, dt_ in zip(
            plate, n, first_iso, last_iso, min_d, on_wl, score, rarity, days, c_space, c_time, min_dt,
            strict=True,
        )
    ]


def _run_associate(engine: QueryEngine, q: queries.AssociateQuery) -> tuple[list[list[Any]], int | None]:
    """The association's result as columns (lists in ``ASSOC_COLUMNS`` order), and the reads in
    the circle when known without another query.

    On the embedded warehouse: the window's reads from DuckDB, totalled per vehicle id
    (:mod:`precinct.anpr.areascan`), the history from the in-memory presence index, and the
    ranking in NumPy with the SQL text's formulas, rounding and order; elsewhere the one query."""
    if not isinstance(engine, DuckEngine):
        rows = engine.run(q)
        return ([list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in q.columns]), None
    import pyarrow as pa
    import pyarrow.compute as pc

    from precinct.anpr import areascan, history

    wh = engine.warehouse
    window = wh.query_arrow(q.window_sql)  # before the index refresh: every vid in it is then known
    idx = history.index_for(wh)
    lat, lon, radius_km = q.area
    reads = areascan.WindowReads.from_arrow(window)
    with idx.lock:
        tot = areascan.totals(reads, lat=lat, lon=lon, radius_km=radius_km, mid_us=q.mid_us, scratch=idx.scratch)
        plates = idx.plates[tot.vid]
        plate_arr = pa.array(plates, pa.string())
        on_wl = pc.is_in(plate_arr, value_set=q.tables["watchlist"].column("plate")).to_numpy(zero_copy_only=False)
        scanned = int(tot.reads.sum())
        if q.only_watchlist:
            keep = np.flatnonzero(on_wl)
            tot, on_wl, plates, plate_arr = tot.take(keep), on_wl[keep], plates[keep], plate_arr.take(keep)
        days = idx.days_seen(
            tot.vid, lat=lat, lon=lon, radius_km=radius_km, day_from=q.day_from, day_to=q.day_to
        )
    min_dt_s = tot.min_dt_us / 1e6
    rarity = 1.0 / (1 + days)
    c_space = np.maximum(0.0, 1.0 - tot.min_distance_km / radius_km)
    c_time = np.maximum(0.0, 1.0 - min_dt_s / q.half_s)
    score = _round(queries.W_RARITY * rarity + queries.W_SPACE * c_space + queries.W_TIME * c_time, 6)
    order = pc.sort_indices(
        pa.table({"w": on_wl, "s": score, "p": plate_arr}),
        sort_keys=[("w", "descending"), ("s", "descending"), ("p", "ascending")],
    ).to_numpy()
    if q.limit:
        order = order[: q.limit]
    cols = [
        plates[order],
        tot.reads[order],
        tot.first_us[order],
        tot.last_us[order],
        _round(tot.min_distance_km[order], 6),
        _round(min_dt_s[order], 3),
        days[order],
        on_wl[order].astype(np.int64),
        _round(rarity[order], 6),
        _round(c_space[order], 6),
        _round(c_time[order], 6),
        score[order],
    ]
    return [c.tolist() for c in cols], scanned


def _round(x: np.ndarray, digits: int) -> np.ndarray:
    """DuckDB's ``round(x, digits)`` for doubles: half away from zero at ``digits`` decimals."""
    scale = 10.0**digits
    out: np.ndarray = np.copysign(np.floor(np.abs(x) * scale + 0.5), x) / scale
    return out


def series(engine: QueryEngine, *, scenes: Sequence[Scene], min_cases: int) -> dict[str, Any]:
    """Vehicles read near at least ``min_cases`` of the scenes, most scenes first, then by plate.

    The per-(vehicle, scene) rows come sorted by plate and case; each vehicle's totals are
    reduced with NumPy over its run of rows (tens of thousands of vehicles in a busy city).
    """
    q = queries.series(scenes=scenes, min_cases=min_cases)
    if isinstance(engine, DuckEngine):
        plates, cases, ns, firsts, lasts, mins = _run_series(engine, q)
    else:
        rows = engine.run(q)
        plates, cases, ns, firsts, lasts, mins = (
            [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in q.columns]
        )
    out: list[dict[str, Any]] = []
    with gcpause.paused():
        _series_candidates(out, plates, cases, ns, firsts, lasts, mins)
    return {"candidates": out, "scenes": len(scenes), "min_cases": min_cases}


def _series_candidates(
    out: list[dict[str, Any]], plates: list[Any], cases: list[Any], ns: list[Any], firsts: list[Any],
    lasts: list[Any], mins: list[Any],
) -> None:
    """One entry per vehicle from the (vehicle, scene) rows sorted by plate and case."""
    if plates:
        p = np.asarray(plates, dtype=object)
        starts = np.flatnonzero(np.concatenate([[True], p[1:] != p[:-1]]))
        ends = np.append(starts[1:], len(p))
        reads = np.add.reduceat(np.asarray(ns, dtype=np.int64), starts).tolist()
        first_iso = iso_many(np.minimum.reduceat(np.asarray(firsts, dtype=np.int64), starts))
        last_iso = iso_many(np.maximum.reduceat(np.asarray(lasts, dtype=np.int64), starts))
        per_case = [  # Spark's numbers may be NumPy or Decimal: plain int / float for JSON
            {"case_id": c, "reads": int(n), "min_distance_km": float(d)}
            for c, n, d in zip(cases, ns, mins, strict=True)
        ]
        n_cases = (ends - starts).tolist()
        starts_l, ends_l = starts.tolist(), ends.tolist()
        # most scenes first; a stable sort keeps plates in order within a count
        for k in np.argsort(-(ends - starts), kind="stable").tolist():
            a, b = starts_l[k], ends_l[k]
            out.append(
                {
                    "plate": plates[a],
                    "cases": cases[a:b],
                    "n_cases": n_cases[k],
                    "reads": reads[k],
                    "first_seen": first_iso[k],
                    "last_seen": last_iso[k],
                    "per_case": per_case[a:b],
                }
            )


def _run_series(engine: DuckEngine, q: queries.SeriesQuery) -> list[list[Any]]:
    """The series SQL's rows as columns, on the embedded warehouse: every scene's reads in one
    query, totalled per (scene, vehicle id) by :mod:`precinct.anpr.areascan`, then kept for the
    vehicles near at least ``min_cases`` scenes and sorted by plate and case id as the SQL sorts."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from precinct.anpr import areascan, history

    wh = engine.warehouse
    window = wh.query_arrow(q.window_sql)  # before the index refresh: every vid in it is then known
    idx = history.index_for(wh)
    reads = areascan.WindowReads.from_arrow(window)
    scene = window.column("scene").to_numpy()
    by_scene = np.argsort(scene, kind="stable")
    bounds = np.searchsorted(scene[by_scene], np.arange(len(q.scenes) + 1))
    parts: list[tuple[int, areascan.VehicleTotals]] = []
    with idx.lock:
        for j, s in enumerate(q.scenes):
            mine = reads.take(by_scene[bounds[j] : bounds[j + 1]])
            tot = areascan.totals(
                mine, lat=s.lat, lon=s.lon, radius_km=s.radius_km, mid_us=s.t0_us, scratch=idx.scratch
            )
            parts.append((j, tot))
        plates_by_vid = idx.plates
    vid = np.concatenate([t.vid for _, t in parts]) if parts else np.zeros(0, dtype=np.int64)
    which = np.concatenate([np.full(len(t.vid), j) for j, t in parts]) if parts else np.zeros(0, dtype=np.int64)
    near = np.bincount(vid, minlength=len(plates_by_vid)) if len(vid) else np.zeros(0, dtype=np.int64)
    keep = np.flatnonzero(near[vid] >= q.min_cases) if len(vid) else vid
    case_ids = np.array([s.case_id for s in q.scenes], dtype=object)
    plates = pa.array(plates_by_vid[vid[keep]], pa.string())
    cases = pa.array(case_ids[which[keep]], pa.string())
    order = keep[
        pc.sort_indices(
            pa.table({"p": plates, "c": cases}), sort_keys=[("p", "ascending"), ("c", "ascending")]
        ).to_numpy()
    ]

    def col(name: str) -> np.ndarray:
        return np.concatenate([getattr(t, name) for _, t in parts])[order]

    return [
        plates_by_vid[vid[order]].tolist(),
        case_ids[which[order]].tolist(),
        col("reads").tolist(),
        col("first_us").tolist(),
        col("last_us").tolist(),
        _round(col("min_distance_km"), 6).tolist(),
    ]


#: Likely next cameras: transitions seen in the last hour before the last read, or in the 24 h
#: before when the top cameras of the last hour account for fewer than ``NEXT_ENOUGH``.
NEXT_LOOKBACKS_US = (3_600_000_000, 24 * 3_600_000_000)
NEXT_ENOUGH = 100


def trajectory(
    engine: QueryEngine,
    *,
    plate: str,
    t0_us: int,
    t1_us: int,
    paths: bool = True,
    city: Any = None,
    cameras: dict[str, tuple[float, float]] | None = None,
    max_legs: int = 50,
    next_k: int = 5,
) -> dict[str, Any]:
    """Reads in order, the likely road path between consecutive reads, last seen, likely next.

    Paths come from the city's fastest route between consecutive reads (the ``max_legs`` most
    recent legs, legs longer than 2 hours apart are not joined). Likely next cameras: the cameras
    other vehicles read at the last camera were read at next in the hour before (in the 24 hours
    before when the hour gives fewer than ``NEXT_ENOUGH`` transitions), with road
    travel times from the last position when the city is available; without transition history,
    the nearest cameras by travel time.
    """
    rows = engine.run(queries.trajectory(plate=plate, t0_us=t0_us, t1_us=t1_us))
    reads = [
        {
            "rid": int(r[0]),
            "ts": iso(r[1]),
            "lat": r[2],
            "lon": r[3],
            "camera_id": r[4],
            "kind": r[5],
            "confidence": None if r[6] is None else round(float(r[6]), 4),
        }
        for r in rows
    ]
    result: dict[str, Any] = {
        "plate": plate,
        "reads": reads,
        "legs": [],
        "last_seen": None,
        "likely_next": [],
    }
    if not rows:
        return result
    last = rows[-1]
    result["last_seen"] = {"ts": iso(last[1]), "lat": last[2], "lon": last[3], "camera_id": last[4]}
    if paths and city is not None:
        legs = []
        start = max(0, len(rows) - 1 - max_legs)
        for a, b in zip(rows[start:-1], rows[start + 1 :], strict=True):
            gap_s = (b[1] - a[1]) / 1e6
            leg: dict[str, Any] = {"from_rid": int(a[0]), "to_rid": int(b[0]), "gap_s": gap_s}
            if gap_s <= 7200 and (a[2], a[3]) != (b[2], b[3]):
                try:
                    route = city.route((a[2], a[3]), (b[2], b[3]))
                    leg.update(route.to_dict())
                    leg["plausible"] = route.time_s <= gap_s * 1.5 + 60
                except Exception as exc:  # no path (another component, far off-road)
                    leg["path"], leg["error"] = [[a[2], a[3]], [b[2], b[3]]], str(exc)[:120]
            legs.append(leg)
        result["legs"] = legs
    nxt: list[dict[str, Any]] = []
    if last[4]:
        for lookback_us in NEXT_LOOKBACKS_US:  # a busy camera answers from its last hour
            found = engine.run(
                queries.next_cameras(
                    camera_id=last[4], before_us=last[1], lookback_us=lookback_us, limit=next_k,
                    vehicle="vid" if isinstance(engine, DuckEngine) else "plate",
                )
            )
            if sum(int(n) for _, n in found) >= NEXT_ENOUGH:
                break
        result["likely_next_lookback_s"] = lookback_us // 1_000_000
        for cam, n in found:
            nxt.append({"camera_id": cam, "transitions": int(n), "basis": "observed transitions"})
        total = sum(c["transitions"] for c in nxt) or 1
        for c in nxt:
            c["share"] = round(c["transitions"] / total, 4)
    if cameras and city is not None:
        try:
            ids = [c for c in cameras if c != last[4]]
            pts = [cameras[c] for c in ids]
            if nxt:
                known = {c["camera_id"] for c in nxt}
                idx = [i for i, c in enumerate(ids) if c in known]
                times = (
                    city.travel_times_from(last[2], last[3], [pts[i] for i in idx]) if idx else []
                )
                tmap = {ids[i]: float(t) for i, t in zip(idx, times, strict=True)}
                for c in nxt:
                    t = tmap.get(c["camera_id"])
                    c["travel_time_s"] = (
                        round(t, 1) if t is not None and t != float("inf") else None
                    )
            elif pts:
                times = city.travel_times_from(last[2], last[3], pts)
                order = sorted((float(t), ids[i]) for i, t in enumerate(times) if t != float("inf"))
                nxt = [
                    {"camera_id": c, "travel_time_s": round(t, 1), "basis": "nearest by road"}
                    for t, c in order[:next_k]
                ]
        except Exception as exc:
            log.warning("travel times for likely-next cameras unavailable: %s", exc)
    result["likely_next"] = nxt
    # one drawable line for maps: the routed legs where known, straight between reads otherwise
    routed = {leg["to_rid"]: leg.get("path") for leg in result["legs"] if leg.get("path")}
    line: list[list[float]] = []
    for r in reads:
        seg = routed.get(r["rid"])
        line.extend(seg if seg else [[r["lat"], r["lon"]]])
    result["path"] = line
    return result


def convoy(
    engine: QueryEngine,
    *,
    plate: str,
    t0_us: int,
    t1_us: int,
    max_gap_s: float = 60.0,
    min_cameras: int = 3,
) -> dict[str, Any]:
    rows = engine.run(
        queries.convoy(
            plate=plate, t0_us=t0_us, t1_us=t1_us, max_gap_s=max_gap_s, min_cameras=min_cameras
        )
    )
    return {
        "target": plate,
        "max_gap_s": max_gap_s,
        "min_cameras": min_cameras,
        "candidates": [
            {
                "plate": r[0],
                "cameras": int(r[1]),
                "co_reads": int(r[2]),
                "min_gap_s": float(r[3]),
                "first_seen": iso(r[4]),
                "last_seen": iso(r[5]),
            }
            for r in rows
        ],
    }


def cloned(
    engine: QueryEngine,
    *,
    t0_us: int,
    t1_us: int,
    plate: str | None = None,
    max_speed_kmh: float = 250.0,
    min_distance_km: float = 1.0,
) -> dict[str, Any]:
    rows = engine.run(
        queries.cloned(
            t0_us=t0_us,
            t1_us=t1_us,
            plate=plate,
            max_speed_kmh=max_speed_kmh,
            min_distance_km=min_distance_km,
        )
    )
    by_plate: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_plate.setdefault(r[0], []).append(
            {
                "a": {
                    "rid": int(r[1]),
                    "ts": iso(r[2]),
                    "lat": r[3],
                    "lon": r[4],
                    "camera_id": r[5],
                },
                "b": {
                    "rid": int(r[6]),
                    "ts": iso(r[7]),
                    "lat": r[8],
                    "lon": r[9],
                    "camera_id": r[10],
                },
                "distance_km": float(r[11]),
                "gap_s": float(r[12]),
                "speed_kmh": float(r[13]),
            }
        )
    return {
        "max_speed_kmh": max_speed_kmh,
        "candidates": [
            {"plate": p, "impossible_pairs": len(v), "pairs": v}
            for p, v in sorted(by_plate.items())
        ],
    }


def person_many_vehicles(
    engine: QueryEngine,
    *,
    min_vehicles: int,
    days: float,
    t0_us: int | None = None,
    t1_us: int | None = None,
) -> dict[str, Any]:
    rows = engine.run(
        queries.person_many_vehicles(min_vehicles=min_vehicles, days=days, t0_us=t0_us, t1_us=t1_us)
    )
    span = int(days * queries.DAY_US)
    people = []
    for person, n, start in rows:
        links = engine.run(queries.person_links(person_id=person, t0_us=start, t1_us=start + span))
        people.append(
            {
                "person_id": person,
                "vehicles": int(n),
                "window_start": iso(start),
                "window_end": iso(start + span),
                "plates": sorted({p for p, _, _ in links}),
                "links": [{"plate": p, "ts": iso(t), "source": s} for p, t, s in links],
            }
        )
    return {"min_vehicles": min_vehicles, "days": days, "people": people}


def parse_scenes(rows: Sequence[dict[str, Any]], *, default_radius_km: float = 2.0) -> list[Scene]:
    """Scenes from cases.csv rows / JSON objects: case_id, lat, lon, start, end, radius_km?"""
    from precinct.anpr.service import parse_time, to_us

    scenes = []
    for i, row in enumerate(rows, start=2):
        try:
            case_id = str(row.get("case_id") or "").strip()
            if not case_id:
                raise BadInput(
                    f"line {i}: case_id is required", detail={"line": i, "field": "case_id"}
                )
            lat, lon = float(row["lat"]), float(row["lon"])
            radius = float(row.get("radius_km") or default_radius_km)
        except (KeyError, TypeError, ValueError):
            raise BadInput(
                f"line {i}: lat, lon and radius_km must be numbers",
                detail={"line": i, "field": "lat"},
            ) from None
        try:
            t0 = to_us(parse_time(str(row.get("start") or ""), "start"))
            t1 = to_us(parse_time(str(row.get("end") or ""), "end"))
        except BadInput as exc:
            raise BadInput(
                f"line {i}: {exc.message}", detail={"line": i, "field": "start"}
            ) from None
        scene = Scene(case_id, lat, lon, t0, t1, radius)
        try:
            queries.check_scene(lat, lon, radius, t0, t1)
        except BadInput as exc:
            raise BadInput(
                f"line {i}: {exc.message}", detail={"line": i, **(exc.detail or {})}
            ) from None
        scenes.append(scene)
    return scenes
