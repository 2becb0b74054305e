"""Incident notes (issue 21): a short text a dispatcher or call-taker adds to an incident.

A note is a history event (``kind="note"``, the text in its detail): it is listed in the incident's
timeline with its author and time, and the boards receive it with the incident's
``incidents.updated`` event. Text only: control characters other than line breaks are refused,
surrounding blanks trimmed, at most :data:`MAX_NOTE_CHARS` characters.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from precinct.command.incidents import get_incident, record_event
from precinct.core.timeutil import to_iso, utcnow
from precinct.errors import BadInput

MAX_NOTE_CHARS = 500
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def clean_note(text: str) -> str:
    """The note as stored: trimmed; 422 naming ``text`` when empty, too long or not plain text."""
    out = text.replace("\r\n", "\n").strip()
    if not out:
        raise BadInput("text: the note is empty", detail={"field": "text", "reason": "empty"})
    if len(out) > MAX_NOTE_CHARS:
        raise BadInput(f"text: at most {MAX_NOTE_CHARS} characters", detail={"field": "text", "reason": "too long"})
    if _CONTROL.search(out):
        raise BadInput("text: control characters are not allowed", detail={"field": "text", "reason": "control"})
    return out


def add_note(session: Session, *, incident_id: str, text: str, actor: str) -> dict[str, Any]:
    """Append a note to the incident's history; returns it (``incident_id``, ``ts``, ``actor``, ``text``)."""
    note = clean_note(text)
    incident = get_incident(session, incident_id)
    now = utcnow()
    record_event(session, incident, kind="note", actor=actor, detail={"text": note}, now=now)
    session.flush()
    return {"incident_id": incident.id, "ts": to_iso(now), "actor": actor, "text": note}
