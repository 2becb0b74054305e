"""``/api/v1/anpr``: read ingest and the investigative queries; hotlists, alerts and cameras are in
:mod:`precinct.anpr.views_hotlist`, acknowledging an alert in :mod:`precinct.anpr.views_alerts`.

Every route that returns plates, tags, trajectories or person links is a ``personal_data`` route
(X-Case-Id and X-Purpose required, audited before results leave). Ingest is audited as a
collection, one record per batch. Hotlist alerts are published on the event bus as
``anpr.alert`` (the dispatch live board forwards ``anpr.*``), after the batch is durable.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from precinct.anpr import investigate, parse, service, views_alerts, views_hotlist
from precinct.anpr.fanout import AlertFanout, units_for
from precinct.anpr.queries import DuckEngine
from precinct.config import Settings
from precinct.core.access import AccessGrant, allow, get_db, get_settings_dep, personal_data
from precinct.core.identity import Principal
from precinct.core.jsonbody import FastJSON
from precinct.errors import BadInput, SpillLimit, UnsupportedMediaType

router = APIRouter(tags=["anpr"])
router.include_router(views_alerts.router)  # acknowledging an alert (issue 21)

MAX_BODY = 256 * 1024 * 1024


def _engine(settings: Settings) -> DuckEngine:
    return DuckEngine(service.warehouse(settings))


PARQUET_TYPES = ("application/vnd.apache.parquet", "application/x-parquet")
_INGEST_ERRORS: dict[int | str, dict[str, Any]] = {
    415: {"description": "a Content-Encoding other than gzip (or identity)"},
    422: {"description": "the batch as a whole is malformed, or decompresses past the limits"},
}


def _content_encoding(request: Request) -> str:
    """``gzip`` or ``identity`` from the Content-Encoding header (read before the body); else 415."""
    raw = request.headers.get("content-encoding", "").strip().lower()
    if raw in ("", "identity"):
        return "identity"
    if raw in ("gzip", "x-gzip"):
        return "gzip"
    raise UnsupportedMediaType(
        f"unsupported Content-Encoding {raw!r}: send the body uncompressed or gzip-compressed",
        detail={"field": "content-encoding", "value": raw, "accepted": ["gzip", "identity"]},
    )


def _decoded(body: bytes, encoding: str) -> bytes:
    """The body, gunzipped within ``PRECINCT_MAX_DECOMPRESSED_BYTES`` (before any parsing)."""
    if encoding != "gzip":
        return body
    from precinct.core.limits import gunzip_bounded

    return gunzip_bounded(body, what="gzip request body")


def _iter_source(chunks: Iterator[parse.RawChunk]) -> service.ChunkSource:
    """A chunk source read lazily (a Parquet body is read row group by row group as it is stored)."""
    def _src(consume: Callable[[parse.RawChunk], None], _restart: Callable[[], None]) -> None:
        for chunk in chunks:
            consume(chunk)

    return _src


# --- ingest ------------------------------------------------------------------------------------


@router.post("/anpr/reads", responses=_INGEST_ERRORS)
async def ingest_reads(
    request: Request, principal: Annotated[Principal, allow("anpr.reads")]
) -> dict[str, Any]:
    """Ingest a batch of reads: JSON (``{"reads": [...]}`` or a list), CSV (``text/csv``), Arrow
    IPC (``application/vnd.apache.arrow.stream``) or Parquet (``application/vnd.apache.parquet``).
    Answers once the batch is durable, with counts of stored, duplicate and rejected rows and each
    rejected row's item/line and reason.

    Compressed input is bounded by decompressed bytes and rows (``PRECINCT_MAX_DECOMPRESSED_BYTES``,
    ``PRECINCT_MAX_ROWS``; 422 past them, naming the limit): a ``Content-Encoding: gzip`` body is
    decompressed within the limit before it is parsed (another encoding: 415); Arrow batches are
    counted from their headers before decompression; a Parquet footer is checked before any row
    group is read, then the file is read row group by row group."""
    encoding = _content_encoding(request)
    body = await request.body()
    if len(body) > MAX_BODY:
        raise BadInput(
            f"batch larger than {MAX_BODY // (1024 * 1024)} MiB; split it", detail={"field": "body"}
        )
    ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    db, settings, bus = get_db(request), get_settings_dep(request), request.app.state.bus

    def _work() -> dict[str, Any]:
        data = _decoded(body, encoding)
        source: service.ChunkSource | None = None
        chunks: list[parse.RawChunk] = []
        if ctype in ("text/csv", "application/csv"):
            chunks, unit = parse.parse_csv(data), "line"
        elif ctype.startswith("application/vnd.apache.arrow"):
            chunks, unit = parse.parse_arrow_ipc(data), "row"
        elif ctype in PARQUET_TYPES:
            stream = parse.iter_parquet_body(data)
            first = next(stream, None)  # the footer is checked (and the schema) before anything is stored
            source, unit = _iter_source(itertools.chain([first] if first else [], stream)), "row"
        elif ctype in ("application/json", "text/json", ""):
            chunks, unit = parse.parse_json(data), "item"
        else:
            raise BadInput(
                f"unsupported content type {ctype!r}: use application/json, text/csv, "
                "application/vnd.apache.arrow.stream or application/vnd.apache.parquet",
                detail={"field": "content-type"},
            )

        def _publish(result: service.IngestResult) -> None:
            # the batch is durable: its alerts go out from the fan-out worker, off this request
            fanout_for(request.app, db, settings, bus).submit(result.alerts)

        result = service.ingest(
            db=db,
            wh=service.warehouse(settings),
            source=source or service.chunks_source(chunks),
            actor=principal.username,
            role=principal.role.value,
            origin=f"api:{ctype}",
            after_durable=_publish,
        )
        return result.as_dict(unit)

    return await run_in_threadpool(_work)


@router.post("/anpr/links", responses=_INGEST_ERRORS)
async def ingest_links(
    request: Request, principal: Annotated[Principal, allow("anpr.links")]
) -> dict[str, Any]:
    """Ingest person–vehicle links (DESIGN.md links format: person_id, plate, ts, source, optional
    link_id): JSON (``{"links": [...]}`` or a list) or CSV (``text/csv``). A repeated link_id (or,
    without one, the same person, plate and ts) is stored once. Answers once the batch is durable,
    with stored, duplicate and rejected counts and each rejected row's item/line and reason. A
    ``Content-Encoding: gzip`` body is decompressed within ``PRECINCT_MAX_DECOMPRESSED_BYTES``
    before it is parsed (422 past it; another encoding: 415)."""
    from precinct.anpr import links

    encoding = _content_encoding(request)
    body = await request.body()
    if len(body) > MAX_BODY:
        raise BadInput(
            f"batch larger than {MAX_BODY // (1024 * 1024)} MiB; split it", detail={"field": "body"}
        )
    ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    db, settings = get_db(request), get_settings_dep(request)

    def _work() -> dict[str, Any]:
        data = _decoded(body, encoding)
        if ctype in ("text/csv", "application/csv"):
            chunks, unit = links.parse_csv(data), "line"
        elif ctype in ("application/json", "text/json", ""):
            chunks, unit = links.parse_json(data), "item"
        else:
            raise BadInput(
                f"unsupported content type {ctype!r}: use application/json or text/csv",
                detail={"field": "content-type"},
            )
        result = links.ingest(
            db=db,
            wh=service.warehouse(settings),
            chunks=chunks,
            actor=principal.username,
            role=principal.role.value,
            origin=f"api:{ctype}",
        )
        return result.as_dict(unit)

    return await run_in_threadpool(_work)


router.include_router(views_hotlist.router)  # hotlists, alerts and cameras (views_hotlist.py)


# --- investigative queries ------------------------------------------------------------------------


class AssociateIn(BaseModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_km: float = Field(gt=0, le=500)
    start: str
    end: str
    watchlist: list[str] = Field(default_factory=list, max_length=1_000_000)
    only_watchlist: bool = False
    lookback_days: int = Field(default=14, ge=0, le=366)
    limit: int | None = Field(default=None, ge=1, le=100_000)


@router.post("/anpr/associate", response_class=FastJSON, response_model=None)
def associate(
    body: AssociateIn,
    request: Request,
    grant: Annotated[AccessGrant, personal_data("anpr.associate")],
) -> FastJSON:
    """Vehicle–case association (车案关联): vehicles read within radius_km of a scene in its window,
    watchlist hits first, then by rarity there and closeness in space and time."""
    return FastJSON(
        investigate.associate(grant, _engine(get_settings_dep(request)), **body.model_dump())
    )


class SceneIn(BaseModel):
    case_id: str = Field(min_length=1, max_length=128)
    lat: float
    lon: float
    start: str
    end: str
    radius_km: float | None = Field(default=None, gt=0, le=500)


class SeriesIn(BaseModel):
    cases: list[SceneIn] = Field(min_length=1, max_length=1000)
    min_cases: int = Field(default=2, ge=1, le=1000)
    radius_km: float = Field(default=2.0, gt=0, le=500)


@router.post("/anpr/series", response_class=FastJSON, response_model=None)
def series(
    body: SeriesIn,
    request: Request,
    grant: Annotated[AccessGrant, personal_data("anpr.series")],
) -> FastJSON:
    """Vehicles read near at least ``min_cases`` of the scenes, each in its own window."""
    return FastJSON(
        investigate.series(
            grant,
            _engine(get_settings_dep(request)),
            cases=[c.model_dump() for c in body.cases],
            min_cases=body.min_cases,
            radius_km=body.radius_km,
        )
    )


@router.get("/anpr/trajectory/{plate}", response_class=FastJSON, response_model=None)
def trajectory(
    plate: str,
    start: str,
    end: str,
    request: Request,
    grant: Annotated[AccessGrant, personal_data("anpr.trajectory")],
    paths: bool = True,
) -> FastJSON:
    """A vehicle's reads in order, the likely road path between them, last seen, likely next cameras."""
    settings, db = get_settings_dep(request), get_db(request)
    city = None
    if paths:
        try:
            from precinct.city.service import current_city

            city = current_city(settings)
        except Exception:  # reads still answer without a road graph
            city = None
    return FastJSON(
        investigate.trajectory(
            grant,
            _engine(settings),
            plate=plate,
            start=start,
            end=end,
            paths=paths,
            city=city,
            cameras=service.cameras(db) if city is not None else None,
        )
    )


@router.get("/anpr/convoy/{plate}", response_class=FastJSON, response_model=None)
def convoy(
    plate: str,
    start: str,
    end: str,
    request: Request,
    grant: Annotated[AccessGrant, personal_data("anpr.convoy")],
    max_gap_s: Annotated[float, Query(gt=0, le=3600)] = 60.0,
    min_cameras: Annotated[int, Query(ge=1, le=1000)] = 3,
) -> FastJSON:
    """Vehicles read with the target within ``max_gap_s`` at ``min_cameras`` or more cameras."""
    return FastJSON(
        investigate.convoy(
            grant,
            _engine(get_settings_dep(request)),
            plate=plate,
            start=start,
            end=end,
            max_gap_s=max_gap_s,
            min_cameras=min_cameras,
        )
    )


@router.get("/anpr/cloned", response_class=FastJSON, response_model=None)
def cloned(
    start: str,
    end: str,
    request: Request,
    grant: Annotated[AccessGrant, personal_data("anpr.cloned")],
    plate: str | None = None,
    max_speed_kmh: Annotated[float, Query(gt=0, le=100_000)] = 250.0,
    min_distance_km: Annotated[float, Query(ge=0, le=20_000)] = 1.0,
) -> FastJSON:
    """The same plate at two places too far apart for the time between them."""
    return FastJSON(
        investigate.cloned(
            grant,
            _engine(get_settings_dep(request)),
            start=start,
            end=end,
            plate=plate,
            max_speed_kmh=max_speed_kmh,
            min_distance_km=min_distance_km,
        )
    )


@router.get("/anpr/person-vehicles", response_class=FastJSON, response_model=None)
def person_vehicles(
    request: Request,
    grant: Annotated[AccessGrant, personal_data("anpr.person_links")],
    min_vehicles: Annotated[int, Query(ge=2, le=10_000)] = 5,
    days: Annotated[float, Query(gt=0, le=366)] = 9.0,
    start: str | None = None,
    end: str | None = None,
) -> FastJSON:
    """People linked to at least ``min_vehicles`` distinct vehicles within ``days`` days."""
    return FastJSON(
        investigate.person_vehicles(
            grant,
            _engine(get_settings_dep(request)),
            min_vehicles=min_vehicles,
            days=days,
            start=start,
            end=end,
        )
    )


class PinIn(BaseModel):
    rids: list[Annotated[int, Field(ge=0, le=2**62)]] = Field(min_length=1, max_length=100_000)


@router.post("/anpr/case-reads")
def pin_reads(
    body: PinIn,
    request: Request,
    grant: Annotated[AccessGrant, personal_data("anpr.case_reads")],
) -> dict[str, int]:
    """Tie reads to the case named in X-Case-Id, so retention keeps them."""
    n = service.pin_reads(
        get_db(request),
        case_id=grant.case_id,
        rids=body.rids,
        actor=grant.principal.username,
        role=grant.principal.role.value,
        purpose=grant.purpose.value,
    )
    grant.recorded = True  # pin_reads wrote the audit record (an alteration) in its own transaction
    return {"pinned": n}


_FANOUT_LOCK = threading.Lock()


def fanout_for(app: FastAPI, db: Any, settings: Settings, bus: Any) -> AlertFanout:
    """The app's hotlist-alert fan-out worker (started on first use)."""
    with _FANOUT_LOCK:
        fan: AlertFanout | None = getattr(app.state, "anpr_fanout", None)
        if fan is None:
            fan = AlertFanout(bus.publish, lambda points: units_for(db, settings, points))
            app.state.anpr_fanout = fan
        return fan


def setup(app: FastAPI) -> None:
    """Close this app's warehouse when the app stops (checkpointing it), after publishing the
    alerts still queued for the live board."""

    async def _stop(app: FastAPI) -> None:
        from precinct.core.warehouse import Warehouse

        fan: AlertFanout | None = getattr(app.state, "anpr_fanout", None)
        if fan is not None:
            await run_in_threadpool(fan.close)
            app.state.anpr_fanout = None

        Warehouse.close_for(app.state.settings)

    async def _warm(app: FastAPI) -> None:
        warm = threading.Thread(
            target=_warm_presence_index, args=(app.state.settings,), name="anpr-warm", daemon=True
        )
        warm.start()

    app.state.startup_hooks.append(_warm)
    app.state.shutdown_hooks.append(_stop)


def _warm_presence_index(settings: Settings) -> None:
    """Build the in-memory presence index in the background at start-up, so associations run
    from memory once it is ready (about 13 s at 100 million reads; until then they read the
    presence table's scene days and cells, see :mod:`precinct.anpr.history`). Only an existing
    warehouse is touched (brought to the current schema first); any failure just leaves the
    upgrade and the build to the first query."""
    import logging
    import time

    from precinct.core.warehouse import Warehouse

    log = logging.getLogger("precinct.anpr")
    if not (settings.data_dir / "warehouse" / "precinct.duckdb").exists():
        return
    try:
        from precinct.anpr import history

        wh = Warehouse.for_settings(settings)
        t = time.perf_counter()  # index_for applies pending warehouse migrations first (start-up)
        idx = history.index_for(wh, build=True)  # until it is ready, queries read the presence table
        log.info("presence index ready: %d rows in %.1f s", sum(p.rows for p in idx.parts), time.perf_counter() - t)
    except SpillLimit as exc:  # the index build needs more spill than allowed: say so, queries read the table
        log.warning("presence index not built at start-up: %s", exc.message)
    except Exception as exc:  # the server is stopping, or the warehouse is held elsewhere
        log.debug("presence index not warmed: %s", exc)
