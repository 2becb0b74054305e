"""Capacitated p-median: posts with a workload limit, on HiGHS.

A demand point's calls may be shared between posts (splittable demand: a point is an aggregate of
calls), so the model is the classical one with continuous assignment shares:

    min  sum_ij w_i d_ij x_ij
    s.t. sum_j x_ij = 1                      every demand point fully served
         sum_i w_i x_ij <= Q_j y_j           workload of post j within its capacity
         x_ij <= y_j                         (strong linking, while the model stays small)
         sum_j y_j = p (+ fixed),  y binary

Only finite pairs get an ``x`` (a cutoff matrix keeps the model sparse).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from precinct.errors import BadInput, SolverTimeout, Unreachable
from precinct.patrol.milp import solve_milp
from precinct.patrol.solution import PostSolution

STRONG_LINK_PAIRS = 300_000  # above this many pairs the x <= y rows are left out (weaker LP, smaller model)


def capacitated_p_median(cost: np.ndarray | sp.spmatrix | sp.sparray, p: int, capacity: np.ndarray | float,
                         weights: np.ndarray | None = None, *, fixed: np.ndarray | None = None,
                         time_limit: float | None = None) -> PostSolution:
    """Choose ``p`` posts (beyond ``fixed``) and share each demand point's calls among them so that
    no post exceeds its workload capacity, minimising the weighted response time.

    Parameters
    ----------
    cost
        ``(n, m)`` travel seconds, dense (``inf`` = unreachable) or sparse (missing = unreachable).
    p
        Posts to add.
    capacity
        Workload per post in the units of ``weights`` (one number or one per candidate).
    weights
        Demand weights (default 1).
    fixed
        Posts already open.
    time_limit
        Seconds for HiGHS.

    Returns
    -------
    PostSolution
        ``response`` is each point's mean response over its shares, ``assignment`` its main post;
        ``stats["shares"]`` counts (point, post) pairs with a positive share.
    """
    t0 = time.perf_counter()
    coo = sp.coo_matrix(cost) if sp.issparse(cost) else None
    if coo is None:
        d = np.asarray(cost, dtype=np.float64)
        if d.ndim != 2:
            raise BadInput("cost matrix must be 2-D")
        r, c = np.nonzero(np.isfinite(d))
        v = d[r, c]
        n, m = d.shape
    else:
        n, m = coo.shape
        keep = np.isfinite(coo.data)
        r, c, v = coo.row[keep], coo.col[keep], coo.data[keep].astype(np.float64)
    if (v < 0).any() or np.isnan(v).any():
        raise BadInput("cost matrix entries must be non-negative seconds")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    q = np.broadcast_to(np.asarray(capacity, dtype=np.float64), (m,)).copy()
    if w.shape != (n,) or (w < 0).any() or not (q > 0).all():
        raise BadInput("weights must be non-negative per row and capacities positive",
                       detail={"field": "capacity"})
    fx = np.zeros(0, dtype=np.int64) if fixed is None else np.unique(np.asarray(fixed, dtype=np.int64))
    total = p + fx.size
    if not 1 <= total <= m:
        raise BadInput(f"posts must be between 1 and the number of candidates ({m})", detail={"posts": p})
    if np.bincount(r, minlength=n).min(initial=1) == 0:
        bad = int(np.flatnonzero(np.bincount(r, minlength=n) == 0)[0])
        raise Unreachable("a demand point cannot reach any candidate site", detail={"row": bad})
    if np.sort(q)[-total:].sum() < w.sum() - 1e-9:
        raise Unreachable(f"the {total} largest capacities ({np.sort(q)[-total:].sum():g}) are below the demand "
                          f"({w.sum():g})", detail={"posts": p})
    k = r.size
    strong = k <= STRONG_LINK_PAIRS
    xi = m + np.arange(k)  # x columns after the y columns
    blocks = [
        (r, xi, np.ones(k)),  # assignment rows 0..n-1
        (n + c, xi, w[r]),  # capacity rows n..n+m-1
        (n + np.arange(m), np.arange(m), -q),
        (np.full(m, n + m), np.arange(m), np.ones(m)),  # cardinality row
    ]
    n_rows = n + m + 1
    lower: list[np.ndarray] = [np.ones(n), np.full(m, -np.inf), np.array([float(total)])]
    upper: list[np.ndarray] = [np.ones(n), np.zeros(m), np.array([float(total)])]
    if strong:
        blocks += [(n_rows + np.arange(k), xi, np.ones(k)), (n_rows + np.arange(k), c, -np.ones(k))]
        lower.append(np.full(k, -np.inf))
        upper.append(np.zeros(k))
        n_rows += k
    a = sp.csr_matrix((np.concatenate([b[2] for b in blocks]),
                       (np.concatenate([b[0] for b in blocks]), np.concatenate([b[1] for b in blocks]))),
                      shape=(n_rows, m + k))
    obj = np.concatenate([np.zeros(m), w[r] * v])
    col_lo = np.zeros(m + k)
    col_lo[fx] = 1.0
    integ = np.concatenate([np.ones(m, dtype=np.int32), np.zeros(k, dtype=np.int32)])
    res = solve_milp(obj, a, np.concatenate(lower), np.concatenate(upper), col_lower=col_lo,
                     integrality=integ, time_limit=time_limit)
    if res.x is None:
        if res.status == "time_limit":
            raise SolverTimeout(f"no solution within the time limit; best bound {res.bound:.6g}",
                                detail={"bound": res.bound, "time_limit_s": time_limit})
        raise Unreachable(f"no {total} posts can serve every demand point within the capacities",
                          detail={"posts": p})
    posts = np.flatnonzero(res.x[:m] > 0.5)
    x = res.x[m:]
    share = sp.csr_matrix((x, (r, c)), shape=(n, m))
    dd = sp.csr_matrix((v, (r, c)), shape=(n, m))
    resp = np.asarray(share.multiply(dd).sum(axis=1)).ravel()
    main = np.asarray(share[:, posts].argmax(axis=1)).ravel()
    value = float(w @ resp)
    optimal = res.status == "optimal"
    bound = value if optimal else min(float(res.bound), value)
    gap = 0.0 if optimal else abs(value - bound) / max(abs(value), 1e-9)
    load = np.asarray(share.multiply(w[:, None]).sum(axis=0)).ravel()[posts]
    stats = {"seconds": time.perf_counter() - t0, "status": "optimal" if optimal else res.status,
             "pairs": int(k), "strong_linking": strong, "shares": int((x > 1e-6).sum()),
             "max_load_share": float((load / q[posts]).max()) if posts.size else 0.0}
    return PostSolution(posts=posts, objective="pmedian", value=value, bound=bound, gap=gap, response=resp,
                        assignment=main, stats=stats)
