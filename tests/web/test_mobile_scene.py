"""From the scene, on the emulated phone (390×844, touch): a dispatch with its road route drawn,
acknowledged in one tap; offline, the officer marks on scene and attaches a photo carrying EXIF
GPS; back online, the server has the step and the photo exactly once, the photo without its
location; the dispatcher's board shows the acknowledgement and the photo. Position sharing
follows duty: off duty nothing is sent.

Known answers: the photo is made here with Pillow (its GPS written by the test and read back from
what the server serves); counts are read from the server's API, not from the page."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.web.conftest import shot
from tests.web.server import Server
from tests.web.test_mobile import UNIT, _free_unit, _history, _login, phone  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser
GPS = {1: "N", 2: (32.0, 29.0, 24.0), 3: "E", 4: (119.0, 55.0, 12.0)}


def _photo(path: Path) -> Path:
    im = Image.new("RGB", (320, 240), (30, 90, 200))
    im.paste((220, 40, 40), (0, 0, 160, 120))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = GPS
    im.save(path, format="JPEG", exif=exif.tobytes())
    with Image.open(path) as back:
        assert dict(back.getexif().get_ifd(0x8825))[2] == GPS[2]  # the photo does carry a location
    return path


def _attachments(server: Server, incident: str) -> list[dict[str, Any]]:
    with server.api("dispatcher") as c:
        r = c.get(f"/incidents/{incident}/attachments")
        r.raise_for_status()
        return list(r.json()["attachments"])


def test_offline_on_scene_with_a_photo_reaches_the_board_once(phone: Any, server: Server, browser: Any,  # noqa: F811
                                                              tmp_path: Path) -> None:
    _free_unit(server)
    _login(phone, server)
    posts: list[tuple[str, str | None]] = []
    phone.on("request", lambda r: posts.append((r.url, r.headers.get("idempotency-key")))
             if r.method == "POST" and "/incidents/" in r.url else None)
    with server.api("call_taker") as c:
        r = c.post("/calls", json={"lat": 32.4921, "lon": 119.9221, "type": "theft", "description": "电动车被盗"})
        assert r.status_code == 201, r.text
        incident = r.json()["incident_id"]
    with server.api("dispatcher") as c:
        c.post(f"/incidents/{incident}/dispatch", json={"unit_ids": [UNIT]}).raise_for_status()
        row = next(i for i in c.get("/board").json()["incidents"] if i["id"] == incident)
    mine = next(a for a in row["units"] if a["unit_id"] == UNIT)
    assert mine["acknowledged_at"] is None and mine["ack_due_at"] and mine["late"] is False
    card = f"[data-incident='{incident}']"
    phone.wait_for_selector(f"{card}[data-status='dispatched']")
    # Where: the road route from the unit to the incident, from Precinct's routing
    assert int(phone.get_attribute("#m-map[data-route]", "data-route")) >= 2
    with server.api("patrol") as c:
        route = c.get(f"/incidents/{incident}/route").json()
    assert int(phone.get_attribute("#m-map", "data-route")) == len(route["path"])
    assert phone.inner_text("#m-route").startswith("路线")
    shot(phone, "mobile-route")
    phone.tap(f"{card} button[data-step=acknowledge]")
    phone.wait_for_selector(f"{card}[data-status='en_route'] button[data-step=arrive]")
    phone.wait_for_function("() => !document.querySelector('#m-queue')")

    phone.context.set_offline(True)
    phone.wait_for_selector("#net.offline")
    phone.tap(f"{card} button[data-step=arrive]")
    phone.wait_for_selector(f"{card}[data-status='on_scene']")
    phone.tap(f"{card} details.attach summary")
    phone.fill(f"{card} textarea[data-field=note]", "车锁被剪断 lock cut")
    phone.set_input_files(f"{card} input[data-field=photo]", str(_photo(tmp_path / "scene.jpg")))
    phone.wait_for_function("() => document.querySelectorAll('#m-queue li').length === 2")
    shot(phone, "mobile-scene-offline")
    assert _attachments(server, incident) == []  # nothing reached the server
    assert [h["kind"] for h in _history(server, incident)].count("arrived") == 0

    phone.context.set_offline(False)
    phone.wait_for_function("() => !document.querySelector('#m-queue')", timeout=30_000)
    kinds = [h["kind"] for h in _history(server, incident)]
    assert kinds.count("acknowledged") == 1 and kinds.count("arrived") == 1, kinds
    atts = _attachments(server, incident)
    assert len(atts) == 1 and atts[0]["kind"] == "image" and atts[0]["note"] == "车锁被剪断 lock cut", atts
    assert atts[0]["kept_location"] is False and atts[0]["unit_id"] == UNIT
    with server.api("dispatcher") as c:
        served = c.get(f"/incidents/{incident}/attachments/{atts[0]['id']}")
    with Image.open(io.BytesIO(served.content)) as im:
        assert im.size == (320, 240) and dict(im.getexif().get_ifd(0x8825)) == {}  # GPS stripped
    # every POST carried a key, and no key was used for two different requests
    keys: dict[str, set[str]] = {}
    for url, key in posts:
        assert key, url
        keys.setdefault(key, set()).add(url)
    assert all(len(urls) == 1 for urls in keys.values())

    # The dispatcher's board: the unit has acknowledged, the photo is there.
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    try:
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        user, password = server.logins["dispatcher"]
        page.goto(f"{server.url}/ui/")
        page.fill("#login-username", user)
        page.fill("#login-password", password)
        page.click("#login-submit")
        page.wait_for_selector("#whoami")
        page.goto(f"{server.url}/ui/#/board")
        page.wait_for_selector(f"#incident-table td:has-text('{incident}')")
        page.click(f"#incident-table tr:has-text('{incident}')")
        page.wait_for_selector(f"#board-acks [data-unit='{UNIT}'][data-ack=acked]")
        page.wait_for_selector(f"#board-attachments img[data-attachment='{atts[0]['id']}']")
        page.wait_for_function("() => { const i = document.querySelector('#board-attachments img');"
                               " return !!i && i.complete && i.naturalWidth === 320; }")
        shot(page, "board-scene-photo")
        # a note sent now from the phone appears on the open board by itself (incidents.attachment)
        phone.fill(f"{card} textarea[data-field=note]", "嫌疑人向东逃离")
        phone.tap(f"{card} button[data-step=note]")
        page.wait_for_selector("#board-attachments li.note:has-text('嫌疑人向东逃离')")
    finally:
        ctx.close()
    assert len(_attachments(server, incident)) == 2


def test_position_not_shared_off_duty(browser: Any, server: Server) -> None:
    _free_unit(server)
    with server.api("dispatcher") as c:
        before = c.get(f"/units/{UNIT}").json()
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                              locale="zh-CN", geolocation={"latitude": 32.4701, "longitude": 119.9003},
                              permissions=["geolocation"])
    posted: list[str] = []
    try:
        pg = ctx.new_page()
        pg.set_default_timeout(20_000)
        pg.on("request", lambda r: posted.append(r.url) if r.method == "POST" and r.url.endswith("/position") else None)
        _login(pg, server)
        pg.tap("#m-duty[data-duty=on]")  # go off duty
        pg.wait_for_selector("#m-duty[data-duty=off]")
        with server.api("dispatcher") as c:
            assert c.get(f"/units/{UNIT}").json()["status"] == "out_of_service"
        assert pg.is_disabled("#m-share")
        pg.evaluate("() => { const b = document.querySelector('#m-share'); b.disabled = false; b.click(); }")
        pg.wait_for_timeout(1500)  # give a watch callback time to fire (it must not post)
        assert posted == []
        with server.api("dispatcher") as c:
            unit = c.get(f"/units/{UNIT}").json()
        assert (unit["lat"], unit["lon"]) == (before["lat"], before["lon"])
        pg.tap("#m-duty[data-duty=off]")  # back on duty: sharing works again
        pg.wait_for_selector("#m-duty[data-duty=on]")
        if pg.is_checked("#m-share"):  # switched on while off duty: switch it off and on again
            pg.tap("#m-share")
        pg.tap("#m-share")
        with server.api("dispatcher") as c:
            for _ in range(50):
                unit = c.get(f"/units/{UNIT}").json()
                if abs(unit["lat"] - 32.4701) < 1e-6:
                    break
                pg.wait_for_timeout(200)
        assert (round(unit["lat"], 6), round(unit["lon"], 6)) == (32.4701, 119.9003)
    finally:
        ctx.close()
        with server.api("dispatcher") as c:
            c.post(f"/units/{UNIT}/status", json={"status": "available"})


def test_hotlist_vehicles_near_the_unit(phone: Any, server: Server) -> None:  # noqa: F811
    """The hotlist alerts the live stream gives a patrol officer, shown when within 3 km of the unit
    (P-01 stands at 32.4905, 119.9205): one read ~0.6 km away, one ~18 km away."""
    import datetime as dt

    _free_unit(server)
    _login(phone, server)
    with server.api("analyst") as c:
        r = c.post("/anpr/hotlist", json={"entries": [
            {"plate": "苏K·88888", "reason": "被盗车辆 stolen", "list": "stolen"},
            {"plate": "苏K·99999", "reason": "被盗车辆 stolen", "list": "stolen"}]})
        assert r.status_code == 201, r.text
    now = dt.datetime.now(dt.UTC).isoformat()
    reads = [{"plate": "苏K88888", "ts": now, "lat": 32.4950, "lon": 119.9250, "camera_id": "CAM-NEAR"},
             {"plate": "苏K99999", "ts": now, "lat": 32.6200, "lon": 120.0800, "camera_id": "CAM-FAR"}]
    with server.api("admin") as c:
        r = c.post("/anpr/reads", json=reads)
        assert r.status_code == 200, r.text
        assert r.json()["alerts"] == 2
    phone.wait_for_selector("#m-hotlist p:has-text('苏K88888')")
    assert "苏K99999" not in phone.inner_text("#m-hotlist")
    shot(phone, "mobile-hotlist")


def test_missing_person_description_and_photo_for_the_officers_case(phone: Any, server: Server,  # noqa: F811
                                                                     tmp_path: Path) -> None:
    """A supervisor's missing-person case with the patrol officer on it, linking an incident to which
    the dispatcher attached the family's photo: the phone shows the description and that photo."""
    _free_unit(server)
    officer = server.logins["patrol"][0]
    with server.api("supervisor") as c:
        r = c.post("/cases", json={"title": "走失老人 missing elderly man", "type": "missing_person",
                                   "members": [officer], "summary": "男，78岁，灰色外套，拄拐杖"})
        assert r.status_code == 201, r.text
        case = r.json()["id"]
    with server.api("call_taker") as c:
        incident = c.post("/calls", json={"lat": 32.48, "lon": 119.91, "type": "theft",
                                          "description": "家属报警：老人走失"}).json()["incident_id"]
    with server.api("supervisor") as c:
        assert c.post(f"/cases/{case}/links", json={"kind": "incident", "id": incident}).status_code in (200, 201)
    with server.api("dispatcher") as c:
        r = c.post(f"/incidents/{incident}/attachments?note=family", content=_photo(tmp_path / "f.jpg").read_bytes(),
                   headers={"Content-Type": "image/jpeg"})
        assert r.status_code == 201, r.text
    _login(phone, server)
    phone.tap(f"[data-case='{case}'] button[data-step=missing]")
    phone.wait_for_selector(f"[data-case='{case}'] p.description:has-text('灰色外套')")
    phone.wait_for_function(f"() => {{ const i = document.querySelector(\"[data-case='{case}'] img.mp-photo\");"
                            " return !!i && i.complete && i.naturalWidth === 320; }")
    shot(phone, "mobile-missing-person")
