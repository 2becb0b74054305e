"""Notes and photos on a case (issue 19), on SQLite and PostgreSQL: the case's lead and members add,
list and download them (a photo re-encoded, its GPS stripped, stored once under its SHA-256); anyone
else is refused (403, audited) and an unknown case is 404; every read is audited under the case; the
limits (413) and the type checks (415) are those of an incident's attachments. Known answers come
from Pillow reading back what the test wrote itself and from hashlib."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from precinct.app import create_app
from precinct.command.models import Attachment
from precinct.config import get_settings
from precinct.core.db import Database
from precinct.core.identity import create_user
from precinct.core.models import AuditRecord

PASSWORD = "test-password-123"
GPS = {1: "N", 2: (32.0, 29.0, 24.0), 3: "E", 4: (119.0, 55.0, 12.0)}
_n = itertools.count()


def photo(fmt: str = "JPEG", size: tuple[int, int] = (64, 48)) -> bytes:
    """An image with a camera make and a GPS position in its EXIF."""
    im = Image.new("RGB", size, (200, 30, 30))
    im.paste((0, 0, 255), (0, 0, size[0] // 2, size[1] // 3))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = GPS
    out = io.BytesIO()
    im.save(out, format=fmt, exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture
def world(any_db: Database) -> Iterator[dict[str, Any]]:
    """A case led by a detective with a patrol officer on it; an outsider patrol officer and analyst."""
    app: FastAPI = create_app(get_settings(), db=any_db)
    with TestClient(app, raise_server_exceptions=False) as client:
        people: dict[str, Any] = {}
        for key, role, unit in (("lead", "analyst", None), ("officer", "patrol", "P1"),
                                ("outsider", "patrol", "P2"), ("analyst", "analyst", None)):
            name = f"ca_{key}_{next(_n)}"
            with app.state.db.session() as s:
                create_user(s, username=name, role=role, password=PASSWORD, unit_id=unit)
            r = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
            assert r.status_code == 200, r.text
            people[key] = {"Authorization": f"Bearer {r.json()['access_token']}"}
            people[key + "_name"] = name
        r = client.post("/api/v1/cases", headers=people["lead"],
                        json={"title": "bike thefts, east market", "type": "theft",
                              "members": [people["officer_name"]]})
        assert r.status_code == 201, r.text
        yield {"app": app, "client": client, "case": r.json()["id"], **people}


def _rows(app: FastAPI) -> int:
    with app.state.db.sessionmaker() as s:
        return int(s.scalar(select(func.count()).select_from(Attachment)) or 0)


def _audits(app: FastAPI, case_id: str, action: str) -> list[AuditRecord]:
    with app.state.db.sessionmaker() as s:
        return list(s.scalars(select(AuditRecord).where(AuditRecord.resource == "attachments",
                                                        AuditRecord.case_id == case_id,
                                                        AuditRecord.action == action)))


def test_members_add_list_and_download(world: dict[str, Any]) -> None:
    app, client, case = world["app"], world["client"], world["case"]
    url = f"/api/v1/cases/{case}/attachments"
    original = photo()
    r = client.post(url + "?note=%E7%8E%B0%E5%9C%BA", content=original,
                    headers={**world["officer"], "Content-Type": "image/jpeg"})
    assert r.status_code == 201, r.text
    pic = r.json()
    assert pic["case_id"] == case and pic["incident_id"] is None and pic["unit_id"] == "P1"
    assert pic["note"] == "现场" and pic["url"] == f"{url}/{pic['id']}"
    r = client.post(url, json={"note": "车主已联系"}, headers=world["lead"])
    assert r.status_code == 201 and r.json()["kind"] == "note" and r.json()["url"] is None, r.text
    # the phone's offline queue retries with the same key: stored once, the first answer replayed
    key = {**world["officer"], "Content-Type": "image/jpeg", "Idempotency-Key": "case-photo-1"}
    first = client.post(url, content=photo(size=(40, 30)), headers=key)
    replay = client.post(url, content=photo(size=(40, 30)), headers=key)
    assert first.status_code == replay.status_code == 201 and replay.json() == first.json()
    assert replay.headers.get("Idempotent-Replayed") == "true" and _rows(app) == 3
    # the same photo again (no key): a second row, one stored file
    again = client.post(url, content=original, headers={**world["lead"], "Content-Type": "image/jpeg"})
    assert again.status_code == 201 and again.json()["sha256"] == pic["sha256"]
    listed = client.get(url, headers=world["lead"])
    assert listed.status_code == 200, listed.text
    assert [a["id"] for a in listed.json()["attachments"]] == [pic["id"], r.json()["id"], first.json()["id"],
                                                               again.json()["id"]]
    got = client.get(pic["url"], headers=world["officer"])
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    assert hashlib.sha256(got.content).hexdigest() == pic["sha256"]
    with Image.open(io.BytesIO(got.content)) as im:
        assert im.size == (64, 48) and dict(im.getexif().get_ifd(0x8825)) == {}  # GPS gone
        assert im.getpixel((5, 5))[2] > 150 and im.getpixel((60, 40))[0] > 150
    store = get_settings().data_dir / "attachments" / pic["sha256"][:2]
    assert [p.name for p in store.iterdir() if p.name.startswith(pic["sha256"])] == [pic["sha256"] + ".jpg"]
    note = client.get(f"{url}/{r.json()['id']}", headers=world["officer"])
    assert note.status_code == 200 and note.text == "车主已联系"
    # collection and each read audited under the case
    assert len(_audits(app, case, "collection")) == 4
    reads = [json.loads(a.params) if isinstance(a.params, str) else a.params
             for a in _audits(app, case, "consultation")]
    assert sorted(str(p.get("attachment_id")) for p in reads) == sorted(["None", pic["id"], r.json()["id"]])


def test_keep_location_keeps_gps(world: dict[str, Any]) -> None:
    client, case = world["client"], world["case"]
    r = client.post(f"/api/v1/cases/{case}/attachments?keep_location=true", content=photo("PNG"),
                    headers={**world["officer"], "Content-Type": "image/png"})
    assert r.status_code == 201 and r.json()["kept_location"] is True, r.text
    got = client.get(r.json()["url"], headers=world["officer"])
    with Image.open(io.BytesIO(got.content)) as im:
        assert dict(im.getexif().get_ifd(0x8825))[2] == GPS[2]


def test_not_on_the_case_refused_and_audited(world: dict[str, Any]) -> None:
    app, client, case = world["app"], world["client"], world["case"]
    url = f"/api/v1/cases/{case}/attachments"
    mine = client.post(url, json={"note": "x"}, headers=world["officer"])
    assert mine.status_code == 201
    for who in ("outsider", "analyst"):
        r = client.post(url, content=photo(), headers={**world[who], "Content-Type": "image/jpeg"})
        assert r.status_code == 403 and r.json()["error"] == "forbidden", r.text
        assert client.get(url, headers=world[who]).status_code == 403
        assert client.get(f"{url}/{mine.json()['id']}", headers=world[who]).status_code == 403
    refused = _audits(app, case, "refusal")
    assert len(refused) == 6 and all(a.outcome == "refused" for a in refused)
    assert _rows(app) == 1
    assert client.get("/api/v1/cases/C-nope/attachments", headers=world["officer"]).status_code == 404
    assert client.post("/api/v1/cases/C-nope/attachments", json={"note": "x"},
                       headers=world["officer"]).status_code == 404
    # another case's (or an incident's) attachment id is not found under this case
    r = client.post("/api/v1/cases", headers=world["outsider"], json={"title": "other", "type": "theft"})
    assert r.status_code == 201, r.text
    other = client.post(f"/api/v1/cases/{r.json()['id']}/attachments", json={"note": "y"}, headers=world["outsider"])
    assert other.status_code == 201
    assert client.get(f"{url}/{other.json()['id']}", headers=world["officer"]).status_code == 404


def test_limits_and_types_as_for_incidents(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    app, client, case = world["app"], world["client"], world["case"]
    url = f"/api/v1/cases/{case}/attachments"
    r = client.post(url, content=b"%PDF-1.4 ...", headers={**world["officer"], "Content-Type": "application/pdf"})
    assert r.status_code == 415 and r.json()["detail"]["got"] == "application/pdf"
    r = client.post(url, content=photo("PNG"), headers={**world["officer"], "Content-Type": "image/jpeg"})
    assert r.status_code == 415 and r.json()["detail"]["field"] == "body"
    monkeypatch.setenv("PRECINCT_MAX_ATTACHMENT_BYTES", str(64 * 1024))
    big = b"\xff\xd8\xff" + b"\0" * (100 * 1024)
    r = client.post(url, content=big, headers={**world["officer"], "Content-Type": "image/jpeg"})
    assert r.status_code == 413 and r.json()["detail"]["limit_bytes"] == 64 * 1024
    monkeypatch.setenv("PRECINCT_MAX_IMAGE_PIXELS", "10000")
    r = client.post(url, content=photo(size=(200, 100)), headers={**world["officer"], "Content-Type": "image/jpeg"})
    assert r.status_code == 413 and r.json()["detail"]["limit_pixels"] == 10000
    r = client.post(url, json={"note": "  "}, headers=world["officer"])
    assert r.status_code == 422
    assert _rows(app) == 0


def test_closed_case_takes_no_new_attachment(world: dict[str, Any]) -> None:
    client, case = world["client"], world["case"]
    r = client.post(f"/api/v1/cases/{case}/close", headers=world["lead"], json={"reason": "solved"})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/v1/cases/{case}/attachments", json={"note": "late"}, headers=world["officer"])
    assert r.status_code == 409, r.text
