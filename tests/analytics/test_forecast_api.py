"""GET /api/v1/analytics/forecast: the cells a method flags for the next days, beside its accuracy."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer


@pytest.fixture
def incidents(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import precinct.command.service as command

    rng = np.random.default_rng(3)
    now = dt.datetime.now(dt.UTC)
    recs = []
    for i in range(400):
        hot = i % 3 == 0  # a third of the incidents in two small clusters
        lat = (39.905 if i % 2 else 39.915) + float(rng.normal(0, 0.0008 if hot else 0.012))
        lon = 116.40 + float(rng.normal(0, 0.0008 if hot else 0.012))
        recs.append({"id": f"INC{i}", "ts": now - dt.timedelta(days=float(rng.uniform(0.5, 120))),
                     "type": "burglary", "priority": "yellow", "lat": lat, "lon": lon, "status": "closed",
                     "closed_at": None, "arrived_at": None})

    def fake(session: Any, *, since: Any = None, until: Any = None, types: Any = None,
             include_merged: bool = False) -> list[dict[str, Any]]:
        return [r for r in recs if (since is None or r["ts"] >= since) and (until is None or r["ts"] < until)]

    monkeypatch.setattr(command, "incident_records", fake)
    return recs


def test_retrospective_forecast_flags_the_busiest_cells(client: TestClient, auth_headers: Callable[..., dict[str, str]],
                                                        incidents: list[dict[str, Any]]) -> None:
    r = client.get("/api/v1/analytics/forecast",
                   params={"method": "retrospective", "cell_m": 250, "train_days": 60, "horizon_days": 7,
                           "origins": 4, "area_share": 0.05}, headers=auth_headers("analyst"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["crs"] == "EPSG:32650"
    # Brute force: project with pyproj, bin into the same 250 m grid (aligned to multiples of the
    # cell), count the last 60 days per cell; the flagged cells are the busiest 5 % of the study area.
    tr = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)
    now = dt.datetime.now(dt.UTC)
    all_cells: Counter[tuple[int, int]] = Counter()
    recent: Counter[tuple[int, int]] = Counter()
    origin = dt.datetime.fromisoformat(out["origin"]).replace(tzinfo=dt.UTC)
    for rec in incidents:
        if rec["ts"] < now - dt.timedelta(days=60 + 7 * 4 + 1):
            continue
        x, y = tr.transform(rec["lon"], rec["lat"])
        key = (int(np.floor(x / 250)), int(np.floor(y / 250)))
        all_cells[key] += 1
        if origin - dt.timedelta(days=60) <= rec["ts"] < origin:
            recent[key] += 1
    k = max(1, round(0.05 * len(all_cells)))
    assert out["study_cells"] == len(all_cells)
    assert len(out["cells"]) == k
    got = [(int(np.floor(c["x"] / 250)), int(np.floor(c["y"] / 250))) for c in out["cells"]]
    counts = sorted((recent[c] for c in all_cells), reverse=True)
    assert sorted((recent[c] for c in got), reverse=True) == counts[:k]
    # Scores are the training counts scaled to the week (by the training span, the same for every cell).
    ratios = [c["score"] / recent[g] for c, g in zip(out["cells"], got, strict=True)]
    assert max(ratios) - min(ratios) < 1e-9 and 7 / 60 <= ratios[0] < 7 / 59
    assert 39.8 < out["cells"][0]["lat"] < 40.0 and "INC" not in r.text
    acc = out["accuracy"]
    assert acc is not None and [m["method"] for m in acc["methods"]] == ["kde", "retrospective"]
    assert all(0 <= m["hit_rate"] <= 1 for m in acc["methods"])


def test_forecast_refusals(client: TestClient, auth_headers: Callable[..., dict[str, str]],
                           incidents: list[dict[str, Any]]) -> None:
    r = client.get("/api/v1/analytics/forecast", params={"method": "crystal"}, headers=auth_headers("analyst"))
    assert r.status_code == 422 and "method" in r.text
    r = client.get("/api/v1/analytics/forecast", headers=auth_headers("patrol"))
    assert r.status_code == 403


def test_hotspots_of_an_uploaded_csv_equal_the_cli(client: TestClient, auth_headers: Callable[..., dict[str, str]],
                                                   tmp_path: Any) -> None:
    import json

    from typer.testing import CliRunner

    from precinct.analytics.cli import app

    rng = np.random.default_rng(9)
    rows = ["id,ts,type,x,y"] + [f"E{i},2026-10-{1 + i % 28:02d},burglary,{500_000 + rng.normal(0, 400):.1f},"
                                 f"{4_400_000 + rng.normal(0, 400):.1f}" for i in range(300)]
    body = "\n".join(rows) + "\n"
    r = client.post("/api/v1/analytics/hotspots/csv", params={"crs": "EPSG:32650", "cell_m": 200, "permutations": 99},
                    content=body.encode(), headers={**auth_headers("analyst"), "Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    got = r.json()
    path = tmp_path / "in.csv"
    path.write_text(body)
    cli = CliRunner().invoke(app, ["hotspots", "--input", str(path), "--crs", "EPSG:32650", "--cell-m", "200",
                                   "--permutations", "99", "--seed", "0", "--format", "json"])
    assert cli.exit_code == 0, cli.output
    want = json.loads(cli.stdout)
    assert [(c["cell_id"], c["count"], c["gi_z"], c["p_sim"]) for c in got["cells"]] == \
        [(c["cell_id"], c["count"], c["gi_z"], c["p_sim"]) for c in want["cells"]]
    assert all(39 < c["lat"] < 41 for c in got["cells"])
    bad = body.replace("E7,2026-10-08", "E7,yesterday")
    r = client.post("/api/v1/analytics/hotspots/csv", params={"crs": "EPSG:32650"}, content=bad.encode(),
                    headers=auth_headers("analyst"))
    assert r.status_code == 422 and "line 9" in r.text
    r = client.post("/api/v1/analytics/hotspots/csv", content=b"", headers=auth_headers("analyst"))
    assert r.status_code == 422 and "body" in r.text
    r = client.post("/api/v1/analytics/hotspots/csv", content=body.encode(), headers=auth_headers("patrol"))
    assert r.status_code == 403
