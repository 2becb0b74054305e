"""Branch-and-Benders-cut for the p-median on HiGHS (Durán-Mateluna, Alès & Elloumi 2023).

The master problem keeps one variable ``y_j`` per candidate and one ``theta_i`` per demand row;
``theta_i`` is bounded from below by Benders cuts. For any ``y`` the subproblem of row ``i`` (its
part of Elloumi's radius formulation) is solved in closed form: walk the row's sorted costs until
the open mass reaches 1, at cost ``r``; the cut is ``theta_i >= r - sum_j (r - d_ij)^+ y_j``, a
prefix of the sorted row. Cuts found at one node hold everywhere.

HiGHS solves the master LPs (dual simplex, warm-started from the previous basis as bounds and cuts
change); the branching is done here, depth first, so that every node's bound is the full radius-LP
bound at that node (a plain MILP of the master would only see the cuts found so far). Nodes are
pruned against the incumbent (the bound rounded up for integer data), and reduced costs close
candidates below a node (and open those whose closing costs too much). Branching: reliability
branching (:mod:`precinct.patrol.branching`); children start from the simplex bases their strong
branching LPs ended with.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np

from precinct.patrol.branching import Pseudocosts, choose
from precinct.patrol.local_search import Rows, interchange
from precinct.patrol.milp import INF, _quiet_highs

STRONG_CANDIDATES = 8  # at most this many strong-branching candidates per node
RELIABLE = 2  # pseudocost observations per direction before a post's pseudocosts are trusted
STRONG_ITERATIONS = 1000  # dual simplex iterations per strong-branching LP (early stops only score)


def cut_radius(rows: Rows, y: np.ndarray) -> np.ndarray:
    """Per row, the cost level ``r`` at which the cumulative open mass of its sorted columns reaches 1."""
    mass = y[rows.cols]
    csum = np.cumsum(mass)
    before = np.concatenate([[0.0], csum])[rows.indptr[:-1]]
    within = csum - np.repeat(before, np.diff(rows.indptr))
    pos = np.flatnonzero(within >= 1.0 - 1e-9)
    r_of = rows.row_of[pos]
    first = np.ones(pos.size, dtype=bool)
    first[1:] = r_of[1:] != r_of[:-1]
    last = np.maximum(rows.indptr[1:] - 1, 0)
    radius = rows.dist[last].copy() if rows.dist.size else np.zeros(rows.n)
    radius[r_of[first]] = rows.dist[pos[first]]
    return radius


def cut_value(rows: Rows, y: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Right-hand side of each row's cut at ``y``: ``r_i - sum_{d_ij < r_i} (r_i - d_ij) y_j``."""
    rr = radius[rows.row_of]
    contrib = np.where(rows.dist < rr, (rr - rows.dist) * y[rows.cols], 0.0)
    return radius - np.bincount(rows.row_of, weights=contrib, minlength=rows.n)


class Master:
    """The Benders master LP in one HiGHS instance, grown cut by cut."""

    def __init__(self, rows: Rows, p: int, lower: np.ndarray, upper: np.ndarray,
                 cover: list[tuple[np.ndarray, float]]) -> None:
        self.rows = rows
        m, n = rows.m, rows.n
        self.h = h = _quiet_highs()
        h.setOptionValue("output_flag", False)
        lengths = np.diff(rows.indptr)
        first = np.where(lengths > 0, rows.dist[np.minimum(rows.indptr[:-1], max(rows.dist.size - 1, 0))], 0.0) \
            if rows.dist.size else np.zeros(n)
        h.addVars(m, lower.astype(np.float64), upper.astype(np.float64))
        h.addVars(n, first, np.full(n, INF))
        h.changeColsCost(n, np.arange(m, m + n, dtype=np.int32), rows.weight)
        h.addRow(float(p), float(p), m, np.arange(m, dtype=np.int32), np.ones(m))
        for i in np.flatnonzero(~rows.complete):  # rows missing some column must reach an open one
            s, e = int(rows.indptr[i]), int(rows.indptr[i + 1])
            h.addRow(1.0, INF, e - s, rows.cols[s:e].astype(np.int32), np.ones(e - s))
        for cols, need in cover:
            h.addRow(float(need), INF, int(cols.size), cols.astype(np.int32), np.ones(cols.size))
        self.n_cuts = 0
        self.base_rows = h.getNumRow()  # rows before the first cut
        self.generation = 0  # bumped when cuts are deleted (saved bases no longer fit)

    def add_cuts(self, which: np.ndarray, radius: np.ndarray) -> None:
        """Add ``theta_i + sum_{d_ij < r_i} (r_i - d_ij) y_j >= r_i`` for the rows ``which`` (ascending)."""
        rows = self.rows
        if which.size == 0:
            return
        rr = np.full(rows.n, -np.inf)
        rr[which] = radius
        idx = np.flatnonzero(rows.dist < rr[rows.row_of])
        lens = np.bincount(rows.row_of[idx], minlength=rows.n)[which]
        start = np.concatenate([[0], np.cumsum(lens + 1)[:-1]])
        index = np.empty(int(lens.sum()) + which.size, dtype=np.int32)
        value = np.empty(index.size)
        body = np.ones(index.size, dtype=bool)
        body[start] = False
        index[start] = rows.m + which
        value[start] = 1.0
        index[body] = rows.cols[idx]
        value[body] = rr[rows.row_of[idx]] - rows.dist[idx]
        self.h.addRows(int(which.size), radius.astype(np.float64), np.full(which.size, INF), int(index.size),
                       start.astype(np.int32), index, value)
        self.n_cuts += int(which.size)

    def purge(self) -> int:
        """Delete the cuts slack at the current LP optimum (the basis stays valid: their slacks are
        basic). Returns how many were deleted."""
        h = self.h
        rhs = np.asarray(h.getLp().row_lower_)[self.base_rows:]
        slack = np.asarray(h.getSolution().row_value)[self.base_rows:] - rhs
        drop = self.base_rows + np.flatnonzero(slack > 1e-6 * np.maximum(1.0, np.abs(rhs)))
        if drop.size:
            h.deleteRows(int(drop.size), drop.astype(np.int32))
            self.generation += 1
        return int(drop.size)

    def warm_start(self, basis: Any) -> None:
        """Start the next solve from ``basis`` of generation ``self.generation``, saved when the LP
        had fewer cuts (theirs enter basic)."""
        more = self.h.getNumRow() - len(basis.row_status)
        if more < 0:
            return
        if more:
            basis.row_status = [*basis.row_status, *([highspy.HighsBasisStatus.kBasic] * more)]
        self.h.setBasis(basis)

    def set_bounds(self, lower: np.ndarray, upper: np.ndarray) -> None:
        m = self.rows.m
        self.h.changeColsBounds(m, np.arange(m, dtype=np.int32), lower.astype(np.float64), upper.astype(np.float64))


@dataclass
class LpPoint:
    """A node's LP optimum with every violated cut added: value, ``y`` and reduced costs of ``y``."""

    value: float
    y: np.ndarray
    reduced: np.ndarray


def solve_lp(master: Master, deadline: float | None, *, core: np.ndarray | None = None,
             max_rounds: int = 200) -> LpPoint | str:
    """Cutting planes until no cut is violated (in-out separation around ``core`` when given).

    Returns the LP point, ``"infeasible"`` or ``"time_limit"``.
    """
    h, rows = master.h, master.rows
    lam = 0.5
    y_core = None if core is None else core.astype(np.float64)
    for _ in range(max_rounds):
        if deadline is not None:
            left = deadline - time.perf_counter()
            if left <= 0:
                return "time_limit"
            # HiGHS measures its time limit on the instance's clock, which runs across solves
            h.setOptionValue("time_limit", float(h.getRunTime() + left))
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return "infeasible"
        if status != highspy.HighsModelStatus.kOptimal:
            return "time_limit" if status == highspy.HighsModelStatus.kTimeLimit else "infeasible"
        sol = h.getSolution()
        x = np.asarray(sol.col_value)
        y, theta = x[:rows.m], x[rows.m:]
        tol = 1e-7 * np.maximum(1.0, np.abs(theta))
        if y_core is not None and lam < 1.0:
            r_sep = cut_radius(rows, lam * y + (1 - lam) * y_core)
            viol = cut_value(rows, y, r_sep) > theta + tol
            y_core = 0.5 * (y_core + y)
            if viol.any():
                master.add_cuts(np.flatnonzero(viol), r_sep[viol])
                continue
            lam = min(1.0, lam + 0.25)
        r_lp = cut_radius(rows, y)
        viol = cut_value(rows, y, r_lp) > theta + tol
        if not viol.any():
            return LpPoint(float(h.getInfo().objective_function_value), y, np.asarray(sol.col_dual)[:rows.m])
        master.add_cuts(np.flatnonzero(viol), r_lp[viol])
    return "time_limit"


@dataclass
class Search:
    """Incumbent and statistics of a branch-and-Benders-cut run."""

    rows: Rows
    p: int
    integral: bool
    best: np.ndarray | None
    best_value: float
    stats: dict[str, Any] = field(default_factory=dict)
    rel_gap: float = 0.0
    floor: float = math.inf  # least bound among nodes pruned (reported when rel_gap > 0)

    def pruned(self, lb: float) -> bool:
        """Whether a node of bound ``lb`` can be dropped (recording its bound)."""
        if lb >= self.prune_at():
            self.floor = min(self.floor, lb)
            return True
        return False

    def prune_at(self) -> float:
        """Nodes whose bound reaches this cannot hold a better plan (or one better by ``rel_gap``)."""
        if self.best is None:
            return math.inf
        v = self.best_value
        at = v - 1.0 + 1e-3 if self.integral else v - 1e-6 * max(1.0, abs(v))
        return min(at, v - self.rel_gap * abs(v)) if self.rel_gap > 0 else at

    def offer(self, posts: np.ndarray) -> None:
        o = np.zeros(self.rows.m, dtype=bool)
        o[posts] = True
        near, d1, _ = self.rows.first_two(o)
        if (near < 0).any():
            return
        v = float(self.rows.weight @ d1)
        if v < self.best_value - 1e-9 * max(1.0, abs(v)):
            self.best, self.best_value = np.sort(posts), v
            self.stats["improved_in_tree"] = self.stats.get("improved_in_tree", 0) + 1


def _round_up(v: float, integral: bool) -> float:
    return math.ceil(v - 1e-6) if integral else v


# a node: fixings, parent bound, LP point if known, (post, up, change, parent value) it branched
# on, and a simplex basis to start from
Node = tuple[list[tuple[int, float]], float, "LpPoint | None", "tuple[int, int, float, float] | None", Any]


def branch_and_cut(master: Master, search: Search, lower: np.ndarray, upper: np.ndarray, root: LpPoint,
                   deadline: float | None, cover_ok: Any) -> tuple[float, str]:
    """Depth-first branch-and-Benders-cut from the root LP; returns ``(bound, status)``.

    ``lower``/``upper`` are the root bounds of ``y``; ``cover_ok(posts)`` says whether a plan meets
    the side constraints (only such plans become incumbents). Branching: :func:`branching.choose`.
    """
    rows, p = search.rows, search.p
    stats = search.stats
    pc = Pseudocosts(rows.m, RELIABLE)
    stack: list[Node] = [([], root.value, root, None, None)]
    nodes = 0
    while stack:
        changes, parent_lb, point, origin, basis = stack.pop()
        if search.pruned(_round_up(parent_lb, search.integral)):
            continue
        if deadline is not None and time.perf_counter() > deadline:
            stack.append((changes, parent_lb, None, None, None))
            bound = min(_round_up(node[1], search.integral) for node in stack)
            stats["nodes"] = nodes
            return min(bound, search.best_value), "time_limit"
        nodes += 1
        lo, hi = lower.copy(), upper.copy()
        for j, v in changes:
            lo[j] = hi[j] = v
        if point is None:
            master.set_bounds(lo, hi)
            if basis is not None and basis[0] == master.generation:
                master.warm_start(basis[1])
            got = solve_lp(master, deadline)
            if got == "time_limit":
                stack.append((changes, parent_lb, None, origin, None))
                continue
            if isinstance(got, str):
                continue  # infeasible node
            point = got
            if origin is not None:
                pc.update(origin[0], origin[1], origin[2], point.value - origin[3])
        lb = _round_up(point.value, search.integral)
        if search.pruned(lb):
            continue
        y = point.y
        frac = np.minimum(y, 1 - y)
        if frac.max() <= 1e-6:
            posts = np.flatnonzero(y > 0.5)
            if cover_ok(posts):
                search.offer(posts)
            continue
        # a quick plan from this LP: its p largest y, polished
        if nodes == 1 or nodes % 16 == 0:
            top = np.argsort(-(y + 2 * lo))[:p]
            allowed = hi > 0.5
            cand, _ = interchange(rows, np.sort(top), np.flatnonzero(lo > 0.5), allowed, max_moves=50)
            if cover_ok(cand):
                search.offer(cand)
            if search.pruned(lb):
                continue
        # reduced-cost fixing below this node
        free = (hi > 0.5) & (lo < 0.5)
        close = free & (y < 1e-9) & (point.value + point.reduced >= search.prune_at())
        if close.any():
            search.floor = min(search.floor, float((point.value + point.reduced)[close].min()))
        force = free & (y > 1 - 1e-9) & (point.value - point.reduced >= search.prune_at())
        if force.any():
            search.floor = min(search.floor, float((point.value - point.reduced)[force].min()))
        local = [*changes, *((int(j), 0.0) for j in np.flatnonzero(close)),
                 *((int(j), 1.0) for j in np.flatnonzero(force))]
        if close.any() or force.any():
            hi[close] = 0.0
            lo[force] = 1.0
            master.set_bounds(lo, hi)
        stats["rc_opened"] = stats.get("rc_opened", 0) + int(force.sum())
        stats["rc_closed"] = stats.get("rc_closed", 0) + int(close.sum())
        choice = choose(master.h, pc, lo, hi, y, point.value, search.prune_at(), deadline,
                        max_strong=STRONG_CANDIDATES, iterations=STRONG_ITERATIONS)
        stats["strong"] = stats.get("strong", 0) + choice.tried
        master.set_bounds(lo, hi)
        if choice.fix:
            if any(v < 0 for _, v in choice.fix):  # both children of a post pruned: so is the node
                search.floor = min(search.floor, search.prune_at())
                continue
            stats["sb_fixed"] = stats.get("sb_fixed", 0) + len(choice.fix)
            stack.append(([*local, *choice.fix], point.value, None, None, None))
            continue
        j = choice.j
        bases = (None, None) if choice.bases is None else \
            ((master.generation, choice.bases[0]), (master.generation, choice.bases[1]))
        if not search.pruned(_round_up(choice.down, search.integral)):
            stack.append(([*local, (j, 0.0)], choice.down, None, (j, 0, float(y[j]), point.value), bases[0]))
        if not search.pruned(_round_up(choice.up, search.integral)):
            stack.append(([*local, (j, 1.0)], choice.up, None, (j, 1, float(1 - y[j]), point.value), bases[1]))
    stats["nodes"] = nodes
    return search.best_value, "optimal"
