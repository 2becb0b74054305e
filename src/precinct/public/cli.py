"""``precinct public``: open data, CAP 1.2 public alerts with four-eyes approval, station areas."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from precinct.core.clikit import AsUser, FormatOpt, emit_json, open_db
from precinct.public import cli_callbacks as callbacks_cli

CLI_NAME = "public"
app = typer.Typer(help="Public communication (舆): open data, public alerts (CAP 1.2), bulletins.",
                  no_args_is_help=True)
alerts_app = typer.Typer(help="Public alerts in CAP 1.2: draft, approve (a second person), publish signed.",
                         no_args_is_help=True)
areas_app = typer.Typer(help="Police station areas (派出所辖区) for alerts and open data.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")
app.add_typer(areas_app, name="areas")
app.add_typer(callbacks_cli.app, name="callbacks")
app.command("report")(callbacks_cli.report)

Opt = typer.Option


def _settings() -> Any:
    from precinct.config import get_settings

    return get_settings()


@app.command("stats")
def stats(
    month: Annotated[str, Opt(help="YYYY-MM (UTC)")],
    fmt: Annotated[str, Opt("--format", help="json, csv or geojson")] = "json",
    no_points: Annotated[bool, Opt("--no-points", help="leave out the snapped map points")] = False,
) -> None:
    """The month's open data: k-anonymous incident counts by type per area, grid cell and map point."""
    from precinct.errors import BadInput
    from precinct.public.service import open_stats, stats_csv, stats_geojson_bytes

    if fmt not in ("json", "csv", "geojson"):
        raise BadInput(f"--format: {fmt!r} is not json, csv or geojson", detail={"field": "format"})
    db = open_db()
    with db.sessionmaker() as s:
        result = open_stats(s, month=month, settings=_settings(), with_points=not no_points)
    if fmt == "csv":
        sys.stdout.write(stats_csv(result))
    elif fmt == "geojson":
        sys.stdout.write(stats_geojson_bytes(result).decode("utf-8") + "\n")
    else:
        emit_json(result)


# --- alerts ------------------------------------------------------------------------------------

@alerts_app.command("create")
def alerts_create(
    event: Annotated[str, Opt(help="what is happening (CAP <event>)")],
    headline: Annotated[str, Opt(help="one line for the public")],
    description: Annotated[str, Opt(help="what the public should know")],
    urgency: Annotated[str, Opt(help="Immediate, Expected, Future, Past, Unknown")],
    severity: Annotated[str, Opt(help="Extreme, Severe, Moderate, Minor, Unknown")],
    certainty: Annotated[str, Opt(help="Observed, Likely, Possible, Unlikely, Unknown")],
    instruction: Annotated[str | None, Opt(help="what the public should do")] = None,
    language: Annotated[str | None, Opt(help="zh-CN or en-US (default: detected from the script)")] = None,
    event_en: Annotated[str | None, Opt("--event-en", help="English event (with Chinese primary texts)")] = None,
    headline_en: Annotated[str | None, Opt("--headline-en")] = None,
    description_en: Annotated[str | None, Opt("--description-en")] = None,
    instruction_en: Annotated[str | None, Opt("--instruction-en")] = None,
    circle: Annotated[str | None, Opt(help="LAT,LON,KM")] = None,
    polygon: Annotated[str | None, Opt(help="'lat,lon lat,lon ...' closed ring, or a GeoJSON Polygon")] = None,
    station: Annotated[str | None, Opt(help="a station area's id (precinct public areas list)")] = None,
    category: Annotated[str, Opt(help="CAP category: Safety, Security, Rescue, Transport, ...")] = "Safety",
    status: Annotated[str, Opt(help="Actual, Exercise or Test")] = "Actual",
    expires_hours: Annotated[float, Opt(help="hours until the alert expires")] = 24.0,
    as_user: AsUser = None,
    fmt: FormatOpt = "table",
) -> None:
    """Draft a public alert; a second person approves it before it is published."""
    from precinct.core.access import cli_principal
    from precinct.core.db import utcnow
    from precinct.public.alerts import create_alert, resolve_area, texts_from

    db = open_db()
    principal = cli_principal(db, as_user, "public.alerts.author")
    english = {"event": event_en, "headline": headline_en, "description": description_en,
               "instruction": instruction_en}
    texts = texts_from(event=event, headline=headline, description=description, instruction=instruction,
                       language=language, english=english)
    now = utcnow()
    with db.session() as s:
        area = resolve_area(s, circle=circle, polygon=polygon, station=station)
        alert = create_alert(s, author=principal.username, texts=texts, area=area, urgency=urgency,
                             severity=severity, certainty=certainty, category=category, cap_status=status,
                             now=now, expires=now + dt.timedelta(hours=expires_hours))
        alert_id = alert.id
    if fmt == "json":
        emit_json({"id": alert_id})
    else:
        typer.echo(f"alert {alert_id} drafted; a second person must approve it: "
                   f"precinct public alerts approve {alert_id}")


@alerts_app.command("approve")
def alerts_approve(alert_id: Annotated[str, typer.Argument(help="the alert's id")], as_user: AsUser = None) -> None:
    """Approve and publish an alert (signed CAP 1.2); the approver must not be its author."""
    from precinct.core.access import cli_principal
    from precinct.public.alerts import alert_view, approve_alert
    from precinct.public.foureyes import audited_refusals

    db = open_db()
    principal = cli_principal(db, as_user, "public.alerts.approve")
    with audited_refusals(db, principal, "public.alerts"), db.session() as s:
        emit_json(alert_view(approve_alert(s, alert_id=alert_id, approver=principal.username,
                                           settings=_settings())))


@alerts_app.command("update")
def alerts_update(
    alert_id: Annotated[str, typer.Argument(help="the published alert to update")],
    headline: Annotated[str | None, Opt(help="new headline (in the language of the alert's first texts)")] = None,
    description: Annotated[str | None, Opt()] = None,
    instruction: Annotated[str | None, Opt()] = None,
    urgency: Annotated[str | None, Opt()] = None,
    severity: Annotated[str | None, Opt()] = None,
    certainty: Annotated[str | None, Opt()] = None,
    circle: Annotated[str | None, Opt(help="LAT,LON,KM")] = None,
    polygon: Annotated[str | None, Opt()] = None,
    station: Annotated[str | None, Opt()] = None,
    as_user: AsUser = None,
) -> None:
    """Draft an Update of a published alert (it references the earlier message; needs approval)."""
    from precinct.core.access import cli_principal
    from precinct.public.alerts import alert_view, detect_language, resolve_area, update_alert

    db = open_db()
    principal = cli_principal(db, as_user, "public.alerts.author")
    fields = {k: v for k, v in (("headline", headline), ("description", description),
                                ("instruction", instruction)) if v}
    changes: dict[str, Any] = {"urgency": urgency, "severity": severity, "certainty": certainty}
    if fields:
        changes["texts"] = {detect_language(" ".join(fields.values())): fields}
    with db.session() as s:
        if circle or polygon or station:
            changes["area"] = resolve_area(s, circle=circle, polygon=polygon, station=station)
        emit_json(alert_view(update_alert(s, alert_id=alert_id, author=principal.username, changes=changes)))


@alerts_app.command("cancel")
def alerts_cancel(alert_id: Annotated[str, typer.Argument(help="the published alert to cancel")],
                  reason: Annotated[str, Opt(help="why (published as the CAP <note>)")],
                  as_user: AsUser = None) -> None:
    """Draft the cancellation of a published alert (published on a second person's approval)."""
    from precinct.core.access import cli_principal
    from precinct.public.alerts import alert_view, cancel_alert

    db = open_db()
    principal = cli_principal(db, as_user, "public.alerts.author")
    with db.session() as s:
        emit_json(alert_view(cancel_alert(s, alert_id=alert_id, author=principal.username, reason=reason)))


@alerts_app.command("list")
def alerts_list(state: Annotated[str | None, Opt(help="draft, published, superseded, cancelled")] = None,
                as_user: AsUser = None) -> None:
    """Alerts, drafts included, newest first (JSON)."""
    from precinct.core.access import cli_principal
    from precinct.public.alerts import alert_view, list_alerts

    db = open_db()
    cli_principal(db, as_user, "public.alerts.read")
    with db.sessionmaker() as s:
        emit_json([alert_view(a) for a in list_alerts(s, state=state)])


@alerts_app.command("cap")
def alerts_cap(alert_id: Annotated[str, typer.Argument(help="the alert's id")],
               preview: Annotated[bool, Opt(help="an unapproved alert as an unsigned Draft")] = False) -> None:
    """Print the signed CAP 1.2 XML of a published alert."""
    from precinct.public.alerts import cap_document

    db = open_db()
    with db.sessionmaker() as s:
        body = cap_document(s, alert_id=alert_id, settings=_settings(), preview=preview)
    sys.stdout.write(body.decode("utf-8") + "\n")


@alerts_app.command("feed")
def alerts_feed_cmd(base_url: Annotated[str, Opt(help="public address of this server")] = "http://localhost:8000/"
                    ) -> None:
    """Print the Atom feed of the active alerts."""
    from precinct.public.service import alerts_feed

    db = open_db()
    with db.sessionmaker() as s:
        sys.stdout.write(alerts_feed(s, settings=_settings(), base_url=base_url).decode("utf-8"))


# --- station areas -----------------------------------------------------------------------------

@areas_app.command("add")
def areas_add(
    station_id: Annotated[str, Opt("--id", help="short id, e.g. ST-01")],
    name_zh: Annotated[str, Opt("--name-zh", help="中文名, e.g. 城东派出所")],
    name_en: Annotated[str, Opt("--name-en", help="English name")],
    polygon: Annotated[str | None, Opt(help="'lat,lon lat,lon ...' closed ring or a GeoJSON Polygon")] = None,
    polygon_file: Annotated[Path | None, Opt("--polygon-file", help="a file holding the polygon")] = None,
    as_user: AsUser = None,
) -> None:
    """Define a police station's area."""
    from precinct.core.access import cli_principal
    from precinct.errors import BadInput
    from precinct.public.areas import parse_polygon
    from precinct.public.service import add_station_area

    db = open_db()
    cli_principal(db, as_user, "public.areas.manage")
    text = polygon_file.read_text(encoding="utf-8") if polygon_file else polygon
    if not text:
        raise BadInput("give --polygon or --polygon-file", detail={"field": "polygon"})
    points = parse_polygon(text)["points"]
    with db.session() as s:
        row = add_station_area(s, station_id=station_id, name_zh=name_zh, name_en=name_en, points=points)
        emit_json({"id": row.id})


@areas_app.command("list")
def areas_list(as_user: AsUser = None) -> None:
    """The station areas (JSON)."""
    from precinct.core.access import cli_principal
    from precinct.public.service import station_areas

    db = open_db()
    cli_principal(db, as_user, "public.alerts.read")
    with db.sessionmaker() as s:
        emit_json(station_areas(s))


# --- bulletins ---------------------------------------------------------------------------------

bulletins_app = typer.Typer(help="Bulletins (警情通报): draft, strip personal data, approve (four-eyes), "
                                 "correct, withdraw.", no_args_is_help=True)
app.add_typer(bulletins_app, name="bulletins")
TitleZh = Annotated[str | None, Opt("--title-zh", help="中文标题")]
TitleEn = Annotated[str | None, Opt("--title-en", help="English title")]
BodyZh = Annotated[str | None, Opt("--body-zh", help="中文正文")]
BodyEn = Annotated[str | None, Opt("--body-en", help="English text")]


def _btexts(title_zh: str | None, title_en: str | None, body_zh: str | None, body_en: str | None) -> dict[str, str]:
    return {k: v for k, v in (("title_zh", title_zh), ("title_en", title_en), ("body_zh", body_zh),
                              ("body_en", body_en)) if v}


@bulletins_app.command("preview")
def bulletins_preview(title_zh: TitleZh = None, title_en: TitleEn = None, body_zh: BodyZh = None,
                      body_en: BodyEn = None, as_user: AsUser = None) -> None:
    """Show the texts with personal data (phones, plates, ID numbers, e-mails) replaced, and where."""
    from precinct.core.access import cli_principal
    from precinct.public.bulletins import preview

    cli_principal(open_db(), as_user, "public.bulletins.author")
    emit_json(preview(_btexts(title_zh, title_en, body_zh, body_en)))


@bulletins_app.command("create")
def bulletins_create(
    source: Annotated[str, Opt(help="incident:ID or case:ID")],
    title_zh: TitleZh = None, title_en: TitleEn = None, body_zh: BodyZh = None, body_en: BodyEn = None,
    strip: Annotated[bool, Opt(help="replace personal data instead of refusing the draft")] = False,
    as_user: AsUser = None,
) -> None:
    """Draft a bilingual bulletin about an incident or a case (a second person approves it)."""
    from precinct.core.access import cli_principal
    from precinct.errors import BadInput
    from precinct.public.bulletins import bulletin_view, draft_bulletin

    kind, _, ident = source.partition(":")
    if not ident:
        raise BadInput(f"--source: {source!r} is not incident:ID or case:ID", detail={"field": "source"})
    db = open_db()
    principal = cli_principal(db, as_user, "public.bulletins.author")
    with db.session() as s:
        row = draft_bulletin(s, author=principal.username, source_kind=kind, source_id=ident,
                             texts=_btexts(title_zh, title_en, body_zh, body_en), strip=strip)
        emit_json(bulletin_view(s, row))


@bulletins_app.command("approve")
def bulletins_approve(bulletin_id: Annotated[str, typer.Argument(help="the draft's id")],
                      as_user: AsUser = None) -> None:
    """Publish a draft bulletin; the approver must not be its author."""
    from precinct.core.access import cli_principal
    from precinct.public.bulletins import approve_bulletin, bulletin_view
    from precinct.public.foureyes import audited_refusals

    db = open_db()
    principal = cli_principal(db, as_user, "public.bulletins.approve")
    with audited_refusals(db, principal, "public.bulletins"), db.session() as s:
        emit_json(bulletin_view(s, approve_bulletin(s, bulletin_id=bulletin_id, approver=principal.username)))


@bulletins_app.command("correct")
def bulletins_correct(bulletin_id: Annotated[str, typer.Argument(help="the published bulletin")],
                      title_zh: TitleZh = None, title_en: TitleEn = None, body_zh: BodyZh = None,
                      body_en: BodyEn = None, as_user: AsUser = None) -> None:
    """Draft a correction (texts not given stay as they were); it replaces the bulletin once approved."""
    from precinct.core.access import cli_principal
    from precinct.public.bulletins import bulletin_view, correct_bulletin

    db = open_db()
    principal = cli_principal(db, as_user, "public.bulletins.author")
    with db.session() as s:
        emit_json(bulletin_view(s, correct_bulletin(s, bulletin_id=bulletin_id, author=principal.username,
                                                    texts=_btexts(title_zh, title_en, body_zh, body_en))))


@bulletins_app.command("withdraw")
def bulletins_withdraw(bulletin_id: Annotated[str, typer.Argument(help="the published bulletin")],
                       reason: Annotated[str, Opt(help="published with the withdrawal notice")],
                       as_user: AsUser = None) -> None:
    """Withdraw a published bulletin (its title and the reason stay public; the history is kept)."""
    from precinct.core.access import cli_principal
    from precinct.public.bulletins import bulletin_view, withdraw_bulletin

    db = open_db()
    principal = cli_principal(db, as_user, "public.bulletins.approve")
    with db.session() as s:
        emit_json(bulletin_view(s, withdraw_bulletin(s, bulletin_id=bulletin_id, actor=principal.username,
                                                     reason=reason)))


@bulletins_app.command("list")
def bulletins_list(state: Annotated[str | None, Opt(help="draft, published, corrected, withdrawn")] = None,
                   as_user: AsUser = None) -> None:
    """Bulletins, drafts included, newest first (JSON)."""
    from precinct.core.access import cli_principal
    from precinct.public.bulletins import bulletin_view, list_bulletins

    db = open_db()
    cli_principal(db, as_user, "public.bulletins.read")
    with db.sessionmaker() as s:
        emit_json([bulletin_view(s, b) for b in list_bulletins(s, state=state)])
