"""The analytics API: roles from the policy table, aggregates only, on Precinct's own incidents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def incidents(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Located incidents as the command domain's incident_records hands them out."""
    import precinct.command.service as command

    rng = np.random.default_rng(0)
    now = dt.datetime.now(dt.UTC)
    recs = [{"id": f"INC{i}", "ts": now - dt.timedelta(days=float(rng.uniform(1, 60))), "type": "burglary",
             "priority": "yellow", "lat": 39.90 + float(rng.normal(0, 0.01)),
             "lon": 116.40 + float(rng.normal(0, 0.01)), "status": "closed", "closed_at": None, "arrived_at": None}
            for i in range(200)]

    def fake(session: Any, *, since: Any = None, until: Any = None, types: Any = None,
             include_merged: bool = False) -> list[dict[str, Any]]:
        return [r for r in recs if (since is None or r["ts"] >= since) and (until is None or r["ts"] < until)]

    monkeypatch.setattr(command, "incident_records", fake)
    return recs


def test_hotspots_and_knox_for_analysts(client: TestClient, auth_headers: Callable[..., dict[str, str]],
                                        incidents: list[dict[str, Any]]) -> None:
    h = auth_headers("analyst")
    r = client.get("/api/v1/analytics/hotspots", params={"cell_m": 500, "permutations": 99}, headers=h)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["crs"] == "EPSG:32650" and sum(c["count"] for c in out["cells"]) == 200
    assert all("INC" not in str(v) for c in out["cells"] for v in c.values())  # no incident ids leave
    assert 39.8 < out["cells"][0]["lat"] < 40.0
    r = client.get("/api/v1/analytics/knox", params={"permutations": 19}, headers=h)
    assert r.status_code == 200, r.text
    assert len(r.json()["bands"]) == 12


def test_roles_outside_the_policy_are_refused(client: TestClient, auth_headers: Callable[..., dict[str, str]],
                                              incidents: list[dict[str, Any]]) -> None:
    r = client.get("/api/v1/analytics/hotspots", headers=auth_headers("patrol"))
    assert r.status_code == 403
    r = client.get("/api/v1/analytics/hotspots", params={"since": "2026-01-01T00:00:00"},
                   headers=auth_headers("supervisor"))
    assert r.status_code == 422 and "timezone" in r.text


def test_cli_on_own_incidents_checks_the_role(db: object, incidents: list[dict[str, Any]]) -> None:
    import json

    from typer.testing import CliRunner

    from conftest import make_user
    from precinct.analytics.cli import app

    runner = CliRunner()
    analyst = make_user(db, "analyst")  # type: ignore[arg-type]
    r = runner.invoke(app, ["hotspots", "--as", analyst, "--cell-m", "500", "--permutations", "19",
                            "--format", "json"])
    assert r.exit_code == 0, r.output
    assert sum(c["count"] for c in json.loads(r.stdout)["cells"]) == 200
    patrol = make_user(db, "patrol")  # type: ignore[arg-type]
    r = runner.invoke(app, ["hotspots", "--as", patrol, "--format", "json"])
    assert r.exit_code != 0 and "may not use this command" in str(r.exception)


def test_weekly_report_and_warning_routes(client: TestClient, auth_headers: Callable[..., dict[str, str]],
                                          incidents: list[dict[str, Any]]) -> None:
    h = auth_headers("supervisor")
    now = dt.datetime.now(dt.UTC)
    year, week, _ = (now - dt.timedelta(days=7)).isocalendar()
    r = client.get("/api/v1/analytics/report", params={"week": f"{year}-W{week:02d}"}, headers=h)
    assert r.status_code == 200, r.text
    import re

    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", r.text)  # charts: base64 may spell anything
    assert "每周研判报告" in text and "INC" not in text.replace("INCIDENT", "")
    r = client.get("/api/v1/analytics/warning", params={"segments": "false"}, headers=h)
    assert r.status_code == 422 and "no traffic accidents" in r.text  # the fixture has burglaries only
