"""Exact facility-location solvers on a cost matrix: p-center, p-median, maximal covering.

All three take a ``(n_demand, n_candidates)`` matrix of travel seconds (``inf`` = unreachable) and
return a :class:`PostSolution` with a certified optimality gap.

p-center
    :func:`precinct.patrol.pcenter.p_center`: a search over the sorted radii, each decided by a
    set cover on a growing subset of demand rows (iterative relaxation, Contardo, Iori & Kramer
    2019), on HiGHS.
p-median
    Elloumi's (2010) radius formulation by branch-and-Benders-cut (Durán-Mateluna, Alès &
    Elloumi 2023) on HiGHS LPs, from a fast-interchange incumbent (:mod:`precinct.patrol.pmedian`);
    dense or sparse (cutoff) matrices, fixed posts and backup-coverage constraints.
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

from precinct.errors import BadInput, SolverTimeout, Unreachable
from precinct.patrol.milp import solve_milp
from precinct.patrol.pcenter import p_center
from precinct.patrol.pmedian import rows_from_dense, rows_from_sparse, solve_rows
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

def p_median(cost: np.ndarray | sp.spmatrix | sp.sparray, p: int, weights: np.ndarray | None = None, *,
             time_limit: float | None = None, mip_rel_gap: float = 0.0, max_cost: float | None = None,
             fixed: np.ndarray | None = None, cover: list[tuple[np.ndarray, int]] | None = None,
             ) -> PostSolution:
    """Choose ``p`` columns minimising the weighted sum of each row's nearest cost.

    Parameters
    ----------
    cost
        ``(n, m)`` travel seconds; ``inf`` = unreachable. A SciPy sparse matrix is read as a
        cutoff matrix: stored entries (explicit zeros included) are costs, missing ones unreachable.
    p
        Number of posts to choose, not counting ``fixed``.
    weights
        Demand weights (default 1).
    time_limit
        Seconds; on expiry the incumbent and the proven bound are returned (gap > 0).
    mip_rel_gap
        Stop when the relative gap is at most this (``0`` = prove optimality).
    max_cost
        Optional cap: only solutions whose every response is ``<= max_cost`` are allowed (used to
        break p-center ties by the mean).
    fixed
        Columns already open (today's posts and stations): kept, and ``p`` more are added.
    cover
        Side constraints ``(columns, k)``: at least ``k`` of ``columns`` open, e.g. two posts
        within the service time of a demand point in a red risk cell (backup coverage).

    Returns
    -------
    PostSolution
        ``value`` = the weighted sum of responses (the mean is ``value / sum(weights)``);
        ``posts`` include ``fixed``; ``stats["status"]`` is ``optimal`` or ``time_limit``.

    Raises
    ------
    Unreachable
        A demand point reaches no candidate, or no plan meets the constraints.
    SolverTimeout
        The time limit passed before any plan was found (the message gives the best bound).

    Notes
    -----
    Fast interchange for the incumbent, then branch-and-Benders-cut on Elloumi's radius
    formulation (:mod:`precinct.patrol.pmedian`, :mod:`precinct.patrol.benders`).
    """
    t0 = time.perf_counter()
    sparse = sp.issparse(cost)
    if sparse:
        csr = sp.csr_matrix(cost, dtype=np.float64)
        n, m = csr.shape
        check_cost_matrix(np.zeros((1, m)), p, None)
        w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (n,) or np.isnan(w).any() or (w < 0).any():
            raise BadInput("weights must be one non-negative number per demand row")
        if np.isnan(csr.data).any() or (csr.data < 0).any():
            raise BadInput("cost matrix entries must be non-negative seconds")
        if max_cost is not None:
            csr.data[csr.data > max_cost + 1e-9] = np.inf
        rows, inverse = rows_from_sparse(csr, w)
    else:
        d, w = check_cost_matrix(np.asarray(cost), 1, weights)
        n, m = d.shape
        if max_cost is not None:
            d = np.where(d <= max_cost + 1e-9, d, np.inf)
        rows, inverse = rows_from_dense(d, w)
    fx = np.zeros(0, dtype=np.int64) if fixed is None else np.unique(np.asarray(fixed, dtype=np.int64))
    if fx.size and (fx.min() < 0 or fx.max() >= m):
        raise BadInput("fixed posts must be candidate columns", detail={"fixed": fx.tolist()})
    total = p + fx.size
    if p < 0 or total > m or total < 1:
        raise BadInput(f"posts must be between 1 and the number of candidates ({m - fx.size} free)",
                       detail={"posts": p})
    lengths = np.diff(rows.indptr)
    if (lengths == 0).any():
        bad = int(np.flatnonzero(lengths[inverse] == 0)[0])
        raise Unreachable("a demand point cannot reach any candidate site", detail={"row": bad})
    cov = [(np.asarray(c, dtype=np.int64), float(k)) for c, k in (cover or [])]
    out = solve_rows(rows, total, fixed=fx, cover=cov, time_limit=time_limit, rel_gap=mip_rel_gap)
    if out.status == "infeasible":
        raise Unreachable(f"no {total} posts reach every demand point" + (" and meet the backup coverage"
                                                                          if cov else ""), detail={"posts": p})
    if out.posts is None:
        raise SolverTimeout(f"no solution within the time limit; best bound {out.bound:.6g}",
                            detail={"bound": out.bound, "time_limit_s": time_limit})
    posts = np.sort(out.posts)
    o = np.zeros(m, dtype=bool)
    o[posts] = True
    near, d1, _ = rows.first_two(o)
    resp = d1[inverse]
    idx = np.searchsorted(posts, near[inverse])
    value = float(np.dot(w, resp))
    bound = min(out.bound, value)
    gap = 0.0 if out.status == "optimal" else abs(value - bound) / max(abs(value), 1e-9)
    stats = {**out.stats, "seconds": time.perf_counter() - t0, "status": out.status, "sparse": sparse,
             "fixed": int(fx.size)}
    return PostSolution(posts=posts, objective="pmedian", value=value, bound=bound, gap=gap,
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
            except (Unreachable, SolverTimeout):
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
