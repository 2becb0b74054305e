"""Planted stories with known answers (the "ground truth" half of the scenario).

Each function adds one story through a :class:`~precinct.sim.planting.Planter` and records in
``planter.truth`` what a correct analysis must find. Answers that depend on the background too
(for example every watch-listed vehicle near a case, planted or not) are completed by an exact scan
of the written reads (:mod:`precinct.sim.scan`).
"""

from __future__ import annotations

import numpy as np

from precinct.errors import BadInput, Unreachable
from precinct.sim.geo import haversine_m
from precinct.sim.planting import Case, Planter
from precinct.sim.plates import make_plates, make_tags

OFFENDER_LIST = ("offenders", "前科人员关联车辆")


def _night(p: Planter, day: int, start_h: float, hours: float) -> tuple[int, int]:
    s = int(day * 86400 + start_h * 3600)
    return s, s + int(hours * 3600)


def vehicle_case(p: Planter, taken: set[str]) -> None:
    """A rural cable theft: offender vehicles in its radius and window, decoys just outside.

    Offenders are read at cameras well inside the radius during the window; one decoy set at
    cameras 5-50 % beyond the radius during the window, another inside the radius 10-40 minutes
    before or after the window.
    """
    rng = p.rng
    day = p.days // 2
    w = p.geo.node_weight
    rural = np.flatnonzero(w <= np.quantile(w, 0.4))
    rng.shuffle(rural)
    found = None
    for radius in (5000.0, 3000.0, 2000.0, 1200.0):
        for node in rural[:400]:
            lat, lon = float(p.geo.node_lat[node]), float(p.geo.node_lon[node])
            inner = p.cams_within(lat, lon, 0, 0.8 * radius)
            ring = p.cams_within(lat, lon, 1.05 * radius, 1.5 * radius)
            if inner.size >= 2 and ring.size >= 2:
                found = (lat, lon, radius, inner, ring)
                break
        if found:
            break
    if found is None:
        return
    lat, lon, radius, inner, ring = found
    start, end = _night(p, day, 1.0, 2.0)
    case = Case("cable_theft", lat, lon, start, end, radius / 1000, call_tag="cable_theft")
    p.cases.append(case)
    p.call("cable_theft", end + 4 * 3600, lat, lon, "theft", "村电力线路电缆被盗约三百米，请求出警")
    plates = make_plates(rng, 7, local_share=0.7, avoid=taken)
    taken.update(plates)
    offenders, ring_decoys, late_decoys = plates[:3], plates[3:5], plates[5:7]
    for pl in plates:
        p.watch.append((pl, OFFENDER_LIST[1], OFFENDER_LIST[0]))
    for pl in offenders:
        v = p.add_id(pl)
        p.daily_life(v)
        # One or two reads in the window; a second one no sooner than a 40 km/h drive allows.
        cams = rng.choice(inner, size=int(rng.integers(1, 3)), replace=False)
        t = float(rng.uniform(start + 60, start + (end - start) / 2))
        p.read(v, int(cams[0]), t)
        if cams.size > 1:
            gap = float(
                haversine_m(
                    p.geo.camera_lat[cams[0]],
                    p.geo.camera_lon[cams[0]],
                    p.geo.camera_lat[cams[1]],
                    p.geo.camera_lon[cams[1]],
                )
                / 11.0
            )
            if t + gap + 60 < end:
                p.read(v, int(cams[1]), t + gap + 60)
    for pl in ring_decoys:
        v = p.add_id(pl)
        p.daily_life(v)
        p.read(v, int(rng.choice(ring)), rng.uniform(start + 60, end - 60))
    for i, pl in enumerate(late_decoys):
        v = p.add_id(pl)
        p.daily_life(v)
        t = end + rng.uniform(600, 2400) if i == 0 else start - rng.uniform(600, 2400)
        p.read(v, int(rng.choice(inner)), t)
    p.truth["vehicle_case"] = {
        "case": "cable_theft",
        "radius_km": radius / 1000,
        "window": [p.iso(start), p.iso(end)],
        "offenders": offenders,
        "decoys_outside_radius": ring_decoys,
        "decoys_outside_window": late_decoys,
    }


def vehicle_series(p: Planter, taken: set[str], n_cases: int = 5, n_seen: int = 4) -> None:
    """One vehicle near four of five night burglaries on different days and places."""
    rng = p.rng
    plate = make_plates(rng, 1, local_share=0.0, avoid=taken)[0]
    taken.add(plate)
    v = p.add_id(plate)
    p.daily_life(v, p_day=0.3)
    plate_cams = np.flatnonzero(np.array(p.geo.camera_kind) == "plate")
    cams = rng.choice(plate_cams, size=n_cases, replace=False)
    days = [(i * max(p.days, 1)) // n_cases for i in range(n_cases)]
    tags = []
    for i, (cam, day) in enumerate(zip(cams, days, strict=True)):
        ang, dist = rng.uniform(0, 2 * np.pi), rng.uniform(300, 700)
        x, y = p.geo.frame.to_xy(p.geo.camera_lat[cam], p.geo.camera_lon[cam])
        lat, lon = p.geo.frame.to_latlon(x + dist * np.cos(ang), y + dist * np.sin(ang))
        # Two cases on one night (short periods) get windows hours apart.
        nth = days[:i].count(day)
        start, end = _night(p, day, 0.5 + 2.5 * nth + rng.uniform(0, 0.5), 2.0)
        tag = f"series_{i + 1}"
        p.cases.append(Case(tag, float(lat), float(lon), start, end, 1.0, call_tag=tag))
        p.call(
            tag,
            end + rng.uniform(3, 5) * 3600,
            float(lat),
            float(lon),
            "burglary",
            "早上起床发现家中被盗，门锁被撬",
        )
        tags.append(tag)
        if i < n_seen:
            p.read(v, int(cam), rng.uniform(start + 300, end - 300))
    p.truth["vehicle_series"] = {
        "plate": plate,
        "cases": tags,
        "seen_near": tags[:n_seen],
        "radius_km": 1.0,
    }


def stolen_ebike(p: Planter, taken: set[str]) -> None:
    """An e-bike stolen in the evening, reported next morning, then ridden past tag readers."""
    rng = p.rng
    tag = make_tags(rng, 1, avoid=taken)[0]
    taken.add(tag)
    v = p.add_id(tag, "tag")
    owner = "P9000001"
    p.links.append((owner, tag, -700 * 86400, "registration"))
    bikes = p.corridors("bike", min_cams=1)
    home = int(rng.choice(bikes[: max(bikes.size // 2, 1)]))
    theft_day = max(p.days // 3, 0)
    for d in range(theft_day + 1):
        p.trip(v, home, d * 86400 + 7.5 * 3600 + rng.normal(0, 300))
        p.trip(
            v,
            home + (p.ac.n_bike // 2 if home - p.ac.bike0 < p.ac.n_bike // 2 else -(p.ac.n_bike // 2)),
            d * 86400 + 17.8 * 3600 + rng.normal(0, 300),
        )
    stolen_at = theft_day * 86400 + 21 * 3600 + rng.uniform(0, 1800)
    reported = stolen_at + (10.5 * 3600 if theft_day + 1 < p.days else 1800)
    node = int(p.ac.c.origin[home])
    p.call(
        "ebike_stolen",
        reported,
        float(p.geo.node_lat[node]),
        float(p.geo.node_lon[node]),
        "theft_ebike",
        f"停在楼下的电动车被盗，防盗标签号{tag}",
    )
    p.watch.append((tag, "电动车被盗", "stolen"))
    after: list[tuple[int, float]] = []
    for d in range(theft_day, p.days):
        # Two or three rides a day, hours apart (one rider, one bike).
        for t in d * 86400 + np.sort(rng.choice(np.arange(8, 23), size=3, replace=False)) * 3600.0:
            if t > stolen_at + 600 and t < p.horizon:
                after += p.trip(v, int(rng.choice(bikes)), t + rng.uniform(0, 600))
    after = sorted((c, t) for c, t in after if t < p.horizon)
    p.truth["stolen_ebike"] = {
        "tag": tag,
        "owner": owner,
        "stolen_after": p.iso(stolen_at),
        "call": "ebike_stolen",
        "reads_after_theft": len(after),
        "reads_after_report": sum(1 for _, t in after if t >= reported),
    }


def ebike_thief(p: Planter, taken: set[str]) -> None:
    """A man linked to seven different e-bikes in nine days, none reported stolen; two decoys."""
    rng = p.rng
    tags = make_tags(rng, 7 + 6 + 7, avoid=taken)
    taken.update(tags)
    span = min(9, p.days) * 86400 - 3600
    bikes = p.corridors("bike", min_cams=1)
    thief = "P9000002"
    times = np.sort(rng.uniform(0, span, 7))
    for i, (tg, t) in enumerate(zip(tags[:7], times, strict=True)):
        v = p.add_id(tg, "tag")
        p.links.append((f"P90001{i:02d}", tg, -int(rng.integers(100, 900)) * 86400, "registration"))
        p.links.append((thief, tg, int(t), "traffic_stop" if i % 2 else "patrol_check"))
        p.trip(v, int(rng.choice(bikes)), max(t - 1200, 0))
    # Decoy 1: six bikes in nine days (below the threshold); decoy 2: seven over 24 days, ending
    # inside the period (a repair shop owner's customers).
    d1, d2 = "P9000003", "P9000004"
    for tg, t in zip(tags[7:13], np.sort(rng.uniform(0, span, 6)), strict=True):
        p.add_id(tg, "tag")
        p.links.append((d1, tg, int(t), "traffic_stop"))
    end = p.horizon - 3600
    for k, tg in enumerate(tags[13:]):
        p.add_id(tg, "tag")
        p.links.append((d2, tg, int(end - k * 4 * 86400), "repair_shop"))
    p.truth["ebike_thief"] = {
        "person": thief,
        "tags": tags[:7],
        "window_days": 9,
        "min_bikes": 7,
        "decoys": [d1, d2],
    }


def cloned_plate(p: Planter, taken: set[str]) -> None:
    """One plate on two cars: the real one commutes, the clone drives far away at the same time."""
    rng = p.rng
    plate = make_plates(rng, 1, avoid=taken)[0]
    taken.add(plate)
    v = p.add_id(plate)
    car = p.corridors("car", min_cams=2)
    a = int(rng.choice(car))
    a_cams = p.ac.c.cam[p.ac.c.ptr[a] : p.ac.c.ptr[a + 1]]
    # The clone's corridor: first camera far from all of the original's.
    dist = np.array(
        [
            haversine_m(
                p.geo.camera_lat[p.ac.c.cam[p.ac.c.ptr[b]]],
                p.geo.camera_lon[p.ac.c.cam[p.ac.c.ptr[b]]],
                p.geo.camera_lat[a_cams],
                p.geo.camera_lon[a_cams],
            ).min()
            for b in car
        ]
    )
    b = int(car[int(np.argmax(dist))])
    back = a + (p.ac.n_car // 2 if a - p.ac.car0 < p.ac.n_car // 2 else -(p.ac.n_car // 2))
    clone_days = sorted(rng.choice(p.days, size=min(3, p.days), replace=False).tolist())
    for d in range(p.days):
        am = d * 86400 + 7.6 * 3600 + rng.normal(0, 300)
        p.trip(v, a, am)
        p.trip(v, back, d * 86400 + 17.9 * 3600 + rng.normal(0, 300))
        if d in clone_days:
            p.trip(v, b, am + rng.uniform(-120, 120))
    p.truth["cloned_plate"] = {
        "plate": plate,
        "clone_days": [p.iso(d * 86400)[:10] for d in clone_days],
        "max_plausible_kmh": 150,
    }


def fleeing_vehicle(p: Planter, taken: set[str]) -> None:
    """A gang robs a shop in the afternoon and drives out of the county past checkpoints."""
    rng = p.rng
    plate = make_plates(rng, 1, local_share=0.0, avoid=taken)[0]
    taken.add(plate)
    v = p.add_id(plate)
    day = (2 * p.days) // 3
    thr = p.corridors("through", min_cams=3)
    if thr.size == 0:
        return
    corr = int(rng.choice(thr))
    scene = int(p.ac.c.origin[corr])
    for _ in range(20):  # pick a scene in town, not on the county edge
        node = int(rng.choice(p.geo.node_lat.size, p=p.geo.node_weight))
        passes, total = p.route_passes(node, int(p.ac.c.dest[corr]))
        if len(passes) >= 3:
            scene = node
            break
    else:
        passes, total = p.route_passes(scene, int(p.ac.c.dest[corr]))
    lat, lon = float(p.geo.node_lat[scene]), float(p.geo.node_lon[scene])
    crime = day * 86400 + 14 * 3600 + rng.uniform(0, 3600)
    p.call("fleeing", crime + 60, lat, lon, "robbery", "金店被抢，三名男子驾驶一辆黑色轿车逃离")
    depart = crime + 90
    flee = [(c, depart + t) for c, t in passes]
    for c, t in flee:
        p.read(v, c, t)
    # Reconnaissance an hour earlier: they drove in the same way.
    inbound, tin = p.route_passes(int(p.ac.c.dest[corr]), scene)
    for c, t in inbound:
        p.read(v, c, crime - 3600 - tin + t)
    p.cases.append(Case("fleeing", lat, lon, int(crime - 1800), int(crime + 1800), 2.0, call_tag="fleeing"))
    exit_node = int(p.ac.c.dest[corr])
    p.truth["fleeing_vehicle"] = {
        "plate": plate,
        "call": "fleeing",
        "case": "fleeing",
        "crime_at": p.iso(crime),
        "exit": [float(p.geo.node_lat[exit_node]), float(p.geo.node_lon[exit_node])],
        "exit_at": p.iso(depart + total),
        "reads": [{"camera_id": p.geo.camera_id[c], "ts": p.iso(t)} for c, t in flee if t < p.horizon],
    }


def missing_person(p: Planter) -> None:
    """An elderly man with dementia walks away from a park; found later by a passer-by's call."""
    rng = p.rng
    day = p.days // 4
    h = int(rng.choice(p.geo.hotspot_lat.size))
    start_node = p.node_at(float(p.geo.hotspot_lat[h]), float(p.geo.hotspot_lon[h]))
    lat0, lon0 = float(p.geo.node_lat[start_node]), float(p.geo.node_lon[start_node])
    d = haversine_m(lat0, lon0, p.geo.node_lat, p.geo.node_lon)
    far = np.flatnonzero((d > 1500) & (d < 3000))
    dest = int(rng.choice(far)) if far.size else int(np.argmax(d))
    r = p.city.route((lat0, lon0), (float(p.geo.node_lat[dest]), float(p.geo.node_lon[dest])), metric="time")
    path = np.asarray(r.path, dtype=float).reshape(-1, 2)
    seg = haversine_m(path[:-1, 0], path[:-1, 1], path[1:, 0], path[1:, 1])
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    last_seen = day * 86400 + 15 * 3600 + rng.uniform(0, 1800)
    speed = 0.7  # m/s, a slow, confused walk
    minutes = np.arange(0, 151)
    walked = np.minimum(minutes * 60 * speed, cum[-1])
    lat = np.interp(walked, cum, path[:, 0])
    lon = np.interp(walked, cum, path[:, 1])
    found = minutes[-1]
    p.call(
        "missing",
        last_seen + 45 * 60,
        lat0,
        lon0,
        "missing_person",
        "78岁老人在公园走失，患阿尔茨海默症，穿灰色外套",
    )
    p.call(
        "sighting",
        last_seen + (found - 10) * 60,
        float(lat[found - 10]),
        float(lon[found - 10]),
        "assistance",
        "路边发现一名老人神志不清，问不出住址",
    )
    p.truth["missing_person"] = {
        "who": "elderly man, 78, dementia",
        "last_seen": p.iso(last_seen),
        "last_seen_at": [lat0, lon0],
        "call": "missing",
        "sighting_call": "sighting",
        "found_at": [float(lat[found]), float(lon[found])],
        "found_time": p.iso(last_seen + found * 60),
        "trajectory": [
            [p.iso(last_seen + m * 60), round(float(a), 6), round(float(b), 6)]
            for m, a, b in zip(minutes[::5], lat[::5], lon[::5], strict=True)
        ],
    }


def plant_all(p: Planter, taken: set[str]) -> None:
    """Every story, in a fixed order (the order fixes the random draws).

    On a real map a story may find no road path (an island, a one-way trap); it is then left out
    and named in ``p.skipped`` rather than failing the whole data set.
    """
    stories = (
        ("vehicle_case", lambda: vehicle_case(p, taken)),
        ("vehicle_series", lambda: vehicle_series(p, taken)),
        ("stolen_ebike", lambda: stolen_ebike(p, taken)),
        ("ebike_thief", lambda: ebike_thief(p, taken)),
        ("cloned_plate", lambda: cloned_plate(p, taken)),
        ("fleeing_vehicle", lambda: fleeing_vehicle(p, taken)),
        ("missing_person", lambda: missing_person(p)),
    )
    for name, plant in stories:
        try:
            plant()
        except (Unreachable, BadInput, ValueError) as exc:
            p.skipped[name] = str(exc)
            p.truth.pop(name, None)
