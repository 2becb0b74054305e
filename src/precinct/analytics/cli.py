"""``precinct analytics``: hotspots, near-repeat (Knox), forecast evaluation, accident warning, weekly report.

Input is an analyst's CSV (``--input``: ``id``, ``ts``, ``type`` and ``lat``, ``lon`` or ``x``, ``y``
with ``--crs``) or, without ``--input``, Precinct's own incidents (``--as`` a user whose role may
read analytics). JSON goes to stdout, progress to stderr. The numerical libraries are imported
inside the commands so that ``precinct --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from precinct.core.access import cli_principal
from precinct.core.clikit import AsUser, FormatOpt, emit_json, open_db, progress_bar
from precinct.errors import BadInput

if TYPE_CHECKING:
    from precinct.analytics.events import Events

app = typer.Typer(help="Crime analysis (研判): hotspots, near-repeat, forecasts, accident warning, weekly report.",
                  no_args_is_help=True)

InputOpt = Annotated[Path | None, typer.Option("--input", help="CSV of incidents: id, ts, type and lat, lon or "
                                               "x, y (then --crs); without it: Precinct's own incidents")]
CrsOpt = Annotated[str | None, typer.Option("--crs", help="projection of x, y (e.g. EPSG:26971); for lat, lon "
                                            "the metric projection to use (default: the local UTM zone)")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="own incidents from this date (ISO 8601)")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="own incidents before this date (ISO 8601)")]
TypesOpt = Annotated[str | None, typer.Option("--types", help="only these incident types (comma-separated)")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="seed of the random permutations")]


def _bound(value: str | None, field: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(f"{field}: {value!r} is not an ISO 8601 date or date-time", detail={"field": field}) from None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _types(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def load_events(input: Path | None, crs: str | None, *, since: str | None = None, until: str | None = None,
                types: str | None = None, own: bool = False) -> Events:
    """The events a command works on: the CSV, or (``own``) Precinct's incidents."""
    from precinct.analytics import service

    if input is not None:
        ev = service.load_csv(input, crs=crs)
        return ev.of_types(_types(types))
    if not own:
        raise BadInput("give --input F.csv, or --as USER to analyse Precinct's own incidents")
    db = open_db()
    with db.session() as s:
        return service.incident_events(s, since=_bound(since, "since"), until=_bound(until, "until"),
                                       types=_types(types), crs=crs)


def _progress(label: str) -> tuple[Any, Any]:
    bar = progress_bar(transient=True)
    task = bar.add_task(label, total=1)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return bar, update


@app.command("hotspots")
def hotspots_cmd(
    input: InputOpt = None,
    crs: CrsOpt = None,
    cell_m: Annotated[float, typer.Option("--cell-m", help="grid cell size in metres")] = 250.0,
    permutations: Annotated[int, typer.Option(help="conditional permutations for p_sim")] = 999,
    bandwidth_m: Annotated[float | None, typer.Option("--bandwidth-m", help="also a quartic kernel density "
                                                      "with this bandwidth (metres)")] = None,
    ties: Annotated[str, typer.Option(help="esda (as PySAL computes p_sim) or exact")] = "esda",
    seed: SeedOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    types: TypesOpt = None,
    as_user: AsUser = None,
    format: FormatOpt = "table",
) -> None:
    """Hotspots (热点): counts per grid cell and Getis-Ord Gi* (queen contiguity, cell included)."""
    from precinct.analytics import service

    if as_user is not None:
        cli_principal(open_db(), as_user, "analytics.read")
    ev = load_events(input, crs, since=since, until=until, types=types, own=as_user is not None)
    out = service.hotspots(ev, cell_m=cell_m, permutations=permutations, seed=seed, bandwidth_m=bandwidth_m,
                           ties=ties)
    if format == "json":
        emit_json(out)
        return
    from rich.table import Table

    top = sorted(out["cells"], key=lambda c: -c["gi_z"])[:15]
    table = Table(title=f"Gi* hot cells ({out['crs']}, {cell_m:g} m, {len(out['cells'])} cells, "
                        f"{out['events']} events)")
    for col in ("cell_id", "x", "y", "count", "gi_z", "p_sim"):
        table.add_column(col)
    for c in top:
        table.add_row(str(c["cell_id"]), f"{c['x']:.0f}", f"{c['y']:.0f}", str(c["count"]), f"{c['gi_z']:.2f}",
                      "" if c["p_sim"] is None else f"{c['p_sim']:.3f}")
    typer.echo(_render(table))


def _render(table: Any) -> str:
    import io

    from rich.console import Console

    buf = io.StringIO()
    Console(width=120, file=buf).print(table)
    return buf.getvalue()


@app.command("knox")
def knox_cmd(
    input: InputOpt = None,
    crs: CrsOpt = None,
    distance_m: Annotated[float | None, typer.Option("--distance-m", help="close in space: at most D metres")] = None,
    time_days: Annotated[float | None, typer.Option("--time-days", help="close in time: at most T days")] = None,
    distance_bands: Annotated[str | None, typer.Option("--distance-bands", help="band edges in metres, e.g. "
                                                       "0,100,200,400")] = None,
    time_bands: Annotated[str | None, typer.Option("--time-bands", help="band edges in days, e.g. 0,7,14,28")] = None,
    permutations: Annotated[int, typer.Option(help="permutations of the event times")] = 999,
    seed: SeedOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    types: TypesOpt = None,
    as_user: AsUser = None,
    format: FormatOpt = "table",
) -> None:
    """Near-repeat (近重复): the Knox test for one threshold, or the table over distance x time bands."""
    from precinct.analytics import service
    from precinct.analytics.knox import parse_edges

    bands = distance_bands is not None or time_bands is not None
    single = distance_m is not None or time_days is not None
    if bands == single or (bands and (distance_bands is None or time_bands is None)) or (
            single and (distance_m is None or time_days is None)):
        raise BadInput("give either --distance-m and --time-days, or --distance-bands and --time-bands")
    if as_user is not None:
        cli_principal(open_db(), as_user, "analytics.read")
    ev = load_events(input, crs, since=since, until=until, types=types, own=as_user is not None)
    bar, update = _progress(f"Knox, {permutations} permutations")
    with bar:
        if bands:
            out = service.knox_bands(ev, distance_edges=parse_edges(distance_bands or "", "distance_bands").tolist(),
                                     time_edges=parse_edges(time_bands or "", "time_bands").tolist(),
                                     permutations=permutations, seed=seed, progress=update)
        else:
            out = service.knox_single(ev, distance_m=float(distance_m or 0), time_days=float(time_days or 0),
                                      permutations=permutations, seed=seed, progress=update)
    if format == "json":
        emit_json(out)
        return
    if not bands:
        typer.echo(f"Knox ({out['events']} events, ≤ {out['distance_m']:g} m and ≤ {out['time_days']:g} days): "
                   f"observed {out['observed']}, expected {out['expected']:.2f}, p = {out['p_value']}")
        return
    from rich.table import Table

    table = Table(title=f"Knox ratios ({out['events']} events, {permutations} permutations; * p ≤ 0.05)")
    table.add_column("distance m \\ days")
    rows = out["bands"]
    tcols = sorted({tuple(r["time_days"]) for r in rows})
    for lo, hi in tcols:
        table.add_column(f"{lo:g}-{hi:g}")
    for dband in sorted({tuple(r["distance_m"]) for r in rows}):
        cells = [r for r in rows if tuple(r["distance_m"]) == dband]
        table.add_row(f"{dband[0]:g}-{dband[1]:g}", *(
            f"{r['knox_ratio']:.2f}{'*' if (r['p_value'] or 1) <= 0.05 else ''}" if r["knox_ratio"] else "-"
            for r in cells))
    typer.echo(_render(table))
    if out["near_repeat_zone"]:
        z = out["near_repeat_zone"]
        typer.echo(f"near-repeat zone: {z['distance_m']:g} m for {z['time_days']:g} days")


@app.command("evaluate")
def evaluate_cmd(
    input: InputOpt = None,
    crs: CrsOpt = None,
    cell_m: Annotated[float, typer.Option("--cell-m", help="grid cell size in metres")] = 250.0,
    train_days: Annotated[float, typer.Option("--train-days", help="training window before each origin")] = 365.0,
    test_days: Annotated[float, typer.Option("--test-days", help="forecast window after each origin")] = 7.0,
    origins: Annotated[int, typer.Option("--origins", help="number of rolling forecast origins")] = 8,
    area_share: Annotated[str, typer.Option("--area-share", help="share(s) of the area flagged, e.g. 0.05 or "
                                            "0.05,0.01 (the first is reported as hit_rate / pai)")] = "0.05",
    methods: Annotated[str, typer.Option("--methods", help="kde,retrospective,prospective,sepp")] = (
        "kde,retrospective,prospective,sepp"),
    since: SinceOpt = None,
    until: UntilOpt = None,
    types: TypesOpt = None,
    as_user: AsUser = None,
    format: FormatOpt = "table",
) -> None:
    """Forecast evaluation (预测评估): hit rate and PAI of each method on a rolling origin, against KDE."""
    from precinct.analytics.evaluate import evaluate

    try:
        shares = [float(s) for s in area_share.split(",") if s.strip()]
    except ValueError:
        raise BadInput(f"--area-share: {area_share!r} is not a number list", detail={"field": "area_share"}) from None
    if as_user is not None:
        cli_principal(open_db(), as_user, "analytics.read")
    ev = load_events(input, crs, since=since, until=until, types=types, own=as_user is not None)
    bar, update = _progress("forecasts on a rolling origin")
    with bar:
        out = evaluate(ev, cell_m=cell_m, train_days=train_days, test_days=test_days, origins=origins,
                       area_shares=shares, methods=[m.strip() for m in methods.split(",") if m.strip()],
                       progress=update)
    if format == "json":
        emit_json(out)
        return
    from rich.table import Table

    table = Table(title=f"{len(out['origins'])} origins x {test_days:g} days, {out['test_events']} test events, "
                        f"top {out['area_share']:.0%} of {out['study_cells']} cells")
    for col in ("method", "hit rate", "PAI", "PAI / KDE"):
        table.add_column(col)
    for m in out["methods"]:
        table.add_row(m["method"], f"{m['hit_rate']:.3f}", f"{m['pai']:.2f}",
                      "" if m["pai_vs_kde"] is None else f"{m['pai_vs_kde']:.2f}")
    typer.echo(_render(table))


@app.command("warning")
def warning_cmd(
    input: InputOpt = None,
    crs: CrsOpt = None,
    until: Annotated[str | None, typer.Option("--until", help="end of the recent window (default: now)")] = None,
    cell_m: Annotated[float, typer.Option("--cell-m", help="grid cell size in metres")] = 250.0,
    recent_days: Annotated[int, typer.Option("--recent-days", help="recent window in days")] = 7,
    baseline_weeks: Annotated[int, typer.Option("--baseline-weeks", help="baseline weeks before it")] = 12,
    alpha: Annotated[float, typer.Option(help="Poisson control limit")] = 0.01,
    prior_weeks: Annotated[float, typer.Option("--prior-weeks", help="shrink each hour-of-week rate to the "
                                               "segment mean with this many weeks of weight")] = 4.0,
    segments: Annotated[bool, typer.Option("--segments/--cells", help="per road segment of the city network "
                                           "(default) or per grid cell")] = True,
    as_user: AsUser = None,
    format: FormatOpt = "table",
) -> None:
    """Traffic-accident early warning (交通事故预警): cells whose recent accidents exceed their baseline."""
    import numpy as np

    from precinct.analytics.warning import accident_warning

    if as_user is not None:
        cli_principal(open_db(), as_user, "analytics.read")
    end = _bound(until, "until") or dt.datetime.now(dt.UTC)
    since = (end - dt.timedelta(days=recent_days + 7 * baseline_weeks)).isoformat()
    ev = load_events(input, crs, since=since, until=end.isoformat(), own=as_user is not None)
    graph = None
    if segments:
        from precinct.city.service import current_city

        graph = current_city()
    out = accident_warning(ev, until=np.datetime64(end.astimezone(dt.UTC).replace(tzinfo=None), "s"), cell_m=cell_m,
                           recent_days=recent_days, baseline_weeks=baseline_weeks, alpha=alpha, graph=graph,
                           prior_weeks=prior_weeks)
    if format == "json":
        emit_json(out)
        return
    typer.echo(f"{out['accidents_recent']} accidents in {out['window'][0]} – {out['window'][1]}; "
               f"{len(out['flagged'])} {out['unit']}s flagged ({out['rule']})")
    for c in out["flagged"]:
        typer.echo(f"  #{c['rank']} {c['lat']:.5f},{c['lon']:.5f}: {c['observed']} vs {c['expected']:.2f} "
                   f"expected (p {c['p']:.4f}), peak hours of week {c['peak_hours_of_week']}")


def read_station_areas(path: Path) -> list[dict[str, Any]]:
    """Station areas from a GeoJSON FeatureCollection of Polygons (properties ``id``, ``name_zh``, ``name_en``)."""
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        out = []
        for i, f in enumerate(data["features"]):
            if f["geometry"]["type"] != "Polygon":
                raise BadInput(f"{path}: feature {i}: a station area must be a Polygon",
                               detail={"field": "station_areas"})
            p = f.get("properties") or {}
            out.append({"id": str(p.get("id", i)), "name_zh": str(p.get("name_zh", p.get("id", i))),
                        "name_en": str(p.get("name_en", p.get("id", i))),
                        "points": [[float(lat), float(lon)] for lon, lat, *_ in f["geometry"]["coordinates"][0]]})
        return out
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadInput(f"{path}: not a GeoJSON FeatureCollection of station-area polygons ({exc})",
                       detail={"field": "station_areas"}) from None


@app.command("report")
def report_cmd(
    week: Annotated[str, typer.Option("--week", help="ISO week, e.g. 2026-W48")],
    out: Annotated[Path, typer.Option("--out", help="report.html or report.pdf")],
    input: InputOpt = None,
    crs: CrsOpt = None,
    cell_m: Annotated[float, typer.Option("--cell-m", help="grid cell size in metres")] = 250.0,
    permutations: Annotated[int, typer.Option(help="permutations for Gi* and Knox")] = 99,
    station_areas: Annotated[Path | None, typer.Option(
        "--station-areas", help="station areas (GeoJSON polygons with id, name_zh, name_en); default with "
        "--as: this installation's")] = None,
    as_user: AsUser = None,
) -> None:
    """The weekly analysis report (每周研判报告), HTML, PDF or JSON, zh-CN and English, aggregates only."""
    from precinct.analytics import report

    areas: list[dict[str, Any]] = []
    if as_user is not None:
        db = open_db()
        cli_principal(db, as_user, "analytics.read")
        if station_areas is None:
            from precinct.public.service import station_areas as installed

            with db.session() as s:
                areas = installed(s)
    if station_areas is not None:
        areas = read_station_areas(station_areas)
    start, end = report.parse_week(week)
    since = (start.astype(dt.datetime) - dt.timedelta(days=800)).isoformat() + "+00:00"
    ev = load_events(input, crs, since=since, until=end.astype(dt.datetime).isoformat() + "+00:00",
                     own=as_user is not None)
    ev = ev.select(ev.ts < end)
    with progress_bar(transient=True) as bar:
        bar.add_task(f"weekly report {week}", total=None)
        rep = report.build(ev, week=week, cell_m=cell_m, permutations=permutations, station_areas=areas)
        path = report.write(rep, out)
    typer.echo(str(path))


@app.command("segments")
def segments_cmd(
    input: InputOpt = None,
    crs: CrsOpt = None,
    max_distance_m: Annotated[float, typer.Option("--max-distance-m", help="snap at most this far")] = 50.0,
    since: SinceOpt = None,
    until: UntilOpt = None,
    types: TypesOpt = None,
    as_user: AsUser = None,
    format: FormatOpt = "table",
) -> None:
    """Counts per road segment (路段) of this installation's road network."""
    from precinct.analytics.segments import segment_counts
    from precinct.city.service import current_city

    if as_user is not None:
        cli_principal(open_db(), as_user, "analytics.read")
    ev = load_events(input, crs, since=since, until=until, types=types, own=as_user is not None)
    out = segment_counts(ev, current_city(), max_distance_m=max_distance_m)
    if format == "json":
        emit_json(out)
        return
    typer.echo(f"{out['snapped']} events on {len(out['segments'])} segments, {out['unsnapped']} farther than "
               f"{max_distance_m:g} m from any road")
    for r in out["segments"][:20]:
        typer.echo(f"  edge {r['edge']}: {r['count']} ({r['lat']:.5f}, {r['lon']:.5f})")
