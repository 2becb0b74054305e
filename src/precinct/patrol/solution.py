"""The result of a facility-location solve and the helpers every solver shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from precinct.errors import BadInput

Objective = Literal["pcenter", "pmedian", "mclp"]
Progress = Callable[[str, float], None]


@dataclass
class PostSolution:
    """Chosen posts and how well they serve the demand.

    Attributes
    ----------
    posts
        Indices of the chosen candidate columns, sorted.
    objective
        ``"pcenter"``, ``"pmedian"`` or ``"mclp"``.
    value
        Objective value: the farthest response (p-center), the weighted sum of responses
        (p-median) or the demand weight covered within the time limit (MCLP).
    bound
        Proven bound on the optimum (lower for p-center / p-median, upper for MCLP).
    gap
        Relative gap ``|value - bound| / |value|``; ``0`` means proven optimal.
    response
        Per demand point, seconds to its nearest chosen post.
    assignment
        Per demand point, the index into ``posts`` of that post.
    stats
        Solver statistics (iterations, MILPs solved, seconds).
    """

    posts: np.ndarray
    objective: Objective
    value: float
    bound: float
    gap: float
    response: np.ndarray
    assignment: np.ndarray
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def optimal(self) -> bool:
        return self.gap <= 1e-9


# --- helpers ---------------------------------------------------------------------------------

def check_cost_matrix(cost: np.ndarray, p: int, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Validate a cost matrix, facility count and weights; return float arrays."""
    d = np.asarray(cost, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] == 0 or d.shape[1] == 0:
        raise BadInput("cost matrix must be 2-D with at least one row and one column",
                       detail={"shape": list(d.shape)})
    if np.isnan(d).any() or (d < 0).any():
        raise BadInput("cost matrix entries must be non-negative seconds (inf = unreachable)")
    n, m = d.shape
    if not 1 <= p <= m:
        raise BadInput(f"posts must be between 1 and the number of candidates ({m})", detail={"posts": p})
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or np.isnan(w).any() or (w < 0).any():
        raise BadInput("weights must be one non-negative number per demand row")
    return d, w


def assign(cost: np.ndarray, posts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest chosen post per demand row: ``(response_seconds, index_into_posts)``."""
    sub = np.asarray(cost)[:, np.asarray(posts, dtype=np.int64)]
    idx = np.argmin(sub, axis=1)
    return sub[np.arange(sub.shape[0]), idx], idx


def response_summary(response: np.ndarray, weights: np.ndarray | None = None) -> dict[str, float]:
    """Max, weighted p90, weighted mean and share within 5/10/15 minutes of response times."""
    r = np.asarray(response, dtype=np.float64)
    w = np.ones_like(r) if weights is None else np.asarray(weights, dtype=np.float64)
    keep = w > 0
    r, w = r[keep], w[keep]
    if r.size == 0:
        return {"max_s": 0.0, "p90_s": 0.0, "mean_s": 0.0, "within_5min": 1.0, "within_10min": 1.0,
                "within_15min": 1.0}
    order = np.argsort(r, kind="stable")
    cw = np.cumsum(w[order]) / w.sum()
    p90 = float(r[order][min(int(np.searchsorted(cw, 0.9 - 1e-12)), r.size - 1)])
    return {
        "max_s": float(r.max()),
        "p90_s": p90,
        "mean_s": float(np.average(r, weights=w)),
        "within_5min": float(w[r <= 300].sum() / w.sum()),
        "within_10min": float(w[r <= 600].sum() / w.sum()),
        "within_15min": float(w[r <= 900].sum() / w.sum()),
    }


def pad_posts(cost: np.ndarray, posts: np.ndarray, p: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Fill a solution with fewer than ``p`` posts greedily, each addition cutting the weighted sum
    of responses the most (extra posts never worsen any response)."""
    d = np.asarray(cost, dtype=np.float64)
    chosen = [int(j) for j in posts]
    w = np.ones(d.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    near = d[:, chosen].min(axis=1) if chosen else np.full(d.shape[0], np.inf)
    while len(chosen) < min(p, d.shape[1]):
        cand = np.minimum(near[:, None], d)
        capped = np.where(np.isfinite(cand), cand, 1e12)
        score = w @ capped
        score[chosen] = np.inf
        j = int(np.argmin(score))
        chosen.append(j)
        near = np.minimum(near, d[:, j])
    return np.sort(np.asarray(chosen, dtype=np.int64))
