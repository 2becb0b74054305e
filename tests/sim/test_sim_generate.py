"""Same seed, same bytes; formats as in the design brief; plausible distributions."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy import stats

from precinct.errors import BadInput
from precinct.sim import traffic
from precinct.sim.calls import generate_calls
from precinct.sim.generate import S_CALLS, Scenario, build_scenario, rng_for
from precinct.sim.geo import haversine_m
from precinct.sim.incidents import INCIDENT_TYPES, type_shares
from precinct.sim.rhythm import HOURLY, WEEKLY

from .conftest import DataSet, epoch_s

FILES = (
    "reads.parquet",
    "reads.csv",
    "calls.csv",
    "cases.csv",
    "watchlist.csv",
    "links.csv",
    "cameras.csv",
    "truth.json",
)


def test_same_seed_byte_identical(dataset: DataSet, dataset_again: Path) -> None:
    for name in FILES:
        assert (dataset.out / name).read_bytes() == (dataset_again / name).read_bytes(), name


def test_formats(dataset: DataSet) -> None:
    t = pq.read_table(dataset.out / "reads.parquet")
    assert t.column_names[:4] == ["plate", "ts", "lat", "lon"]
    assert {"camera_id", "read_id", "kind", "confidence"} <= set(t.column_names)
    assert str(t.schema.field("ts").type) == "timestamp[ms, tz=UTC]"
    r = dataset.reads
    assert np.all(np.diff(r["ts"]) >= 0), "reads are in time order"
    assert len(set(r["read_id"].tolist())) == r["read_id"].size
    assert set(r["kind"]) == {"plate", "tag"}
    conf = t["confidence"].to_numpy()
    assert conf.min() >= 0 and conf.max() <= 1
    for p in r["plate"][:2000]:
        assert p == p.upper() and " " not in p and "-" not in p and "." not in p
    assert t.num_rows == dataset.truth["counts"]["reads"]
    csv_rows = dataset.csv("reads.csv")
    assert len(csv_rows) == t.num_rows
    first = csv_rows[0]
    assert first["plate"] == r["plate"][0] and abs(epoch_s(first["ts"]) - r["ts"][0]) < 0.001
    assert first["ts"].endswith("+08:00")
    calls = dataset.csv("calls.csv")
    assert list(calls[0]) == ["call_id", "ts", "lat", "lon", "type", "priority", "description"]
    assert {c["priority"] for c in calls} <= {"red", "orange", "yellow", "blue", "green"}
    assert len({c["call_id"] for c in calls}) == len(calls)
    for c in calls[:50]:
        dt.datetime.fromisoformat(c["ts"])
    assert list(dataset.csv("cases.csv")[0]) == [
        "case_id",
        "lat",
        "lon",
        "start",
        "end",
        "radius_km",
    ]
    assert list(dataset.csv("watchlist.csv")[0]) == ["plate", "reason", "list"]
    assert list(dataset.csv("links.csv")[0]) == ["person_id", "plate", "ts", "source"]


def test_codes_match_the_incident_type_table() -> None:
    from precinct.command.types import INCIDENT_TYPES as TABLE

    for t in INCIDENT_TYPES:
        assert t.code in TABLE
        assert t.rhythm in HOURLY


def test_calls_follow_the_daily_rhythm(scenario: Scenario) -> None:
    """Chi-square of background calls per hour of day against the configured rhythm."""
    sc = scenario
    days = 28
    calls, _ = generate_calls(rng_for(3, S_CALLS), sc.geo, days=days, start_weekday=0, calls_per_day=400)
    first = [c for c in calls if not c.duplicate and c.parent_event is None]
    hours = np.bincount([(c.ts // 3600) % 24 for c in first], minlength=24)
    expected = np.zeros(24)
    for t, share in zip(INCIDENT_TYPES, type_shares(), strict=True):
        if t.code == "burglary":
            continue  # near-repeat offspring follow their parents, not the clock
        expected += share * HOURLY[t.rhythm] * WEEKLY[t.rhythm].mean()
    observed = np.bincount([(c.ts // 3600) % 24 for c in first if c.type != "burglary"], minlength=24)
    expected *= observed.sum() / expected.sum()
    chi2 = stats.chisquare(observed, expected)
    assert chi2.pvalue > 0.001, (observed, expected.round())
    assert stats.pearsonr(observed, expected).statistic > 0.95
    assert hours[3:6].sum() < hours[18:21].sum() / 2  # the night trough and the evening peak
    # Weekly: the weekend's night-time types run higher than midweek.
    fights = Counter((c.ts // 86400) % 7 for c in first if c.type == "fight")
    assert fights[5] > fights[1]


def test_near_repeat_burglaries_cluster(scenario: Scenario) -> None:
    sc = scenario
    calls, _ = generate_calls(rng_for(4, S_CALLS), sc.geo, days=60, start_weekday=0, calls_per_day=400)
    by_event = {c.event: c for c in calls if not c.duplicate}
    pairs = [(c, by_event[c.parent_event]) for c in by_event.values() if c.parent_event is not None]
    assert len(pairs) > 50
    d = np.array([haversine_m(a.lat, a.lon, b.lat, b.lon) for a, b in pairs])
    lag = np.array([a.ts - b.ts for a, b in pairs]) / 86400
    assert np.median(d) < 300 and (lag > 0).all() and np.median(lag) < 5
    burg = [c for c in by_event.values() if c.type == "burglary"]
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, len(burg), (2, 500))
    rand = [haversine_m(burg[a].lat, burg[a].lon, burg[b].lat, burg[b].lon) for a, b in zip(i, j, strict=True)]
    assert np.median(rand) > 5 * np.median(d)


def test_duplicate_calls_are_about_the_same_event(dataset: DataSet) -> None:
    calls = {c["call_id"]: c for c in dataset.csv("calls.csv")}
    groups = dataset.truth["calls"]["duplicate_groups"]
    assert groups
    for g in groups:
        first = calls[g[0]]
        for cid in g[1:]:
            c = calls[cid]
            assert c["type"] == first["type"]
            assert 0 <= epoch_s(c["ts"]) - epoch_s(first["ts"]) <= 600
            assert haversine_m(float(c["lat"]), float(c["lon"]), float(first["lat"]), float(first["lon"])) < 500


def test_reads_per_camera_follow_traffic(dataset: DataSet, scenario: Scenario) -> None:
    """Observed reads per camera against the traffic the population should put through it."""
    sc = scenario
    ac, pop = sc.ac, sc.pop
    w = np.zeros(ac.c.n)  # expected weekday trips per corridor
    home = pop.home
    np.add.at(w, home, 1.0)
    np.add.at(w, traffic._reverse(ac, home), 1.0)
    per_fav = traffic.LOCAL_ACTIVE_P * traffic.LOCAL_MEAN_TRIPS / 3 / 2
    np.add.at(w, pop.favs.ravel(), per_fav)
    np.add.at(w, traffic._reverse(ac, pop.favs.ravel()), per_fav)
    w[ac.thr0 : ac.thr0 + ac.n_thr] += pop.through_trips_per_day / ac.n_thr
    expected = np.zeros(sc.geo.n_cameras)
    np.add.at(expected, ac.c.cam, np.repeat(w, ac.c.counts))
    counts = Counter(dataset.reads["camera_id"].tolist())
    observed = np.array([counts.get(c, 0) for c in sc.geo.camera_id], dtype=float)
    used = expected > 0
    assert stats.pearsonr(expected[used], observed[used]).statistic > 0.9
    assert stats.spearmanr(expected[used], observed[used]).statistic > 0.8


def test_reads_follow_the_daily_traffic_rhythm(dataset: DataSet) -> None:
    per_hour = np.array(dataset.truth["reads_per_hour"])
    by_hour = np.array([per_hour[h::24].sum() for h in range(24)])
    assert by_hour[7:9].sum() > 5 * by_hour[2:4].sum()
    assert by_hour[17:19].sum() > 5 * by_hour[2:4].sum()
    assert per_hour.sum() == dataset.truth["counts"]["reads"]


def test_bad_arguments(city: Any) -> None:
    with pytest.raises(BadInput):
        build_scenario(days=0, seed=1, reads_per_day=1000, city=city)
    with pytest.raises(BadInput):
        build_scenario(days=1, seed=1, reads_per_day=10, city=city)
