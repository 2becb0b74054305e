"""The CLI contracts of ``precinct analytics`` (checked by outside tools: keys and shapes matter)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from precinct.analytics.cli import app

runner = CliRunner()


def _csv(tmp_path: Path, n: int = 300, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    x = np.r_[rng.uniform(0, 3000, n - 60), rng.normal(1200, 60, 60)] + 440_000
    y = np.r_[rng.uniform(0, 2000, n - 60), rng.normal(900, 60, 60)] + 4_400_000
    day = rng.integers(0, 120, n)
    lines = ["id,ts,type,x,y"] + [f"e{i},2026-{1 + d // 30:02d}-{1 + d % 28:02d},burglary,{a:.1f},{b:.1f}"
                                  for i, (d, a, b) in enumerate(zip(day, x, y, strict=True))]
    f = tmp_path / "events.csv"
    f.write_text("\n".join(lines) + "\n")
    return f


def test_hotspots_json_contract(tmp_path: Path) -> None:
    f = _csv(tmp_path)
    r = runner.invoke(app, ["hotspots", "--input", str(f), "--crs", "EPSG:32650", "--cell-m", "250",
                            "--permutations", "99", "--seed", "1", "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["crs"] == "EPSG:32650" and out["cell_m"] == 250
    cells = out["cells"]
    g = out["grid"]
    assert len(cells) == g["nrows"] * g["ncols"]  # every cell, empty ones included
    assert all(set(c) == {"cell_id", "x", "y", "count", "gi_z", "p_sim"} for c in cells)
    assert sum(c["count"] for c in cells) == 300
    assert sorted(c["cell_id"] for c in cells) == list(range(len(cells)))
    assert any(c["count"] == 0 for c in cells)
    assert all((c["x"] - 125) % 250 == 0 and (c["y"] - 125) % 250 == 0 for c in cells)
    hottest = max(cells, key=lambda c: c["gi_z"])
    assert abs(hottest["x"] - 441_200) < 400 and abs(hottest["y"] - 4_400_900) < 400


def test_knox_json_contracts(tmp_path: Path) -> None:
    f = _csv(tmp_path)
    r = runner.invoke(app, ["knox", "--input", str(f), "--crs", "EPSG:32650", "--distance-m", "200",
                            "--time-days", "14", "--permutations", "99", "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert {"observed", "expected", "p_value"} <= set(out) and 0 < out["p_value"] <= 1
    r = runner.invoke(app, ["knox", "--input", str(f), "--crs", "EPSG:32650", "--distance-bands", "0,100,200,400",
                            "--time-bands", "0,7,14,28", "--permutations", "49", "--format", "json"])
    assert r.exit_code == 0, r.output
    bands = json.loads(r.stdout)["bands"]
    assert len(bands) == 9
    assert bands[0]["distance_m"] == [0, 100] and bands[0]["time_days"] == [0, 7]
    assert bands[-1]["distance_m"] == [200, 400] and bands[-1]["time_days"] == [14, 28]
    assert all({"distance_m", "time_days", "observed", "expected", "knox_ratio", "p_value"} <= set(b) for b in bands)
    # the band table and the single threshold count the same pairs
    single = runner.invoke(app, ["knox", "--input", str(f), "--crs", "EPSG:32650", "--distance-m", "400",
                                 "--time-days", "28", "--permutations", "0", "--format", "json"])
    assert json.loads(single.stdout)["observed"] == sum(b["observed"] for b in bands)


def test_bad_rows_fail_with_exit_code_2_and_the_line(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("id,ts,type,lat,lon\n1,2026-01-01,theft,39.9,116.4\n2,yesterday,theft,39.9,116.4\n")
    r = runner.invoke(app, ["hotspots", "--input", str(f), "--format", "json"])
    assert r.exit_code != 0
    assert "line 3" in str(r.exception)
    r = runner.invoke(app, ["knox", "--input", str(f), "--distance-m", "100"])
    assert r.exit_code != 0 and "--time-days" in str(r.exception)


def test_evaluate_json_contract(tmp_path: Path) -> None:
    f = _csv(tmp_path, n=600, seed=2)
    r = runner.invoke(app, ["evaluate", "--input", str(f), "--crs", "EPSG:32650", "--cell-m", "250",
                            "--train-days", "60", "--test-days", "7", "--origins", "3", "--area-share", "0.05",
                            "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [m["method"] for m in out["methods"]] == ["kde", "retrospective", "prospective", "sepp"]
    assert all({"method", "hit_rate", "pai"} <= set(m) for m in out["methods"])
