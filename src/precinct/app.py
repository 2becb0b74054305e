"""FastAPI application factory: one app, API under /api/v1, domain routers discovered."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from precinct import __version__
from precinct.config import Settings, get_settings
from precinct.core.access import public
from precinct.core.bus import Bus, make_bus
from precinct.core.db import Database
from precinct.core.health import install_outage_handlers
from precinct.core.limits import BodyLimitMiddleware
from precinct.core.openapi import install_error_docs
from precinct.domains import domain_modules
from precinct.errors import PrecinctError

log = logging.getLogger("precinct")
API_PREFIX = "/api/v1"
WEB_DIR = Path(__file__).resolve().parent / "web"


def _validation_detail(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body",
         "reason": err.get("msg", "invalid"), "location": err.get("loc", ("?",))[0]}
        for err in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PrecinctError)
    async def _precinct_error(_request: Request, exc: PrecinctError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
        return JSONResponse(exc.to_body(), status_code=exc.http_status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = _validation_detail(exc)
        first = detail[0] if detail else {"field": "body", "reason": "invalid"}
        return JSONResponse(
            {"error": "bad_input", "message": f"{first['field']}: {first['reason']}", "detail": detail},
            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated"}
        code = codes.get(exc.status_code, "http_error")
        return JSONResponse({"error": code, "message": str(exc.detail), "detail": None},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # The trace goes to the server log only; the client learns nothing of the internals.
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse({"error": "internal_error", "message": "internal server error", "detail": None},
                            status_code=500)


class MetricsMiddleware:
    """Request count and latency per route, as plain ASGI.

    (Not ``@app.middleware("http")``: Starlette's ``BaseHTTPMiddleware`` relays every body chunk
    through an extra task and memory stream, which made each live-board frame sent to each SSE
    client cost several times its socket write.) Latency is measured to the response's start, so a
    long-lived stream counts once, as the time until it opened.
    """

    def __init__(self, app: Any, *, requests: Counter, latency: Histogram) -> None:
        self.app = app
        self.requests = requests
        self.latency = latency

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        started = False

        def observe(status: int) -> None:
            name = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            self.latency.labels(method, name).observe(time.perf_counter() - start)
            self.requests.labels(method, name, str(status)).inc()

        async def _send(message: Any) -> None:
            nonlocal started
            if not started and message["type"] == "http.response.start":
                started = True
                observe(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, _send)
        finally:
            if not started:
                observe(500)


# The dashboard (/ui) and the field app (/m): no inline scripts, never framed, no type sniffing.
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
     b"frame-ancestors 'none'; img-src 'self' data: blob: https:; style-src 'self' 'unsafe-inline'; "
     b"connect-src 'self'; worker-src 'self' blob:"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeadersMiddleware:
    """Pure ASGI: security headers on the browser-facing pages (``nosniff`` on every response)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        browser = path == "/" or path == "/m" or path.startswith(("/ui", "/m/"))

        async def _send(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", ())}
                extra = SECURITY_HEADERS if browser else SECURITY_HEADERS[2:3]
                message = {**message, "headers": [*message.get("headers", ()),
                                                   *(h for h in extra if h[0] not in present)]}
            await send(message)

        await self.app(scope, receive, _send)


def install_metrics(app: FastAPI) -> CollectorRegistry:
    registry = CollectorRegistry()
    requests = Counter("precinct_http_requests_total", "HTTP requests", ["method", "route", "status"],
                       registry=registry)
    latency = Histogram("precinct_http_request_seconds", "HTTP request latency", ["method", "route"],
                        registry=registry, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
    app.add_middleware(MetricsMiddleware, requests=requests, latency=latency)
    return registry


def system_router(registry: CollectorRegistry) -> APIRouter:
    router = APIRouter(tags=["system"])

    @router.get(f"{API_PREFIX}/health", dependencies=[public])
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "version": __version__}

    @router.get(f"{API_PREFIX}/ready", dependencies=[public], responses={503: {"description": "not ready"}})
    async def ready(request: Request) -> JSONResponse:
        """Readiness: the operations database, the event bus and the warehouse answer."""
        from precinct.core.health import readiness

        ok, body = await readiness(request.app)
        return JSONResponse(body, status_code=200 if ok else 503)

    @router.get("/metrics", dependencies=[public], response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        """Prometheus metrics."""
        return PlainTextResponse(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


def freeze_heap(settings: Settings) -> None:
    """Move everything allocated so far (modules, the road graph) out of the garbage collector's way.

    A full collection over the ~200,000 objects of a started server takes 50-100 ms of CPU, and
    it stops every request while it runs; frozen objects are never scanned again. (Not in tests,
    where many apps come and go in one process.)
    """
    if settings.environment != "test":
        gc.collect()
        gc.freeze()


def create_app(settings: Settings | None = None, *, db: Database | None = None,
               bus: Bus | None = None, migrate: bool = True) -> FastAPI:
    """Build the Precinct API.

    Parameters
    ----------
    settings
        Configuration; defaults to the environment's.
    db
        An operations database to use (tests pass one); defaults to the settings' database.
    bus
        The event bus; defaults to the settings' (in-process unless ``bus_url`` is set).
    migrate
        Run the migrations at start-up.
    """
    settings = settings or get_settings()
    db = db or Database.from_settings(settings)
    if migrate:
        db.migrate()
    from precinct.core.identity import refuse_demo_accounts_in_production

    refuse_demo_accounts_in_production(db, settings)
    bus = bus or make_bus(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await bus.start()
        for hook in getattr(app.state, "startup_hooks", []):
            await hook(app)
        freeze_heap(settings)
        try:
            yield
        finally:
            for hook in getattr(app.state, "shutdown_hooks", []):
                await hook(app)
            await bus.stop()
            # frozen objects are never collected, so at exit native bindings (DuckDB's nanobind)
            # would find theirs still alive and print a wall of "leaked function" warnings
            gc.unfreeze()

    app = FastAPI(title="Precinct", version=__version__, lifespan=lifespan,
                  description="Police operations platform API (情指勤舆督一体化). "
                              "Personal-data routes need X-Case-Id and X-Purpose headers.")
    app.state.settings = settings
    app.state.db = db
    app.state.bus = bus
    app.state.startup_hooks = []
    app.state.shutdown_hooks = []
    install_error_handlers(app)
    install_outage_handlers(app)
    install_error_docs(app)  # the OpenAPI document states every error status and body sent
    registry = install_metrics(app)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(BodyLimitMiddleware)  # outermost: bodies are cut before anything reads them
    app.include_router(system_router(registry))
    for module in domain_modules("views"):
        router = getattr(module, "router", None)
        if router is not None:
            app.include_router(router, prefix=API_PREFIX)
        setup = getattr(module, "setup", None)
        if setup is not None:
            setup(app)
    from precinct.web.routes import router as web_router  # the dashboard's own read-only routes

    app.include_router(web_router, prefix=API_PREFIX)
    from precinct.web.mobile import router as mobile_router  # the patrol terminal's lookups (issue 19)

    app.include_router(mobile_router, prefix=API_PREFIX)
    static = WEB_DIR / "dist"
    if static.is_dir():
        app.mount("/ui", StaticFiles(directory=static, html=True), name="ui")
        if (static / "m").is_dir():  # the patrol terminal (移动警务通, web/m); its sw.js has scope /m/
            app.mount("/m", StaticFiles(directory=static / "m", html=True), name="m")

        @app.get("/", include_in_schema=False, dependencies=[public])
        def _root() -> RedirectResponse:
            return RedirectResponse("/ui/")
    return app


def iter_routes(app: FastAPI) -> list[tuple[str, set[str], Any]]:
    """Every route as (full path, methods, route object), through included routers.

    FastAPI keeps included routers nested (``iter_route_contexts`` flattens them, prefixes
    applied); the route object carries the dependency tree the access rules live in.
    """
    from fastapi.routing import APIWebSocketRoute, iter_route_contexts

    out: list[tuple[str, set[str], Any]] = []
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        if isinstance(route, APIRoute | APIWebSocketRoute):
            methods = set(ctx.methods or ()) if isinstance(route, APIRoute) else {"WEBSOCKET"}
            out.append((str(ctx.path), methods, route))
    return out
