"""Notes and photos from the scene (移动警务通 issue 19), attached to an incident or a case.

A photo is checked by its first bytes (JPEG, PNG or WebP only), its pixel count is read from the
header and refused past ``PRECINCT_MAX_IMAGE_PIXELS`` *before* it is decoded, and it is re-encoded
with Pillow: what is stored is a fresh JPEG or PNG, turned upright, at most ``MAX_SIDE`` pixels on
its long side (a JPEG is decoded at a reduced scale when it is larger), with no metadata at all unless
the officer chose to keep the location (then the EXIF block, GPS included, is carried over). The
stored bytes are named by their SHA-256 under ``<data_dir>/attachments/`` (the same photo sent
twice is stored once); each attachment is a row of ``attachments`` with an audit record and an
entry in the incident's history, written in one transaction.

Who may reach an incident's attachments: dispatchers and supervisors any incident's; a patrol
unit only those of incidents it is or was dispatched to (another incident is answered as not
found, so ids cannot be probed). A case's attachments (:func:`add_case_attachment` and below) are
reached through the cases domain, which checks that the caller is on the case before calling.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.command.common import new_id
from precinct.command.incidents import get_incident, record_event
from precinct.command.models import Assignment, Attachment
from precinct.config import Settings, get_limits
from precinct.core import audit
from precinct.core.identity import Principal
from precinct.core.limits import PayloadTooLarge
from precinct.core.roles import AuditAction, Role
from precinct.core.timeutil import to_iso, utcnow
from precinct.errors import BadInput, NotFound, UnsupportedMediaType

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
NOTE_TYPES = ("text/plain", "application/json")
MAX_NOTE_CHARS = 4000
_MAGIC = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",), "image/webp": (b"RIFF",)}
_ORIENTATION = 0x0112
MAX_SIDE = 4096  # stored photos are at most this many pixels on their long side


@dataclass(frozen=True)
class Encoded:
    """A re-encoded image: its bytes, media type and size in pixels."""

    data: bytes
    media_type: str
    width: int
    height: int


def store_dir(settings: Settings) -> Path:
    """Where attachment bytes are kept: ``<data_dir>/attachments``."""
    return settings.data_dir / "attachments"


def blob_path(settings: Settings, sha256: str, media_type: str) -> Path:
    """The file of a stored image, named by its SHA-256 (two-level fan-out)."""
    ext = ".png" if media_type == "image/png" else ".jpg"
    return store_dir(settings) / sha256[:2] / f"{sha256}{ext}"


def sniff_image(data: bytes, declared: str) -> None:
    """Refuse (415) bytes that are not the image type they were declared as."""
    if declared not in IMAGE_TYPES:
        raise UnsupportedMediaType(
            f"content type {declared!r} is not accepted; send one of {', '.join(IMAGE_TYPES + NOTE_TYPES)}",
            detail={"field": "content-type", "got": declared, "accepted": list(IMAGE_TYPES + NOTE_TYPES)})
    ok = any(data.startswith(m) for m in _MAGIC[declared])
    if declared == "image/webp":
        ok = ok and data[8:12] == b"WEBP"
    if not ok:
        raise UnsupportedMediaType(
            f"the body is not a {declared} image (its first bytes say otherwise)",
            detail={"field": "body", "declared": declared, "reason": "content does not match the type"})


def reencode(data: bytes, declared: str, *, keep_location: bool) -> Encoded:
    """Decode and re-encode an uploaded image, metadata dropped unless ``keep_location``.

    Raises
    ------
    UnsupportedMediaType
        Not a JPEG, PNG or WebP (by its bytes).
    PayloadTooLarge
        More pixels than ``PRECINCT_MAX_IMAGE_PIXELS`` (read from the header, before decoding).
    BadInput
        A broken image.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    sniff_image(data, declared)
    max_pixels = get_limits().max_image_pixels
    try:
        with Image.open(io.BytesIO(data), formats=("JPEG", "PNG", "WEBP")) as im:
            if im.width * im.height > max_pixels:  # the header only: nothing decoded yet
                raise PayloadTooLarge(
                    f"image of {im.width}×{im.height} pixels is larger than {max_pixels} pixels "
                    "(PRECINCT_MAX_IMAGE_PIXELS); send a smaller photo",
                    detail={"field": "body", "limit_pixels": max_pixels})
            if im.format != "JPEG" and im.width * im.height > max_pixels // 4:  # no draft mode: decoded whole
                raise PayloadTooLarge(
                    f"{im.format} image of {im.width}×{im.height} pixels is larger than {max_pixels // 4} pixels; "
                    "send a JPEG or a smaller image", detail={"field": "body", "limit_pixels": max_pixels // 4})
            exif = im.getexif()
            fmt = im.format
            if fmt == "JPEG":  # decode a large photo at a reduced scale (DCT scaling): less memory and time
                im.draft("RGB", (MAX_SIDE // 2, MAX_SIDE // 2))  # the scale keeps it at least this big
            im.load()
            upright = ImageOps.exif_transpose(im) or im
            if max(upright.size) > MAX_SIDE:
                upright.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise BadInput(f"the image could not be read: {exc}",
                       detail={"field": "body", "reason": "broken image"}) from exc
    png = fmt == "PNG"
    out = io.BytesIO()
    save: dict[str, Any] = {}
    if keep_location and len(exif):
        exif[_ORIENTATION] = 1  # already turned upright
        save["exif"] = exif.tobytes()
    if png:
        img = upright if upright.mode in ("RGB", "RGBA", "L", "LA", "P") else upright.convert("RGBA")
        img.save(out, format="PNG", optimize=False, **save)
        media_type = "image/png"
    else:
        img = upright if upright.mode in ("RGB", "L") else upright.convert("RGB")
        img.save(out, format="JPEG", quality=88, **save)
        media_type = "image/jpeg"
    return Encoded(out.getvalue(), media_type, img.width, img.height)


def write_blob(settings: Settings, encoded: Encoded) -> str:
    """Store the bytes under their SHA-256 (atomically; an existing file is kept) and return it."""
    sha = hashlib.sha256(encoded.data).hexdigest()
    path = blob_path(settings, sha, encoded.media_type)
    if path.exists():
        return sha
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(encoded.data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return sha


def check_incident_access(session: Session, principal: Principal, incident_id: str) -> None:
    """The incident exists and ``principal`` may reach it (a patrol unit: one it was sent to)."""
    get_incident(session, incident_id)
    if principal.role is Role.patrol:
        sent = session.scalar(select(Assignment.id).where(
            Assignment.incident_id == incident_id, Assignment.unit_id == (principal.unit_id or "")).limit(1))
        if sent is None:
            raise NotFound(f"no incident {incident_id!r}", detail={"field": "incident_id"})


def clean_note(note: str | None) -> str:
    """A note's text, stripped; refused past ``MAX_NOTE_CHARS``."""
    text = (note or "").strip()
    if len(text) > MAX_NOTE_CHARS:
        raise BadInput(f"note: at most {MAX_NOTE_CHARS} characters", detail={"field": "note", "reason": "too long"})
    return text


def attachment_view(a: Attachment) -> dict[str, Any]:
    """JSON of an attachment (its bytes at ``url``)."""
    return {
        "id": a.id,
        "incident_id": a.incident_id,
        "case_id": a.case_id,
        "kind": a.kind,
        "media_type": a.media_type,
        "sha256": a.sha256,
        "size_bytes": a.size_bytes,
        "width": a.width,
        "height": a.height,
        "note": a.note,
        "kept_location": a.kept_location,
        "unit_id": a.unit_id,
        "created_by": a.created_by,
        "created_at": to_iso(a.created_at),
        "url": (None if a.kind != "image" else f"/api/v1/cases/{a.case_id}/attachments/{a.id}" if a.case_id
                else f"/api/v1/incidents/{a.incident_id}/attachments/{a.id}"),
    }


def add_attachment(
    session: Session,
    *,
    principal: Principal,
    incident_id: str,
    note: str,
    image: Encoded | None,
    sha256: str | None,
    keep_location: bool,
) -> Attachment:
    """Record a note or a stored photo on an incident, with an audit record and a history entry.

    Raises
    ------
    BadInput
        Neither a photo nor a note.
    NotFound
        No such incident, or (patrol) not one the unit was sent to.
    """
    check_incident_access(session, principal, incident_id)
    if image is None and not note:
        raise BadInput("send a photo or a note (both are empty)", detail={"field": "body", "reason": "empty"})
    now = utcnow()
    row = Attachment(
        id=new_id("ATT", now), incident_id=incident_id, kind="image" if image else "note",
        sha256=sha256, media_type=image.media_type if image else "text/plain",
        size_bytes=len(image.data) if image else len(note.encode()), width=image.width if image else None,
        height=image.height if image else None, note=note, kept_location=bool(image and keep_location),
        unit_id=principal.unit_id if principal.role is Role.patrol else None,
        created_by=principal.username, created_at=now)
    session.add(row)
    record_event(session, get_incident(session, incident_id), kind="attachment", actor=principal.username,
                 unit_id=row.unit_id, detail={"attachment_id": row.id, "kind": row.kind}, now=now)
    session.flush()
    audit.append(session, actor=principal.username, role=principal.role.value, action=AuditAction.collection,
                 resource="attachments", params={"incident_id": incident_id, "attachment_id": row.id,
                                                 "kind": row.kind, "sha256": sha256,
                                                 "kept_location": row.kept_location},
                 result_count=1)
    return row


def list_attachments(session: Session, *, principal: Principal, incident_id: str) -> list[Attachment]:
    """An incident's attachments, oldest first."""
    check_incident_access(session, principal, incident_id)
    return list(session.scalars(select(Attachment).where(Attachment.incident_id == incident_id)
                                .order_by(Attachment.created_at, Attachment.id)).all())


def get_attachment(session: Session, *, principal: Principal, incident_id: str, attachment_id: str) -> Attachment:
    """One attachment of an incident (NotFound for another incident's, or an unreachable one)."""
    check_incident_access(session, principal, incident_id)
    row = session.get(Attachment, attachment_id)
    if row is None or row.incident_id != incident_id:
        raise NotFound(f"no attachment {attachment_id!r} on {incident_id}", detail={"field": "attachment_id"})
    return row


def count_for(session: Session, incident_id: str) -> int:
    """How many attachments an incident has."""
    return len(session.scalars(select(Attachment.id).where(Attachment.incident_id == incident_id)).all())


def image_views(session: Session, *, incident_ids: list[str]) -> list[Attachment]:
    """The photos attached to any of these incidents, oldest first (no access check: for a caller
    that has checked its own, e.g. a personal-data read bound to a case linking them)."""
    if not incident_ids:
        return []
    return list(session.scalars(select(Attachment).where(Attachment.incident_id.in_(incident_ids),
                                                         Attachment.kind == "image")
                                .order_by(Attachment.created_at, Attachment.id)).all())


def image_file(session: Session, settings: Settings, *, attachment_id: str,
               incident_ids: list[str]) -> tuple[bytes, str]:
    """(bytes, media type) of a photo attached to one of ``incident_ids`` (NotFound otherwise)."""
    row = session.get(Attachment, attachment_id)
    if row is None or row.kind != "image" or row.incident_id not in incident_ids or row.sha256 is None:
        raise NotFound(f"no photo {attachment_id!r} here", detail={"field": "attachment_id"})
    media = row.media_type or "image/jpeg"
    return blob_path(settings, row.sha256, media).read_bytes(), media


# --- a case's attachments (the cases domain checks membership first, through command.service) ---

def add_case_attachment(
    session: Session,
    *,
    case_id: str,
    by: str,
    role: str,
    unit_id: str | None,
    note: str,
    image: Encoded | None,
    sha256: str | None,
    keep_location: bool,
) -> Attachment:
    """Record a note or a stored photo on a case, audited under the case (the caller checked access).

    Raises
    ------
    BadInput
        Neither a photo nor a note.
    """
    if image is None and not note:
        raise BadInput("send a photo or a note (both are empty)", detail={"field": "body", "reason": "empty"})
    now = utcnow()
    row = Attachment(
        id=new_id("ATT", now), incident_id=None, case_id=case_id, kind="image" if image else "note",
        sha256=sha256, media_type=image.media_type if image else "text/plain",
        size_bytes=len(image.data) if image else len(note.encode()), width=image.width if image else None,
        height=image.height if image else None, note=note, kept_location=bool(image and keep_location),
        unit_id=unit_id, created_by=by, created_at=now)
    session.add(row)
    session.flush()
    audit.append(session, actor=by, role=role, action=AuditAction.collection, resource="attachments",
                 params={"case_id": case_id, "attachment_id": row.id, "kind": row.kind, "sha256": sha256,
                         "kept_location": row.kept_location},
                 result_count=1, case_id=case_id)
    return row


def case_attachments(session: Session, *, case_id: str) -> list[Attachment]:
    """A case's attachments, oldest first (the caller checked access)."""
    return list(session.scalars(select(Attachment).where(Attachment.case_id == case_id)
                                .order_by(Attachment.created_at, Attachment.id)).all())


def case_attachment(session: Session, *, case_id: str, attachment_id: str) -> Attachment:
    """One attachment of a case (NotFound for another case's or an incident's)."""
    row = session.get(Attachment, attachment_id)
    if row is None or row.case_id != case_id:
        raise NotFound(f"no attachment {attachment_id!r} on case {case_id}", detail={"field": "attachment_id"})
    return row


def attachment_content(settings: Settings, row: Attachment) -> tuple[bytes, str]:
    """(bytes, media type) of an attachment: a photo's stored file, or a note's UTF-8 text."""
    if row.kind != "image" or row.sha256 is None:
        return row.note.encode(), "text/plain; charset=utf-8"
    media = row.media_type or "image/jpeg"
    return blob_path(settings, row.sha256, media).read_bytes(), media
