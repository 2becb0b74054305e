"""What the ``precinct anpr`` command modules share: lazily imported modules (DuckDB, PyArrow and
SQLAlchemy cost seconds to import; ``precinct --help`` must not pay for them) and output."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import typer

from precinct.core.clikit import emit_json


class LazyModule:
    """A module imported on first attribute use (DuckDB, PyArrow and SQLAlchemy cost seconds to
    import; `precinct --help` must not pay for them)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


if TYPE_CHECKING:
    from precinct.anpr import investigate, normalize, queries, service, store
    from precinct.core.access import cli_grant, cli_principal
else:
    investigate = LazyModule("precinct.anpr.investigate")
    normalize = LazyModule("precinct.anpr.normalize")
    queries = LazyModule("precinct.anpr.queries")
    service = LazyModule("precinct.anpr.service")
    store = LazyModule("precinct.anpr.store")
    _access = LazyModule("precinct.core.access")

    def cli_grant(*args: Any, **kwargs: Any) -> Any:
        return _access.cli_grant(*args, **kwargs)

    def cli_principal(*args: Any, **kwargs: Any) -> Any:
        return _access.cli_principal(*args, **kwargs)


def out(payload: dict[str, Any], fmt: str, table_rows: list[str]) -> None:
    """Print ``payload`` as JSON (``--format json``) or the human-readable ``table_rows``."""
    if fmt == "json":
        emit_json(payload)
    else:
        for line in table_rows:
            typer.echo(line)
