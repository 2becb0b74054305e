"""Exact facility-location solvers on a cost matrix: p-center, p-median, maximal covering.

All three take a ``(n_demand, n_candidates)`` matrix of travel seconds (``inf`` = unreachable) and
return a :class:`PostSolution` with a certified optimality gap.

p-center
    :func:`precinct.patrol.pcenter.p_center`: a search over the sorted radii, each decided by a
    set cover on a growing subset of demand rows (iterative relaxation, Contardo, Iori & Kramer
    2019), on HiGHS.
p-median
    The compact chain formulation of Elloumi (2010) (one continuous variable per demand and
    distinct distance level, at most ``m - p + 1`` levels), which is much tighter than the
    assignment formulation; solved by HiGHS with a gap and a time limit.
maximal covering (MCLP)
    Church & ReVelle (1974) with demand rows that share a coverage pattern merged.

References
----------
Elloumi, S. (2010). A tighter formulation of the p-median problem. J. Comb. Optim. 19, 69-83.
Church, R. & ReVelle, C. (1974). The maximal covering location problem. Papers Reg. Sci. 32.
Contardo, C., Iori, M. & Kramer, R. (2019). A scalable exact algorithm for the vertex p-center
problem. Computers & OR 103, 211-220.
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

from precinct.errors import BadInput, Unreachable
from precinct.patrol.milp import solve_milp
from precinct.patrol.pcenter import p_center
from precinct.patrol.solution import (
    Objective,
    PostSolution,
    Progress,
    assign,
    check_cost_matrix,
    pad_posts,
    response_summary,
)

__all__ = ["Objective", "PostSolution", "Progress", "assign", "check_cost_matrix", "max_covering", "mean_response",
           "p_center", "p_median", "pad_posts", "response_summary", "solve"]

# --- p-median ----------------------------------------------------------------------------------

def p_median(cost: np.ndarray, p: int, weights: np.ndarray | None = None, *,
             time_limit: float | None = None, mip_rel_gap: float = 0.0,
             max_cost: float | None = None) -> PostSolution:
    """Choose ``p`` columns minimising the weighted sum of each row's nearest cost.

    Parameters
    ----------
    cost
        ``(n, m)`` travel seconds; ``inf`` = unreachable.
    p
        Number of posts.
    weights
        Demand weights (default 1).
    time_limit
        Seconds for HiGHS; the incumbent and the proven bound are returned on expiry.
    mip_rel_gap
        Stop when the relative gap is at most this (``0`` = prove optimality).
    max_cost
        Optional cap: only solutions whose every response is ``<= max_cost`` are allowed (used to
        break p-center ties by the mean).

    Returns
    -------
    PostSolution
        ``value`` = the weighted sum of responses (the mean is ``value / sum(weights)``).

    Notes
    -----
    Elloumi's formulation: with ``D_i^1 < ... < D_i^K`` the distinct costs of row ``i``, variable
    ``z_i^k`` is 1 when row ``i`` is served farther than ``D_i^k``; objective
    ``sum_i w_i (D_i^1 + sum_k (D_i^{k+1} - D_i^k) z_i^k)`` subject to the chain
    ``z_i^{k-1} - z_i^k <= sum_{j: d_ij = D_i^k} y_j`` (``z_i^0 = 1``) and ``sum_j y_j = p``.
    Levels beyond the ``(m - p + 1)``-th nearest candidate are never used and are cut.
    """
    t0 = time.perf_counter()
    d, w = check_cost_matrix(cost, p, weights)
    _n, m = d.shape
    if max_cost is not None:
        d = np.where(d <= max_cost + 1e-9, d, np.inf)
    if not np.isfinite(d.min(axis=1)).all():
        bad = int(np.flatnonzero(~np.isfinite(d.min(axis=1)))[0])
        raise Unreachable("a demand point cannot reach any candidate site", detail={"row": bad})
    active = np.flatnonzero(w > 0)
    # merge identical rows (same costs) by summing their weights
    uniq, inverse = np.unique(d[active], axis=0, return_inverse=True)
    wu = np.bincount(inverse.ravel(), weights=w[active], minlength=uniq.shape[0])
    order = np.argsort(uniq, axis=1, kind="stable")
    sorted_d = np.take_along_axis(uniq, order, axis=1)
    depth = m - p + 1  # at least one of these is always open
    const = 0.0
    z_cost: list[np.ndarray] = []
    rows_i: list[np.ndarray] = []
    cols_i: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    row_lo: list[np.ndarray] = []
    n_z = 0
    n_rows = 0
    for i in range(uniq.shape[0]):
        di = sorted_d[i, :depth]
        oi = order[i, :depth]
        fin = np.isfinite(di)
        di, oi = di[fin], oi[fin]
        levels, start = np.unique(di, return_index=True)
        k = levels.size
        const += wu[i] * levels[0]
        # z variables for levels 0..k-2 (z_k = served beyond level k); k-1 of them
        nz = k - 1
        if nz > 0:
            z_cost.append(wu[i] * np.diff(levels))
        # chain rows r = 0..k-1: z_{r-1} - z_r - sum_{d = level r} y <= 0, with z_{-1} = 1, z_{k-1} = 0
        level_of = np.repeat(np.arange(k), np.diff(np.append(start, di.size)))
        # y entries
        rows_i.append(n_rows + level_of)
        cols_i.append(oi)
        vals.append(-np.ones(oi.size))
        if nz > 0:
            zc = m + n_z + np.arange(nz)
            # -z_r in row r (r = 0..k-2)
            rows_i.append(n_rows + np.arange(nz))
            cols_i.append(zc)
            vals.append(-np.ones(nz))
            # +z_{r-1} in row r (r = 1..k-1)
            rows_i.append(n_rows + 1 + np.arange(nz))
            cols_i.append(zc)
            vals.append(np.ones(nz))
        hi = np.zeros(k)
        hi[0] = -1.0  # row 0: -z_0 - sum y <= -1
        row_lo.append(hi)
        n_z += nz
        n_rows += k
    card_row = n_rows
    rows_i.append(np.full(m, card_row))
    cols_i.append(np.arange(m))
    vals.append(np.ones(m))
    a = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows_i), np.concatenate(cols_i))),
                      shape=(n_rows + 1, m + n_z))
    upper = np.concatenate([*row_lo, [p]])
    lower = np.concatenate([np.full(n_rows, -np.inf), [p]])
    c = np.concatenate([np.zeros(m), *z_cost]) if z_cost else np.zeros(m)
    integrality = np.concatenate([np.ones(m, dtype=np.int32), np.zeros(n_z, dtype=np.int32)])
    res = solve_milp(c, a, lower, upper, col_upper=np.ones(m + n_z), integrality=integrality,
                     time_limit=time_limit, mip_rel_gap=mip_rel_gap)
    if res.x is None:
        raise Unreachable("no feasible set of posts (every demand point must reach one)")
    posts = np.sort(np.flatnonzero(res.x[:m] > 0.5))
    d_full = np.asarray(cost, dtype=np.float64)
    resp, idx = assign(d_full, posts)
    value = float(np.dot(w, resp))
    bound = float(res.bound + const) if res.status != "optimal" else value
    gap = 0.0 if res.status == "optimal" else abs(value - bound) / max(abs(value), 1e-9)
    stats = {"seconds": time.perf_counter() - t0, "rows": int(a.shape[0]), "columns": int(a.shape[1]),
             "merged_rows": int(uniq.shape[0]), "status": res.status}
    return PostSolution(posts=posts, objective="pmedian", value=value, bound=min(bound, value), gap=gap,
                        response=resp, assignment=idx, stats=stats)


# --- maximal covering --------------------------------------------------------------------------

def max_covering(cost: np.ndarray, p: int, service_time: float, weights: np.ndarray | None = None, *,
                 time_limit: float | None = None, mip_rel_gap: float = 0.0) -> PostSolution:
    """Choose ``p`` columns maximising the demand weight within ``service_time`` of a post.

    Parameters
    ----------
    cost
        ``(n, m)`` travel seconds.
    p
        Number of posts.
    service_time
        Seconds: a row is covered when some chosen post is at most this far.
    weights
        Demand weights (default 1).
    time_limit, mip_rel_gap
        As for :func:`p_median`.

    Returns
    -------
    PostSolution
        ``value`` = covered weight; ``bound`` = proven upper bound.
    """
    t0 = time.perf_counter()
    d, w = check_cost_matrix(cost, p, weights)
    if not service_time > 0:
        raise BadInput("minutes must be positive", detail={"service_time": service_time})
    n, m = d.shape
    mask = sp.csr_matrix(d <= service_time)
    mask.sort_indices()
    groups: dict[bytes, int] = {}
    gw: list[float] = []
    grow: list[int] = []
    for i in range(n):
        if w[i] <= 0 or mask.indptr[i] == mask.indptr[i + 1]:
            continue
        key = mask.indices[mask.indptr[i]:mask.indptr[i + 1]].tobytes()
        g = groups.get(key)
        if g is None:
            groups[key] = len(gw)
            gw.append(float(w[i]))
            grow.append(i)
        else:
            gw[g] += float(w[i])
    k = len(gw)
    if k == 0:
        posts = pad_posts(d, np.empty(0, dtype=np.int64), p, w)
        value, bound, status = 0.0, 0.0, "optimal"
    else:
        cov = mask[np.asarray(grow)]
        # rows: z_g - sum_{j covers g} y_j <= 0 ; sum y = p
        a = sp.vstack([sp.hstack([-cov.astype(np.float64), sp.identity(k, format="csr")]),
                       sp.hstack([sp.csr_matrix(np.ones((1, m))), sp.csr_matrix((1, k))])]).tocsr()
        lower = np.concatenate([np.full(k, -np.inf), [p]])
        upper = np.concatenate([np.zeros(k), [p]])
        c = np.concatenate([np.zeros(m), np.asarray(gw)])
        integrality = np.concatenate([np.ones(m, dtype=np.int32), np.zeros(k, dtype=np.int32)])
        res = solve_milp(c, a, lower, upper, integrality=integrality, maximize=True,
                         time_limit=time_limit, mip_rel_gap=mip_rel_gap)
        if res.x is None:
            raise Unreachable("maximal covering found no solution in the time limit")
        posts = pad_posts(d, np.flatnonzero(res.x[:m] > 0.5), p, w)
        status = res.status
        value = float(w[(d[:, posts] <= service_time).any(axis=1)].sum())
        bound = value if status == "optimal" else max(float(res.bound), value)
    resp, idx = assign(d, posts)
    gap = 0.0 if status == "optimal" else abs(bound - value) / max(abs(value), 1e-9)
    stats = {"seconds": time.perf_counter() - t0, "merged_rows": k, "status": status,
             "coverable_weight": float(sum(gw)), "total_weight": float(w.sum())}
    return PostSolution(posts=posts, objective="mclp", value=value, bound=bound, gap=gap, response=resp,
                        assignment=idx, stats=stats)


def solve(cost: np.ndarray, p: int, objective: Objective, *, weights: np.ndarray | None = None,
          service_time: float | None = None, time_limit: float | None = None,
          progress: Progress | None = None, tiebreak: bool = False) -> PostSolution:
    """Dispatch to :func:`p_center`, :func:`p_median` or :func:`max_covering`.

    With ``tiebreak`` a p-center answer is refined: among all post sets achieving the optimal
    farthest response, the one with the least weighted mean response is taken (a p-median over
    the costs capped at that radius); the farthest response stays proven optimal.
    """
    if objective == "pcenter":
        sol = p_center(cost, p, time_limit=time_limit, progress=progress)
        if tiebreak and sol.optimal:
            remaining = None if time_limit is None else max(time_limit - sol.stats["seconds"], 1.0)
            try:
                refined = p_median(cost, p, weights, time_limit=remaining, max_cost=sol.value)
            except Unreachable:
                return sol
            if refined.response.max() <= sol.value + 1e-9:
                sol.posts, sol.response, sol.assignment = refined.posts, refined.response, refined.assignment
                sol.stats["tiebreak_gap"] = refined.gap
        return sol
    if objective == "pmedian":
        return p_median(cost, p, weights, time_limit=time_limit)
    if objective == "mclp":
        if service_time is None:
            raise BadInput("maximal covering needs --minutes", detail={"field": "minutes"})
        return max_covering(cost, p, service_time, weights, time_limit=time_limit)
    raise BadInput(f"unknown objective {objective!r}; one of pcenter, pmedian, mclp",
                   detail={"field": "objective"})


def mean_response(sol: PostSolution, weights: np.ndarray | None = None) -> float:
    """Weighted mean response of a solution."""
    w = np.ones_like(sol.response) if weights is None else np.asarray(weights, dtype=np.float64)
    return float(np.average(sol.response, weights=w)) if w.sum() > 0 else math.nan
