"""Open data and CAP alerts (issue 17): what k-anonymity, merging and snapping cost, side by side.

Runs, on the same synthetic month of incidents around the default city's centre:

- Precinct: ``precinct.public.stats.monthly_stats`` (areas, H3 cells with merging and complementary
  suppression, points snapped to road-segment midpoints of the 15 km synthetic city);
- the peer/floor: a plain pandas count per H3 resolution-8 cell and type (what an unprotected
  street-level export would publish), with the same H3 library;

and prints the wall times, their ratio, and how much of the data each publishes. Then times CAP
approval (build + XSD validation + XML Signature + validation again) per alert.

    ./dev bench public_opendata --incidents 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

import h3
import numpy as np
import pandas as pd

from precinct.city.service import default_city
from precinct.public.stats import monthly_stats

TYPES = ["theft", "theft_ebike", "burglary", "fight", "traffic_accident", "fraud", "noise", "suspicious",
         "sexual_assault", "domestic", "drunk", "disturbance"]
WEIGHTS = np.array([20, 12, 6, 8, 14, 6, 10, 8, 1, 3, 6, 6], dtype=float)


def incidents(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` incidents in November 2026, clustered around a few hot spots of the synthetic city."""
    rng = np.random.default_rng(seed)
    centres = np.array([[32.49, 119.92], [32.52, 119.95], [32.46, 119.88], [32.50, 119.86], [32.44, 119.97]])
    which = rng.integers(0, len(centres), n)
    spread = rng.choice([0.004, 0.015, 0.04], n, p=[0.3, 0.5, 0.2])
    lat = centres[which, 0] + rng.normal(0, 1, n) * spread
    lon = centres[which, 1] + rng.normal(0, 1, n) * spread
    types = rng.choice(TYPES, n, p=WEIGHTS / WEIGHTS.sum())
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    secs = rng.integers(0, 30 * 86400, n)
    return [{"id": f"I{i}", "ts": start + dt.timedelta(seconds=int(secs[i])), "type": str(types[i]),
             "lat": float(lat[i]), "lon": float(lon[i])} for i in range(n)]


def floor(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame({"lat": [r["lat"] for r in rows], "lon": [r["lon"] for r in rows],
                       "type": [r["type"] for r in rows]})
    df["cell"] = [h3.latlng_to_cell(a, b, 8) for a, b in zip(df["lat"], df["lon"], strict=True)]
    return df.groupby(["cell", "type"]).size().reset_index(name="count")


def bench_stats(n: int, k: int, seed: int) -> None:
    rows = incidents(n, seed)
    city = default_city()

    def src(_session: Any, **_kw: Any) -> list[dict[str, Any]]:
        return rows

    t0 = time.perf_counter()
    out = monthly_stats(None, month="2026-11", k=k, source=src, city=city,  # type: ignore[arg-type]
                        now=dt.datetime(2026, 12, 4, tzinfo=dt.UTC))
    t_precinct = time.perf_counter() - t0
    t0 = time.perf_counter()
    plain = floor(rows)
    t_floor = time.perf_counter() - t0
    published = sum(c["count"] for c in out["cells"])
    print(f"incidents {n:,}  k={k}")
    print(f"  precinct monthly_stats (areas+cells+snapped points): {t_precinct:7.2f} s")
    print(f"  floor: pandas count per H3 cell and type (no protection): {t_floor:7.2f} s")
    print(f"  ratio precinct/floor: {t_precinct / t_floor:5.1f}x")
    print(f"  floor publishes {len(plain):,} cell counts, {int((plain['count'] < k).sum()):,} of them below k")
    merged = sum(c["merged"] for c in out["cells"])
    print(f"  precinct publishes {len(out['cells']):,} cell counts ({merged:,} merged), "
          f"{len(out['areas']):,} area counts, {len(out['points']):,} point counts; none below k")
    non_sensitive = sum(1 for r in rows if r["type"] not in ("sexual_assault", "domestic"))
    print(f"  share of non-sensitive incidents published in cells: {published / non_sensitive:6.1%}")


def bench_cap(alerts: int) -> None:
    from precinct.config import Settings
    from precinct.core.db import Database
    from precinct.public import alerts as al
    from precinct.public.areas import parse_circle

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), environment="test")
        db = Database(f"sqlite:///{tmp}/b.db")
        db.migrate()
        texts = {"zh-CN": {"event": "电信诈骗预警", "headline": "冒充客服退款诈骗", "description": "近期多发。"},
                 "en-US": {"event": "Fraud warning", "headline": "Fake refunds", "description": "Several cases."}}
        with db.session() as s:
            ids = [al.create_alert(s, author="a", texts=texts, area=parse_circle("32.49,119.92,3"),
                                   urgency="Immediate", severity="Severe", certainty="Likely").id
                   for _ in range(alerts)]
        with db.session() as s:  # the first approval also loads the schema and makes the key
            al.approve_alert(s, alert_id=ids[0], approver="b", settings=settings)
        t0 = time.perf_counter()
        for alert_id in ids[1:]:
            with db.session() as s:
                al.approve_alert(s, alert_id=alert_id, approver="b", settings=settings)
        per = (time.perf_counter() - t0) / max(1, alerts - 1)
        db.dispose()
    print(f"CAP approval (build, XSD-validate, sign, validate, store): {per * 1000:6.1f} ms per alert "
          f"over {alerts - 1} alerts")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--incidents", type=int, default=100_000)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--alerts", type=int, default=50)
    args = ap.parse_args()
    bench_stats(args.incidents, args.k, args.seed)
    bench_cap(args.alerts)


if __name__ == "__main__":
    main()
