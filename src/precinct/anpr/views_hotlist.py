"""``/api/v1/anpr``: hotlists, the hotlist alerts and the cameras (split from :mod:`precinct.anpr.views`).

The reference data ingest and the queries use: hotlist entries (editing them is audited; reading
them is a ``personal_data`` route), the recent alerts (``personal_data``; the live feed is the
``anpr.alert`` bus event) and the readers' positions (not personal data). Included into the
``anpr`` router by :mod:`precinct.anpr.views`, which gives these routes their tag.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from precinct.anpr import service
from precinct.core.access import AccessGrant, allow, get_db, personal_data
from precinct.core.identity import Principal
from precinct.core.params import RowId
from precinct.errors import BadInput

router = APIRouter()  # no tags here: the including router's "anpr" tag is the one the routes carry


class HotlistIn(BaseModel):
    plate: str = Field(min_length=1, max_length=64)
    reason: str = Field(default="", max_length=256)
    list: str = Field(default="wanted", max_length=64)
    expires_at: dt.datetime | None = None


class HotlistBatch(BaseModel):
    entries: list[HotlistIn] = Field(min_length=1, max_length=100_000)


@router.post("/anpr/hotlist", status_code=201)
def add_hotlist(
    body: HotlistBatch,
    request: Request,
    principal: Annotated[Principal, allow("anpr.hotlist.edit")],
) -> dict[str, Any]:
    """Add hotlist entries (plate, reason, list, expires_at)."""
    for i, e in enumerate(body.entries, start=1):
        if e.expires_at is not None and e.expires_at.tzinfo is None:
            raise BadInput(
                f"entry {i}: expires_at needs an offset", detail={"item": i, "field": "expires_at"}
            )
    added = service.add_hotlist(
        get_db(request),
        [e.model_dump() for e in body.entries],
        actor=principal.username,
        role=principal.role.value,
    )
    return {"added": added}


@router.get("/anpr/hotlist")
def list_hotlist(
    request: Request,
    grant: Annotated[
        AccessGrant,
        personal_data("anpr.hotlist.read"),
    ],
    include_inactive: bool = False,
) -> dict[str, Any]:
    """Hotlist entries (personal data)."""
    entries = service.list_hotlist(get_db(request), include_inactive=include_inactive)
    grant.record(result_count=len(entries), params={"include_inactive": include_inactive})
    return {"entries": entries}


@router.delete("/anpr/hotlist/{entry_id}", status_code=204)
def remove_hotlist(
    entry_id: RowId,
    request: Request,
    principal: Annotated[Principal, allow("anpr.hotlist.edit")],
) -> None:
    """Deactivate a hotlist entry (kept for the record)."""
    service.remove_hotlist(
        get_db(request), entry_id, actor=principal.username, role=principal.role.value
    )


@router.get("/anpr/alerts")
def list_alerts(
    request: Request,
    grant: Annotated[AccessGrant, personal_data("anpr.alerts")],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    since: str | None = None,
) -> dict[str, Any]:
    """Recent hotlist alerts, newest first (the live feed is the ``anpr.alert`` bus event)."""
    alerts = service.list_alerts(
        get_db(request), limit=limit, since=service.parse_time(since, "since") if since else None
    )
    grant.record(result_count=len(alerts), params={"limit": limit, "since": since})
    return {"alerts": alerts}


# --- cameras -----------------------------------------------------------------------------------


class CameraIn(BaseModel):
    camera_id: str = Field(min_length=1, max_length=128)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    name: str | None = Field(default=None, max_length=128)
    kind: str = Field(default="plate", pattern="^(plate|tag)$")


@router.put("/anpr/cameras")
def put_cameras(
    body: list[CameraIn],
    request: Request,
    principal: Annotated[Principal, allow("anpr.cameras.edit")],
) -> dict[str, int]:
    """Add or update readers and their positions."""
    n = service.upsert_cameras(
        get_db(request),
        [c.model_dump() for c in body],
        actor=principal.username,
        role=principal.role.value,
    )
    return {"cameras": n}


@router.get("/anpr/cameras")
def get_cameras(
    request: Request, _p: Annotated[Principal, allow("anpr.cameras.read")]
) -> dict[str, Any]:
    """Readers and their positions (not personal data)."""
    cams = service.cameras(get_db(request), max_age_s=0)
    return {
        "cameras": [{"camera_id": c, "lat": p[0], "lon": p[1]} for c, p in sorted(cams.items())]
    }
