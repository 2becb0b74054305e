"""Batch scenario: write a data set in the design brief's formats, plus ``truth.json``.

Determinism: every random stream is a ``numpy.random.Generator`` seeded from
``SeedSequence([seed, STREAM, ...])`` with a fixed stream number (and the day number for daily
traffic), so the output does not depend on chunking, timing or the machine's state.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from precinct.errors import BadInput
from precinct.sim.calls import Call, assign_ids, generate_calls
from precinct.sim.generate_days import run_by_day, run_stream
from precinct.sim.geo import CityLike, Geography, build_geography
from precinct.sim.hawkes import NearRepeat
from precinct.sim.planting import LOCAL_TZ, Case, Planter
from precinct.sim.plates import make_plates, make_tags
from precinct.sim.rhythm import DAY_S
from precinct.sim.scan import CLONE_KMH, Scanner
from precinct.sim.stories import plant_all
from precinct.sim.traffic import (
    AllCorridors,
    Population,
    combine,
    day_trips,
    expand_reads,
    make_population,
)
from precinct.sim.truth import build_truth
from precinct.sim.writer import ReadsWriter, iso_local, write_csv

DEFAULT_CAMERAS = 120  # build_geography's default checkpoint cameras (15 km synthetic city)

DEFAULT_START = dt.datetime(2026, 3, 2, tzinfo=LOCAL_TZ)  # a Monday
DEFAULT_CENTER = (32.49, 119.92)  # Taizhou, Jiangsu
# Random stream numbers (never reuse or renumber: that would change every data set).
S_GEO, S_POP, S_IDS, S_STORIES, S_CALLS, S_TABLES, S_DAY = 1, 2, 3, 4, 5, 6, 7
OFFENDER_SHARE = 0.015  # share of local vehicles tied to people with prior convictions
CASE_TYPES = ("burglary", "robbery", "theft_ebike")

Progress = Callable[[str, int, int], None]


def rng_for(seed: int, *stream: int) -> np.random.Generator:
    """The generator for one named stream of a scenario."""
    return np.random.default_rng(np.random.SeedSequence([seed, *stream]))


def default_city(seed: int, osm: Path | None = None, size_km: float = 15) -> CityLike:
    """The synthetic city near Taizhou for ``seed`` (``size_km`` square), or a real map from an
    ``.osm.pbf`` file."""
    from precinct.city import RoadGraph

    if osm is not None:
        return RoadGraph.from_osm(osm)
    return RoadGraph.synthetic(size_km=size_km, seed=seed, center=DEFAULT_CENTER)


def county_size(cameras: int) -> tuple[float, dict[str, int]]:
    """City side (km) and geography sizes for about ``cameras`` checkpoint cameras.

    Cameras go at the junctions the corridors use most, at least 400 m apart, so more cameras need
    more routes and more room: 120 (the default) on 15 km; 4,200 (a county such as Jiangyan) on
    36 km with about one car route per camera. Below 120 the default city is kept.
    """
    if cameras <= DEFAULT_CAMERAS:
        return 15.0, {"n_cameras": cameras}
    size = round(max(15.0, 36.0 * (cameras / 4200) ** 0.5), 1)
    n_car = max(600, int(cameras * 1.1))
    return size, {
        "n_cameras": cameras,
        "n_car": n_car,
        "n_through": max(80, n_car // 8),
        "n_bike": max(300, n_car // 2),
        "n_readers": max(60, n_car // 10),
    }


def scenario_params(
    sc: Scenario, *, reads_per_day: int, calls_per_day: float, geo_size: dict[str, int] | None
) -> dict[str, Any]:
    """What identifies a scenario's output (a resumed run must match): parameters and a digest
    of the camera table and identifiers."""
    import hashlib

    h = hashlib.sha256()
    h.update(np.ascontiguousarray(sc.geo.camera_lat).tobytes())
    h.update(np.ascontiguousarray(sc.geo.camera_lon).tobytes())
    h.update("\n".join(sc.ids).encode())
    # The cases decide the truth scan's state: a resumed run with other calls (changed call
    # generation code) must not mix the two.
    h.update(repr([(k.case_id, k.lat, k.lon, k.start, k.end, k.radius_km) for k in sc.cases]).encode())
    return {
        "seed": sc.seed,
        "days": sc.days,
        "start": sc.start.isoformat(),
        "reads_per_day": reads_per_day,
        "calls_per_day": calls_per_day,
        "geo_size": dict(sorted((geo_size or {}).items())),
        "near_repeat_share": sc.calls_info.get("near_repeat", {}).get("share"),
        "cameras": sc.geo.n_cameras,
        "identifiers": len(sc.ids),
        "digest": h.hexdigest(),
    }


@dataclass
class Scenario:
    """Everything fixed before the day loop: geography, population, identifiers, plants."""

    seed: int
    days: int
    start: dt.datetime
    geo: Geography
    ac: AllCorridors
    pop: Population
    ids: list[str]
    kinds: list[str]
    planter: Planter
    calls: list[Call]
    calls_info: dict[str, Any]
    cases: list[Case]


def build_scenario(
    *,
    days: int,
    seed: int,
    reads_per_day: int,
    calls_per_day: float = 400.0,
    city: CityLike | None = None,
    start: dt.datetime = DEFAULT_START,
    geo_size: dict[str, int] | None = None,
    geo: Geography | None = None,
    near_repeat_share: float | None = None,
) -> Scenario:
    """Prepare a scenario: city geography, vehicle population, planted stories and all calls.

    Parameters
    ----------
    days
        Length of the period (at least 1).
    seed
        The scenario seed.
    reads_per_day
        Target background reads on a weekday.
    calls_per_day
        Expected background 110 events a day.
    city
        Road graph; default :func:`default_city`.
    start
        Local midnight of day 0 (timezone-aware).
    geo_size
        Overrides for :func:`~precinct.sim.geo.build_geography` sizes (tests use smaller ones).
    geo
        Reuse this geography (the live demo keeps its cameras from one round to the next).
    near_repeat_share
        Share of burglaries followed by planted near-repeats (default that of
        :class:`~precinct.sim.hawkes.NearRepeat`; 0 plants none).
    """
    if days < 1:
        raise BadInput("days must be at least 1", detail={"field": "days"})
    if reads_per_day < 100:
        raise BadInput("reads-per-day must be at least 100", detail={"field": "reads_per_day"})
    if start.tzinfo is None:
        raise BadInput("start must carry a UTC offset", detail={"field": "start"})
    near_repeat = None
    if near_repeat_share is not None:
        near_repeat = NearRepeat(share=near_repeat_share)
        try:
            near_repeat.check()
        except ValueError as exc:
            raise BadInput(str(exc), detail={"field": "near_repeat_share"}) from None
    city = city if city is not None else default_city(seed)
    if geo is None:
        geo = build_geography(city, rng_for(seed, S_GEO), **(geo_size or {}))
    ac = combine(geo)
    pop = make_population(rng_for(seed, S_POP), ac, reads_per_day)
    rng = rng_for(seed, S_IDS)
    n_car = pop.n_commuter + pop.n_local
    cars = make_plates(rng, n_car, local_share=1.0)
    through = make_plates(rng, pop.n_through, local_share=0.25, avoid=set(cars))
    tags = make_tags(rng, pop.n_bike)
    ids = cars + tags + through
    kinds = ["plate"] * n_car + ["tag"] * pop.n_bike + ["plate"] * pop.n_through
    planter = Planter(
        geo=geo,
        ac=ac,
        city=city,
        rng=rng_for(seed, S_STORIES),
        base=len(ids),
        days=days,
        start=start,
    )
    plant_all(planter, set(ids))
    ids += planter.plates
    kinds += planter.kinds
    calls, info = generate_calls(
        rng_for(seed, S_CALLS),
        geo,
        days=days,
        start_weekday=start.weekday(),
        calls_per_day=calls_per_day,
        near_repeat=near_repeat,
    )
    calls = assign_ids(calls + planter.calls, start.date())
    by_tag = {c.tag: c for c in calls if c.tag}
    cases = list(planter.cases)
    for c in calls:
        if c.type in CASE_TYPES and c.tag is None and not c.duplicate:
            # An ordinary property crime opens a case: 1 km around it, the 3 hours before the call.
            cases.append(Case(f"call:{c.call_id}", c.lat, c.lon, c.ts - 3 * 3600, c.ts, 1.0, call_tag=None))
    cases.sort(key=lambda k: (k.start, k.tag))
    for i, k in enumerate(cases):
        date = (start + dt.timedelta(seconds=max(k.end, 0))).date()
        k.case_id = f"AJ{date:%Y%m%d}{i + 1:05d}"
        if k.call_tag:
            by_tag[k.call_tag].extra["case_id"] = k.case_id
    return Scenario(seed, days, start, geo, ac, pop, ids, kinds, planter, calls, info, cases)


def day_reads(sc: Scenario, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Background reads of trips departing on ``day`` (unsorted): ts ms, id, camera, confidence."""
    rng = rng_for(sc.seed, S_DAY, day)
    veh, corr, dep = day_trips(rng, sc.pop, sc.ac, day, (sc.start.weekday() + day) % 7)
    return expand_reads(rng, sc.ac, veh, corr, dep)


def generate(
    out: Path,
    *,
    days: int,
    seed: int,
    reads_per_day: int = 200_000,
    calls_per_day: float = 400.0,
    csv: bool = False,
    city: CityLike | None = None,
    start: dt.datetime = DEFAULT_START,
    progress: Progress | None = None,
    geo_size: dict[str, int] | None = None,
    by_day: bool = False,
    resume: bool = False,
    on_rows: Callable[[int], None] | None = None,
    near_repeat_share: float | None = None,
) -> dict[str, Any]:
    """Write a complete data set into ``out``; returns the summary also stored in ``truth.json``.

    Parameters
    ----------
    out
        Output directory (created).
    days, seed, reads_per_day, calls_per_day, city, start, geo_size
        See :func:`build_scenario`.
    csv
        Also write ``reads.csv``.
    progress
        Called as ``progress(stage, done, total)``.
    by_day
        Write ``reads/<date>.parquet`` (one file per day) with a checkpoint and ``manifest.json``
        after each day, instead of one ``reads.parquet`` (see :mod:`precinct.sim.generate_days`).
    resume
        Continue the interrupted by-day run in ``out`` (implies ``by_day``); the result is the
        same bytes as an uninterrupted run.
    on_rows
        Called with the number of reads written so far after each day.
    near_repeat_share
        See :func:`build_scenario`.
    """
    if csv and (by_day or resume):
        raise BadInput("--csv writes one reads.csv and cannot be combined with --by-day or --resume",
                       detail={"field": "csv"})
    by_day = by_day or resume
    out.mkdir(parents=True, exist_ok=True)
    report = progress or (lambda _s, _d, _t: None)
    report("preparing city and population", 0, days)
    sc = build_scenario(
        days=days,
        seed=seed,
        reads_per_day=reads_per_day,
        calls_per_day=calls_per_day,
        city=city,
        start=start,
        geo_size=geo_size,
        near_repeat_share=near_repeat_share,
    )
    pl = sc.planter
    watch_rows = watchlist_rows(sc)
    id_index = {v: i for i, v in enumerate(sc.ids[: pl.base])}
    id_index.update({v: pl.base + i for i, v in enumerate(pl.plates)})
    watched = np.array(sorted({id_index[r[0]] for r in watch_rows}), dtype=np.int64)
    scanner = Scanner(sc.geo, len(sc.ids), watched, days)
    series = set(pl.truth.get("vehicle_series", {}).get("cases", []))
    for k in sc.cases:
        scanner.add_case(k.case_id, k.lat, k.lon, k.start, k.end, k.radius_km, keep_all=k.tag in series)
    writer = ReadsWriter(
        out,
        start_utc_ms=int(sc.start.timestamp() * 1000),
        ids=sc.ids,
        kinds=sc.kinds,
        camera_id=sc.geo.camera_id,
        camera_lat=sc.geo.camera_lat,
        camera_lon=sc.geo.camera_lon,
        csv=csv,
        single_file=not by_day,
    )
    rows = on_rows or (lambda _n: None)
    if by_day:
        params = scenario_params(sc, reads_per_day=reads_per_day, calls_per_day=calls_per_day, geo_size=geo_size)
        run_by_day(out, sc, writer, scanner, params, day_reads, resume=resume, report=report, rows=rows)
    else:
        run_stream(sc, writer, scanner, day_reads, report, rows)
    report("writing tables", days, days)
    summary = _write_tables(out, sc, watch_rows, scanner, writer.rows)
    report("done", days, days)
    return summary


def watchlist_rows(sc: Scenario) -> list[tuple[str, str, str]]:
    """``(plate, reason, list)``: prior offenders' vehicles, stolen vehicles, planted entries."""
    rng = rng_for(sc.seed, S_TABLES, 1)
    n_car = sc.pop.n_commuter + sc.pop.n_local
    off = np.sort(rng.choice(n_car, size=max(int(n_car * OFFENDER_SHARE), 1), replace=False))
    rows = [(sc.ids[i], "前科人员关联车辆", "offenders") for i in off.tolist()]
    thr = sc.pop.through_start + np.sort(
        rng.choice(sc.pop.n_through, size=max(sc.pop.n_through // 2000, 1), replace=False)
    )
    rows += [(sc.ids[i], "被盗抢车辆", "stolen") for i in thr.tolist()]
    rows += sc.planter.watch
    return rows


def link_events(sc: Scenario) -> list[tuple[int, str, str, str]]:
    """Person–vehicle links as ``(ts, person_id, plate, source)``, in order of time (``ts``:
    seconds from the scenario start, negative before it): registrations of local vehicles (some
    own a car and an e-bike), patrol checks during the period and the planted stories' links."""
    rng = rng_for(sc.seed, S_TABLES, 2)
    pop = sc.pop
    n_car = pop.n_commuter + pop.n_local
    reg_days = rng.integers(30, 3650, size=n_car + pop.n_bike)
    owner = np.arange(n_car + pop.n_bike)
    # 30 % of e-bikes belong to a car owner.
    shared = rng.random(pop.n_bike) < 0.3
    owner[n_car:][shared] = rng.integers(0, n_car, int(shared.sum()))
    rows: list[tuple[int, str, str, str]] = []
    for i, (d, o) in enumerate(zip(reg_days.tolist(), owner.tolist(), strict=True)):
        rows.append((-d * DAY_S, f"P{o + 1:07d}", sc.ids[i], "registration"))
    # Patrol checks during the period: the rider is usually the owner.
    n_checks = max(sc.days * 20, 1)
    who = rng.integers(0, n_car + pop.n_bike, n_checks)
    when = rng.integers(0, sc.days * DAY_S, n_checks)
    for i, t in zip(who.tolist(), when.tolist(), strict=True):
        rows.append((t, f"P{owner[i] + 1:07d}", sc.ids[i], "traffic_stop"))
    for person, ident, ts, source in sc.planter.links:
        rows.append((ts, person, ident, source))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return rows


def _links(sc: Scenario) -> list[tuple[str, str, str, str]]:
    """The rows of ``links.csv``: person_id, plate, ts (local ISO 8601), source."""
    iso: dict[int, str] = {}  # registrations share a few thousand distinct days
    out = []
    for ts, person, ident, source in link_events(sc):
        if ts not in iso:
            iso[ts] = iso_local(sc.start, ts)
        out.append((person, ident, iso[ts], source))
    return out


def _write_tables(
    out: Path, sc: Scenario, watch_rows: list[tuple[str, str, str]], scanner: Scanner, n_reads: int
) -> dict[str, Any]:
    iso = sc.planter.iso
    write_csv(
        out / "calls.csv",
        ["call_id", "ts", "lat", "lon", "type", "priority", "description"],
        (
            (
                c.call_id,
                iso(c.ts),
                f"{c.lat:.6f}",
                f"{c.lon:.6f}",
                c.type,
                c.priority,
                c.description,
            )
            for c in sc.calls
        ),
    )
    write_csv(
        out / "cases.csv",
        ["case_id", "lat", "lon", "start", "end", "radius_km"],
        (
            (
                k.case_id,
                f"{k.lat:.6f}",
                f"{k.lon:.6f}",
                iso(k.start),
                iso(k.end),
                f"{k.radius_km:g}",
            )
            for k in sc.cases
        ),
    )
    write_csv(out / "watchlist.csv", ["plate", "reason", "list"], watch_rows)
    links = _links(sc)
    write_csv(out / "links.csv", ["person_id", "plate", "ts", "source"], links)
    g = sc.geo
    write_csv(
        out / "cameras.csv",
        ["camera_id", "lat", "lon", "kind"],
        (
            (g.camera_id[i], f"{g.camera_lat[i]:.6f}", f"{g.camera_lon[i]:.6f}", g.camera_kind[i])
            for i in range(g.n_cameras)
        ),
    )
    truth = _truth(sc, scanner, links, n_reads)
    (out / "truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    return truth


def _truth(sc: Scenario, scanner: Scanner, links: list[tuple[str, str, str, str]], n_reads: int) -> dict[str, Any]:
    return build_truth(sc, scanner, links, n_reads, clone_kmh=CLONE_KMH)
