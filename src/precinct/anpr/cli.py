"""``precinct anpr``: import reads, hotlists, cameras, and the investigative queries.

Every command that reads plates, tags, trajectories or person links needs ``--as USER``,
``--case`` and ``--purpose`` and is audited; imports are audited as collections (one record per
import).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from precinct.anpr.cli_common import (  # lazily imported modules
    cli_grant,
    cli_principal,
    investigate,
    normalize,
    queries,
    service,
    store,
)
from precinct.anpr.cli_common import out as _out
from precinct.anpr.cli_lists import cameras_app, hotlist_app, links_app
from precinct.config import get_settings
from precinct.core.clikit import (
    AsUser,
    CaseId,
    FormatOpt,
    PurposeOpt,
    err_console,
    open_db,
)
from precinct.errors import BadInput

if TYPE_CHECKING:
    from precinct.anpr.queries import QueryEngine
    from precinct.core.access import AccessGrant
    from precinct.core.db import Database

app = typer.Typer(
    help="Plate/tag read intelligence (情): ingest, hotlists, association, trajectories.",
    no_args_is_help=True,
)
app.add_typer(hotlist_app, name="hotlist")
app.add_typer(cameras_app, name="cameras")
app.add_typer(links_app, name="links")


Start = Annotated[str, typer.Option("--start", help="window start, ISO 8601 with offset")]
End = Annotated[str, typer.Option("--end", help="window end, ISO 8601 with offset")]
EngineOpt = Annotated[
    str, typer.Option("--engine", help="duckdb (embedded) or spark (over the Parquet export)")
]


def _engine(name: str, settings: Any) -> QueryEngine:
    if name == "duckdb" and not settings.spark:
        return queries.DuckEngine(service.warehouse(settings))
    if name in ("spark", "duckdb"):
        from precinct.core.warehouse import SparkEngine

        root = Path(settings.data_dir) / "warehouse" / "parquet"
        if not (root / "anpr_reads").exists():
            raise BadInput(
                "no Parquet export for Spark: run `precinct anpr export` first",
                detail={"field": "engine", "path": str(root)},
            )
        for table in ("anpr_reads", "anpr_links"):
            if (root / table).exists() and next((root / table).rglob("*.parquet"), None) is None:
                raise BadInput(  # an export from before empty tables kept their schema
                    f"the Parquet export {root / table} holds no file: run `precinct anpr export` again",
                    detail={"field": "engine", "path": str(root / table)},
                )
        spark = SparkEngine(settings.spark_master)  # PRECINCT_SPARK_MASTER: local[N] or spark://host:port
        spark.register_parquet("anpr_reads", root / "anpr_reads")
        if (root / "anpr_links").exists():
            spark.register_parquet("anpr_links", root / "anpr_links")
        return queries.SparkQueryEngine(spark)
    raise BadInput("engine must be duckdb or spark", detail={"field": "engine"})


def _grant(
    db: Database, as_user: str | None, action: str, case: str | None, purpose: str | None
) -> AccessGrant:
    return cli_grant(db, as_user, action, case_id=case, purpose=purpose)


# --- ingest ------------------------------------------------------------------------------------


@app.command("import")
def import_reads(
    path: Annotated[
        Path, typer.Argument(help="reads file (.csv or .parquet, DESIGN.md reads format)")
    ],
    as_user: AsUser = None,
    chunk_rows: Annotated[
        int, typer.Option(help="rows validated and inserted at a time")
    ] = 1_000_000,
    alerts: Annotated[
        bool, typer.Option("--alerts/--no-alerts", help="record hotlist hits as alerts")
    ] = True,
    format: FormatOpt = "table",
) -> None:
    """Import reads: normalise, validate, deduplicate; all-or-nothing; prints stored/duplicate/rejected."""
    settings = get_settings()
    db = open_db()
    principal = cli_principal(db, as_user, "anpr.reads")
    wh = service.warehouse(settings)
    result = service.ingest(
        db=db,
        wh=wh,
        source=service.file_source(path, chunk_rows=chunk_rows),
        actor=principal.username,
        role=principal.role.value,
        origin=str(path),
        raise_alerts=alerts,
    )
    wh.checkpoint()
    unit = "row" if path.suffix.lower() in (".parquet", ".pq") else "line"
    rate = (result.stored + result.duplicates + result.rejected) / max(result.seconds, 1e-9)
    lines = [
        f"stored {result.stored}, duplicate {result.duplicates}, rejected {result.rejected} "
        f"({rate:,.0f} rows/s, batch {result.batch}, alerts {len(result.alerts)})"
    ]
    lines += [f"  {unit} {r.line}: {r.field}: {r.reason}" for r in result.rejects[:50]]
    if result.rejected > 50:
        lines.append(f"  ... and {result.rejected - 50} more (use --format json)")
    _out(result.as_dict(unit) | {"seconds": round(result.seconds, 3)}, format, lines)


@app.command("compact")
def compact(as_user: AsUser = None) -> None:
    """Re-sort stored reads by (day, plate) so time windows and plate lookups prune well
    (run after live ingest, e.g. nightly: one day per transaction)."""
    from precinct.core.clikit import progress_bar

    db = open_db()
    cli_principal(db, as_user, "anpr.admin")
    from precinct.anpr import presence

    wh = service.warehouse(get_settings())
    with progress_bar(transient=True) as bar:
        by_plate = bar.add_task("reads by plate, day by day", total=None)
        by_time = bar.add_task("time-ordered copy, day by day", total=None)
        n = store.compact(wh, progress=lambda done, days, _n: bar.update(by_plate, completed=done, total=days))
        presence.compact(wh, progress=lambda done, days, _n: bar.update(by_time, completed=done, total=days))
    typer.echo(f"compacted {n} reads")


@app.command("export")
def export(
    out: Annotated[
        Path | None, typer.Argument(help="directory (default <data_dir>/warehouse/parquet)")
    ] = None,
    as_user: AsUser = None,
) -> None:
    """Export reads and links as day-partitioned Parquet (for Spark, --engine spark; an empty table
    is written as one schema-only file). On a cluster, export to storage every executor can read."""
    settings = get_settings()
    db = open_db()
    cli_principal(db, as_user, "anpr.export")
    root = out or Path(settings.data_dir) / "warehouse" / "parquet"
    wh = service.warehouse(settings)
    wh.export_parquet("anpr_reads", root / "anpr_reads")
    wh.export_parquet("anpr_links", root / "anpr_links")
    typer.echo(f"exported to {root}")


# --- queries -----------------------------------------------------------------------------------


def _read_plates(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if "plate" not in (reader.fieldnames or []):
            raise BadInput(
                f"{path}: wrong columns: missing plate", detail={"line": 1, "field": "plate"}
            )
        return [p for p in (normalize.normalize_plate(r.get("plate") or "") for r in reader) if p]


@app.command("associate")
def associate(
    lat: Annotated[float, typer.Option("--lat")],
    lon: Annotated[float, typer.Option("--lon")],
    radius_km: Annotated[float, typer.Option("--radius-km")],
    start: Start,
    end: End,
    watchlist: Annotated[
        Path | None, typer.Option("--watchlist", help="CSV with a plate column")
    ] = None,
    only_watchlist: Annotated[bool, typer.Option("--only-watchlist")] = False,
    lookback_days: Annotated[int, typer.Option(help="history used for rarity (0 = off)")] = 14,
    limit: Annotated[int | None, typer.Option(help="at most this many candidates")] = None,
    case: CaseId = None,
    purpose: PurposeOpt = None,
    as_user: AsUser = None,
    engine: EngineOpt = "duckdb",
    format: FormatOpt = "table",
) -> None:
    """Vehicle–case association (车案关联): vehicles read near a scene in its window, ranked."""
    settings = get_settings()
    db = open_db()
    grant = _grant(db, as_user, "anpr.associate", case, purpose)
    result = investigate.associate(
        grant,
        _engine(engine, settings),
        lat=lat,
        lon=lon,
        radius_km=radius_km,
        start=start,
        end=end,
        watchlist=_read_plates(watchlist) if watchlist else [],
        only_watchlist=only_watchlist,
        lookback_days=lookback_days,
        limit=limit,
    )
    _out(
        result,
        format,
        [f"{len(result['candidates'])} vehicles (scanned {result['scanned_reads']} reads)"]
        + [
            f"{'*' if c['on_watchlist'] else ' '} {c['plate']:<14} reads {c['reads']:>4}  "
            f"{c['first_seen']} .. {c['last_seen']}  {c['min_distance_km']:.3f} km  score {c['score']:.3f}"
            for c in result["candidates"][:100]
        ],
    )


@app.command("series")
def series(
    cases: Annotated[
        Path, typer.Option("--cases", help="cases.csv: case_id, lat, lon, start, end, radius_km")
    ],
    min_cases: Annotated[int, typer.Option("--min-cases")] = 2,
    radius_km: Annotated[float, typer.Option(help="radius where cases.csv gives none")] = 2.0,
    case: CaseId = None,
    purpose: PurposeOpt = None,
    as_user: AsUser = None,
    engine: EngineOpt = "duckdb",
    format: FormatOpt = "table",
) -> None:
    """Series: vehicles read near at least K of the scenes, each in its own window."""
    settings = get_settings()
    db = open_db()
    grant = _grant(db, as_user, "anpr.series", case, purpose)
    with open(cases, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    result = investigate.series(
        grant, _engine(engine, settings), cases=rows, min_cases=min_cases, radius_km=radius_km
    )
    _out(
        result,
        format,
        [
            f"{c['plate']:<14} {c['n_cases']} cases: {', '.join(c['cases'])}"
            for c in result["candidates"]
        ],
    )


@app.command("trajectory")
def trajectory(
    plate: Annotated[str, typer.Argument()],
    start: Start,
    end: End,
    paths: Annotated[
        bool, typer.Option("--paths/--no-paths", help="infer road paths between reads")
    ] = True,
    case: CaseId = None,
    purpose: PurposeOpt = None,
    as_user: AsUser = None,
    engine: EngineOpt = "duckdb",
    format: FormatOpt = "table",
) -> None:
    """A vehicle's reads in order, likely road path, last seen and likely next cameras."""
    settings = get_settings()
    db = open_db()
    grant = _grant(db, as_user, "anpr.trajectory", case, purpose)
    city = _city(settings) if paths else None
    result = investigate.trajectory(
        grant,
        _engine(engine, settings),
        plate=plate,
        start=start,
        end=end,
        paths=paths,
        city=city,
        cameras=service.cameras(db) if city is not None else None,
    )
    _out(
        result,
        format,
        [
            f"{r['ts']}  {r['lat']:.5f},{r['lon']:.5f}  {r['camera_id'] or ''}"
            for r in result["reads"]
        ]
        + [f"last seen: {result['last_seen']}", f"likely next: {result['likely_next']}"],
    )


def _city(settings: Any) -> Any:
    try:
        from precinct.city.service import current_city

        return current_city(settings)
    except Exception as exc:  # paths are a bonus; the reads still answer
        err_console.print(f"[yellow]no road graph ({exc}); paths not inferred[/yellow]")
        return None


@app.command("convoy")
def convoy(
    plate: Annotated[str, typer.Argument()],
    start: Start,
    end: End,
    max_gap_s: Annotated[
        float, typer.Option(help="seconds either side of the target's read")
    ] = 60.0,
    min_cameras: Annotated[int, typer.Option(help="distinct cameras shared with the target")] = 3,
    case: CaseId = None,
    purpose: PurposeOpt = None,
    as_user: AsUser = None,
    engine: EngineOpt = "duckdb",
    format: FormatOpt = "table",
) -> None:
    """Convoy: vehicles repeatedly read with the target within a short interval at several cameras."""
    settings = get_settings()
    db = open_db()
    grant = _grant(db, as_user, "anpr.convoy", case, purpose)
    result = investigate.convoy(
        grant,
        _engine(engine, settings),
        plate=plate,
        start=start,
        end=end,
        max_gap_s=max_gap_s,
        min_cameras=min_cameras,
    )
    _out(
        result,
        format,
        [
            f"{c['plate']:<14} {c['cameras']} cameras, {c['co_reads']} co-reads"
            for c in result["candidates"]
        ],
    )


@app.command("cloned")
def cloned(
    start: Start,
    end: End,
    plate: Annotated[str | None, typer.Option(help="only this plate")] = None,
    max_speed_kmh: Annotated[float, typer.Option(help="faster than this is impossible")] = 250.0,
    min_distance_km: Annotated[float, typer.Option(help="ignore pairs closer than this")] = 1.0,
    case: CaseId = None,
    purpose: PurposeOpt = None,
    as_user: AsUser = None,
    engine: EngineOpt = "duckdb",
    format: FormatOpt = "table",
) -> None:
    """Cloned plates: the same plate at two places too far apart for the time between them."""
    settings = get_settings()
    db = open_db()
    grant = _grant(db, as_user, "anpr.cloned", case, purpose)
    result = investigate.cloned(
        grant,
        _engine(engine, settings),
        start=start,
        end=end,
        plate=plate,
        max_speed_kmh=max_speed_kmh,
        min_distance_km=min_distance_km,
    )
    _out(
        result,
        format,
        [
            f"{c['plate']:<14} {c['impossible_pairs']} impossible pairs"
            for c in result["candidates"]
        ],
    )


@app.command("person-vehicles")
def person_vehicles(
    min_vehicles: Annotated[int, typer.Option("--min-vehicles")] = 5,
    days: Annotated[float, typer.Option("--days")] = 9.0,
    start: Annotated[str | None, typer.Option("--start")] = None,
    end: Annotated[str | None, typer.Option("--end")] = None,
    case: CaseId = None,
    purpose: PurposeOpt = None,
    as_user: AsUser = None,
    engine: EngineOpt = "duckdb",
    format: FormatOpt = "table",
) -> None:
    """One person, many vehicles: people linked to at least N distinct vehicles within D days."""
    settings = get_settings()
    db = open_db()
    grant = _grant(db, as_user, "anpr.person_links", case, purpose)
    result = investigate.person_vehicles(
        grant, _engine(engine, settings), min_vehicles=min_vehicles, days=days, start=start, end=end
    )
    _out(
        result,
        format,
        [
            f"{p['person_id']:<16} {p['vehicles']} vehicles from {p['window_start']}: "
            f"{', '.join(p['plates'])}"
            for p in result["people"]
        ],
    )


def register(root: typer.Typer) -> None:
    """Mount ``precinct warehouse`` (the analytics warehouse's schema version and upgrades)."""
    from precinct.anpr.warehouse_cli import app as warehouse_app

    root.add_typer(warehouse_app, name="warehouse")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
