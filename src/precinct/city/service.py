"""The city this installation uses, loaded once per process."""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from precinct.config import Settings, get_settings

if TYPE_CHECKING:  # imported when first needed: the CLI imports this module at start-up
    from precinct.city.road import RoadGraph

DEFAULT_SIZE_KM = 15.0
DEFAULT_SEED = 1
_lock = threading.Lock()
_cache: dict[Path, RoadGraph] = {}


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


# The city's public face for other domains: the one accessor (loads, caches, falls back) and the
# distance function, re-exported from where they live.
from precinct.city.access import (  # noqa: E402
    CityLink,
    RoadNetwork,
    built_city,
    city_for,
    city_for_settings,
    load_city,
)
from precinct.city.geo import haversine_m  # noqa: E402

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
    "graph_path",
    "haversine_m",
    "load_city",
    "read_meta",
    "store",
]
