"""``precinct city``: build and inspect the road graph; ``precinct route``: one route.

Heavy modules (numba kernels, scipy, osmium) are imported inside the commands, so that
``precinct --help`` and other domains' commands do not pay for them.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from precinct.city import service
from precinct.core.clikit import FormatOpt, emit_json, err_console
from precinct.errors import BadInput

app = typer.Typer(help="City model: build the road graph (OSM or synthetic), look up streets.",
                  no_args_is_help=True)


def _parse_latlon(text: str, what: str) -> tuple[float, float]:
    parts = [p.strip() for p in text.replace(" ", ",").split(",") if p.strip()]
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError as exc:
        raise BadInput(f"--{what} must be LAT,LON (e.g. 32.49,119.92), got {text!r}",
                       detail={"field": what}) from exc
    return lat, lon


def _check_format(fmt: str) -> None:
    if fmt not in ("table", "json"):
        raise BadInput(f"--format must be table or json, got {fmt!r}", detail={"field": "format"})


@app.command("build")
def build(
    osm: Path | None = typer.Option(None, "--osm", help="OpenStreetMap .osm.pbf extract"),
    synthetic: bool = typer.Option(False, "--synthetic", help="generate a synthetic city"),
    size_km: float = typer.Option(service.DEFAULT_SIZE_KM, "--size-km",
                                  help="synthetic city side (km)"),
    seed: int = typer.Option(service.DEFAULT_SEED, "--seed", help="synthetic city seed"),
    force: bool = typer.Option(False, "--force", help="rebuild even if the cache is current"),
    hours: str = typer.Option("", "--hours",
                              help="also prepare fast queries for these congested hours, "
                                   "e.g. 8,18 (each costs as much as the free-flow one)"),
    fmt: FormatOpt = "table",
) -> None:
    """Build the road graph and cache it under <data_dir>/city (skipped if already current)."""
    _check_format(fmt)
    if (osm is None) == (not synthetic):
        raise BadInput("give exactly one of --osm FILE or --synthetic")
    try:
        hour_list = sorted({int(h) for h in hours.split(",") if h.strip()})
    except ValueError as exc:
        raise BadInput(f"--hours must be hours 0-23 separated by commas, got {hours!r}",
                       detail={"field": "hours"}) from exc
    if any(not 0 <= h <= 23 for h in hour_list):
        raise BadInput(f"--hours must be hours 0-23, got {hours!r}", detail={"field": "hours"})
    if osm is not None:
        from precinct.city.osm import file_digest

        if not osm.is_file():
            raise BadInput(f"no such OpenStreetMap file: {osm}", detail={"field": "osm"})
        want: dict[str, object] = {"source": "osm", "file": osm.name, "sha256": file_digest(osm)}
    else:
        want = {"source": "synthetic", "size_km": float(size_km), "seed": int(seed)}
    want["hours"] = hour_list
    have = service.read_meta()
    if not force and have is not None and all(have.get(k) == v for k, v in want.items()):
        summary = {**have, "path": str(service.graph_path()), "rebuilt": False}
        _report(summary, fmt, "road graph is current; not rebuilt (use --force to rebuild)")
        return
    from precinct.city.road import RoadGraph

    t0 = time.perf_counter()
    with err_console.status("building road graph ..."):
        graph = (RoadGraph.from_osm(osm) if osm is not None
                 else RoadGraph.synthetic(size_km=size_km, seed=seed))
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with err_console.status("contraction hierarchy for fast one-to-many queries ..."):
        graph.prepare(hours=hour_list)
    prepare_s = time.perf_counter() - t0
    meta = {**want, "nodes": graph.n_nodes, "edges": graph.n_edges, "build_s": round(build_s, 3),
            "prepare_s": round(prepare_s, 3)}
    path = service.store(graph, meta)
    _report({**meta, "path": str(path), "rebuilt": True}, fmt,
            f"built {graph.n_nodes:,} nodes, {graph.n_edges:,} directed edges "
            f"in {build_s:.2f} s (+{prepare_s:.2f} s hierarchy)")


def _report(summary: dict[str, object], fmt: str, line: str) -> None:
    if fmt == "json":
        emit_json(summary)
    else:
        typer.echo(line)
        typer.echo(f"cached at {summary['path']}")


@app.command("info")
def info(fmt: FormatOpt = "table") -> None:
    """Describe the city in use (building the default synthetic city if none is cached)."""
    _check_format(fmt)
    g = service.current_city()
    data = {"nodes": g.n_nodes, "edges": g.n_edges, "bbox": list(g.bbox), "meta": g.meta,
            "path": str(service.graph_path())}
    if fmt == "json":
        emit_json(data)
    else:
        for k, v in data.items():
            typer.echo(f"{k}: {v}")


@app.command("geocode")
def geocode(text: str = typer.Argument(..., help="street or junction, e.g. 人民路与泰州大道交叉口"),
            limit: int = typer.Option(5, "--limit", min=1, max=50),
            fmt: FormatOpt = "table") -> None:
    """Find a street or junction of the current city by name (fuzzy)."""
    _check_format(fmt)
    found = service.current_city().geocode(text, limit=limit)
    if fmt == "json":
        emit_json([{"lat": c.lat, "lon": c.lon, "label": c.label, "score": round(c.score, 1)}
                   for c in found])
        return
    if not found:
        typer.echo("no match")
    for c in found:
        typer.echo(f"{c.score:5.1f}  {c.lat:.6f},{c.lon:.6f}  {c.label}")


def route(
    from_: str = typer.Option(..., "--from", help="start as LAT,LON"),
    to: str = typer.Option(..., "--to", help="destination as LAT,LON"),
    metric: str = typer.Option("time", "--metric", help="time (fastest) or length (shortest)"),
    hour: int | None = typer.Option(None, "--hour", min=0, max=23,
                                    help="hour of day for congestion (default free flow)"),
    fmt: FormatOpt = "json",
) -> None:
    """Driving route between two points on the current city's roads."""
    _check_format(fmt)
    r = service.current_city().route(_parse_latlon(from_, "from"), _parse_latlon(to, "to"),
                                     metric=metric, hour=hour)
    if fmt == "json":
        emit_json(r.to_dict())
    else:
        typer.echo(f"{r.length_m / 1000:.2f} km, {r.time_s / 60:.1f} min, {len(r.path)} points")


def register(root: typer.Typer) -> None:
    """Add the top-level ``precinct route`` command."""
    root.command("route")(route)
