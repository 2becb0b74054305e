"""Near-repeat analysis: the Knox test, single-threshold and over distance x time bands.

Every unordered pair of events counts once. A pair is *close* in a band when its distance and its
time difference both fall in the band; bands exclude their lower edge and include their upper
edge, except that a first band starting at 0 includes 0 (so distance bands ``0, 0.1, 200`` give
the near-repeat calculator's "same location" row, then ``(0.1, 200]``).

Inference permutes the events' times over their places (Knox's null: no space-time interaction),
as pointpats and the near-repeat calculator do. The expected count of a band is the permutation
mean, which has a closed form: a spatial pair receives a uniformly random pair of the times, so
``E = NS_d * NT_t / (n (n - 1) / 2)`` with ``NS_d`` the pairs in the distance band and ``NT_t``
all pairs in the time band (pointpats' ``ENST`` for one band). The p-value is
``(1 + #{permutations >= observed}) / (1 + P)``.

Fast because only the pairs within the largest distance are ever looked at (a k-d tree's pair
query), and each permutation is a gather and a histogram over those pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from precinct.errors import BadInput

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
MAX_BANDS = 50
MAX_PAIRS = 60_000_000
MAX_PERMUTATIONS = 99_999
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class KnoxTable:
    """Band table: ``observed`` / ``expected`` / ``p_value`` / ``median`` are (distance x time) arrays."""

    distance_edges: FloatArray
    time_edges: FloatArray
    observed: IntArray
    expected: FloatArray
    p_value: FloatArray | None
    median: FloatArray | None
    n: int
    permutations: int
    spatial_pairs: FloatArray
    temporal_pairs: FloatArray

    @property
    def ratio(self) -> FloatArray:
        """Knox ratio: observed over expected (NaN where nothing is expected)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(np.where(self.expected > 0, self.observed / self.expected, np.nan))

    def rows(self) -> list[dict[str, Any]]:
        """The table as the CLI prints it, distance band by time band."""
        out = []
        ratio = self.ratio
        for a in range(self.observed.shape[0]):
            for b in range(self.observed.shape[1]):
                row: dict[str, Any] = {
                    "distance_m": [float(self.distance_edges[a]), float(self.distance_edges[a + 1])],
                    "time_days": [float(self.time_edges[b]), float(self.time_edges[b + 1])],
                    "observed": int(self.observed[a, b]),
                    "expected": float(self.expected[a, b]),
                    "knox_ratio": None if np.isnan(ratio[a, b]) else float(ratio[a, b]),
                    "p_value": None if self.p_value is None else float(self.p_value[a, b]),
                }
                if self.median is not None:
                    row["median_permuted"] = float(self.median[a, b])
                out.append(row)
        return out

    def zone(self, *, alpha: float = 0.05) -> dict[str, float] | None:
        """The near-repeat zone: how far and how long risk stays raised around a new event.

        Walks out from the nearest band along distance (in the first time band) and along time
        (in the first distance band) while the band's Knox ratio exceeds 1 with ``p <= alpha``.
        None when the nearest band itself is not raised.
        """
        if self.p_value is None:
            return None
        raised = (self.ratio > 1.0) & (self.p_value <= alpha)
        if not raised[0, 0]:
            return None
        d = 0
        while d + 1 < raised.shape[0] and raised[d + 1, 0]:
            d += 1
        t = 0
        while t + 1 < raised.shape[1] and raised[0, t + 1]:
            t += 1
        return {"distance_m": float(self.distance_edges[d + 1]), "time_days": float(self.time_edges[t + 1])}


def check_edges(edges: Sequence[float], what: str) -> FloatArray:
    """Band edges: at least two, non-negative, strictly increasing, at most 50 bands."""
    e = np.asarray(edges, dtype=np.float64)
    if e.ndim != 1 or e.size < 2 or e.size > MAX_BANDS + 1:
        raise BadInput(f"{what}: give 2 to {MAX_BANDS + 1} band edges", detail={"field": what})
    if not np.isfinite(e).all() or e[0] < 0 or (np.diff(e) <= 0).any():
        raise BadInput(f"{what}: edges must be non-negative and strictly increasing", detail={"field": what,
                                                                                             "edges": e.tolist()})
    return e


def parse_edges(text: str, what: str) -> FloatArray:
    """``"0,100,200"`` as band edges."""
    try:
        vals = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise BadInput(f"{what}: {text!r} is not a comma-separated list of numbers", detail={"field": what}) from None
    return check_edges(vals, what)


def _band(values: FloatArray, edges: FloatArray) -> IntArray:
    """Band index of each value (-1 outside): ``(lo, hi]``, the first band ``[0, hi]``."""
    b = np.asarray(np.searchsorted(edges[1:], values, side="left"), dtype=np.int64)
    out = (b >= edges.size - 1) | ((values <= edges[0]) & (edges[0] > 0))
    b[out] = -1
    return b


def _pairs_le(sorted_t: FloatArray, x: float, *, strict: bool = False) -> int:
    """Number of unordered pairs with time difference <= x (< x when ``strict``)."""
    idx = np.searchsorted(sorted_t, sorted_t + x, side="left" if strict else "right")
    return int((idx - np.arange(sorted_t.size) - 1).clip(min=0).sum())


def _time_band_pairs(t: FloatArray, edges: FloatArray) -> FloatArray:
    st = np.sort(t)
    le = np.array([_pairs_le(st, float(e)) for e in edges], dtype=np.float64)
    counts = np.diff(le)
    if edges[0] == 0:
        counts[0] = le[1]  # [0, hi] includes simultaneous events
    return np.asarray(counts)


def _dist_band_pairs(d2: FloatArray, edges: FloatArray) -> FloatArray:
    b = _band(d2, edges**2)
    return np.bincount(b[b >= 0], minlength=edges.size - 1).astype(np.float64)


def knox_table(x: FloatArray, y: FloatArray, t: FloatArray, *, distance_edges: Sequence[float],
               time_edges: Sequence[float], permutations: int = 999, seed: int | None = None,
               keep_median: bool = True, progress: Progress | None = None) -> KnoxTable:
    """The Knox table over distance x time bands with Monte Carlo p-values.

    Parameters
    ----------
    x, y : numpy.ndarray
        Positions in metres.
    t : numpy.ndarray
        Times in days.
    distance_edges, time_edges : sequence of float
        Band edges (metres, days).
    permutations : int
        Permutations of the times (0: observed and expected only).
    seed : int, optional
        Seed of the permutations.
    keep_median : bool
        Also report each band's median permuted count (the calculator's Knox ratio divides by it).
    progress : callable, optional
        ``progress(done, total)`` after each block of permutations.

    Returns
    -------
    KnoxTable

    Raises
    ------
    BadInput
        Bad edges, arrays of different lengths, fewer than two events, or more than 60 million
        close pairs (narrow the largest distance band or the area).
    """
    de = check_edges(distance_edges, "distance_bands")
    te = check_edges(time_edges, "time_bands")
    xs, ys, ts = (np.asarray(v, dtype=np.float64) for v in (x, y, t))
    n = xs.size
    if ys.size != n or ts.size != n:
        raise BadInput("x, y and t must have the same length")
    if n < 2:
        raise BadInput("the Knox test needs at least two events")
    if not (np.isfinite(xs).all() and np.isfinite(ys).all() and np.isfinite(ts).all()):
        raise BadInput("positions and times must be finite")
    if not 0 <= permutations <= MAX_PERMUTATIONS:
        raise BadInput(f"permutations must be 0-{MAX_PERMUTATIONS}", detail={"field": "permutations"})
    tree = cKDTree(np.column_stack([xs, ys]))
    dmax = float(de[-1])
    # count before building: refuse an all-pairs problem early
    n_close = tree.count_neighbors(tree, dmax * (1 + 1e-9))
    if (n_close - n) // 2 > MAX_PAIRS:
        raise BadInput(f"{(n_close - n) // 2:,} pairs lie within {dmax:g} m, more than {MAX_PAIRS:,}; "
                       "use a smaller largest distance band", detail={"field": "distance_bands"})
    pairs = tree.query_pairs(dmax * (1 + 1e-9), output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    d2 = (xs[i] - xs[j]) ** 2 + (ys[i] - ys[j]) ** 2
    db = _band(d2, de**2)
    keep = db >= 0
    i, j, db = i[keep], j[keep], db[keep]
    nd, nt = de.size - 1, te.size - 1
    ns_d = np.bincount(db, minlength=nd).astype(np.float64)
    nt_t = _time_band_pairs(ts, te)
    total_pairs = n * (n - 1) / 2
    expected = np.outer(ns_d, nt_t) / total_pairs

    def table(tt: FloatArray) -> IntArray:
        tb = _band(np.abs(tt[i] - tt[j]), te)
        ok = tb >= 0
        return np.bincount(db[ok] * nt + tb[ok], minlength=nd * nt).reshape(nd, nt).astype(np.int64)

    observed = table(ts)
    p_value = median = None
    if permutations:
        rng = np.random.default_rng(seed)
        exceed = np.zeros((nd, nt), dtype=np.int64)
        sims = np.empty((permutations, nd, nt), dtype=np.int64) if keep_median else None
        step = max(1, permutations // 50)
        for k in range(permutations):
            sim = table(ts[rng.permutation(n)])
            exceed += sim >= observed
            if sims is not None:
                sims[k] = sim
            if progress is not None and ((k + 1) % step == 0 or k + 1 == permutations):
                progress(k + 1, permutations)
        p_value = np.asarray((exceed + 1.0) / (permutations + 1.0), dtype=np.float64)
        if sims is not None:
            median = np.asarray(np.median(sims, axis=0), dtype=np.float64)
    return KnoxTable(de, te, observed, expected, p_value, median, n, permutations, ns_d, nt_t)


@dataclass(frozen=True)
class Knox:
    """Single-threshold Knox: pairs within ``distance_m`` and ``time_days`` (both inclusive)."""

    observed: int
    expected: float
    p_value: float | None
    p_poisson: float
    ns: int
    nt: int
    pairs: int
    distance_m: float
    time_days: float
    permutations: int

    def as_dict(self) -> dict[str, Any]:
        ratio = self.observed / self.expected if self.expected > 0 else None
        return {"observed": self.observed, "expected": self.expected, "knox_ratio": ratio,
                "p_value": self.p_value, "p_poisson": self.p_poisson, "spatial_pairs": self.ns,
                "temporal_pairs": self.nt, "pairs": self.pairs, "distance_m": self.distance_m,
                "time_days": self.time_days, "permutations": self.permutations}


def knox(x: FloatArray, y: FloatArray, t: FloatArray, *, distance_m: float, time_days: float,
         permutations: int = 999, seed: int | None = None, progress: Progress | None = None) -> Knox:
    """Knox statistic for one threshold, as pointpats' ``Knox`` (same close pairs and expected value).

    Parameters
    ----------
    x, y, t : numpy.ndarray
        Positions (metres) and times (days).
    distance_m, time_days : float
        A pair is close when its distance is at most ``distance_m`` and its time difference at
        most ``time_days``.
    permutations : int
        Permutations of the times for the p-value (0: none).
    seed : int, optional
        Seed of the permutations.
    progress : callable, optional
        ``progress(done, total)``.

    Returns
    -------
    Knox
        ``observed`` (close pairs), ``expected`` (``NS * NT / pairs``), ``p_value`` (Monte Carlo)
        and ``p_poisson`` (pointpats' Poisson approximation).
    """
    from scipy.stats import poisson

    if not (distance_m > 0 and time_days >= 0):
        raise BadInput("distance must be positive and time non-negative", detail={"field": "distance_m"})
    tab = knox_table(x, y, t, distance_edges=[0.0, distance_m], time_edges=[0.0, time_days or 1e-9],
                     permutations=permutations, seed=seed, keep_median=False, progress=progress)
    ns, nt, n = int(tab.spatial_pairs[0]), int(tab.temporal_pairs[0]), tab.n
    expected = float(tab.expected[0, 0])
    obs = int(tab.observed[0, 0])
    return Knox(obs, expected, None if tab.p_value is None else float(tab.p_value[0, 0]),
                float(1 - poisson.cdf(obs, expected)), ns, nt, n * (n - 1) // 2, float(distance_m),
                float(time_days), permutations)
