"""Investigative analyses on top of :mod:`precinct.anpr.queries`: run a query on an engine and
shape the answer (the same for the CLI, the API and the dashboard). Here: the area analyses
(association, series); the vehicle and person ones are :mod:`precinct.anpr.analysis_vehicle`,
importable from here too.

None of these scores people: association ranks *vehicles* for an investigator and returns the
components of the rank; the person–vehicle analysis counts links, it does not predict anything.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from precinct.anpr import queries
from precinct.anpr.analysis_vehicle import (
    NEXT_ENOUGH,
    NEXT_LOOKBACKS_US,
    cloned,
    convoy,
    iso,
    person_many_vehicles,
    trajectory,
)
from precinct.anpr.queries import DuckEngine, QueryEngine, Scene
from precinct.anpr.timetext import iso_many
from precinct.core import gcpause
from precinct.errors import BadInput

log = logging.getLogger("precinct.anpr")

__all__ = ["NEXT_ENOUGH", "NEXT_LOOKBACKS_US", "associate", "cloned", "convoy", "iso", "parse_scenes",
           "person_many_vehicles", "series", "trajectory"]


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
    plate, n, first, last, min_d, min_dt, days, on_wl, rarity, c_space, c_time, score, near_lat, near_lon = cols
    first_iso, last_iso = iso_many(first), iso_many(last)
    # values are already Python ints/floats (NumPy's tolist or the engine's rows)
    with gcpause.paused():
        candidates = _candidates(plate, n, first_iso, last_iso, min_d, on_wl, score, rarity, days, c_space, c_time,
                                 min_dt, near_lat, near_lon)
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
    near_lat: list[Any], near_lon: list[Any],
) -> list[dict[str, Any]]:
    """The association's candidates as the CLI and the API print them (``closest``: where the read
    nearest the scene was, for the map)."""
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
            "closest": {"lat": ny, "lon": nx},
        }
        for p, k, f, la, d, w, sc, ra, ds, cs, ct, dt_, ny, nx in zip(
            plate, n, first_iso, last_iso, min_d, on_wl, score, rarity, days, c_space, c_time, min_dt, near_lat,
            near_lon, strict=True,
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
        tot.near_lat[order],
        tot.near_lon[order],
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
        plates, cases, ns, firsts, lasts, mins, near_lat, near_lon = _run_series(engine, q)
    else:
        rows = engine.run(q)
        plates, cases, ns, firsts, lasts, mins, near_lat, near_lon = (
            [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in q.columns]
        )
    out: list[dict[str, Any]] = []
    with gcpause.paused():
        _series_candidates(out, plates, cases, ns, firsts, lasts, mins, near_lat, near_lon)
    return {"candidates": out, "scenes": len(scenes), "min_cases": min_cases}


def _series_candidates(
    out: list[dict[str, Any]], plates: list[Any], cases: list[Any], ns: list[Any], firsts: list[Any],
    lasts: list[Any], mins: list[Any], near_lat: list[Any], near_lon: list[Any],
) -> None:
    """One entry per vehicle from the (vehicle, scene) rows sorted by plate and case (each scene's
    ``closest``: where the vehicle's read nearest that scene was, for the map)."""
    if plates:
        p = np.asarray(plates, dtype=object)
        starts = np.flatnonzero(np.concatenate([[True], p[1:] != p[:-1]]))
        ends = np.append(starts[1:], len(p))
        reads = np.add.reduceat(np.asarray(ns, dtype=np.int64), starts).tolist()
        first_iso = iso_many(np.minimum.reduceat(np.asarray(firsts, dtype=np.int64), starts))
        last_iso = iso_many(np.maximum.reduceat(np.asarray(lasts, dtype=np.int64), starts))
        per_case = [  # Spark's numbers may be NumPy or Decimal: plain int / float for JSON
            {"case_id": c, "reads": int(n), "min_distance_km": float(d),
             "closest": {"lat": float(ny), "lon": float(nx)}}
            for c, n, d, ny, nx in zip(cases, ns, mins, near_lat, near_lon, strict=True)
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
        col("near_lat").tolist(),
        col("near_lon").tolist(),
    ]


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
