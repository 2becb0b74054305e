"""One entry point per investigative query for the CLI, the API and the dashboard.

Each function takes the caller's :class:`~precinct.core.access.AccessGrant` (case id, purpose,
role already checked), runs the analysis, writes the audit record with the query's parameters
and only then returns the result — so no caller can forget the record or record different
parameters for the same query. Times are given as ISO 8601 text (the form both callers receive)
and parsed here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from precinct.anpr import analysis
from precinct.anpr.normalize import normalize_plate
from precinct.anpr.queries import QueryEngine, Scene
from precinct.core.access import AccessGrant


def _us(value: str, name: str) -> int:
    from precinct.anpr.service import parse_time, to_us

    return to_us(parse_time(value, name))


def associate(
    grant: AccessGrant,
    engine: QueryEngine,
    *,
    lat: float,
    lon: float,
    radius_km: float,
    start: str,
    end: str,
    watchlist: Sequence[str] = (),
    only_watchlist: bool = False,
    lookback_days: int = 14,
    limit: int | None = None,
) -> dict[str, Any]:
    """Vehicle–case association (车案关联), audited.

    Parameters
    ----------
    grant : AccessGrant
        The caller's purpose-bound permission; the audit record is written through it.
    engine : QueryEngine
        DuckDB (embedded) or Spark.
    lat, lon, radius_km : float
        The scene and the radius searched around it.
    start, end : str
        The time window, ISO 8601 with an offset.
    watchlist : sequence of str
        Plates of interest (normalised here; empty entries dropped).
    only_watchlist : bool
        Return only vehicles on the watchlist.
    lookback_days : int
        Whole days before the window's day used for rarity (0 turns rarity off).
    limit : int, optional
        At most this many candidates.

    Returns
    -------
    dict
        ``{"candidates": [...], "scanned_reads": n, "scoring": {...}}``.
    """
    plates = [p for p in (normalize_plate(x) for x in watchlist) if p]
    result = analysis.associate(
        engine,
        lat=lat,
        lon=lon,
        radius_km=radius_km,
        t0_us=_us(start, "start"),
        t1_us=_us(end, "end"),
        watchlist=plates,
        only_watchlist=only_watchlist,
        lookback_days=lookback_days,
        limit=limit,
    )
    grant.record(
        result_count=len(result["candidates"]),
        params={
            "lat": lat,
            "lon": lon,
            "radius_km": radius_km,
            "start": start,
            "end": end,
            # the plates looked up, so an auditor can answer "who looked up this plate"
            # (bounded by the request-size limit; the digest names the exact list)
            "watchlist": sorted(set(plates)),
            "watchlist_size": len(plates),
            "watchlist_sha256": hashlib.sha256("\n".join(sorted(set(plates))).encode()).hexdigest(),
            "only_watchlist": only_watchlist,
            "lookback_days": lookback_days,
            "limit": limit,
        },
    )
    return result


def series(
    grant: AccessGrant,
    engine: QueryEngine,
    *,
    cases: Sequence[dict[str, Any]],
    min_cases: int,
    radius_km: float = 2.0,
) -> dict[str, Any]:
    """Vehicles read near at least ``min_cases`` of the scenes, audited.

    Parameters
    ----------
    grant : AccessGrant
        The caller's purpose-bound permission.
    engine : QueryEngine
        DuckDB or Spark.
    cases : sequence of dict
        Scene rows (``case_id, lat, lon, start, end, radius_km?``), validated with their line.
    min_cases : int
        Least number of scenes a vehicle must be near.
    radius_km : float
        Radius for scenes that give none.

    Returns
    -------
    dict
        ``{"candidates": [...], "scenes": n, "min_cases": k}``.
    """
    scenes: list[Scene] = analysis.parse_scenes(cases, default_radius_km=radius_km)
    result = analysis.series(engine, scenes=scenes, min_cases=min_cases)
    grant.record(
        result_count=len(result["candidates"]),
        params={"scenes": [s.case_id for s in scenes], "min_cases": min_cases, "radius_km": radius_km},
    )
    return result


def trajectory(
    grant: AccessGrant,
    engine: QueryEngine,
    *,
    plate: str,
    start: str,
    end: str,
    paths: bool = True,
    city: Any = None,
    cameras: dict[str, tuple[float, float]] | None = None,
) -> dict[str, Any]:
    """A vehicle's reads in order, road paths, last seen and likely next cameras, audited.

    Parameters
    ----------
    grant : AccessGrant
        The caller's purpose-bound permission.
    engine : QueryEngine
        DuckDB or Spark.
    plate : str
        The plate as typed (normalised here).
    start, end : str
        The time window, ISO 8601 with an offset.
    paths : bool
        Route between consecutive reads on ``city`` when it is given.
    city : RoadGraph, optional
        The road graph for paths and travel times.
    cameras : dict, optional
        Camera positions for travel times to the likely next cameras.

    Returns
    -------
    dict
        See :func:`precinct.anpr.analysis.trajectory`.
    """
    p = normalize_plate(plate)
    result = analysis.trajectory(
        engine,
        plate=p,
        t0_us=_us(start, "start"),
        t1_us=_us(end, "end"),
        paths=paths,
        city=city,
        cameras=cameras,
    )
    grant.record(
        result_count=len(result["reads"]), params={"plate": p, "start": start, "end": end, "paths": paths}
    )
    return result


def convoy(
    grant: AccessGrant,
    engine: QueryEngine,
    *,
    plate: str,
    start: str,
    end: str,
    max_gap_s: float = 60.0,
    min_cameras: int = 3,
) -> dict[str, Any]:
    """Vehicles read with the target within ``max_gap_s`` at ``min_cameras`` cameras, audited.

    Parameters
    ----------
    grant : AccessGrant
        The caller's purpose-bound permission.
    engine : QueryEngine
        DuckDB or Spark.
    plate : str
        The target plate (normalised here).
    start, end : str
        The time window, ISO 8601 with an offset.
    max_gap_s : float
        Seconds either side of each of the target's reads.
    min_cameras : int
        Distinct cameras shared with the target.

    Returns
    -------
    dict
        ``{"target": ..., "candidates": [...]}``.
    """
    p = normalize_plate(plate)
    result = analysis.convoy(
        engine,
        plate=p,
        t0_us=_us(start, "start"),
        t1_us=_us(end, "end"),
        max_gap_s=max_gap_s,
        min_cameras=min_cameras,
    )
    grant.record(
        result_count=len(result["candidates"]),
        params={"plate": p, "start": start, "end": end, "max_gap_s": max_gap_s, "min_cameras": min_cameras},
    )
    return result


def cloned(
    grant: AccessGrant,
    engine: QueryEngine,
    *,
    start: str,
    end: str,
    plate: str | None = None,
    max_speed_kmh: float = 250.0,
    min_distance_km: float = 1.0,
) -> dict[str, Any]:
    """The same plate at two places too far apart for the time between them, audited.

    Parameters
    ----------
    grant : AccessGrant
        The caller's purpose-bound permission.
    engine : QueryEngine
        DuckDB or Spark.
    start, end : str
        The time window, ISO 8601 with an offset.
    plate : str, optional
        Only this plate (normalised here).
    max_speed_kmh : float
        Faster than this between two reads is impossible.
    min_distance_km : float
        Pairs closer than this are ignored.

    Returns
    -------
    dict
        ``{"max_speed_kmh": v, "candidates": [...]}``.
    """
    p = normalize_plate(plate) if plate else None
    result = analysis.cloned(
        engine,
        t0_us=_us(start, "start"),
        t1_us=_us(end, "end"),
        plate=p,
        max_speed_kmh=max_speed_kmh,
        min_distance_km=min_distance_km,
    )
    grant.record(
        result_count=len(result["candidates"]),
        params={
            "plate": p,
            "start": start,
            "end": end,
            "max_speed_kmh": max_speed_kmh,
            "min_distance_km": min_distance_km,
        },
    )
    return result


def person_vehicles(
    grant: AccessGrant,
    engine: QueryEngine,
    *,
    min_vehicles: int,
    days: float,
    start: str | None = None,
    end: str | None = None,
) -> dict[str, Any]:
    """People linked to at least ``min_vehicles`` distinct vehicles within ``days`` days, audited.

    Parameters
    ----------
    grant : AccessGrant
        The caller's purpose-bound permission.
    engine : QueryEngine
        DuckDB or Spark.
    min_vehicles : int
        Least number of distinct vehicles.
    days : float
        Length of the window that must hold them.
    start, end : str, optional
        Only links in this period (ISO 8601 with an offset).

    Returns
    -------
    dict
        ``{"people": [...], ...}``.
    """
    result = analysis.person_many_vehicles(
        engine,
        min_vehicles=min_vehicles,
        days=days,
        t0_us=_us(start, "start") if start else None,
        t1_us=_us(end, "end") if end else None,
    )
    grant.record(
        result_count=len(result["people"]),
        params={"min_vehicles": min_vehicles, "days": days, "start": start, "end": end},
    )
    return result
