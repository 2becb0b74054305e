"""Area queries: vehicle–case association (车案关联) and series (vehicles near k of N scenes).

SQL text shared by DuckDB and Spark; values become SQL only through :mod:`precinct.anpr.sqltext`
(``lit``, ``num``, ``int``), hence the ``# noqa: S608`` on each statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from precinct.anpr.sqltext import (
    BY_TIME,
    DAY_US,
    PRESENCE,
    Query,
    bbox,
    cell_centre,
    check_scene,
    distance_km,
    lit,
    num,
    plate_table,
)
from precinct.errors import BadInput

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
    "near_lat",
    "near_lon",
)
W_RARITY, W_SPACE, W_TIME = 0.5, 0.3, 0.2


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
        f"SELECT ts_us, lat, lon, vid FROM {BY_TIME} "  # noqa: S608 - values via sqltext (lit/num/int), names constant
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
    t0_us, t1_us = int(t0_us), int(t1_us)
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
           min(d_km) AS min_d, min(abs(ts_us - {mid})) AS min_dt,
           min_by(lat, d_km) AS near_lat, min_by(lon, d_km) AS near_lon
    FROM (
        SELECT plate, ts_us, lat, lon, {d} AS d_km
        FROM {BY_TIME}
        WHERE ts_us BETWEEN {t0_us} AND {t1_us} AND {bbox(lat, lon, radius_km)}
    ) near WHERE d_km <= {num(radius_km)}
    GROUP BY plate"""  # noqa: S608 - values via sqltext (lit/num/int), names constant
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
    GROUP BY h.plate"""  # noqa: S608 - values via sqltext (lit/num/int), names constant
        if lookback_days > 0
        else """
    SELECT plate, 0 AS days_seen FROM cand WHERE 1 = 0"""
    )
    score_sql = f"""
WITH scored AS (
    SELECT c.plate, c.n_reads, c.first_us, c.last_us, c.min_d, c.min_dt / 1e6 AS min_dt_s, c.near_lat, c.near_lon,
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
       round({W_RARITY:.3e} * rarity + {W_SPACE:.3e} * c_space + {W_TIME:.3e} * c_time, 6) AS score,
       near_lat, near_lon
FROM scored
ORDER BY on_watchlist DESC, score DESC, plate
{f"LIMIT {int(limit)}" if limit else ""}
"""  # noqa: S608 - values via sqltext (lit/num/int), names constant
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
    t0_us, t1_us = int(t0_us), int(t1_us)
    d = distance_km("lat", "lon", num(lat), num(lon))
    return Query(
        f"SELECT count(*) FROM {BY_TIME} WHERE ts_us BETWEEN {t0_us} AND {t1_us} AND "  # noqa: S608 - values via sqltext (lit/num/int), names constant
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


SERIES_COLUMNS = ("plate", "case_id", "reads", "first_us", "last_us", "min_distance_km", "near_lat", "near_lon")


@dataclass
class SeriesQuery(Query):
    """The series as one SQL text (Spark, reference) and, for the DuckDB fast path, one query for
    the reads in every scene's window and bounding box (column ``scene``: the scene's position)."""

    window_sql: str = ""
    scenes: tuple[Scene, ...] = ()
    min_cases: int = 1


def series(*, scenes: Sequence[Scene], min_cases: int) -> SeriesQuery:
    """Per (vehicle, scene) rows for vehicles read near at least ``min_cases`` scenes (``near_lat``,
    ``near_lon``: where the vehicle's read nearest the scene was, for the analyst's map)."""
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
            f"SELECT {lit(s.case_id)} AS case_id, plate, count(*) AS n_reads, min(ts_us) AS first_us, "  # noqa: S608 - values via sqltext (lit/num/int), names constant
            f"max(ts_us) AS last_us, min(d_km) AS min_d, min_by(lat, d_km) AS near_lat, min_by(lon, d_km) AS near_lon "
            f"FROM (SELECT plate, ts_us, lat, lon, {d} AS d_km FROM {BY_TIME} "
            f"WHERE ts_us BETWEEN {int(s.t0_us)} AND {int(s.t1_us)} AND {bbox(s.lat, s.lon, s.radius_km)}) near "
            f"WHERE d_km <= {num(s.radius_km)} GROUP BY plate"
        )
    union = "\n    UNION ALL\n    ".join(parts)
    sql = f"""
WITH per_case AS (
    {union}
),
qual AS (SELECT plate FROM per_case GROUP BY plate HAVING count(*) >= {int(min_cases)})
SELECT p.plate, p.case_id, p.n_reads, p.first_us, p.last_us, round(p.min_d, 6), p.near_lat, p.near_lon
FROM per_case p JOIN qual q ON p.plate = q.plate
ORDER BY p.plate, p.case_id
"""  # noqa: S608 - values via sqltext (lit/num/int), names constant
    windows = "\nUNION ALL\n".join(
        f"SELECT {j}::INTEGER AS scene, * FROM ("  # noqa: S608 - values via sqltext (lit/num/int), names constant
        + window_sql(lat=s.lat, lon=s.lon, radius_km=s.radius_km, t0_us=s.t0_us, t1_us=s.t1_us)
        + ")"
        for j, s in enumerate(scenes)
    )
    return SeriesQuery(sql, {}, SERIES_COLUMNS, window_sql=windows, scenes=tuple(scenes), min_cases=int(min_cases))
