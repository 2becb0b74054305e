"""CSV import: columns, projections, dates and date-times, bad rows reported with their line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer

from precinct.analytics.events import from_records, read_csv
from precinct.errors import BadInput


def _write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "in.csv"
    f.write_text(text, encoding="utf-8")
    return f


def test_latlon_goes_to_the_local_utm_zone(tmp_path: Path) -> None:
    f = _write(tmp_path, "id,ts,type,lat,lon\n"
                         "a,2026-11-23,burglary,39.9042,116.4074\n"
                         "b,2026-11-23T08:30:00+08:00,theft,39.9142,116.4174\n")
    ev = read_csv(f)
    assert ev.crs == "EPSG:32650"  # UTM 50N holds Beijing
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True).transform(116.4074, 39.9042)
    assert ev.x[0] == pytest.approx(x, abs=1e-6) and ev.y[0] == pytest.approx(y, abs=1e-6)
    # a date is its midnight; an offset is converted to UTC
    assert str(ev.ts[0]) == "2026-11-23T00:00:00" and str(ev.ts[1]) == "2026-11-23T00:30:00"
    assert list(ev.types) == ["burglary", "theft"]
    assert ev.days().tolist() == pytest.approx([0.0, 0.5 / 24])


def test_projected_input_is_used_as_given(tmp_path: Path) -> None:
    f = _write(tmp_path, "id,ts,type,x,y\n1,2016-01-01,burglary,365535.52,563965.21\n")
    ev = read_csv(f, crs="EPSG:26971")
    assert ev.crs == "EPSG:26971" and ev.x[0] == 365535.52 and ev.y[0] == 563965.21
    with pytest.raises(BadInput, match="--crs"):
        read_csv(f)
    with pytest.raises(BadInput, match="not a projected CRS in metres"):
        read_csv(f, crs="EPSG:4326")


def test_bad_rows_are_reported_with_line_and_reason(tmp_path: Path) -> None:
    f = _write(tmp_path, "id,ts,type,lat,lon\n"
                         "a,2026-11-23,burglary,39.9,116.4\n"
                         "b,23/11/2026,burglary,39.9,116.4\n"
                         "c,2026-11-23,,39.9,116.4\n"
                         "a,2026-11-23,burglary,39.9,116.4\n"
                         "d,2026-11-23,burglary,95,116.4\n"
                         "e,2026-11-23,burglary,,116.4\n")
    with pytest.raises(BadInput) as exc:
        read_csv(f)
    errors = exc.value.detail["errors"]
    assert [e["line"] for e in errors] == [3, 4, 5, 6, 7]
    assert "ISO 8601" in errors[0]["reason"] and "type is empty" in errors[1]["reason"]
    assert "repeats line 2" in errors[2]["reason"] and "WGS84" in errors[3]["reason"]
    assert "lat is empty" in errors[4]["reason"]
    assert exc.value.message.startswith(f"{f}: line 3:") and exc.value.detail["bad_rows"] == 5


def test_missing_columns_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="missing columns type"):
        read_csv(_write(tmp_path, "id,ts,lat,lon\n1,2026-01-01,1,1\n"))
    with pytest.raises(BadInput, match="no data rows"):
        read_csv(_write(tmp_path, "id,ts,type,lat,lon\n"))
    with pytest.raises(BadInput, match="more than 2 rows"):
        read_csv(_write(tmp_path, "id,ts,type,lat,lon\n1,2026-01-01,a,1,1\n2,2026-01-01,a,1,1\n3,2026-01-01,a,1,1\n"),
                 max_events=2)


def test_records_skip_unlocated_incidents() -> None:
    import datetime as dt

    recs = [{"id": "i1", "ts": dt.datetime(2026, 11, 23, 8, tzinfo=dt.UTC), "type": "theft", "lat": 39.9, "lon": 116.4},
            {"id": "i2", "ts": dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC), "type": "theft", "lat": None, "lon": None}]
    ev = from_records(recs)
    assert len(ev) == 1 and ev.crs == "EPSG:32650" and np.isfinite(ev.x).all()
