"""Checkpoints for a fleeing suspect (设卡盘查、群狼合围): pure functions on a CSR road graph.

Model
-----
The suspect was last seen at node ``source``, ``elapsed_s`` seconds ago, and flees at road speed.
``t_s[v]`` is the earliest time (since the sighting) the suspect can be at node ``v`` (one
Dijkstra). The suspect's *escape routes* are the fastest paths from ``source`` to the *exits*: the
nodes where the reachable area at the planning horizon ends (a node within the horizon with an
edge leaving it). A route may carry a weight (a known heading favours routes in that direction).

A unit ``u`` holds node ``v`` in time when ``elapsed + delay + t_u[v] + setup <= t_s[v]``; it then
stops every route through ``v``. Choosing up to ``K`` (unit, node) pairs, one node per unit, that
stop the most route weight is a maximum-coverage MILP. Only each unit's *topmost* feasible nodes on
the fastest-path tree are candidates: an ancestor stops every route its descendants stop, so the
restriction loses nothing, and it keeps the MILP small on a million-edge graph.

:func:`simulate_escapes` draws fugitive routes that are not all fastest (edge times perturbed per
draw) and :func:`intercepted` tells which a plan stops, for comparing plans (e.g. against units
waiting at the junction nearest to each of them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from precinct.errors import BadInput
from precinct.patrol.milp import solve_milp

NO_PRED = -9999


@dataclass
class Checkpoint:
    """One checkpoint: where, which unit, when it is set, and what it stops."""

    node: int
    unit: int
    ready_s: float  # seconds after the sighting when the unit has set up
    suspect_s: float  # earliest the suspect can pass, seconds after the sighting
    routes: float  # route weight it stops (on its own)

    @property
    def margin_s(self) -> float:
        return self.suspect_s - self.ready_s


@dataclass
class CheckpointPlan:
    checkpoints: list[Checkpoint]
    covered: float  # share of route weight stopped (0..1)
    n_exits: int
    horizon_s: float
    status: str
    stats: dict[str, Any] = field(default_factory=dict)


def suspect_tree(a: sp.csr_matrix, source: int, horizon_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Earliest suspect times (``inf`` beyond the horizon) and fastest-path predecessors."""
    t, pred = dijkstra(a, indices=int(source), limit=float(horizon_s), return_predecessors=True)
    return np.asarray(t), np.asarray(pred)


def exits_of(a: sp.csr_matrix, t: np.ndarray, horizon_s: float, xy: np.ndarray | None = None,
             edge_m: float = 300.0) -> np.ndarray:
    """Where the suspect leaves the area reachable by the horizon.

    Nodes inside the horizon with an edge to a node the suspect cannot reach within it, and,
    when node coordinates ``xy`` are given, reachable nodes within ``edge_m`` of the map's edge
    (roads leaving the mapped city: a small city is crossed well within a quarter of an hour).
    """
    inside = np.isfinite(t) & (t <= horizon_s)
    coo = a.tocoo()
    leaving = inside[coo.row] & ~inside[coo.col]
    out = np.unique(coo.row[leaving])
    if xy is not None:
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        border = ((xy - lo).min(axis=1) < edge_m) | ((hi - xy).min(axis=1) < edge_m)
        out = np.union1d(out, np.flatnonzero(border & inside))
    return out


def heading_weights(xy: np.ndarray, source: int, exits: np.ndarray, heading_deg: float | None,
                    kappa: float = 2.0) -> np.ndarray:
    """Route weights: uniform, or a von Mises preference for the given compass heading."""
    if heading_deg is None or exits.size == 0:
        return np.ones(exits.size)
    d = xy[exits] - xy[source]
    bearing = np.arctan2(d[:, 0], d[:, 1])  # radians clockwise from north (x east, y north)
    return np.exp(kappa * (np.cos(bearing - np.radians(heading_deg)) - 1.0))


def unit_times(a: sp.csr_matrix, unit_nodes: np.ndarray, limit: float) -> np.ndarray:
    """Driving seconds from each unit to every node, shape ``(n_units, n_nodes)``."""
    if len(unit_nodes) == 0:
        return np.empty((0, a.shape[0]))
    return np.atleast_2d(dijkstra(a, indices=np.asarray(unit_nodes, dtype=np.int64), limit=float(limit)))


def _ancestors_hits(pred: np.ndarray, exits: np.ndarray, flag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (exit index, node) with ``node`` on the fastest path to the exit and ``flag[node]``."""
    cur = exits.copy()
    idx = np.arange(exits.size)
    hit_e: list[np.ndarray] = []
    hit_v: list[np.ndarray] = []
    while cur.size:
        f = flag[cur]
        if f.any():
            hit_e.append(idx[f])
            hit_v.append(cur[f])
        nxt = pred[cur]
        keep = nxt >= 0
        cur, idx = nxt[keep], idx[keep]
    if not hit_e:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(hit_e), np.concatenate(hit_v)


def plan_checkpoints(
    a: sp.csr_matrix,
    source: int,
    unit_nodes: np.ndarray,
    *,
    k: int,
    elapsed_s: float = 0.0,
    horizon_s: float | None = None,
    dispatch_delay_s: float = 60.0,
    setup_s: float = 60.0,
    route_weight: np.ndarray | None = None,
    heading_deg: float | None = None,
    xy: np.ndarray | None = None,
    time_limit: float = 1.5,
    unit_t: np.ndarray | None = None,
    a_units: sp.csr_matrix | None = None,
) -> CheckpointPlan:
    """Choose up to ``k`` checkpoints, one unit each, stopping the most escape-route weight.

    Parameters
    ----------
    a
        CSR matrix of driving seconds per directed edge.
    source
        Node of the last sighting.
    unit_nodes
        Node of each available unit.
    k
        Most checkpoints (and at most one per unit).
    elapsed_s
        Seconds since the sighting.
    horizon_s
        Planning horizon in seconds after the sighting (default ``elapsed + 15 min``); the exits
        are where the suspect can be at that time.
    dispatch_delay_s, setup_s
        Time to issue the order and to set up once there.
    route_weight
        Weight per exit (same order as :func:`exits_of`); overrides ``heading_deg``.
    heading_deg, xy
        Known direction of flight (compass degrees) and node coordinates in metres.
    time_limit
        Seconds for the whole plan; the MILP gets what the searches left (at least 0.05 s) and
        starts from the greedy plan, so on expiry the better of the two and the bound are
        returned (``stats["bound"]`` is the proven upper bound on the covered share).
    unit_t
        Precomputed :func:`unit_times` (else computed here, bounded by the horizon).
    a_units
        The units' graph when it differs from the suspect's (a suspect on foot, units driving).

    Returns
    -------
    CheckpointPlan
    """
    t0 = time.perf_counter()
    if k < 1:
        raise BadInput("k must be at least 1", detail={"k": k})
    horizon = float(horizon_s if horizon_s is not None else elapsed_s + 900.0)
    if horizon <= elapsed_s:
        raise BadInput("horizon must be later than the time already elapsed")
    t_s, pred = suspect_tree(a, source, horizon)
    exits = exits_of(a, t_s, horizon, xy)
    t1 = time.perf_counter()
    lead = elapsed_s + dispatch_delay_s + setup_s
    if unit_t is None:
        unit_t = unit_times(a if a_units is None else a_units, unit_nodes, max(horizon - lead, 0.0))
    t2 = time.perf_counter()
    stats: dict[str, Any] = {"nodes_in_reach": int(np.isfinite(t_s).sum()), "exits": int(exits.size),
                             "units": len(unit_nodes), "suspect_s": t1 - t0, "units_s": t2 - t1}
    if exits.size == 0 or len(unit_nodes) == 0:
        stats["seconds"] = time.perf_counter() - t0
        return CheckpointPlan([], 0.0, int(exits.size), horizon, "no exits" if exits.size == 0 else "no units",
                              stats)
    w = route_weight if route_weight is not None else (
        heading_weights(xy, source, exits, heading_deg) if xy is not None else np.ones(exits.size))
    w = np.asarray(w, dtype=np.float64)
    # work on the suspect's reach only (a few per cent of a city-wide graph)
    reach = np.flatnonzero(np.isfinite(t_s))
    loc = np.full(a.shape[0], -1, dtype=np.int64)
    loc[reach] = np.arange(reach.size)
    ready = lead + unit_t[:, reach]  # (u, reach) seconds after the sighting
    feasible = (ready <= t_s[reach][None, :]) & np.isfinite(ready)
    # topmost feasible per unit on the fastest-path tree
    has_parent = pred[reach] >= 0
    parent = np.where(has_parent, loc[np.where(has_parent, pred[reach], 0)], 0)
    top = feasible & ~(feasible[:, parent] & has_parent[None, :])
    pu, pv_local = np.nonzero(top)
    pv = reach[pv_local]
    stats["candidate_pairs"] = int(pu.size)
    if pu.size == 0:
        stats["seconds"] = time.perf_counter() - t0
        return CheckpointPlan([], 0.0, int(exits.size), horizon, "no unit can get ahead of the suspect", stats)
    on_any = np.zeros(a.shape[0], dtype=bool)
    on_any[pv] = True
    he, hv = _ancestors_hits(pred, exits, on_any)
    # pairs per node
    order = np.argsort(pv, kind="stable")
    pv_sorted = pv[order]
    starts = np.searchsorted(pv_sorted, hv, side="left")
    ends = np.searchsorted(pv_sorted, hv, side="right")
    counts = ends - starts
    rows = np.repeat(he, counts)
    cols = order[np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)])] \
        if counts.sum() else np.empty(0, np.int64)
    npair, nex = pu.size, exits.size
    cover = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(nex, npair))
    covered_any = np.asarray(cover.sum(axis=1)).ravel() > 0
    ex_rows = np.flatnonzero(covered_any)
    cover = cover[ex_rows]
    ne = ex_rows.size
    units_used = np.unique(pu)
    unit_row = np.searchsorted(units_used, pu)
    node_used, node_row = np.unique(pv, return_inverse=True)
    blocks = [
        sp.hstack([-cover, sp.identity(ne, format="csr")]),  # z_e <= sum x
        sp.hstack([sp.csr_matrix((np.ones(npair), (unit_row, np.arange(npair))), shape=(units_used.size, npair)),
                   sp.csr_matrix((units_used.size, ne))]),  # one node per unit
        sp.hstack([sp.csr_matrix((np.ones(npair), (node_row.ravel(), np.arange(npair))),
                                 shape=(node_used.size, npair)),
                   sp.csr_matrix((node_used.size, ne))]),  # one unit per node
        sp.hstack([sp.csr_matrix(np.ones((1, npair))), sp.csr_matrix((1, ne))]),  # at most k
    ]
    mat = sp.vstack(blocks).tocsr()
    upper = np.concatenate([np.zeros(ne), np.ones(units_used.size), np.ones(node_used.size), [k]])
    lower = np.full(upper.size, -np.inf)
    c = np.concatenate([np.zeros(npair), w[ex_rows]])
    integ = np.concatenate([np.ones(npair, np.int32), np.zeros(ne, np.int32)])
    greedy = _greedy_pairs(cover.tocsc(), w[ex_rows], unit_row, node_row.ravel(), k)
    start = np.zeros(npair + ne)
    start[greedy] = 1.0
    start[npair:] = (np.asarray(cover[:, greedy].sum(axis=1)).ravel() > 0).astype(float)
    budget = max(time_limit - (time.perf_counter() - t0), 0.05)
    res = solve_milp(c, mat, lower, upper, integrality=integ, maximize=True, time_limit=budget,
                     start=start)
    if res.x is None or float(c @ res.x) < float(c @ start) - 1e-9:
        res = type(res)(x=start, objective=float(c @ start), bound=res.bound, status=res.status)
    stats["milp_s"] = time.perf_counter() - t2
    stats["milp_status"] = res.status
    stats["bound"] = float(res.bound) / float(w.sum()) if w.sum() > 0 else 0.0
    if res.x is None:
        stats["seconds"] = time.perf_counter() - t0
        return CheckpointPlan([], 0.0, int(exits.size), horizon, res.status, stats)
    chosen = np.flatnonzero(res.x[:npair] > 0.5)
    cps = []
    for j in chosen:
        u, v = int(pu[j]), int(pv[j])
        stopped = float(w[ex_rows][cover[:, j].toarray().ravel() > 0].sum())
        cps.append(Checkpoint(node=v, unit=u, ready_s=float(ready[u, loc[v]]), suspect_s=float(t_s[v]),
                              routes=stopped))
    sel_cover = np.asarray(cover[:, chosen].sum(axis=1)).ravel() > 0
    covered = float(w[ex_rows][sel_cover].sum() / w.sum())
    cps.sort(key=lambda c: -c.routes)
    stats["seconds"] = time.perf_counter() - t0
    return CheckpointPlan(cps, covered, int(exits.size), horizon, res.status, stats)


def _greedy_pairs(cover: sp.csc_matrix, w: np.ndarray, unit_row: np.ndarray, node_row: np.ndarray,
                  k: int) -> np.ndarray:
    """Greedy max coverage (a (1 - 1/e) start for the MILP): the pair stopping the most new weight."""
    covered = np.zeros(cover.shape[0], dtype=bool)
    free = np.ones(cover.shape[1], dtype=bool)
    chosen: list[int] = []
    for _ in range(k):
        gain = np.asarray(cover.T @ (w * ~covered)).ravel()
        gain[~free] = -1
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        chosen.append(j)
        covered[cover.indices[cover.indptr[j]:cover.indptr[j + 1]]] = True
        free &= (unit_row != unit_row[j]) & (node_row != node_row[j])
    return np.asarray(chosen, dtype=np.int64)


# --- evaluation ----------------------------------------------------------------------------------

@dataclass
class Escapes:
    """Simulated fugitive routes: node sequences and the fugitive's time at each node."""

    paths: list[np.ndarray]
    times: list[np.ndarray]


def _path(pred: np.ndarray, target: int) -> np.ndarray:
    out = [target]
    while pred[out[-1]] >= 0:
        out.append(int(pred[out[-1]]))
    return np.asarray(out[::-1], dtype=np.int64)


def simulate_escapes(a: sp.csr_matrix, source: int, *, horizon_s: float, n_routes: int = 200,
                     noise: float = 0.35, draws: int = 10, exit_weight: dict[int, float] | None = None,
                     seed: int = 0, xy: np.ndarray | None = None) -> Escapes:
    """Fugitive routes that are fast but not all fastest.

    Each of ``draws`` perturbs every edge time by a log-normal factor (sigma ``noise``: the
    fugitive's imperfect knowledge) and takes the perturbed-fastest paths to exits drawn at random
    (by ``exit_weight`` if given); the fugitive then drives them at the true edge times.
    """
    rng = np.random.default_rng(seed)
    true_t, _ = suspect_tree(a, source, horizon_s)
    exits = exits_of(a, true_t, horizon_s, xy)
    paths: list[np.ndarray] = []
    times: list[np.ndarray] = []
    if exits.size == 0:
        return Escapes(paths, times)
    p = None
    if exit_weight:
        wv = np.asarray([exit_weight.get(int(e), 0.0) for e in exits])
        p = wv / wv.sum() if wv.sum() > 0 else None
    per = int(np.ceil(n_routes / draws))
    csr = a.tocsr()
    for _ in range(draws):
        pert = csr.copy()
        pert.data = pert.data * rng.lognormal(0.0, noise, pert.data.size)
        _, pred = dijkstra(pert, indices=int(source), limit=horizon_s * 3, return_predecessors=True)
        for e in rng.choice(exits, size=per, p=p):
            path = _path(pred, int(e))
            if path[0] != source:
                continue
            legs = np.asarray(csr[path[:-1], path[1:]]).ravel()
            paths.append(path)
            times.append(np.concatenate([[0.0], np.cumsum(legs)]))
            if len(paths) >= n_routes:
                return Escapes(paths, times)
    return Escapes(paths, times)


def intercepted(escapes: Escapes, nodes: np.ndarray, ready_s: np.ndarray) -> np.ndarray:
    """For each simulated route, whether a checkpoint is set before the fugitive passes it."""
    ready = dict(zip(np.asarray(nodes, dtype=np.int64).tolist(), np.asarray(ready_s, dtype=float).tolist(),
                     strict=True))
    out = np.zeros(len(escapes.paths), dtype=bool)
    if not ready:
        return out
    keys = np.fromiter(ready.keys(), dtype=np.int64)
    vals = np.fromiter(ready.values(), dtype=np.float64)
    order = np.argsort(keys)
    keys, vals = keys[order], vals[order]
    for i, (path, tt) in enumerate(zip(escapes.paths, escapes.times, strict=True)):
        pos = np.searchsorted(keys, path)
        pos = np.minimum(pos, keys.size - 1)
        hit = keys[pos] == path
        out[i] = bool((vals[pos][hit] <= tt[hit]).any())
    return out


def nearest_junction_plan(a: sp.csr_matrix, unit_nodes: np.ndarray, unit_t: np.ndarray, *, elapsed_s: float,
                          dispatch_delay_s: float = 60.0, setup_s: float = 60.0, k: int | None = None,
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Baseline: each unit sets up at the junction (3+ roads) nearest to it by driving time.

    Returns ``(nodes, ready_s)``; ``k`` keeps the first ``k`` units.
    """
    und = (a + a.T).tocsr()
    degree = np.diff(und.indptr)
    junction = degree >= 3
    nodes, ready = [], []
    for u in range(len(unit_nodes))[: k or len(unit_nodes)]:
        tu = np.where(junction, unit_t[u], np.inf)
        v = int(np.argmin(tu))
        if not np.isfinite(tu[v]):
            v = int(unit_nodes[u])
            tu_v = 0.0
        else:
            tu_v = float(tu[v])
        nodes.append(v)
        ready.append(elapsed_s + dispatch_delay_s + setup_s + tu_v)
    return np.asarray(nodes, dtype=np.int64), np.asarray(ready)
