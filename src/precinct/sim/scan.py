"""Exact answers computed from the reads as they are written (one pass, chunk by chunk).

Planted stories say what *must* be found; the scan says what a correct analysis *will* find in the
data, background included (an ordinary offender's car that happened to pass a case in its window
is a true hit too). Tests re-derive the same answers by brute force from the files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from precinct.sim.geo import Geography, haversine_m

CLONE_KMH = 150.0
CLONE_MIN_M = 2000.0


@dataclass
class CaseScan:
    """Which identifiers were read within a case's radius and window."""

    start_ms: int
    end_ms: int
    cam_mask: np.ndarray  # bool per camera: inside the radius
    keep_all: bool  # keep every identifier seen (series cases) or watch-listed ones only
    seen: set[int] = field(default_factory=set)


def stable_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for non-negative integers, by 16-bit radix passes.

    NumPy sorts 16-bit integers with a radix sort but wider ones with timsort; two or three
    passes over 16-bit digits are about three times faster for a day of reads, same order.
    """
    if keys.size == 0:
        return np.zeros(0, np.int64)
    top = int(keys.max())
    if int(keys.min()) < 0:
        return np.argsort(keys, kind="stable")
    order = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    shift = 16
    while top >> shift:
        digit = ((keys[order] >> shift) & 0xFFFF).astype(np.uint16)
        order = order[np.argsort(digit, kind="stable")]
        shift += 16
    return order


class Scanner:
    """Accumulates per-case hits, impossible-speed pairs, and per-camera / per-hour counts."""

    def __init__(self, geo: Geography, n_ids: int, watched: np.ndarray, days: int) -> None:
        self.geo = geo
        self.watched = np.zeros(n_ids, dtype=bool)
        self.watched[watched] = True
        self.cases: dict[str, CaseScan] = {}
        self.last_ts = np.full(n_ids, -1, dtype=np.int64)
        self.last_cam = np.full(n_ids, -1, dtype=np.int64)
        self.cam_dist = haversine_m(
            geo.camera_lat[:, None],
            geo.camera_lon[:, None],
            geo.camera_lat[None, :],
            geo.camera_lon[None, :],
        )
        self.clone_pairs: dict[int, int] = {}
        self.per_camera = np.zeros(geo.n_cameras, dtype=np.int64)
        self.per_hour = np.zeros(days * 24 + 48, dtype=np.int64)
        self.total = 0
        self._windows: tuple[list[CaseScan], np.ndarray, np.ndarray] | None = None

    def add_case(
        self,
        case_id: str,
        lat: float,
        lon: float,
        start_s: int,
        end_s: int,
        radius_km: float,
        keep_all: bool = False,
    ) -> None:
        mask = haversine_m(lat, lon, self.geo.camera_lat, self.geo.camera_lon) <= radius_km * 1000
        self.cases[case_id] = CaseScan(start_s * 1000, end_s * 1000, mask, keep_all)
        self._windows = None

    def observe(self, ts: np.ndarray, ids: np.ndarray, cam: np.ndarray) -> None:
        """One chunk of reads, sorted by time, later than every earlier chunk."""
        self.total += ts.size
        self.per_camera += np.bincount(cam, minlength=self.per_camera.size)
        hours = ts // 3_600_000
        self.per_hour[: int(hours.max()) + 1 if hours.size else 0] += np.bincount(hours)
        # Most cases want watch-listed vehicles only: scan that small subset of the chunk.
        w = np.flatnonzero(self.watched[ids])
        w_ts, w_ids, w_cam = ts[w], ids[w], cam[w]
        # Only the cases whose window overlaps the chunk (a year holds tens of thousands of cases;
        # looping over all of them for every day made the scan grow with days squared).
        if self._windows is None:
            scans = list(self.cases.values())
            self._windows = (
                scans,
                np.array([c.start_ms for c in scans], dtype=np.int64),
                np.array([c.end_ms for c in scans], dtype=np.int64),
            )
        scans, starts, ends = self._windows
        live = np.flatnonzero((ends >= ts[0]) & (starts <= ts[-1])) if ts.size else np.zeros(0, np.int64)
        for j in live.tolist():
            cs = scans[j]
            c_ts, c_ids, c_cam = (ts, ids, cam) if cs.keep_all else (w_ts, w_ids, w_cam)
            lo, hi = np.searchsorted(c_ts, [cs.start_ms, cs.end_ms + 1])
            if lo == hi:
                continue
            hit = cs.cam_mask[c_cam[lo:hi]]
            cs.seen.update(np.unique(c_ids[lo:hi][hit]).tolist())
        self._speeds(ts, ids, cam)

    def state(self) -> dict[str, np.ndarray]:
        """Everything :meth:`observe` has accumulated, as arrays (for a resumable run's checkpoint)."""
        seen = [np.array(sorted(cs.seen), dtype=np.int64) for cs in self.cases.values()]
        return {
            "total": np.array(self.total, dtype=np.int64),
            "per_camera": self.per_camera,
            "per_hour": self.per_hour,
            "last_ts": self.last_ts,
            "last_cam": self.last_cam,
            "clone_ids": np.array(list(self.clone_pairs), dtype=np.int64),
            "clone_n": np.array(list(self.clone_pairs.values()), dtype=np.int64),
            "seen_n": np.array([a.size for a in seen], dtype=np.int64),
            "seen": np.concatenate(seen) if seen else np.zeros(0, np.int64),
        }

    def restore(self, state: dict[str, np.ndarray]) -> None:
        """Continue from :meth:`state` (the same cases must have been added, in the same order)."""
        if state["seen_n"].size != len(self.cases) or state["last_ts"].size != self.last_ts.size:
            raise ValueError("the checkpoint was written for a different scenario")
        self.total = int(state["total"])
        self.per_camera = state["per_camera"].copy()
        self.per_hour = state["per_hour"].copy()
        self.last_ts = state["last_ts"].copy()
        self.last_cam = state["last_cam"].copy()
        self.clone_pairs = dict(zip(state["clone_ids"].tolist(), state["clone_n"].tolist(), strict=True))
        bounds = np.concatenate([[0], np.cumsum(state["seen_n"])]).tolist()
        flat = state["seen"].tolist()
        for i, cs in enumerate(self.cases.values()):
            cs.seen = set(flat[bounds[i] : bounds[i + 1]])

    def _speeds(self, ts: np.ndarray, ids: np.ndarray, cam: np.ndarray) -> None:
        order = stable_order(ids)  # by id, then time: the chunk is in time order already
        i_s, t_s, c_s = ids[order], ts[order], cam[order]
        first = np.concatenate([[True], i_s[1:] != i_s[:-1]])
        prev_t = np.where(first, self.last_ts[i_s], np.concatenate([[0], t_s[:-1]]))
        prev_c = np.where(first, self.last_cam[i_s], np.concatenate([[0], c_s[:-1]]))
        ok = prev_t >= 0
        dist = np.where(ok, self.cam_dist[c_s, np.maximum(prev_c, 0)], 0.0)
        dt_h = np.maximum(t_s - prev_t, 1000) / 3_600_000
        bad = ok & (dist > CLONE_MIN_M) & (dist / 1000 / dt_h > CLONE_KMH)
        for pid in i_s[bad].tolist():
            self.clone_pairs[pid] = self.clone_pairs.get(pid, 0) + 1
        last = np.concatenate([i_s[1:] != i_s[:-1], [True]]) if i_s.size else np.zeros(0, bool)
        self.last_ts[i_s[last]] = t_s[last]
        self.last_cam[i_s[last]] = c_s[last]
