"""``POST /api/v1/incidents/{incident_id}/notes``: a note on an incident (issue 21), retry-safe with an
``Idempotency-Key``; the boards receive the incident (its timeline changed) as ``incidents.updated``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from precinct.command import notes
from precinct.command.idempotency import idempotent_reply
from precinct.command.views_common import IdemKey, full_incident, publish_incident
from precinct.core.access import allow, get_db
from precinct.core.identity import Principal

router = APIRouter(tags=["calls"])


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=notes.MAX_NOTE_CHARS, description="plain text, shown as text")


@router.post("/incidents/{incident_id}/notes", status_code=201)
def add_note(
    request: Request,
    incident_id: str,
    body: NoteIn,
    principal: Annotated[Principal, allow("incidents.notes")],
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """Add a short note to the incident's timeline (author and time recorded)."""
    snapshot: dict[str, Any] = {}

    def action(s: Any) -> dict[str, Any]:
        note = notes.add_note(s, incident_id=incident_id, text=body.text, actor=principal.username)
        snapshot.update(full_incident(s, incident_id))
        return {"note": note}

    return idempotent_reply(
        get_db(request),
        scope=f"{principal.username}:POST /incidents/{incident_id}/notes",
        key=idempotency_key,
        payload=body.model_dump(mode="json"),
        action=action,
        on_commit=lambda: publish_incident(request, "incidents.updated", snapshot),
    )
