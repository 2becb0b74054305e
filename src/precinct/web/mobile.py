"""Lookups of the patrol terminal (``/m/``) that join two domains, mounted by ``precinct.app``.

``GET /api/v1/m/missing-person``: for a missing-person case the caller is on (``X-Case-Id``, purpose
``missing_person``), the person's description (the case summary, read through
:mod:`precinct.cases.service`) and the photos attached to the incidents the case links (read through
:mod:`precinct.command.service`); ``GET /api/v1/m/missing-person/photos/{attachment_id}`` serves one
of those photos. Both are personal-data reads, audited with the case and the purpose before
anything is returned.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from precinct.cases import service as cases
from precinct.command import service as command
from precinct.core.access import AccessGrant, get_db, get_settings_dep, personal_data

router = APIRouter(tags=["patrol terminal"])
PHOTO_URL = "/api/v1/m/missing-person/photos/{id}"


def _case(request: Request, grant: AccessGrant) -> dict[str, Any]:
    with get_db(request).sessionmaker() as s:
        return cases.get_case(s, grant.case_id)


@router.get("/m/missing-person")
def missing_person(
    request: Request, grant: Annotated[AccessGrant, personal_data("m.missing_person")]
) -> dict[str, Any]:
    """The missing person of the case in ``X-Case-Id``: description and photos."""
    case = _case(request, grant)
    incidents = list(case.get("incidents") or [])
    with get_db(request).sessionmaker() as s:
        photos = command.incident_photos(s, incident_ids=incidents)
    grant.record(result_count=len(photos) + 1,
                 params={"case_id": grant.case_id, "incidents": incidents, "photos": [p["id"] for p in photos]})
    return {
        "case_id": case["id"], "title": case["title"], "description": case["summary"],
        "scenes": case["scenes"], "incidents": incidents,
        "photos": [{"id": p["id"], "incident_id": p["incident_id"], "note": p["note"], "width": p["width"],
                    "height": p["height"], "created_at": p["created_at"], "url": PHOTO_URL.format(id=p["id"])}
                   for p in photos],
    }


@router.get("/m/missing-person/photos/{attachment_id}",
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}})
def missing_person_photo(
    request: Request, attachment_id: str, grant: Annotated[AccessGrant, personal_data("m.missing_person")]
) -> Response:
    """One photo of the case's missing person (only a photo attached to an incident the case links)."""
    case = _case(request, grant)
    with get_db(request).sessionmaker() as s:
        data, media = command.incident_photo(s, get_settings_dep(request), attachment_id=attachment_id,
                                             incident_ids=list(case.get("incidents") or []))
    grant.record(result_count=1, params={"case_id": grant.case_id, "attachment_id": attachment_id})
    return Response(data, media_type=media, headers={"Cache-Control": "private, no-store"})
