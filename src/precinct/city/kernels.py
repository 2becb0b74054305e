"""Compiled search kernels (numba) over a CSR adjacency.

Why not ``scipy.sparse.csgraph.dijkstra``: it cannot start from a point part-way along an edge
(a snapped incident is seeded at both ends of its segment with different offsets), cannot stop
once the nodes we care about are settled, and needs a fresh sparse matrix for every weighting
(hour of day, walking). These kernels take the slot-to-edge map and the per-edge weights
separately, so one adjacency serves every metric, forward and reverse.

The heap is a binary heap with lazy deletion (a node may be pushed several times; stale entries
are skipped on pop), which on road graphs beats decrease-key bookkeeping.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from precinct.city.geo import FloatArray


@njit(cache=True, inline="always")
def _push(keys: FloatArray, vals: np.ndarray, size: int, key: float, val: int) -> int:
    i = size
    keys[i] = key
    vals[i] = val
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        vals[i] = vals[parent]
        i = parent
    keys[i] = key
    vals[i] = val
    return size + 1


@njit(cache=True, inline="always")
def _pop(keys: FloatArray, vals: np.ndarray, size: int) -> int:
    """Remove the root (the caller read it first); returns the new size."""
    size -= 1
    if size == 0:
        return 0
    key = keys[size]
    val = vals[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and keys[child + 1] < keys[child]:
            child += 1
        if keys[child] >= key:
            break
        keys[i] = keys[child]
        vals[i] = vals[child]
        i = child
    keys[i] = key
    vals[i] = val
    return size


@njit(cache=True, nogil=True)  # no GIL: API worker threads query in parallel
def dijkstra(indptr: np.ndarray, adj: np.ndarray, slot_edge: np.ndarray, weight: FloatArray,
             seed_nodes: np.ndarray, seed_dist: FloatArray, limit: float,
             stop_nodes: np.ndarray, want_pred: bool) -> tuple[FloatArray, np.ndarray]:
    """Multi-seed Dijkstra.

    Parameters
    ----------
    indptr, adj : numpy.ndarray
        CSR adjacency: the neighbours of ``u`` are ``adj[indptr[u]:indptr[u+1]]``.
    slot_edge : numpy.ndarray
        Edge id of each CSR slot; ``weight[slot_edge[k]]`` is the cost of slot ``k``.
    weight : numpy.ndarray
        Non-negative cost per edge id.
    seed_nodes, seed_dist : numpy.ndarray
        Start nodes and their initial costs (a snapped point seeds both ends of its segment).
    limit : float
        Nodes farther than this are reported as ``inf`` (``inf`` for no limit).
    stop_nodes : numpy.ndarray
        If not empty, stop as soon as all of these are settled; other nodes may then be ``inf``.
    want_pred : bool
        Also return the edge id by which each node was reached (-1 for seeds and unreached).

    Returns
    -------
    dist, pred : numpy.ndarray
        Final costs (``inf`` where not settled) and predecessor edges.
    """
    n = indptr.size - 1
    dist = np.full(n, np.inf)
    done = np.zeros(n, dtype=np.bool_)
    pred = np.full(n if want_pred else 1, -1, dtype=np.int64)
    cap = adj.size + seed_nodes.size + 1
    keys = np.empty(cap, dtype=np.float64)
    vals = np.empty(cap, dtype=np.int64)
    size = 0
    for i in range(seed_nodes.size):
        s = seed_nodes[i]
        d = seed_dist[i]
        if d < dist[s] and d <= limit:
            dist[s] = d
            size = _push(keys, vals, size, d, s)
    is_stop = np.zeros(n if stop_nodes.size > 0 else 1, dtype=np.bool_)
    remaining = 0
    for i in range(stop_nodes.size):
        t = stop_nodes[i]
        if not is_stop[t]:
            is_stop[t] = True
            remaining += 1
    while size > 0:
        d = keys[0]
        u = vals[0]
        size = _pop(keys, vals, size)
        if done[u] or d > dist[u]:
            continue
        done[u] = True
        if remaining > 0 and is_stop[u]:
            remaining -= 1
            if remaining == 0:
                break
        for k in range(indptr[u], indptr[u + 1]):
            v = adj[k]
            if done[v]:
                continue
            e = slot_edge[k]
            nd = d + weight[e]
            if nd < dist[v] and nd <= limit:
                dist[v] = nd
                if want_pred:
                    pred[v] = e
                size = _push(keys, vals, size, nd, v)
    for u in range(n):
        if not done[u]:
            dist[u] = np.inf
    return dist, pred
