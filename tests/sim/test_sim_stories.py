"""The planted stories are in the files; brute force over the files finds exactly the answers."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from precinct.sim.geo import haversine_m

from .conftest import DataSet, epoch_s


def _case(ds: DataSet, case_id: str) -> dict[str, str]:
    return next(r for r in ds.csv("cases.csv") if r["case_id"] == case_id)


def _near(ds: DataSet, case: dict[str, str], *, radius_m: float | None = None) -> np.ndarray:
    r = ds.reads
    radius = radius_m if radius_m is not None else float(case["radius_km"]) * 1000
    d = haversine_m(float(case["lat"]), float(case["lon"]), r["lat"], r["lon"])
    t0, t1 = epoch_s(case["start"]), epoch_s(case["end"])
    return (d <= radius) & (r["ts"] >= t0) & (r["ts"] <= t1)


def test_all_stories_planted(dataset: DataSet) -> None:
    assert set(dataset.truth["stories"]) == {
        "vehicle_case",
        "vehicle_series",
        "stolen_ebike",
        "ebike_thief",
        "cloned_plate",
        "fleeing_vehicle",
        "missing_person",
    }


def test_vehicle_case_offenders_found_decoys_not(dataset: DataSet) -> None:
    vc = dataset.truth["stories"]["vehicle_case"]
    case = _case(dataset, vc["case"])
    watched = {r["plate"] for r in dataset.csv("watchlist.csv")}
    hit = _near(dataset, case)
    found = {p for p in dataset.reads["plate"][hit] if p in watched}
    assert found == set(vc["expected_hits"])
    assert set(vc["offenders"]) <= found
    assert not found & set(vc["decoys_outside_radius"] + vc["decoys_outside_window"])
    # The decoys really are *just* outside: within 1.5 x radius in the window, or inside the
    # radius within 45 minutes of the window.
    r = dataset.reads
    radius = float(case["radius_km"]) * 1000
    ring = _near(dataset, case, radius_m=1.5 * radius)
    assert set(vc["decoys_outside_radius"]) <= set(r["plate"][ring])
    d = haversine_m(float(case["lat"]), float(case["lon"]), r["lat"], r["lon"])
    t0, t1 = epoch_s(case["start"]), epoch_s(case["end"])
    late = (d <= radius) & (r["ts"] >= t0 - 2700) & (r["ts"] <= t1 + 2700)
    assert set(vc["decoys_outside_window"]) <= set(r["plate"][late])


def test_vehicle_series(dataset: DataSet) -> None:
    vs = dataset.truth["stories"]["vehicle_series"]
    count: dict[str, int] = defaultdict(int)
    for cid in vs["cases"]:
        for p in set(dataset.reads["plate"][_near(dataset, _case(dataset, cid))]):
            count[p] += 1
    assert count[vs["plate"]] == len(vs["seen_near"]) == 4
    assert {p for p, n in count.items() if n >= vs["min_cases"]} == set(vs["expected"]) == {vs["plate"]}


def test_stolen_ebike_read_after_theft(dataset: DataSet) -> None:
    st = dataset.truth["stories"]["stolen_ebike"]
    stolen = {r["plate"] for r in dataset.csv("watchlist.csv") if r["list"] == "stolen"}
    assert st["tag"] in stolen
    call = next(c for c in dataset.csv("calls.csv") if c["call_id"] == st["call"])
    assert call["type"] == "theft_ebike" and st["tag"] in call["description"]
    r = dataset.reads
    mine = r["plate"] == st["tag"]
    assert set(r["kind"][mine]) == {"tag"}
    assert set(r["camera_id"][mine]) <= {c for c in r["camera_id"] if c.startswith("TR")}
    after = mine & (r["ts"] > epoch_s(st["stolen_after"]))
    assert after.sum() == st["reads_after_theft"] > 0
    assert (mine & (r["ts"] > epoch_s(call["ts"]))).sum() == st["reads_after_report"] > 0
    assert (mine & (r["ts"] < epoch_s(st["stolen_after"]))).sum() > 0  # the owner rode it


def test_ebike_thief_by_brute_force(dataset: DataSet) -> None:
    et = dataset.truth["stories"]["ebike_thief"]
    tags = set(dataset.reads["plate"][dataset.reads["kind"] == "tag"]) | set(et["tags"])
    by_person: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for row in dataset.csv("links.csv"):
        if row["plate"].startswith("EB"):
            by_person[row["person_id"]].append((epoch_s(row["ts"]), row["plate"]))
    flagged = set()
    for person, rows in by_person.items():
        for t0, _ in rows:
            inside = {tag for t, tag in rows if t0 <= t <= t0 + 9 * 86400}
            if len(inside) >= 7:
                flagged.add(person)
    assert flagged == {et["person"]} == set(et["expected"])
    assert {tag for _, tag in by_person[et["person"]]} == set(et["tags"])
    assert set(et["tags"]) <= tags
    assert not flagged & set(et["decoys"])


def test_cloned_plate_by_brute_force(dataset: DataSet) -> None:
    cp = dataset.truth["stories"]["cloned_plate"]
    r = dataset.reads
    order = np.lexsort((r["ts"], r["plate"].astype(str)))
    p, t, la, lo = r["plate"][order], r["ts"][order], r["lat"][order], r["lon"][order]
    same = p[1:] == p[:-1]
    dist = haversine_m(la[1:], lo[1:], la[:-1], lo[:-1])
    kmh = dist / 1000 / (np.maximum(t[1:] - t[:-1], 1.0) / 3600)
    bad = same & (dist > 2000) & (kmh > cp["max_plausible_kmh"])
    assert set(p[1:][bad]) == {cp["plate"]} == set(cp["expected"])
    assert bad.sum() == cp["impossible_pairs"]


def test_fleeing_vehicle(dataset: DataSet) -> None:
    fv = dataset.truth["stories"]["fleeing_vehicle"]
    call = next(c for c in dataset.csv("calls.csv") if c["call_id"] == fv["call"])
    assert call["type"] == "robbery" and call["priority"] in ("red", "orange")
    r = dataset.reads
    mine = (r["plate"] == fv["plate"]) & (r["ts"] >= epoch_s(fv["crime_at"]))
    got = [(c, float(t)) for c, t in zip(r["camera_id"][mine], r["ts"][mine], strict=True)]
    want = [(x["camera_id"], epoch_s(x["ts"])) for x in fv["reads"]]
    assert [c for c, _ in got] == [c for c, _ in want] and len(want) >= 3
    assert all(abs(a - b) < 1.0 for (_, a), (_, b) in zip(got, want, strict=True))
    assert epoch_s(fv["exit_at"]) > epoch_s(fv["crime_at"])


def test_missing_person(dataset: DataSet) -> None:
    mp = dataset.truth["stories"]["missing_person"]
    calls = {c["call_id"]: c for c in dataset.csv("calls.csv")}
    missing, sighting = calls[mp["call"]], calls[mp["sighting_call"]]
    assert missing["type"] == "missing_person" and sighting["type"] == "assistance"
    traj = mp["trajectory"]
    assert traj[0][1:] == [round(x, 6) for x in mp["last_seen_at"]]
    assert epoch_s(traj[0][0]) < epoch_s(missing["ts"]) < epoch_s(sighting["ts"]) < epoch_s(mp["found_time"])
    # The sighting is near where the trajectory says he was.
    lat, lon = float(sighting["lat"]), float(sighting["lon"])
    assert min(haversine_m(lat, lon, a, b) for _, a, b in traj) < 300
    # He walks at most about 0.7 m/s.
    walked = haversine_m(*mp["last_seen_at"], *mp["found_at"])
    assert walked <= 0.75 * (epoch_s(mp["found_time"]) - epoch_s(mp["last_seen"]))


def test_every_case_watchlist_hits(dataset: DataSet) -> None:
    watched = {r["plate"] for r in dataset.csv("watchlist.csv")}
    cases = {r["case_id"]: r for r in dataset.csv("cases.csv")}
    checked = 0
    for cid, info in list(dataset.truth["cases"].items())[:25]:
        if info["watchlist_hits"] is None:
            continue
        found = {p for p in dataset.reads["plate"][_near(dataset, cases[cid])] if p in watched}
        assert found == set(info["watchlist_hits"]), cid
        checked += 1
    assert checked > 5
