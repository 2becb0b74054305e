"""A small scenario, generated twice (same seed) once per test session."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from precinct.sim.api import ApiClient
from precinct.sim.generate import Scenario, build_scenario, default_city, generate

SEED = 7
DAYS = 3
READS_PER_DAY = 15_000


@dataclass
class DataSet:
    out: Path
    truth: dict[str, Any]
    reads: dict[str, np.ndarray]

    def csv(self, name: str) -> list[dict[str, str]]:
        with (self.out / name).open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))


def epoch_s(iso: str) -> float:
    return dt.datetime.fromisoformat(iso).timestamp()


@pytest.fixture(scope="session")
def city() -> Any:
    return default_city(SEED)


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory, city: Any) -> DataSet:
    out = tmp_path_factory.mktemp("sim_a")
    truth = generate(out, days=DAYS, seed=SEED, reads_per_day=READS_PER_DAY, csv=True, city=city)
    t = pq.read_table(out / "reads.parquet")
    reads = {
        "plate": np.asarray(t["plate"].to_pylist(), dtype=object),
        "ts": t["ts"].cast("int64").to_numpy() / 1000.0,  # epoch seconds
        "lat": t["lat"].to_numpy(),
        "lon": t["lon"].to_numpy(),
        "camera_id": np.asarray(t["camera_id"].to_pylist(), dtype=object),
        "kind": np.asarray(t["kind"].to_pylist(), dtype=object),
        "read_id": t["read_id"].to_numpy(),
    }
    return DataSet(out, truth, reads)


@pytest.fixture(scope="session")
def dataset_again(tmp_path_factory: pytest.TempPathFactory, city: Any) -> Path:
    out = tmp_path_factory.mktemp("sim_b")
    generate(out, days=DAYS, seed=SEED, reads_per_day=READS_PER_DAY, csv=True, city=city)
    return out


@pytest.fixture(scope="session")
def scenario(city: Any) -> Scenario:
    """The data set's scenario (geography, population, calls) without writing anything."""
    return build_scenario(days=DAYS, seed=SEED, reads_per_day=READS_PER_DAY, city=city)


class RecordingClient(ApiClient):
    """The real client; also keeps every request it made, with the driver's simulated time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clock = lambda: 0.0
        self.sent: list[tuple[float, str, str, Any, bool]] = []

    def request(self, stream: str, user: str, method: str, path: str, **kwargs: Any) -> Any:
        r = super().request(stream, user, method, path, **kwargs)
        self.sent.append((self.clock(), method, path, kwargs.get("json"), r is not None))
        return r
