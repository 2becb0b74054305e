"""Public communication (舆): open data, alerts and bulletins for everyone under ``/public/`` (no login,
rate-limited, cached); drafting and four-eyes approval for staff under ``/publishing/``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse

from precinct.core.access import AccessGrant, allow, get_db, get_settings_dep, personal_data, public
from precinct.core.identity import Principal
from precinct.core.params import RowId
from precinct.errors import NotFound
from precinct.public import alerts as al
from precinct.public import bulletins as bl
from precinct.public import callbacks as cb
from precinct.public import service as svc
from precinct.public.feeds import bulletins_feed
from precinct.public.foureyes import audited_refusals
from precinct.public.limits import cache, rate_limit
from precinct.public.page import render as render_page
from precinct.public.report import render_html as render_report
from precinct.public.schemas import (
    AlertCancel,
    AlertCreate,
    AlertUpdate,
    BulletinCreate,
    BulletinTexts,
    BulletinWithdraw,
    CallbackGenerate,
    CallbackOutcome,
    StationAreaCreate,
)

router = APIRouter(tags=["public"])
OPEN: Any = [public, Depends(rate_limit)]
XML, ATOM = "application/xml", "application/atom+xml"


def setup(app: Any) -> None:
    """Fraud waves announced on the bus become proposed drafts (:mod:`precinct.public.waves`)."""
    from precinct.public import waves

    waves.setup(app)


def _cached(request: Request, key: Any, compute: Any) -> Any:
    return cache(request).get_or_compute(key, compute)


# --- open to everyone ------------------------------------------------------------------------

@router.get("/public/stats", dependencies=OPEN, response_model=None)
def open_stats(
    request: Request, month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM (UTC)")],
    format: Annotated[str, Query(pattern="^(json|csv|geojson)$")] = "json",
) -> Any:
    """Monthly de-identified incident counts by type and area, grid cell and anonymous point (k-anonymous)."""
    settings = get_settings_dep(request)

    def compute() -> dict[str, Any]:
        with get_db(request).sessionmaker() as s:
            return svc.open_stats(s, month=month, settings=settings)

    stats = _cached(request, ("stats", month), compute)
    headers = {"Cache-Control": "public, max-age=300"}
    if format == "csv":
        return Response(svc.stats_csv(stats), media_type="text/csv; charset=utf-8", headers={
            **headers, "Content-Disposition": f'attachment; filename="precinct-{month}.csv"'})
    if format == "geojson":
        return Response(svc.stats_geojson_bytes(stats), media_type="application/geo+json", headers=headers)
    return Response(svc.json_bytes(stats), media_type="application/json", headers=headers)


@router.get("/public/alerts", dependencies=OPEN)
def open_alerts(request: Request) -> dict[str, Any]:
    """Active public alerts (published, not expired, not cancelled)."""
    with get_db(request).sessionmaker() as s:
        return {"alerts": [al.alert_view(a, public=True) for a in al.active_alerts(s)]}


@router.get("/public/alerts.atom", dependencies=OPEN, response_class=Response)
def open_alerts_feed(request: Request) -> Response:
    """Atom feed of the active alerts; each entry links to its signed CAP 1.2 document."""
    with get_db(request).sessionmaker() as s:
        body = svc.alerts_feed(s, settings=get_settings_dep(request), base_url=str(request.base_url))
    return Response(body, media_type=ATOM, headers={"Cache-Control": "public, max-age=60"})


@router.get("/public/alerts/{alert_id}/cap", dependencies=OPEN, response_class=Response)
def open_alert_cap(request: Request, alert_id: str) -> Response:
    """The signed CAP 1.2 document of a published (or since updated or cancelled) alert."""
    with get_db(request).sessionmaker() as s:
        alert = s.get(al.PublicAlert, alert_id)
        if alert is None or not alert.cap_xml:
            raise NotFound(f"no published alert {alert_id!r}", detail={"alert_id": alert_id})
        body = alert.cap_xml.encode("utf-8")
    return Response(body, media_type="application/cap+xml")


# --- staff: drafting and four-eyes approval ---------------------------------------------------

def _texts(body: AlertCreate | AlertUpdate) -> dict[str, dict[str, str]]:
    out = {}
    for lang, t in (("zh-CN", body.zh), ("en-US", body.en)):
        if t is not None:
            out[lang] = {k: v for k, v in t.model_dump().items() if v}
    return out


@router.post("/publishing/alerts", status_code=201)
def create_alert(request: Request, body: AlertCreate,
                 principal: Annotated[Principal, allow("public.alerts.author")]) -> dict[str, Any]:
    """Draft a public alert (CAP 1.2); it is published only when a second person approves it."""
    with get_db(request).session() as s:
        area = al.resolve_area(s, circle=body.circle, polygon=body.polygon, station=body.station)
        now = dt.datetime.now(dt.UTC)
        alert = al.create_alert(s, author=principal.username, texts=_texts(body), area=area, urgency=body.urgency,
                                severity=body.severity, certainty=body.certainty, category=body.category,
                                cap_status=body.status, onset=body.onset, now=now,
                                expires=now + dt.timedelta(hours=body.expires_hours))
        return al.alert_view(alert)


@router.get("/publishing/alerts")
def list_alerts(request: Request, _p: Annotated[Principal, allow("public.alerts.read")],
                state: str | None = None) -> dict[str, Any]:
    """Every alert, drafts included, newest first."""
    with get_db(request).sessionmaker() as s:
        return {"alerts": [al.alert_view(a) for a in al.list_alerts(s, state=state)]}


@router.get("/publishing/alerts/{alert_id}")
def get_alert(request: Request, alert_id: str,
              _p: Annotated[Principal, allow("public.alerts.read")]) -> dict[str, Any]:
    """One alert with its history (drafted, approved, superseded, ...)."""
    with get_db(request).sessionmaker() as s:
        return {**al.alert_view(al.get_alert(s, alert_id)), "history": svc.history(s, kind="alert", object_id=alert_id)}


@router.get("/publishing/alerts/{alert_id}/preview", response_class=Response)
def preview_alert(request: Request, alert_id: str,
                  _p: Annotated[Principal, allow("public.alerts.read")]) -> Response:
    """The CAP document as it would be published (status Draft, unsigned, until approved)."""
    with get_db(request).sessionmaker() as s:
        body = al.cap_document(s, alert_id=alert_id, settings=get_settings_dep(request), preview=True)
    return Response(body, media_type=XML)


@router.post("/publishing/alerts/{alert_id}/approve")
def approve_alert(request: Request, alert_id: str,
                  principal: Annotated[Principal, allow("public.alerts.approve")]) -> dict[str, Any]:
    """Approve and publish (signed) — by someone other than the author."""
    db = get_db(request)
    with audited_refusals(db, principal, "public.alerts"), db.session() as s:
        return al.alert_view(al.approve_alert(s, alert_id=alert_id, approver=principal.username,
                                              settings=get_settings_dep(request)))


@router.post("/publishing/alerts/{alert_id}/update", status_code=201)
def update_alert(request: Request, alert_id: str, body: AlertUpdate,
                 principal: Annotated[Principal, allow("public.alerts.author")]) -> dict[str, Any]:
    """Draft an Update of a published alert (it references the earlier one; needs approval)."""
    with get_db(request).session() as s:
        changes: dict[str, Any] = {"urgency": body.urgency, "severity": body.severity, "certainty": body.certainty,
                                   "texts": _texts(body)}
        if body.circle or body.polygon or body.station:
            changes["area"] = al.resolve_area(s, circle=body.circle, polygon=body.polygon, station=body.station)
        if body.expires_hours:
            changes["expires"] = dt.datetime.now(dt.UTC) + dt.timedelta(hours=body.expires_hours)
        return al.alert_view(al.update_alert(s, alert_id=alert_id, author=principal.username, changes=changes))


@router.post("/publishing/alerts/{alert_id}/cancel", status_code=201)
def cancel_alert(request: Request, alert_id: str, body: AlertCancel,
                 principal: Annotated[Principal, allow("public.alerts.author")]) -> dict[str, Any]:
    """Draft the cancellation of a published alert (published on a second person's approval)."""
    with get_db(request).session() as s:
        return al.alert_view(al.cancel_alert(s, alert_id=alert_id, author=principal.username, reason=body.reason))


@router.post("/publishing/station-areas", status_code=201)
def add_station_area(request: Request, body: StationAreaCreate,
                     _p: Annotated[Principal, allow("public.areas.manage")]) -> dict[str, Any]:
    """Define a station's area (a closed WGS84 polygon) for alerts and open data."""
    with get_db(request).session() as s:
        row = svc.add_station_area(s, station_id=body.id, name_zh=body.name_zh, name_en=body.name_en,
                                   points=body.points)
        return {"id": row.id}


@router.get("/publishing/station-areas")
def list_station_areas(request: Request, _p: Annotated[Principal, allow("public.alerts.read")]) -> dict[str, Any]:
    """The station areas."""
    with get_db(request).sessionmaker() as s:
        return {"areas": svc.station_areas(s)}


# --- bulletins -------------------------------------------------------------------------------------

@router.get("/public/page", dependencies=OPEN, response_class=HTMLResponse)
def open_page(request: Request) -> HTMLResponse:
    """The public page: active alerts, bulletins and the open-data downloads (中文 / English)."""
    with get_db(request).sessionmaker() as s:
        return HTMLResponse(render_page(s, settings=get_settings_dep(request)))


@router.get("/public/bulletins", dependencies=OPEN)
def open_bulletins(request: Request) -> dict[str, Any]:
    """Published bulletins (警情通报), current versions, newest first; withdrawn ones as notices."""
    with get_db(request).sessionmaker() as s:
        return {"bulletins": [bl.bulletin_view(s, b, public=True) for b in bl.public_bulletins(s)]}


@router.get("/public/bulletins.atom", dependencies=OPEN, response_class=Response)
def open_bulletins_feed(request: Request) -> Response:
    """Atom feed of the published bulletins."""
    with get_db(request).sessionmaker() as s:
        body = bulletins_feed(s, settings=get_settings_dep(request), base_url=str(request.base_url))
    return Response(body, media_type=ATOM, headers={"Cache-Control": "public, max-age=60"})


@router.get("/public/bulletins/{bulletin_id}", dependencies=OPEN)
def open_bulletin(request: Request, bulletin_id: str) -> dict[str, Any]:
    """One public bulletin with the dates of its versions (corrections) and any withdrawal."""
    with get_db(request).sessionmaker() as s:
        row = s.get(bl.PublicBulletin, bulletin_id)
        if row is None or row.state == "draft":
            raise NotFound(f"no published bulletin {bulletin_id!r}", detail={"bulletin_id": bulletin_id})
        return bl.bulletin_view(s, row, public=True)


def _btexts(body: BulletinTexts) -> dict[str, str]:
    return {k: v for k, v in body.model_dump(include=set(bl.FIELDS)).items() if v}


@router.post("/publishing/bulletins/preview")
def preview_bulletin(body: BulletinTexts,
                     _p: Annotated[Principal, allow("public.bulletins.author")]) -> dict[str, Any]:
    """The texts with personal data replaced by markers, and where each removal was."""
    return bl.preview(_btexts(body))


@router.post("/publishing/bulletins", status_code=201)
def create_bulletin(request: Request, body: BulletinCreate,
                    principal: Annotated[Principal, allow("public.bulletins.author")]) -> dict[str, Any]:
    """Draft a bulletin (refused while a phone number, plate, ID number or e-mail remains, unless ``strip``)."""
    with get_db(request).session() as s:
        row = bl.draft_bulletin(s, author=principal.username, source_kind=body.source_kind,
                                source_id=body.source_id, texts=_btexts(body), strip=body.strip)
        return bl.bulletin_view(s, row)


@router.get("/publishing/bulletins")
def list_bulletins(request: Request, _p: Annotated[Principal, allow("public.bulletins.read")],
                   state: str | None = None) -> dict[str, Any]:
    """Every bulletin, drafts included, newest first."""
    with get_db(request).sessionmaker() as s:
        return {"bulletins": [bl.bulletin_view(s, b) for b in bl.list_bulletins(s, state=state)]}


@router.post("/publishing/bulletins/{bulletin_id}/approve")
def approve_bulletin(request: Request, bulletin_id: str,
                     principal: Annotated[Principal, allow("public.bulletins.approve")]) -> dict[str, Any]:
    """Publish a draft (a second person: never its author)."""
    db = get_db(request)
    with audited_refusals(db, principal, "public.bulletins"), db.session() as s:
        return bl.bulletin_view(s, bl.approve_bulletin(s, bulletin_id=bulletin_id, approver=principal.username))


@router.post("/publishing/bulletins/{bulletin_id}/correct", status_code=201)
def correct_bulletin(request: Request, bulletin_id: str, body: BulletinTexts,
                     principal: Annotated[Principal, allow("public.bulletins.author")]) -> dict[str, Any]:
    """Draft a correction of a published bulletin (replaces it once approved; the history stays)."""
    with get_db(request).session() as s:
        return bl.bulletin_view(s, bl.correct_bulletin(s, bulletin_id=bulletin_id, author=principal.username,
                                                       texts=_btexts(body)))


@router.post("/publishing/bulletins/{bulletin_id}/withdraw")
def withdraw_bulletin(request: Request, bulletin_id: str, body: BulletinWithdraw,
                      principal: Annotated[Principal, allow("public.bulletins.approve")]) -> dict[str, Any]:
    """Withdraw a published bulletin with a public reason."""
    with get_db(request).session() as s:
        return bl.bulletin_view(s, bl.withdraw_bulletin(s, bulletin_id=bulletin_id, actor=principal.username,
                                                        reason=body.reason))


# --- transparency report and callbacks ------------------------------------------------------------

@router.get("/public/report", dependencies=OPEN, response_model=None)
def open_report(request: Request, month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")],
                format: Annotated[str, Query(pattern="^(html|json|pdf)$")] = "html") -> Any:
    """The monthly transparency report: incidents, response times, satisfaction, oversight figures
    (HTML, JSON or PDF)."""
    settings = get_settings_dep(request)

    def compute() -> dict[str, Any]:
        with get_db(request).sessionmaker() as s:
            return svc.transparency_report(s, month=month, settings=settings)

    report = _cached(request, ("report", month), compute)
    if format == "json":
        return Response(svc.json_bytes(report), media_type="application/json")
    if format == "pdf":
        from precinct.public.reportpdf import render_pdf

        body = _cached(request, ("report.pdf", month), lambda: render_pdf(report, agency=settings.public_sender_name))
        return Response(body, media_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="transparency-{month}.pdf"'})
    return HTMLResponse(render_report(report, agency=settings.public_sender_name))


@router.post("/publishing/callbacks/generate")
def generate_callbacks(request: Request, body: CallbackGenerate,
                       _p: Annotated[Principal, allow("public.callbacks.work")]) -> dict[str, Any]:
    """Make callback tasks for recently closed incidents (all, or a sample by type)."""
    with get_db(request).session() as s:
        return {"created": svc.generate_callbacks(s, days=body.days, rate=body.rate, type_rates=body.type_rates)}


@router.get("/publishing/callbacks")
def list_callbacks(request: Request, _p: Annotated[Principal, allow("public.callbacks.work")]) -> dict[str, Any]:
    """Open callback tasks, oldest first (no personal data: the number is read separately)."""
    with get_db(request).sessionmaker() as s:
        return {"callbacks": [cb.callback_view(r) for r in cb.pending(s)]}


@router.get("/publishing/callbacks/{callback_id}/caller")
def callback_caller(request: Request, callback_id: RowId,
                    grant: Annotated[AccessGrant, personal_data("public.callbacks.caller")],
                    language: Annotated[str, Query(pattern="^(zh-CN|en-US)$")] = "zh-CN") -> dict[str, Any]:
    """The caller's number and the call script (personal data: purpose ``callback``, audited)."""
    with get_db(request).sessionmaker() as s:
        row = cb.get_callback(s, callback_id)
        contact = cb.caller_contact(s, incident_id=row.incident_id)
        text = cb.script(language, agency=get_settings_dep(request).public_sender_name, closed_at=row.closed_at)
    grant.record(result_count=1, params={"callback_id": callback_id, "incident_id": row.incident_id})
    return {"callback": callback_id, "contact": contact, "script": text}


@router.post("/publishing/callbacks/{callback_id}/outcome")
def callback_outcome(request: Request, callback_id: RowId, body: CallbackOutcome,
                     principal: Annotated[Principal, allow("public.callbacks.work")]) -> dict[str, Any]:
    """Record reached / not reached / declined, a 1-5 score, a comment, a complaint."""
    with get_db(request).session() as s:
        return cb.callback_view(cb.record_outcome(s, callback_id=callback_id, actor=principal.username,
                                                  outcome=body.outcome, score=body.score, comment=body.comment,
                                                  complaint=body.complaint, complaint_to=body.complaint_to,
                                                  default_to=get_settings_dep(request).public_complaint_to))


@router.get("/publishing/callbacks/stats")
def callback_stats(request: Request, month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")],
                   _p: Annotated[Principal, allow("public.callbacks.stats")]) -> dict[str, Any]:
    """Callback outcomes and satisfaction by station and type for incidents closed in a month."""
    from precinct.public.stats import parse_month

    m = parse_month(month)
    with get_db(request).sessionmaker() as s:
        return cb.satisfaction(s, since=m.since, until=m.until, k=get_settings_dep(request).public_k)
