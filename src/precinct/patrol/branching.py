"""Branching for the p-median branch-and-Benders-cut: reliability branching on pseudocosts.

Strong branching (both children's LPs with the cuts at hand, dual simplex warm-started from the
node's basis) gives the best choices but costs two LPs per candidate; pseudocosts (the average
bound gain per unit of fractionality seen so far, per post and direction) cost nothing. As in
Achterberg, Koch & Martin (2005), a post's pseudocosts are trusted once they rest on ``reliable``
observations; candidates are ranked by their estimated score and strong branching runs only on the
untrusted ones among the best, stopping after ``lookahead`` tries without a better score. A strong
branching child whose bound already reaches the cutoff fixes its post the other way at the node.

Reference
---------
Achterberg, T., Koch, T. & Martin, A. (2005). Branching rules revisited. Operations Research
Letters 33, 42-54.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np

EPS = 1e-6


@dataclass
class Pseudocosts:
    """Bound gain per unit change of ``y_j``, summed and counted per post, down (to 0) and up (to 1)."""

    m: int
    reliable: int = 2
    total: np.ndarray = field(init=False)
    count: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.total = np.zeros((2, self.m))
        self.count = np.zeros((2, self.m))

    def update(self, j: int, up: int, change: float, gain: float) -> None:
        """Record a child's bound gain ``gain`` for moving ``y_j`` by ``change`` (``up`` 0 or 1)."""
        if change > EPS and math.isfinite(gain):
            self.total[up, j] += max(gain, 0.0) / change
            self.count[up, j] += 1

    def estimate(self, cands: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Estimated down and up gains of ``cands`` (the mean over all posts where unseen)."""
        est = []
        for up in (0, 1):
            seen = self.count[up] > 0
            mean = float(self.total[up, seen].sum() / self.count[up, seen].sum()) if seen.any() else 1.0
            pc = np.where(self.count[up, cands] > 0, self.total[up, cands] / np.maximum(self.count[up, cands], 1), mean)
            est.append(pc * (y[cands] if up == 0 else 1.0 - y[cands]))
        return est[0], est[1]


def score(down: float | np.ndarray, up: float | np.ndarray) -> Any:
    """Product rule: the branch whose weaker child gains most (both gains floored at ``EPS``)."""
    return np.maximum(down, EPS) * np.maximum(up, EPS)


@dataclass
class Choice:
    """A branching decision: post ``j``, its children's bounds, and posts fixed by strong branching."""

    j: int
    down: float
    up: float
    fix: list[tuple[int, float]]
    tried: int
    bases: tuple[Any, Any] | None = None  # the children's final simplex bases (warm starts)


def choose(h: highspy.Highs, pc: Pseudocosts, lo: np.ndarray, hi: np.ndarray, y: np.ndarray, base: float,
           cutoff: float, deadline: float | None, *, max_strong: int = 8, lookahead: int = 3,
           iterations: int = 1000) -> Choice:
    """Pick the branching post at a node whose LP (value ``base``, optimum ``y``) is loaded in ``h``.

    ``lo``/``hi`` are the node's bounds (as loaded), ``cutoff`` the bound at which a child is pruned.
    Child bounds are exact LP values of the children with the cuts at hand (valid lower bounds), or
    ``base`` when the LP was not solved.
    """
    frac = np.minimum(y, 1.0 - y)
    cands = np.flatnonzero((frac > EPS) & (lo < hi))
    est_down, est_up = pc.estimate(cands, y)
    order = np.argsort(-score(est_down, est_up), kind="stable")
    k0 = int(order[0])
    best = Choice(int(cands[k0]), base + float(est_down[k0]), base + float(est_up[k0]), [], 0)
    best_score = -1.0
    untrusted = 0
    since = 0
    basis = h.getBasis()
    h.setOptionValue("simplex_iteration_limit", iterations)
    fix: list[tuple[int, float]] = []
    exact = False
    for k in order:
        j = int(cands[k])
        trusted = min(pc.count[0, j], pc.count[1, j]) >= pc.reliable
        if trusted or untrusted >= max_strong or (deadline is not None and time.perf_counter() > deadline):
            s = float(score(est_down[k], est_up[k]))
            if s > best_score:
                best, best_score, exact = Choice(j, base, base, fix, best.tried), s, False
            continue
        untrusted += 1
        bounds: list[float] = []  # proven child bounds (``base`` when the LP stopped early)
        guess: list[float] = []  # the same, or the early stop's dual objective: scores only
        bases = []
        for up, v in ((0, 0.0), (1, 1.0)):
            h.changeColBounds(j, v, v)
            h.run()
            bases.append(h.getBasis())
            st = h.getModelStatus()
            if st == highspy.HighsModelStatus.kInfeasible:
                bounds.append(math.inf)
                guess.append(math.inf)
            elif st == highspy.HighsModelStatus.kOptimal:
                bounds.append(max(base, float(h.getInfo().objective_function_value)))
                guess.append(bounds[-1])
                pc.update(j, up, y[j] if up == 0 else 1.0 - y[j], bounds[-1] - base)
            else:  # stopped early: the dual objective so far scores the post (not a proven bound)
                bounds.append(base)
                guess.append(max(base, float(h.getInfo().objective_function_value)))
            h.changeColBounds(j, float(lo[j]), float(hi[j]))
            h.setBasis(basis)
        if bounds[0] >= cutoff and bounds[1] >= cutoff:
            fix.append((j, -1.0))  # both children pruned: the node itself is
            break
        if bounds[0] >= cutoff or bounds[1] >= cutoff:
            fix.append((j, 1.0 if bounds[0] >= cutoff else 0.0))
        s = float(score(guess[0] - base, guess[1] - base))
        if s > best_score:
            best, best_score, exact, since = Choice(j, bounds[0], bounds[1], fix, 0, (bases[0], bases[1])), s, True, 0
        else:
            since += 1
            if since >= lookahead and not fix:
                break
    h.setOptionValue("simplex_iteration_limit", 2**31 - 1)
    best.fix = fix
    best.tried = untrusted
    if not exact:
        best.down = best.up = base
        best.bases = None
    return best
