from fastapi.testclient import TestClient


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/api/v1/health").json()["status"] == "ok"
    r = client.get("/api/v1/ready")
    assert r.status_code == 200 and r.json()["database"] == "sqlite"


def test_login_and_me(client: TestClient, auth_headers) -> None:
    h = auth_headers("dispatcher")
    r = client.get("/api/v1/auth/me", headers=h)
    assert r.status_code == 200 and r.json()["role"] == "dispatcher"
