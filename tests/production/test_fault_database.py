"""PostgreSQL taken away from a worker (through a proxy the test stops): requests fail at once with
503, readiness says why, and the worker recovers by itself when the database is back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from precinct.app import create_app
from precinct.config import Settings
from precinct.core.db import Database

from .tcpproxy import TcpProxy

DOWN_ATTEMPTS = 5


@pytest.fixture
def proxied(pg_url: str, settings: Settings) -> Iterator[tuple[TestClient, TcpProxy, Database]]:
    direct = Database(pg_url)
    direct.migrate()
    direct.dispose()
    url = make_url(pg_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.start()
    via = url.set(host="127.0.0.1", port=proxy.port, query={"connect_timeout": "3"})
    db = Database(via.render_as_string(hide_password=False))
    app = create_app(settings, db=db, migrate=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, proxy, db
    proxy.stop()
    db.dispose()


def test_requests_fail_fast_with_503_and_recover(proxied: tuple[TestClient, TcpProxy, Database],
                                                 settings: Settings) -> None:
    from precinct.core.identity import create_user

    client, proxy, db = proxied
    with db.session() as s:
        create_user(s, username="disp1", role="dispatcher", password="test-password-123")
    token = client.post("/api/v1/auth/token", data={"username": "disp1", "password": "test-password-123"})
    assert token.status_code == 200
    h = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert client.get("/api/v1/incidents", headers=h).status_code == 200
    assert client.get("/api/v1/ready").status_code == 200

    proxy.stop()
    for _ in range(DOWN_ATTEMPTS):  # pooled connections are cut, new ones refused: 503 each time
        r = client.get("/api/v1/incidents", headers=h)
        assert r.status_code == 503, r.text
        assert r.json()["error"] == "not_ready"
    ready = client.get("/api/v1/ready")
    assert ready.status_code == 503 and "database" in ready.json()["detail"]

    proxy.start()  # the database is back: the same worker answers again, no restart
    statuses = [client.get("/api/v1/incidents", headers=h).status_code for _ in range(3)]
    assert statuses[-1] == 200 and set(statuses) <= {200, 503}
    assert client.get("/api/v1/ready").status_code == 200
