"""NENA EIDO import: an incident (with its calls and callback numbers) from an EIDO document.

Lenient about the draft spellings found in circulation (``LastUpdateTimeStamp``, ``EIDOVersion``,
``incidentComponent`` as a list, ``locationInformationComponent``); takes the incident type,
priority, status, location (PIDF-LO ``gml:pos`` or civic address), calls and their callback
numbers. Importing the same document again (same tracking id) changes nothing. The incident is
opened through :func:`precinct.command.incidents.open_incident`, like every other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.command.common import normalize_phone
from precinct.command.incidents import NewCall, audit_collection, open_incident
from precinct.command.models import Incident
from precinct.command.types import INCIDENT_TYPES, PRIORITIES, Priority, get_type
from precinct.core.timeutil import parse_iso, utcnow
from precinct.errors import BadInput

_POS = re.compile(r"<(?:gml:)?pos>\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)")
_CIVIC = re.compile(r"<(A[1-6]|RD|STS|HNO|PC|LOC|NAM|country)>([^<]*)</")


def _normalise(node: Any) -> Any:
    """Lower-case the first letter of keys (``LastUpdateTimeStamp`` → ``lastUpdateTimeStamp``)."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            key = k
            if k == "EIDOVersion":
                key = "eidoVersion"
            elif k[:1].isupper() and not k.isupper():
                key = k[0].lower() + k[1:]
            out[key] = _normalise(v)
        return out
    if isinstance(node, list):
        return [_normalise(x) for x in node]
    return node


def _as_list(value: Any) -> list[Any]:
    """A component list (a single object counts as one); anything that is not an object is dropped."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [x for x in items if isinstance(x, dict)]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _ref(value: Any) -> str | None:
    return value.get("$ref") if isinstance(value, dict) and isinstance(value.get("$ref"), str) else None


@dataclass
class ImportResult:
    incident_id: str
    created: bool
    warnings: list[str] = field(default_factory=list)


def _type_from(component: dict[str, Any], warnings: list[str]) -> str:
    for key in (
        "incidentTypeInternalCode",
        "incidentTypeInternalText",
        "incidentTypeCommonRegistryText",
    ):
        value = component.get(key)
        if isinstance(value, str):
            itype = get_type(value)
            if itype is not None:
                return itype.code
            first = value.split("/")[0].strip()
            itype = get_type(first)
            if itype is not None:
                return itype.code
    warnings.append("incident type not in the code table; imported as other_incident")
    return "other_incident"


def _priority_from(component: dict[str, Any], itype: str) -> str:
    text = str(component.get("incidentPriorityInternalText", "")).lower()
    for p in Priority:
        if text.startswith(p.value):
            return p.value
    number = component.get("incidentCommonPriorityNumber")
    if isinstance(number, int):
        for p in Priority:  # most urgent first
            if number >= PRIORITIES[p].eido_priority_number:
                return p.value
        return Priority.green.value
    return INCIDENT_TYPES[itype].priority.value


def _location_from(doc: dict[str, Any], warnings: list[str]) -> tuple[float | None, float | None, str | None]:
    comps = _as_list(doc.get("locationComponent")) + _as_list(doc.get("locationInformationComponent"))
    address = None
    for comp in comps:
        value = _text(comp.get("locationByValue"))
        m = _POS.search(value)
        if m:
            lat, lon = float(m.group(1)), float(m.group(2))
            if abs(lat) <= 90 and abs(lon) <= 180:
                return lat, lon, _text(comp.get("locationDescriptionText")) or None
        civic = _CIVIC.findall(value)
        if civic and address is None:
            parts = dict(civic)
            address = " ".join(
                p
                for p in (
                    parts.get("HNO"),
                    parts.get("RD"),
                    parts.get("STS"),
                    parts.get("A3"),
                    parts.get("A1"),
                    parts.get("country"),
                )
                if p
            )
        address = address or _text(comp.get("locationDescriptionText")) or None
    warnings.append("no coordinates in the document; the incident is unlocated")
    return None, None, address


def import_document(session: Session, document: dict[str, Any], *, actor: str, role: str) -> ImportResult:
    """Create an incident (with its calls) from an EIDO document.

    Raises
    ------
    BadInput
        Not an EIDO document (no version or no tracking id).
    """
    if not isinstance(document, dict):
        raise BadInput(
            "document: an EIDO JSON object is expected",
            detail={"field": "document", "reason": "type"},
        )
    doc = _normalise(document)
    version = doc.get("eidoVersion")
    if version is None:
        raise BadInput(
            "eidoVersion: missing; not an EIDO document",
            detail={"field": "eidoVersion", "reason": "missing"},
        )
    tracking = doc.get("incidentTrackingIdentifier") or doc.get("$id")
    if not isinstance(tracking, str) or not tracking:
        raise BadInput(
            "$id: the document has no incident identifier",
            detail={"field": "$id", "reason": "missing"},
        )
    existing = session.scalar(select(Incident).where(Incident.external_id == tracking[:256]))
    if existing is not None:
        return ImportResult(existing.id, False, ["already imported"])
    warnings: list[str] = []
    inc_comps = _as_list(doc.get("incidentComponent"))
    comp = inc_comps[0] if inc_comps else {}
    if not inc_comps:
        warnings.append("no incidentComponent; type and priority defaulted")
    itype = _type_from(comp, warnings)
    prio = _priority_from(comp, itype)
    lat, lon, address = _location_from(doc, warnings)
    notes = [_text(n.get("notesActionComments")) for n in _as_list(doc.get("notesComponent"))]
    summary = "; ".join(x for x in notes if x) or _text(comp.get("incidentTypeInternalText"))
    now = utcnow()
    callbacks = {c.get("$id"): c for c in _as_list(doc.get("callbackComponent"))}
    calls = []
    for call in _as_list(doc.get("callComponent")):
        cb = callbacks.get(_ref(call.get("callBackReference")))
        phone = None
        uris = (cb or {}).get("callBackInformationUri")
        for uri in uris if isinstance(uris, list) else []:
            if isinstance(uri, str) and uri.startswith("tel:"):
                phone = normalize_phone(uri[4:])
                break
        received = call.get("callStartTimestamp")
        try:
            when = parse_iso(str(received), naive_as_utc=True) if received else now
        except ValueError:
            when = now
        calls.append(NewCall(received_at=when, lat=lat, lon=lon, address=address, caller_phone=phone))
    inc = open_incident(
        session,
        actor=actor,
        type=itype,
        priority=prio,
        lat=lat,
        lon=lon,
        address=address,
        summary=str(summary),
        source="eido",
        external_id=tracking[:256],
        created_at=now,
        calls=calls,
        now=now,
        detail={"source": "eido", "tracking_id": tracking, "warnings": warnings},
    ).incident
    phones = sum(c.caller_phone is not None for c in calls)
    audit_collection(
        session,
        actor=actor,
        role=role,
        params={"incident_id": inc.id, "source": "eido", "phones": phones},
        result_count=phones,
        case_id=inc.id,
    )
    return ImportResult(inc.id, True, warnings)
