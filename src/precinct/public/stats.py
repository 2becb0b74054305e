"""Open data: monthly de-identified incident counts by type and place (k-anonymous).

What is published for a month, every number of incidents in a field named ``count``:

- ``areas``: per station area (or, when none is defined, per H3 resolution-6 district) and type;
- ``cells``: per H3 grid cell (resolution 8, about 0.7 km²) and type; small cells are merged into
  their parent cell (resolution 7, then 6), the parent's count then being the incidents of its small
  children only;
- ``points``: per anonymous map point and type: each incident is moved to the nearest of a fixed set
  of map points — one road-segment midpoint per H3 resolution-9 cell (about 175 m apart), in the
  spirit of data.police.uk's snap points — never its own position.

Rules (the property tests check them): no published count is below ``k``; for each type and each
view the incidents left out (suppressed) number 0 or at least ``k`` (further small groups are
suppressed until they do), so no small group can be recovered by subtracting published counts from
another view's total; sensitive types (sexual offences, domestic violence) appear at area level only;
incident types outside the code table are published as ``other``; nothing else of an incident (its
id, time, caller, description) leaves this module.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import h3
from shapely.geometry import Point, Polygon
from shapely.strtree import STRtree
from sqlalchemy.orm import Session

from precinct.errors import BadInput

SENSITIVE_TYPES = frozenset({"sexual_assault", "domestic"})
CELL_RES, MERGE_RES, DISTRICT_RES = 8, (7, 6), 6
Source = Callable[..., list[dict[str, Any]]]


@dataclass(frozen=True)
class Month:
    label: str
    since: dt.datetime
    until: dt.datetime


def parse_month(text: str, *, now: dt.datetime | None = None) -> Month:
    """``YYYY-MM`` as a UTC month; a month that has not begun is refused."""
    try:
        start = dt.datetime.strptime(text, "%Y-%m").replace(tzinfo=dt.UTC)
    except ValueError:
        raise BadInput(f"month: {text!r} is not YYYY-MM", detail={"field": "month"}) from None
    until = (start + dt.timedelta(days=32)).replace(day=1)
    now = now or dt.datetime.now(dt.UTC)
    if start > now:
        raise BadInput(f"month: {text} has not begun", detail={"field": "month"})
    return Month(text, start, until)


def default_source(session: Session, *, since: dt.datetime, until: dt.datetime) -> list[dict[str, Any]]:
    """Incidents of the command domain (no personal data) through its public service."""
    from precinct.command.service import incident_records

    return incident_records(session, since=since, until=until)


def _type_names() -> dict[str, tuple[str, str]]:
    try:
        from precinct.command.service import INCIDENT_TYPES
    except ImportError:  # pragma: no cover - the command domain is always installed
        return {}
    return {code: (t.name_zh, t.name_en) for code, t in dict(INCIDENT_TYPES).items()}


def _suppress(groups: dict[Any, int], k: int, total: int) -> dict[Any, int]:
    """Groups of one type to publish: each at least ``k``, and the left-out part of the type's
    ``total`` incidents 0 or at least ``k``."""
    kept = {g: n for g, n in groups.items() if n >= k}
    left = total - sum(kept.values())
    for g, n in sorted(kept.items(), key=lambda kv: (kv[1], str(kv[0]))):
        if left == 0 or left >= k:
            break
        del kept[g]
        left += n
    if 0 < left < k:  # every group went and still too few: publish nothing of this type
        kept = {}
    return kept


def _cells_with_merge(cells: Counter[str], k: int) -> dict[tuple[str, bool], int]:
    """Resolution-8 cells; small ones pooled into their resolution-7 then -6 parents."""
    out: dict[tuple[str, bool], int] = {(c, False): n for c, n in cells.items() if n >= k}
    small = {c: n for c, n in cells.items() if n < k}
    for res in MERGE_RES:
        pooled: Counter[str] = Counter()
        for c, n in small.items():
            pooled[h3.cell_to_parent(c, res)] += n
        out.update({(p, True): n for p, n in pooled.items() if n >= k})
        small = {p: n for p, n in pooled.items() if n < k}
    return out


class AreaLookup:
    """Point-in-area lookup over station areas (or H3 districts when none are defined)."""

    def __init__(self, station_areas: list[dict[str, Any]]) -> None:
        self.areas = station_areas
        self.polys = [Polygon([(lon, lat) for lat, lon in a["points"]]) for a in station_areas]
        self.tree = STRtree(self.polys) if self.polys else None

    def of(self, lat: float, lon: float) -> str:
        if self.tree is None:
            return f"district-{h3.latlng_to_cell(lat, lon, DISTRICT_RES)}"
        p = Point(lon, lat)
        for i in self.tree.query(p, predicate="intersects"):
            return str(self.areas[int(i)]["id"])
        return "outside"

    def describe(self, area_id: str) -> dict[str, Any]:
        for a in self.areas:
            if a["id"] == area_id:
                return {"name_zh": a["name_zh"], "name_en": a["name_en"],
                        "geometry": {"type": "Polygon", "coordinates": [[[lon, lat] for lat, lon in a["points"]]]}}
        if area_id == "outside":
            return {"name_zh": "辖区外", "name_en": "Outside the station areas", "geometry": None}
        cell = area_id.removeprefix("district-")
        return {"name_zh": f"区块 {cell}", "name_en": f"District {cell}", "geometry": _cell_geometry(cell)}


def _cell_geometry(cell: str) -> dict[str, Any]:
    ring = [[lon, lat] for lat, lon in h3.cell_to_boundary(cell)]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


POINT_RES = 9  # one anonymous map point per H3 resolution-9 cell (about 0.1 km², 175 m across)
MAX_POINT_DISTANCE_M = 500.0
_POINTS: dict[int, tuple[Any, Any]] = {}


def anonymous_points(city: Any) -> Any:
    """The map points of a road network: for each H3 resolution-9 cell its road-segment midpoint
    nearest the cell's centre (an ``(n, 2)`` array of lat, lon; computed once per network)."""
    import numpy as np

    key = id(city)
    cached = _POINTS.get(key)
    if cached is not None and cached[0] is city:
        return cached[1]
    seg = city.edge_segments()
    lat = (np.asarray(seg["lat1"]) + np.asarray(seg["lat2"])) / 2
    lon = (np.asarray(seg["lon1"]) + np.asarray(seg["lon2"])) / 2
    best: dict[str, tuple[float, float, float]] = {}
    for la, lo in zip(lat.tolist(), lon.tolist(), strict=True):
        cell = h3.latlng_to_cell(la, lo, POINT_RES)
        cla, clo = h3.cell_to_latlng(cell)
        d = (la - cla) ** 2 + ((lo - clo) * math.cos(math.radians(la))) ** 2
        if cell not in best or d < best[cell][0]:
            best[cell] = (d, la, lo)
    points = np.array(sorted((round(la, 5), round(lo, 5)) for _, la, lo in best.values()), dtype=float)
    _POINTS[key] = (city, points)
    return points


def _snap_points(city: Any, located: list[tuple[float, float, str]]) -> list[tuple[tuple[float, float], str]]:
    """Each incident moved to the nearest anonymous map point (none farther than 500 m: dropped)."""
    import numpy as np
    from scipy.spatial import cKDTree

    points = anonymous_points(city)
    if not located or len(points) == 0:
        return []
    ref = math.cos(math.radians(float(points[:, 0].mean())))
    tree = cKDTree(np.column_stack([points[:, 0], points[:, 1] * ref]))
    q = np.array([[lat, lon * ref] for lat, lon, _ in located])
    dist, idx = tree.query(q, distance_upper_bound=MAX_POINT_DISTANCE_M / 111_320)
    out = []
    for (_, _, code), d, i in zip(located, dist.tolist(), idx.tolist(), strict=True):
        if math.isfinite(d):
            out.append(((float(points[i, 0]), float(points[i, 1])), code))
    return out


def monthly_stats(
    session: Session, *, month: str, k: int = 5, source: Source | None = None,
    station_areas: Iterable[dict[str, Any]] = (), city: Any = None,
    sensitive: frozenset[str] = SENSITIVE_TYPES, now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The open data of one month.

    Parameters
    ----------
    session
        A read session (passed to ``source``).
    month
        ``YYYY-MM`` (UTC).
    k
        The smallest count ever published (at least 2).
    source
        ``source(session, since=, until=)`` returning incident dicts (``ts``, ``type``, ``lat``,
        ``lon``; other keys ignored); defaults to the command domain's ``incident_records``.
    station_areas
        ``{"id", "name_zh", "name_en", "points"}`` of each station area.
    city
        A road graph (or a function returning one) for the snapped points; None leaves ``points`` empty.
    """
    if k < 2:
        raise BadInput("k must be at least 2", detail={"field": "k"})
    m = parse_month(month, now=now)
    rows = (source or default_source)(session, since=m.since, until=m.until)
    names = _type_names()
    lookup = AreaLookup(list(station_areas))
    by_area: dict[str, Counter[str]] = defaultdict(Counter)
    by_cell: dict[str, Counter[str]] = defaultdict(Counter)
    located: list[tuple[float, float, str]] = []
    for r in rows:
        lat, lon, ts = r.get("lat"), r.get("lon"), r.get("ts")
        if lat is None or lon is None or ts is None or not (m.since <= ts < m.until):
            continue
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            continue
        code = str(r.get("type"))
        code = code if code in names else "other"
        by_area[code][lookup.of(lat, lon)] += 1
        if code not in sensitive:
            by_cell[code][h3.latlng_to_cell(lat, lon, CELL_RES)] += 1
            located.append((lat, lon, code))
    by_point: dict[str, Counter[tuple[float, float]]] = defaultdict(Counter)
    if city is not None and located:
        graph = city() if callable(city) else city  # a loader: the road graph is read only when needed
        for point, code in _snap_points(graph, located):
            by_point[code][point] += 1

    def type_fields(code: str) -> dict[str, Any]:
        zh, en = names.get(code, ("其他", "Other"))
        return {"type": code, "type_zh": zh, "type_en": en, "sensitive": code in sensitive}

    areas = [{"area": a, **lookup.describe(a), **type_fields(code), "count": n}
             for code in sorted(by_area)
             for a, n in sorted(_suppress(dict(by_area[code]), k, by_area[code].total()).items())]
    cells = []
    for code in sorted(by_cell):
        merged = _cells_with_merge(by_cell[code], k)
        for (cell, is_merged), n in sorted(_suppress(merged, k, by_cell[code].total()).items()):
            lat, lon = h3.cell_to_latlng(cell)
            cells.append({"cell": cell, "resolution": h3.get_resolution(cell), "merged": is_merged,
                          "lat": round(lat, 5), "lon": round(lon, 5), **type_fields(code), "count": n})
    points = [{"lat": p[0], "lon": p[1], **type_fields(code), "count": n}
              for code in sorted(by_point)
              for p, n in sorted(_suppress(dict(by_point[code]), k, by_cell[code].total()).items())]
    return {"month": m.label, "k": k, "complete": m.until <= (now or dt.datetime.now(dt.UTC)),
            "areas": areas, "cells": cells, "points": points}


# --- formats ---------------------------------------------------------------------------------

CSV_COLUMNS = ("level", "id", "type", "type_zh", "type_en", "lat", "lon", "count")


def to_csv_rows(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per published count: ``level`` area, cell or point."""
    rows: list[dict[str, Any]] = []
    for a in stats["areas"]:
        rows.append({"level": "area", "id": a["area"], "type": a["type"], "type_zh": a["type_zh"],
                     "type_en": a["type_en"], "lat": "", "lon": "", "count": a["count"]})
    for c in stats["cells"]:
        rows.append({"level": "cell", "id": c["cell"], "type": c["type"], "type_zh": c["type_zh"],
                     "type_en": c["type_en"], "lat": c["lat"], "lon": c["lon"], "count": c["count"]})
    for p in stats["points"]:
        rows.append({"level": "point", "id": f"{p['lat']},{p['lon']}", "type": p["type"], "type_zh": p["type_zh"],
                     "type_en": p["type_en"], "lat": p["lat"], "lon": p["lon"], "count": p["count"]})
    return rows


def to_csv(stats: dict[str, Any]) -> str:
    """The published counts as CSV (header ``level,id,type,type_zh,type_en,lat,lon,count``)."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(to_csv_rows(stats))
    return buf.getvalue()


def to_geojson(stats: dict[str, Any]) -> dict[str, Any]:
    """The published counts as a GeoJSON FeatureCollection (areas and cells as polygons, points as points)."""
    features: list[dict[str, Any]] = []
    for a in stats["areas"]:
        props = {k: v for k, v in a.items() if k != "geometry"}
        features.append({"type": "Feature", "geometry": a.get("geometry"), "properties": {"level": "area", **props}})
    for c in stats["cells"]:
        features.append({"type": "Feature", "geometry": _cell_geometry(c["cell"]),
                         "properties": {"level": "cell", **c}})
    for p in stats["points"]:
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [p["lon"], p["lat"]]},
                         "properties": {"level": "point", **p}})
    return {"type": "FeatureCollection", "features": features,
            "properties": {"month": stats["month"], "k": stats["k"], "complete": stats["complete"]}}
