"""NENA EIDO (Emergency Incident Data Object) export and import.

Exports follow the NENA EIDO 1.0 OpenAPI schema shipped beside this module
(``eido_openapi.yaml``, a copy of NENA's) and are validated against it with jsonschema: incident,
location, call, dispatch, emergency-resource (units), agent, agency, notes and disposition parts.
Caller details are not exported (sharing them is a disclosure of personal data).

Import is lenient about the draft spellings found in circulation (``LastUpdateTimeStamp``,
``EIDOVersion``, ``incidentComponent`` as a list, ``locationInformationComponent``) and takes the
incident type, priority, status, location (PIDF-LO ``gml:pos`` or civic address), calls and their
callback numbers. Importing the same document again (same tracking id) changes nothing.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.calls.common import iso, normalize_phone
from precinct.calls.models import Call, Incident
from precinct.calls.service import calls_of, get_incident, record_event
from precinct.calls.types import INCIDENT_TYPES, PRIORITIES, Priority, get_type
from precinct.core import audit
from precinct.core.db import utcnow
from precinct.core.roles import AuditAction
from precinct.dispatch.models import Assignment, Unit
from precinct.errors import BadInput

SCHEMA_PATH = Path(__file__).resolve().parent / "eido_openapi.yaml"
DEFAULT_AGENCY = "precinct.police.local"
CONTEXT = {"@vocab": "./JSON-LD_Contexts/EmergencyIncidentDataObjectType.jsonld"}
UNIT_STATUS = {
    "dispatched": "Dispatched",
    "en_route": "Enroute",
    "on_scene": "OnScene",
    "cleared": "Available",
    "available": "Available",
    "out_of_service": "OutOfService",
}
INCIDENT_STATUS = {
    "new": "Pending",
    "dispatched": "Dispatched",
    "en_route": "Enroute",
    "on_scene": "OnScene",
    "cleared": "Cleared",
    "closed": "Closed",
    "merged": "Merged",
}
_POS = re.compile(r"<(?:gml:)?pos>\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)")
_CIVIC = re.compile(r"<(A[1-6]|RD|STS|HNO|PC|LOC|NAM|country)>([^<]*)</")


def _fix_schema(node: Any) -> Any:
    """Make NENA's schema usable by jsonschema: drop external refs, repair ``minItems: "1,"``."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and not v.startswith("#"):
                return {}
            if k == "minItems" and not isinstance(v, int):
                v = int("".join(ch for ch in str(v) if ch.isdigit()) or 0)
            out[k] = _fix_schema(v)
        return out
    if isinstance(node, list):
        return [_fix_schema(x) for x in node]
    return node


@functools.lru_cache(maxsize=1)
def validator() -> Any:
    """A jsonschema validator for ``EmergencyIncidentDataObjectType``."""
    import jsonschema
    import yaml

    doc = yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))
    root = {
        "components": _fix_schema(doc["components"]),
        "$ref": "#/components/schemas/EmergencyIncidentDataObjectType",
    }
    return jsonschema.Draft202012Validator(root, format_checker=jsonschema.FormatChecker())


def validate(document: dict[str, Any]) -> list[str]:
    """Schema errors of an EIDO document as ``path: message`` strings (empty when valid)."""
    errors = sorted(validator().iter_errors(document), key=lambda e: list(e.path))
    return [f"{'/'.join(str(p) for p in e.path) or '(root)'}: {e.message[:200]}" for e in errors]


def _prologue(cid: str, ts: str, agency: str, agent: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "$id": cid,
        "lastUpdateTimeStamp": ts,
        "updatedByAgencyReference": {"$ref": agency},
    }
    if agent:
        out["updatedByAgentReference"] = {"$ref": agent}
    return out


def _pidf(lat: float, lon: float, ts: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><presence xmlns="urn:ietf:params:xml:ns:pidf" '
        'xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" xmlns:gml="http://www.opengis.net/gml" '
        'entity="pres:incident@precinct"><tuple id="loc"><status><gp:geopriv><gp:location-info>'
        f'<gml:Point srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>{lat:.7f} {lon:.7f}</gml:pos>'
        "</gml:Point></gp:location-info><gp:usage-rules/></gp:geopriv></status>"
        f"<timestamp>{escape(ts)}</timestamp></tuple></presence>"
    )


def export_incident(session: Session, *, incident_id: str, actor: str, agency: str = DEFAULT_AGENCY) -> dict[str, Any]:
    """The incident as an EIDO document (validates against the NENA schema).

    Parameters
    ----------
    session
        Read-only use.
    incident_id
        The incident to export.
    actor
        The agent issuing the document.
    agency
        This centre's agency identifier (a domain name, as EIDO expects).
    """
    inc = get_incident(session, incident_id)
    ts = iso(inc.updated_at) or iso(utcnow()) or ""
    base = f"urn:emergency:uid:incidentid:{inc.id}:{agency}"
    agent_ids: dict[str, str] = {}

    def agent(name: str, role: str) -> str:
        aid = f"{name}@{agency}"
        agent_ids.setdefault(aid, role)
        return aid

    itype = INCIDENT_TYPES.get(inc.type)
    info = PRIORITIES[Priority(inc.priority)]
    loc_id = f"{base}:location:0"
    locations: list[dict[str, Any]] = []
    if inc.lat is not None and inc.lon is not None:
        loc = {
            **_prologue(loc_id, ts, agency),
            "locationTypeDescriptionRegistryText": "IncidentLocation",
            "locationByValue": _pidf(inc.lat, inc.lon, ts),
        }
        if inc.address:
            loc["locationDescriptionText"] = inc.address
        locations.append(loc)
    elif inc.address:
        locations.append(
            {
                **_prologue(loc_id, ts, agency),
                "locationTypeDescriptionRegistryText": "IncidentLocation",
                "locationDescriptionText": inc.address,
            }
        )
    notes = []
    if inc.summary:
        notes.append(
            {
                **_prologue(f"{base}:notes:0", ts, agency, agent(inc.created_by, "Call Taking")),
                "notesActionComments": inc.summary,
                "agentReference": {"$ref": agent(inc.created_by, "Call Taking")},
            }
        )
    incident: dict[str, Any] = {
        **_prologue(f"{base}:incident", ts, agency),
        "incidentTypeCommonRegistryText": "Law Enforcement",
        "incidentTypeInternalCode": inc.type,
        "incidentTypeInternalText": f"{itype.name_en} / {itype.name_zh}" if itype else inc.type,
        "incidentStatusInternalText": [inc.status],
        "incidentStatusCommonRegistryText": [INCIDENT_STATUS.get(inc.status, inc.status)],
        "internalIncidentId": inc.id,
        "incidentPriorityInternalText": f"{inc.priority} ({info.name_zh})",
        "incidentCommonPriorityNumber": info.eido_priority_number,
        "agentReference": [{"$ref": agent(inc.created_by, "Call Taking")}],
    }
    if locations:
        incident["locationReference"] = [{"$ref": loc_id}]
    if notes:
        incident["notesReference"] = [{"$ref": n["$id"]} for n in notes]
    if inc.disposition:
        disp: dict[str, Any] = {
            **_prologue(f"{base}:disposition:0", ts, agency),
            "dispositionCommonRegistryCode": inc.disposition,
            "dispositionPrimaryIndicator": True,
        }
        if inc.disposition_text:
            disp["dispositionDescriptionText"] = inc.disposition_text
        incident["dispositionComponent"] = [disp]
    calls = []
    for call in calls_of(session, inc.id):
        calls.append(
            {
                **_prologue(
                    f"urn:emergency:uid:callid:{call.id}:{agency}",
                    iso(call.received_at) or ts,
                    agency,
                    agent(call.created_by, "Call Taking"),
                ),
                "standardPrimaryCallType": "emergency",
                "direction": "incoming",
                "callStartTimestamp": iso(call.received_at),
                "callStateRegistryText": "callEnded",
                "localCallType": call.type,
                "agentReference": [{"$ref": agent(call.created_by, "Call Taking")}],
                **({"locationReference": [{"$ref": loc_id}]} if locations else {}),
                "queueIdentifier": f"110@{agency}",
            }
        )
    resources, dispatches = [], []
    rows = session.execute(
        select(Assignment, Unit)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Assignment.incident_id == inc.id)
        .order_by(Assignment.id)
    ).all()
    for n, (a, unit) in enumerate(rows):
        rid = f"{base}:resource:{n}"
        by = agent(a.dispatched_by, "Dispatching")
        res: dict[str, Any] = {
            **_prologue(
                rid,
                iso(a.cleared_at or a.arrived_at or a.acknowledged_at or a.dispatched_at) or ts,
                agency,
                by,
            ),
            "emergencyResourceTypeCommonRegistryText": "Law Enforcement Unit",
            "emergencyResourceTypeInternalText": unit.unit_type,
            "resourceAttributeRegistryText": [unit.unit_type],
            "emergencyResourceName": unit.callsign,
            "primaryUnitStatusRegistryText": UNIT_STATUS.get(a.status, a.status),
            "secondaryUnitStatusRegistryText": [],
            "unitStatusInternal": [a.status],
            "agentReference": [{"$ref": by}],
        }
        if a.status != "cleared":
            res["activeOnIncidentId"] = base
        resources.append(res)
        dispatches.append(
            {
                **_prologue(f"{base}:dispatch:{n}", iso(a.dispatched_at) or ts, agency, by),
                "agencyReference": {"$ref": agency},
                "agentReference": {"$ref": by},
                "emergencyResourceReference": [{"$ref": rid}],
            }
        )
    document: dict[str, Any] = {
        **_prologue(base, ts, agency, agent(actor, "Dispatching")),
        "eidoVersion": "1.0",
        "issuingElementIdentification": agency,
        "incidentComponent": incident,
        "agencyComponent": [
            {
                **_prologue(agency, ts, agency),
                "agencyRoleDescriptionRegistryText": ["CallReceiving", "Dispatch"],
                "agencyType": ["law"],
                "incidentOwningAgencyIndicator": True,
            }
        ],
        "agentComponent": [
            {
                **_prologue(aid, ts, agency),
                "agentRoleRegistryText": [role],
                "agencyReference": {"$ref": agency},
            }
            for aid, role in agent_ids.items()
        ],
        "@context": CONTEXT,
    }
    for key, value in (
        ("callComponent", calls),
        ("locationComponent", locations),
        ("dispatchComponent", dispatches),
        ("emergencyResourceComponent", resources),
        ("notesComponent", notes),
    ):
        if value:
            document[key] = value
    return document


# --- import ----------------------------------------------------------------------------------


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
    from precinct.calls.common import new_id

    inc = Incident(
        id=new_id("INC", now),
        type=itype,
        category=INCIDENT_TYPES[itype].category,
        priority=prio,
        status="new",
        lat=lat,
        lon=lon,
        address=address,
        summary=str(summary)[:500],
        source="eido",
        external_id=tracking[:256],
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(inc)
    session.flush()
    callbacks = {c.get("$id"): c for c in _as_list(doc.get("callbackComponent"))}
    phones = 0
    for call in _as_list(doc.get("callComponent")):
        cb = callbacks.get(_ref(call.get("callBackReference")))
        phone = None
        uris = (cb or {}).get("callBackInformationUri")
        for uri in uris if isinstance(uris, list) else []:
            if isinstance(uri, str) and uri.startswith("tel:"):
                phone = normalize_phone(uri[4:])
                break
        phones += phone is not None
        received = call.get("callStartTimestamp")
        import datetime as dt

        try:
            when = dt.datetime.fromisoformat(str(received).replace("Z", "+00:00")) if received else now
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.UTC)
        except ValueError:
            when = now
        session.add(
            Call(
                id=new_id("CALL", now),
                incident_id=inc.id,
                external_id=None,
                received_at=when,
                caller_phone=phone,
                lat=lat,
                lon=lon,
                address=address,
                type=itype,
                priority=prio,
                description="",
                created_by=actor,
            )
        )
    session.flush()
    record_event(
        session,
        inc,
        kind="created",
        actor=actor,
        to_status="new",
        now=now,
        detail={"source": "eido", "tracking_id": tracking, "warnings": warnings},
    )
    audit.append(
        session,
        actor=actor,
        role=role,
        action=AuditAction.collection,
        resource="calls.caller",
        params={"incident_id": inc.id, "source": "eido", "phones": phones},
        result_count=phones,
        case_id=inc.id,
        purpose="incident_response",
    )
    return ImportResult(inc.id, True, warnings)
