"""The toolkit planted stories are written with: extra identifiers, reads, calls, cases, links.

A story never edits the background; it only adds. Identifiers it creates are appended after the
background population, so their indices are ``base + k``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from precinct.sim.calls import Call
from precinct.sim.geo import CityLike, Geography, haversine_m, route_nodes
from precinct.sim.incidents import TYPE_BY_CODE
from precinct.sim.traffic import AllCorridors

LOCAL_TZ = dt.timezone(dt.timedelta(hours=8))


@dataclass
class Case:
    """A case with a time window (seconds from the period start); ``tag`` is a story's handle."""

    tag: str
    lat: float
    lon: float
    start: int
    end: int
    radius_km: float
    case_id: str = ""
    call_tag: str | None = None


@dataclass
class Planter:
    """Collects what the stories add and offers the helpers they share."""

    geo: Geography
    ac: AllCorridors
    city: CityLike
    rng: np.random.Generator
    base: int  # index of the first planted identifier
    days: int
    start: dt.datetime  # local midnight of day 0
    plates: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    read_ts: list[int] = field(default_factory=list)  # milliseconds from the period start
    read_plate: list[int] = field(default_factory=list)
    read_cam: list[int] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    watch: list[tuple[str, str, str]] = field(default_factory=list)
    links: list[tuple[str, str, int, str]] = field(default_factory=list)  # ts: seconds
    truth: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # stories left out, and why
    _event: int = 10_000_000

    @property
    def horizon(self) -> int:
        return self.days * 86400

    def iso(self, ts_s: float) -> str:
        """Local ISO 8601 time with offset for seconds from the period start."""
        return (self.start + dt.timedelta(seconds=float(ts_s))).isoformat(timespec="seconds")

    def add_id(self, ident: str, kind: str = "plate") -> int:
        """Register a new plate or tag; returns its identifier index."""
        self.plates.append(ident)
        self.kinds.append(kind)
        return self.base + len(self.plates) - 1

    def read(self, plate: int, cam: int, ts_s: float) -> None:
        """One read of identifier ``plate`` at camera ``cam`` (dropped outside the period)."""
        if 0 <= ts_s < self.horizon:
            self.read_ts.append(int(ts_s * 1000))
            self.read_plate.append(plate)
            self.read_cam.append(int(cam))

    def trip(self, plate: int, corr: int, dep_s: float) -> list[tuple[int, float]]:
        """Drive a corridor (combined index), read at every camera; returns (camera, ts) pairs."""
        c = self.ac.c
        sl = slice(int(c.ptr[corr]), int(c.ptr[corr + 1]))
        out = [(int(k), dep_s + float(o)) for k, o in zip(c.cam[sl], c.off[sl], strict=True)]
        for k, t in out:
            self.read(plate, k, t)
        return out

    def route_passes(self, a: int, b: int) -> tuple[list[tuple[int, float]], float]:
        """Checkpoint cameras on the fastest route from node ``a`` to ``b``, with time offsets."""
        nodes, cum_t = route_nodes(self.city, a, b)
        where = {int(n): i for i, n in enumerate(self.geo.camera_node) if self.geo.camera_kind[i] == "plate"}
        passes = [(where[int(n)], float(t)) for n, t in zip(nodes, cum_t, strict=True) if int(n) in where]
        return passes, float(cum_t[-1]) if cum_t.size else 0.0

    def call(
        self,
        tag: str,
        ts_s: float,
        lat: float,
        lon: float,
        type_code: str,
        description: str,
        **extra: Any,
    ) -> Call:
        t = TYPE_BY_CODE[type_code]
        self._event += 1
        c = Call(
            int(ts_s),
            float(lat),
            float(lon),
            type_code,
            t.priority,
            description,
            self._event,
            tag=tag,
            extra=extra,
        )
        self.calls.append(c)
        return c

    def cams_within(self, lat: float, lon: float, lo_m: float, hi_m: float, kind: str = "plate") -> np.ndarray:
        d = haversine_m(lat, lon, self.geo.camera_lat, self.geo.camera_lon)
        ok = (d >= lo_m) & (d < hi_m) & (np.array(self.geo.camera_kind) == kind)
        return np.flatnonzero(ok)

    def corridors(self, kind: str, min_cams: int = 1) -> np.ndarray:
        """Combined indices of the car, through or bike corridors with ``min_cams`` cameras."""
        start, n = {
            "car": (self.ac.car0, self.ac.n_car),
            "through": (self.ac.thr0, self.ac.n_thr),
            "bike": (self.ac.bike0, self.ac.n_bike),
        }[kind]
        idx = np.arange(start, start + n)
        return idx[self.ac.c.counts[idx] >= min_cams]

    def daily_life(self, plate: int, kind: str = "car", p_day: float = 0.4) -> None:
        """Ordinary daytime trips on some days, so planted vehicles are not seen only at crimes."""
        pool = self.corridors(kind)
        for d in range(self.days):
            if self.rng.random() < p_day:
                corr = int(self.rng.choice(pool))
                self.trip(plate, corr, d * 86400 + float(self.rng.uniform(9, 16)) * 3600)

    def node_at(self, lat: float, lon: float) -> int:
        return int(np.asarray(self.city.nearest_nodes(np.array([lat]), np.array([lon])))[0])
