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
    json_out: bool = typer.Option(False, "--json", help="print the summary as JSON"),
) -> None:
    """Write reads, calls, cases, watchlist, links, cameras and truth.json into a directory."""
    from precinct.sim.generate import DEFAULT_START, default_city, generate

    try:
        day0 = dt.date.fromisoformat(start)
    except ValueError:
        raise BadInput(f"--start must be a date like 2026-03-02, got {start!r}", detail={"field": "start"}) from None
    start_dt = DEFAULT_START.replace(year=day0.year, month=day0.month, day=day0.day)
    city = default_city(seed, osm)
    with progress_bar() as bar:
        task = bar.add_task("preparing", total=days)

        def report(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

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
