"""Primal side of the p-median: demand rows sorted by cost, greedy addition and fast interchange.

Every demand row keeps its finite costs sorted ascending in one CSR-like layout (:class:`Rows`), so
"the nearest open post", "every candidate closer than the second-nearest open post" and the
Benders cuts of :mod:`precinct.patrol.pmedian` are all prefixes of a row: NumPy passes over the
non-zeros, no Python loop over rows. Missing entries (unreachable, beyond a cutoff) cost ``big``.

The local search is the fast interchange of Whitaker (1983) in the form of Resende & Werneck
(2003): each move evaluates every (insert, remove) pair at once through ``gain``, ``loss`` and the
sparse ``extra`` matrix, and makes the best improving swap.

References
----------
Whitaker, R. (1983). A fast algorithm for the greedy interchange of large-scale clustering and
median location problems. INFOR 21, 95-108.
Resende, M. & Werneck, R. (2003). On the implementation of a swap-based local search procedure for
the p-median problem. ALENEX 2003, 119-127.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass
class Rows:
    """Finite costs of each demand row, ascending: row ``i`` is ``cols/dist[indptr[i]:indptr[i+1]]``.

    Attributes
    ----------
    indptr, cols, dist
        CSR layout, each row sorted by ``dist``.
    weight
        Demand weight per row.
    m
        Number of candidate columns.
    row_of
        Row index of every entry.
    complete
        Per row: every column is finite.
    big
        Cost charged for an unserved row (larger than any sum of finite costs).
    """

    indptr: np.ndarray
    cols: np.ndarray
    dist: np.ndarray
    weight: np.ndarray
    m: int
    row_of: np.ndarray
    complete: np.ndarray
    big: float

    @property
    def n(self) -> int:
        return int(self.indptr.size - 1)

    @classmethod
    def build(cls, indptr: np.ndarray, cols: np.ndarray, dist: np.ndarray, weight: np.ndarray, m: int) -> Rows:
        n = indptr.size - 1
        lengths = np.diff(indptr)
        row_of = np.repeat(np.arange(n), lengths)
        fin = dist[np.isfinite(dist)]
        top = float(fin.max()) if fin.size else 1.0
        big = (top + 1.0) * max(float(weight.sum()), 1.0) * 4.0 + 1e6
        return cls(indptr=indptr.astype(np.int64), cols=cols.astype(np.int64), dist=dist.astype(np.float64),
                   weight=weight.astype(np.float64), m=m, row_of=row_of, complete=lengths == m, big=big)

    def restrict(self, allowed: np.ndarray, p: int) -> Rows:
        """The same rows over the ``allowed`` columns only, each cut after its ``k - p + 1`` nearest
        (``k`` allowed columns): with ``p`` of them open, one of those is always open, so nearest
        posts and Benders cuts never look further. Column numbers are kept."""
        keep = allowed[self.cols]
        row_k = self.row_of[keep]
        counts = np.bincount(row_k, minlength=self.n)
        ptr = np.concatenate([[0], np.cumsum(counts)])
        rank = np.arange(row_k.size) - ptr[row_k]
        k = int(allowed.sum())
        inside = rank < max(k - p + 1, 1)
        idx = np.flatnonzero(keep)[inside]
        lengths = np.bincount(self.row_of[idx], minlength=self.n)
        return Rows(indptr=np.concatenate([[0], np.cumsum(lengths)]), cols=self.cols[idx], dist=self.dist[idx],
                    weight=self.weight, m=self.m, row_of=self.row_of[idx], complete=counts == k, big=self.big)

    def first_two(self, is_open: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row: nearest open column (``-1`` if none), its cost and the second-nearest open cost
        (``big`` where missing)."""
        n = self.n
        pos = np.flatnonzero(is_open[self.cols])
        rows = self.row_of[pos]
        first_mask = np.ones(pos.size, dtype=bool)
        first_mask[1:] = rows[1:] != rows[:-1]
        f = pos[first_mask]
        fr = rows[first_mask]
        near = np.full(n, -1, dtype=np.int64)
        d1 = np.full(n, self.big)
        d2 = np.full(n, self.big)
        near[fr] = self.cols[f]
        d1[fr] = self.dist[f]
        idx_first = np.flatnonzero(first_mask)
        nxt = idx_first + 1
        ok = nxt < pos.size
        ok[ok] = rows[nxt[ok]] == fr[ok]
        d2[fr[ok]] = self.dist[pos[nxt[ok]]]
        return near, d1, d2

    def value(self, is_open: np.ndarray) -> float:
        _, d1, _ = self.first_two(is_open)
        return float(self.weight @ d1)


def _gain(rows: Rows, d1: np.ndarray) -> np.ndarray:
    """Per column: weighted cost saved by opening it on top of the current posts."""
    sel = rows.dist < d1[rows.row_of]
    r = rows.row_of[sel]
    return np.bincount(rows.cols[sel], weights=rows.weight[r] * (d1[r] - rows.dist[sel]), minlength=rows.m)


def greedy(rows: Rows, p: int, fixed: np.ndarray | None = None, allowed: np.ndarray | None = None) -> np.ndarray:
    """Greedy addition: open the column saving the most until ``p`` are open (``fixed`` first)."""
    is_open = np.zeros(rows.m, dtype=bool)
    if fixed is not None:
        is_open[fixed] = True
    d1 = rows.first_two(is_open)[1] if is_open.any() else np.full(rows.n, rows.big)
    while is_open.sum() < p:
        g = _gain(rows, d1)
        g[is_open] = -np.inf
        if allowed is not None:
            g[~allowed] = -np.inf
        j = int(np.argmax(g))
        if not np.isfinite(g[j]):
            break
        is_open[j] = True
        sel = rows.cols == j
        np.minimum.at(d1, rows.row_of[sel], rows.dist[sel])
    return np.flatnonzero(is_open)


def interchange(rows: Rows, posts: np.ndarray, fixed: np.ndarray | None = None, allowed: np.ndarray | None = None,
                *, max_moves: int = 10_000, deadline: float | None = None) -> tuple[np.ndarray, int]:
    """Fast interchange from ``posts`` until no swap improves; returns ``(posts, moves)``.

    ``fixed`` columns never leave; ``allowed`` (boolean per column) limits the columns that may enter.
    """
    import time

    is_open = np.zeros(rows.m, dtype=bool)
    is_open[posts] = True
    keep = np.zeros(rows.m, dtype=bool)
    if fixed is not None:
        keep[fixed] = True
    w = rows.weight
    moves = 0
    tol = 1e-9 * max(1.0, float(w.sum()))
    while moves < max_moves:
        if deadline is not None and time.perf_counter() > deadline:
            break
        open_idx = np.flatnonzero(is_open)
        slot = np.full(rows.m, -1, dtype=np.int64)
        slot[open_idx] = np.arange(open_idx.size)
        near, d1, d2 = rows.first_two(is_open)
        served = near >= 0
        gain = _gain(rows, d1)
        loss = np.bincount(slot[near[served]], weights=w[served] * (d2[served] - d1[served]),
                           minlength=open_idx.size)
        # extra(r, j): rows served by r that j would take over when r closes
        sel = rows.dist < d2[rows.row_of]
        r_of = rows.row_of[sel]
        has = near[r_of] >= 0
        sel_idx = np.flatnonzero(sel)[has]
        r_of = r_of[has]
        vals = w[r_of] * (d2[r_of] - np.maximum(rows.dist[sel_idx], d1[r_of]))
        extra = sp.csr_matrix((vals, (slot[near[r_of]], rows.cols[sel_idx])), shape=(open_idx.size, rows.m))
        profit = extra.toarray()
        profit += gain[None, :]
        profit -= loss[:, None]
        profit[:, is_open] = -np.inf
        if allowed is not None:
            profit[:, ~allowed] = -np.inf
        profit[keep[open_idx], :] = -np.inf
        k = int(np.argmax(profit))
        o, j = divmod(k, rows.m)
        if not profit[o, j] > tol:
            break
        is_open[open_idx[o]] = False
        is_open[j] = True
        moves += 1
    return np.flatnonzero(is_open), moves
