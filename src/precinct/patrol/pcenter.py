"""Exact vertex p-center on a cost matrix, by iterative relaxation over demand rows.

The optimum is one of the matrix's values. Following Contardo, Iori & Kramer (2019), every
decision "can ``p`` posts serve all demand within radius ``r``?" is asked of a small working subset
``S`` of demand rows only: a "no" there is a proof for all rows, a "yes" is checked on every row and
the rows it leaves uncovered join ``S``. Because the relaxation's optimum is one of the values of
the rows in ``S``, the search runs over those values only (a few hundred thousand instead of
``n x m``), and a "no" at ``r`` lifts the lower bound to the next such value.

The search spends its effort where it is cheap: a bisection decided only by greedy / local-search
covers (which lower the upper bound) and LP relaxations (which lift the lower bound) until only
radii that need a MILP remain; then each MILP is asked at the largest remaining radius, so that a
single "no" closes the gap (after four MILP "yes" answers it bisects instead).

References
----------
Contardo, C., Iori, M. & Kramer, R. (2019). A scalable exact algorithm for the vertex p-center
problem. Computers & OR 103, 211-220.
"""

from __future__ import annotations

import math
import time
from typing import Any, Literal

import numpy as np

from precinct.errors import Unreachable
from precinct.patrol.setcover import CoverTimeout, Undecided, decide_cover
from precinct.patrol.solution import PostSolution, Progress, assign, check_cost_matrix, pad_posts

Answer = Literal["yes", "no", "undecided"]


def _diverse(rows: np.ndarray, d: np.ndarray, k: int) -> np.ndarray:
    """Up to ``k`` of ``rows`` (given in priority order) with distinct nearest candidates.

    Rows served by the same nearest candidate are usually neighbours and constrain a cover in
    the same way; taking one of each spreads the working subset over the area.
    """
    nearest = np.argmin(d[rows], axis=1)
    _, first = np.unique(nearest, return_index=True)
    return rows[np.sort(first)][:k]


def _farthest_insertion(d: np.ndarray, p: int) -> np.ndarray:
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


class _Search:
    """Bounds, incumbent and working subset of one p-center solve.

    Invariants: the optimum is at least ``lb`` (proven) and ``posts`` serve every row within ``ub``.
    """

    def __init__(self, d: np.ndarray, p: int, deadline: float | None, batch: int, stats: dict[str, Any]) -> None:
        self.d, self.p, self.deadline, self.batch, self.stats = d, p, deadline, batch, stats
        self.in_subset = np.zeros(d.shape[0], dtype=bool)
        self.subset: list[int] = []
        self._values = np.empty(0)
        self._values_rows = -1
        self.lb = float(d.min(axis=1).max())  # every row must reach some post
        self.posts = _farthest_insertion(d, p)
        self.ub = float(d[:, self.posts].min(axis=1).max())

    def add_rows(self, rows: np.ndarray) -> None:
        new = rows[~self.in_subset[rows]]
        self.in_subset[new] = True
        self.subset.extend(int(i) for i in new)
        self.stats["rows_added"] += int(new.size)

    def values(self) -> np.ndarray:
        """Sorted distinct costs of the subset's rows: the relaxation's optimum is one of them."""
        if self._values_rows != len(self.subset):
            self._values = np.unique(self.d[self.subset])
            self._values_rows = len(self.subset)
        return self._values

    def grid(self) -> np.ndarray:
        """Subset values in ``[lb, ub)``: the radii still to decide."""
        v = self.values()
        return v[np.searchsorted(v, self.lb, side="left"):np.searchsorted(v, self.ub, side="left")]

    def _proved_no(self, r: float) -> None:
        v = self.values()
        k = int(np.searchsorted(v, r, side="right"))
        self.lb = max(self.lb, min(float(v[k]) if k < v.size else math.inf, self.ub))

    def _found(self, cover: np.ndarray) -> np.ndarray:
        posts = np.sort(np.asarray(cover, dtype=np.int64))
        near = self.d[:, posts].min(axis=1)
        if float(near.max()) < self.ub:
            self.ub, self.posts = float(near.max()), posts
        return near

    def decide(self, r: float, *, exact: bool, cheap_done: bool = False, local: bool = True) -> Answer:
        """Decide radius ``r`` for all rows by row generation over the subset.

        ``exact=False`` uses only greedy, LP and local search and may answer ``"undecided"``.
        """
        self.stats["decisions"] += 1
        start = self.posts
        while True:
            res = decide_cover(self.d[self.subset], r, self.p, self.stats, self.deadline, start=start, exact=exact,
                               cheap_done=cheap_done, local=local)
            if res is None:
                self._proved_no(r)
                return "no"
            if isinstance(res, Undecided):
                return "undecided"
            near = self._found(res)
            missed = np.flatnonzero(near > r)
            if missed.size == 0:
                return "yes"
            self.stats["rounds"] += 1
            missed = missed[np.argsort(-near[missed], kind="stable")]
            self.add_rows(_diverse(missed, self.d, self.batch))
            start, cheap_done = res, False

    def run(self, progress: Progress | None) -> None:
        """Close the gap between ``lb`` and ``ub`` (raises :class:`CoverTimeout` at the deadline)."""
        hard_low = hard_high = math.nan  # the undecided zone of the cheap tests
        cheap_tried: dict[float, int] = {}  # radius -> subset size when the cheap tests failed there
        exact_yes = 0
        while True:
            g = self.grid()
            if g.size == 0:
                return
            if self.deadline is not None and time.perf_counter() > self.deadline:
                raise CoverTimeout
            if progress is not None:
                progress(f"p-center: {self.lb:.1f} .. {self.ub:.1f} s",
                         self.stats["decisions"] / (self.stats["decisions"] + math.log2(g.size + 1) + 1))
            below = False
            if math.isnan(hard_low):
                side = g
            else:
                side = g[g > hard_high]  # above the zone: local search may still lower ub
                if side.size == 0:
                    side, below = g[g < hard_low], True  # below it: an LP may still lift lb
            if side.size:
                r = float(side[side.size // 2])
                if self.decide(r, exact=False, local=not below) == "undecided":
                    cheap_tried[r] = len(self.subset)
                    hard_low = r if math.isnan(hard_low) else min(hard_low, r)
                    hard_high = r if math.isnan(hard_high) else max(hard_high, r)
                continue
            self.stats["exact_decisions"] += 1
            r = float(g[-1] if exact_yes < 4 else g[g.size // 2])
            milps = self.stats["milps"]
            if self.decide(r, exact=True, cheap_done=cheap_tried.get(r) == len(self.subset)) == "yes" \
                    and self.stats["milps"] > milps:
                exact_yes += 1  # a MILP found a cover the heuristics missed


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
        ``value`` = the farthest response, ``bound`` = proven lower bound, ``gap`` relative;
        ``stats`` counts decisions, MILPs, row-generation rounds and rows used.

    Raises
    ------
    Unreachable
        A demand point reaches no candidate, or no ``p`` posts reach every demand point.

    Notes
    -----
    See the module docstring. Every "no" comes from an infeasible LP relaxation or a MILP with
    cut-off ``p`` on a subset of the rows, so the returned bound is proven; the value is evaluated
    on all rows, so a zero gap certifies optimality.
    """
    t0 = time.perf_counter()
    d, _ = check_cost_matrix(cost, p)
    nearest_any = d.min(axis=1)
    if not np.isfinite(nearest_any).all():
        bad = int(np.flatnonzero(~np.isfinite(nearest_any))[0])
        raise Unreachable("a demand point cannot reach any candidate site", detail={"row": bad})
    stats: dict[str, Any] = {"decisions": 0, "exact_decisions": 0, "milps": 0, "greedy_hits": 0, "local_hits": 0,
                             "lp_proofs": 0, "rows_added": 0, "rounds": 0}
    search = _Search(d, p, None if time_limit is None else t0 + time_limit, batch or 2 * p + 20, stats)
    stats["heuristic_value"] = search.ub
    resp = d[:, search.posts].min(axis=1)
    search.add_rows(_diverse(np.argsort(-resp, kind="stable"), d, 4 * p + 20))
    search.add_rows(np.asarray([int(np.argmax(nearest_any))]))
    stats["rows_added"] = 0
    timed_out = False
    try:
        search.run(progress)
    except CoverTimeout:
        timed_out = True
    lb, ub = (search.lb, search.ub) if timed_out else (search.ub, search.ub)
    if not np.isfinite(ub):
        raise Unreachable(f"no {p} posts can reach every demand point", detail={"posts": p})
    posts = pad_posts(d, search.posts, p)
    resp, idx = assign(d, posts)
    stats["rows_used"] = len(search.subset)
    stats["seconds"] = time.perf_counter() - t0
    gap = 0.0 if ub <= lb else (ub - lb) / max(ub, 1e-9)
    return PostSolution(posts=posts, objective="pcenter", value=float(resp.max()), bound=min(lb, ub), gap=gap,
                        response=resp, assignment=idx, stats=stats)
