"""Anti-fraud centre API (反诈中心) under ``/fraud``: thin routes over :mod:`precinct.fraud.service`.

Reads of victims, phones and accounts are personal data (``X-Case-Id`` and ``X-Purpose``; audited
before results leave). Routes that change state answer without personal fields.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Body, Query, Request, Response

from precinct.core.access import AccessGrant, allow, get_db, get_settings_dep, personal_data
from precinct.core.db import utcnow
from precinct.core.identity import Principal
from precinct.core.params import RowId
from precinct.fraud import intake, service
from precinct.fraud.schemas import ContactIn, ReportIn, RequestIn, RequestTransition, WarningIn, WarningOutcome
from precinct.fraud.stats import check_month

log = logging.getLogger("precinct.fraud")
router = APIRouter(prefix="/fraud", tags=["fraud"])
MAX_UPLOAD_BYTES = 64 << 20
PERSONAL_REQUEST_FIELDS = ("account",)
PERSONAL_WARNING_FIELDS = ("person_phone",)


def _without(view: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k not in fields}


@router.get("/types")
def fraud_types(_p: Annotated[Principal, allow("fraud.types")]) -> dict[str, Any]:
    """The fraud-type code table (诈骗类型): code, Chinese and English names."""
    return {"types": service.fraud_types()}


def _announce_waves(request: Request, report_ids: list[str]) -> None:
    """Publish the fraud waves these stored reports are part of on the bus (``fraud.wave``, no
    personal data); the public-communication domain proposes an alert or bulletin from each.
    Runs as a background task after the answer was sent; a failure is logged, never raised."""
    bus = getattr(request.app.state, "bus", None)
    if bus is None or not report_ids:
        return
    settings = get_settings_dep(request)
    try:
        with get_db(request).sessionmaker() as s:
            waves = service.waves_of_reports(s, report_ids=report_ids, threshold=settings.fraud_wave_reports,
                                             days=settings.fraud_wave_days, now=utcnow())
        for wave in waves:
            bus.publish(service.WAVE_SUBJECT, wave)
    except Exception:  # the reports are stored; a missed announcement is retried by the next report
        log.exception("fraud waves: the check after %d report(s) failed", len(report_ids))


@router.post("/reports", status_code=201)
def create_report(request: Request, body: ReportIn, later: BackgroundTasks,
                  principal: Annotated[Principal, allow("fraud.reports.create")]) -> dict[str, Any]:
    """Take one fraud report (报案): identifiers normalised, linked to its cluster, put in a case."""
    with get_db(request).session() as s:
        out = service.record_report(s, body=body, principal=principal)
    if out["stored"]:  # after the answer has gone: the wave check never delays the report
        later.add_task(_announce_waves, request, [out["report_id"]])
    return out


@router.post("/reports/import")
def import_reports(
    request: Request, later: BackgroundTasks, principal: Annotated[Principal, allow("fraud.import")],
    csv_text: Annotated[str, Body(media_type="text/csv", description="the CSV file")],
    case: Annotated[str | None, Query(max_length=64, description="put every new report in this case")] = None,
    strict: bool = False,
) -> dict[str, Any]:
    """Import a CSV of reports; malformed values are reported per line; linking is all or nothing."""
    if len(csv_text) > MAX_UPLOAD_BYTES:
        from precinct.errors import BadInput

        raise BadInput(f"at most {MAX_UPLOAD_BYTES} bytes in one upload; use the CLI for larger files")
    parsed = intake.parse_text(csv_text)
    with get_db(request).session() as s:
        out = service.import_reports(s, parsed=parsed, principal=principal, case_id=case, strict=strict)
    if out.get("stored"):
        later.add_task(_announce_waves, request, [r.id for r in parsed.reports])
    return out


@router.get("/clusters")
def list_clusters(
    request: Request, grant: Annotated[AccessGrant, personal_data("fraud.clusters")],
    min_reports: Annotated[int, Query(ge=1)] = 1, of_case: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> dict[str, Any]:
    """Clusters of linked reports, largest loss first, identifiers ranked by reports linked."""
    with get_db(request).sessionmaker() as s:
        clusters = service.list_clusters(s, min_reports=min_reports, case_id=of_case, limit=limit)
    grant.record(result_count=len(clusters), params={"min_reports": min_reports, "of_case": of_case,
                                                     "cluster_ids": [c["cluster_id"] for c in clusters][:200]})
    return {"clusters": clusters}


@router.get("/clusters/{cluster_id}")
def get_cluster(request: Request, cluster_id: RowId,
                grant: Annotated[AccessGrant, personal_data("fraud.reports.read")]) -> dict[str, Any]:
    """One cluster: victims, total loss, timeline, identifiers ranked, graph (nodes and edges)."""
    with get_db(request).sessionmaker() as s:
        view = service.cluster_view(s, cluster_id=cluster_id)
    grant.record(result_count=view["report_count"], params={"cluster_id": cluster_id})
    return view


@router.post("/requests", status_code=201)
def create_request(request: Request, body: RequestIn,
                   principal: Annotated[Principal, allow("fraud.requests.manage")]) -> dict[str, Any]:
    """Draft a stop-payment (止付) or freeze (冻结) request; the legal clock starts."""
    with get_db(request).session() as s:
        return _without(service.create_request(s, body=body, principal=principal), PERSONAL_REQUEST_FIELDS)


@router.post("/requests/{request_id}/state")
def transition_request(request: Request, request_id: str, body: RequestTransition,
                       principal: Annotated[Principal, allow("fraud.requests.manage")]) -> dict[str, Any]:
    """Sent, confirmed (amount held), rejected, renewed, released (amount returned), expired."""
    with get_db(request).session() as s:
        view = service.transition_request(s, request_id=request_id, body=body, principal=principal)
    return _without(view, PERSONAL_REQUEST_FIELDS)


@router.get("/requests", response_model=None)
def list_requests(
    request: Request, grant: Annotated[AccessGrant, personal_data("fraud.requests.read")],
    state: str | None = None, of_case: Annotated[str | None, Query(max_length=64)] = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Any:
    """Requests with their flags (overdue, expired, expiring); ``format=csv`` for the list to send."""
    with get_db(request).sessionmaker() as s:
        rows = service.list_requests(s, state=state, case_id=of_case)
    grant.record(result_count=len(rows), params={"state": state, "of_case": of_case,
                                                 "request_ids": [r["id"] for r in rows][:200]})
    if format == "csv":
        return Response(service.export_requests_csv(rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="fraud-requests.csv"'})
    return {"requests": rows}


@router.get("/requests/supervision")
def requests_supervision(request: Request,
                         grant: Annotated[AccessGrant, personal_data("fraud.requests.read")]) -> dict[str, Any]:
    """For the supervision screen: open requests overdue, expired or about to expire."""
    with get_db(request).sessionmaker() as s:
        out = service.supervision(s)
    grant.record(result_count=sum(out["counts"].values()), params={"view": "supervision"})
    return out


@router.post("/contacts", status_code=201)
def record_contact(request: Request, body: ContactIn,
                   principal: Annotated[Principal, allow("fraud.contacts.record")]) -> dict[str, Any]:
    """Record that a person was in contact with a known fraud identifier (this makes a warning lead)."""
    with get_db(request).session() as s:
        view = service.record_contact(s, body=body, principal=principal)
    return {k: view[k] for k in ("contact_id", "cluster_id", "case_id")}


@router.get("/leads")
def list_leads(request: Request, grant: Annotated[AccessGrant, personal_data("fraud.warnings.read")],
               include_warned: bool = False) -> dict[str, Any]:
    """Warning leads: people with a recorded link to an identifier of an open cluster, each with the link."""
    with get_db(request).sessionmaker() as s:
        leads = service.list_leads(s, include_warned=include_warned)
    grant.record(result_count=len(leads), params={"view": "leads",
                                                  "contact_ids": [x["contact_id"] for x in leads][:200]})
    return {"leads": leads}


@router.post("/warnings", status_code=201)
def create_warning(request: Request, body: WarningIn,
                   principal: Annotated[Principal, allow("fraud.warnings.manage")]) -> dict[str, Any]:
    """A warning task (预警劝阻) for a lead: call, text message (template) or visit."""
    with get_db(request).session() as s:
        return _without(service.create_warning(s, body=body, principal=principal), PERSONAL_WARNING_FIELDS)


@router.post("/warnings/{warning_id}/outcome")
def warning_outcome(request: Request, warning_id: RowId, body: WarningOutcome,
                    principal: Annotated[Principal, allow("fraud.warnings.manage")]) -> dict[str, Any]:
    """Record the outcome: reached, not reached, confirmed safe, transfer stopped (劝阻成功)."""
    with get_db(request).session() as s:
        view = service.record_outcome(s, warning_id=warning_id, body=body, principal=principal)
    return _without(view, PERSONAL_WARNING_FIELDS)


@router.get("/warnings")
def list_warnings(request: Request, grant: Annotated[AccessGrant, personal_data("fraud.warnings.read")],
                  state: str | None = None) -> dict[str, Any]:
    """Warning tasks with their outcomes."""
    with get_db(request).sessionmaker() as s:
        rows = service.list_warnings(s, state=state)
    grant.record(result_count=len(rows), params={"state": state,
                                                 "warning_ids": [w["warning_id"] for w in rows][:200]})
    return {"warnings": rows}


@router.get("/waves")
def waves(request: Request, _p: Annotated[Principal, allow("fraud.stats")]) -> dict[str, Any]:
    """Fraud waves now (诈骗高发): fraud types and clusters past the threshold of reports in the
    window (settings ``fraud_wave_reports``, ``fraud_wave_days``); aggregates only, no personal data."""
    settings = get_settings_dep(request)
    with get_db(request).sessionmaker() as s:
        found = service.detect_waves(s, threshold=settings.fraud_wave_reports, days=settings.fraud_wave_days,
                                     now=utcnow())
    return {"threshold": settings.fraud_wave_reports, "days": settings.fraud_wave_days, "waves": found}


@router.get("/stats")
def stats(request: Request, _p: Annotated[Principal, allow("fraud.stats")],
          since: str | None = None, until: str | None = None) -> dict[str, Any]:
    """Figures by month (CST) and fraud type: reports, losses, warnings, accounts stopped/frozen, amounts."""
    with get_db(request).sessionmaker() as s:
        return service.monthly_stats(s, since=check_month(since, "since"), until=check_month(until, "until"))
