"""Stream tickets: how a browser opens the live board without putting its bearer token in a URL.

An ``EventSource`` cannot send an ``Authorization`` header, and a token in a query string ends up
in access logs, proxies and browser history. So a client first asks for a ticket with its bearer
header (``POST /board/stream-ticket``) and opens the stream with ``?ticket=...``. A ticket

- is random (256 bits), and only its SHA-256 is stored;
- is bound to the session it was issued to (the stream lives only as long as that session);
- expires after :data:`TICKET_TTL_S` seconds and can be redeemed once (an atomic
  ``UPDATE ... WHERE used_at IS NULL AND expires_at > now``, on SQLite and PostgreSQL alike);
- is kept in the operations database, so any API worker can redeem it.

Logging out publishes :data:`SESSIONS_REVOKED` with the session's digest (never the session id)
so every worker's live board ends that session's streams at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import cast

from sqlalchemy import Table, delete, insert, update

from precinct.config import Settings
from precinct.core.db import Database, utcnow
from precinct.core.identity import Principal, session_principal
from precinct.core.models import StreamTicket
from precinct.errors import NotAuthenticated

TICKET_TTL_S = 30
SESSIONS_REVOKED = "sessions.revoked"
_TICKETS = cast(Table, StreamTicket.__table__)
_REFUSED = "stream ticket unknown, already used or expired; ask for a new one (POST /api/v1/board/stream-ticket)"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def session_digest(session_id: str) -> str:
    """The name a session goes by on the bus (its SHA-256, so the id itself is never published)."""
    return _digest("session:" + session_id)


def issue_ticket(db: Database, *, principal: Principal, ttl_s: int = TICKET_TTL_S) -> str:
    """A new single-use ticket for ``principal``'s session (expired tickets are purged here).

    Raises
    ------
    NotAuthenticated
        When the principal has no session (a CLI user).
    """
    if not principal.session_id:
        raise NotAuthenticated("a stream ticket needs a login session")
    ticket = secrets.token_urlsafe(32)
    now = utcnow()
    with db.session() as s:
        s.execute(delete(_TICKETS).where(_TICKETS.c.expires_at < now - dt.timedelta(minutes=5)))
        s.execute(insert(_TICKETS), [{"id": _digest(ticket), "session_id": principal.session_id,
                                      "created_at": now, "expires_at": now + dt.timedelta(seconds=ttl_s),
                                      "used_at": None}])
    return ticket


def redeem_ticket(db: Database, settings: Settings, ticket: str) -> Principal:
    """The principal of the session ``ticket`` was issued to; the ticket is used up.

    Raises
    ------
    NotAuthenticated
        When the ticket is unknown, used, expired, or its session has ended.
    """
    if not ticket or len(ticket) > 128:
        raise NotAuthenticated(_REFUSED)
    now = utcnow()
    with db.session() as s:
        sid = s.execute(
            update(_TICKETS)
            .where(_TICKETS.c.id == _digest(ticket), _TICKETS.c.used_at.is_(None), _TICKETS.c.expires_at > now)
            .values(used_at=now)
            .returning(_TICKETS.c.session_id)
        ).scalar_one_or_none()
    if sid is None:
        raise NotAuthenticated(_REFUSED)
    return session_principal(db, settings, sid, touch=False)
