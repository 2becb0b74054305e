"""Set-cover decisions for the p-center search: can ``p`` columns cover every row of a 0/1 matrix?

Tried in order of cost: greedy (a quick yes), the LP relaxation (a quick no when its optimum
exceeds ``p``), a weighted swap local search (a yes), and only then a HiGHS MILP with cut-off
``p`` (an exact yes or no). Dominated rows and columns are removed before the LP and the MILP.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from precinct.patrol.milp import solve_milp


class CoverTimeout(Exception):
    """The MILP hit the deadline before deciding."""


class Undecided:
    """The cheap tests could not decide (returned instead of raising when ``exact=False``)."""


UNDECIDED = Undecided()


def reduce_cover(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def greedy_cover(mask: np.ndarray, limit: int) -> np.ndarray | None:
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


def local_cover(mask: np.ndarray, p: int, start: np.ndarray | None, iters: int = 150,
                 max_iters: int = 1000) -> np.ndarray | None:
    """Swap local search for ``p`` columns covering every row (weighted-row scheme, as in set-cover
    heuristics: rows that stay uncovered grow heavier so the search leaves plateaus).

    Returns a cover or ``None``; a ``None`` proves nothing (the MILP decides then).
    """
    nr, nc = mask.shape
    if nc <= p:
        return np.arange(nc) if mask.any(axis=1).all() else None
    chosen = [] if start is None else [int(j) for j in start if j < nc][:p]
    f = mask.astype(np.float32)  # 0/1 and integer weights: exact, half the work of float64
    while len(chosen) < p:  # fill greedily
        cnt = f[:, chosen].sum(axis=1) if chosen else np.zeros(nr)
        gain = f[cnt == 0].sum(axis=0)
        gain[chosen] = -1
        chosen.append(int(np.argmax(gain)))
    sel = np.asarray(chosen, dtype=np.int64)
    weight = np.ones(nr, dtype=np.float32)
    tabu = np.full(nc, -1)
    best_unc, last_gain = nr + 1, 0
    fs = sp.csr_matrix(f)  # a column covers few rows at radii near the optimum: sparse products
    fst = fs.T.tocsr()
    for it in range(max_iters):
        cov = mask[:, sel]
        cnt = cov.sum(axis=1)
        unc = cnt == 0
        n_unc = int(unc.sum())
        if n_unc == 0:
            return sel
        if n_unc < best_unc:
            best_unc, last_gain = n_unc, it
        elif it - last_gain > iters:
            break  # stalled
        weight[unc] += 1.0
        gain = fst @ (weight * unc)  # weighted rows each column would newly cover
        one = np.flatnonzero(cnt == 1)  # rows covered by exactly one chosen column ...
        by = np.argmax(cov[one], axis=1)  # ... which is sel[by]
        loss_base = np.bincount(by, weights=weight[one], minlength=sel.size)  # lost by removing sel[o]
        w_only = sp.csr_matrix((weight[one], (by, one)), shape=(sel.size, nr))
        keep = (w_only @ fs).toarray()  # (p, nc): of those, still covered by the new column
        delta = gain[None, :] - (loss_base[:, None] - keep)
        delta[:, sel] = -np.inf
        delta[:, tabu > it] = -np.inf
        o, j = np.unravel_index(int(np.argmax(delta)), delta.shape)
        tabu[sel[o]] = it + 3
        sel[o] = j
    return sel if mask[:, sel].any(axis=1).all() else None


def decide_cover(d_sub: np.ndarray, radius: float, p: int, stats: dict[str, Any], deadline: float | None, *,
                 start: np.ndarray | None = None, exact: bool = True,
                 cheap_done: bool = False, local: bool = True) -> np.ndarray | Undecided | None:
    """At most ``p`` columns covering every row of ``d_sub`` within ``radius``.

    Parameters
    ----------
    d_sub
        ``(rows, m)`` costs of the working subset of demand rows.
    radius
        A row is covered by a column when their cost is at most this.
    p
        Most columns.
    stats
        Counters updated in place (``greedy_hits``, ``lp_proofs``, ``local_hits``, ``milps``).
    deadline
        ``time.perf_counter()`` value after which a MILP raises :class:`CoverTimeout`.
    start
        Columns of a previous solution to start the local search from.
    exact
        Without it, :data:`UNDECIDED` is returned where a MILP would be needed.
    cheap_done
        The cheap tests already failed at this radius on these rows: go straight to the MILP.
    local
        Try the local search (skip it where only a proof of "no" is hoped for).

    Returns
    -------
    numpy.ndarray or None or Undecided
        Column indices of a cover (a "yes"), ``None`` (a proof of "no"), or :data:`UNDECIDED`.
    """
    mask = d_sub <= radius
    if not mask.any(axis=1).all():
        return None
    if not cheap_done:
        greedy = greedy_cover(mask, p)
        if greedy is not None:
            stats["greedy_hits"] += 1
            return greedy
    rows, cols = reduce_cover(mask)
    sub = mask[np.ix_(rows, cols)]
    a = sp.csr_matrix(sub, dtype=np.float64)
    ones, inf = np.ones(a.shape[0]), np.full(a.shape[0], np.inf)
    if not cheap_done:
        lp = solve_milp(np.ones(cols.size), a, ones, inf, integrality=np.zeros(cols.size))
        if lp.x is not None and lp.objective > p + 1e-6:
            stats["lp_proofs"] += 1
            return None
        if local:
            begin = None if start is None else np.flatnonzero(np.isin(cols, start))
            found = local_cover(sub, p, begin)
            if found is not None:
                stats["local_hits"] += 1
                return cols[found]
        if not exact:
            return UNDECIDED
    stats["milps"] += 1
    remaining = None if deadline is None else deadline - time.perf_counter()
    if remaining is not None and remaining <= 0:
        raise CoverTimeout
    t = time.perf_counter()
    res = solve_milp(np.ones(cols.size), a, ones, inf, objective_bound=p + 0.5, time_limit=remaining,
                     heuristic_effort=0.3)
    stats["milp_seconds"] = stats.get("milp_seconds", 0.0) + time.perf_counter() - t
    picked = None if res.x is None else cols[res.x > 0.5]
    if picked is not None and picked.size <= p:
        return picked
    if res.status != "optimal" and res.status != "infeasible":
        raise CoverTimeout  # stopped before deciding (an incumbent above p proves nothing)
    return None

