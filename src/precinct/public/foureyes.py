"""Refusals of the four-eyes rule are audited like any other refusal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from precinct.core.access import refuse
from precinct.core.db import Database
from precinct.core.identity import Principal
from precinct.errors import Forbidden


@contextmanager
def audited_refusals(db: Database, principal: Principal, resource: str) -> Iterator[None]:
    """Turn a :class:`Forbidden` raised inside into an audited refusal.

    Enter it *outside* the transaction (``with audited_refusals(...), db.session() as s:``) so the
    transaction has ended before the refusal is written in its own.
    """
    try:
        yield
    except Forbidden as exc:
        raise refuse(db, actor=principal.username, role=principal.role.value, resource=resource,
                     reason=exc.message, params=exc.detail if isinstance(exc.detail, dict) else None) from None
