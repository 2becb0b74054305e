"""Knox benchmark: Precinct's Knox test against pointpats' Knox, side by side, on real burglaries.

Input: 10,000 real residential burglaries (Chicago, the first 10,000 of 2016-2017 in file order,
from ``../shared/data/chicago-burglary``; EPSG:26971 metres, days), threshold 200 m and 14 days,
999 permutations. Both must report the same close-pair count and expected value.

Run:  nice .venv/bin/python bench/analytics_knox.py [--events 10000 --permutations 999]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np

from precinct.analytics.knox import knox, knox_table

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "chicago-burglary" / "chicago_burglary_2014_2017.csv"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--permutations", type=int, default=999)
    ap.add_argument("--distance", type=float, default=200.0)
    ap.add_argument("--days", type=float, default=14.0)
    args = ap.parse_args()
    import pandas as pd
    from pointpats.spacetime import Knox

    d = pd.read_csv(DATA)
    day = (pd.to_datetime(d["date_single"], format="%d/%m/%Y") - pd.Timestamp("2016-01-01")).dt.days
    d = d[day >= 0].assign(t=day[day >= 0]).head(args.events)
    x, y, t = d["x"].to_numpy(float), d["y"].to_numpy(float), d["t"].to_numpy(float)
    print(f"{x.size:,} events, <= {args.distance:g} m and <= {args.days:g} days, {args.permutations} permutations, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")

    t0 = time.perf_counter()
    ours = knox(x, y, t, distance_m=args.distance, time_days=args.days, permutations=args.permutations, seed=1)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    knox_table(x, y, t, distance_edges=[0, 0.1, 100, 200, 300, 400], time_edges=[0, 7, 14, 21, 28],
               permutations=args.permutations, seed=1)
    t_tab = time.perf_counter() - t0

    warnings.simplefilter("ignore")
    np.random.seed(1)
    t0 = time.perf_counter()
    ref = Knox(np.column_stack([x, y]), t.reshape(-1, 1), delta=args.distance, tau=args.days,
               permutations=args.permutations)
    t_ref = time.perf_counter() - t0
    assert ours.observed == ref.nst and abs(ours.expected - ref.expected[0, 0]) < 1e-9 * ours.expected
    print(f"close pairs {ours.observed} (pointpats {ref.nst}), expected {ours.expected:.4f} "
          f"(pointpats {ref.expected[0, 0]:.4f}), p {ours.p_value:.4f} (pointpats {ref.p_sim:.4f})")
    print(f"precinct knox        : {t_ours:8.2f} s")
    print(f"precinct 5x4 bands   : {t_tab:8.2f} s (the calculator's table; pointpats has no band table)")
    print(f"pointpats Knox       : {t_ref:8.2f} s")
    print(f"speed-up             : {t_ref / t_ours:8.1f} x   (target >= 10 x); load at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
