"""Vehicle and person queries: trajectory, likely next cameras, convoy, cloned plates, and
people linked to many vehicles.

SQL text shared by DuckDB and Spark; values become SQL only through :mod:`precinct.anpr.sqltext`
(``lit``, ``num``, ``int``), hence the ``# noqa: S608`` on each statement.
"""

from __future__ import annotations

from precinct.anpr.sqltext import BY_TIME, DAY_US, LINKS, READS, Query, distance_km, lit, num
from precinct.errors import BadInput

# --- trajectory -----------------------------------------------------------------------------------

TRAJ_COLUMNS = ("rid", "ts_us", "lat", "lon", "camera_id", "kind", "confidence")


def trajectory(*, plate: str, t0_us: int, t1_us: int, limit: int = 10_000) -> Query:
    t0_us, t1_us = int(t0_us), int(t1_us)
    if t1_us < t0_us:
        raise BadInput("end is before start", detail={"field": "end"})
    sql = (
        f"SELECT rid, ts_us, lat, lon, camera_id, kind, confidence FROM {READS} "  # noqa: S608 - values via sqltext (lit/num/int), names constant
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
    before_us = int(before_us)
    lo = before_us - int(lookback_us)
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
"""  # noqa: S608 - values via sqltext (lit/num/int), names constant
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
    t0_us, t1_us = int(t0_us), int(t1_us)
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
"""  # noqa: S608 - values via sqltext (lit/num/int), names constant
    return Query(sql, {}, CONVOY_COLUMNS)


CONVOY_PLACE_COLUMNS = ("plate", "camera_id", "co_reads", "first_us", "lat", "lon")


def convoy_places(
    *,
    plate: str,
    plates: list[str],
    t0_us: int,
    t1_us: int,
    max_gap_s: float = 60.0,
) -> Query:
    """Where each of ``plates`` was read with the target (the convoy's answer): per vehicle and
    camera the reads together (counted as :func:`convoy` counts them, so a vehicle's places add up
    to its ``co_reads``), the first of them, and the place of that first read (earliest, then
    lowest rid), in plate and time order."""
    t0_us, t1_us = int(t0_us), int(t1_us)
    gap = int(max_gap_s * 1_000_000)
    among = ", ".join(lit(p) for p in plates) or lit("")
    sql = f"""
WITH t AS (
    SELECT camera_id, ts_us FROM {READS}
    WHERE plate = {lit(plate)} AND ts_us BETWEEN {t0_us} AND {t1_us} AND camera_id IS NOT NULL
),
o AS (
    SELECT r.plate, r.camera_id, r.ts_us, r.rid, r.lat, r.lon,
           row_number() OVER (PARTITION BY r.plate, r.camera_id ORDER BY r.ts_us, r.rid) AS k
    FROM {READS} r JOIN t ON r.camera_id = t.camera_id
    WHERE r.ts_us BETWEEN {t0_us - gap} AND {t1_us + gap}
      AND r.ts_us BETWEEN t.ts_us - {gap} AND t.ts_us + {gap}
      AND r.plate IN ({among})
)
SELECT plate, camera_id, count(*) AS co_reads, min(ts_us) AS first_us,
       min(CASE WHEN k = 1 THEN lat END) AS lat, min(CASE WHEN k = 1 THEN lon END) AS lon
FROM o GROUP BY plate, camera_id
ORDER BY plate, first_us, camera_id
"""  # noqa: S608 - values via sqltext (lit/num/int), names constant
    return Query(sql, {}, CONVOY_PLACE_COLUMNS)


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
    t0_us, t1_us = int(t0_us), int(t1_us)
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
"""  # noqa: S608 - values via sqltext (lit/num/int), names constant
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
"""  # noqa: S608 - values via sqltext (lit/num/int), names constant
    return Query(sql, {}, PMV_COLUMNS)


def person_links(*, person_id: str, t0_us: int, t1_us: int) -> Query:
    sql = (
        f"SELECT plate, ts_us, source FROM {LINKS} WHERE person_id = {lit(person_id)} "  # noqa: S608 - values via sqltext (lit/num/int), names constant
        f"AND ts_us >= {int(t0_us)} AND ts_us < {int(t1_us)} ORDER BY ts_us, plate"
    )
    return Query(sql, {}, ("plate", "ts_us", "source"))
