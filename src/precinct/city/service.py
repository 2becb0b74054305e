"""The city this installation uses, loaded once per process, and the one way other domains reach it.

``city_for(app.state)`` (API) and ``city_for_settings(settings)`` (CLI, background workers) return a
:class:`~precinct.city.access.CityLink` (typed by the :class:`~precinct.city.access.RoadNetwork`
protocol, with straight-line fallbacks when no network can be loaded); :func:`load_city` and
:func:`built_city` give the network itself. :func:`haversine_m` is the project's one distance.
"""

from __future__ import annotations

import gc
import json
import logging
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from precinct.city.access import RETRY_AFTER_S, CityLink, RoadNetwork
from precinct.city.geo import haversine_m
from precinct.config import Settings, get_settings

if TYPE_CHECKING:  # imported when first needed: the CLI imports this module at start-up
    from precinct.city.road import RoadGraph

DEFAULT_SIZE_KM = 15.0
DEFAULT_SEED = 1
_lock = threading.Lock()
_cache: dict[Path, RoadGraph] = {}
_link_lock = threading.Lock()  # not _lock: a link loads the graph, which takes _lock
_failed: dict[str, float] = {}  # graph path -> monotonic time of a failed load
log = logging.getLogger("precinct.city")
__all__ = [
    "CityLink",
    "RoadNetwork",
    "built_city",
    "city_dir",
    "city_for",
    "city_for_settings",
    "clear_cache",
    "current_city",
    "default_city",
    "ensure_osm_city",
    "graph_path",
    "haversine_m",
    "load_city",
    "nearest_segments",
    "read_meta",
    "store",
]


def city_dir(settings: Settings | None = None) -> Path:
    """``<data_dir>/city``: where the built graph and its provenance live."""
    s = settings or get_settings()
    return Path(s.data_dir) / "city"


def graph_path(settings: Settings | None = None) -> Path:
    """The cached graph file."""
    return city_dir(settings) / "graph.npz"


def read_meta(settings: Settings | None = None) -> dict[str, Any] | None:
    """Provenance of the cached graph (``None`` if nothing is built)."""
    p = city_dir(settings) / "graph.json"
    if not p.exists() or not graph_path(settings).exists():
        return None
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def store(graph: RoadGraph, meta: dict[str, Any], settings: Settings | None = None) -> Path:
    """Save ``graph`` as this installation's city and forget any loaded copy."""
    d = city_dir(settings)
    d.mkdir(parents=True, exist_ok=True)
    path = graph.save(graph_path(settings))
    (d / "graph.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    with _lock:
        _cache.pop(path.resolve(), None)
    return path


@lru_cache(maxsize=1)
def default_city() -> RoadGraph:
    """The default synthetic city (15 km, seed 1, with its hierarchy), built once a process.

    It is deterministic, so every data directory without a built city shares this one object
    (test suites create many data directories; building it each time would cost seconds).
    """
    from precinct.city.road import RoadGraph

    return RoadGraph.synthetic(size_km=DEFAULT_SIZE_KM, seed=DEFAULT_SEED).prepare()


def ensure_osm_city(osm: Path, settings: Settings | None = None, *,
                    on_build: Callable[[], None] | None = None) -> None:
    """Build and store the road graph from an OpenStreetMap file unless the stored one came from it.

    Parameters
    ----------
    osm
        An ``.osm.pbf`` file.
    settings
        Where the graph is stored (the data directory).
    on_build
        Called before a (slow) build starts, for progress messages.
    """
    from precinct.city.osm import file_digest
    from precinct.city.road import RoadGraph

    want = {"source": "osm", "file": osm.name, "sha256": file_digest(osm)}
    have = read_meta(settings) or {}
    if any(have.get(k) != v for k, v in want.items()):
        if on_build is not None:
            on_build()
        store(RoadGraph.from_osm(osm), want, settings)


def nearest_segments(graph: RoadGraph, x: Any, y: Any, max_distance_m: float) -> Any:
    """Index into ``graph.segment_edges`` of the nearest physical segment of each point.

    Parameters
    ----------
    graph
        A prepared road graph.
    x, y
        Points in the graph's local metric frame (``graph.frame.to_xy``).
    max_distance_m
        Points farther than this from every segment get -1.
    """
    import numpy as np

    from precinct.city.snapping import GridIndex

    seg, _, _ = GridIndex(graph).nearest(x, y, max_distance_m)
    return np.asarray(seg, dtype=np.int64)


def current_city(settings: Settings | None = None) -> RoadGraph:
    """The road graph of this installation.

    The graph cached under ``<data_dir>/city/`` by ``precinct city build``; if there is none,
    the default synthetic city (15 km, seed 1) is built and cached there on first use. The
    result is kept for the life of the process (one per data directory).

    Parameters
    ----------
    settings : Settings, optional
        Defaults to :func:`precinct.config.get_settings`.
    """
    path = graph_path(settings).resolve()
    with _lock:
        g = _cache.get(path)
        if g is not None:
            return g
        if path.exists():
            from precinct.city.road import RoadGraph

            g = RoadGraph.load(path)
        else:
            g = default_city()
            try:
                store_meta = {"source": "synthetic", "size_km": DEFAULT_SIZE_KM,
                              "seed": DEFAULT_SEED, "default": True}
                d = path.parent
                d.mkdir(parents=True, exist_ok=True)
                g.save(path)
                (d / "graph.json").write_text(json.dumps(store_meta), encoding="utf-8")
            except OSError:
                pass  # a read-only data dir still gets a working (uncached) city
        _cache[path] = g
        return g


def clear_cache() -> None:
    """Forget loaded graphs (tests; after a rebuild in another process)."""
    with _lock:
        _cache.clear()



# --- the one accessor other domains use (typed, cached, with a fallback) --------------------------

def load_city(settings: Settings | None = None) -> RoadNetwork:
    """This installation's road network as the :class:`RoadNetwork` protocol (may raise)."""
    return current_city(settings)


def built_city(settings: Settings | None = None) -> RoadNetwork | None:
    """The road network only if one has been built under the data directory (else None)."""
    return load_city(settings) if graph_path(settings).exists() else None


def _try_load(settings: Settings | None) -> RoadNetwork | None:
    try:
        return load_city(settings)
    except Exception as exc:  # not built yet, or no data: straight-line fallback
        log.warning("no city road graph (%s); ETAs fall back to straight-line estimates", type(exc).__name__)
        return None


def _fresh(tried: float | None, link: CityLink) -> bool:
    """A loaded city stays; a failed load is retried after a minute; a link set by hand stays."""
    return link.city is not None or tried is None or time.monotonic() - tried < RETRY_AFTER_S


def city_for(state: Any) -> CityLink:
    """The app's city link (``app.state``), loading the city on first use.

    A city set by hand on ``state.city`` (tests, the demo) is used as it is; a failed load is
    retried each minute.
    """
    link: CityLink | None = getattr(state, "city_link", None)
    if link is not None and _fresh(getattr(state, "city_tried_at", None), link):
        return link
    with _link_lock:
        link = getattr(state, "city_link", None)
        if link is not None and _fresh(getattr(state, "city_tried_at", None), link):
            return link
        city = state.city if getattr(state, "city", None) is not None else _try_load(state.settings)
        state.city = city
        state.city_tried_at = time.monotonic()
        link = CityLink(city)
        state.city_link = link
        settings = getattr(state, "settings", None)
        if city is not None and getattr(settings, "environment", "test") != "test":
            # as at start-up (precinct.app.freeze_heap): the graph's objects leave the collector's scans
            gc.collect()
            gc.freeze()
        return link


def city_for_settings(settings: Settings | None = None) -> CityLink:
    """The city link outside an app (CLI commands, background workers).

    The network itself is cached by :func:`precinct.city.service.current_city` (one per data
    directory); a failed load is remembered here and retried after a minute.
    """
    key = str(graph_path(settings).resolve())
    failed_at = _failed.get(key)
    if failed_at is not None and time.monotonic() - failed_at < RETRY_AFTER_S:
        return CityLink(None)
    city = _try_load(settings)
    if city is None:
        _failed[key] = time.monotonic()
    else:
        _failed.pop(key, None)
    return CityLink(city)
