"""Patrol zones: every road assigned to its fastest post (a network Voronoi), optionally balanced.

Pure functions on a CSR matrix of driving seconds (see :mod:`precinct.patrol.network`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from precinct.errors import BadInput


@dataclass
class Zones:
    """``node_zone[v]`` = index of the post whose zone holds node ``v`` (-1 unreachable);
    ``edge_zone[e]`` likewise per directed edge (tail, head as in ``a.tocoo()``); ``load`` per post;
    ``offsets`` the additive seconds that balanced the loads (zeros when unbalanced)."""

    node_zone: np.ndarray
    node_time: np.ndarray
    load: np.ndarray
    offsets: np.ndarray
    imbalance: float  # max load / mean load


def post_times(a: sp.csr_matrix, post_nodes: np.ndarray, limit: float | None = None) -> np.ndarray:
    """Seconds from each post to every node, shape ``(n_posts, n_nodes)``."""
    return np.atleast_2d(dijkstra(a, indices=np.asarray(post_nodes, dtype=np.int64),
                                  limit=np.inf if limit is None else float(limit)))


def _assign(times: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    shifted = times + offsets[:, None]
    zone = np.argmin(shifted, axis=0)
    t = times[zone, np.arange(times.shape[1])]
    zone = np.where(np.isfinite(t), zone, -1)
    return zone, t


def network_voronoi(a: sp.csr_matrix, post_nodes: np.ndarray, *, node_weight: np.ndarray | None = None,
                    balance: bool = False, iterations: int = 60, times: np.ndarray | None = None) -> Zones:
    """Assign every node to the post that reaches it fastest.

    Parameters
    ----------
    a
        CSR driving seconds.
    post_nodes
        Node of each post.
    node_weight
        Workload per node (e.g. incidents snapped there plus road length); default 1.
    balance
        Shift zone borders to even out workload: each post gets an additive time offset
        (an additively weighted network Voronoi), adjusted until loads are as even as the
        network allows; zones stay connected along fastest paths.
    iterations
        Balancing rounds.
    times
        Precomputed :func:`post_times`.

    Returns
    -------
    Zones
    """
    posts = np.asarray(post_nodes, dtype=np.int64)
    if posts.size == 0:
        raise BadInput("at least one post is needed for zones")
    t = post_times(a, posts) if times is None else times
    n = a.shape[0]
    w = np.ones(n) if node_weight is None else np.asarray(node_weight, dtype=np.float64)
    offsets = np.zeros(posts.size)

    def loads(zone: np.ndarray) -> np.ndarray:
        ok = zone >= 0
        return np.bincount(zone[ok], weights=w[ok], minlength=posts.size)

    zone, nt = _assign(t, offsets)
    load = loads(zone)
    mean = max(load.mean(), 1e-12)
    best = (load.max() / mean, offsets.copy(), zone, nt, load)
    if balance and posts.size > 1:
        scale = float(np.nanmedian(nt[np.isfinite(nt)])) if np.isfinite(nt).any() else 60.0
        step = 0.5 * scale
        for _ in range(iterations):
            offsets = offsets + step * (load / mean - 1.0)
            offsets -= offsets.min()
            zone, nt = _assign(t, offsets)
            load = loads(zone)
            ratio = load.max() / mean
            if ratio < best[0] - 1e-9:
                best = (ratio, offsets.copy(), zone, nt, load)
            else:
                step *= 0.8
    ratio, offsets, zone, nt, load = best
    return Zones(node_zone=zone, node_time=nt, load=load, offsets=offsets, imbalance=float(ratio))


def edge_zones(tail: np.ndarray, head: np.ndarray, zones: Zones) -> np.ndarray:
    """Zone per edge: the zone of whichever end its post reaches sooner."""
    tz, hz = zones.node_zone[tail], zones.node_zone[head]
    tt, ht = zones.node_time[tail], zones.node_time[head]
    return np.where(tt <= ht, tz, hz)
