"""The living city's planted stories, found through the CLI exactly as an analyst would.

Uses ``precinct.sim.generate`` (small: 2 days, 20,000 background reads a day) and checks each
story in ``truth.json``: vehicle–case association, series, cloned plate, the e-bike thief
(one person, many vehicles), and the fleeing vehicle's trajectory.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from precinct.cli import app as root
from precinct.config import Settings
from precinct.core.db import Database
from precinct.core.identity import create_user
from support import ensure_test_case

pytestmark = pytest.mark.slow
runner = CliRunner()
C = ["--case", "STORY-1", "--purpose", "investigation", "--format", "json"]


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    generate = pytest.importorskip("precinct.sim.generate")
    out = tmp_path_factory.mktemp("sim")
    generate.generate(out, days=2, seed=3, reads_per_day=20_000)
    return out


def _run(args: list[str]) -> Any:
    r = runner.invoke(root, args)
    assert r.exit_code == 0, (args, r.output, r.exception)
    return json.loads(r.output) if "--format" in args else r.output


def test_planted_stories_are_found(sim_dir: Path, db: Database, settings: Settings) -> None:
    with db.session() as s:
        create_user(s, username="adm", role="admin", password="password123")
        create_user(s, username="ana", role="analyst", password="password123")
    ensure_test_case(db, "STORY-1", "ana")  # the case the analyst works the stories under
    truth = json.loads((sim_dir / "truth.json").read_text(encoding="utf-8"))["stories"]
    _run(["anpr", "cameras", "import", str(sim_dir / "cameras.csv"), "--as", "adm"])
    _run(["anpr", "hotlist", "import", str(sim_dir / "watchlist.csv"), "--as", "ana"])
    out = _run(
        ["anpr", "import", str(sim_dir / "reads.parquet"), "--as", "adm", "--format", "json"]
    )
    assert out["stored"] > 10_000 and out["rejected"] == 0
    _run(["anpr", "links", "import", str(sim_dir / "links.csv"), "--as", "adm"])
    with open(sim_dir / "cases.csv", encoding="utf-8") as fh:
        cases = {r["case_id"]: r for r in csv.DictReader(fh)}
    ana = ["--as", "ana", *C]

    vc = truth["vehicle_case"]
    scene = cases[vc["case"]]
    got = _run(
        [
            "anpr",
            "associate",
            "--lat",
            scene["lat"],
            "--lon",
            scene["lon"],
            "--radius-km",
            str(vc["radius_km"]),
            "--start",
            vc["window"][0],
            "--end",
            vc["window"][1],
            "--watchlist",
            str(sim_dir / "watchlist.csv"),
            *ana,
        ]
    )
    hits = [c["plate"] for c in got["candidates"] if c["on_watchlist"]]
    assert sorted(hits) == sorted(vc["expected_hits"])
    assert hits == [c["plate"] for c in got["candidates"][: len(hits)]], "watchlist hits rank first"
    plates = {c["plate"] for c in got["candidates"]}
    assert not plates & set(vc["decoys_outside_radius"] + vc["decoys_outside_window"])

    vs = truth["vehicle_series"]
    five = sim_dir / "series.csv"
    with open(five, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(next(iter(cases.values()))))
        w.writeheader()
        for cid in vs["cases"]:
            w.writerow(cases[cid])
    got = _run(["anpr", "series", "--cases", str(five), "--min-cases", str(vs["min_cases"]), *ana])
    assert [c["plate"] for c in got["candidates"]] == vs["expected"]
    assert got["candidates"][0]["cases"] == sorted(vs["seen_near"])

    cp = truth["cloned_plate"]
    got = _run(
        [
            "anpr",
            "cloned",
            "--start",
            "2026-03-01T00:00:00+08:00",
            "--end",
            "2026-03-05T00:00:00+08:00",
            "--max-speed-kmh",
            str(cp["max_plausible_kmh"]),
            *ana,
        ]
    )
    assert [(c["plate"], c["impossible_pairs"]) for c in got["candidates"]] == [
        (cp["plate"], cp["impossible_pairs"])
    ]

    et = truth["ebike_thief"]
    got = _run(
        [
            "anpr",
            "person-vehicles",
            "--min-vehicles",
            str(et["min_bikes"]),
            "--days",
            str(et["window_days"]),
            *ana,
        ]
    )
    assert [p["person_id"] for p in got["people"]] == et["expected"]
    assert set(got["people"][0]["plates"]) == set(et["tags"])

    fv = truth["fleeing_vehicle"]
    got = _run(
        [
            "anpr",
            "trajectory",
            fv["plate"],
            "--start",
            fv["crime_at"],
            "--end",
            fv["exit_at"],
            "--no-paths",
            *ana,
        ]
    )
    assert [r["camera_id"] for r in got["reads"]] == [
        r["camera_id"] for r in fv["reads"] if r["ts"] <= fv["exit_at"]
    ]
