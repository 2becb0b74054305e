"""Notes and photos on a case (issue 19: "attached to an incident or case"): ``POST/GET
/cases/{case_id}/attachments`` and ``GET /cases/{case_id}/attachments/{attachment_id}``.

Only the case's lead and members reach them (anyone else: 403, audited; no such case: 404); adding
one needs the case open (a retried upload with the same ``Idempotency-Key`` is stored once). Every
read (the list and each download) is audited under the case. The body is read as for an incident's
attachments (the same limits, 413 and 415) and the photo goes to the same store, through
:mod:`precinct.command.service`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from precinct.cases.base import _case, _is_member, _open_case_row
from precinct.command import service as command
from precinct.core import audit
from precinct.core.access import allow, get_db, get_settings_dep, refuse
from precinct.core.db import Database
from precinct.core.identity import Principal
from precinct.core.roles import AuditAction, Role
from precinct.errors import Forbidden

router = APIRouter(tags=["cases"])
MAX_NOTE_CHARS = 4000


def require_member(session: Any, *, case_id: str, username: str, open_only: bool = False) -> None:
    """The case exists (NotFound) and ``username`` leads it or is a member of it (Forbidden)."""
    case = _open_case_row(session, case_id, "add an attachment") if open_only else _case(session, case_id)
    if not _is_member(session, case, username):
        raise Forbidden(f"{username} is not on case {case_id}", detail={"field": "case_id", "case_id": case_id})


@contextmanager
def _audited(db: Database, principal: Principal, case_id: str) -> Iterator[None]:
    try:
        yield
    except Forbidden as exc:
        raise refuse(db, actor=principal.username, role=principal.role.value, resource="attachments",
                     reason=exc.message, case_id=case_id[:128]) from None


@router.post("/cases/{case_id}/attachments", status_code=201,
             openapi_extra={"requestBody": command.ATTACHMENT_UPLOAD_BODY},
             responses={413: {"description": "body or image too large"}, 415: {"description": "type not accepted"}})
async def create_case_attachment(
    request: Request,
    case_id: str,
    principal: Annotated[Principal, allow("cases.attachments.create")],
    note: Annotated[str | None, Query(max_length=MAX_NOTE_CHARS, description="a note with the photo")] = None,
    keep_location: Annotated[bool, Query(description="keep the photo's location (EXIF GPS)")] = False,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key",
                                                  description="retry-safe request key")] = None,
) -> JSONResponse:
    """Attach a note or a photo to a case the caller is on (lead or member); with an
    ``Idempotency-Key`` a retried upload is stored once."""
    db, settings = get_db(request), get_settings_dep(request)

    def check() -> None:
        with _audited(db, principal, case_id), db.sessionmaker() as s:
            require_member(s, case_id=case_id, username=principal.username, open_only=True)

    await run_in_threadpool(check)  # before the body is read
    raw, declared, text, keep = await command.parse_attachment_upload(request, note=note,
                                                                        keep_location=keep_location)

    payload = {"upload_sha256": hashlib.sha256(raw).hexdigest() if raw is not None else None, "note": text,
               "keep_location": keep}

    def work() -> tuple[int, dict[str, Any], bool]:
        encoded, sha = (command.store_photo(settings, data=raw, declared=declared, keep_location=keep)
                        if raw is not None else (None, None))

        def action(s: Any) -> dict[str, Any]:
            require_member(s, case_id=case_id, username=principal.username, open_only=True)
            row = command.add_case_attachment(
                s, case_id=case_id, by=principal.username, role=principal.role.value,
                unit_id=principal.unit_id if principal.role is Role.patrol else None, note=text, image=encoded,
                sha256=sha, keep_location=keep)
            return command.attachment_view(row)

        with _audited(db, principal, case_id):
            out = command.run_idempotent(db, scope=f"{principal.username}:POST /cases/{case_id}/attachments",
                                         key=idempotency_key, payload=payload, action=action, status_code=201)
        return out.status_code, out.body, out.replayed

    status, body, replayed = await run_in_threadpool(work)
    return JSONResponse(body, status_code=status, headers={"Idempotent-Replayed": "true"} if replayed else None)


@router.get("/cases/{case_id}/attachments")
def list_case_attachments(
    request: Request, case_id: str, principal: Annotated[Principal, allow("cases.attachments.read")]
) -> dict[str, Any]:
    """A case's notes and photos, oldest first (a photo's bytes at its ``url``); audited."""
    db = get_db(request)
    with _audited(db, principal, case_id), db.session() as s:
        require_member(s, case_id=case_id, username=principal.username)
        rows = command.case_attachments(s, case_id=case_id)
        audit.append(s, actor=principal.username, role=principal.role.value, action=AuditAction.consultation,
                     resource="attachments", params={"case_id": case_id}, result_count=len(rows),
                     case_id=case_id)
    return {"case_id": case_id, "attachments": rows}


@router.get("/cases/{case_id}/attachments/{attachment_id}",
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "text/plain": {}}}})
def download_case_attachment(
    request: Request, case_id: str, attachment_id: str,
    principal: Annotated[Principal, allow("cases.attachments.read")],
) -> Response:
    """A photo's bytes (or a note's text); each download is audited under the case."""
    db = get_db(request)
    with _audited(db, principal, case_id), db.session() as s:
        require_member(s, case_id=case_id, username=principal.username)
        row = command.case_attachment(s, case_id=case_id, attachment_id=attachment_id)
        audit.append(s, actor=principal.username, role=principal.role.value, action=AuditAction.consultation,
                     resource="attachments", params={"case_id": case_id, "attachment_id": attachment_id},
                     result_count=1, case_id=case_id)
        data, media = command.attachment_content(get_settings_dep(request), row)
    headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type=media, headers=headers)
