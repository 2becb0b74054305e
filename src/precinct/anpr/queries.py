"""Investigative queries, defined once as SQL text that DuckDB and Spark SQL both run.

Each builder returns a :class:`Query`: SQL in the subset the two engines share (no
engine-specific functions, literals inlined and escaped, no list aggregates) plus the small Arrow
tables it refers to (a watchlist, a scene list). ``run(query, engine)`` executes it on either
:class:`DuckEngine` (the embedded warehouse) or :class:`SparkQueryEngine` (PySpark over the
Parquet export) and returns rows as tuples; the Python post-processing (scores already come from
SQL; lists are gathered here) is shared too.

Times are epoch microseconds (``ts_us``) throughout the SQL so both engines compare integers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from precinct.anpr.presence import BY_TIME, CELLS_PER_DEG, PRESENCE
from precinct.errors import BadInput

EARTH_KM = 6371.0088
KM_PER_DEG = math.pi * EARTH_KM / 180.0
DAY_US = 86_400_000_000
READS = "anpr_reads"
LINKS = "anpr_links"


@dataclass
class Query:
    sql: str
    tables: dict[str, pa.Table] = field(default_factory=dict)
    columns: tuple[str, ...] = ()


class QueryEngine(Protocol):
    def run(self, query: Query) -> list[tuple[Any, ...]]: ...


class DuckEngine:
    """Runs queries on the embedded DuckDB warehouse."""

    def __init__(self, warehouse: Any) -> None:
        from precinct.anpr import presence

        self.warehouse = warehouse
        presence.ensure(warehouse)

    def run(self, query: Query) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self.warehouse.query(query.sql, tables=query.tables)
        return rows


class SparkQueryEngine:
    """Runs the same queries on Spark; ``anpr_reads``/``anpr_links`` must be registered views."""

    def __init__(self, spark_engine: Any) -> None:
        self.spark = spark_engine
        self._views = False

    def run(self, query: Query) -> list[tuple[Any, ...]]:
        if not self._views:  # the query-side projections, as views over anpr_reads
            from precinct.anpr.presence import SPARK_VIEWS

            for name, sql in SPARK_VIEWS.items():
                self.spark.spark.sql(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
            self._views = True
        for name, table in query.tables.items():
            self.spark.register_arrow(name, table)
        rows: list[tuple[Any, ...]] = self.spark.query(query.sql)
        return rows


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


# --- vehicle-case association (车案关联) ---------------------------------------------------------

ASSOC_COLUMNS = (
    "plate",
    "reads",
    "first_us",
    "last_us",
    "min_distance_km",
    "min_dt_s",
    "days_seen_before",
    "on_watchlist",
    "rarity",
    "closeness_space",
    "closeness_time",
    "score",
)
W_RARITY, W_SPACE, W_TIME = 0.5, 0.3, 0.2


def cell_centre(col: str, alias: str = "h") -> str:
    """SQL for the centre (degrees) of a presence grid cell index column (``cy`` or ``cx``)."""
    return f"(({alias}.{col} + 5e-1) / {float(CELLS_PER_DEG):.1e})"


@dataclass
class AssociateQuery(Query):
    """The association as one SQL text (Spark, reference) and as the parameters of the DuckDB
    fast path (:func:`precinct.anpr.analysis.associate`): ``window_sql`` fetches the window's
    reads in the circle's bounding box, :mod:`precinct.anpr.areascan` totals them per vehicle,
    the presence index counts the history for (``area``, ``day_from``, ``day_to``), and the
    ranking is computed as the SQL text computes it."""

    window_sql: str = ""
    area: tuple[float, float, float] = (0.0, 0.0, 0.0)
    mid_us: int = 0
    half_s: float = 1.0
    day_from: int = 0
    day_to: int = 0
    only_watchlist: bool = False
    limit: int | None = None


def window_sql(*, lat: float, lon: float, radius_km: float, t0_us: int, t1_us: int) -> str:
    """The time-ordered copy's reads in [t0, t1] inside the circle's bounding box, with vehicle ids."""
    return (
        f"SELECT ts_us, lat, lon, vid FROM {BY_TIME} "
        f"WHERE ts_us BETWEEN {int(t0_us)} AND {int(t1_us)} AND {bbox(lat, lon, radius_km)}"
    )


def associate(
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
) -> AssociateQuery:
    """Vehicles read within ``radius_km`` of a scene in [t0, t1], ranked for an investigator.

    Order: watchlist hits first, then ``score`` = 0.5·rarity + 0.3·closeness in space +
    0.2·closeness in time, where rarity = 1 / (1 + days seen before) — a daily commuter ranks
    below a vehicle never seen there before. Days seen before: the whole UTC days among the
    ``lookback_days`` days before the window's first day on which the vehicle was read in the
    scene's area, i.e. in a presence grid cell (0.001°) whose centre lies within the radius
    (see :mod:`precinct.anpr.presence`). Closeness in space = 1 − min distance / radius;
    closeness in time = 1 − (min |read − window middle|) / (half the window). Every component is
    returned.
    """
    check_scene(lat, lon, radius_km, t0_us, t1_us)
    if lookback_days < 0 or lookback_days > 366:
        raise BadInput("lookback_days must be 0..366", detail={"field": "lookback_days"})
    mid = (t0_us + t1_us) // 2
    half_s = max((t1_us - t0_us) / 2e6, 1.0)
    d = distance_km("lat", "lon", num(lat), num(lon))
    day_to = t0_us // DAY_US
    day_from = day_to - lookback_days
    watch_filter = "WHERE c.plate IN (SELECT plate FROM watchlist)" if only_watchlist else ""
    cand_sql = f"""
    SELECT plate, count(*) AS n_reads, min(ts_us) AS first_us, max(ts_us) AS last_us,
           min(d_km) AS min_d, min(abs(ts_us - {mid})) AS min_dt
    FROM (
        SELECT plate, ts_us, {d} AS d_km
        FROM {BY_TIME}
        WHERE ts_us BETWEEN {t0_us} AND {t1_us} AND {bbox(lat, lon, radius_km)}
    ) near WHERE d_km <= {num(radius_km)}
    GROUP BY plate"""
    clat, clon = cell_centre("cy"), cell_centre("cx")
    hd = distance_km(clat, clon, num(lat), num(lon))
    box = bbox(lat, lon, radius_km).replace("lat BETWEEN", f"{clat} BETWEEN").replace(
        "lon BETWEEN", f"{clon} BETWEEN"
    )
    hist_sql = (
        f"""
    SELECT h.plate, count(DISTINCT h.day) AS days_seen
    FROM {PRESENCE} h
    WHERE h.day >= {day_from} AND h.day < {day_to} AND h.plate IN (SELECT plate FROM cand)
      AND {box} AND {hd} <= {num(radius_km)}
    GROUP BY h.plate"""
        if lookback_days > 0
        else """
    SELECT plate, 0 AS days_seen FROM cand WHERE 1 = 0"""
    )
    score_sql = f"""
WITH scored AS (
    SELECT c.plate, c.n_reads, c.first_us, c.last_us, c.min_d, c.min_dt / 1e6 AS min_dt_s,
           coalesce(h.days_seen, 0) AS days_seen,
           CASE WHEN w.plate IS NULL THEN 0 ELSE 1 END AS on_watchlist,
           1e0 / (1 + coalesce(h.days_seen, 0)) AS rarity,
           greatest(0e0, 1e0 - c.min_d / {num(radius_km)}) AS c_space,
           greatest(0e0, 1e0 - (c.min_dt / 1e6) / {num(half_s)}) AS c_time
    FROM cand c
    LEFT JOIN hist h ON h.plate = c.plate
    LEFT JOIN (SELECT DISTINCT plate FROM watchlist) w ON w.plate = c.plate
    {watch_filter}
)
SELECT plate, n_reads, first_us, last_us, round(min_d, 6), round(min_dt_s, 3), days_seen, on_watchlist,
       round(rarity, 6), round(c_space, 6), round(c_time, 6),
       round({W_RARITY:.3e} * rarity + {W_SPACE:.3e} * c_space + {W_TIME:.3e} * c_time, 6) AS score
FROM scored
ORDER BY on_watchlist DESC, score DESC, plate
{f"LIMIT {int(limit)}" if limit else ""}
"""
    sql = f"WITH cand AS ({cand_sql}\n),\nhist AS ({hist_sql}\n),\n" + score_sql.lstrip().removeprefix("WITH ")
    return AssociateQuery(
        sql,
        {"watchlist": plate_table(watchlist)},
        ASSOC_COLUMNS,
        window_sql=window_sql(lat=lat, lon=lon, radius_km=radius_km, t0_us=t0_us, t1_us=t1_us),
        area=(lat, lon, radius_km),
        mid_us=mid,
        half_s=half_s,
        day_from=day_from,
        day_to=day_to if lookback_days > 0 else day_from,
        only_watchlist=only_watchlist,
        limit=limit,
    )


def scanned_reads(*, lat: float, lon: float, radius_km: float, t0_us: int, t1_us: int) -> Query:
    d = distance_km("lat", "lon", num(lat), num(lon))
    return Query(
        f"SELECT count(*) FROM {BY_TIME} WHERE ts_us BETWEEN {t0_us} AND {t1_us} AND "
        f"{bbox(lat, lon, radius_km)} AND {d} <= {num(radius_km)}"
    )


# --- series: vehicles near at least k of N scenes --------------------------------------------------


@dataclass(frozen=True)
class Scene:
    case_id: str
    lat: float
    lon: float
    t0_us: int
    t1_us: int
    radius_km: float = 2.0


SERIES_COLUMNS = ("plate", "case_id", "reads", "first_us", "last_us", "min_distance_km")


@dataclass
class SeriesQuery(Query):
    """The series as one SQL text (Spark, reference) and, for the DuckDB fast path, one query for
    the reads in every scene's window and bounding box (column ``scene``: the scene's position)."""

    window_sql: str = ""
    scenes: tuple[Scene, ...] = ()
    min_cases: int = 1


def series(*, scenes: Sequence[Scene], min_cases: int) -> SeriesQuery:
    """Per (vehicle, scene) rows for vehicles read near at least ``min_cases`` scenes."""
    if not scenes:
        raise BadInput("no scenes given", detail={"field": "cases"})
    if len({s.case_id for s in scenes}) != len(scenes):
        raise BadInput("case ids repeat in the scene list", detail={"field": "case_id"})
    if min_cases < 1:
        raise BadInput("min_cases must be at least 1", detail={"field": "min_cases"})
    parts = []
    for s in scenes:
        check_scene(s.lat, s.lon, s.radius_km, s.t0_us, s.t1_us)
        d = distance_km("lat", "lon", num(s.lat), num(s.lon))
        parts.append(
            f"SELECT {lit(s.case_id)} AS case_id, plate, count(*) AS n_reads, min(ts_us) AS first_us, "
            f"max(ts_us) AS last_us, min({d}) AS min_d FROM {BY_TIME} "
            f"WHERE ts_us BETWEEN {s.t0_us} AND {s.t1_us} AND {bbox(s.lat, s.lon, s.radius_km)} "
            f"AND {d} <= {num(s.radius_km)} GROUP BY plate"
        )
    union = "\n    UNION ALL\n    ".join(parts)
    sql = f"""
WITH per_case AS (
    {union}
),
qual AS (SELECT plate FROM per_case GROUP BY plate HAVING count(*) >= {int(min_cases)})
SELECT p.plate, p.case_id, p.n_reads, p.first_us, p.last_us, round(p.min_d, 6)
FROM per_case p JOIN qual q ON p.plate = q.plate
ORDER BY p.plate, p.case_id
"""
    windows = "\nUNION ALL\n".join(
        f"SELECT {j}::INTEGER AS scene, * FROM ("
        + window_sql(lat=s.lat, lon=s.lon, radius_km=s.radius_km, t0_us=s.t0_us, t1_us=s.t1_us)
        + ")"
        for j, s in enumerate(scenes)
    )
    return SeriesQuery(sql, {}, SERIES_COLUMNS, window_sql=windows, scenes=tuple(scenes), min_cases=int(min_cases))


# --- trajectory -----------------------------------------------------------------------------------

TRAJ_COLUMNS = ("rid", "ts_us", "lat", "lon", "camera_id", "kind", "confidence")


def trajectory(*, plate: str, t0_us: int, t1_us: int, limit: int = 10_000) -> Query:
    if t1_us < t0_us:
        raise BadInput("end is before start", detail={"field": "end"})
    sql = (
        f"SELECT rid, ts_us, lat, lon, camera_id, kind, confidence FROM {READS} "
        f"WHERE plate = {lit(plate)} AND ts_us BETWEEN {t0_us} AND {t1_us} "
        f"ORDER BY ts_us, rid LIMIT {int(limit)}"
    )
    return Query(sql, {}, TRAJ_COLUMNS)


def next_cameras(
    *,
    camera_id: str,
    before_us: int,
    lookback_us: int = DAY_US,
    max_gap_s: int = 1800,
    limit: int = 5,
    vehicle: str = "plate",
) -> Query:
    """Cameras that vehicles read at ``camera_id`` in the ``lookback_us`` before ``before_us``
    were read at next, if that next read came within ``max_gap_s`` (a next read at the same
    camera counts for none). A join from those reads to each vehicle's following reads, not a
    window over all traffic, so it touches only the vehicles that passed the camera; both sides
    read the time-ordered copy, so only the look-back's row groups are scanned. ``vehicle``:
    the column that names a vehicle, ``plate`` (both engines) or ``vid`` (the embedded
    warehouse's integer id: the same answer, a cheaper join)."""
    if vehicle not in ("plate", "vid"):
        raise ValueError(vehicle)
    gap = int(max_gap_s) * 1_000_000
    lo = before_us - lookback_us
    sql = f"""
WITH a AS (
    SELECT {vehicle}, ts_us, rid FROM {BY_TIME}
    WHERE camera_id = {lit(camera_id)} AND ts_us BETWEEN {lo} AND {before_us}
),
following AS (
    SELECT a.rid AS a_rid, b.camera_id AS cam,
           row_number() OVER (PARTITION BY a.rid ORDER BY b.ts_us, b.rid) AS k
    FROM a JOIN {BY_TIME} b ON b.{vehicle} = a.{vehicle}
    WHERE b.ts_us BETWEEN {lo} AND {before_us + gap}
      AND (b.ts_us > a.ts_us OR (b.ts_us = a.ts_us AND b.rid > a.rid))
      AND b.ts_us - a.ts_us <= {gap}
)
SELECT cam, count(*) AS n FROM following
WHERE k = 1 AND cam IS NOT NULL AND cam <> {lit(camera_id)}
GROUP BY cam ORDER BY n DESC, cam LIMIT {int(limit)}
"""
    return Query(sql, {}, ("camera_id", "transitions"))


# --- convoy ------------------------------------------------------------------------------------

CONVOY_COLUMNS = ("plate", "cameras", "co_reads", "min_gap_s", "first_us", "last_us")


def convoy(
    *,
    plate: str,
    t0_us: int,
    t1_us: int,
    max_gap_s: float = 60.0,
    min_cameras: int = 3,
    limit: int = 100,
) -> Query:
    """Vehicles read within ``max_gap_s`` of the target at ``min_cameras`` or more cameras."""
    if t1_us < t0_us:
        raise BadInput("end is before start", detail={"field": "end"})
    if not (0 < max_gap_s <= 3600):
        raise BadInput("max_gap_s must be in (0, 3600]", detail={"field": "max_gap_s"})
    gap = int(max_gap_s * 1_000_000)
    sql = f"""
WITH t AS (
    SELECT camera_id, ts_us FROM {READS}
    WHERE plate = {lit(plate)} AND ts_us BETWEEN {t0_us} AND {t1_us} AND camera_id IS NOT NULL
),
o AS (
    SELECT r.plate, r.camera_id, r.ts_us, abs(r.ts_us - t.ts_us) AS gap_us
    FROM {READS} r JOIN t ON r.camera_id = t.camera_id
    WHERE r.ts_us BETWEEN {t0_us - gap} AND {t1_us + gap}
      AND r.ts_us BETWEEN t.ts_us - {gap} AND t.ts_us + {gap}
      AND r.plate <> {lit(plate)}
)
SELECT plate, count(DISTINCT camera_id) AS cameras, count(*) AS co_reads,
       min(gap_us) / 1e6 AS min_gap_s, min(ts_us) AS first_us, max(ts_us) AS last_us
FROM o GROUP BY plate HAVING count(DISTINCT camera_id) >= {int(min_cameras)}
ORDER BY cameras DESC, co_reads DESC, plate LIMIT {int(limit)}
"""
    return Query(sql, {}, CONVOY_COLUMNS)


# --- cloned plates ------------------------------------------------------------------------------

CLONE_COLUMNS = (
    "plate",
    "rid_a",
    "ts_a",
    "lat_a",
    "lon_a",
    "camera_a",
    "rid_b",
    "ts_b",
    "lat_b",
    "lon_b",
    "camera_b",
    "distance_km",
    "gap_s",
    "speed_kmh",
)


def cloned(
    *,
    t0_us: int,
    t1_us: int,
    plate: str | None = None,
    max_speed_kmh: float = 250.0,
    min_distance_km: float = 1.0,
    limit: int = 1000,
) -> Query:
    """Consecutive reads of one plate whose implied speed exceeds ``max_speed_kmh``."""
    if t1_us < t0_us:
        raise BadInput("end is before start", detail={"field": "end"})
    if max_speed_kmh <= 0:
        raise BadInput("max_speed_kmh must be positive", detail={"field": "max_speed_kmh"})
    only = f"AND plate = {lit(plate)}" if plate else ""
    w = "OVER (PARTITION BY plate ORDER BY ts_us, rid)"
    d = distance_km("lat", "lon", "lat2", "lon2")
    sql = f"""
WITH s AS (
    SELECT plate, rid, ts_us, lat, lon, camera_id,
           lead(rid) {w} AS rid2, lead(ts_us) {w} AS ts2, lead(lat) {w} AS lat2,
           lead(lon) {w} AS lon2, lead(camera_id) {w} AS cam2
    FROM {READS} WHERE ts_us BETWEEN {t0_us} AND {t1_us} {only}
),
p AS (
    SELECT *, {d} AS d_km, (ts2 - ts_us) / 1e6 AS gap_s FROM s WHERE rid2 IS NOT NULL
)
SELECT plate, rid, ts_us, lat, lon, camera_id, rid2, ts2, lat2, lon2, cam2, round(d_km, 6), gap_s,
       round(d_km / (greatest(gap_s, 1e0) / 3.6e3), 3) AS speed_kmh
FROM p
WHERE d_km >= {num(min_distance_km)} AND d_km / (greatest(gap_s, 1e0) / 3.6e3) > {num(max_speed_kmh)}
ORDER BY plate, ts_us, rid LIMIT {int(limit)}
"""
    return Query(sql, {}, CLONE_COLUMNS)


# --- one person, many vehicles --------------------------------------------------------------------

PMV_COLUMNS = ("person_id", "vehicles", "window_start_us")


def person_many_vehicles(
    *,
    min_vehicles: int,
    days: float,
    t0_us: int | None = None,
    t1_us: int | None = None,
    limit: int = 100,
) -> Query:
    """People linked to at least ``min_vehicles`` distinct vehicles within some ``days`` window.

    The best window for a person always starts at one of their links, so windows are anchored
    there: [link time, link time + days).
    """
    if min_vehicles < 2:
        raise BadInput("min_vehicles must be at least 2", detail={"field": "min_vehicles"})
    if not (0 < days <= 366):
        raise BadInput("days must be in (0, 366]", detail={"field": "days"})
    span = int(days * DAY_US)
    where = []
    if t0_us is not None:
        where.append(f"ts_us >= {int(t0_us)}")
    if t1_us is not None:
        where.append(f"ts_us <= {int(t1_us)}")
    cond = ("WHERE " + " AND ".join(where)) if where else ""
    sql = f"""
WITH l AS (SELECT DISTINCT person_id, plate, ts_us FROM {LINKS} {cond}),
w AS (
    SELECT a.person_id, a.ts_us AS start_us, count(DISTINCT b.plate) AS n
    FROM l a JOIN l b ON a.person_id = b.person_id
    WHERE b.ts_us >= a.ts_us AND b.ts_us < a.ts_us + {span}
    GROUP BY a.person_id, a.ts_us
),
best AS (
    SELECT person_id, n, start_us,
           row_number() OVER (PARTITION BY person_id ORDER BY n DESC, start_us) AS rn
    FROM w
)
SELECT person_id, n, start_us FROM best WHERE rn = 1 AND n >= {int(min_vehicles)}
ORDER BY n DESC, person_id LIMIT {int(limit)}
"""
    return Query(sql, {}, PMV_COLUMNS)


def person_links(*, person_id: str, t0_us: int, t1_us: int) -> Query:
    sql = (
        f"SELECT plate, ts_us, source FROM {LINKS} WHERE person_id = {lit(person_id)} "
        f"AND ts_us >= {int(t0_us)} AND ts_us < {int(t1_us)} ORDER BY ts_us, plate"
    )
    return Query(sql, {}, ("plate", "ts_us", "source"))
