"""``Idempotency-Key`` support: the key and the response are stored in the change's transaction.

A retried request with the same key (same user, same route) gets the stored response and changes
nothing; the same key with a different body is refused (409), as is an over-long key (422).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from precinct.command.models import IdempotencyKey
from precinct.core.db import Database
from precinct.errors import BadInput, Conflict

MAX_KEY_LENGTH = 128


@dataclass(frozen=True)
class Outcome:
    """What a (possibly replayed) request answers: status, body, and whether it was replayed."""

    status_code: int
    body: dict[str, Any]
    replayed: bool


def request_hash(payload: Any) -> str:
    """SHA-256 of the canonical JSON of a request body."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _lookup(session: Session, *, scope: str, key: str, digest: str) -> Outcome | None:
    row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key))
    if row is None:
        return None
    if row.request_hash != digest:
        raise Conflict(
            "this Idempotency-Key was already used with a different request body",
            detail={"field": "Idempotency-Key", "reason": "reused with another body"},
        )
    return Outcome(row.status_code, json.loads(row.response), True)


def run_idempotent(
    db: Database,
    *,
    scope: str,
    key: str | None,
    payload: Any,
    action: Callable[[Session], dict[str, Any]],
    status_code: int = 201,
) -> Outcome:
    """Run ``action`` in one transaction, or replay the stored response for a repeated key.

    Parameters
    ----------
    db
        The operations database.
    scope
        Who and where (user and route): keys of different users never collide.
    key
        The client's ``Idempotency-Key`` header (None: no idempotency).
    payload
        The request body, hashed to detect a key reused for another request.
    action
        Does the change in the given session and returns the JSON-able response body.
    status_code
        Status of a fresh success.
    """
    if key is not None and not (0 < len(key) <= MAX_KEY_LENGTH):
        raise BadInput(
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} characters",
            detail={"field": "Idempotency-Key", "reason": "length"},
        )
    digest = request_hash(payload)
    try:
        with db.session() as s:
            row = None
            if key is not None:
                hit = _lookup(s, scope=scope, key=key, digest=digest)
                if hit is not None:
                    return hit
                # Claim the key before doing anything: a concurrent request with the same key
                # (a client retrying while its first attempt still runs) now waits on this row
                # and, once that commits, fails on the unique key and replays its answer.
                row = IdempotencyKey(scope=scope, key=key, request_hash=digest, status_code=0, response="")
                s.add(row)
                s.flush()
            body = action(s)
            if row is not None:
                row.status_code = status_code
                row.response = json.dumps(body, ensure_ascii=False, default=str)
                s.flush()
    except IntegrityError:
        if key is None:
            raise
        # A concurrent request with the same key committed first: answer as it did.
        with db.sessionmaker() as s:
            hit = _lookup(s, scope=scope, key=key, digest=digest)
        if hit is None:
            raise
        return hit
    return Outcome(status_code, body, False)


def idempotent_reply(
    db: Database,
    *,
    scope: str,
    key: str | None,
    payload: Any,
    action: Callable[[Session], dict[str, Any]],
    on_commit: Callable[[], None],
    status_code: int = 201,
) -> JSONResponse:
    """The HTTP answer of a retry-safe change: run it (or replay it) with :func:`run_idempotent`.

    ``on_commit`` (publishing the change's events) runs only for a fresh change, after it
    committed; a replay answers the stored body with ``Idempotent-Replayed: true``.
    """
    outcome = run_idempotent(db, scope=scope, key=key, payload=payload, action=action, status_code=status_code)
    if not outcome.replayed:
        on_commit()
    return JSONResponse(
        outcome.body,
        status_code=outcome.status_code,
        headers={"Idempotent-Replayed": "true"} if outcome.replayed else None,
    )
