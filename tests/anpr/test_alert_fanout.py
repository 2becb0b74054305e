"""The hotlist-alert fan-out: in order, units looked up once per gathered batch, nothing lost on close,
and a failing units lookup does not stop later alerts."""

from __future__ import annotations

import threading
from typing import Any

from precinct.anpr.fanout import AlertFanout


def test_alerts_published_in_order_with_their_units() -> None:
    published: list[tuple[str, dict[str, Any]]] = []
    calls: list[int] = []
    gate = threading.Event()

    def units(points: list[tuple[float, float]]) -> list[list[dict[str, Any]]]:
        gate.wait(5)  # hold the worker so later batches queue up and are gathered
        calls.append(len(points))
        return [[{"unit_id": int(lat), "travel_time_s": lon}] for lat, lon in points]

    fan = AlertFanout(lambda s, e: published.append((s, e)), units)
    batches = [[{"alert_id": 10 * b + i, "lat": float(b), "lon": float(i)} for i in range(3)] for b in range(4)]
    for batch in batches:
        fan.submit(batch)
    fan.submit([])  # nothing to publish
    gate.set()
    fan.close()
    assert [e["alert_id"] for _, e in published] == [a["alert_id"] for b in batches for a in b]
    assert {s for s, _ in published} == {"anpr.alert"}
    assert all(e["units"] == [{"unit_id": int(e["lat"]), "travel_time_s": e["lon"]}] for _, e in published)
    assert sum(calls) == 12 and len(calls) < 4  # queued batches shared a lookup


def test_a_failing_lookup_does_not_stop_the_worker() -> None:
    published: list[dict[str, Any]] = []
    failed = threading.Event()

    def units(points: list[tuple[float, float]]) -> list[list[dict[str, Any]]]:
        if not failed.is_set():
            failed.set()
            raise RuntimeError("routing down")
        return [[] for _ in points]

    fan = AlertFanout(lambda s, e: published.append(e), units)
    fan.submit([{"alert_id": 1, "lat": 0.0, "lon": 0.0}])
    assert failed.wait(5)
    fan.submit([{"alert_id": 2, "lat": 0.0, "lon": 0.0}])
    fan.close()
    assert [e["alert_id"] for e in published] == [2]
