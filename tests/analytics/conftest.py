"""Shared data for the analytics tests: the real Chicago burglaries (when the shared folder is there)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

CHICAGO = (Path(__file__).resolve().parents[3] / "shared" / "data" / "chicago-burglary"
           / "chicago_burglary_2014_2017.csv")


@pytest.fixture(scope="session")
def chicago() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y (EPSG:26971 metres) and day number (since 2014-01-01) of the 45,319 burglaries."""
    if not CHICAGO.exists():
        pytest.skip(f"the real data set is not at {CHICAGO}")
    import pandas as pd

    d = pd.read_csv(CHICAGO)
    day = pd.to_datetime(d["date_single"], format="%d/%m/%Y")
    t = (day - pd.Timestamp("2014-01-01")).dt.days.to_numpy(dtype=np.float64)
    return d["x"].to_numpy(np.float64), d["y"].to_numpy(np.float64), t
