"""Fraud linking benchmark: clusters of 1,000,000 reports from scratch, and one report linked incrementally.

Data (built here, seeded): ``--reports`` reports (default 1,000,000), each naming 2-4 identifiers
(mean 3) of one fraud gang (200,000 gangs of 4-16 phones, accounts and web sites); 2 % of reports
also name one identifier of another gang (a shared mule account), which merges gangs into larger
clusters. Keys are normalised strings (``phone:+86…``, ``account:6222…``, ``url:site….com``).

1. From scratch, in memory: Precinct (pandas factorise + SciPy ``connected_components``,
   :func:`precinct.fraud.graph.cluster_flat`) against networkx ``connected_components`` on the same
   bipartite report–identifier graph; both partitions are checked equal.
2. Incremental: the database path (:func:`precinct.fraud.linking.link_reports`, one report per
   transaction, SQLite) on a database preloaded with ``--db-reports`` reports of the same data
   (loaded through the batch path, timed too), against networkx adding the report's edges to the
   full graph and reading its component (``node_connected_component``), and Precinct's in-memory
   :class:`~precinct.fraud.graph.UnionFind`.

Run:  nice .venv/bin/python bench/fraud_clusters.py [--reports 1000000] [--db-reports 1000000] [--singles 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def make_data(n: int, seed: int = 1, gangs: int = 200_000) -> tuple[np.ndarray, np.ndarray]:
    """(report index, identifier id) per mention."""
    rng = np.random.default_rng(seed)
    gang_size = rng.integers(4, 17, gangs)
    gang = rng.integers(0, gangs, n)
    k = rng.integers(2, 5, n)
    rep = np.repeat(np.arange(n, dtype=np.int64), k)
    g = np.repeat(gang, k)
    ident = g * 16 + (rng.random(len(rep)) * gang_size[g]).astype(np.int64)
    bridge = np.flatnonzero(rng.random(n) < 0.02)
    other = rng.integers(0, gangs, len(bridge))
    first = np.concatenate([[0], np.cumsum(k)[:-1]])[bridge]
    ident[first] = other * 16 + (rng.random(len(bridge)) * gang_size[other]).astype(np.int64)
    return rep, ident


def key_of(i: int) -> str:
    kind = i % 3
    if kind == 0:
        return f"phone:+8613{i % 1_000_000_000:09d}"
    if kind == 1:
        return f"account:6222{i:015d}"
    return f"url:site{i}.com"


def keys_for(ident: np.ndarray) -> np.ndarray:
    return np.array([key_of(int(i)) for i in ident], dtype=object)


def partition_signature(labels: np.ndarray) -> tuple[int, tuple[int, ...]]:
    """Number of clusters and the sorted multiset of cluster sizes."""
    _, counts = np.unique(labels, return_counts=True)
    return len(counts), tuple(sorted(counts.tolist()))


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """True when labelings ``a`` and ``b`` split the items the same way."""
    pairs = np.unique(np.stack([a, b], axis=1), axis=0)
    return len(pairs) == len(np.unique(a)) == len(np.unique(b))


def bench_scratch(n: int) -> dict[str, Any]:
    import networkx as nx

    from precinct.fraud.graph import cluster_flat

    rep, ident = make_data(n)
    keys = keys_for(ident)
    cluster_flat(2, np.array([0, 1]), np.array(["a", "b"], dtype=object))  # imports pandas and SciPy
    t = time.perf_counter()
    ours = cluster_flat(n, rep, keys)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(rep.tolist(), ("k:" + k for k in keys), strict=True))
    nx_labels = np.empty(n, dtype=np.int64)
    for c, comp in enumerate(nx.connected_components(g)):
        for node in comp:
            if isinstance(node, int):
                nx_labels[node] = c
    t_nx = time.perf_counter() - t
    assert same_partition(ours, nx_labels), "Precinct and networkx disagree"
    count, sizes = partition_signature(ours)
    return {"reports": n, "mentions": len(rep), "identifiers": len(set(ident.tolist())), "clusters": count,
            "largest": sizes[-1], "singletons": sum(1 for s in sizes if s == 1), "ours_s": t_ours, "nx_s": t_nx}


def prepared(rep: np.ndarray, ident: np.ndarray, lo: int, hi: int, case_id: str) -> list[Any]:
    from precinct.fraud.intake import Identifier, PreparedReport

    start = np.searchsorted(rep, lo)
    end = np.searchsorted(rep, hi)
    out: list[Any] = []
    cur = None
    for r, i in zip(rep[start:end].tolist(), ident[start:end].tolist(), strict=True):
        if cur is None or cur.id != f"B{r}":
            cur = PreparedReport(id=f"B{r}", ts=T0 + dt.timedelta(seconds=r), fraud_type="task_rebate",
                                 loss_cents=10_000 + r % 5000, case_id=case_id)
            out.append(cur)
        kind, value = key_of(i).split(":", 1)
        cur.identifiers.append(Identifier(kind, value, value))
    return out


def bench_incremental(n_db: int, singles: int, batch: int) -> dict[str, Any]:
    import networkx as nx

    from precinct.core.db import Database
    from precinct.fraud.graph import UnionFind
    from precinct.fraud.linking import link_reports

    rep, ident = make_data(n_db + singles, seed=2)
    tmp = Path(tempfile.mkdtemp(prefix="fraud-bench-"))
    db = Database(f"sqlite:///{tmp / 'ops.db'}")
    db.migrate()
    new_case = lambda _r: "BENCH-CASE"  # noqa: E731
    t = time.perf_counter()
    for lo in range(0, n_db, batch):
        with db.session() as s:
            link_reports(s, prepared(rep, ident, lo, min(lo + batch, n_db), "BENCH-CASE"), actor="bench",
                         case_for_new_cluster=new_case)
    t_load = time.perf_counter() - t
    # peers: networkx graph and an in-memory union-find over the same preloaded reports
    cut = int(np.searchsorted(rep, n_db))
    g = nx.Graph()
    g.add_edges_from(zip(("r" + str(r) for r in rep[:cut].tolist()), ("i" + str(i) for i in ident[:cut].tolist()),
                         strict=True))
    uf = UnionFind()
    for r, i in zip(rep[:cut].tolist(), ident[:cut].tolist(), strict=True):
        uf.link(r, [i])
    ours, nxs, ufs = [], [], []
    for r in range(n_db, n_db + singles):
        one = prepared(rep, ident, r, r + 1, "BENCH-CASE")
        t = time.perf_counter()
        with db.session() as s:
            link_reports(s, one, actor="bench", case_for_new_cluster=new_case)
        ours.append(time.perf_counter() - t)
        ids = [x.value for x in one[0].identifiers]
        its = ident[np.searchsorted(rep, r):np.searchsorted(rep, r + 1)].tolist()
        t = time.perf_counter()
        g.add_edges_from(("r" + str(r), "i" + str(i)) for i in its)
        nx.node_connected_component(g, "r" + str(r))
        nxs.append(time.perf_counter() - t)
        t = time.perf_counter()
        uf.link(r, its)
        ufs.append(time.perf_counter() - t)
        assert ids
    db.dispose()
    size = (tmp / "ops.db").stat().st_size

    def pct(xs: list[float], q: float) -> float:
        return float(np.percentile(np.array(xs) * 1000, q))

    return {"db_reports": n_db, "load_s": t_load, "db_mb": size / 2**20, "singles": singles,
            "ours_p50_ms": pct(ours, 50), "ours_p99_ms": pct(ours, 99), "ours_max_ms": max(ours) * 1000,
            "nx_p50_ms": pct(nxs, 50), "nx_p99_ms": pct(nxs, 99), "uf_p99_ms": pct(ufs, 99)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reports", type=int, default=1_000_000)
    ap.add_argument("--db-reports", type=int, default=1_000_000)
    ap.add_argument("--singles", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=100_000)
    args = ap.parse_args()
    print(f"# {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    s = bench_scratch(args.reports)
    print(f"from scratch: {s['reports']:,} reports, {s['mentions']:,} mentions, {s['identifiers']:,} identifiers "
          f"-> {s['clusters']:,} clusters (largest {s['largest']:,}, {s['singletons']:,} single reports)")
    print(f"  precinct (pandas factorise + scipy components): {s['ours_s']:.2f} s   (target < 30 s)")
    print(f"  networkx connected_components:                  {s['nx_s']:.2f} s   ratio {s['nx_s'] / s['ours_s']:.1f}x")
    if args.db_reports > 0:
        i = bench_incremental(args.db_reports, args.singles, args.batch)
        print(f"database preloaded through the batch path: {i['db_reports']:,} reports in {i['load_s']:.1f} s "
              f"({i['db_reports'] / i['load_s']:,.0f} reports/s, SQLite {i['db_mb']:.0f} MiB)")
        print(f"incremental, {i['singles']} reports one per transaction:")
        print(f"  precinct link_reports (SQLite, committed): p50 {i['ours_p50_ms']:.2f} ms  p99 "
              f"{i['ours_p99_ms']:.2f} ms  max {i['ours_max_ms']:.1f} ms   (target p99 < 50 ms)")
        print(f"  networkx add edges + node_connected_component: p50 {i['nx_p50_ms']:.2f} ms  "
              f"p99 {i['nx_p99_ms']:.2f} ms")
        print(f"  precinct UnionFind in memory: p99 {i['uf_p99_ms']:.4f} ms")
    print(f"load at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
