"""SQL text shared by DuckDB and Spark SQL: the query type, and the one place where values
become SQL.

The investigative queries (:mod:`precinct.anpr.queries_area`, :mod:`precinct.anpr.queries_vehicle`)
run as the same text on the embedded warehouse and on Spark over the Parquet export, so they take
no bound parameters: every value is written into the text here, by :func:`lit` (strings: quotes
doubled, backslashes and NUL refused), :func:`num` (finite floats, exponent form) or ``int()``.
Table and column names come from :mod:`precinct.anpr.layout`, never from input. The builders'
statements carry ``# noqa: S608`` naming this rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from precinct.anpr.layout import BY_TIME, CELLS_PER_DEG, DAY_US, LINKS, PRESENCE, READS
from precinct.errors import BadInput

__all__ = ["BY_TIME", "CELLS_PER_DEG", "DAY_US", "EARTH_KM", "KM_PER_DEG", "LINKS", "PRESENCE", "READS", "Query",
           "QueryEngine", "bbox", "cell_centre", "check_scene", "distance_km", "lit", "num", "plate_table"]

EARTH_KM = 6371.0088
KM_PER_DEG = math.pi * EARTH_KM / 180.0


@dataclass
class Query:
    sql: str
    tables: dict[str, pa.Table] = field(default_factory=dict)
    columns: tuple[str, ...] = ()


class QueryEngine(Protocol):
    def run(self, query: Query) -> list[tuple[Any, ...]]: ...


# --- SQL fragments -----------------------------------------------------------------------------


def lit(value: str) -> str:
    """A SQL string literal (single quotes doubled; backslashes are plain in both engines'
    standard mode, so they are refused rather than risked)."""
    if "\\" in value or "\x00" in value:
        raise BadInput("identifiers may not contain backslashes or NUL", detail={"field": "plate"})
    return "'" + value.replace("'", "''") + "'"


def num(value: float) -> str:
    if not math.isfinite(value):
        raise BadInput("numbers must be finite", detail={"field": "number"})
    return format(
        float(value), ".17e"
    )  # exponent form: a DOUBLE in both engines (Spark reads 1.5 as DECIMAL)


def distance_km(lat: str, lon: str, lat0: str, lon0: str) -> str:
    """Haversine distance in km between two (lat, lon) SQL expressions."""
    return (
        f"(2e0 * {EARTH_KM:.10e} * asin(least(1e0, sqrt("
        f"power(sin(radians(({lat}) - ({lat0})) / 2e0), 2) + "
        f"cos(radians({lat0})) * cos(radians({lat})) * "
        f"power(sin(radians(({lon}) - ({lon0})) / 2e0), 2)))))"
    )


def bbox(lat: float, lon: float, radius_km: float, *, alias: str = "") -> str:
    """A lat/lon box that contains the circle (cheap pre-filter before the exact distance)."""
    p = f"{alias}." if alias else ""
    dlat = radius_km / KM_PER_DEG
    coslat = max(math.cos(math.radians(lat)), 1e-6)
    dlon = min(180.0, radius_km / (KM_PER_DEG * coslat))
    return (
        f"{p}lat BETWEEN {num(lat - dlat)} AND {num(lat + dlat)} AND "
        f"{p}lon BETWEEN {num(lon - dlon)} AND {num(lon + dlon)}"
    )


def check_scene(lat: float, lon: float, radius_km: float, t0_us: int, t1_us: int) -> None:
    if not (-90 <= lat <= 90):
        raise BadInput("lat out of range (-90..90)", detail={"field": "lat"})
    if not (-180 <= lon <= 180):
        raise BadInput("lon out of range (-180..180)", detail={"field": "lon"})
    if not (0 < radius_km <= 500):
        raise BadInput("radius_km must be in (0, 500]", detail={"field": "radius_km"})
    if t1_us < t0_us:
        raise BadInput("end is before start", detail={"field": "end"})
    if t1_us - t0_us > 366 * DAY_US:
        raise BadInput("time window longer than a year", detail={"field": "end"})


def plate_table(plates: Sequence[str], name: str = "plate") -> pa.Table:
    return pa.table({name: pc.unique(pa.array(plates, pa.string()))})


def cell_centre(col: str, alias: str = "h") -> str:
    """SQL for the centre (degrees) of a presence grid cell index column (``cy`` or ``cx``)."""
    return f"(({alias}.{col} + 5e-1) / {float(CELLS_PER_DEG):.1e})"
