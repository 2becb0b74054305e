"""The pure part of linking: connected components of the report–identifier graph.

Reports and identifiers are the nodes of one bipartite graph; a report is joined to each identifier
it names. Two reports are in one cluster exactly when a path joins them, i.e. when they are in one
connected component (SciPy's ``connected_components`` on a sparse matrix: linear time).
:class:`UnionFind` is the incremental form for one report at a time.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np

SMALL_GRAPH = 512


def components(n_left: int, n_right: int, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Component labels of a bipartite graph given as edge lists.

    Parameters
    ----------
    n_left, n_right : int
        Number of nodes on each side (reports, identifiers).
    left, right : numpy.ndarray
        Integer arrays of equal length: edge ``i`` joins ``left[i]`` (0..n_left-1) and ``right[i]``
        (0..n_right-1).

    Returns
    -------
    tuple of numpy.ndarray
        The label of every left node and of every right node (labels 0..k-1, shared across sides).
    """
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    if len(left) != len(right):
        raise ValueError("left and right edge arrays differ in length")
    labels = label_nodes(n_left + n_right, left, right + n_left)
    return labels[:n_left], labels[n_left:]


def label_nodes(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component labels of an undirected graph of ``n`` nodes with edges ``a[i]``–``b[i]``."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if n == 0:
        return np.zeros(0, np.int64)
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if n <= SMALL_GRAPH:  # one report from the API: a union-find costs less than building a sparse matrix
        uf = UnionFind()
        for i in range(n):
            uf.add(i)
        for x, y in zip(a.tolist(), b.tolist(), strict=True):
            uf.union(x, y)
        roots = [uf.find(i) for i in range(n)]
        index: dict[Hashable, int] = {}
        return np.array([index.setdefault(r, len(index)) for r in roots], dtype=np.int64)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.int64)


def cluster_keys(keys_per_report: Sequence[Iterable[Hashable]]) -> np.ndarray:
    """Cluster labels of reports given the identifier keys each names (the batch path).

    Parameters
    ----------
    keys_per_report : sequence of iterables
        For each report, its normalised identifier keys (any hashable, e.g. ``("phone", "+86...")``).

    Returns
    -------
    numpy.ndarray
        One label per report; equal labels = one cluster. Labels are 0..k-1 in order of first report.
    """
    import pandas as pd

    lists = [list(keys) for keys in keys_per_report]
    counts = np.array([len(keys) for keys in lists], dtype=np.int64)
    flat: list[Any] = [k for keys in lists for k in keys]
    left = np.repeat(np.arange(len(lists), dtype=np.int64), counts)
    codes = pd.factorize(pd.Series(flat, dtype=object))[0] if flat else np.zeros(0, np.int64)
    n_keys = int(codes.max()) + 1 if len(codes) else 0
    labels, _ = components(len(lists), n_keys, left, np.asarray(codes, dtype=np.int64))
    return first_seen_order(labels)


def cluster_flat(n_reports: int, report_index: np.ndarray, keys: Any) -> np.ndarray:
    """Cluster labels from flat arrays: mention ``i`` says report ``report_index[i]`` names ``keys[i]``.

    The batch path at scale: the keys (strings or integers, any array-like) are factorised once
    (pandas hashing) and the components found by SciPy; no Python loop per report.

    Returns
    -------
    numpy.ndarray
        One label per report (0..k-1, arbitrary order).
    """
    import pandas as pd

    codes, uniques = pd.factorize(keys)
    labels, _ = components(n_reports, len(uniques), np.asarray(report_index, dtype=np.int64),
                           np.asarray(codes, dtype=np.int64))
    return labels


def first_seen_order(labels: np.ndarray) -> np.ndarray:
    """Relabel so that labels count up in order of first appearance (stable, comparable output)."""
    if len(labels) == 0:
        return labels
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(first)
    remap = np.empty(order.size, dtype=np.int64)
    remap[order] = np.arange(order.size)
    return remap[np.searchsorted(np.unique(labels), labels)]


class UnionFind:
    """Disjoint sets with union by size and path halving (the incremental path, one report at a time)."""

    def __init__(self) -> None:
        self.parent: dict[Hashable, Hashable] = {}
        self.size: dict[Hashable, int] = {}

    def add(self, item: Hashable) -> None:
        """Make ``item`` a set of its own if it is new."""
        if item not in self.parent:
            self.parent[item] = item
            self.size[item] = 1

    def find(self, item: Hashable) -> Hashable:
        """The representative of ``item``'s set (``item`` must have been added)."""
        parent = self.parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, a: Hashable, b: Hashable) -> Hashable:
        """Join the sets of ``a`` and ``b``; returns the new representative."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size.pop(rb)
        return ra

    def link(self, report: Hashable, keys: Iterable[Hashable]) -> Hashable:
        """Add a report and join it to each of its identifier keys; returns its representative."""
        node: Hashable = ("r", report)
        self.add(node)
        root: Hashable = node
        for key in keys:
            k = ("i", key)
            self.add(k)
            root = self.union(root, k)
        return self.find(node)
