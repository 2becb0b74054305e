"""``truth.json``: the planted answers with call and case ids resolved, plus exact scan results."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np

from precinct import __version__

if TYPE_CHECKING:
    from precinct.sim.generate import Scenario
    from precinct.sim.scan import Scanner


def persons_with_many_tags(
    links: list[tuple[str, str, str, str]],
    tag_ids: set[str],
    *,
    window_days: float = 9,
    min_tags: int = 7,
) -> list[str]:
    """People linked to at least ``min_tags`` distinct e-bike tags within any ``window_days``.

    Parameters
    ----------
    links
        ``(person_id, plate, ts, source)`` rows with ISO timestamps.
    tag_ids
        Which identifiers are e-bike tags.
    """
    import datetime as dt

    by_person: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for person, ident, ts, _src in links:
        if ident in tag_ids:
            by_person[person].append((dt.datetime.fromisoformat(ts).timestamp(), ident))
    hits = []
    span = window_days * 86400
    for person, rows in by_person.items():
        if len({r[1] for r in rows}) < min_tags:
            continue
        rows.sort()
        for i in range(len(rows)):
            inside = {ident for t, ident in rows[i:] if t - rows[i][0] <= span}
            if len(inside) >= min_tags:
                hits.append(person)
                break
    return sorted(hits)


def build_truth(
    sc: Scenario,
    scanner: Scanner,
    links: list[tuple[str, str, str, str]],
    n_reads: int,
    *,
    clone_kmh: float,
) -> dict[str, Any]:
    """Assemble the truth document (stable keys, sorted lists)."""
    pl = sc.planter
    call_of = {c.tag: c.call_id for c in sc.calls if c.tag}
    case_of = {k.tag: k.case_id for k in sc.cases}
    stories: dict[str, Any] = {k: dict(v) for k, v in pl.truth.items()}

    def ids(values: set[int]) -> list[str]:
        return sorted(sc.ids[i] for i in values)

    for st in stories.values():
        for key in ("call", "sighting_call"):
            if key in st:
                st[key] = call_of[st[key]]
        if "case" in st:
            st["case"] = case_of[st["case"]]
    if "vehicle_case" in stories:
        vc = stories["vehicle_case"]
        vc["expected_hits"] = ids(scanner.cases[vc["case"]].seen)
    if "vehicle_series" in stories:
        vs = stories["vehicle_series"]
        vs["cases"] = [case_of[t] for t in vs["cases"]]
        vs["seen_near"] = [case_of[t] for t in vs["seen_near"]]
        count: dict[int, int] = defaultdict(int)
        for cid in vs["cases"]:
            for i in scanner.cases[cid].seen:
                count[i] += 1
        vs["min_cases"] = 3
        vs["expected"] = ids({i for i, n in count.items() if n >= 3})
    if "ebike_thief" in stories:
        tags = {v for v, k in zip(sc.ids, sc.kinds, strict=True) if k == "tag"}
        stories["ebike_thief"]["expected"] = persons_with_many_tags(links, tags)
    if "cloned_plate" in stories:
        stories["cloned_plate"]["max_plausible_kmh"] = clone_kmh
        stories["cloned_plate"]["expected"] = ids(set(scanner.clone_pairs))
        stories["cloned_plate"]["impossible_pairs"] = int(sum(scanner.clone_pairs.values()))

    events: dict[int, list[str]] = defaultdict(list)
    first_of_event: dict[int, str] = {}
    for c in sc.calls:
        events[c.event].append(c.call_id)
        first_of_event.setdefault(c.event, c.call_id)
    duplicates = sorted(v for v in events.values() if len(v) > 1)
    near_repeat = sorted(
        [first_of_event[c.event], first_of_event[c.parent_event]]
        for c in sc.calls
        if c.parent_event is not None and not c.duplicate and c.parent_event in first_of_event
    )
    g = sc.geo
    return {
        "generator": {"name": "precinct.sim", "version": __version__},
        "seed": sc.seed,
        "days": sc.days,
        "start": sc.start.isoformat(),
        "counts": {
            "reads": int(n_reads),
            "calls": len(sc.calls),
            "cases": len(sc.cases),
            "identifiers": len(sc.ids),
            "cameras": g.n_cameras,
            "population": {
                "commuters": sc.pop.n_commuter,
                "locals": sc.pop.n_local,
                "ebikes": sc.pop.n_bike,
                "through_pool": sc.pop.n_through,
            },
        },
        "stories": stories,
        "skipped_stories": dict(sorted(pl.skipped.items())),
        "calls": {
            **sc.calls_info,
            "duplicate_groups": duplicates,
            "near_repeat_pairs": near_repeat,
        },
        "cases": {
            k.case_id: {
                "watchlist_hits": ids(scanner.cases[k.case_id].seen) if not scanner.cases[k.case_id].keep_all else None
            }
            for k in sc.cases
        },
        "reads_per_camera": {g.camera_id[i]: int(n) for i, n in enumerate(scanner.per_camera)},
        "reads_per_hour": [int(x) for x in np.trim_zeros(scanner.per_hour, "b")],
    }
