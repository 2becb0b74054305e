"""PostgreSQL pool: no ping per checkout, yet an idle connection the server dropped is replaced."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from precinct.core import db as core_db
from precinct.core.db import Database


def _backend_pid(database: Database) -> int:
    with database.engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_idle_connection_killed_by_server_is_replaced(pg_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    victim = pg_db.engine.connect()
    pid = int(victim.execute(text("SELECT pg_backend_pid()")).scalar_one())
    victim.rollback()
    with pg_db.engine.connect() as killer:  # a second pooled connection
        victim.close()  # back to the pool, first in line
        killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killer.commit()
    monkeypatch.setattr(core_db, "PING_AFTER_IDLE_S", 0.0)  # every pooled connection now counts as idle
    for _ in range(3):  # whichever pooled connection comes out, the query runs on a live one
        assert _backend_pid(pg_db) != pid


def test_connection_in_steady_use_is_not_pinged(pg_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    _backend_pid(pg_db)  # the pool holds a connection that was just used
    pings = 0
    real_ping = pg_db.engine.dialect.do_ping

    def ping(dbapi_conn: object) -> bool:
        nonlocal pings
        pings += 1
        return real_ping(dbapi_conn)

    monkeypatch.setattr(pg_db.engine.dialect, "do_ping", ping)
    _backend_pid(pg_db)
    assert pings == 0
    monkeypatch.setattr(core_db, "PING_AFTER_IDLE_S", 0.0)
    _backend_pid(pg_db)
    assert pings == 1


def test_statement_reads_run_outside_a_transaction(pg_db: Database) -> None:
    with pg_db.statement_reads() as s:
        s.execute(text("SELECT 1"))
        # autocommit: the connection is not left inside a transaction between statements
        assert s.connection().connection.dbapi_connection.info.transaction_status == 0  # type: ignore[union-attr]
    with pg_db.sessionmaker() as s:
        s.execute(text("SELECT 1"))
        assert s.connection().connection.dbapi_connection.info.transaction_status != 0  # type: ignore[union-attr]
