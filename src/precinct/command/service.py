"""The public face of the command domain: what other domains (anpr, patrol, analytics, public, sim)
may call. Everything else in :mod:`precinct.command` is internal to it.

- :func:`nearest_available_units` (and :func:`available_units`): available units around a point
  by travel time (hotlist-alert fan-out);
- :func:`incident_records`: incidents without personal data, for the analysis domains;
- :func:`create_order`, :func:`order_view`, :func:`get_order`: one-click orders (patrol's
  checkpoint plans issue theirs here);
- :func:`incident_photos`, :func:`incident_photo`: photos attached to incidents (a case's
  missing-person photo for the patrol terminal; the caller checks the case);
- :func:`parse_attachment_upload`, :func:`store_photo`, :func:`add_case_attachment`,
  :func:`case_attachments`, :func:`case_attachment`, :func:`attachment_content`: the attachment
  store for a case's notes and photos (the cases domain checks membership before calling), and
  :func:`run_idempotent` (a retried upload stored once);
- the incident-type code table (:data:`INCIDENT_TYPES`, :class:`Priority`, :class:`UnitType`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from precinct.command.attachments import (
    Encoded,
    add_case_attachment,
    attachment_content,
    attachment_view,
    case_attachment,
    image_views,
    reencode,
    write_blob,
)
from precinct.command.attachments import case_attachments as _case_attachments
from precinct.command.attachments import image_file as incident_photo
from precinct.command.attachments_views import UPLOAD_BODY as ATTACHMENT_UPLOAD_BODY
from precinct.command.attachments_views import parse_upload as parse_attachment_upload
from precinct.command.common import publish
from precinct.command.idempotency import run_idempotent
from precinct.command.models import Assignment, Call, Incident, Order
from precinct.command.orders import create_order, get_order, order_view
from precinct.command.recommend import NearestUnits, NearUnit, available_units, nearest_available_units
from precinct.command.types import INCIDENT_TYPES, PRIORITIES, IncidentType, Priority, UnitType, get_type

__all__ = [
    "ATTACHMENT_UPLOAD_BODY",
    "INCIDENT_TYPES",
    "PRIORITIES",
    "IncidentType",
    "NearUnit",
    "NearestUnits",
    "Priority",
    "UnitType",
    "add_case_attachment",
    "attachment_content",
    "attachment_view",
    "available_units",
    "caller_contact",
    "case_attachment",
    "case_attachments",
    "create_order",
    "get_order",
    "get_type",
    "incident_photo",
    "incident_photos",
    "incident_records",
    "nearest_available_units",
    "order_view",
    "parse_attachment_upload",
    "publish_orders_created",
    "record_exists",
    "run_idempotent",
    "store_photo",
]


def publish_orders_created(bus: Any, session: Session, *, order_ids: list[str]) -> None:
    """Announce orders created outside the orders API (e.g. a checkpoint plan's) on the live bus.

    Parameters
    ----------
    bus : Any
        The application's event bus (``app.state.bus``); ``None`` publishes nothing.
    session : Session
        A session that sees the committed orders.
    order_ids : list of str
        The orders to announce, one ``orders.created`` event each (the same payload as
        ``POST /orders`` publishes).
    """
    for oid in order_ids:
        view = order_view(session, get_order(session, oid), with_history=True)
        publish(bus, "orders.created", {"order_id": view["id"], "order": view})


def incident_records(
    session: Session,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    types: list[str] | None = None,
    include_merged: bool = False,
) -> list[dict[str, Any]]:
    """Incidents for analysis, one dict each, oldest first: no personal data.

    Parameters
    ----------
    session : Session
        A read session.
    since, until : datetime, optional
        Timezone-aware bounds on ``ts``: ``since <= ts < until``.
    types : list of str, optional
        Only these incident-type codes.
    include_merged : bool
        Also incidents merged into another as duplicates (left out by default: the surviving
        incident stands for them).

    Returns
    -------
    list of dict
        ``id``, ``ts`` (when the incident was received, timezone-aware UTC: its creation, which for
        imported history is the call's time), ``type`` (code), ``priority`` (colour), ``lat``,
        ``lon`` (None when unlocated), ``status``, ``closed_at`` and ``arrived_at`` (the first unit
        on scene, or None). Never the callers' names, numbers or descriptions.

    Raises
    ------
    ValueError
        A bound without a timezone.
    """
    for name, bound in (("since", since), ("until", until)):
        if bound is not None and bound.tzinfo is None:
            raise ValueError(f"{name} needs a timezone")
    first_arrival = (
        select(Assignment.incident_id, func.min(Assignment.arrived_at).label("arrived_at"))
        .where(Assignment.arrived_at.is_not(None))
        .group_by(Assignment.incident_id)
        .subquery()
    )
    q = (
        select(
            Incident.id,
            Incident.created_at,
            Incident.type,
            Incident.priority,
            Incident.lat,
            Incident.lon,
            Incident.status,
            Incident.closed_at,
            Incident.on_scene_at,
            first_arrival.c.arrived_at,
        )
        .outerjoin(first_arrival, first_arrival.c.incident_id == Incident.id)
        .order_by(Incident.created_at, Incident.id)
    )
    if since is not None:
        q = q.where(Incident.created_at >= since)
    if until is not None:
        q = q.where(Incident.created_at < until)
    if types is not None:
        q = q.where(Incident.type.in_(types))
    if not include_merged:
        q = q.where(Incident.status != "merged")
    out = []
    for r in session.execute(q):
        arrived = _utc(r.arrived_at) or r.on_scene_at
        out.append(
            {
                "id": r.id,
                "ts": r.created_at,
                "type": r.type,
                "priority": r.priority,
                "lat": r.lat,
                "lon": r.lon,
                "status": r.status,
                "closed_at": r.closed_at,
                "arrived_at": arrived,
            }
        )
    return out


def caller_contact(session: Session, *, incident_id: str) -> dict[str, Any]:
    """The first caller's number and name for an incident (personal data).

    Call only after the caller's grant is recorded (purpose ``callback``). An incident whose callers
    gave no number answers ``{"phone": None, ...}``; the call script's language defaults to zh-CN.
    """
    row = session.execute(select(Call.caller_phone, Call.caller_name)
                          .where(Call.incident_id == incident_id)
                          .where(Call.caller_phone.is_not(None))
                          .order_by(Call.received_at).limit(1)).first()
    return {"phone": row[0] if row else None, "name": row[1] if row else None, "language": "zh-CN"}


_RECORDS: dict[str, Any] = {"incident": Incident, "call": Call, "order": Order}


def record_exists(session: Session, *, kind: str, record_id: str) -> bool:
    """Whether an incident, call or order with this id exists (cases link them by id).

    Parameters
    ----------
    kind
        ``"incident"``, ``"call"`` or ``"order"``.
    record_id
        The record's id.
    """
    model = _RECORDS[kind]
    return session.execute(select(model.id).where(model.id == record_id)).first() is not None


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """An aggregate's datetime as aware UTC (SQLite hands ``min()`` back as naive text-parsed UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def incident_photos(session: Session, *, incident_ids: list[str]) -> list[dict[str, Any]]:
    """Views of the photos attached to these incidents (the caller has checked access to them)."""
    return [attachment_view(a) for a in image_views(session, incident_ids=incident_ids)]


def store_photo(settings: Any, *, data: bytes, declared: str, keep_location: bool) -> tuple[Encoded, str]:
    """Re-encode an uploaded photo (metadata dropped unless ``keep_location``) and store it.

    Parameters
    ----------
    settings : Settings
        Where the attachment store lives (``<data_dir>/attachments``).
    data, declared
        The uploaded bytes and their declared image type.
    keep_location : bool
        Keep the EXIF block (GPS included).

    Returns
    -------
    tuple
        (the re-encoded image, the SHA-256 naming its stored file).
    """
    encoded = reencode(data, declared, keep_location=keep_location)
    return encoded, write_blob(settings, encoded)


def case_attachments(session: Session, *, case_id: str) -> list[dict[str, Any]]:
    """Views of a case's notes and photos, oldest first (the caller has checked access to the case)."""
    return [attachment_view(a) for a in _case_attachments(session, case_id=case_id)]
