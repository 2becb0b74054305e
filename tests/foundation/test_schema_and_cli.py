"""Migrations agree with the models on both engines; every CLI command has --help; errors are clean."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from precinct.cli import app as cli_app
from precinct.core.db import Base, Database
from precinct.domains import import_models


def test_migrations_match_models(any_db: Database) -> None:
    import_models()
    with any_db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, Base.metadata)
    diff = [d for d in diff if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == "alembic_version")]
    assert diff == [], f"models and migrations disagree: {diff}"


def test_sqlite_pragmas(db: Database) -> None:
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def _commands(group: Any, prefix: list[str]) -> list[list[str]]:
    out = []
    for name, cmd in group.commands.items():
        out.append([*prefix, name])
        if hasattr(cmd, "commands"):
            out.extend(_commands(cmd, [*prefix, name]))
    return out


def test_every_command_has_help() -> None:
    root = typer.main.get_command(cli_app)
    commands = _commands(root, [])
    assert ["users", "create"] in commands and ["audit", "verify"] in commands
    runner = CliRunner()
    for path in commands:
        result = runner.invoke(cli_app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output


def test_malformed_json_is_a_clean_422(client: TestClient, auth_headers) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/users", headers={**auth_headers("admin"), "Content-Type": "application/json"},
                    content=b"{not json")
    assert r.status_code == 422
    assert set(r.json()) == {"error", "message", "detail"}


def test_unexpected_errors_leak_no_trace(app: FastAPI) -> None:
    @app.get("/api/v1/boom-for-test", dependencies=[])
    def _boom() -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/v1/boom-for-test")
    assert r.status_code == 500
    assert r.json() == {"error": "internal_error", "message": "internal server error", "detail": None}
    assert "Traceback" not in r.text and "secret" not in r.text


def test_metrics_exposed(client: TestClient) -> None:
    client.get("/api/v1/health")
    r = client.get("/metrics")
    assert r.status_code == 200 and "precinct_http_requests_total" in r.text


@pytest.mark.parametrize("path", ["/openapi.json"])
def test_openapi_complete(client: TestClient, path: str) -> None:
    spec = client.get(path).json()
    assert spec["info"]["title"] == "Precinct"
    assert "OAuth2PasswordBearer" in spec["components"]["securitySchemes"]
    for p, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("summary") or op.get("description"), f"{method} {p} undocumented"
