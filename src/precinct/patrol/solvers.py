"""Exact facility-location solvers on a cost matrix: p-center, p-median, maximal covering.

All three take a ``(n_demand, n_candidates)`` matrix of travel seconds (``inf`` = unreachable) and
return a :class:`PostSolution` with a certified optimality gap.

p-center
    Row generation over demand points (the relaxation on a subset ``S`` of demand gives a lower
    bound; its solution, evaluated on all demand, an upper bound), and for each subset an exact
    search over the sorted candidate radii, each radius a set-cover MILP on HiGHS. The answer is
    proven optimal when both bounds meet. This keeps every MILP a few hundred rows even for 10,000
    demand points, where the textbook assignment formulation (spopt's) needs ``n x m`` variables.
p-median
    The compact chain formulation of Elloumi (2010) (one continuous variable per demand and
    distinct distance level, at most ``m - p + 1`` levels), which is much tighter than the
    assignment formulation; solved by HiGHS with a gap and a time limit.
maximal covering (MCLP)
    Church & ReVelle (1974) with demand rows that share a coverage pattern merged.

References
----------
Elloumi, S. (2010). A tighter formulation of the p-median problem. J. Comb. Optim. 19, 69-83.
Chen, D. & Chen, R. (2009). New relaxation-based algorithms for the optimal solution of the
continuous and discrete p-center problems. Computers & OR 36, 1646-1655.
Church, R. & ReVelle, C. (1974). The maximal covering location problem. Papers Reg. Sci. 32.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from precinct.errors import BadInput, Unreachable
from precinct.patrol.milp import solve_milp

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


class _Timeout(Exception):
    pass


def _reduce_cover(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop dominated columns and redundant rows of a set-cover matrix (rows = demand).

    A column whose rows are a subset of another column's is never needed; a row whose columns are
    a superset of another row's is covered whenever that row is. Returns kept (rows, columns).
    """
    rows = np.arange(mask.shape[0])
    cols = np.flatnonzero(mask.any(axis=0))
    m = mask[:, cols]
    for _ in range(2):
        f = m.astype(np.float32)
        cnt = f.sum(axis=0)
        inter = f.T @ f  # inter[j, k] = |cover(j) & cover(k)|
        sub = inter >= cnt[:, None] - 0.5  # cover(j) subset of cover(k)
        np.fill_diagonal(sub, False)
        idx = np.arange(cnt.size)
        bigger = (cnt[None, :] > cnt[:, None]) | ((cnt[None, :] == cnt[:, None]) & (idx[None, :] < idx[:, None]))
        keep_c = ~(sub & bigger).any(axis=1)
        cols, m = cols[keep_c], m[:, keep_c]
        f = m.astype(np.float32)
        rc = f.sum(axis=1)
        inter = f @ f.T  # inter[i, k] = |cols(i) & cols(k)|
        sup = inter >= rc[None, :] - 0.5  # cols(k) subset of cols(i): row i redundant given k
        np.fill_diagonal(sup, False)
        idx = np.arange(rc.size)
        smaller = (rc[None, :] < rc[:, None]) | ((rc[None, :] == rc[:, None]) & (idx[None, :] < idx[:, None]))
        keep_r = ~(sup & smaller).any(axis=1)
        if keep_r.all() and keep_c.all():
            break
        rows, m = rows[keep_r], m[keep_r]
    return rows, cols


def _greedy_cover(mask: np.ndarray, limit: int) -> np.ndarray | None:
    """Greedy set cover with at most ``limit`` columns; ``None`` if greedy needs more."""
    uncovered = np.ones(mask.shape[0], dtype=bool)
    chosen: list[int] = []
    while uncovered.any():
        if len(chosen) == limit:
            return None
        gain = mask[uncovered].sum(axis=0)
        j = int(np.argmax(gain))
        if gain[j] == 0:
            return None
        chosen.append(j)
        uncovered &= ~mask[:, j]
    return np.asarray(chosen, dtype=np.int64)


def _local_cover(mask: np.ndarray, p: int, start: np.ndarray | None, iters: int = 150,
                 max_iters: int = 1000) -> np.ndarray | None:
    """Swap local search for ``p`` columns covering every row (weighted-row scheme, as in set-cover
    heuristics: rows that stay uncovered grow heavier so the search leaves plateaus).

    Returns a cover or ``None``; a ``None`` proves nothing (the MILP decides then).
    """
    nr, nc = mask.shape
    if nc <= p:
        return np.arange(nc) if mask.any(axis=1).all() else None
    chosen = [] if start is None else [int(j) for j in start if j < nc][:p]
    f = mask.astype(np.float64)
    while len(chosen) < p:  # fill greedily
        cnt = f[:, chosen].sum(axis=1) if chosen else np.zeros(nr)
        gain = f[cnt == 0].sum(axis=0)
        gain[chosen] = -1
        chosen.append(int(np.argmax(gain)))
    sel = np.asarray(chosen, dtype=np.int64)
    weight = np.ones(nr)
    tabu = np.full(nc, -1)
    best_unc, last_gain = nr + 1, 0
    for it in range(max_iters):
        cnt = f[:, sel].sum(axis=1)
        unc = cnt == 0
        n_unc = int(unc.sum())
        if n_unc == 0:
            return sel
        if n_unc < best_unc:
            best_unc, last_gain = n_unc, it
        elif it - last_gain > iters:
            break  # stalled
        weight[unc] += 1.0
        gain = (weight * unc) @ f  # weighted rows each column would newly cover
        only = (cnt == 1)[:, None] & mask[:, sel]  # rows covered by exactly that chosen column
        loss_base = (weight[:, None] * only).sum(axis=0)  # per chosen column
        keep = (weight[:, None] * only).T @ f  # (p, nc): of those, still covered by the new column
        delta = gain[None, :] - (loss_base[:, None] - keep)
        delta[:, sel] = -np.inf
        delta[:, tabu > it] = -np.inf
        o, j = np.unravel_index(int(np.argmax(delta)), delta.shape)
        tabu[sel[o]] = it + 3
        sel[o] = j
    return sel if mask[:, sel].any(axis=1).all() else None


def _cover_subset(d_sub: np.ndarray, radius: float, p: int, stats: dict[str, Any],
                  deadline: float | None, start: np.ndarray | None = None) -> np.ndarray | None:
    """At most ``p`` columns covering every row of ``d_sub`` within ``radius``, or ``None`` (proven).

    Greedy first (a quick yes), then a set-cover MILP with cut-off ``p`` (a proof of no).
    """
    mask = d_sub <= radius
    if not mask.any(axis=1).all():
        return None
    greedy = _greedy_cover(mask, p)
    if greedy is not None:
        stats["greedy_hits"] += 1
        return greedy
    rows, cols = _reduce_cover(mask)
    sub = mask[np.ix_(rows, cols)]
    a = sp.csr_matrix(sub, dtype=np.float64)
    ones, inf = np.ones(a.shape[0]), np.full(a.shape[0], np.inf)
    lp = solve_milp(np.ones(cols.size), a, ones, inf, integrality=np.zeros(cols.size))
    if lp.x is not None and lp.objective > p + 1e-6:
        stats["lp_proofs"] += 1
        return None
    begin = None if start is None else np.flatnonzero(np.isin(cols, start))
    local = _local_cover(sub, p, begin)
    if local is not None:
        stats["local_hits"] += 1
        return cols[local]
    stats["milps"] += 1
    remaining = None if deadline is None else deadline - time.perf_counter()
    if remaining is not None and remaining <= 0:
        raise _Timeout
    res = solve_milp(np.ones(cols.size), a, ones, inf, objective_bound=p + 0.5, time_limit=remaining,
                     heuristic_effort=0.3)
    if res.x is None:
        if res.status == "time_limit":
            raise _Timeout
        return None
    picked = cols[res.x > 0.5]
    return picked if picked.size <= p else None


def _feasible(d: np.ndarray, radius: float, p: int, subset: list[int], in_subset: np.ndarray,
              stats: dict[str, Any], deadline: float | None, batch: int) -> np.ndarray | None:
    """Exactly decide whether ``p`` posts can serve every demand row within ``radius``.

    Row generation: solve the cover on the rows in ``subset``; a "no" there is a proof for all
    rows; a "yes" is checked on every row and the rows it leaves uncovered join ``subset``.
    """
    cover: np.ndarray | None = None
    while True:
        cover = _cover_subset(d[subset], radius, p, stats, deadline, cover)
        if cover is None:
            return None
        near = d[:, cover].min(axis=1)
        missed = np.flatnonzero(near > radius)
        if missed.size == 0:
            return cover
        missed = missed[np.argsort(-near[missed], kind="stable")]
        new = _diverse(missed, d, batch)
        new = new[~in_subset[new]]
        in_subset[new] = True
        subset.extend(new.tolist())
        stats["rows_added"] += int(new.size)


def _diverse(rows: np.ndarray, d: np.ndarray, k: int) -> np.ndarray:
    """Up to ``k`` of ``rows`` (given in priority order) with distinct nearest candidates.

    Rows served by the same nearest candidate are usually neighbours and constrain a cover in
    the same way; taking one of each spreads the working subset over the area.
    """
    nearest = np.argmin(d[rows], axis=1)
    _, first = np.unique(nearest, return_index=True)
    return rows[np.sort(first)][:k]


def _pcenter_heuristic(d: np.ndarray, p: int) -> np.ndarray:
    """A starting solution: greedy farthest-point insertion."""
    first = int(np.argmin(d.max(axis=0)))
    posts = [first]
    near = d[:, first].copy()
    while len(posts) < p:
        worst = int(np.argmax(near))
        order = np.argsort(d[worst])
        j = next((int(c) for c in order if int(c) not in posts), None)
        if j is None:
            break
        posts.append(j)
        near = np.minimum(near, d[:, j])
    return np.asarray(sorted(posts), dtype=np.int64)


def p_center(cost: np.ndarray, p: int, *, time_limit: float | None = None,
             progress: Progress | None = None, batch: int | None = None) -> PostSolution:
    """Choose ``p`` candidate columns minimising the farthest demand row's nearest cost.

    Parameters
    ----------
    cost
        ``(n, m)`` travel seconds from demand points to candidate sites; ``inf`` = unreachable.
    p
        Number of posts.
    time_limit
        Seconds; on expiry the best solution and the proven lower bound are returned.
    progress
        Called as ``progress(message, fraction_done)``.
    batch
        Most demand rows added to the working subset per round (default ``2 p + 20``).

    Returns
    -------
    PostSolution
        ``value`` = the farthest response, ``bound`` = proven lower bound, ``gap`` relative.

    Raises
    ------
    Unreachable
        A demand point reaches no candidate.

    Notes
    -----
    The optimum is one of the matrix's distinct values. A binary search over those between a lower
    bound (every row must reach some candidate) and the heuristic's value decides each radius
    exactly by :func:`_feasible`; a feasible answer lowers the upper end to the radius actually
    achieved. Each decision is a set cover on a small working subset of rows that grows only by
    rows a candidate cover misses, with dominated rows and columns removed before HiGHS sees it.
    """
    t0 = time.perf_counter()
    d, _ = check_cost_matrix(cost, p)
    n, _m = d.shape
    nearest_any = d.min(axis=1)
    if not np.isfinite(nearest_any).all():
        bad = int(np.flatnonzero(~np.isfinite(nearest_any))[0])
        raise Unreachable("a demand point cannot reach any candidate site", detail={"row": bad})
    deadline = None if time_limit is None else t0 + time_limit
    stats: dict[str, Any] = {"decisions": 0, "milps": 0, "greedy_hits": 0, "local_hits": 0,
                             "lp_proofs": 0, "rows_added": 0}
    lb = float(nearest_any.max())
    posts = _pcenter_heuristic(d, p)
    resp, _ = assign(d, posts)
    ub = float(resp.max())
    stats["heuristic_value"] = ub
    flat = d[(d >= lb) & (d < ub)]
    radii = np.unique(flat)
    del flat
    batch = batch or 2 * p + 20
    subset = [int(i) for i in _diverse(np.argsort(-resp, kind="stable"), d, 4 * p + 20)]
    subset.append(int(np.argmax(nearest_any)))
    subset = list(dict.fromkeys(subset))
    in_subset = np.zeros(n, dtype=bool)
    in_subset[subset] = True
    left, right = 0, int(radii.size)  # the optimum is radii[k] for some k in [left, right), or ub
    total = max(int(np.ceil(np.log2(max(radii.size, 2)))), 1)
    timed_out = False
    while left < right:
        mid = (left + right) // 2
        stats["decisions"] += 1
        try:
            cover = _feasible(d, float(radii[mid]), p, subset, in_subset, stats, deadline, batch)
        except _Timeout:
            timed_out = True
            break
        if cover is None:
            left = mid + 1
            lb = float(radii[left]) if left < radii.size else ub
        else:
            posts = np.sort(cover)
            ub = float(d[:, posts].min(axis=1).max())
            right = int(np.searchsorted(radii, ub, side="left"))
        if progress is not None:
            progress(f"p-center: {lb:.1f} .. {ub:.1f} s", min(stats["decisions"] / total, 1.0))
    if not timed_out:
        lb = ub
    if not np.isfinite(ub):
        raise Unreachable(f"no {p} posts can reach every demand point", detail={"posts": p})
    posts = pad_posts(d, posts, p)
    resp, idx = assign(d, posts)
    stats["rows_used"] = len(subset)
    stats["seconds"] = time.perf_counter() - t0
    gap = 0.0 if ub <= lb else (ub - lb) / max(ub, 1e-9)
    return PostSolution(posts=posts, objective="pcenter", value=float(resp.max()), bound=min(lb, ub), gap=gap,
                        response=resp, assignment=idx, stats=stats)


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
