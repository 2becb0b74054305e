"""The ``precinct`` command line. Domain CLIs are discovered (``precinct.<domain>.cli``)."""

from __future__ import annotations

import logging
import sys

import typer

from precinct import __version__
from precinct.core.clikit import err_console
from precinct.domains import domain_modules
from precinct.errors import PrecinctError

app = typer.Typer(
    name="precinct", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="Precinct: police operations centre (情指勤舆督). Every command has --help.",
)


@app.callback()
def _root(version: bool = typer.Option(False, "--version", help="print the version and exit")) -> None:
    if version:
        typer.echo(__version__)
        raise typer.Exit(0)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    workers: int = typer.Option(1, help="API worker processes (use a NATS bus_url with more than one)"),
) -> None:
    """Run the API and dashboard server on the configured stores (no simulation)."""
    import uvicorn

    from precinct.config import get_settings
    from precinct.core.db import Database
    from precinct.core.identity import refuse_demo_accounts_in_production

    settings = get_settings()
    if settings.environment == "production":  # a clear refusal before any worker starts
        db = Database.from_settings(settings)
        try:
            db.migrate()
            refuse_demo_accounts_in_production(db, settings)
        finally:
            db.dispose()
    if workers > 1 and not settings.bus_url:
        err_console.print(f"[yellow]warning[/yellow]: {workers} workers without PRECINCT_BUS_URL: live events "
                          "reach only the clients of the worker that produced them (set a NATS URL)")
    uvicorn.run("precinct.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="info")


for _module in domain_modules("cli"):
    _sub = getattr(_module, "app", None)
    if isinstance(_sub, typer.Typer):
        app.add_typer(_sub, name=getattr(_module, "CLI_NAME", _module.__name__.split(".")[1]))
    _register = getattr(_module, "register", None)
    if _register is not None:
        _register(app)


def main() -> None:
    """Entry point: run the CLI and map Precinct errors to their exit codes, once."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        rc = app(standalone_mode=False)
    except PrecinctError as exc:
        err_console.print(f"[red]error[/red] ({exc.code}): {exc.message}")
        if exc.detail is not None:
            err_console.print(f"  detail: {exc.detail}")
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except Exception as exc:
        # usage errors from the (vendored) click carry their own message and exit code
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            sys.exit(code)
        raise
    sys.exit(rc if isinstance(rc, int) else 0)
