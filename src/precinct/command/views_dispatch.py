"""Dispatch routes: recommendations, dispatch, unit progress and positions, the live board."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel, Field

from precinct.city.service import city_for
from precinct.command import dispatch as dispatching
from precinct.command import incidents as incidents_svc
from precinct.command import paging, units
from precinct.command.board import BoardHub, write_disclosures
from precinct.command.board_policy import access_for
from precinct.command.common import publish
from precinct.command.idempotency import idempotent_reply
from precinct.command.monitors import start_monitors
from precinct.command.paging import CURSOR_HELP, LIMIT_HELP, MAX_PAGE, BoardSnapshot
from precinct.command.recommend import etas_for, recommend
from precinct.command.schemas import (
    DispatchRequest,
    Position,
    UnitAction,
    UnitCreate,
    UnitStatusChange,
)
from precinct.command.views_common import IdemKey, full_incident, publish_incident, publish_units, unit_views
from precinct.core.access import RoleRule, allow, get_db, get_settings_dep, refuse
from precinct.core.identity import Principal, live_sessions
from precinct.core.policy import resource_of, rule_for
from precinct.core.roles import Role
from precinct.core.streams import TICKET_TTL_S, issue_ticket, redeem_ticket
from precinct.errors import BadInput, NotAuthenticated

router = APIRouter(tags=["dispatch"])

_header_token = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
_IN_URL_REFUSED = "bearer tokens are not accepted in URLs; get a stream ticket (POST /api/v1/board/stream-ticket)"


class StreamRule(RoleRule):
    """``allow("board.read")`` for the event stream: the bearer header (non-browser clients) or a
    single-use ``?ticket=`` from ``POST /board/stream-ticket`` (browsers' EventSource cannot set
    headers). A token in the URL is refused."""

    def __call__(
        self,
        request: Request,
        token: Annotated[str | None, Depends(_header_token)],
        ticket: Annotated[str | None, Query(max_length=128, description="single-use stream ticket")] = None,
    ) -> Principal:
        if "access_token" in request.query_params:
            raise NotAuthenticated(_IN_URL_REFUSED, detail={"field": "access_token"})
        if token or not ticket:
            return self.authenticate(request, token)
        principal = redeem_ticket(get_db(request), get_settings_dep(request), ticket)
        if principal.role not in self.roles:
            raise refuse(get_db(request), actor=principal.username, role=principal.role.value,
                         resource=self.resource or "board.read",
                         reason=f"role {principal.role.value} may not use this route")
        return principal


BOARD_STREAM = StreamRule(rule_for("board.read").roles, resource_of("board.read"), "board.read")


class StreamTicketOut(BaseModel):
    ticket: str = Field(description="pass as ?ticket= to GET /board/stream; single use")
    expires_in: int = Field(description="seconds until the ticket expires unused")


def _unit_for(principal: Principal, unit_id: str | None) -> str:
    uid = unit_id or principal.unit_id
    if uid is None:
        raise BadInput("unit_id: name the unit", detail={"field": "unit_id", "reason": "missing"})
    units.check_own_unit(principal, uid)
    return uid


@router.get("/incidents/{incident_id}/recommendations")
def recommendations(
    request: Request,
    incident_id: str,
    principal: Annotated[Principal, allow("dispatch.recommend")],
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    all_types: bool = False,
) -> JSONResponse:
    """Available units ranked by road travel time (fastest first) against the response plan."""
    city = city_for(request.app.state)
    # statement reads: an advisory ranking needs no snapshot across its queries (dispatch re-checks)
    with get_db(request).statement_reads() as s:
        inc = incidents_svc.get_incident(s, incident_id)
        # rendered here, in the worker thread (a dict would be validated in another thread hop
        # and encoded on the event loop)
        return JSONResponse(recommend(s, incident=inc, city=city, limit=limit, all_types=all_types))


@router.post("/incidents/{incident_id}/dispatch", status_code=201)
def dispatch(
    request: Request,
    incident_id: str,
    body: DispatchRequest,
    principal: Annotated[Principal, allow("dispatch.assign")],
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """Send units (all or none). With an Idempotency-Key a retry replays the first answer."""
    city = city_for(request.app.state)
    snapshot: dict[str, Any] = {}
    touched: list[dict[str, Any]] = []

    def action(s: Any) -> dict[str, Any]:
        inc = incidents_svc.get_incident(s, incident_id)
        try:
            etas = etas_for(s, incident=inc, unit_ids=body.unit_ids, city=city)
        except Exception:  # an ETA is a nicety; the dispatch itself must go through
            etas = {}
        made = dispatching.dispatch_units(
            s, incident_id=incident_id, unit_ids=body.unit_ids, actor=principal.username, eta_s=etas
        )
        snapshot.update(full_incident(s, incident_id))
        touched.extend(unit_views(s, body.unit_ids))
        return {
            "incident_id": incident_id,
            "status": snapshot["status"],
            "assignments": [dispatching.assignment_view(a) for a in made],
        }

    def on_commit() -> None:
        publish_incident(request, "incidents.updated", snapshot)
        publish_units(request, touched)

    return idempotent_reply(
        get_db(request),
        scope=f"{principal.username}:POST /incidents/{incident_id}/dispatch",
        key=idempotency_key,
        payload=body.model_dump(mode="json"),
        action=action,
        on_commit=on_commit,
    )


def _unit_step(
    request: Request,
    incident_id: str,
    body: UnitAction,
    principal: Principal,
    step: str,
    idempotency_key: str | None,
) -> JSONResponse:
    unit_id = body.unit_id
    if step != "clear" or principal.role is Role.patrol or unit_id is not None:
        unit_id = _unit_for(principal, unit_id)
    snapshot: dict[str, Any] = {}
    touched: list[dict[str, Any]] = []

    def action(s: Any) -> dict[str, Any]:
        if step == "acknowledge":
            made = [
                dispatching.acknowledge(s, incident_id=incident_id, unit_id=unit_id or "", actor=principal.username)
            ]
        elif step == "arrive":
            made = [dispatching.arrive(s, incident_id=incident_id, unit_id=unit_id or "", actor=principal.username)]
        else:
            made = dispatching.clear(
                s,
                incident_id=incident_id,
                unit_id=unit_id,
                actor=principal.username,
                note=body.note,
            )
        s.flush()
        touched.extend(unit_views(s, [a.unit_id for a in made]))
        snapshot.update(full_incident(s, incident_id))
        return {
            "incident_id": incident_id,
            "status": snapshot["status"],
            "assignments": [dispatching.assignment_view(a) for a in made],
        }

    def on_commit() -> None:
        publish_incident(request, "incidents.updated", snapshot)
        publish_units(request, touched)

    return idempotent_reply(
        get_db(request),
        scope=f"{principal.username}:POST /incidents/{incident_id}/{step}",
        key=idempotency_key,
        payload=body.model_dump(mode="json"),
        action=action,
        on_commit=on_commit,
        status_code=200,
    )


@router.post("/incidents/{incident_id}/acknowledge")
def acknowledge(
    request: Request,
    incident_id: str,
    body: UnitAction,
    principal: Annotated[Principal, allow("dispatch.status")],
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """The unit accepts and is en route (a patrol device for its own unit)."""
    return _unit_step(request, incident_id, body, principal, "acknowledge", idempotency_key)


@router.post("/incidents/{incident_id}/arrive")
def arrive(
    request: Request,
    incident_id: str,
    body: UnitAction,
    principal: Annotated[Principal, allow("dispatch.status")],
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """The unit is on scene."""
    return _unit_step(request, incident_id, body, principal, "arrive", idempotency_key)


@router.post("/incidents/{incident_id}/clear")
def clear(
    request: Request,
    incident_id: str,
    body: UnitAction,
    principal: Annotated[Principal, allow("dispatch.status")],
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """The unit (or, for a dispatcher leaving unit_id out, every unit) clears the incident."""
    return _unit_step(request, incident_id, body, principal, "clear", idempotency_key)


@router.get("/units")
def list_units(
    request: Request,
    principal: Annotated[Principal, allow("units.read")],
    status: str | None = None,
    unit_type: str | None = None,
    station: str | None = None,
) -> dict[str, Any]:
    """Units with their status and latest position."""
    with get_db(request).sessionmaker() as s:
        rows = units.list_units(s, status=status, unit_type=unit_type, station=station)
        return {"units": [units.unit_view(u) for u in rows]}


@router.post("/units", status_code=201)
def create_unit(
    request: Request, body: UnitCreate, principal: Annotated[Principal, allow("units.manage")]
) -> dict[str, Any]:
    """Create a unit (or update its description)."""
    with get_db(request).session() as s:
        unit = units.upsert_unit(
            s,
            id=body.id,
            unit_type=body.unit_type,
            callsign=body.callsign,
            station=body.station,
            group=body.group,
            lat=body.lat,
            lon=body.lon,
        )
        out = units.unit_view(unit)
    publish(request.app.state.bus, "units.updated", {"unit_id": out["id"], "unit": out})
    return out


@router.get("/units/{unit_id}")
def get_unit(request: Request, unit_id: str, principal: Annotated[Principal, allow("units.read")]) -> dict[str, Any]:
    with get_db(request).sessionmaker() as s:
        return units.unit_view(units.get_unit(s, unit_id))


@router.post("/units/{unit_id}/position")
def post_position(
    request: Request, unit_id: str, body: Position, principal: Annotated[Principal, allow("units.position")]
) -> JSONResponse:
    """A unit's GPS fix (a patrol device for its own unit)."""
    units.check_own_unit(principal, unit_id)
    with get_db(request).session() as s:
        unit = units.post_position(s, unit_id=unit_id, lat=body.lat, lon=body.lon, ts=body.ts)
        out = units.unit_view(unit)
    publish(
        request.app.state.bus,
        "units.position",
        {
            "unit_id": unit_id,
            "lat": out["lat"],
            "lon": out["lon"],
            "position_at": out["position_at"],
        },
    )
    return JSONResponse(out)


@router.post("/units/{unit_id}/status")
def unit_status(
    request: Request,
    unit_id: str,
    body: UnitStatusChange,
    principal: Annotated[Principal, allow("units.status")],
) -> dict[str, Any]:
    """Take a unit out of service or back in."""
    units.check_own_unit(principal, unit_id)
    with get_db(request).session() as s:
        out = units.unit_view(units.set_unit_status(s, unit_id=unit_id, status=body.status))
    publish(request.app.state.bus, "units.updated", {"unit_id": unit_id, "unit": out})
    return out


@router.get("/board", response_model=BoardSnapshot)
def board(
    request: Request,
    principal: Annotated[Principal, allow("board.read")],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description=LIMIT_HELP)] = 1000,
    cursor: Annotated[str | None, Query(max_length=512, description=CURSOR_HELP)] = None,
) -> dict[str, Any]:
    """Snapshot for the live board: open incidents (caller numbers masked), units, last event id.

    Open incidents come newest first, a page at a time: follow ``next_cursor`` (pass it as
    ``cursor``) until it is null. Read ``last_event_id`` before the first page and resume the
    event stream from it, so nothing that changes while paging is missed.
    """
    hub: BoardHub | None = getattr(request.app.state, "board_hub", None)
    last = hub.seq if hub else 0
    with get_db(request).sessionmaker() as s:
        rows, nxt = paging.incidents_page(s, limit=limit, cursor=cursor, open_only=True)
        return {
            "last_event_id": last,
            "incidents": paging.board_views(s, rows),
            "next_cursor": nxt,
            "units": [units.unit_view(u) for u in units.list_units(s)],
        }


@router.post("/board/stream-ticket", response_model=StreamTicketOut)
def board_stream_ticket(
    request: Request, principal: Annotated[Principal, allow("board.read")]
) -> StreamTicketOut:
    """A short-lived, single-use ticket for ``GET /board/stream?ticket=...`` bound to the caller's
    session (so no bearer token is ever put in a URL). Ask for a new one before each (re)connect."""
    return StreamTicketOut(ticket=issue_ticket(get_db(request), principal=principal), expires_in=TICKET_TTL_S)


@router.get(
    "/board/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
    openapi_extra={"x-stream": True},
)
async def board_stream(
    request: Request,
    principal: Annotated[Principal, Depends(BOARD_STREAM)],
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """Server-Sent Events: the bus events (incidents.*, units.*, orders.*, anpr.alert, ...) the
    caller may see under the same policy as the REST routes for that data.

    Hotlist alerts (``anpr.*``, which carry plates) reach only the roles ``GET /anpr/alerts``
    allows, and each delivery is audited per recipient; a patrol unit gets only its own orders.

    Authenticate with the bearer header or a ``?ticket=`` from ``POST /board/stream-ticket``
    (tokens in the URL are refused). ``Last-Event-ID`` replays what a reconnecting client missed
    (the last 2,000 events). The stream ends (``board.auth_expired``) within seconds of its
    session ending (logout, expiry).
    """
    hub: BoardHub = request.app.state.board_hub
    client = hub.connect(last_event_id, access=access_for(principal))
    return StreamingResponse(
        hub.stream(client),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


class RedactTickets(logging.Filter):
    """Blanks stream tickets (and any token put in a URL) in access-log lines."""

    _SECRET = re.compile(r"((?:ticket|access_token|token)=)[^&\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(self._SECRET.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                                for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = self._SECRET.sub(r"\1[redacted]", record.msg)
        return True


def redact_access_log() -> None:
    """Install :class:`RedactTickets` on uvicorn's access logger (once)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTickets) for f in logger.filters):
        logger.addFilter(RedactTickets())


def setup(app: FastAPI) -> None:
    """Start the board hub and the overdue monitors with the app (and, outside tests, load the
    road graph in the background); stop them with it."""

    async def _start(app: FastAPI) -> None:
        db, settings = app.state.db, app.state.settings
        redact_access_log()
        hub = BoardHub(app.state.bus, auditor=functools.partial(write_disclosures, db),
                       session_check=lambda sids: live_sessions(db, settings, sids))
        app.state.board_hub = hub
        await hub.start()
        app.state.command_monitors = start_monitors(app)
        if app.state.settings.environment != "test":
            # load the road graph in the background so the first recommendation does not wait
            asyncio.get_running_loop().run_in_executor(None, city_for, app.state)

    async def _stop(app: FastAPI) -> None:
        for task in getattr(app.state, "command_monitors", []):
            task.cancel()
        hub = getattr(app.state, "board_hub", None)
        if hub is not None:
            await hub.stop()

    app.state.startup_hooks.append(_start)
    app.state.shutdown_hooks.append(_stop)
