"""``precinct patrol posts`` with a cost matrix and with a demand file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from precinct.patrol import solvers
from precinct.patrol.cli import app
from precinct.patrol.demand import read_cost_matrix

runner = CliRunner()


def test_cost_matrix_cli_with_weights_header(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    d = np.round(rng.uniform(60, 900, (30, 8)), 1)
    w = rng.integers(1, 4, 30)
    f = tmp_path / "cost.csv"
    lines = ["weight," + ",".join(f"site{j}" for j in range(8))]
    lines += [f"{w[i]}," + ",".join(str(v) for v in d[i]) for i in range(30)]
    f.write_text("\n".join(lines) + "\n")
    for objective, extra in (("pcenter", []), ("pmedian", []), ("mclp", ["--minutes", "5"])):
        r = runner.invoke(app, ["posts", "--cost-matrix", str(f), "--posts", "3", "--objective", objective,
                                "--format", "json", *extra])
        assert r.exit_code == 0, r.output
        out = json.loads(r.stdout)
        assert set(out) >= {"posts", "objective", "max_response_s", "mean_response_s", "gap"}
        assert out["gap"] == 0 and len(out["posts"]) == 3 and out["posts"][0].startswith("site")
    cost, weights, names = read_cost_matrix(f)
    assert weights is not None and names is not None and cost.shape == (30, 8)
    r = runner.invoke(app, ["posts", "--cost-matrix", str(f), "--posts", "3", "--format", "json"])
    assert json.loads(r.stdout)["max_response_s"] == pytest.approx(solvers.p_center(d, 3).value, abs=1e-6)


def test_cost_matrix_without_header_and_bad_rows(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text("10,20,30\n5,,1\n")
    r = runner.invoke(app, ["posts", "--cost-matrix", str(f), "--posts", "1", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["posts"] == [0]  # column 0 serves both rows within 10 s
    f.write_text("10,20\n5\n")
    r = runner.invoke(app, ["posts", "--cost-matrix", str(f), "--posts", "1"])
    assert r.exit_code != 0


def test_demand_cli_calls_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    city = pytest.importorskip("precinct.city")
    g: Any = city.RoadGraph.synthetic(size_km=3, seed=5)
    import precinct.city.service as cs

    monkeypatch.setattr(cs, "current_city", lambda settings=None: g)
    rng = np.random.default_rng(1)
    idx = rng.choice(g.n_nodes, 40, replace=False)
    f = tmp_path / "calls.csv"
    rows = ["call_id,ts,lat,lon,type,priority,description"]
    colours = ["red", "orange", "yellow", "blue", "green"]
    rows += [f"C{i},2026-11-20T10:00:00+08:00,{g.node_lat[v]},{g.node_lon[v]},theft,{colours[i % 5]},x"
             for i, v in enumerate(idx)]
    f.write_text("\n".join(rows) + "\n")
    r = runner.invoke(app, ["posts", "--demand", str(f), "--posts", "2", "--objective", "pcenter",
                            "--format", "json", "--geojson", str(tmp_path / "map.geojson")])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert len(out["posts"]) == 2 and out["gap"] == 0 and "lat" in out["posts"][0]
    assert json.loads((tmp_path / "map.geojson").read_text())["type"] == "FeatureCollection"
