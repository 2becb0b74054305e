"""The anti-fraud centre's service (反诈中心): report intake, linked clusters and their views.

Other domains use the fraud domain through this module only. Stop-payment and freeze requests live
in :mod:`precinct.fraud.requests`, warnings in :mod:`precinct.fraud.prevention`, statistics in
:mod:`precinct.fraud.stats`; their public functions are re-exported here.

Every report belongs to a case: a report that starts a new cluster opens a fraud case (through the
``cases`` domain's service) unless a case is named; a report joining a cluster joins its case.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.core import audit
from precinct.core.identity import Principal
from precinct.core.roles import AuditAction
from precinct.core.timeutil import to_iso
from precinct.errors import BadInput, NotFound
from precinct.fraud.intake import ParsedFile, PreparedReport, prepare_report
from precinct.fraud.linking import LinkResult, link_reports
from precinct.fraud.models import FraudCluster, FraudIdentifier, FraudReport, FraudReportIdentifier
from precinct.fraud.prevention import (
    create_warning,
    list_leads,
    list_warnings,
    record_contact,
    record_outcome,
)
from precinct.fraud.requests import (
    create_request,
    export_requests_csv,
    list_requests,
    supervision,
    transition_request,
)
from precinct.fraud.schemas import FRAUD_TYPES, ReportIn, type_table
from precinct.fraud.stats import monthly_stats
from precinct.fraud.waves import SUBJECT as WAVE_SUBJECT
from precinct.fraud.waves import detect_waves, waves_of_reports

__all__ = [
    "WAVE_SUBJECT", "case_opener", "cluster_view", "create_request", "create_warning", "detect_waves",
    "export_requests_csv", "fraud_types",
    "import_reports", "list_clusters", "list_leads", "list_requests", "list_warnings", "monthly_stats",
    "record_contact", "record_outcome", "record_report", "supervision", "transition_request",
    "waves_of_reports",
]


def fraud_types() -> list[dict[str, str]]:
    """The fraud-type code table (code, zh, en)."""
    return type_table()


def money(cents: int) -> float:
    """Cents as a JSON number of the currency's units (2 decimals)."""
    return round(cents / 100, 2)


def check_case(session: Session, case_id: str) -> dict[str, Any]:
    """The case ``case_id`` from the cases domain (NotFound when it does not exist)."""
    from precinct.cases import service as cases

    return dict(cases.get_case(session, case_id))


def case_opener(session: Session, principal: Principal) -> Callable[[PreparedReport], str]:
    """A function that opens a fraud case for a report starting a new cluster; returns its id."""

    def open_for(report: PreparedReport) -> str:
        from precinct.cases import service as cases

        zh, en = FRAUD_TYPES.get(report.fraud_type, ("诈骗", "fraud"))
        case = cases.open_case(session, title=f"{zh} / {en}: {report.id}", type="fraud",
                               lead=principal.username, teams=("antifraud",))
        return str(case["id"])

    return open_for


def _audit_collection(session: Session, principal: Principal, result: LinkResult, *, source: str,
                      case_id: str | None) -> None:
    audit.append(session, actor=principal.username, role=principal.role.value, action=AuditAction.collection,
                 resource="fraud.reports", params={"source": source, "stored": result.stored,
                                                   "duplicates": result.duplicates,
                                                   "report_ids": sorted(result.cluster_of)[:50]},
                 result_count=result.stored, case_id=case_id)


def record_report(session: Session, *, body: ReportIn, principal: Principal) -> dict[str, Any]:
    """Take one report: check, normalise, store, link; opens or joins a case.

    Raises
    ------
    BadInput
        Listing every problem (field and reason) when any field or identifier is malformed.
    """
    report_id = body.report_id or f"FR-{uuid.uuid4().hex[:16]}"
    report, problems = prepare_report(body, report_id=report_id)
    if problems:
        raise BadInput(f"report {report_id}: {len(problems)} problem(s): "
                       + "; ".join(f"{p.field}: {p.reason}" for p in problems[:5]),
                       detail={"problems": [p.as_dict() for p in problems]})
    if report.case_id:
        check_case(session, report.case_id)
    result = link_reports(session, [report], actor=principal.username,
                          case_for_new_cluster=case_opener(session, principal))
    stored = session.get(FraudReport, report_id)
    assert stored is not None
    _audit_collection(session, principal, result, source="api", case_id=stored.case_id)
    return {"report_id": report_id, "stored": result.stored == 1, "duplicate": result.duplicates == 1,
            "cluster_id": stored.cluster_id, "case_id": stored.case_id,
            "identifiers": [{"kind": i.kind, "value": i.value, "raw": i.raw} for i in report.identifiers],
            "merged": result.as_dict()["merged"]}


def import_reports(session: Session, *, parsed: ParsedFile, principal: Principal, case_id: str | None = None,
                   strict: bool = False) -> dict[str, Any]:
    """Store and link the reports of a parsed CSV file, all or nothing.

    Parameters
    ----------
    session : Session
        The one transaction the whole batch is linked in.
    parsed : ParsedFile
        From :func:`precinct.fraud.intake.parse_csv`.
    principal : Principal
        Who imports (audited; the lead of any case opened).
    case_id : str, optional
        Put every new report in this case instead of a case per new cluster.
    strict : bool
        Store nothing when any row or identifier was reported.

    Returns
    -------
    dict
        Counts (rows, stored, duplicates, rejected, clusters opened and merged) and the problems.
    """
    problems = [p.as_dict() for p in parsed.problems]
    summary: dict[str, Any] = {"rows": parsed.rows, "rejected": parsed.rejected,
                               "problems": problems[:1000], "problem_count": len(problems)}
    if strict and parsed.problems:
        raise BadInput(f"{len(problems)} problem(s) in the file; nothing stored (strict). First: line "
                       f"{parsed.problems[0].line}: {parsed.problems[0].field}: {parsed.problems[0].reason}",
                       detail=summary)
    if case_id is not None:
        check_case(session, case_id)
        for r in parsed.reports:
            r.case_id = case_id
    result = link_reports(session, parsed.reports, actor=principal.username,
                          case_for_new_cluster=case_opener(session, principal))
    _audit_collection(session, principal, result, source="csv", case_id=case_id)
    return {**summary, **result.as_dict(), "duplicates": result.duplicates + parsed.duplicates_in_file}


def list_clusters(session: Session, *, min_reports: int = 1, case_id: str | None = None,
                  limit: int | None = None) -> list[dict[str, Any]]:
    """Clusters with their report ids, identifiers (most-linking first) and total loss (CNY).

    Parameters
    ----------
    min_reports : int
        Only clusters of at least this many reports.
    case_id : str, optional
        Only the clusters of this case.
    limit : int, optional
        At most this many, largest loss first.

    Returns
    -------
    list of dict
        ``{"cluster_id", "case_id", "report_ids", "identifiers", "identifier_kinds", "loss_total"}``;
        identifiers ranked by how many reports they link, then by value.
    """
    q = select(FraudCluster).where(FraudCluster.report_count >= min_reports)
    if case_id is not None:
        q = q.where(FraudCluster.case_id == case_id)
    clusters = sorted(session.scalars(q), key=lambda c: (-c.loss_cents, -c.report_count, c.id))
    if limit is not None:
        clusters = clusters[:limit]
    wanted = {c.id for c in clusters}
    reports: dict[int, list[str]] = defaultdict(list)
    idents: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    if wanted:
        for rid, cid in session.execute(select(FraudReport.id, FraudReport.cluster_id)):
            if cid in wanted:
                reports[cid].append(rid)
        t = FraudIdentifier
        for cid, kind, value, n in session.execute(select(t.cluster_id, t.kind, t.value, t.report_count)):
            if cid in wanted:
                idents[cid].append((n, kind, value))
    out = []
    for c in clusters:
        ranked = sorted(idents[c.id], key=lambda x: (-x[0], x[2], x[1]))
        out.append({"cluster_id": c.id, "case_id": c.case_id, "report_ids": sorted(reports[c.id]),
                    "identifiers": [v for _, _, v in ranked],
                    "identifier_kinds": [{"kind": k, "value": v, "reports": n} for n, k, v in ranked],
                    "loss_total": money(c.loss_cents)})
    return out


def cluster_view(session: Session, *, cluster_id: int) -> dict[str, Any]:
    """One cluster: victims, total loss, the timeline, identifiers ranked, and the graph to draw.

    The identifiers are ranked by how many of the cluster's reports name them (which account to
    freeze first); the graph has one node per report and identifier and one edge per mention.
    """
    cluster = session.get(FraudCluster, cluster_id)
    if cluster is None:
        raise NotFound(f"no fraud cluster {cluster_id}", detail={"cluster_id": cluster_id})
    reports = list(session.scalars(select(FraudReport).where(FraudReport.cluster_id == cluster_id)
                                   .order_by(FraudReport.ts, FraudReport.id)))
    idents = list(session.scalars(select(FraudIdentifier).where(FraudIdentifier.cluster_id == cluster_id)))
    ids = [r.id for r in reports]
    links = [] if not ids else list(session.execute(
        select(FraudReportIdentifier.report_id, FraudReportIdentifier.identifier_id, FraudReportIdentifier.raw)
        .where(FraudReportIdentifier.identifier_id.in_([i.id for i in idents]))))
    by_currency: dict[str, int] = defaultdict(int)
    for r in reports:
        by_currency[r.currency] += r.loss_cents
    ranked = sorted(idents, key=lambda i: (-i.report_count, i.kind, i.value))
    return {
        "cluster_id": cluster.id, "case_id": cluster.case_id, "status": cluster.status,
        "report_count": cluster.report_count, "loss_total": money(cluster.loss_cents),
        "loss_by_currency": {k: money(v) for k, v in sorted(by_currency.items())},
        "first_ts": to_iso(cluster.first_ts), "last_ts": to_iso(cluster.last_ts),
        "victims": [{"report_id": r.id, "name": r.victim_name, "phone": r.victim_phone, "case_id": r.case_id}
                    for r in reports],
        "timeline": [{"ts": to_iso(r.ts), "report_id": r.id, "type": r.fraud_type,
                      "type_zh": FRAUD_TYPES.get(r.fraud_type, ("", ""))[0], "channel": r.channel,
                      "loss": money(r.loss_cents), "currency": r.currency} for r in reports],
        "identifiers": [{"kind": i.kind, "value": i.value, "bank": i.bank, "reports": i.report_count}
                        for i in ranked],
        "graph": {"nodes": [{"id": f"r:{r.id}", "kind": "report", "label": r.id} for r in reports]
                  + [{"id": f"i:{i.id}", "kind": i.kind, "label": i.value, "reports": i.report_count}
                     for i in ranked],
                  "edges": [{"source": f"r:{rid}", "target": f"i:{iid}", "raw": raw} for rid, iid, raw in links]},
    }


def clusters_of_identifier(session: Session, *, kind: str, value: str) -> int | None:
    """The cluster an already normalised identifier belongs to (None when unknown)."""
    return session.scalar(select(FraudIdentifier.cluster_id).where(FraudIdentifier.kind == kind,
                                                                   FraudIdentifier.value == value))
