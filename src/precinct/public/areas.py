"""Alert areas: a circle, a polygon (checked with Shapely) or a police station's area.

An area is kept as a small JSON-able dict::

    {"kind": "circle", "lat": 34.26, "lon": 108.94, "radius_km": 2.0, "desc": {...}}
    {"kind": "polygon", "points": [[lat, lon], ...], "desc": {...}}        # closed ring, WGS84
    {"kind": "station", "station": "ST-1", "points": [[lat, lon], ...], "desc": {...}}

``desc`` holds the CAP ``<areaDesc>`` per language (``zh-CN``, ``en-US``).
"""

from __future__ import annotations

import json
import math
from typing import Any

import shapely
from shapely.geometry import Polygon

from precinct.errors import BadInput

MAX_RADIUS_KM = 500.0
MAX_POINTS = 1000
LANGS = ("zh-CN", "en-US")


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadInput(f"{what}: {text!r} is not a number", detail={"field": what}) from None
    if not math.isfinite(value):
        raise BadInput(f"{what}: {text!r} is not a finite number", detail={"field": what})
    return value


def _latlon(lat: float, lon: float, where: str) -> tuple[float, float]:
    if not -90 <= lat <= 90:
        raise BadInput(f"{where}: latitude {lat} is outside -90..90 (WGS84 degrees)", detail={"field": where})
    if not -180 <= lon <= 180:
        raise BadInput(f"{where}: longitude {lon} is outside -180..180 (WGS84 degrees)", detail={"field": where})
    return lat, lon


def parse_circle(text: str) -> dict[str, Any]:
    """``"LAT,LON,KM"`` (or CAP's ``"LAT,LON KM"``) as a circle area.

    Raises
    ------
    BadInput
        Not three numbers, coordinates outside WGS84 ranges, or a radius not in (0, 500] km.
    """
    parts = [p for p in text.replace(" ", ",").split(",") if p.strip()]
    if len(parts) != 3:
        raise BadInput(f"circle: expected LAT,LON,KM, got {text!r}", detail={"field": "circle"})
    lat, lon, km = (_number(p.strip(), "circle") for p in parts)
    _latlon(lat, lon, "circle")
    if not 0 < km <= MAX_RADIUS_KM:
        raise BadInput(f"circle: radius {km} km must be more than 0 and at most {MAX_RADIUS_KM:g} km",
                       detail={"field": "circle"})
    return {"kind": "circle", "lat": lat, "lon": lon, "radius_km": km,
            "desc": {"zh-CN": f"以 {lat:.5f},{lon:.5f} 为中心、半径 {km:g} 公里范围",
                     "en-US": f"Within {km:g} km of {lat:.5f},{lon:.5f}"}}


def _points_from_text(text: str) -> list[list[float]]:
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            geo = json.loads(stripped)
        except ValueError as exc:
            raise BadInput(f"polygon: not valid GeoJSON: {exc}", detail={"field": "polygon"}) from None
        if not isinstance(geo, dict) or geo.get("type") != "Polygon" or not geo.get("coordinates"):
            raise BadInput("polygon: GeoJSON must be a Polygon with coordinates", detail={"field": "polygon"})
        ring = geo["coordinates"][0]
        if not isinstance(ring, list) or not all(isinstance(p, list) and len(p) >= 2 for p in ring):
            raise BadInput("polygon: GeoJSON ring must be a list of [lon, lat] pairs", detail={"field": "polygon"})
        return [[_number(str(p[1]), "polygon"), _number(str(p[0]), "polygon")] for p in ring]
    out = []
    for i, pair in enumerate(stripped.split(), start=1):
        bits = pair.split(",")
        if len(bits) != 2:
            raise BadInput(f"polygon: point {i} {pair!r} is not LAT,LON", detail={"field": "polygon", "point": i})
        out.append([_number(bits[0], f"polygon point {i}"), _number(bits[1], f"polygon point {i}")])
    return out


def check_polygon(points: list[list[float]], *, field: str = "polygon") -> list[list[float]]:
    """Validate a ring of ``[lat, lon]`` points: WGS84 ranges, closed, at least 4 points, valid.

    Raises
    ------
    BadInput
        Naming the first point out of range, an open ring, or Shapely's reason for an invalid
        polygon (self-intersection, too few distinct points, ...).
    """
    if len(points) > MAX_POINTS:
        raise BadInput(f"{field}: {len(points)} points; at most {MAX_POINTS}", detail={"field": field})
    if len(points) < 4:
        raise BadInput(f"{field}: a polygon needs at least 4 points (the first repeated last), got {len(points)}",
                       detail={"field": field})
    for i, point in enumerate(points, start=1):
        if len(point) != 2:
            raise BadInput(f"{field} point {i}: a point is [lat, lon], got {len(point)} numbers",
                           detail={"field": field, "point": i})
        _latlon(point[0], point[1], f"{field} point {i}")
    if points[0] != points[-1]:
        raise BadInput(f"{field}: the ring is not closed: the last point {points[-1]} must repeat the first "
                       f"{points[0]}", detail={"field": field})
    poly = Polygon([(lon, lat) for lat, lon in points])
    if not poly.is_valid:
        raise BadInput(f"{field}: not a valid polygon: {shapely.is_valid_reason(poly)}", detail={"field": field})
    if poly.area <= 0:
        raise BadInput(f"{field}: the polygon has no area", detail={"field": field})
    return [[float(lat), float(lon)] for lat, lon in points]


def parse_polygon(text: str) -> dict[str, Any]:
    """CAP's ``"lat,lon lat,lon ..."`` or a GeoJSON Polygon as a polygon area (see :func:`check_polygon`)."""
    points = check_polygon(_points_from_text(text))
    return {"kind": "polygon", "points": points,
            "desc": {"zh-CN": "地图上划定的区域", "en-US": "The area drawn on the map"}}


def station_area(*, station_id: str, name_zh: str, name_en: str, points: list[list[float]]) -> dict[str, Any]:
    """A station's area as an alert area (its polygon, its names as ``areaDesc``)."""
    return {"kind": "station", "station": station_id, "points": points,
            "desc": {"zh-CN": f"{name_zh}辖区", "en-US": f"{name_en} station area"}}


def shape(area: dict[str, Any]) -> Any:
    """The area as a Shapely geometry in (lon, lat) degrees (a circle as a 64-gon on the sphere's tangent)."""
    if area["kind"] == "circle":
        lat, lon, km = area["lat"], area["lon"], area["radius_km"]
        dlat = km / 111.32
        dlon = km / (111.32 * max(math.cos(math.radians(lat)), 1e-6))
        ring = [(lon + dlon * math.cos(t), lat + dlat * math.sin(t))
                for t in (2 * math.pi * i / 64 for i in range(64))]
        return Polygon(ring)
    return Polygon([(lon, lat) for lat, lon in area["points"]])


def cap_circle(area: dict[str, Any]) -> str:
    """CAP ``<circle>`` text: ``"lat,lon radius"`` (radius in km)."""
    return f"{area['lat']:.6f},{area['lon']:.6f} {area['radius_km']:g}"


def cap_polygon(area: dict[str, Any]) -> str:
    """CAP ``<polygon>`` text: ``"lat,lon lat,lon ..."``, first point repeated last."""
    return " ".join(f"{lat:.6f},{lon:.6f}" for lat, lon in area["points"])


def geojson(area: dict[str, Any]) -> dict[str, Any]:
    """The area as a GeoJSON geometry (a circle approximated by a polygon)."""
    return dict(shapely.geometry.mapping(shape(area)))
