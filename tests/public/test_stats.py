"""Open data: k-anonymous monthly counts (known answers, then properties with hypothesis)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections import Counter
from collections.abc import Iterator
from typing import Any

import h3
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from precinct.cli import app as cli_app
from precinct.config import Settings
from precinct.core.db import Database
from precinct.errors import BadInput
from precinct.public import stats as st_mod
from precinct.public.limits import RateLimiter
from precinct.public.stats import monthly_stats, to_csv, to_geojson

NOW = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
T0 = dt.datetime(2026, 11, 10, 12, tzinfo=dt.UTC)
LAT, LON = 32.49, 119.92


def inc(lat: float, lon: float, type_: str = "theft", ts: dt.datetime = T0, **extra: Any) -> dict[str, Any]:
    return {"id": f"INC-{lat:.5f}-{lon:.5f}-{type_}", "ts": ts, "type": type_, "priority": "yellow", "lat": lat,
            "lon": lon, "status": "closed", "closed_at": None, "arrived_at": None, **extra}


def source_of(rows: list[dict[str, Any]]) -> Any:
    def source(_session: Any, *, since: dt.datetime, until: dt.datetime) -> list[dict[str, Any]]:
        return [r for r in rows if since <= r["ts"] < until]
    return source


def stats_of(rows: list[dict[str, Any]], k: int = 5, **kw: Any) -> dict[str, Any]:
    return monthly_stats(None, month="2026-11", k=k, source=source_of(rows), now=NOW, **kw)  # type: ignore[arg-type]


def far_cells(n: int) -> list[tuple[float, float]]:
    """Centres of ``n`` resolution-8 cells in different resolution-6 parents (no merging between them)."""
    return [(LAT + 0.3 * i, LON) for i in range(n)]


def test_known_answer_suppression_keeps_the_left_out_total_at_least_k() -> None:
    (a, b, c) = far_cells(3)
    rows = [inc(*a)] * 7 + [inc(*b)] * 6 + [inc(*c)] * 3
    cells = stats_of(rows)["cells"]
    # 3 left out alone would be recoverable from a type total: the 6-cell is suppressed with it
    assert [(x["cell"], x["count"]) for x in cells] == [(h3.latlng_to_cell(*a, 8), 7)]
    rows += [inc(*c)] * 2  # now 5 there: everything is publishable
    assert sorted(x["count"] for x in stats_of(rows)["cells"]) == [5, 6, 7]


def test_small_neighbouring_cells_merge_into_their_parent() -> None:
    cell = h3.latlng_to_cell(LAT, LON, 8)
    siblings = [c for c in h3.cell_to_children(h3.cell_to_parent(cell, 7), 8)][:2]
    rows = [inc(*h3.cell_to_latlng(siblings[0]))] * 3 + [inc(*h3.cell_to_latlng(siblings[1]))] * 3
    cells = stats_of(rows)["cells"]
    assert [(x["cell"], x["resolution"], x["merged"], x["count"]) for x in cells] == [
        (h3.cell_to_parent(cell, 7), 7, True, 6)]


def test_sensitive_types_only_at_area_level_and_unknown_types_as_other() -> None:
    rows = [inc(LAT, LON, "sexual_assault")] * 6 + [inc(LAT, LON, "domestic")] * 2 + [inc(LAT, LON, "x<b>y")] * 5
    out = stats_of(rows)
    assert {c["type"] for c in out["cells"]} == {"other"}
    assert [(a["type"], a["count"], a["sensitive"]) for a in out["areas"]] == [
        ("other", 5, False), ("sexual_assault", 6, True)]
    assert "x<b>y" not in json.dumps(out, ensure_ascii=False)


def test_month_bounds_and_bad_months() -> None:
    rows = [inc(LAT, LON, ts=dt.datetime(2026, 10, 31, 23, 59, tzinfo=dt.UTC))] * 5 + \
           [inc(LAT, LON, ts=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))] * 5
    assert stats_of(rows)["cells"] == []
    with pytest.raises(BadInput, match="YYYY-MM"):
        monthly_stats(None, month="2026-13", source=source_of([]), now=NOW)  # type: ignore[arg-type]
    with pytest.raises(BadInput, match="has not begun"):
        monthly_stats(None, month="2027-01", source=source_of([]), now=NOW)  # type: ignore[arg-type]


def test_station_areas_count_each_incident_once() -> None:
    ring = [[LAT - 0.01, LON - 0.01], [LAT + 0.01, LON - 0.01], [LAT + 0.01, LON + 0.01], [LAT - 0.01, LON + 0.01],
            [LAT - 0.01, LON - 0.01]]
    areas = [{"id": "ST-1", "name_zh": "城东派出所", "name_en": "Chengdong", "points": ring}]
    rows = [inc(LAT, LON)] * 6 + [inc(LAT + 0.5, LON)] * 5
    out = stats_of(rows, station_areas=areas)
    assert [(a["area"], a["count"]) for a in out["areas"]] == [("ST-1", 6), ("outside", 5)]
    assert out["areas"][0]["name_zh"] == "城东派出所"


@pytest.fixture(scope="module")
def small_city() -> Any:
    from precinct.city.road import RoadGraph

    return RoadGraph.synthetic(size_km=2, seed=3, center=(LAT, LON))


def test_points_are_road_segment_midpoints_never_the_incident_position(small_city: Any) -> None:
    seg = small_city.edge_segments()
    mids = {(round((float(a) + float(b)) / 2, 5), round((float(c) + float(d)) / 2, 5))
            for a, b, c, d in zip(seg["lat1"], seg["lat2"], seg["lon1"], seg["lon2"], strict=True)}
    anchors = st_mod.anonymous_points(small_city)
    assert 0 < len(anchors) < len(mids) and {(float(a), float(b)) for a, b in anchors} <= mids
    cells = [h3.latlng_to_cell(float(a), float(b), st_mod.POINT_RES) for a, b in anchors]
    assert len(set(cells)) == len(cells)  # one map point per resolution-9 cell
    near = (float(anchors[3][0]) + 0.0004, float(anchors[3][1]) - 0.0003)
    ref = math.cos(math.radians(float(anchors[:, 0].mean())))
    nearest = min(((float(a), float(b)) for a, b in anchors),
                  key=lambda p: (p[0] - near[0]) ** 2 + ((p[1] - near[1]) * ref) ** 2)
    points = stats_of([inc(*near)] * 5, city=small_city)["points"]
    assert [(p["lat"], p["lon"], p["count"]) for p in points] == [(*nearest, 5)]
    assert nearest != (round(near[0], 5), round(near[1], 5))
    assert stats_of([inc(*near)] * 4, city=small_city)["points"] == []
    assert stats_of([inc(near[0] + 0.5, near[1])] * 5, city=small_city)["points"] == []  # far from every road


# --- properties ---------------------------------------------------------------------------------

TYPES = ["theft", "burglary", "fight", "sexual_assault", "domestic", "unknown_type"]
coords = st.tuples(st.sampled_from([0.0, 0.004, 0.009, 0.3, 0.31]), st.sampled_from([0.0, 0.005, 0.2]))
incident = st.builds(lambda c, t, d: inc(LAT + c[0], LON + c[1], t, T0 + dt.timedelta(days=d)),
                     coords, st.sampled_from(TYPES), st.integers(0, 15))


def counts(payload: Any) -> Iterator[int]:
    """Every value of a field named ``count``, anywhere."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key == "count":
                yield value
            else:
                yield from counts(value)
    elif isinstance(payload, list):
        for value in payload:
            yield from counts(value)


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(incident, max_size=80), k=st.integers(2, 7))
def test_no_public_output_has_a_count_below_k(small_city: Any, rows: list[dict[str, Any]], k: int) -> None:
    out = stats_of(rows, k=k, city=small_city)
    assert all(n >= k for n in counts(out))
    assert all(n >= k for n in counts(to_geojson(out)))
    assert all(int(r["count"]) >= k for r in csv.DictReader(io.StringIO(to_csv(out))))
    for view in ("areas", "cells", "points"):
        published = Counter[str]()
        for row in out[view]:
            published[row["type"]] += row["count"]
        total = Counter("other" if r["type"] == "unknown_type" else r["type"] for r in rows
                        if view == "areas" or r["type"] not in st_mod.SENSITIVE_TYPES)
        for t, n in total.items():
            if published[t]:  # whatever is published of a type leaves out none, or at least k
                assert n - published[t] == 0 or n - published[t] >= k, (view, t)
    assert not {c["type"] for c in out["cells"] + out["points"]} & st_mod.SENSITIVE_TYPES


personal = st.fixed_dictionaries({
    "caller_name": st.from_regex(r"\A(NAME)[A-Za-z]{4,8}\Z"),
    "caller_phone": st.from_regex(r"\A1[3-9][0-9]{9}\Z"),
    "plate": st.from_regex(r"\A(陕A|苏M)[A-HJ-NP-Z0-9]{5}\Z"),
    "description": st.from_regex(r"\A(DESC)[a-z ]{6,20}\Z"),
    "address": st.from_regex(r"\A(ADDR)[0-9]{1,3}号\Z"),
})


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(incident, personal), min_size=5, max_size=60), k=st.integers(2, 5))
def test_no_personal_value_reaches_any_public_output(rows: list[tuple[dict[str, Any], dict[str, str]]],
                                                     k: int) -> None:
    full = [{**r, **p, "id": f"INCID{i:06d}"} for i, (r, p) in enumerate(rows)]
    out = stats_of(full, k=k)
    texts = [json.dumps(out, ensure_ascii=False), json.dumps(to_geojson(out), ensure_ascii=False), to_csv(out)]
    for r in full:
        for field in ("caller_name", "caller_phone", "plate", "description", "address", "id"):
            assert not any(r[field] in text for text in texts), field


# --- CLI and API ---------------------------------------------------------------------------------

@pytest.fixture
def fed(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Incidents fed to the open data in place of the command domain's records."""
    (a, b) = far_cells(2)
    rows = [inc(*a)] * 6 + [inc(*b, "sexual_assault")] * 5 + [inc(*b)] * 5
    monkeypatch.setattr(st_mod, "default_source", source_of(rows))
    return rows


def test_cli_stats_in_three_formats(db: Database, fed: list[dict[str, Any]]) -> None:
    runner = CliRunner()
    r = runner.invoke(cli_app, ["public", "stats", "--month", "2026-11", "--format", "json", "--no-points"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["month"] == "2026-11" and list(counts(out)) and all(n >= 5 for n in counts(out))
    assert sorted((c["type"], c["count"]) for c in out["cells"]) == [("theft", 5), ("theft", 6)]
    assert [(a["type"], a["count"]) for a in out["areas"] if a["sensitive"]] == [("sexual_assault", 5)]
    r = runner.invoke(cli_app, ["public", "stats", "--month", "2026-11", "--format", "csv", "--no-points"])
    assert r.exit_code == 0 and r.stdout.splitlines()[0] == "level,id,type,type_zh,type_en,lat,lon,count"
    r = runner.invoke(cli_app, ["public", "stats", "--month", "2026-11", "--format", "geojson", "--no-points"])
    geo = json.loads(r.stdout)
    assert geo["type"] == "FeatureCollection" and all(f["properties"]["count"] >= 5 for f in geo["features"])
    r = runner.invoke(cli_app, ["public", "stats", "--month", "2026-11", "--format", "xml"])
    assert isinstance(r.exception, BadInput)


def test_the_command_domain_source_answers(db: Database) -> None:
    with db.sessionmaker() as s:
        assert st_mod.default_source(s, since=T0, until=T0 + dt.timedelta(days=1)) == []


def test_api_open_data_needs_no_login_and_is_rate_limited(app: Any, client: TestClient, fed: Any,
                                                         settings: Settings) -> None:
    r = client.get("/api/v1/public/stats", params={"month": "2026-11"})
    assert r.status_code == 200 and r.headers["cache-control"].startswith("public")
    assert all(n >= settings.public_k for n in counts(r.json()))
    r = client.get("/api/v1/public/stats", params={"month": "2026-11", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    r = client.get("/api/v1/public/stats", params={"month": "2026-11", "format": "geojson"})
    assert r.status_code == 200 and r.json()["type"] == "FeatureCollection"
    assert client.get("/api/v1/public/stats", params={"month": "11/2026"}).status_code == 422
    app.state.public_rate_limiter = RateLimiter(per_minute=2)
    assert client.get("/api/v1/public/alerts").status_code == 200
    assert client.get("/api/v1/public/alerts").status_code == 200
    r = client.get("/api/v1/public/alerts")
    assert r.status_code == 429 and r.json()["error"] == "rate_limited"
