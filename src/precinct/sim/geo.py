"""Geometry helpers and the simulator's view of the city: population, cameras and corridors.

The road graph itself belongs to :mod:`precinct.city`; the simulator needs only a few things from
it (node coordinates, nearest nodes, a fastest route). From those it derives, once per scenario:

- a population density over the nodes (a town centre and a few satellite towns), which places
  homes, workplaces and calls;
- *corridors*: fastest routes between sampled origin-destination pairs, the trips vehicles repeat;
- checkpoint cameras at the junctions the corridors use most (where real 卡口 are put), and e-bike
  tag readers on the short e-bike corridors;
- for every corridor, the cameras it passes and the time offset of each, stored as flat
  CSR-style arrays so that a day's reads can be expanded with ``numpy.repeat`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from precinct.city.service import haversine_m
from precinct.errors import BadInput, Unreachable

M_PER_DEG_LAT = 110_574.0


class CityLike(Protocol):
    """What the simulator uses of a road graph (``precinct.city.RoadGraph`` satisfies it)."""

    @property
    def n_nodes(self) -> int: ...
    @property
    def node_lat(self) -> np.ndarray: ...
    @property
    def node_lon(self) -> np.ndarray: ...
    def nearest_nodes(self, lats: Any, lons: Any) -> np.ndarray: ...
    def route(
        self,
        from_latlon: tuple[float, float],
        to_latlon: tuple[float, float],
        *,
        metric: str = "time",
    ) -> Any: ...


@dataclass(frozen=True)
class LocalFrame:
    """An equirectangular projection around a centre; accurate to well under 0.1 % over 30 km."""

    lat0: float
    lon0: float

    @property
    def m_per_deg_lon(self) -> float:
        return 111_320.0 * float(np.cos(np.radians(self.lat0)))

    def to_xy(self, lat: Any, lon: Any) -> tuple[np.ndarray, np.ndarray]:
        """Degrees to metres east and north of the centre."""
        x = (np.asarray(lon, float) - self.lon0) * self.m_per_deg_lon
        y = (np.asarray(lat, float) - self.lat0) * M_PER_DEG_LAT
        return x, y

    def to_latlon(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Metres east and north of the centre to degrees."""
        lat = self.lat0 + np.asarray(y, float) / M_PER_DEG_LAT
        lon = self.lon0 + np.asarray(x, float) / self.m_per_deg_lon
        return lat, lon


@dataclass(frozen=True)
class Corridors:
    """Routes with the cameras each passes, flattened.

    Corridor ``c`` passes cameras ``cam[ptr[c]:ptr[c+1]]`` at ``off[ptr[c]:ptr[c+1]]`` seconds
    after departure; ``duration[c]`` is its total travel time. Index ``c + n`` is the same road
    driven the other way (``n`` = number of routes).
    """

    ptr: np.ndarray  # int64, len 2n+1
    cam: np.ndarray  # int32 camera index
    off: np.ndarray  # float64 seconds after departure
    duration: np.ndarray  # float64 seconds, len 2n
    origin: np.ndarray  # int64 node, len 2n
    dest: np.ndarray  # int64 node, len 2n

    @property
    def n(self) -> int:
        return int(self.duration.size)

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.ptr)


@dataclass(frozen=True)
class Geography:
    """Everything spatial the generators need, derived once from a city and a seed."""

    frame: LocalFrame
    node_lat: np.ndarray
    node_lon: np.ndarray
    node_weight: np.ndarray  # population density, sums to 1
    hotspot_lat: np.ndarray
    hotspot_lon: np.ndarray
    hotspot_weight: np.ndarray
    camera_id: list[str]
    camera_lat: np.ndarray
    camera_lon: np.ndarray
    camera_kind: list[str]  # "plate" (checkpoint camera) or "tag" (e-bike tag reader)
    camera_node: np.ndarray  # int64 graph node of each camera
    car: Corridors  # commuter and local trips
    through: Corridors  # through traffic, edge to edge
    bike: Corridors  # e-bike trips, read by tag readers

    @property
    def n_cameras(self) -> int:
        return len(self.camera_id)


def population_weights(
    rng: np.random.Generator,
    frame: LocalFrame,
    node_lat: np.ndarray,
    node_lon: np.ndarray,
    n_towns: int = 3,
) -> np.ndarray:
    """Population density per node: a dense centre, a few satellite towns, a rural floor."""
    x, y = frame.to_xy(node_lat, node_lon)
    half = max(float(np.abs(x).max()), float(np.abs(y).max()), 1000.0)
    w = np.exp(-(x**2 + y**2) / (2 * (0.18 * half) ** 2))
    for _ in range(n_towns):
        tx, ty = rng.uniform(-0.7 * half, 0.7 * half, size=2)
        w += 0.4 * np.exp(-((x - tx) ** 2 + (y - ty) ** 2) / (2 * (0.07 * half) ** 2))
    w += 0.03
    return w / w.sum()


def route_nodes(city: CityLike, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """Node ids along the fastest route and the cumulative time (s) at each."""
    lat, lon = city.node_lat, city.node_lon
    r = city.route((float(lat[a]), float(lon[a])), (float(lat[b]), float(lon[b])), metric="time")
    path = np.asarray(r.path, dtype=np.float64).reshape(-1, 2)
    nodes = np.asarray(city.nearest_nodes(path[:, 0], path[:, 1]), dtype=np.int64)
    seg = haversine_m(path[:-1, 0], path[:-1, 1], path[1:, 0], path[1:, 1])
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    # The route gives total time only; spread it along the path in proportion to distance.
    total = float(r.time_s)
    cum_t = cum / cum[-1] * total if cum[-1] > 0 else np.zeros_like(cum)
    keep = np.concatenate([[True], nodes[1:] != nodes[:-1]])
    return nodes[keep], cum_t[keep]


def _routes(
    city: CityLike, a: np.ndarray, b: np.ndarray
) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray, np.ndarray]:
    """Route every pair; pairs without a road path (islands, one-way traps on real maps) drop out."""
    routes, ok = [], []
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        try:
            routes.append(route_nodes(city, int(x), int(y)))
            ok.append(i)
        except (Unreachable, BadInput):
            continue
    keep = np.array(ok, dtype=np.int64)
    return routes, a[keep], b[keep]


def _sample_pairs(
    rng: np.random.Generator,
    frame: LocalFrame,
    lat: np.ndarray,
    lon: np.ndarray,
    p_from: np.ndarray,
    p_to: np.ndarray,
    n: int,
    min_m: float,
    max_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` origin-destination node pairs with a straight-line distance in ``[min_m, max_m]``."""
    out_a: list[np.ndarray] = []
    out_b: list[np.ndarray] = []
    got = 0
    for _ in range(50):
        a = rng.choice(lat.size, size=4 * n, p=p_from)
        b = rng.choice(lat.size, size=4 * n, p=p_to)
        d = haversine_m(lat[a], lon[a], lat[b], lon[b])
        ok = (d >= min_m) & (d <= max_m)
        out_a.append(a[ok])
        out_b.append(b[ok])
        got += int(ok.sum())
        if got >= n:
            break
    return np.concatenate(out_a)[:n], np.concatenate(out_b)[:n]


def _pick_sites(
    counts: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    n: int,
    min_spacing_m: float,
    exclude: np.ndarray | None = None,
) -> np.ndarray:
    """The ``n`` most-used nodes, greedily, no two closer than ``min_spacing_m``."""
    order = np.argsort(-counts, kind="stable")
    order = order[counts[order] > 0]
    chosen: list[int] = []
    taken_lat: list[float] = [] if exclude is None else list(lat[exclude])
    taken_lon: list[float] = [] if exclude is None else list(lon[exclude])
    for node in order:
        if (
            taken_lat
            and haversine_m(lat[node], lon[node], np.array(taken_lat), np.array(taken_lon)).min() < min_spacing_m
        ):
            continue
        chosen.append(int(node))
        taken_lat.append(float(lat[node]))
        taken_lon.append(float(lon[node]))
        if len(chosen) == n:
            break
    return np.array(chosen, dtype=np.int64)


def _corridors(
    routes: list[tuple[np.ndarray, np.ndarray]],
    cam_of_node: dict[int, int],
    origins: np.ndarray,
    dests: np.ndarray,
) -> Corridors:
    """Flatten routes into camera passes, both directions."""
    fw_cam: list[np.ndarray] = []
    fw_off: list[np.ndarray] = []
    bw_cam: list[np.ndarray] = []
    bw_off: list[np.ndarray] = []
    dur = np.zeros(len(routes))
    for i, (nodes, cum_t) in enumerate(routes):
        pos = [j for j, nd in enumerate(nodes) if int(nd) in cam_of_node]
        cams = np.array([cam_of_node[int(nodes[j])] for j in pos], dtype=np.int32)
        offs = cum_t[pos] if pos else np.zeros(0)
        total = float(cum_t[-1]) if cum_t.size else 0.0
        dur[i] = total
        fw_cam.append(cams)
        fw_off.append(offs)
        bw_cam.append(cams[::-1].copy())
        bw_off.append(total - offs[::-1])
    cams_all = fw_cam + bw_cam
    counts = np.array([c.size for c in cams_all], dtype=np.int64)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return Corridors(
        ptr=ptr,
        cam=np.concatenate(cams_all) if cams_all else np.zeros(0, np.int32),
        off=np.concatenate(fw_off + bw_off) if cams_all else np.zeros(0),
        duration=np.concatenate([dur, dur]),
        origin=np.concatenate([origins, dests]).astype(np.int64),
        dest=np.concatenate([dests, origins]).astype(np.int64),
    )


def build_geography(
    city: CityLike,
    rng: np.random.Generator,
    *,
    n_car: int = 600,
    n_through: int = 80,
    n_bike: int = 300,
    n_cameras: int = 120,
    n_readers: int = 60,
    n_hotspots: int = 12,
) -> Geography:
    """Derive population, corridors and camera sites from a road graph.

    Parameters
    ----------
    city
        The road graph (see :class:`CityLike`).
    rng
        Random generator; the same state gives the same geography.
    n_car, n_through, n_bike
        Number of distinct routes for local car trips, through traffic and e-bike trips.
    n_cameras, n_readers
        Checkpoint cameras and e-bike tag readers to place.
    n_hotspots
        Call hotspots (night-life streets, markets, stations).

    Returns
    -------
    Geography
    """
    lat = np.asarray(city.node_lat, dtype=np.float64)
    lon = np.asarray(city.node_lon, dtype=np.float64)
    frame = LocalFrame(float((lat.min() + lat.max()) / 2), float((lon.min() + lon.max()) / 2))
    weight = population_weights(rng, frame, lat, lon)
    x, y = frame.to_xy(lat, lon)
    half = max(float(np.abs(x).max()), float(np.abs(y).max()))

    car_a, car_b = _sample_pairs(rng, frame, lat, lon, weight, weight, n_car, 1500, 1e9)
    edge = (np.maximum(np.abs(x), np.abs(y)) > 0.85 * half).astype(float) + 1e-12
    edge /= edge.sum()
    thr_a, thr_b = _sample_pairs(rng, frame, lat, lon, edge, edge, n_through, 1.4 * half, 1e9)
    bike_a, bike_b = _sample_pairs(rng, frame, lat, lon, weight, weight, n_bike, 600, 4000)

    car_routes, car_a, car_b = _routes(city, car_a, car_b)
    thr_routes, thr_a, thr_b = _routes(city, thr_a, thr_b)
    bike_routes, bike_a, bike_b = _routes(city, bike_a, bike_b)
    if not car_routes:
        raise BadInput("the road graph has no drivable routes between its populated places")

    car_use = np.zeros(lat.size)
    for nodes, _ in car_routes + thr_routes:
        np.add.at(car_use, nodes, 1.0)
    bike_use = np.zeros(lat.size)
    for nodes, _ in bike_routes:
        np.add.at(bike_use, nodes, 1.0)
    cams = _pick_sites(car_use, lat, lon, n_cameras, 400.0)
    readers = _pick_sites(bike_use, lat, lon, n_readers, 300.0)

    cam_of_node = {int(nd): i for i, nd in enumerate(cams)}
    reader_of_node = {int(nd): i + cams.size for i, nd in enumerate(readers)}
    hot = rng.choice(lat.size, size=n_hotspots, replace=False, p=weight)
    return Geography(
        frame=frame,
        node_lat=lat,
        node_lon=lon,
        node_weight=weight,
        hotspot_lat=lat[hot],
        hotspot_lon=lon[hot],
        hotspot_weight=rng.dirichlet(np.full(n_hotspots, 2.0)),
        camera_id=[f"KK{i + 1:04d}" for i in range(cams.size)] + [f"TR{i + 1:04d}" for i in range(readers.size)],
        camera_lat=np.concatenate([lat[cams], lat[readers]]),
        camera_lon=np.concatenate([lon[cams], lon[readers]]),
        camera_kind=["plate"] * cams.size + ["tag"] * readers.size,
        camera_node=np.concatenate([cams, readers]),
        car=_corridors(car_routes, cam_of_node, car_a, car_b),
        through=_corridors(thr_routes, cam_of_node, thr_a, thr_b),
        bike=_corridors(bike_routes, reader_of_node, bike_a, bike_b),
    )
