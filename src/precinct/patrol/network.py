"""Road-graph adapters: the city's graph as SciPy sparse matrices, and node-level travel times.

The scientific core of the patrol module works on a CSR matrix of edge costs (``A[u, v]`` = seconds
on the fastest edge from ``u`` to ``v``) so it runs on any graph; these helpers build that matrix
from :class:`precinct.city.RoadGraph`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from precinct.errors import BadInput


def csr_from_edges(n: int, tail: np.ndarray, head: np.ndarray, cost: np.ndarray) -> sp.csr_matrix:
    """CSR matrix of edge costs keeping the cheapest of parallel edges (SciPy would sum them)."""
    tail = np.asarray(tail, dtype=np.int64)
    head = np.asarray(head, dtype=np.int64)
    cost = np.asarray(cost, dtype=np.float64)
    order = np.lexsort((cost, head, tail))
    t, h, c = tail[order], head[order], cost[order]
    first = np.ones(t.size, dtype=bool)
    first[1:] = (t[1:] != t[:-1]) | (h[1:] != h[:-1])
    keep = first & (t != h)
    c = np.maximum(c[keep], 1e-6)  # an explicit zero would read as "no edge"
    return sp.csr_matrix((c, (t[keep], h[keep])), shape=(n, n))


def drive_matrix(graph: Any, hour: int | None = None) -> sp.csr_matrix:
    """Driving seconds per directed edge of a ``RoadGraph`` (``hour`` = congestion hour)."""
    return csr_from_edges(graph.n_nodes, graph.tail, graph.head, graph.weights("time", hour))


def walk_matrix(graph: Any, speed_mps: float) -> sp.csr_matrix:
    """Walking seconds per edge, both directions (one-way rules do not bind pedestrians)."""
    if not speed_mps > 0:
        raise BadInput("walking speed must be positive", detail={"speed_mps": speed_mps})
    w = graph.weights("time", speed_mps=speed_mps)
    return csr_from_edges(graph.n_nodes, np.concatenate([graph.tail, graph.head]),
                          np.concatenate([graph.head, graph.tail]), np.concatenate([w, w]))


def response_matrix(a: sp.csr_matrix, demand_nodes: np.ndarray, candidate_nodes: np.ndarray,
                    limit: float | None = None) -> np.ndarray:
    """Seconds from every candidate post to every demand node, shape ``(n_demand, n_candidates)``.

    One bounded Dijkstra per candidate; pairs beyond ``limit`` are ``inf``.
    """
    cand = np.asarray(candidate_nodes, dtype=np.int64)
    dem = np.asarray(demand_nodes, dtype=np.int64)
    out = np.empty((dem.size, cand.size))
    step = 64
    for k in range(0, cand.size, step):
        block = dijkstra(a, indices=cand[k:k + step], limit=np.inf if limit is None else limit)
        out[:, k:k + step] = block[:, dem].T
    return out


def sparse_response_matrix(a: sp.csr_matrix, demand_nodes: np.ndarray, candidate_nodes: np.ndarray,
                           cutoff: float) -> sp.csr_matrix:
    """Seconds from candidate posts to demand nodes within ``cutoff``, as a sparse ``(n_demand,
    n_candidates)`` matrix: stored entries (explicit zeros included) are reachable pairs.

    One bounded Dijkstra per block of candidates; only pairs within the cutoff are kept, so the
    dense ``n x m`` matrix is never built (county-scale instances).
    """
    if not cutoff > 0:
        raise BadInput("the travel-time cutoff must be positive", detail={"cutoff_s": cutoff})
    cand = np.asarray(candidate_nodes, dtype=np.int64)
    dem = np.asarray(demand_nodes, dtype=np.int64)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    step = 64
    for k in range(0, cand.size, step):
        block = dijkstra(a, indices=cand[k:k + step], limit=cutoff)[:, dem]
        c, r = np.nonzero(block <= cutoff)
        rows.append(r)
        cols.append(c + k)
        vals.append(block[c, r])
    r_all, c_all, v_all = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    return sp.csr_matrix((v_all, (r_all, c_all)), shape=(dem.size, cand.size))
