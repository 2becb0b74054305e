"""The error side of the OpenAPI document, written in one place from the route table.

Every error the API sends has one body, ``{"error": code, "message": text, "detail": any}``
(:meth:`precinct.errors.PrecinctError.to_body`, the validation handler in :mod:`precinct.app`, the
413 of :class:`precinct.core.limits.BodyLimitMiddleware`, the 503 of the outage handler). This
module documents, for every operation, the error statuses it can give and that body, with the
codes each status carries (read from the :class:`~precinct.errors.PrecinctError` classes), derived
from what the route is:

- an authenticated route (``allow``/``personal_data``): 401 (with ``WWW-Authenticate``) and 403;
- a route naming an object (an id in its path; when authenticated, also an ``id``/``*_id`` query
  parameter or body field): 404;
- a method that may carry a body (POST, PUT, PATCH, DELETE): 413 (every body is cut at its route's
  limit before it is read) and, when authenticated, 409 (the request contradicts current state);
- a route with parameters or a body: 422 (FastAPI's own validation errors are sent as the same body);
- every route that reaches the operations database: 503 (an outage, or an audit record that could not
  be written);
- what a dependency declares with :func:`documents` (the public routes' rate limit: 429);
- what the route declares itself in ``responses=`` (kept, given the error body if it has none).

A ``format`` query parameter (``json|csv|geojson|html|pdf``...) adds the media types it selects to
the operation's success response.

``tests/foundation/test_schemathesis.py`` holds the API to this document (status code, content type,
body and headers of every response).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.routing import APIRoute

from precinct.errors import PrecinctError

ERROR_BODY = "ErrorBody"
_REF = {"$ref": f"#/components/schemas/{ERROR_BODY}"}
_STATUSES_ATTR = "__precinct_error_statuses__"
_WRITE_METHODS = {"post", "put", "patch", "delete"}
_NO_DATABASE = {"/api/v1/health", "/metrics"}
# codes sent by the handlers of errors that are not PrecinctError classes (see precinct.app)
_HANDLER_CODES: dict[int, set[str]] = {
    401: {"not_authenticated"}, 404: {"not_found"}, 405: {"method_not_allowed"},
    422: {"bad_input"}, 500: {"internal_error"}, 503: {"not_ready"},
}
_EXTRA_DESCRIPTIONS: dict[int, str] = {
    401: "no valid bearer token (missing, expired, revoked or ended session)",
    403: "the caller's role may not do this, or a personal-data read lacks a valid case and purpose "
         "(refusals are audited)",
    404: "no such object (or not one the caller may see)",
    409: "the request contradicts current state (an impossible transition, a duplicate)",
    413: "request body larger than the route's limit (cut as it arrives, before it is read)",
    422: "bad input: ``detail`` names the field (for a malformed request, a list of "
         "``{field, reason, location}``)",
    429: "too many requests from this client; retry after ``detail.retry_after_s``",
    503: "the operations database, the warehouse or the audit log is unavailable (retry shortly), or a "
         "warehouse query needed more temporary disk than PRECINCT_WAREHOUSE_MAX_SPILL allows",
}

F = TypeVar("F", bound=Callable[..., Any])


def documents(*statuses: int) -> Callable[[F], F]:
    """Mark a route dependency as one that can answer ``statuses`` (documented on every route using it).

    Parameters
    ----------
    *statuses
        The HTTP error statuses the dependency may raise (e.g. ``429`` for a rate limit).

    Returns
    -------
    Callable
        A decorator returning the dependency unchanged, marked.
    """
    def mark(fn: F) -> F:
        setattr(fn, _STATUSES_ATTR, tuple(statuses))
        return fn
    return mark


def error_codes() -> dict[int, set[str]]:
    """The error codes each HTTP status carries: every PrecinctError class, and the handlers' own.

    Returns
    -------
    dict
        status -> the ``error`` codes a body of that status may have.
    """
    out: dict[int, set[str]] = {k: set(v) for k, v in _HANDLER_CODES.items()}
    stack: list[type[PrecinctError]] = [PrecinctError]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls is not PrecinctError:
            out.setdefault(cls.http_status, set()).add(cls.code)
    return out


def error_body_schema() -> dict[str, Any]:
    """The JSON schema of every error body (``{error, message, detail}``).

    Returns
    -------
    dict
        The schema (``detail`` is anything: a field name, a list of validation errors, null).
    """
    return {
        "title": ERROR_BODY,
        "type": "object",
        "properties": {
            "error": {"type": "string", "description": "stable machine-readable code"},
            "message": {"type": "string", "description": "what went wrong, in words"},
            "detail": {"description": "what and where: a field, a line, a row, a list of validation errors"},
        },
        "required": ["error", "message", "detail"],
    }


def _walk(dependant: Any) -> Iterator[Any]:
    for dep in dependant.dependencies:
        yield dep.call
        yield from _walk(dep)


def _names_an_object(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def _request_field_names(dependant: Any) -> Iterator[str]:
    """Names of the query parameters and top-level body fields of a route (its dependencies' too)."""
    from pydantic import BaseModel

    for p in dependant.query_params:
        yield p.name
    for p in dependant.body_params:
        model = getattr(getattr(p, "field_info", None), "annotation", None)
        if isinstance(model, type) and issubclass(model, BaseModel):
            yield from model.model_fields
        else:
            yield p.name
    for sub in dependant.dependencies:
        yield from _request_field_names(sub)


def route_error_statuses(route: APIRoute, method: str, path: str) -> set[int]:
    """The error statuses ``route`` can answer ``method`` with, derived from what the route is.

    Parameters
    ----------
    route
        The route (its dependency tree carries the access rule).
    method
        The HTTP method, any case.
    path
        The route's full path (prefixes applied).

    Returns
    -------
    set of int
    """
    from precinct.core.access import RoleRule

    calls = list(_walk(route.dependant))
    authenticated = any(isinstance(c, RoleRule) for c in calls)
    statuses: set[int] = set()
    for c in calls:
        statuses.update(getattr(c, _STATUSES_ATTR, ()))
    if authenticated:
        statuses |= {401, 403}
    if route.dependant.path_params or (authenticated and any(
            _names_an_object(n) for n in _request_field_names(route.dependant))):
        statuses.add(404)
    if method.lower() in _WRITE_METHODS:
        statuses.add(413)
        if authenticated:
            statuses.add(409)
    d = route.dependant
    if d.path_params or d.query_params or d.header_params or d.cookie_params or d.body_params or any(
            sub.query_params or sub.header_params or sub.body_params for sub in d.dependencies):
        statuses.add(422)
    if authenticated or (path.startswith("/api/v1/") and path not in _NO_DATABASE):
        statuses.add(503)
    return statuses


def _response(status: int, codes: dict[int, set[str]], existing: dict[str, Any] | None) -> dict[str, Any]:
    out = dict(existing or {})
    known = sorted(codes.get(status, set()))
    base = _EXTRA_DESCRIPTIONS.get(status) or HTTPStatus(status).phrase
    if not out.get("description") or out.get("description") == "Validation Error":
        out["description"] = base
    if known:
        out["description"] = f"{out['description']} (error: {', '.join(known)})"
    content = out.get("content") or {}
    json_schema = (content.get("application/json") or {}).get("schema")
    if not json_schema or json_schema == {"$ref": "#/components/schemas/HTTPValidationError"}:
        body: dict[str, Any] = _REF
        if known:  # the codes this status carries, and no other
            body = {"allOf": [_REF, {"properties": {"error": {"enum": known}}}]}
        out["content"] = {**content, "application/json": {"schema": body}}
    if status == 401:
        out.setdefault("headers", {})["WWW-Authenticate"] = {
            "description": "the scheme to authenticate with", "required": True,
            "schema": {"type": "string", "enum": ["Bearer"]}}
    return out


# a ``format`` query parameter's values -> the media type each answers with
FORMAT_MEDIA_TYPES: dict[str, str] = {
    "json": "application/json", "csv": "text/csv", "geojson": "application/geo+json", "html": "text/html",
    "pdf": "application/pdf", "xml": "application/xml", "cap": "application/cap+xml", "atom": "application/atom+xml",
    "parquet": "application/vnd.apache.parquet", "arrow": "application/vnd.apache.arrow.stream",
    "txt": "text/plain", "text": "text/plain", "png": "image/png",
}


def _format_values(op: dict[str, Any]) -> list[str]:
    """The values of the operation's ``format`` query parameter (from its enum or ``^(a|b)$`` pattern)."""
    for p in op.get("parameters", []):
        if p.get("in") == "query" and p.get("name") == "format":
            sch = p.get("schema") or {}
            if "enum" in sch:
                return [str(v) for v in sch["enum"]]
            m = re.fullmatch(r"\^\(?([\w|]+)\)?\$", sch.get("pattern", ""))
            if m:
                return m.group(1).split("|")
    return []


def document_formats(op: dict[str, Any]) -> None:
    """Add the media types a ``format`` query parameter selects to the operation's success response."""
    media = [FORMAT_MEDIA_TYPES[f] for f in _format_values(op) if f in FORMAT_MEDIA_TYPES]
    ok = next((r for s, r in op["responses"].items() if s.startswith("2")), None)
    if not media or ok is None:
        return
    content = ok.setdefault("content", {})
    for m in media:
        content.setdefault(m, {"schema": {}} if m.endswith("json") else {})


def _routes_by_operation(app: FastAPI) -> dict[tuple[str, str], APIRoute]:
    from fastapi.routing import iter_route_contexts

    out: dict[tuple[str, str], APIRoute] = {}
    for ctx in iter_route_contexts(app.routes):
        if isinstance(ctx.original_route, APIRoute):
            for m in ctx.methods or ():
                out[(str(ctx.path), m.lower())] = ctx.original_route
    return out


def document_errors(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    """Add the error responses of every operation, and the one error body, to ``schema`` (in place).

    Parameters
    ----------
    app
        The application whose routes ``schema`` describes.
    schema
        Its OpenAPI document (as FastAPI generated it).

    Returns
    -------
    dict
        ``schema``, amended.
    """
    codes = error_codes()
    routes = _routes_by_operation(app)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components[ERROR_BODY] = error_body_schema()
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            route = routes.get((path, method))
            responses: dict[str, Any] = op["responses"]
            wanted = route_error_statuses(route, method, path) if route is not None else set()
            wanted |= {int(s) for s in responses if re.fullmatch(r"[45]\d\d", s)}
            for status in wanted:
                responses[str(status)] = _response(status, codes, responses.get(str(status)))
            op["responses"] = dict(sorted(responses.items()))
            document_formats(op)
    # FastAPI's own validation body is never sent (the handler sends ErrorBody): drop its schemas
    used = repr(schema.get("paths"))
    for name in ("HTTPValidationError", "ValidationError"):
        if f"#/components/schemas/{name}'" not in used:
            components.pop(name, None)
    return schema


def install_error_docs(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the document with the error responses added (once per route table).

    Parameters
    ----------
    app
        The application.
    """
    generate = app.openapi
    done: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        schema = generate()  # FastAPI's cached document, regenerated when the route table changes
        if not done or done[0] is not schema:
            document_errors(app, schema)
            done[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
