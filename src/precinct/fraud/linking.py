"""Linking reports into clusters in the database, incrementally and all-or-nothing per batch.

Every report and every identifier row carries its cluster's id. A batch (one report from the API
or a whole CSV file) is linked in one pass: the batch's reports, the identifiers they name and the
stored clusters those identifiers already belong to form a small graph; each of its connected
components (SciPy) becomes one cluster. A component touching no stored cluster opens a new one; a
component touching several merges them into the largest (union by size: the smaller clusters' rows
are relabelled, so a row moves O(log n) times at most). The caller's transaction holds it all:
linking commits with the reports or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Table, delete, func, select, text, update
from sqlalchemy.orm import Session

from precinct.core.db import utcnow
from precinct.fraud.graph import label_nodes
from precinct.fraud.intake import PreparedReport
from precinct.fraud.models import (
    FraudCluster,
    FraudIdentifier,
    FraudReport,
    FraudReportIdentifier,
    FraudRequest,
    FraudWarning,
)

CHUNK = 500
LINK_LOCK_KEY = 0x46524155  # "FRAU": PostgreSQL advisory lock serialising linking batches


@dataclass
class LinkResult:
    """What linking one batch did."""

    stored: int = 0
    duplicates: int = 0
    clusters_opened: int = 0
    clusters_merged: int = 0
    cluster_of: dict[str, int] = field(default_factory=dict)
    merged: list[tuple[int, int]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"stored": self.stored, "duplicates": self.duplicates, "clusters_opened": self.clusters_opened,
                "clusters_merged": self.clusters_merged,
                "merged": [{"from": a, "into": b} for a, b in self.merged]}


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _table(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LINK_LOCK_KEY})


def existing_report_ids(session: Session, ids: Sequence[str]) -> set[str]:
    """The ids among ``ids`` already stored."""
    found: set[str] = set()
    for chunk in _chunks(list(ids)):
        found.update(session.scalars(select(FraudReport.id).where(FraudReport.id.in_(chunk))))
    return found


def _stored_identifiers(session: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, value in keys:
        by_kind[kind].append(value)
    out: dict[tuple[str, str], Any] = {}
    t = FraudIdentifier
    for kind, values in by_kind.items():  # kind = ? AND value IN (...): the unique index answers it
        for chunk in _chunks(values):
            rows = session.execute(select(t.id, t.kind, t.value, t.cluster_id, t.report_count)
                                   .where(t.kind == kind, t.value.in_(chunk)))
            for row in rows:
                out[(row.kind, row.value)] = row
    return out


def _time_bounds(a: dt.datetime | None, b: dt.datetime | None, pick: Callable[..., dt.datetime]) -> dt.datetime | None:
    vals = [v for v in (a, b) if v is not None]
    return pick(vals) if vals else None


def link_reports(
    session: Session, reports: Sequence[PreparedReport], *, actor: str, case_for_new_cluster: Callable[
        [PreparedReport], str],
) -> LinkResult:
    """Store ``reports`` and link them into clusters (in ``session``'s transaction).

    Parameters
    ----------
    session : Session
        The transaction; nothing is committed here.
    reports : sequence of PreparedReport
        Checked, normalised reports with distinct ids. Ids already stored are skipped (counted as
        duplicates): re-importing a report stores it once.
    actor : str
        Who records them.
    case_for_new_cluster : callable
        Called with the first report of each new cluster; returns the case id the cluster belongs to
        (a report's own ``case_id``, when set, is kept for that report).

    Returns
    -------
    LinkResult
    """
    _lock(session)
    already = existing_report_ids(session, [r.id for r in reports])
    batch = [r for r in reports if r.id not in already]
    result = LinkResult(duplicates=len(reports) - len(batch))
    if not batch:
        return result
    keys: dict[tuple[str, str], int] = {}
    bank: dict[tuple[str, str], str] = {}
    edges_r: list[int] = []
    edges_k: list[int] = []
    for i, r in enumerate(batch):
        for ident in r.identifiers:
            key = (ident.kind, ident.value)
            k = keys.setdefault(key, len(keys))
            if ident.bank and key not in bank:
                bank[key] = ident.bank
            edges_r.append(i)
            edges_k.append(k)
    key_list = list(keys)
    stored = _stored_identifiers(session, key_list)
    cluster_ids = sorted({row.cluster_id for row in stored.values()})
    cluster_node = {c: len(batch) + len(keys) + j for j, c in enumerate(cluster_ids)}
    a = np.array(edges_r + [len(batch) + keys[key] for key in stored], dtype=np.int64)
    b = np.array([len(batch) + k for k in edges_k] + [cluster_node[row.cluster_id] for row in stored.values()],
                 dtype=np.int64)
    labels = label_nodes(len(batch) + len(keys) + len(cluster_ids), a, b)

    comp_reports: dict[int, list[int]] = defaultdict(list)
    for i in range(len(batch)):
        comp_reports[int(labels[i])].append(i)
    comp_keys: dict[int, list[int]] = defaultdict(list)
    for k in range(len(keys)):
        comp_keys[int(labels[len(batch) + k])].append(k)
    comp_clusters: dict[int, list[int]] = defaultdict(list)
    for c, node in cluster_node.items():
        comp_clusters[int(labels[node])].append(c)

    conn = session.connection()  # Core inserts: the ORM's bulk path costs more than the database
    loaded = {c.id: c for chunk in _chunks(cluster_ids)
              for c in session.scalars(select(FraudCluster).where(FraudCluster.id.in_(chunk)))}
    now = utcnow()
    target_of_comp: dict[int, int] = {}
    new_rows: list[dict[str, Any]] = []
    new_comps: list[int] = []
    for comp, members in comp_reports.items():
        rs = [batch[i] for i in members]
        figures: dict[str, Any] = {"report_count": len(rs),
                   "identifier_count": sum(1 for k in comp_keys.get(comp, []) if key_list[k] not in stored),
                   "loss_cents": sum(r.loss_cents for r in rs if r.currency == "CNY"),
                   "first_ts": min(r.ts for r in rs), "last_ts": max(r.ts for r in rs)}
        touched = [loaded[c] for c in comp_clusters.get(comp, [])]
        if not touched:
            new_rows.append({"case_id": rs[0].case_id or case_for_new_cluster(rs[0]), "status": "open",
                             "first_report_id": rs[0].id,
                             "created_at": now, "updated_at": now, **figures})
            new_comps.append(comp)
            continue
        touched.sort(key=lambda c: (-c.report_count, c.id))
        target, others = touched[0], touched[1:]
        if others:
            _merge(session, target, others)
            result.clusters_merged += len(others)
            result.merged.extend((o.id, target.id) for o in others)
        target.report_count += figures["report_count"]
        target.identifier_count += figures["identifier_count"]
        target.loss_cents += figures["loss_cents"]
        target.first_ts = _time_bounds(target.first_ts, figures["first_ts"], min)
        target.last_ts = _time_bounds(target.last_ts, figures["last_ts"], max)
        target.updated_at = now
        target_of_comp[comp] = target.id
    comp_of_first = {row["first_report_id"]: comp for comp, row in zip(new_comps, new_rows, strict=True)}
    tc = _table(FraudCluster)
    for lo in range(0, len(new_rows), 2000):  # RETURNING in any order: matched by the first report's id
        for cid, first_id in conn.execute(tc.insert().returning(tc.c.id, tc.c.first_report_id),
                                          new_rows[lo:lo + 2000]):
            target_of_comp[comp_of_first[first_id]] = cid
    result.clusters_opened = len(new_rows)
    case_of_cluster = {c.id: c.case_id for c in loaded.values()}
    case_of_cluster.update({target_of_comp[comp]: row["case_id"] for comp, row in zip(new_comps, new_rows,
                                                                                     strict=True)})
    for comp, members in comp_reports.items():
        for i in members:
            result.cluster_of[batch[i].id] = target_of_comp[comp]

    ident_id = {key: row.id for key, row in stored.items()}
    report_counts: dict[tuple[str, str], int] = defaultdict(int)
    for r in batch:
        for key in r.identifier_keys():
            report_counts[key] += 1
    fresh = [{"kind": key[0], "value": key[1], "bank": bank.get(key), "report_count": report_counts[key],
              "cluster_id": target_of_comp[int(labels[len(batch) + k])]}
             for k, key in enumerate(key_list) if key not in stored]
    for chunk in _chunks(fresh, 2000):
        ti = _table(FraudIdentifier)
        for row in conn.execute(ti.insert().returning(ti.c.id, ti.c.kind, ti.c.value), list(chunk)):
            ident_id[(row.kind, row.value)] = row.id
    bumps = [{"id": row.id, "report_count": row.report_count + report_counts[key]} for key, row in stored.items()]
    if bumps:
        session.execute(update(FraudIdentifier), bumps)

    report_rows = [{"id": r.id, "case_id": r.case_id or case_of_cluster[result.cluster_of[r.id]],
                    "cluster_id": result.cluster_of[r.id], "ts": r.ts, "fraud_type": r.fraud_type,
                    "channel": r.channel, "loss_cents": r.loss_cents, "currency": r.currency,
                    "victim_name": r.victim_name, "victim_phone": r.victim_phone, "description": r.description,
                    "created_by": actor, "created_at": now} for r in batch]
    for chunk in _chunks(report_rows, 5000):
        conn.execute(_table(FraudReport).insert(), list(chunk))
    link_rows: list[dict[str, Any]] = []
    for r in batch:
        raw_of: dict[tuple[str, str], str] = {}
        for ident in r.identifiers:
            raw_of.setdefault((ident.kind, ident.value), ident.raw)
        link_rows.extend({"report_id": r.id, "identifier_id": ident_id[key], "raw": raw}
                         for key, raw in raw_of.items())
    for chunk in _chunks(link_rows, 5000):
        conn.execute(_table(FraudReportIdentifier).insert(), list(chunk))
    session.flush()
    result.stored = len(batch)
    return result


def _merge(session: Session, target: FraudCluster, others: list[FraudCluster]) -> None:
    """Fold ``others`` into ``target``: relabel their rows, add up their figures, delete them."""
    ids = [o.id for o in others]
    for table in (FraudReport, FraudIdentifier, FraudRequest, FraudWarning):
        session.execute(update(table).where(table.cluster_id.in_(ids)).values(cluster_id=target.id)
                        .execution_options(synchronize_session=False))
    for o in others:
        target.report_count += o.report_count
        target.identifier_count += o.identifier_count
        target.loss_cents += o.loss_cents
        target.first_ts = _time_bounds(target.first_ts, o.first_ts, min)
        target.last_ts = _time_bounds(target.last_ts, o.last_ts, max)
    session.flush()
    session.execute(delete(FraudCluster).where(FraudCluster.id.in_(ids)).execution_options(synchronize_session=False))
    for o in others:
        session.expunge(o)


def recount(session: Session) -> int:
    """Check every cluster's report count against its reports; returns how many disagree (0 = sound)."""
    counts = {cid: n for cid, n in session.execute(
        select(FraudReport.cluster_id, func.count()).group_by(FraudReport.cluster_id))}
    return sum(1 for c in session.scalars(select(FraudCluster)) if counts.get(c.id, 0) != c.report_count)
