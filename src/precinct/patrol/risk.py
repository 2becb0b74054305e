"""Risk grids (三色动态警务网格): H3 cells rated red / yellow / green from recent incidents.

A cell's score is the severity-weighted count of incidents in a trailing window, each decayed by
its age (half-life). Ratings are by rank: the top ``red_share`` of the grid's cells are red, the
next ``yellow_share`` yellow, the rest green; a cell with no incidents is always green. The
defaults follow the source (60 red / 196 yellow / 809 green of 1,065 grids).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import h3
import numpy as np

from precinct.core.timeutil import parse_iso
from precinct.errors import BadInput

RED_SHARE = 60 / 1065
YELLOW_SHARE = 196 / 1065


@dataclass
class Rating:
    cell: str
    score: float
    rating: str  # red | yellow | green
    incidents: int


def cells_for(lat: np.ndarray, lon: np.ndarray, resolution: int) -> list[str]:
    """H3 cell of each point."""
    if not 0 <= resolution <= 15:
        raise BadInput("H3 resolution must be 0-15", detail={"resolution": resolution})
    return [h3.latlng_to_cell(float(a), float(b), resolution) for a, b in zip(lat, lon, strict=True)]


def area_cells(bbox: tuple[float, float, float, float], resolution: int) -> list[str]:
    """Every cell covering a ``(min_lat, min_lon, max_lat, max_lon)`` box."""
    s, w, n, e = bbox
    poly = h3.LatLngPoly([(s, w), (s, e), (n, e), (n, w)])
    return sorted(h3.polygon_to_cells(poly, resolution))


def score_cells(cells: Sequence[str], weight: np.ndarray, age_days: np.ndarray, *, window_days: float = 28.0,
                half_life_days: float | None = 14.0) -> dict[str, tuple[float, int]]:
    """``cell -> (score, incident count)`` over the trailing window."""
    age = np.asarray(age_days, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    keep = (age >= 0) & (age <= window_days)
    decay = np.ones_like(age) if half_life_days is None else 0.5 ** (age / half_life_days)
    out: dict[str, tuple[float, int]] = {}
    for c, s, k in zip(cells, w * decay, keep, strict=True):
        if k:
            sc, n = out.get(c, (0.0, 0))
            out[c] = (sc + float(s), n + 1)
    return out


def rate(scores: dict[str, tuple[float, int]], grid: Sequence[str] | None = None, *,
         red_share: float = RED_SHARE, yellow_share: float = YELLOW_SHARE,
         red_min: float | None = None, yellow_min: float | None = None) -> list[Rating]:
    """Rate every cell of ``grid`` (default: the scored cells).

    By rank shares, or by absolute score thresholds when ``red_min`` / ``yellow_min`` are given.
    Ties at a boundary all take the higher rating.
    """
    if not (0 <= red_share <= 1 and 0 <= yellow_share <= 1 and red_share + yellow_share <= 1):
        raise BadInput("shares must be in 0..1 and sum to at most 1")
    cells = list(dict.fromkeys([*(grid or []), *scores]))
    sc = np.asarray([scores.get(c, (0.0, 0))[0] for c in cells])
    cnt = [scores.get(c, (0.0, 0))[1] for c in cells]
    n = len(cells)
    if red_min is not None or yellow_min is not None:
        red_t = np.inf if red_min is None else red_min
        yel_t = np.inf if yellow_min is None else yellow_min
    else:
        order = np.sort(sc)[::-1]
        nr, ny = round(red_share * n), round((red_share + yellow_share) * n)
        red_t = order[nr - 1] if nr > 0 else np.inf
        yel_t = order[ny - 1] if ny > 0 else np.inf
    out = []
    for c, s, k in zip(cells, sc, cnt, strict=True):
        r = "green" if s <= 0 else "red" if s >= red_t else "yellow" if s >= yel_t else "green"
        out.append(Rating(cell=c, score=float(s), rating=r, incidents=k))
    return out


def ages_in_days(ts: Sequence[str], now: dt.datetime) -> np.ndarray:
    """Age in days of ISO 8601 timestamps (with offset) at ``now``."""
    out = np.empty(len(ts))
    for i, t in enumerate(ts):
        try:
            when = parse_iso(t)
        except ValueError as exc:
            raise BadInput(f"row {i + 1}: ts {exc}", detail={"row": i + 1, "ts": t}) from None
        out[i] = (now - when).total_seconds() / 86400.0
    return out


def cells_geojson(ratings: Sequence[Rating]) -> dict:
    """A FeatureCollection of cell polygons with ``rating``, ``score``, ``incidents``."""
    feats = []
    for r in ratings:
        ring = [[lon, lat] for lat, lon in h3.cell_to_boundary(r.cell)]
        ring.append(ring[0])
        feats.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                      "properties": {"cell": r.cell, "rating": r.rating, "score": round(r.score, 4),
                                     "incidents": r.incidents}})
    return {"type": "FeatureCollection", "features": feats}
