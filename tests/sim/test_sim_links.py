"""The live feed sends person–vehicle links through POST /anpr/links when each is made, and the
e-bike thief (seven bikes in nine days) is then found by the server's own query."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from precinct.sim.accounts import Squad
from precinct.sim.demo import ensure_demo_users
from precinct.sim.generate import link_events
from precinct.sim.live import LiveDriver

from .conftest import RecordingClient

H = 3600.0
DAY = 24 * H


def most_bikes_in_window(links: list[tuple[float, str]], window_s: float) -> int:
    """Brute force: the most distinct vehicles of one person inside any window of that length."""
    return max(len({p for t, p in links if t0 <= t < t0 + window_s}) for t0, _ in links)


def test_links_are_sent_live_when_made(
    client: TestClient,
    app: FastAPI,
    city: Any,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    app.state.city = city
    passwords = ensure_demo_users(app.state.db)
    api = RecordingClient("http://testserver", passwords, http=client)
    squads = (Squad("P", "patrol", "car", 2, "巡逻", "车巡队", (1, 1, 1)),)
    step, days = H, 3
    driver = LiveDriver(
        api, city, seed=9, speed=30.0, days=days, reads_per_day=300, calls_per_day=20, start_hour=7.0, squads=squads
    )
    api.clock = lambda: driver.now
    driver.prepare()
    driver._wall0, driver._mono0 = time.time(), time.monotonic()
    assert driver.sc is not None
    events = link_events(driver.sc)
    t = driver.t_start
    while t < days * DAY - step:  # stay inside the first round
        t += step
        driver.step(t)
    assert driver.round == 0 and not api.disabled, api.disabled
    assert not [s for s in api.sent if not s[4]] and api.errors == 0

    # Every link went out once, through the public route, in the first step after it was made.
    sent: dict[int, tuple[float, dict[str, Any]]] = {}
    for ts, method, path, body, ok in api.sent:
        if path == "/anpr/links":
            assert method == "POST" and ok
            for link in body["links"]:
                i = int(re.fullmatch(r"sim9-L(\d+)", link["link_id"])[1])  # type: ignore[index]
                assert i not in sent
                sent[i] = (ts, link)
    due = [i for i, e in enumerate(events) if e[0] <= t]
    assert sorted(sent) == due and driver.stats["links"] == len(due)
    for i, (ts, link) in sent.items():
        made, person, plate, source = events[i]
        assert made <= ts <= max(made, driver.t_start) + step, (i, made, ts)
        assert (link["person_id"], link["plate"], link["source"]) == (person, plate, source)
        assert link["ts"] == driver.wall_iso(made)

    # The thief's seven bikes are among them, and the server finds him, and only those a brute
    # force over the sent links finds.
    truth = driver.sc.planter.truth["ebike_thief"]
    by_person: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for _ts, link in sent.values():
        by_person[link["person_id"]].append((dt.datetime.fromisoformat(link["ts"]).timestamp(), link["plate"]))
    assert {p for _t, p in by_person[truth["person"]]} == set(truth["tags"])
    expected = {p for p, ls in by_person.items() if most_bikes_in_window(ls, 9 * DAY) >= 7}
    assert truth["person"] in expected and not expected & set(truth["decoys"])
    h = auth_headers("analyst", case="CASE-SIM-1", purpose="investigation")
    r = client.get("/api/v1/anpr/person-vehicles?min_vehicles=7&days=9", headers=h)
    assert r.status_code == 200, r.text
    assert {p["person_id"] for p in r.json()["people"]} == expected
