"""NENA EIDO (Emergency Incident Data Object) export, validation and (in :mod:`.eido_import`) import.

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
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.command.eido_import import ImportResult, import_document
from precinct.command.incidents import calls_of, get_incident
from precinct.command.models import Assignment, Unit
from precinct.command.types import INCIDENT_TYPES, PRIORITIES, Priority
from precinct.core.timeutil import to_iso, utcnow

__all__ = ["DEFAULT_AGENCY", "ImportResult", "export_incident", "import_document", "validate", "validator"]

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
    ts = to_iso(inc.updated_at) or to_iso(utcnow()) or ""
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
                    to_iso(call.received_at) or ts,
                    agency,
                    agent(call.created_by, "Call Taking"),
                ),
                "standardPrimaryCallType": "emergency",
                "direction": "incoming",
                "callStartTimestamp": to_iso(call.received_at),
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
                to_iso(a.cleared_at or a.arrived_at or a.acknowledged_at or a.dispatched_at) or ts,
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
                **_prologue(f"{base}:dispatch:{n}", to_iso(a.dispatched_at) or ts, agency, by),
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
