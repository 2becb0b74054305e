"""Contraction hierarchies (CH) with PHAST sweeps for one-to-all and all-to-one travel times.

Why: a dispatch query asks for the times from ~1,000 units spread over the city to one
incident, which is a reverse one-to-all search. Plain Dijkstra settles every node through a
priority queue; PHAST (Delling, Goldberg, Nowatzyk, Werneck 2011) instead runs a tiny upward
search in the hierarchy and then one linear sweep over the nodes in rank order, with no queue
at all -- the access pattern is sequential, which is what makes it an order of magnitude faster.
When only some nodes' costs are wanted (the units' segments), RPHAST sweeps only the nodes that
can reach them; the query kernels live in :mod:`precinct.city.sweep`. Results are exact
shortest-path costs (the hierarchy preserves all distances).

Preprocessing (node contraction with bounded witness searches and lazy priority updates) is the
classic Geisberger et al. scheme. It is metric-specific: the hierarchy is built for free-flow
times; queries at a congested hour fall back to Dijkstra.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from precinct.city.geo import FloatArray
from precinct.city.hierarchy import Hierarchy
from precinct.city.kernels import _pop, _push

__all__ = ["Hierarchy", "build_hierarchy", "contract", "morton_key"]

WITNESS_SETTLE_LIMIT = 80


@njit(cache=True)
def _add_edge(u: int, v: int, w: float, ef: np.ndarray, et: np.ndarray, ew: FloatArray,
              out_head: np.ndarray, out_next: np.ndarray, in_head: np.ndarray,
              in_next: np.ndarray, m: int) -> int:
    ef[m] = u
    et[m] = v
    ew[m] = w
    out_next[m] = out_head[u]
    out_head[u] = m
    in_next[m] = in_head[v]
    in_head[v] = m
    return m + 1


@njit(cache=True)
def _witness(src: int, skip: int, max_cost: float, limit: int, ef: np.ndarray, et: np.ndarray,
             ew: FloatArray, out_head: np.ndarray, out_next: np.ndarray, done: np.ndarray,
             dist: FloatArray, touched: np.ndarray, hk: FloatArray, hv: np.ndarray,
             tstamp: np.ndarray, stamp: int, n_targets: int) -> int:
    """Bounded Dijkstra from ``src`` avoiding ``skip`` and contracted nodes; returns #touched.

    Stops when all targets (``tstamp == stamp``) are settled, past ``max_cost``, or after
    ``limit`` settled nodes.
    """
    nt = 0
    dist[src] = 0.0
    touched[nt] = src
    nt += 1
    size = _push(hk, hv, 0, 0.0, src)
    settled = 0
    while size > 0:
        d = hk[0]
        x = hv[0]
        size = _pop(hk, hv, size)
        if d > dist[x]:
            continue
        if d > max_cost:
            break
        settled += 1
        if tstamp[x] == stamp:
            n_targets -= 1
            if n_targets <= 0:
                break
        if settled > limit:
            break
        e = out_head[x]
        prev = -1
        while e >= 0:
            y = et[e]
            nxt = out_next[e]
            if done[y]:
                # Unlink edges into contracted nodes: they are never needed again, and
                # leaving them makes the core's lists (and every search) ever longer.
                if prev < 0:
                    out_head[x] = nxt
                else:
                    out_next[prev] = nxt
                e = nxt
                continue
            if y != skip:
                nd = d + ew[e]
                if nd < dist[y]:
                    if dist[y] == np.inf:
                        touched[nt] = y
                        nt += 1
                    dist[y] = nd
                    size = _push(hk, hv, size, nd, y)
            prev = e
            e = nxt
    return nt


@njit(cache=True)
def _contract_node(v: int, apply: bool, ef: np.ndarray, et: np.ndarray, ew: FloatArray,
                   out_head: np.ndarray, out_next: np.ndarray, in_head: np.ndarray,
                   in_next: np.ndarray, m: int, done: np.ndarray, dist: FloatArray,
                   touched: np.ndarray, hk: FloatArray, hv: np.ndarray, mark: np.ndarray,
                   best: FloatArray, ins: np.ndarray, outs: np.ndarray, out_w: FloatArray,
                   tstamp: np.ndarray, limit: int) -> tuple[int, int, int]:
    """Shortcuts needed to contract ``v`` (added when ``apply``); returns (count, degree, m)."""
    # Distinct live in-neighbours and out-neighbours with their cheapest edge.
    n_in = 0
    e = in_head[v]
    prev = -1
    while e >= 0:
        u = ef[e]
        if done[u]:
            nxt = in_next[e]
            if prev < 0:
                in_head[v] = nxt
            else:
                in_next[prev] = nxt
            e = nxt
            continue
        prev = e
        if u != v:
            if mark[u] != 1:
                mark[u] = 1
                best[u] = ew[e]
                ins[n_in] = u
                n_in += 1
            elif ew[e] < best[u]:
                best[u] = ew[e]
        e = in_next[e]
    in_w = np.empty(n_in)
    for i in range(n_in):
        in_w[i] = best[ins[i]]
        mark[ins[i]] = 0
    n_out = 0
    e = out_head[v]
    prev = -1
    while e >= 0:
        x = et[e]
        if done[x]:
            nxt = out_next[e]
            if prev < 0:
                out_head[v] = nxt
            else:
                out_next[prev] = nxt
            e = nxt
            continue
        prev = e
        if x != v:
            if mark[x] != 2:
                mark[x] = 2
                best[x] = ew[e]
                outs[n_out] = x
                n_out += 1
            elif ew[e] < best[x]:
                best[x] = ew[e]
        e = out_next[e]
    max_out = 0.0
    for j in range(n_out):
        out_w[j] = best[outs[j]]
        mark[outs[j]] = 0
        tstamp[outs[j]] = v + 1
        if out_w[j] > max_out:
            max_out = out_w[j]
    count = 0
    for i in range(n_in):
        u = ins[i]
        targets = n_out - (1 if tstamp[u] == v + 1 else 0)
        nt = _witness(u, v, in_w[i] + max_out, limit, ef, et, ew, out_head, out_next, done,
                      dist, touched, hk, hv, tstamp, v + 1, targets)
        for j in range(n_out):
            x = outs[j]
            if x == u:
                continue
            via = in_w[i] + out_w[j]
            if dist[x] > via:
                count += 1
                if apply:
                    # Update an existing u -> x edge in place, else add a shortcut.
                    f = out_head[u]
                    found = False
                    while f >= 0:
                        if et[f] == x:
                            if via < ew[f]:
                                ew[f] = via
                            found = True
                            break
                        f = out_next[f]
                    if not found:
                        if m >= ef.size:
                            return count, n_in + n_out, -1  # out of room: caller grows
                        m = _add_edge(u, x, via, ef, et, ew, out_head, out_next, in_head,
                                      in_next, m)
        for k in range(nt):
            dist[touched[k]] = np.inf
    return count, n_in + n_out, m


@njit(cache=True)
def _neighbours(v: int, ef: np.ndarray, et: np.ndarray, out_head: np.ndarray,
                out_next: np.ndarray, in_head: np.ndarray, in_next: np.ndarray,
                done: np.ndarray, buf: np.ndarray) -> int:
    k = 0
    e = out_head[v]
    while e >= 0:
        if not done[et[e]]:
            buf[k] = et[e]
            k += 1
        e = out_next[e]
    e = in_head[v]
    while e >= 0:
        if not done[ef[e]]:
            buf[k] = ef[e]
            k += 1
        e = in_next[e]
    return k


@njit(cache=True)
def contract(n: int, tail: np.ndarray, head: np.ndarray, w: FloatArray, capacity: int,
             limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, FloatArray, int]:
    """Contract every node; returns ``(rank, edge_from, edge_to, edge_w, n_edges)``.

    ``n_edges == -1`` means ``capacity`` was too small (the caller retries with more).
    """
    ef = np.empty(capacity, np.int64)
    et = np.empty(capacity, np.int64)
    ew = np.empty(capacity, np.float64)
    out_head = np.full(n, -1, np.int64)
    in_head = np.full(n, -1, np.int64)
    out_next = np.empty(capacity, np.int64)
    in_next = np.empty(capacity, np.int64)
    m = 0
    for i in range(tail.size):
        if tail[i] != head[i]:
            m = _add_edge(tail[i], head[i], w[i], ef, et, ew, out_head, out_next, in_head,
                          in_next, m)
    done = np.zeros(n, np.bool_)
    dist = np.full(n, np.inf)
    touched = np.empty(n, np.int64)
    hk = np.empty(capacity + n, np.float64)
    hv = np.empty(capacity + n, np.int64)
    mark = np.zeros(n, np.int8)
    best = np.empty(n, np.float64)
    ins = np.empty(n, np.int64)
    outs = np.empty(n, np.int64)
    out_w = np.empty(n, np.float64)
    nbuf = np.empty(2 * n, np.int64)
    tstamp = np.zeros(n, np.int64)
    level = np.zeros(n, np.float64)
    prio = np.empty(n, np.float64)
    pk = np.empty(8 * n + 16, np.float64)
    pv = np.empty(8 * n + 16, np.int64)
    psize = 0
    for v in range(n):
        c, deg, _ = _contract_node(v, False, ef, et, ew, out_head, out_next, in_head, in_next,
                                   m, done, dist, touched, hk, hv, mark, best, ins, outs, out_w,
                                   tstamp, limit)
        prio[v] = 2.0 * c / max(deg, 1)
        psize = _push(pk, pv, psize, prio[v], v)
    rank = np.full(n, -1, np.int64)
    r = 0
    while psize > 0:
        p = pk[0]
        v = pv[0]
        psize = _pop(pk, pv, psize)
        if done[v] or p != prio[v]:
            continue
        # Lazy update: re-evaluate; if no longer the minimum, put it back.
        c, deg, _ = _contract_node(v, False, ef, et, ew, out_head, out_next, in_head, in_next,
                                   m, done, dist, touched, hk, hv, mark, best, ins, outs, out_w,
                                   tstamp, limit)
        newp = level[v] + 2.0 * c / max(deg, 1)
        if psize > 0 and newp > pk[0]:
            prio[v] = newp
            if psize >= pk.size:
                return rank, ef, et, ew, -1
            psize = _push(pk, pv, psize, newp, v)
            continue
        c, deg, m2 = _contract_node(v, True, ef, et, ew, out_head, out_next, in_head, in_next,
                                    m, done, dist, touched, hk, hv, mark, best, ins, outs, out_w,
                                    tstamp, limit)
        if m2 < 0:
            return rank, ef, et, ew, -1
        m = m2
        done[v] = True
        rank[v] = r
        r += 1
        k = _neighbours(v, ef, et, out_head, out_next, in_head, in_next, done, nbuf)
        for i in range(k):
            x = nbuf[i]
            if mark[x] == 3:
                continue  # listed twice (in- and out-neighbour)
            mark[x] = 3
            # Level term (as in RoutingKit's ordering): contracting evenly keeps the core
            # sparse. The shortcut term is re-simulated lazily when x reaches the top; full
            # re-simulation of every neighbour is what makes dense cores quadratic.
            if level[v] + 1 > level[x]:
                np_ = prio[x] + (level[v] + 1 - level[x])
                level[x] = level[v] + 1
            else:
                np_ = prio[x]
            if np_ != prio[x]:
                prio[x] = np_
                if psize >= pk.size:
                    return rank, ef, et, ew, -1
                psize = _push(pk, pv, psize, np_, x)
        for i in range(k):
            mark[nbuf[i]] = 0
    return rank, ef, et, ew, m


def _kcsr(n: int, src: np.ndarray, dst: np.ndarray, w: FloatArray
          ) -> tuple[np.ndarray, np.ndarray, FloatArray]:
    order = np.lexsort((dst, src))
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    # int32 neighbour ids: the sweep streams these arrays, so half the bytes is real time.
    return indptr, dst[order].astype(np.int32), w[order].astype(np.float64)


@njit(cache=True)
def _levels(out_indptr: np.ndarray, out_adj: np.ndarray, in_indptr: np.ndarray,
            in_adj: np.ndarray) -> np.ndarray:
    """CH level of each k: 0 without lower neighbours, else 1 + the highest lower level."""
    n = out_indptr.size - 1
    lev = np.zeros(n, np.int64)
    for k in range(n - 1, -1, -1):  # lowest rank first: its level is final by now
        nxt = lev[k] + 1
        for j in range(out_indptr[k], out_indptr[k + 1]):
            if lev[out_adj[j]] < nxt:
                lev[out_adj[j]] = nxt
        for j in range(in_indptr[k], in_indptr[k + 1]):
            if lev[in_adj[j]] < nxt:
                lev[in_adj[j]] = nxt
    return lev


def morton_key(x: FloatArray, y: FloatArray) -> np.ndarray:
    """Z-order key of points (16 bits a coordinate): nearby points get nearby keys."""

    def spread(v: np.ndarray) -> np.ndarray:
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x55555555)

    def q(v: FloatArray) -> np.ndarray:
        span = max(float(v.max() - v.min()), 1e-9)
        return ((v - v.min()) / span * 65535).astype(np.uint64)

    return spread(q(x)) | (spread(q(y)) << np.uint64(1))


def _relayout(h: Hierarchy, node_key: np.ndarray) -> Hierarchy:
    """Renumber k by (level descending, ``node_key``) for memory locality in the sweep.

    Any order in which every node comes after its higher-ranked neighbours is a valid sweep
    order, and those neighbours always have a strictly higher level. Sorting a level's nodes
    spatially makes the sweep's scattered reads of ``d`` land close together (the PHAST
    paper's main practical trick).
    """
    n = h.kpos.size
    lev = _levels(h.out_indptr, h.out_adj, h.in_indptr, h.in_adj)
    key_k = np.empty(n, dtype=node_key.dtype)
    key_k[h.kpos] = node_key
    order = np.lexsort((key_k, -lev))  # new k -> old k
    newpos = np.empty(n, np.int64)
    newpos[order] = np.arange(n)

    def remap(indptr: np.ndarray, adj: np.ndarray, w: FloatArray
              ) -> tuple[np.ndarray, np.ndarray, FloatArray]:
        src = np.repeat(np.arange(n), np.diff(indptr))
        return _kcsr(n, newpos[src], newpos[adj], w)

    return Hierarchy(newpos[h.kpos], *remap(h.out_indptr, h.out_adj, h.out_w),
                     *remap(h.in_indptr, h.in_adj, h.in_w))


def build_hierarchy(n: int, tail: np.ndarray, head: np.ndarray, w: FloatArray,
                    *, witness_limit: int = WITNESS_SETTLE_LIMIT,
                    node_key: np.ndarray | None = None) -> Hierarchy:
    """Contract the graph ``(tail -> head, w)`` and lay the hierarchy out for PHAST.

    Parameters
    ----------
    n : int
        Number of nodes.
    tail, head : numpy.ndarray
        Directed edges.
    w : numpy.ndarray
        Non-negative cost per edge (free-flow seconds in practice).
    witness_limit : int
        Nodes a witness search may settle; lower builds faster with more shortcuts (results
        stay exact either way).
    node_key : numpy.ndarray, optional
        Spatial sort key per node (e.g. :func:`morton_key`) for the sweep's memory layout.
    """
    t = np.ascontiguousarray(tail, np.int64)
    h = np.ascontiguousarray(head, np.int64)
    ww = np.ascontiguousarray(w, np.float64)
    capacity = 3 * t.size + 1024
    while True:
        rank, ef, et, ew, m = contract(n, t, h, ww, capacity, witness_limit)
        if m >= 0:
            break
        capacity *= 2
    ef, et, ew = ef[:m], et[:m], ew[:m]
    kpos = (n - 1 - rank).astype(np.int64)
    ku, kv = kpos[ef], kpos[et]
    up = kv < ku  # edge leads to a higher-ranked node
    # Parallel edges: keep the cheapest per (from, to).
    out_indptr, out_adj, out_w = _kcsr(n, ku[up], kv[up], ew[up])
    in_indptr, in_adj, in_w = _kcsr(n, kv[~up], ku[~up], ew[~up])
    flat = Hierarchy(kpos, out_indptr, out_adj, out_w, in_indptr, in_adj, in_w)
    return _relayout(flat, np.arange(n) if node_key is None else node_key)
