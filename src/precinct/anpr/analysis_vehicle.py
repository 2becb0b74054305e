"""Vehicle and person analyses: a plate's trajectory (with likely next cameras and road paths),
convoys, cloned plates, and people linked to many vehicles (importable from
:mod:`precinct.anpr.analysis`).

None of these scores people: the person–vehicle analysis counts links, it predicts nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from precinct.anpr import queries
from precinct.anpr.queries import DuckEngine, QueryEngine

log = logging.getLogger("precinct.anpr")


def iso(ts_us: int | None) -> str | None:
    if ts_us is None:
        return None
    return dt.datetime.fromtimestamp(ts_us / 1e6, dt.UTC).isoformat().replace("+00:00", "Z")


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
    # where each was seen with the target (camera, reads together, first time, place): for the map
    places: dict[str, list[dict[str, Any]]] = {}
    if rows:
        q = queries.convoy_places(plate=plate, plates=[r[0] for r in rows], t0_us=t0_us, t1_us=t1_us,
                                  max_gap_s=max_gap_s)
        for p, cam, n, first, lat, lon in engine.run(q):
            places.setdefault(p, []).append({
                "camera_id": cam, "co_reads": int(n), "first_seen": iso(first),
                "lat": None if lat is None else float(lat), "lon": None if lon is None else float(lon),
            })
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
                "places": places.get(r[0], []),
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
