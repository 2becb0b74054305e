"""Every error Precinct raises on purpose, defined once, mapped once to HTTP and CLI exit codes."""

from __future__ import annotations

from typing import Any


class PrecinctError(Exception):
    """Base of all deliberate errors.

    ``code`` is a stable machine-readable identifier, ``http_status`` the HTTP code the API answers
    with, ``exit_code`` the CLI's exit status. ``detail`` says what and where (field, line, row).
    """

    code = "error"
    http_status = 500
    exit_code = 1

    def __init__(self, message: str, *, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def to_body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "detail": self.detail}


class BadInput(PrecinctError):
    """Malformed input: a row, a coordinate, a timestamp, a field (detail names which)."""

    code = "bad_input"
    http_status = 422
    exit_code = 2


class NotAuthenticated(PrecinctError):
    code = "not_authenticated"
    http_status = 401
    exit_code = 3


class AccountLocked(NotAuthenticated):
    code = "account_locked"


class Forbidden(PrecinctError):
    """The caller's role may not do this, or a personal-data read lacks case id / purpose."""

    code = "forbidden"
    http_status = 403
    exit_code = 4


class NotFound(PrecinctError):
    code = "not_found"
    http_status = 404
    exit_code = 5


class Conflict(PrecinctError):
    """The request contradicts current state (an impossible transition, a duplicate name)."""

    code = "conflict"
    http_status = 409
    exit_code = 6


class Unreachable(PrecinctError):
    """No road path exists between the points asked about."""

    code = "unreachable"
    http_status = 422
    exit_code = 7


class SolverTimeout(PrecinctError):
    """An optimisation ran out of its time limit before it had any solution (detail: the best bound)."""

    code = "solver_timeout"
    http_status = 504
    exit_code = 12


class AuditFailure(PrecinctError):
    """The audit record could not be written, so the request fails (nothing leaves unaudited)."""

    code = "audit_failure"
    http_status = 503
    exit_code = 8


class NotReady(PrecinctError):
    code = "not_ready"
    http_status = 503
    exit_code = 9


class SpillLimit(PrecinctError):
    """A warehouse query needed more temporary disk than ``PRECINCT_WAREHOUSE_MAX_SPILL`` allows; it was
    stopped (a write rolled back whole) and the warehouse is unchanged (detail: the limit, the folder)."""

    code = "spill_limit"
    http_status = 503
    exit_code = 13


class ConfigurationError(PrecinctError):
    code = "configuration_error"
    http_status = 500
    exit_code = 10


class RateLimited(PrecinctError):
    """Too many requests from one client to a public route; try again after ``detail.retry_after_s``."""

    code = "rate_limited"
    http_status = 429
    exit_code = 11


class UnsupportedMediaType(PrecinctError):
    """An upload of a type the route does not take (detail names the type and the accepted ones)."""

    code = "unsupported_media_type"
    http_status = 415
    exit_code = 2
