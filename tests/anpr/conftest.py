"""Fixtures for plate-read tests: the warehouse, an analyst user, and small known-answer data."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from precinct.anpr import parse, service
from precinct.config import Settings
from precinct.core.db import Database
from precinct.core.warehouse import Warehouse

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
T0_US = int(T0.timestamp() * 1_000_000)
HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
CENTER = (31.30, 120.60)


@pytest.fixture(autouse=True)
def _close_warehouse(settings: Settings) -> Iterator[None]:
    yield
    Warehouse.close_for(settings)


@pytest.fixture
def wh(settings: Settings) -> Warehouse:
    return service.warehouse(settings)


def iso(ts_us: int) -> str:
    return dt.datetime.fromtimestamp(ts_us / 1e6, dt.UTC).isoformat().replace("+00:00", "Z")


def haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """Reference haversine (numpy), independent of the SQL."""
    r = 6371.0088
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * r * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def random_reads(
    n: int,
    *,
    seed: int = 1,
    plates: int = 300,
    days: int = 10,
    spread_deg: float = 0.15,
    cameras: int = 40,
) -> list[dict[str, Any]]:
    """Reads around CENTER: each at one of ``cameras`` sites, with read ids."""
    rng = np.random.default_rng(seed)
    cam_lat = CENTER[0] + rng.uniform(-spread_deg, spread_deg, cameras)
    cam_lon = CENTER[1] + rng.uniform(-spread_deg, spread_deg, cameras)
    out = []
    for i in range(n):
        c = int(rng.integers(cameras))
        out.append(
            {
                "plate": f"苏E{int(rng.integers(plates)):05d}",
                "ts": iso(T0_US + int(rng.integers(days * DAY_US))),
                "lat": round(float(cam_lat[c]), 6),
                "lon": round(float(cam_lon[c]), 6),
                "camera_id": f"CAM{c:03d}",
                "read_id": f"R{i}",
                "kind": "plate",
                "confidence": round(float(rng.uniform(0.5, 1.0)), 3),
            }
        )
    return out


def to_csv(rows: list[dict[str, Any]], columns: tuple[str, ...] = parse.COLUMNS) -> bytes:
    lines = [",".join(columns)]
    for r in rows:
        lines.append(",".join("" if r.get(c) is None else str(r[c]) for c in columns))
    return ("\n".join(lines) + "\n").encode()


def ingest_rows(db: Database, wh: Warehouse, rows: list[dict[str, Any]]) -> service.IngestResult:
    return service.ingest(
        db=db,
        wh=wh,
        source=service.chunks_source(parse.parse_csv(to_csv(rows))),
        actor="tester",
        role="admin",
        origin="test",
    )


def us(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1_000_000)


def finite(x: float) -> bool:
    return math.isfinite(x)
