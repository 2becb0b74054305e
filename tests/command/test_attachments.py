"""Scene attachments (issue 19) through the API, on SQLite and PostgreSQL: a photo re-encoded with
its GPS stripped (or kept when asked), stored under its SHA-256 once, audited and published; notes;
the limits applied before work (413 before the body is read, 415 on the declared type or the
first bytes, the pixel limit before decoding); a patrol unit reaches only its own incidents.
Also the duty rule of positions, the late flag of an unacknowledged dispatch and the route to
one's dispatch. Known answers come from Pillow reading back what the test wrote itself."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from precinct.app import create_app
from precinct.command.dispatch import assignment_view
from precinct.command.models import Assignment, Attachment
from precinct.command.units import upsert_unit
from precinct.config import get_settings
from precinct.core.db import Database
from precinct.core.identity import create_user
from precinct.core.models import AuditRecord

PASSWORD = "test-password-123"
BASE = (32.49, 119.92)
GPS = {1: "N", 2: (32.0, 29.0, 24.0), 3: "E", 4: (119.0, 55.0, 12.0)}  # 32°29'24"N 119°55'12"E
_n = itertools.count()


def photo(fmt: str = "JPEG", size: tuple[int, int] = (64, 48), gps: bool = True) -> bytes:
    """An image with a camera make and a GPS position in its EXIF."""
    im = Image.new("RGB", size, (200, 30, 30))
    im.paste((0, 0, 255), (0, 0, size[0] // 2, size[1] // 3))  # a blue block top left
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    if gps:
        exif[0x8825] = GPS
    out = io.BytesIO()
    im.save(out, format=fmt, exif=exif.tobytes())
    return out.getvalue()


def gps_of(data: bytes) -> dict[int, Any]:
    with Image.open(io.BytesIO(data)) as im:
        return dict(im.getexif().get_ifd(0x8825))


@pytest.fixture
def api(any_db: Database, small_city: Any) -> Iterator[tuple[FastAPI, TestClient]]:
    app = create_app(get_settings(), db=any_db)
    app.state.city = small_city
    with TestClient(app, raise_server_exceptions=False) as c:
        yield app, c


def _login(app: FastAPI, client: TestClient, role: str, unit_id: str | None = None) -> dict[str, str]:
    name = f"a_{role}_{next(_n)}"
    with app.state.db.session() as s:
        create_user(s, username=name, role=role, password=PASSWORD, unit_id=unit_id)
    r = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def scene(api: tuple[FastAPI, TestClient]) -> dict[str, Any]:
    """Units P1 (sent to the incident) and P2 (not), and the logins of both and of a dispatcher."""
    app, client = api
    with app.state.db.session() as s:
        upsert_unit(s, id="P1", lat=BASE[0] + 0.004, lon=BASE[1] - 0.004)
        upsert_unit(s, id="P2", lat=BASE[0], lon=BASE[1])
    disp = _login(app, client, "dispatcher")
    r = client.post("/api/v1/calls", json={"lat": BASE[0], "lon": BASE[1], "type": "theft",
                                           "description": "bike stolen"}, headers=_login(app, client, "call_taker"))
    assert r.status_code == 201, r.text
    inc = r.json()["incident_id"]
    r = client.post(f"/api/v1/incidents/{inc}/dispatch", json={"unit_ids": ["P1"]}, headers=disp)
    assert r.status_code == 201, r.text
    return {"app": app, "client": client, "incident": inc, "dispatcher": disp,
            "p1": _login(app, client, "patrol", "P1"), "p2": _login(app, client, "patrol", "P2")}


def _rows(app: FastAPI) -> int:
    with app.state.db.sessionmaker() as s:
        return int(s.scalar(select(func.count()).select_from(Attachment)) or 0)


def test_photo_reencoded_gps_stripped_stored_once_audited_published(scene: dict[str, Any]) -> None:
    app, client, inc = scene["app"], scene["client"], scene["incident"]
    original = photo()
    assert gps_of(original)[2] == GPS[2]  # the test photo does carry a position
    sent: list[tuple[str, dict[str, Any]]] = []
    real = app.state.bus.publish
    app.state.bus.publish = lambda subject, event: (sent.append((subject, event)), real(subject, event))[1]
    headers = {**scene["p1"], "Content-Type": "image/jpeg", "Idempotency-Key": "photo-1"}
    url = f"/api/v1/incidents/{inc}/attachments?note=%E7%8E%B0%E5%9C%BA"
    first = client.post(url, content=original, headers=headers)
    again = client.post(url, content=original, headers=headers)  # the offline queue's retry
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == first.json()
    view = first.json()
    assert view["kind"] == "image" and view["note"] == "现场" and view["unit_id"] == "P1"
    assert (view["width"], view["height"]) == (64, 48) and view["kept_location"] is False
    assert _rows(app) == 1
    # what is served is what is stored, named by its hash, and has no location (nor camera make)
    got = client.get(view["url"], headers=scene["dispatcher"])
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    assert hashlib.sha256(got.content).hexdigest() == view["sha256"] != hashlib.sha256(original).hexdigest()
    stored = get_settings().data_dir / "attachments" / view["sha256"][:2] / f"{view['sha256']}.jpg"
    assert stored.read_bytes() == got.content
    assert gps_of(got.content) == {}
    with Image.open(io.BytesIO(got.content)) as im:
        assert 0x010F not in im.getexif() and im.size == (64, 48)
        assert im.getpixel((4, 4))[2] > 150 and im.getpixel((60, 40))[0] > 150  # the same picture
    listed = client.get(f"/api/v1/incidents/{inc}/attachments", headers=scene["p1"]).json()["attachments"]
    assert [a["id"] for a in listed] == [view["id"]]
    hist = client.get(f"/api/v1/incidents/{inc}", headers=scene["dispatcher"]).json()["history"]
    assert [h["kind"] for h in hist].count("attachment") == 1
    with app.state.db.sessionmaker() as s:
        audited = s.scalars(select(AuditRecord).where(AuditRecord.resource == "attachments")).all()
    assert [r.action for r in audited].count("collection") == 1 and view["id"] in audited[0].params
    events = [e for subj, e in sent if subj == "incidents.attachment"]
    assert len(events) == 1 and events[0]["attachment"]["id"] == view["id"]
    assert events[0]["incident"]["attachments_count"] == 1
    assert "note" not in events[0]["attachment"] and "sha256" not in events[0]["attachment"]  # every reader gets it


def test_location_kept_when_the_officer_chooses_and_png_by_multipart(scene: dict[str, Any]) -> None:
    client, inc = scene["client"], scene["incident"]
    r = client.post(f"/api/v1/incidents/{inc}/attachments?keep_location=true", content=photo(),
                    headers={**scene["p1"], "Content-Type": "image/jpeg"})
    assert r.status_code == 201, r.text
    assert r.json()["kept_location"] is True
    kept = gps_of(client.get(r.json()["url"], headers=scene["p1"]).content)
    assert kept[1] == "N" and kept[2] == GPS[2] and kept[4] == GPS[4]
    r = client.post(f"/api/v1/incidents/{inc}/attachments", headers=scene["p1"],
                    files={"file": ("a.png", photo("PNG"), "image/png")}, data={"note": "门口"})
    assert r.status_code == 201, r.text
    png = client.get(r.json()["url"], headers=scene["p1"])
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    assert gps_of(png.content) == {} and r.json()["note"] == "门口"


def test_a_large_photo_is_stored_at_most_4096_pixels_long(scene: dict[str, Any]) -> None:
    client, inc = scene["client"], scene["incident"]
    r = client.post(f"/api/v1/incidents/{inc}/attachments", content=photo(size=(6000, 3000)),
                    headers={**scene["p1"], "Content-Type": "image/jpeg"})
    assert r.status_code == 201, r.text
    with Image.open(io.BytesIO(client.get(r.json()["url"], headers=scene["p1"]).content)) as im:
        assert im.size == (4096, 2048) == (r.json()["width"], r.json()["height"])
        assert im.getpixel((100, 100))[2] > 150 and im.getpixel((5000 * 4096 // 6000, 2000))[0] > 150


def test_notes_as_json_and_text(scene: dict[str, Any]) -> None:
    client, inc = scene["client"], scene["incident"]
    r = client.post(f"/api/v1/incidents/{inc}/attachments", json={"note": "车主已联系 owner reached"},
                    headers=scene["p1"])
    assert r.status_code == 201 and r.json()["kind"] == "note" and r.json()["url"] is None, r.text
    r = client.post(f"/api/v1/incidents/{inc}/attachments", content="第二条".encode(),
                    headers={**scene["p1"], "Content-Type": "text/plain; charset=utf-8"})
    assert r.status_code == 201 and r.json()["note"] == "第二条"
    r = client.post(f"/api/v1/incidents/{inc}/attachments", json={"note": "  "}, headers=scene["p1"])
    assert r.status_code == 422 and r.json()["detail"]["field"] == "body"


def test_oversized_refused_before_the_body_is_read(scene: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    app, client, inc = scene["app"], scene["client"], scene["incident"]
    monkeypatch.setenv("PRECINCT_MAX_ATTACHMENT_BYTES", str(64 * 1024))
    url = f"/api/v1/incidents/{inc}/attachments"
    # Driven as raw ASGI so the chunks the server pulls can be counted: 200 × 16 KiB = 3.2 MiB,
    # sent without a length, far past the limit.
    status, pulled, answer = client.portal.call(_stream, app, url, scene["p1"]["Authorization"], 200)
    assert status == 413, answer
    assert json.loads(answer)["detail"]["limit_bytes"] == 64 * 1024
    assert pulled < 200 and (pulled - 1) * 16384 <= 64 * 1024 + 16384  # cut while arriving
    big = b"\xff\xd8\xff" + b"\0" * (100 * 1024)  # declared length past the limit: refused on the header
    r = client.post(url, content=big, headers={**scene["p1"], "Content-Type": "image/jpeg"})
    assert r.status_code == 413
    # the pixel count is read from the header and refused before decoding
    monkeypatch.setenv("PRECINCT_MAX_IMAGE_PIXELS", "10000")
    r = client.post(url, content=photo(size=(200, 100)), headers={**scene["p1"], "Content-Type": "image/jpeg"})
    assert r.status_code == 413 and r.json()["detail"]["limit_pixels"] == 10000
    assert _rows(app) == 0


def test_only_field_roles_get_the_larger_limit(scene: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    app, client, inc = scene["app"], scene["client"], scene["incident"]
    monkeypatch.setenv("PRECINCT_MAX_BODY_BYTES", str(4 * 1024))
    pic = photo(size=(300, 200))
    pic += b"\0" * max(0, 8 * 1024 - len(pic))  # JPEG readers ignore trailing bytes
    analyst = _login(app, client, "analyst")
    r = client.post(f"/api/v1/incidents/{inc}/attachments", content=pic,
                    headers={**analyst, "Content-Type": "image/jpeg"})
    assert r.status_code == 413  # cut at the small default before the 403
    r = client.post(f"/api/v1/incidents/{inc}/attachments", content=pic,
                    headers={**scene["p1"], "Content-Type": "image/jpeg"})
    assert r.status_code == 201, r.text


def test_wrong_type_refused(scene: dict[str, Any]) -> None:
    app, client, inc = scene["app"], scene["client"], scene["incident"]
    url = f"/api/v1/incidents/{inc}/attachments"
    r = client.post(url, content=b"%PDF-1.4 ...", headers={**scene["p1"], "Content-Type": "application/pdf"})
    assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type"
    assert r.json()["detail"]["got"] == "application/pdf"
    r = client.post(url, content=photo("PNG"), headers={**scene["p1"], "Content-Type": "image/jpeg"})
    assert r.status_code == 415 and r.json()["detail"]["field"] == "body"  # the bytes are not a JPEG
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, format="GIF")
    r = client.post(url, headers=scene["p1"], files={"file": ("a.gif", gif.getvalue(), "image/gif")})
    assert r.status_code == 415
    r = client.post(url, content=b"\xff\xd8\xff\xe0 broken", headers={**scene["p1"], "Content-Type": "image/jpeg"})
    assert r.status_code == 422 and r.json()["detail"]["reason"] == "broken image"
    assert _rows(app) == 0


def test_another_unit_gets_not_found(scene: dict[str, Any]) -> None:
    app, client, inc = scene["app"], scene["client"], scene["incident"]
    mine = client.post(f"/api/v1/incidents/{inc}/attachments", json={"note": "P1 here"}, headers=scene["p1"])
    assert mine.status_code == 201
    att = mine.json()["id"]
    for method, url, kw in [
        ("POST", f"/api/v1/incidents/{inc}/attachments", {"json": {"note": "not mine"}}),
        ("POST", f"/api/v1/incidents/{inc}/attachments", {"content": b"%PDF", "headers": {"Content-Type": "x/y"}}),
        ("GET", f"/api/v1/incidents/{inc}/attachments", {}),
        ("GET", f"/api/v1/incidents/{inc}/attachments/{att}", {}),
        ("GET", f"/api/v1/incidents/{inc}/route", {}),
    ]:
        headers = {**scene["p2"], **kw.pop("headers", {})}
        r = client.request(method, url, headers=headers, **kw)
        assert r.status_code == 404 and r.json()["error"] == "not_found", (method, url, r.text)
    assert _rows(app) == 1
    assert client.get(f"/api/v1/incidents/{inc}/attachments/{att}", headers=scene["dispatcher"]).text == "P1 here"
    r = client.get(f"/api/v1/incidents/{inc}/attachments", headers=_login(app, client, "call_taker"))
    assert r.status_code == 403


def test_positions_only_on_duty(scene: dict[str, Any]) -> None:
    client = scene["client"]
    fix = {"lat": BASE[0] + 0.001, "lon": BASE[1] + 0.001}
    with scene["app"].state.db.session() as s:
        upsert_unit(s, id="P3", lat=BASE[0], lon=BASE[1])
    p3 = _login(scene["app"], client, "patrol", "P3")
    assert client.post("/api/v1/units/P3/position", json=fix, headers=p3).status_code == 200
    assert client.post("/api/v1/units/P3/status", json={"status": "out_of_service"}, headers=p3).status_code == 200
    off = {"lat": BASE[0] + 0.002, "lon": BASE[1] + 0.002}
    r = client.post("/api/v1/units/P3/position", json=off, headers=p3)
    assert r.status_code == 409 and r.json()["detail"]["reason"] == "off duty"
    assert client.get("/api/v1/units/P3", headers=p3).json()["lat"] == pytest.approx(fix["lat"])
    assert client.post("/api/v1/units/P3/status", json={"status": "available"}, headers=p3).status_code == 200
    assert client.post("/api/v1/units/P3/position", json=off, headers=p3).status_code == 200


def test_board_rows_carry_acknowledgement_and_late_flag(scene: dict[str, Any]) -> None:
    app, client, inc = scene["app"], scene["client"], scene["incident"]
    threshold = get_settings().ack_late_s
    row = next(i for i in client.get("/api/v1/board", headers=scene["dispatcher"]).json()["incidents"]
               if i["id"] == inc)
    a = next(u for u in row["units"] if u["unit_id"] == "P1")
    sent = dt.datetime.fromisoformat(a["dispatched_at"])
    assert a["acknowledged_at"] is None
    assert dt.datetime.fromisoformat(a["ack_due_at"]) - sent == dt.timedelta(seconds=threshold)
    with app.state.db.sessionmaker() as s:
        assignment = s.scalars(select(Assignment).where(Assignment.incident_id == inc)).one()
        assert assignment_view(assignment, now=sent + dt.timedelta(seconds=threshold - 1))["late"] is False
        assert assignment_view(assignment, now=sent + dt.timedelta(seconds=threshold + 1))["late"] is True
    r = client.post(f"/api/v1/incidents/{inc}/acknowledge", json={}, headers=scene["p1"])
    assert r.status_code == 200, r.text
    a = next(u for u in r.json()["assignments"] if u["unit_id"] == "P1")
    assert a["acknowledged_at"] and a["ack_due_at"] is None and a["late"] is False


def test_route_from_the_unit_to_its_incident(scene: dict[str, Any], small_city: Any) -> None:
    client, inc = scene["client"], scene["incident"]
    r = client.get(f"/api/v1/incidents/{inc}/route", headers=scene["p1"])
    assert r.status_code == 200, r.text
    body = r.json()
    start, end = body["path"][0], body["path"][-1]
    # ends near the unit and the incident (snapped to the road); no shorter than the straight line
    assert _m(start, (BASE[0] + 0.004, BASE[1] - 0.004)) < 150 and _m(end, BASE) < 150
    assert body["length_m"] >= _m((BASE[0] + 0.004, BASE[1] - 0.004), BASE) * 0.95
    assert sum(_m(p, q) for p, q in itertools.pairwise(body["path"])) == pytest.approx(body["length_m"], rel=0.02)
    assert body["time_s"] > 0
    assert client.get(f"/api/v1/incidents/{inc}/route?unit_id=P2", headers=scene["p1"]).status_code == 403


def test_missing_person_description_and_photo_for_a_case_the_officer_is_on(scene: dict[str, Any]) -> None:
    """The case's summary is the description; the photo is one attached to an incident the case
    links (here by the dispatcher); P2 (not sent to that incident) reads it through the case."""
    app, client, inc = scene["app"], scene["client"], scene["incident"]
    with app.state.db.session() as s:
        create_user(s, username="mp_patrol", role="patrol", password=PASSWORD, unit_id="P2")
        create_user(s, username="mp_lead", role="supervisor", password=PASSWORD)
    tok = {u: client.post("/api/v1/auth/token", data={"username": u, "password": PASSWORD}).json()["access_token"]
           for u in ("mp_patrol", "mp_lead")}
    lead, officer = ({"Authorization": f"Bearer {tok[u]}"} for u in ("mp_lead", "mp_patrol"))
    r = client.post("/api/v1/cases", headers=lead, json={
        "title": "走失老人 missing elderly man", "type": "missing_person", "members": ["mp_patrol"],
        "summary": "男，78岁，灰色外套，拄拐杖 / man, 78, grey coat, walking stick"})
    assert r.status_code == 201, r.text
    case = r.json()["id"]
    assert client.post(f"/api/v1/cases/{case}/links", headers=lead,
                       json={"kind": "incident", "id": inc}).status_code in (200, 201)
    family = client.post(f"/api/v1/incidents/{inc}/attachments?note=family%20photo", content=photo(),
                         headers={**scene["dispatcher"], "Content-Type": "image/jpeg"}).json()
    other = client.post("/api/v1/calls", headers=scene["dispatcher"], json={
        "lat": BASE[0], "lon": BASE[1] + 0.01, "type": "theft", "description": "unrelated"}).json()["incident_id"]
    unrelated = client.post(f"/api/v1/incidents/{other}/attachments", content=photo("PNG"),
                            headers={**scene["dispatcher"], "Content-Type": "image/png"}).json()
    grant = {"X-Case-Id": case, "X-Purpose": "missing_person"}
    r = client.get("/api/v1/m/missing-person", headers={**officer, **grant})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["description"].startswith("男，78岁") and [p["id"] for p in body["photos"]] == [family["id"]]
    got = client.get(body["photos"][0]["url"], headers={**officer, **grant})
    assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == family["sha256"]
    # not a photo of this case; no purpose; not on the case; the incident route still says no to P2
    assert client.get(f"/api/v1/m/missing-person/photos/{unrelated['id']}",
                      headers={**officer, **grant}).status_code == 404
    assert client.get("/api/v1/m/missing-person", headers=officer).status_code in (403, 422)
    assert client.get("/api/v1/m/missing-person", headers={**scene["p1"], **grant}).status_code == 403
    assert client.get(family["url"], headers=officer).status_code == 404
    with app.state.db.sessionmaker() as s:
        reads = s.scalars(select(AuditRecord).where(AuditRecord.resource == "cases.missing_person",
                                                    AuditRecord.outcome == "ok")).all()
    assert [(a.case_id, a.purpose) for a in reads] == [(case, "missing_person")] * 2


async def _stream(app: FastAPI, path: str, authorization: str, chunks: int) -> tuple[int, int, bytes]:
    """POST ``chunks`` chunks of 16 KiB (no Content-Length) straight to the ASGI app; (status,
    chunks the server asked for, body)."""
    pulled = 0
    out: dict[str, Any] = {"status": 0, "body": b""}
    path, _, query = path.partition("?")

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"\0" * 16384, "more_body": pulled < chunks}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
             "headers": [(b"authorization", authorization.encode()), (b"content-type", b"image/jpeg"),
                         (b"host", b"testserver")],
             "client": ("127.0.0.1", 1), "server": ("testserver", 80), "app": app}
    await app(scope, receive, send)
    return int(out["status"]), pulled, bytes(out["body"])


def _m(a: Any, b: Any) -> float:
    """Haversine metres (independent of the city code)."""
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(h))


