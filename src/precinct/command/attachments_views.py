"""Routes of scene attachments: a note or a photo posted to an incident, listed and downloaded.

``POST /incidents/{id}/attachments`` takes a raw image body (``image/jpeg``, ``image/png``,
``image/webp``; ``?note=`` and ``?keep_location=true`` as query parameters), a ``text/plain`` note,
a JSON ``{"note", "keep_location"}`` or ``multipart/form-data`` (``file``, ``note``,
``keep_location``). In order, before any work: the request body is cut at
``PRECINCT_MAX_ATTACHMENT_BYTES`` by :class:`precinct.core.limits.BodyLimitMiddleware` (413;
only for roles allowed to attach, others at the small default), the caller must reach the
incident (404), the declared type must be one of these (415); then the body is read, its first
bytes must match the type (415), and the image is re-encoded off the event loop. With an
``Idempotency-Key`` a retried upload (the phone's offline queue) is stored once.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from precinct.command import attachments as att
from precinct.command.common import publish
from precinct.command.idempotency import run_idempotent
from precinct.command.views_common import IdemKey, full_incident
from precinct.core import audit
from precinct.core.access import allow, get_db, get_settings_dep
from precinct.core.identity import Principal
from precinct.core.roles import AuditAction
from precinct.errors import BadInput, UnsupportedMediaType

router = APIRouter(tags=["dispatch"])
MULTIPART = "multipart/form-data"
ACCEPTED = (*att.IMAGE_TYPES, *att.NOTE_TYPES, MULTIPART)


def _refuse_type(ctype: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(
        f"content type {ctype or '(none)'!r} is not accepted; send one of {', '.join(ACCEPTED)}",
        detail={"field": "content-type", "got": ctype, "accepted": list(ACCEPTED)})


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


async def _read(request: Request, ctype: str, note: str | None, keep: bool) -> tuple[bytes | None, str, str, bool]:
    """(image bytes or None, its declared type, note, keep_location) from any accepted body."""
    if ctype in att.IMAGE_TYPES:
        return await request.body(), ctype, note or "", keep
    if ctype == "text/plain":
        return None, "", (await request.body()).decode("utf-8", errors="replace"), keep
    if ctype == "application/json":
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError as exc:
            raise BadInput(f"body: not JSON ({exc})", detail={"field": "body", "reason": "json"}) from exc
        if not isinstance(body, dict) or not isinstance(body.get("note", ""), str):
            raise BadInput("body: expected {\"note\": text}", detail={"field": "note", "reason": "type"})
        return None, "", body.get("note") or note or "", _flag(body.get("keep_location", keep))
    form = await request.form(max_files=1, max_fields=8)
    upload = form.get("file")
    text = form.get("note")
    keep = _flag(form.get("keep_location", keep))
    note = text if isinstance(text, str) else note
    if isinstance(upload, UploadFile):
        part = (upload.content_type or "").split(";")[0].strip().lower()
        if part not in att.IMAGE_TYPES:
            raise _refuse_type(part)
        return await upload.read(), part, note or "", keep
    return None, "", note or "", keep


async def parse_upload(request: Request, *, note: str | None,
                       keep_location: bool) -> tuple[bytes | None, str, str, bool]:
    """Read an attachment upload of any accepted body (the caller has checked access first).

    Returns
    -------
    tuple
        (image bytes or None, their declared type, the cleaned note, keep_location); the image's
        first bytes are checked against its type, it is not decoded yet.

    Raises
    ------
    UnsupportedMediaType
        A content type not accepted, or bytes that are not the declared image type.
    BadInput
        A note too long or a broken JSON body.
    """
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ACCEPTED:
        raise _refuse_type(ctype)
    raw, declared, text, keep = await _read(request, ctype, note, keep_location)
    text = att.clean_note(text)
    if raw is not None:
        att.sniff_image(raw, declared)  # cheap: before decoding
    return raw, declared, text, keep


UPLOAD_BODY: dict[str, Any]  # the OpenAPI request body of an attachment upload (set below)
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_BODY = {"required": True, "content": {
    **{t: _BINARY for t in att.IMAGE_TYPES},
    "text/plain": {"schema": {"type": "string", "maxLength": att.MAX_NOTE_CHARS}},
    "application/json": {"schema": {"type": "object", "properties": {
        "note": {"type": "string", "maxLength": att.MAX_NOTE_CHARS}, "keep_location": {"type": "boolean"}}}},
    MULTIPART: {"schema": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary"}, "note": {"type": "string"},
        "keep_location": {"type": "boolean"}}}},
}}
UPLOAD_BODY = _BODY


@router.post("/incidents/{incident_id}/attachments", status_code=201, openapi_extra={"requestBody": _BODY},
             responses={413: {"description": "body or image too large"}, 415: {"description": "type not accepted"}})
async def create_attachment(
    request: Request,
    incident_id: str,
    principal: Annotated[Principal, allow("attachments.create")],
    note: Annotated[str | None, Query(max_length=att.MAX_NOTE_CHARS, description="a note with the photo")] = None,
    keep_location: Annotated[bool, Query(description="keep the photo's location (EXIF GPS)")] = False,
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """Attach a note or a photo from the scene (the dispatcher sees it at once)."""
    db, settings = get_db(request), get_settings_dep(request)

    def check() -> None:
        with db.sessionmaker() as s:
            att.check_incident_access(s, principal, incident_id)

    await run_in_threadpool(check)
    raw, declared, text, keep = await parse_upload(request, note=note, keep_location=keep_location)
    digest = hashlib.sha256(raw).hexdigest() if raw is not None else None
    payload = {"upload_sha256": digest, "note": text, "keep_location": keep}
    published: dict[str, Any] = {}

    def work() -> tuple[int, dict[str, Any], bool]:
        encoded = att.reencode(raw, declared, keep_location=keep) if raw is not None else None
        sha = att.write_blob(settings, encoded) if encoded is not None else None

        def action(s: Any) -> dict[str, Any]:
            row = att.add_attachment(s, principal=principal, incident_id=incident_id, note=text, image=encoded,
                                     sha256=sha, keep_location=keep)
            view = att.attachment_view(row)
            incident = full_incident(s, incident_id)
            incident["attachments_count"] = att.count_for(s, incident_id)
            # the live board's incidents.* events reach every board reader: name the attachment,
            # never its note or bytes (those are read through the access-checked routes)
            published.update(incident_id=incident_id, incident=incident,
                             attachment={k: view[k] for k in ("id", "kind", "unit_id", "created_at")})
            return view

        out = run_idempotent(db, scope=f"{principal.username}:POST /incidents/{incident_id}/attachments",
                             key=idempotency_key, payload=payload, action=action, status_code=201)
        return out.status_code, out.body, out.replayed

    status, body, replayed = await run_in_threadpool(work)
    if not replayed:
        publish(request.app.state.bus, "incidents.attachment", published)
    return JSONResponse(body, status_code=status, headers={"Idempotent-Replayed": "true"} if replayed else None)


@router.get("/incidents/{incident_id}/attachments")
def list_attachments(
    request: Request, incident_id: str, principal: Annotated[Principal, allow("attachments.read")]
) -> dict[str, Any]:
    """An incident's notes and photos, oldest first (a photo's bytes at its ``url``)."""
    with get_db(request).sessionmaker() as s:
        rows = att.list_attachments(s, principal=principal, incident_id=incident_id)
        return {"incident_id": incident_id, "attachments": [att.attachment_view(r) for r in rows]}


@router.get("/incidents/{incident_id}/attachments/{attachment_id}",
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "text/plain": {}}}})
def download_attachment(
    request: Request, incident_id: str, attachment_id: str,
    principal: Annotated[Principal, allow("attachments.read")],
) -> Response:
    """A photo's bytes (or a note's text); each download is audited."""
    settings = get_settings_dep(request)
    with get_db(request).session() as s:
        row = att.get_attachment(s, principal=principal, incident_id=incident_id, attachment_id=attachment_id)
        audit.append(s, actor=principal.username, role=principal.role.value, action=AuditAction.consultation,
                     resource="attachments", params={"incident_id": incident_id, "attachment_id": attachment_id},
                     result_count=1)
        kind, sha, media, note = row.kind, row.sha256, row.media_type or "text/plain", row.note
    headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
    if kind != "image" or sha is None:
        return Response(note.encode(), media_type="text/plain; charset=utf-8", headers=headers)
    data = att.blob_path(settings, sha, media).read_bytes()
    return Response(data, media_type=media, headers=headers)
