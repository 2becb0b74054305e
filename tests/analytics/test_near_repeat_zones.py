"""GET /api/v1/analytics/near-repeat-zones: a zone around each recent burglary while the Knox table says
risk is raised, and none when there is no near-repeat pattern."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _records(near_repeat: bool, seed: int) -> list[dict[str, Any]]:
    """A year of burglaries over ~6 km around Beijing; with ``near_repeat``, each parent has two
    followers within ~100 m and 5 days."""
    rng = np.random.default_rng(seed)
    out: list[dict[str, Any]] = []
    for i in range(400):
        lat, lon = 39.90 + rng.uniform(-0.03, 0.03), 116.40 + rng.uniform(-0.035, 0.035)
        ts = NOW - dt.timedelta(days=float(rng.uniform(0, 360)))
        out.append({"id": f"INC{i}", "ts": ts, "lat": lat, "lon": lon})
        if near_repeat:
            for k in range(2):
                later = ts + dt.timedelta(days=float(rng.uniform(0.2, 5)))
                if later < NOW:
                    out.append({"id": f"INC{i}-{k}", "ts": later, "lat": lat + rng.normal(0, 0.0005),
                                "lon": lon + rng.normal(0, 0.0006)})
    return [{**r, "type": "burglary", "priority": "yellow", "status": "closed", "closed_at": None,
             "arrived_at": None} for r in out]


def _serve(monkeypatch: pytest.MonkeyPatch, recs: list[dict[str, Any]]) -> None:
    import precinct.command.service as command

    def fake(session: Any, *, since: Any = None, until: Any = None, types: Any = None,
             include_merged: bool = False) -> list[dict[str, Any]]:
        return [r for r in recs if (since is None or r["ts"] >= since) and (until is None or r["ts"] < until)
                and (not types or r["type"] in types)]

    monkeypatch.setattr(command, "incident_records", fake)


def test_recent_burglaries_raise_zones(client: TestClient, auth_headers: Callable[..., dict[str, str]],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    recs = _records(True, 1)
    _serve(monkeypatch, recs)
    asked = dt.datetime.now(dt.UTC)
    r = client.get("/api/v1/analytics/near-repeat-zones", params={"distance_bands": "0,200,400,800",
                                                                  "time_bands": "0,7,14,28"},
                   headers=auth_headers("analyst"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["zone"] == {"distance_m": 200.0, "time_days": 7.0}
    # Brute force: the burglaries of the 7 days before the request, newest first (a burglary within
    # the second between `asked` and the server's clock is vanishingly unlikely).
    recent = sorted((x for x in recs if x["ts"] >= asked - dt.timedelta(days=7)), key=lambda x: x["ts"], reverse=True)
    got = [(z["lat"], z["lon"]) for z in out["zones"]]
    want = [(x["lat"], x["lon"]) for x in recent]
    assert len(got) == len(want) >= 5
    np.testing.assert_allclose(np.array(got), np.array(want), atol=1e-6)
    for z, x in zip(out["zones"], recent, strict=True):
        since = dt.datetime.fromisoformat(z["since"]).replace(tzinfo=dt.UTC)
        assert abs((since - x["ts"]).total_seconds()) <= 1
        assert dt.datetime.fromisoformat(z["until"]).replace(tzinfo=dt.UTC) - since == dt.timedelta(days=7)
    assert all(z["radius_m"] == 200 and z["type"] == "burglary" for z in out["zones"])
    assert "INC" not in r.text


def test_no_pattern_no_zones(client: TestClient, auth_headers: Callable[..., dict[str, str]],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    _serve(monkeypatch, _records(False, 2))
    r = client.get("/api/v1/analytics/near-repeat-zones", headers=auth_headers("supervisor"))
    assert r.status_code == 200, r.text
    assert r.json()["zone"] is None and r.json()["zones"] == []
    r = client.get("/api/v1/analytics/near-repeat-zones", headers=auth_headers("patrol"))
    assert r.status_code == 403


@pytest.mark.parametrize("route", ["near-repeat-zones", "warning", "forecast"])
def test_an_until_in_year_one_is_bad_input(client: TestClient, auth_headers: Callable[..., dict[str, str]],
                                           monkeypatch: pytest.MonkeyPatch, route: str) -> None:
    _serve(monkeypatch, [])
    r = client.get(f"/api/v1/analytics/{route}", params={"until": "0001-01-02T00:00:00+00:00"},
                   headers=auth_headers("analyst"))
    assert r.status_code == 422 and "until" in r.text, r.text
