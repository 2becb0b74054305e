"""Exact p-median at county scale: local search, a Benders LP bound, reduced-cost fixing, branch-and-cut.

The solve runs in four steps, each cheaper than the next and each able to finish it:

1. **Primal**: greedy addition and fast interchange (:mod:`precinct.patrol.local_search`) give an
   incumbent, usually optimal on its own.
2. **Dual**: the LP relaxation of Elloumi's radius formulation, solved by Benders decomposition as
   Durán, Alès & Elloumi (2023) do: the master keeps the ``m`` post variables and one ``theta_i``
   per demand row; for a fractional ``y`` the subproblem of row ``i`` is solved in closed form by
   walking its sorted costs to the level ``r`` where the open mass reaches 1, and gives the cut
   ``theta_i >= r - sum_j (r - d_ij)^+ y_j``. The LP bound of this family equals that of the
   radius formulation (and of the classical assignment formulation), without its ``n x m`` size.
   The bound is rounded up when costs and weights are integers.
3. **Fixing**: with the LP bound ``L``, the incumbent ``U`` and the reduced cost ``c_j`` of a post,
   ``L + c_j`` is a lower bound for every plan that opens ``j``; posts with ``L + c_j`` above the
   best value still worth finding are closed for good (and likewise opened).
4. **Exact**: branch-and-Benders-cut (:mod:`precinct.patrol.benders`): depth first over HiGHS
   LPs of the master, every node's LP closed by separation (so its bound is the radius-LP bound
   at the node), reduced-cost fixing at every node, reliability branching on pseudocosts with
   strong branching on untrusted posts (:mod:`precinct.patrol.branching`). On large instances the
   solved master is kept after root fixing, less its slack cuts; on smaller ones it is rebuilt
   over the posts left.

HiGHS's own MILP is not used for step 4: its master would only see the cuts found so far, and
HiGHS 1.16 names a lazy-constraint callback that highspy gives no way to answer. Iterating the
master MILP (cuts added at each answer, objective cutoff at the incumbent) was tried on pmed36:
the first MILP alone took 977 nodes and 80 s, with no proof after 120 s (39 s CPU), where the
tree here proves it in about 17 s CPU.

References
----------
Elloumi, S. (2010). A tighter formulation of the p-median problem. J. Comb. Optim. 19, 69-83.
Durán-Mateluna, C., Alès, Z. & Elloumi, S. (2023). An efficient Benders decomposition for the
p-median problem. European Journal of Operational Research 308, 84-96.
García, S., Labbé, M. & Marín, A. (2011). Solving large p-median problems with a radius
formulation. INFORMS J. Computing 23, 546-556.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from precinct.patrol.benders import LpPoint, Master, Search, branch_and_cut, cut_radius, solve_lp
from precinct.patrol.local_search import Rows, greedy, interchange

REBUILD_ENTRIES = 2_000_000  # up to this many row entries the master LP is rebuilt after root fixing


@dataclass
class Outcome:
    """Result of :func:`solve_rows`: open columns (``None`` without a solution), bound, status."""

    posts: np.ndarray | None
    value: float
    bound: float
    status: str  # optimal | time_limit | infeasible
    stats: dict[str, Any] = field(default_factory=dict)


def rows_from_dense(d: np.ndarray, w: np.ndarray) -> tuple[Rows, np.ndarray]:
    """Sorted rows of a dense matrix (``inf`` = missing), identical rows merged (weights summed).

    Returns the rows and, per original row, the index of its merged row.
    """
    uniq, inverse = np.unique(d, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    wu = np.bincount(inverse, weights=w, minlength=uniq.shape[0])
    order = np.argsort(uniq, axis=1, kind="stable")
    sd = np.take_along_axis(uniq, order, axis=1)
    fin = np.isfinite(sd)
    counts = fin.sum(axis=1)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return Rows.build(indptr, order[fin], sd[fin], wu, d.shape[1]), inverse


def rows_from_sparse(a: sp.spmatrix | sp.sparray, w: np.ndarray) -> tuple[Rows, np.ndarray]:
    """Sorted rows of a sparse matrix: stored entries are costs (explicit zeros count), the rest
    unreachable. Rows are not merged; the map is the identity."""
    csr = sp.csr_matrix(a)
    csr.sum_duplicates()
    n, m = csr.shape
    row_of = np.repeat(np.arange(n), np.diff(csr.indptr))
    fin = np.isfinite(csr.data)
    order = np.lexsort((csr.data[fin], row_of[fin]))
    cols = csr.indices[fin][order]
    dist = csr.data[fin][order]
    counts = np.bincount(row_of[fin], minlength=n)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return Rows.build(indptr, cols, dist, np.asarray(w, dtype=np.float64), m), np.arange(n)


def _is_integral(rows: Rows) -> bool:
    return bool(np.all(rows.dist == np.round(rows.dist)) and np.all(rows.weight == np.round(rows.weight)))


def solve_rows(rows: Rows, p: int, *, fixed: np.ndarray | None = None,
               cover: list[tuple[np.ndarray, float]] | None = None, time_limit: float | None = None,
               start: np.ndarray | None = None, rel_gap: float = 0.0) -> Outcome:
    """Open ``p`` columns (``fixed`` among them) minimising ``sum_i w_i min_{open j} d_ij``.

    Parameters
    ----------
    rows
        Sorted demand rows (:func:`rows_from_dense`, :func:`rows_from_sparse`).
    p
        Total open columns, ``fixed`` included.
    fixed
        Columns that must be open.
    cover
        Side constraints ``(columns, k)``: at least ``k`` of ``columns`` open (backup coverage).
    time_limit
        Seconds for the whole solve.
    start
        Optional starting posts for the local search.
    rel_gap
        Stop once the incumbent is proven within this relative gap (``0`` = prove optimality).

    Returns
    -------
    Outcome
        ``status`` is ``optimal`` (proven), ``time_limit`` (``posts`` may be ``None``) or
        ``infeasible`` (no ``p`` columns reach every row / meet ``cover``).
    """
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    fixed = np.zeros(0, dtype=np.int64) if fixed is None else np.unique(np.asarray(fixed, dtype=np.int64))
    cover = cover or []
    stats: dict[str, Any] = {"merged_rows": rows.n, "method": "local search"}
    integral = _is_integral(rows)

    def cover_ok(posts: np.ndarray) -> bool:
        o = np.zeros(rows.m, dtype=bool)
        o[posts] = True
        return all(int(o[c].sum()) >= k for c, k in cover)

    # 1. primal: greedy + fast interchange
    posts = greedy(rows, p, fixed) if start is None else np.unique(np.concatenate([start, fixed]))[:p]
    posts, moves = interchange(rows, posts, fixed, deadline=deadline)
    search = Search(rows, p, integral, None, math.inf, stats, rel_gap)
    if cover_ok(posts):
        search.offer(posts)
    stats["heuristic_moves"] = moves
    stats["heuristic_value"] = search.best_value
    stats["heuristic_seconds"] = time.perf_counter() - t0
    if rows.m <= p:
        search.offer(np.arange(rows.m))
        return Outcome(search.best, search.best_value, search.best_value,
                       "optimal" if search.best is not None else "infeasible", stats)
    # 2. root LP by Benders cuts (in-out around the incumbent)
    lower = np.zeros(rows.m)
    upper = np.ones(rows.m)
    lower[fixed] = 1.0
    master = Master(rows, p, lower, upper, cover)
    core = np.zeros(rows.m)
    core[posts] = 1.0
    master.add_cuts(np.arange(rows.n), _incumbent_radius(rows, posts))
    root = solve_lp(master, deadline, core=core)
    stats["lp_seconds"] = time.perf_counter() - t0 - stats["heuristic_seconds"]
    stats["cuts_root"] = master.n_cuts
    if isinstance(root, str):
        if root == "infeasible":
            return Outcome(None, math.inf, math.inf, "infeasible", stats)
        return _timeout(search, -math.inf, stats)
    stats["lp_bound"] = root.value
    # 3. the LP's own plan, polished, and reduced-cost fixing at the root
    search.offer(_polish(rows, root, p, fixed, upper, cover_ok, deadline))
    lb = math.ceil(root.value - 1e-6) if integral else root.value
    if search.best is not None and search.pruned(lb):
        stats["method"] = "local search + LP bound"
        return _done(search, stats, t0, master)
    if search.best is not None:
        closed = (lower < 0.5) & (root.y < 1e-9) & (root.value + root.reduced >= search.prune_at())
        upper[closed] = 0.0
        if closed.any():
            search.floor = min(search.floor, float((root.value + root.reduced)[closed].min()))
        stats["closed_at_root"] = int(closed.sum())
        if closed.sum() >= rows.m // 4:
            # the columns left only: shorter rows for separation and sparser cuts
            small = rows.restrict(upper > 0.5, p)
            if rows.dist.size <= REBUILD_ENTRIES:  # a new, smaller master LP too
                master = Master(small, p, lower, upper, cover)
                master.add_cuts(np.arange(small.n), _incumbent_radius(small, search.best))
                master.add_cuts(np.arange(small.n), cut_radius(small, root.y))
            else:  # keep the solved LP (its cuts stay valid), without its slack cuts, and warm-start from it
                master.rows = small
                master.set_bounds(lower, upper)
                stats["cuts_purged"] = master.purge()
            again = solve_lp(master, deadline, core=core)
            if isinstance(again, str):
                return _timeout(search, root.value, stats)
            root = again
            search.rows = small
        else:
            master.set_bounds(lower, upper)
    # 4. branch-and-Benders-cut
    stats["method"] = "branch-and-Benders-cut"
    bound, status = branch_and_cut(master, search, lower, upper, root, deadline, cover_ok)
    if status == "optimal":
        if search.best is None:
            return Outcome(None, math.inf, math.inf, "infeasible", stats)
        return _done(search, stats, t0, master)
    return _timeout(search, max(bound, root.value), stats)


def _round_up_if(v: float, integral: bool) -> float:
    return math.ceil(v - 1e-6) if integral else v


def _incumbent_radius(rows: Rows, posts: np.ndarray) -> np.ndarray:
    o = np.zeros(rows.m, dtype=bool)
    o[posts] = True
    near, d1, _ = rows.first_two(o)
    last = rows.dist[np.maximum(rows.indptr[1:] - 1, 0)] if rows.dist.size else np.zeros(rows.n)
    return np.where(near >= 0, d1, last)


def _polish(rows: Rows, point: LpPoint, p: int, fixed: np.ndarray, upper: np.ndarray,
            cover_ok: Any, deadline: float | None = None) -> np.ndarray:
    """The LP's ``p`` largest posts after fast interchange (a second incumbent candidate)."""
    prio = point.y.copy()
    prio[fixed] = 2.0
    top = np.sort(np.argsort(-prio, kind="stable")[:p])
    got, _ = interchange(rows, top, fixed, upper > 0.5, deadline=deadline)
    return got if cover_ok(got) else np.zeros(0, dtype=np.int64)


def _done(search: Search, stats: dict[str, Any], t0: float, master: Master) -> Outcome:
    stats["cuts"] = master.n_cuts
    stats["seconds"] = time.perf_counter() - t0
    if search.rel_gap > 0 and search.floor < search.best_value:
        return Outcome(search.best, search.best_value, search.floor, "gap_reached", stats)
    return Outcome(search.best, search.best_value, search.best_value, "optimal", stats)


def _timeout(search: Search, bound: float, stats: dict[str, Any]) -> Outcome:
    rows = search.rows
    lengths = np.diff(rows.indptr)
    nearest = np.where(lengths > 0, rows.dist[np.minimum(rows.indptr[:-1], max(rows.dist.size - 1, 0))], 0.0) \
        if rows.dist.size else np.zeros(rows.n)
    bound = max(bound, _round_up_if(float(rows.weight @ nearest), search.integral))  # each row's nearest column
    if search.best is not None and bound >= search.prune_at():
        return Outcome(search.best, search.best_value, search.best_value, "optimal", stats)
    return Outcome(search.best, search.best_value, min(bound, search.best_value), "time_limit", stats)
