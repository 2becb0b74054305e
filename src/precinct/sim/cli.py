"""``precinct sim generate`` (batch data sets) and ``precinct demo`` (the live demo)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from precinct.core.clikit import emit_json, err_console, progress_bar
from precinct.errors import BadInput

CLI_NAME = "sim"
app = typer.Typer(help="The living city: scenario data sets with known answers.", no_args_is_help=True)


@app.command("generate")
def generate_cmd(
    days: int = typer.Option(7, "--days", min=1, help="days to simulate"),
    out: Path = typer.Option(..., "--out", help="output directory"),
    seed: int = typer.Option(1, "--seed", help="scenario seed (same seed, same bytes)"),
    reads_per_day: int = typer.Option(
        200_000, "--reads-per-day", min=100, help="background plate/tag reads on a weekday"
    ),
    calls_per_day: float = typer.Option(400.0, "--calls-per-day", min=1, help="110 events a day"),
    csv: bool = typer.Option(False, "--csv", help="also write reads.csv"),
    start: str = typer.Option("2026-03-02", "--start", help="first day (local date, UTC+8)"),
    osm: Path | None = typer.Option(None, "--osm", help="run on a real map (.osm.pbf) instead of the synthetic city"),
    cameras: int | None = typer.Option(
        None, "--cameras", min=10, help="checkpoint cameras (default 120; 4200 for a county: a 36 km city)"
    ),
    size_km: float | None = typer.Option(
        None, "--size-km", min=2, help="side of the synthetic city in km (default: sized for --cameras)"
    ),
    by_day: bool = typer.Option(
        False, "--by-day", help="write reads/<date>.parquet, one file per day, with a checkpoint after each"
    ),
    resume: bool = typer.Option(
        False, "--resume", help="continue an interrupted --by-day run in --out (same bytes as one run)"
    ),
    near_repeat_share: float | None = typer.Option(
        None, "--near-repeat-share", min=0.0, max=1.0,
        help="share of burglaries followed by planted near-repeats within 200 m and 14 days (default 0.35; 0: none)",
    ),
    json_out: bool = typer.Option(False, "--json", help="print the summary as JSON"),
) -> None:
    """Write reads, calls, cases, watchlist, links, cameras and truth.json into a directory.

    For a county-year (about a billion reads) use --by-day (implied by --resume): one Parquet file
    per day and a manifest, so that an interrupted run continues with the same command plus --resume.
    """
    import time

    from precinct.sim.generate import DEFAULT_START, county_size, default_city, generate

    try:
        day0 = dt.date.fromisoformat(start)
    except ValueError:
        raise BadInput(f"--start must be a date like 2026-03-02, got {start!r}", detail={"field": "start"}) from None
    start_dt = DEFAULT_START.replace(year=day0.year, month=day0.month, day=day0.day)
    geo_size = None
    size = 15.0
    if cameras is not None:
        size, geo_size = county_size(cameras)
    city = default_city(seed, osm, size_km=size_km or size)
    with progress_bar() as bar:
        task = bar.add_task("preparing", total=days)
        first: list[tuple[float, int]] = []

        def report(stage: str, done: int, total: int) -> None:
            if stage == "writing reads" and first:
                bar.update(task, completed=done, total=total)  # keep the reads count and rate
            else:
                bar.update(task, description=stage, completed=done, total=total)

        def rows(n: int) -> None:
            now = time.perf_counter()
            if not first:
                first.append((now, n))
            t0, n0 = first[0]
            rate = (n - n0) / (now - t0) if now > t0 else 0.0
            bar.update(task, description=f"writing reads: {n:,} ({rate:,.0f}/s)")

        truth = generate(
            out,
            days=days,
            seed=seed,
            reads_per_day=reads_per_day,
            calls_per_day=calls_per_day,
            csv=csv,
            city=city,
            start=start_dt,
            progress=report,
            geo_size=geo_size,
            by_day=by_day,
            resume=resume,
            on_rows=rows,
            near_repeat_share=near_repeat_share,
        )
    summary = {"out": str(out), **truth["counts"], "stories": sorted(truth["stories"])}
    if json_out:
        emit_json(summary)
    else:
        c = truth["counts"]
        err_console.print(
            f"wrote {c['reads']:,} reads, {c['calls']:,} calls, {c['cases']:,} cases "
            f"to {out} (stories: {', '.join(summary['stories'])})"
        )


def demo(
    port: int = typer.Option(8000, "--port", help="port to listen on"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    speed: float = typer.Option(30.0, "--speed", min=0.1, help="simulated seconds per real second"),
    seed: int = typer.Option(1, "--seed", help="scenario seed"),
    osm: Path | None = typer.Option(None, "--osm", help="real map (.osm.pbf) instead of the synthetic city"),
    reads_per_day: int = typer.Option(60_000, "--reads-per-day", min=100, help="simulated plate reads a day"),
    calls_per_day: float = typer.Option(400.0, "--calls-per-day", min=1, help="simulated 110 calls a day"),
    no_sim: bool = typer.Option(False, "--no-sim", help="serve only; do not drive the simulation"),
) -> None:
    """Start the operations centre with a simulated city feeding it live (embedded defaults)."""
    from precinct.sim.demo import run_demo

    run_demo(
        port=port,
        host=host,
        speed=speed,
        seed=seed,
        osm=osm,
        reads_per_day=reads_per_day,
        calls_per_day=calls_per_day,
        no_sim=no_sim,
    )


def register(root: typer.Typer) -> None:
    """Add the top-level ``precinct demo`` command."""
    root.command("demo")(demo)
