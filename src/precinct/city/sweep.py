"""Queries on a contraction hierarchy: PHAST (one to all) and RPHAST (one to a selected set).

PHAST (Delling, Goldberg, Nowatzyk, Werneck 2011) answers "costs from one point to every node"
with a small upward search in the hierarchy followed by one linear sweep over all nodes in
rank order. A dispatch query only needs the costs at the ~2,000 end nodes of the segments the
units stand on, though. RPHAST (Delling, Goldberg, Werneck 2011) restricts the sweep to the
nodes those targets can reach by going *up* the hierarchy (the union of their upward search
spaces): every shortest path to a target comes down through exactly such nodes, so the
restricted sweep is exact. On the 1M-edge benchmark city 1,000 random units select ~15% of the
nodes.

Computing that selection costs random memory accesses, though: on the benchmark city about
twice as much as a full PHAST sweep. Two ways around it, chosen per query:

* Dispatch asks about the same fleet again and again, and units move a few at a time, so the
  selection of a fleet that repeats is kept and extended for units that moved
  (:class:`FleetSelection`); each query then costs an upward search plus the restricted sweep.
* A fleet not seen before gets a stateless sweep: the top ``cut`` nodes of the hierarchy in
  full (sequential, as in PHAST, no selection needed -- that is where the targets' search
  spaces overlap and nearly every node is selected anyway), and below the cut only the
  selected nodes, found by a search that stops at the cut. The cut comes from the number of
  targets and a profile of the hierarchy's search spaces (:class:`CutModel`); ``cut == n``
  is PHAST.

The upward search stalls on demand, which matters here: without it, it cost as much as the
restricted sweep. Every variant gives the same, exact, costs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from numba import njit

from precinct.city.geo import FloatArray
from precinct.city.kernels import _pop, _push


@njit(cache=True, nogil=True)
def _upward_search(indptr: np.ndarray, adj: np.ndarray, wt: FloatArray, seed_k: np.ndarray,
                   seed_d: FloatArray, d: FloatArray, stall_indptr: np.ndarray,
                   stall_adj: np.ndarray, stall_w: FloatArray) -> None:
    """Dijkstra over upward edges (k-space) from the seeds, writing into ``d`` (all inf).

    Stall on demand: a settled node that some higher neighbour already reaches more cheaply
    (through the opposite-direction edges ``stall_*``, the sweep's) does not lie on any
    shortest up-down path, so its edges are not relaxed. Its ``d`` stays an upper bound,
    which the sweep then lowers; nodes on shortest paths are never stalled, so the answers
    stay exact while the search (which dominates a restricted sweep) touches far fewer edges.
    """
    # Upward search spaces are small (hundreds to a few thousand nodes): start with a small
    # heap and grow it, rather than allocating one slot per edge of the whole hierarchy.
    cap = 4096 + seed_k.size
    hk = np.empty(cap, np.float64)
    hv = np.empty(cap, np.int64)
    size = 0
    for i in range(seed_k.size):
        if seed_d[i] < d[seed_k[i]]:
            d[seed_k[i]] = seed_d[i]
            size = _push(hk, hv, size, seed_d[i], seed_k[i])
    while size > 0:
        dd = hk[0]
        x = hv[0]
        size = _pop(hk, hv, size)
        if dd > d[x]:
            continue
        stalled = False
        for j in range(stall_indptr[x], stall_indptr[x + 1]):
            if d[stall_adj[j]] + stall_w[j] < dd:
                stalled = True
                break
        if stalled:
            continue
        for j in range(indptr[x], indptr[x + 1]):
            y = adj[j]
            nd = dd + wt[j]
            if nd < d[y]:
                d[y] = nd
                if size == hk.size:
                    hk2 = np.empty(2 * hk.size, np.float64)
                    hv2 = np.empty(2 * hv.size, np.int64)
                    hk2[:size] = hk
                    hv2[:size] = hv
                    hk = hk2
                    hv = hv2
                size = _push(hk, hv, size, nd, y)


@njit(cache=True, inline="always")
def _settle(d: FloatArray, k: int, down_indptr: np.ndarray, down_adj: np.ndarray, down_w: FloatArray) -> None:
    """The sweep's step: node ``k`` takes the best cost flowing down from its higher neighbours."""
    best = d[k]
    for j in range(down_indptr[k], down_indptr[k + 1]):
        c = d[down_adj[j]] + down_w[j]
        if c < best:
            best = c
    d[k] = best


@njit(cache=True, nogil=True)  # no GIL: API worker threads query in parallel
def phast(up_indptr: np.ndarray, up_adj: np.ndarray, up_w: FloatArray,
          down_indptr: np.ndarray, down_adj: np.ndarray, down_w: FloatArray,
          seed_k: np.ndarray, seed_d: FloatArray) -> FloatArray:
    """Costs from the seeds to every node (k-space: 0 = highest rank).

    ``up_*`` is the upward graph searched from the seeds; ``down_*`` lists, for each node, its
    higher-ranked neighbours (smaller k) whose costs flow down to it in the sweep.
    """
    n = up_indptr.size - 1
    d = np.full(n, np.inf)
    _upward_search(up_indptr, up_adj, up_w, seed_k, seed_d, d, down_indptr, down_adj, down_w)
    for k in range(n):
        _settle(d, k, down_indptr, down_adj, down_w)
    return d


@njit(cache=True, nogil=True)
def _closure_below(down_indptr: np.ndarray, down_adj: np.ndarray, targets_k: np.ndarray,
                   cut: int) -> np.ndarray:
    """Nodes at or below ``cut`` (k >= cut) in the targets' upward closure, sorted by k."""
    n = down_indptr.size - 1
    mark = np.zeros(n, np.bool_)
    found = np.empty(targets_k.size + 64, np.int64)
    m = 0
    top = 0  # found[top:m] is the stack of nodes whose edges are not yet followed
    for t in targets_k:
        if t >= cut and not mark[t]:
            mark[t] = True
            found[m] = t
            m += 1
    while top < m:
        k = found[top]
        top += 1
        for j in range(down_indptr[k], down_indptr[k + 1]):
            y = down_adj[j]
            if y >= cut and not mark[y]:
                mark[y] = True
                if m == found.size:
                    grown = np.empty(2 * found.size, np.int64)
                    grown[:m] = found
                    found = grown
                found[m] = y
                m += 1
    if 16 * m < n - cut:  # few: sort them; many: a scan of the marks is cheaper
        return np.sort(found[:m])
    out = np.empty(m, np.int64)
    i = 0
    for k in range(cut, n):
        if mark[k]:
            out[i] = k
            i += 1
    return out


@njit(cache=True, nogil=True)  # no GIL: API worker threads query in parallel
def rphast(up_indptr: np.ndarray, up_adj: np.ndarray, up_w: FloatArray,
           down_indptr: np.ndarray, down_adj: np.ndarray, down_w: FloatArray,
           seed_k: np.ndarray, seed_d: FloatArray, targets_k: np.ndarray,
           cut: int) -> FloatArray:
    """Costs from the seeds to ``targets_k``: full sweep above ``cut``, restricted below."""
    below = _closure_below(down_indptr, down_adj, targets_k, cut)
    n = up_indptr.size - 1
    d = np.full(n, np.inf)
    _upward_search(up_indptr, up_adj, up_w, seed_k, seed_d, d, down_indptr, down_adj, down_w)
    for k in range(min(cut, n)):
        _settle(d, k, down_indptr, down_adj, down_w)
    for i in range(below.size):
        k = below[i]
        _settle(d, k, down_indptr, down_adj, down_w)
    out = np.empty(targets_k.size, np.float64)
    for q in range(targets_k.size):
        out[q] = d[targets_k[q]]
    return out


@njit(cache=True, nogil=True)
def _grow(mark: np.ndarray, down_indptr: np.ndarray, down_adj: np.ndarray,
          targets_k: np.ndarray) -> np.ndarray:
    """Add the targets' upward closure to ``mark``; returns the newly marked nodes, sorted.

    The search stops at nodes already marked (their closure is marked already).
    """
    found = np.empty(targets_k.size + 64, np.int64)
    m = 0
    top = 0
    for t in targets_k:
        if not mark[t]:
            mark[t] = True
            found[m] = t
            m += 1
    while top < m:
        k = found[top]
        top += 1
        for j in range(down_indptr[k], down_indptr[k + 1]):
            y = down_adj[j]
            if not mark[y]:
                mark[y] = True
                if m == found.size:
                    grown = np.empty(2 * found.size, np.int64)
                    grown[:m] = found
                    found = grown
                found[m] = y
                m += 1
    return np.sort(found[:m])


@njit(cache=True, nogil=True)  # no GIL: API worker threads query in parallel
def rphast_selected(up_indptr: np.ndarray, up_adj: np.ndarray, up_w: FloatArray,
                    down_indptr: np.ndarray, down_adj: np.ndarray, down_w: FloatArray,
                    seed_k: np.ndarray, seed_d: FloatArray, selected: np.ndarray,
                    targets_k: np.ndarray) -> FloatArray:
    """Costs from the seeds to ``targets_k``, sweeping only ``selected`` (sorted, closed upwards
    and holding every target)."""
    d = np.full(up_indptr.size - 1, np.inf)
    _upward_search(up_indptr, up_adj, up_w, seed_k, seed_d, d, down_indptr, down_adj, down_w)
    for i in range(selected.size):
        k = selected[i]
        _settle(d, k, down_indptr, down_adj, down_w)
    out = np.empty(targets_k.size, np.float64)
    for q in range(targets_k.size):
        out[q] = d[targets_k[q]]
    return out


@njit(cache=True, nogil=True)
def _compact(down_indptr: np.ndarray, down_adj: np.ndarray, down_w: FloatArray,
             selected: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, FloatArray]:
    """The restricted sweep as its own CSR: ``(local id of each k, indptr, adj, w)``.

    Local node ``i`` is ``selected[i]``; it pulls from local nodes ``adj[indptr[i]:indptr[i+1]]``
    (all smaller than ``i``). ``local`` is only meaningful at selected k.
    """
    n = down_indptr.size - 1
    m = selected.size
    local = np.empty(n, np.int32)
    n_edges = 0
    for i in range(m):
        k = selected[i]
        local[k] = i
        n_edges += down_indptr[k + 1] - down_indptr[k]
    indptr = np.empty(m + 1, np.int64)
    adj = np.empty(n_edges, np.int32)
    w = np.empty(n_edges, np.float64)
    indptr[0] = 0
    e = 0
    for i in range(m):
        k = selected[i]
        for j in range(down_indptr[k], down_indptr[k + 1]):
            adj[e] = local[down_adj[j]]
            w[e] = down_w[j]
            e += 1
        indptr[i + 1] = e
    return local, indptr, adj, w


@njit(cache=True, nogil=True)  # no GIL: API worker threads query in parallel
def rphast_compact(up_indptr: np.ndarray, up_adj: np.ndarray, up_w: FloatArray,
                   down_indptr: np.ndarray, down_adj: np.ndarray, down_w: FloatArray,
                   seed_k: np.ndarray, seed_d: FloatArray, selected: np.ndarray,
                   indptr: np.ndarray, adj: np.ndarray, w: FloatArray,
                   targets_local: np.ndarray) -> FloatArray:
    """:func:`rphast_selected` over the selection's own CSR (see :func:`_compact`).

    The sweep then streams a few MB and keeps its costs in a small array (cache-resident),
    instead of reading scattered rows of the whole hierarchy.
    """
    d = np.full(up_indptr.size - 1, np.inf)
    _upward_search(up_indptr, up_adj, up_w, seed_k, seed_d, d, down_indptr, down_adj, down_w)
    m = selected.size
    dl = np.empty(m, np.float64)
    for i in range(m):
        best = d[selected[i]]
        for j in range(indptr[i], indptr[i + 1]):
            c = dl[adj[j]] + w[j]
            if c < best:
                best = c
        dl[i] = best
    out = np.empty(targets_local.size, np.float64)
    for q in range(targets_local.size):
        out[q] = dl[targets_local[q]]
    return out


@njit(cache=True)
def _space_below(down_indptr: np.ndarray, down_adj: np.ndarray, sample_k: np.ndarray,
                 cuts: np.ndarray) -> FloatArray:
    """Mean edges, per sampled node, of its upward closure at or below each cut."""
    n = down_indptr.size - 1
    mark = np.zeros(n, np.int64)
    stack = np.empty(n, np.int64)
    total = np.zeros(cuts.size, np.float64)
    for s in range(sample_k.size):
        stamp = s + 1
        stack[0] = sample_k[s]
        mark[sample_k[s]] = stamp
        top = 1
        while top > 0:
            top -= 1
            k = stack[top]
            deg = down_indptr[k + 1] - down_indptr[k]
            for c in range(cuts.size):
                if k >= cuts[c]:
                    total[c] += deg
            for j in range(down_indptr[k], down_indptr[k + 1]):
                y = down_adj[j]
                if mark[y] != stamp:
                    mark[y] = stamp
                    stack[top] = y
                    top += 1
    return total / max(sample_k.size, 1)


# Following an edge found by the selection search costs about this many times as much as
# sweeping one in order (random vs sequential memory access, and each is read twice).
RANDOM_EDGE_COST = 6.0
CUT_FRACTIONS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0)


class CutModel:
    """Where to cut one sweep direction of a hierarchy, given the number of targets.

    Estimated cost of a cut: the edges swept in full above it, plus ``RANDOM_EDGE_COST`` times
    the edges of the targets' closures below it (the number of targets times a sampled node's
    closure, capped by all the edges below the cut). Only speed depends on the cut; every cut
    gives the same, exact, answers.
    """

    def __init__(self, down_indptr: np.ndarray, down_adj: np.ndarray, sample: int = 64) -> None:
        n = down_indptr.size - 1
        self.cuts = np.unique(np.array([round(f * n) for f in CUT_FRACTIONS], np.int64))
        rng = np.random.default_rng(0)
        sample_k = rng.choice(n, size=min(sample, n), replace=False) if n else np.zeros(0, int)
        self.per_target = _space_below(down_indptr, down_adj,
                                       np.asarray(sample_k, np.int64), self.cuts)
        self.above = down_indptr[self.cuts].astype(np.float64)  # edges swept in full
        self.below_all = float(down_indptr[-1]) - self.above

    def cut(self, n_targets: int) -> int:
        """The cheapest cut (a k) for a query with ``n_targets`` target nodes."""
        cost = self.above + RANDOM_EDGE_COST * np.minimum(n_targets * self.per_target,
                                                          self.below_all)
        return int(self.cuts[int(np.argmin(cost))])


@dataclass(frozen=True)
class Compact:
    """A kept selection laid out as its own CSR (see :func:`_compact`)."""

    local: np.ndarray
    indptr: np.ndarray
    adj: np.ndarray
    w: FloatArray


# A fleet counts as "the same as last time" when this share of its target nodes was also in
# the previous query's; only then is the kept selection extended for it.
SAME_FLEET = 0.9


# Keep the kept set's top (this share of the nodes, highest ranks) when it is pruned.
KEEP_TOP = 0.2
# Prune when the kept set has grown this much since it was last (re)built.
MAX_GROWTH = 1.5


class FleetSelection:
    """The upward closure of the recent target sets of one sweep direction (thread-safe).

    Dispatch asks about the same units again and again, and units move a few at a time. So
    once a target set repeats (mostly), its closure is kept as a sorted node list and each
    later query sweeps only those nodes; when up to 10% of the targets are not covered (units
    that moved), their own closure is added (the search stops at nodes already kept). A
    superset of a closure is still exact, just slower, so the kept set only grows until it is
    ``MAX_GROWTH`` times its size when last built, or a different fleet shows up twice; then
    it is pruned to its top ``KEEP_TOP`` share of ranks (any fleet spread over the city needs
    most of those, and cutting there keeps the set closed) and the current targets' closure is
    added again -- cheap, because the search stops at the kept top. A target set that the kept
    one does not mostly cover gets the stateless :func:`rphast` instead.
    """

    def __init__(self, down_indptr: np.ndarray, down_adj: np.ndarray,
                 down_w: FloatArray | None = None) -> None:
        self._indptr = down_indptr
        self._adj = down_adj
        self._w = down_w
        self._n = down_indptr.size - 1
        self._top = int(KEEP_TOP * self._n)
        self._lock = threading.Lock()
        self._mark: np.ndarray | None = None
        self._selected = np.zeros(0, np.int64)
        self._built = 0
        self._previous = np.zeros(0, np.int64)
        self._unchanged = 0
        self._compact: Compact | None = None

    def selected_for(self, targets_k: np.ndarray) -> np.ndarray | None:
        """Sorted nodes to sweep for ``targets_k``, or ``None`` (use the stateless sweep)."""
        plan = self.plan(targets_k)
        return None if plan is None else plan[0]

    def plan(self, targets_k: np.ndarray) -> tuple[np.ndarray, Compact | None] | None:
        """The kept nodes to sweep for ``targets_k`` and, once the kept set has served two
        queries unchanged, its compact layout (built then, kept until the set changes);
        ``None``: use the stateless sweep."""
        with self._lock:
            if self._mark is not None:
                covered = float(self._mark[targets_k].mean()) if targets_k.size else 1.0
                if covered == 1.0:
                    self._unchanged += 1
                    if self._compact is None and self._unchanged >= 2 and self._w is not None:
                        self._compact = Compact(*_compact(self._indptr, self._adj, self._w,
                                                          self._selected))
                    return self._selected, self._compact
                if covered >= SAME_FLEET:
                    if self._selected.size > MAX_GROWTH * self._built:
                        return self._rebuild(targets_k), None
                    return self._extend(targets_k), None
            # Not (enough) kept for this fleet: keep one only once it shows up twice.
            unique = np.unique(targets_k)
            same = np.isin(unique, self._previous, assume_unique=True).mean() if unique.size else 1
            self._previous = unique
            if same < SAME_FLEET:
                return None
            return self._rebuild(unique), None

    def _rebuild(self, targets_k: np.ndarray) -> np.ndarray:
        if self._mark is None:
            self._mark = np.zeros(self._n, np.bool_)
        else:  # prune to the top: edges only lead up, so what is left stays closed
            self._mark[self._top:] = False
            self._selected = self._selected[: np.searchsorted(self._selected, self._top)]
        out = self._extend(targets_k)
        self._built = out.size
        return out

    def _extend(self, targets_k: np.ndarray) -> np.ndarray:
        assert self._mark is not None
        self._unchanged = 0
        self._compact = None
        new = _grow(self._mark, self._indptr, self._adj, targets_k)
        if new.size:  # new nodes were unmarked, so not in the sorted kept list yet
            self._selected = np.insert(self._selected, np.searchsorted(self._selected, new), new)
        return self._selected
