"""What planners ask of a p-median plan: keep today's posts, cap workloads, back up red cells, cut
the matrix at a travel time; and the before/after figure of a plan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import h3
import numpy as np
import scipy.sparse as sp

from precinct.errors import BadInput, Unreachable
from precinct.patrol import risk, solvers
from precinct.patrol.capacitated import capacitated_p_median
from precinct.patrol.demand import Points
from precinct.patrol.network import response_matrix, sparse_response_matrix
from precinct.patrol.solution import PostSolution


@dataclass(frozen=True)
class PmedianOptions:
    """Planner options of a p-median plan (all off by default)."""

    keep_current: bool = False
    capacity: float | None = None
    backup_cells: Sequence[str] | None = None
    backup_minutes: float | None = None
    cutoff_minutes: float | None = None

    @property
    def active(self) -> bool:
        return bool(self.keep_current or self.capacity is not None or self.backup_cells
                    or self.cutoff_minutes is not None)


def solve_pmedian(*, a: sp.csr_matrix, graph: Any, demand: Points, dn: np.ndarray, uniq: np.ndarray,
                  w: np.ndarray, cand: np.ndarray, posts: int, objective: str, current: Points | None,
                  options: PmedianOptions, time_limit: float | None,
                  ) -> tuple[PostSolution, np.ndarray, np.ndarray, np.ndarray, float]:
    """Solve a p-median plan with planner options on the road graph ``a``.

    Parameters
    ----------
    dn, uniq, w
        Road node of every demand point, the distinct demand nodes and their summed weights.
    cand
        Candidate post nodes.

    Returns
    -------
    tuple
        ``(solution, candidate nodes, reachable demand nodes, their weights, unreachable weight)``.
    """
    o = options
    if objective != "pmedian":
        raise BadInput("keeping posts, capacities, backup coverage and the cutoff apply to p-median",
                       detail={"objective": objective})
    if o.capacity is not None and o.backup_cells:
        raise BadInput("capacities and backup coverage cannot be combined yet", detail={"field": "capacity"})
    cand = np.unique(cand)
    fixed = np.zeros(0, dtype=np.int64)
    if o.keep_current:
        if current is None or not len(current):
            raise BadInput("keeping today's posts needs the current posts", detail={"field": "current"})
        cur = np.unique(np.asarray(graph.nearest_nodes(current.lat, current.lon), dtype=np.int64))
        cand = np.unique(np.concatenate([cand, cur]))
        fixed = np.searchsorted(cand, cur)
    if posts + fixed.size > cand.size:
        raise BadInput(f"only {cand.size} candidate sites for {posts + fixed.size} posts", detail={"posts": posts})
    cost: np.ndarray | sp.csr_matrix
    if o.cutoff_minutes is not None:
        csr = sparse_response_matrix(a, uniq, cand, o.cutoff_minutes * 60.0)
        reach = np.diff(csr.indptr) > 0
        cost = csr[reach]
    else:
        dense = response_matrix(a, uniq, cand)
        reach = np.isfinite(dense).any(axis=1)
        cost = dense[reach]
    if not reach.any():
        raise Unreachable("no demand point can be reached from any candidate site")
    uniq_r, w_r = uniq[reach], w[reach]
    cover = _backup_cover(demand, dn, uniq_r, cost, o) if o.backup_cells else None
    if o.capacity is not None:
        sol = capacitated_p_median(cost, posts, o.capacity, w_r, fixed=fixed, time_limit=time_limit)
    else:
        sol = solvers.p_median(cost, posts, w_r, time_limit=time_limit, fixed=fixed, cover=cover)
    sol.stats["kept_posts"] = int(fixed.size)
    sol.stats["backup_rows"] = 0 if cover is None else len(cover)
    return sol, cand, uniq_r, w_r, float(w[~reach].sum())


def _backup_cover(demand: Points, dn: np.ndarray, uniq_r: np.ndarray, cost: np.ndarray | sp.csr_matrix,
                  o: PmedianOptions) -> list[tuple[np.ndarray, int]]:
    """Two posts within ``backup_minutes`` of every demand node in a backup (red) cell."""
    if o.backup_minutes is None or not o.backup_minutes > 0:
        raise BadInput("backup coverage needs backup_minutes", detail={"field": "backup_minutes"})
    cells = list(o.backup_cells or [])
    try:
        res = h3.get_resolution(cells[0])
    except (ValueError, TypeError, h3.H3BaseException):
        raise BadInput("backup cells must be H3 cells", detail={"cell": cells[0]}) from None
    wanted = set(cells)
    in_red = np.asarray([c in wanted for c in risk.cells_for(demand.lat, demand.lon, res)], dtype=bool)
    red_nodes = np.unique(dn[in_red])
    rows = np.flatnonzero(np.isin(uniq_r, red_nodes))
    t = o.backup_minutes * 60.0
    seen: set[bytes] = set()
    out: list[tuple[np.ndarray, int]] = []
    dense = not sp.issparse(cost)
    for i in rows:
        if dense:
            cols = np.flatnonzero(np.asarray(cost)[i] <= t)
        else:
            row = sp.csr_matrix(cost)[i]
            cols = np.sort(row.indices[row.data <= t])
        key = cols.tobytes()
        if key in seen:
            continue
        seen.add(key)
        if cols.size < 2:
            raise Unreachable("a demand point in a backup cell has fewer than two candidate sites within "
                              f"{o.backup_minutes:g} minutes", detail={"node": int(uniq_r[i])})
        out.append((cols, 2))
    return out


def before_after(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The farthest and the mean response with today's posts and with the plan, in words too."""
    b_max, a_max = before["max_s"] / 60.0, after["max_s"] / 60.0
    b_mean, a_mean = before["mean_s"] / 60.0, after["mean_s"] / 60.0
    return {
        "before": {"max_s": before["max_s"], "mean_s": before["mean_s"]},
        "after": {"max_s": after["max_s"], "mean_s": after["mean_s"]},
        "text_en": f"farthest response from {b_max:.1f} to {a_max:.1f} min; average from {b_mean:.1f} to "
                   f"{a_mean:.1f} min",
        "text_zh": f"最远响应时间由{b_max:.1f}分钟变为{a_max:.1f}分钟，"
                   f"平均响应时间由{b_mean:.1f}分钟变为{a_mean:.1f}分钟",
    }


def red_cells(session: Any) -> list[str]:
    """The cells whose latest risk rating is red (三色动态警务网格), for backup coverage."""
    from sqlalchemy import func, select

    from precinct.patrol.models import RiskRating

    sub = select(RiskRating.cell, func.max(RiskRating.id).label("mid")).group_by(RiskRating.cell).subquery()
    q = select(RiskRating.cell).join(sub, RiskRating.id == sub.c.mid).where(RiskRating.rating == "red")
    return sorted(session.scalars(q))
