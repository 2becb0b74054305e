"""``precinct demo``: the server on embedded defaults with the living city driving it."""

from __future__ import annotations

from pathlib import Path

import typer


def demo(
    port: int = typer.Option(8000, "--port", help="port to listen on"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    speed: float = typer.Option(30.0, "--speed", min=0.1, help="simulated seconds per real second"),
    seed: int = typer.Option(1, "--seed", help="scenario seed"),
    osm: Path | None = typer.Option(
        None, "--osm", help="a real map (.osm.pbf) instead of the synthetic city"
    ),
) -> None:
    """Start the operations centre with a simulated city feeding it live."""
    raise NotImplementedError
