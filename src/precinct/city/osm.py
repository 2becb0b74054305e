"""Drivable road graph from an OpenStreetMap ``.osm.pbf`` extract (parsed with pyrosm).

pyrosm splits every way at every node, so each OSM way segment becomes one straight edge (two
for two-way streets). One-way rules: ``oneway=yes|true|1`` forward only, ``-1|reverse`` backward
only, and motorways and roundabouts are one-way unless tagged otherwise. Speed is ``maxspeed``
(km/h, ``mph`` converted) where it parses, else a default by road class. Turn restrictions are
not modelled (turn-free routing).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

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


def _tag_names(tags: Any) -> tuple[str | None, str | None]:
    """``name:en`` and ``name:zh`` from pyrosm's JSON ``tags`` column."""
    if not isinstance(tags, str) or "name:" not in tags:
        return None, None
    try:
        d = json.loads(tags)
    except ValueError:
        return None, None
    return d.get("name:en"), d.get("name:zh")


def _read(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pyrosm

            osm = pyrosm.OSM(str(path))
            got = osm.get_network(network_type="driving", nodes=True)
    except Exception as exc:  # pyrosm raises bare Exceptions/ValueErrors/OSErrors on bad files
        raise BadInput(f"{path.name} is not a readable OpenStreetMap PBF file: {exc}",
                       detail={"path": str(path)}) from exc
    if got is None or got[1] is None or len(got[1]) == 0:
        raise BadInput(f"{path.name} contains no drivable roads", detail={"path": str(path)})
    nodes, edges = got
    return pd.DataFrame(nodes), pd.DataFrame(edges)


def build_from_osm(cls: type[G], path: Path) -> G:
    """Build a ``cls`` graph from the drivable network of ``path`` (see module docstring)."""
    if not path.exists():
        raise NotFound(f"no such OpenStreetMap file: {path}", detail={"path": str(path)})
    if path.is_dir():
        raise BadInput(f"{path} is a directory, not an .osm.pbf file")
    nodes, edges = _read(path)
    node_ids = pd.Index(nodes["id"].to_numpy())
    u = node_ids.get_indexer(edges["u"].to_numpy())
    v = node_ids.get_indexer(edges["v"].to_numpy())
    ok = (u >= 0) & (v >= 0) & (u != v)
    edges, u, v = edges.loc[ok], u[ok], v[ok]
    if len(edges) == 0:
        raise BadInput(f"{path.name} contains no usable drivable road segments")
    # Drop nodes no edge uses (pyrosm returns every node of the selected ways, so few).
    used = np.unique(np.concatenate([u, v]))
    remap = np.full(len(nodes), -1, dtype=np.int64)
    remap[used] = np.arange(used.size)
    u, v = remap[u], remap[v]
    lat = nodes["lat"].to_numpy(dtype=np.float64)[used]
    lon = nodes["lon"].to_numpy(dtype=np.float64)[used]

    highway = edges["highway"].astype(str).to_numpy()
    road_class = np.array([HIGHWAY_CLASS.get(h, SERVICE) for h in highway], dtype=np.uint8)
    oneway = (edges["oneway"] if "oneway" in edges else pd.Series(index=edges.index, dtype=str))
    ow = oneway.fillna("").astype(str).str.lower().to_numpy()
    tags = edges["tags"] if "tags" in edges else pd.Series([None] * len(edges), index=edges.index)
    roundabout = tags.fillna("").astype(str).str.contains('"junction":"roundabout"').to_numpy()
    implied = (road_class == MOTORWAY) | roundabout
    fwd_only = np.isin(ow, list(_FWD)) | (implied & (ow == ""))
    bwd_only = np.isin(ow, list(_BWD))
    maxspeed = edges["maxspeed"] if "maxspeed" in edges else pd.Series([None] * len(edges))
    speed = np.array([parse_maxspeed(x) for x in maxspeed.to_numpy()], dtype=np.float64)
    speed = np.where(np.isfinite(speed), speed, DEFAULT_SPEED_KMH[road_class])

    # Names: one id per distinct (name, name:en, name:zh).
    raw = edges["name"] if "name" in edges else pd.Series([None] * len(edges))
    name_keys: dict[tuple[str, ...], int] = {}
    name_id = np.full(len(edges), -1, dtype=np.int32)
    for i, (nm, tg) in enumerate(zip(raw.to_numpy(), tags.to_numpy(), strict=True)):
        en, zh = _tag_names(tg)
        variants = tuple(dict.fromkeys(x for x in (nm, en, zh) if isinstance(x, str) and x))
        if variants:
            name_id[i] = name_keys.setdefault(variants, len(name_keys))
    names = list(name_keys)

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
                          road_class=road_class[pick], name_id=name_id[pick], names=names,
                          meta=meta,
                          node_extras={"osm_node_id": nodes["id"].to_numpy(dtype=np.int64)[used]})
