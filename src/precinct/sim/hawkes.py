"""Near-repeat burglaries as a self-exciting (Hawkes) point process in space and time.

Each burglary raises the risk nearby for a while (Johnson & Bowers: elevated for about two weeks
within a few hundred metres). We simulate it through the branching representation: background
events are given; with probability ``share`` an event is followed by near-repeats (``1 +
Poisson(extra)`` of them), each after an exponential delay truncated to ``max_delay_s`` and at a
Gaussian offset truncated to ``radius_m``; near-repeats can trigger near-repeats in turn. The
branching ratio ``share * (1 + extra)`` must stay below 1 so the cascade ends. ``share = 0`` turns
the planting off (burglaries stay clustered in space by the hotspots and in time by the clock, but
with no space-time interaction).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NearRepeat:
    """Planted near-repeat victimisation: which share of burglaries trigger more, how many, how near, how soon."""

    share: float = 0.35
    extra: float = 0.3
    mean_delay_s: float = 3.0 * 86400
    max_delay_s: float = 14.0 * 86400
    sigma_m: float = 150.0
    radius_m: float = 200.0

    @property
    def alpha(self) -> float:
        """Mean near-repeats per burglary (the branching ratio)."""
        return self.share * (1.0 + self.extra)

    def check(self) -> None:
        """Refuse parameters that make no sense or never end, naming the parameter."""
        if not 0.0 <= self.share <= 1.0:
            raise ValueError(f"near-repeat share must be between 0 and 1, not {self.share}")
        if self.extra < 0 or self.alpha >= 1:
            raise ValueError(f"near-repeat share x (1 + extra) = {self.alpha:g} must be below 1 or the cascade "
                             "never ends")
        if not (self.mean_delay_s > 0 and self.max_delay_s > 60 and self.sigma_m > 0 and self.radius_m > 0):
            raise ValueError("near-repeat delays, sigma and radius must be positive")

    def as_dict(self) -> dict[str, float]:
        """The planted parameters, for the ground truth."""
        return {"share": self.share, "extra": self.extra, "alpha": self.alpha, "mean_delay_s": self.mean_delay_s,
                "max_delay_s": self.max_delay_s, "sigma_m": self.sigma_m, "radius_m": self.radius_m}


def _delays(rng: np.random.Generator, n: int, params: NearRepeat) -> np.ndarray:
    """Exponential delays (plus a minute) truncated to ``max_delay_s`` by inversion."""
    cap = params.max_delay_s - 60
    u = rng.random(n) * -np.expm1(-cap / params.mean_delay_s)
    return (-params.mean_delay_s * np.log1p(-u)).astype(np.int64) + 60


def _offsets(rng: np.random.Generator, n: int, params: NearRepeat) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian offsets truncated to the disc of ``radius_m``: the radius by inversion of its Rayleigh law."""
    cap = -np.expm1(-(params.radius_m**2) / (2 * params.sigma_m**2))
    r = params.sigma_m * np.sqrt(-2 * np.log1p(-rng.random(n) * cap))
    a = rng.uniform(0, 2 * np.pi, n)
    return r * np.cos(a), r * np.sin(a)


@dataclass(frozen=True)
class Cascade:
    """All events of a cascade, background first. ``parent`` is -1 for background events."""

    t: np.ndarray  # int64 seconds
    x: np.ndarray  # float64 metres east
    y: np.ndarray  # float64 metres north
    parent: np.ndarray  # int64 index into these arrays
    generation: np.ndarray  # int32, 0 for background


def simulate_cascade(
    rng: np.random.Generator,
    t0: np.ndarray,
    x0: np.ndarray,
    y0: np.ndarray,
    params: NearRepeat,
    horizon_s: int,
) -> Cascade:
    """Simulate the offspring of background events until the cascade dies out.

    Parameters
    ----------
    rng
        Random generator.
    t0, x0, y0
        Background events: seconds from the period start and local metres.
    params
        Branching parameters.
    horizon_s
        Children at or after this time are dropped (the end of the simulated period).

    Returns
    -------
    Cascade
        Background and triggered events; triggered events come after their parents in the arrays.
    """
    params.check()
    ts, xs, ys = [np.asarray(t0, np.int64)], [np.asarray(x0, float)], [np.asarray(y0, float)]
    parents = [np.full(len(t0), -1, np.int64)]
    gens = [np.zeros(len(t0), np.int32)]
    offset, gen = 0, 0
    cur_t, cur_x, cur_y = ts[0], xs[0], ys[0]
    while cur_t.size:
        triggers = rng.random(cur_t.size) < params.share
        n_children = np.where(triggers, 1 + rng.poisson(params.extra, size=cur_t.size), 0)
        idx = np.repeat(np.arange(cur_t.size), n_children)
        ct = cur_t[idx] + _delays(rng, idx.size, params)
        dx, dy = _offsets(rng, idx.size, params)
        cx, cy = cur_x[idx] + dx, cur_y[idx] + dy
        keep = ct < horizon_s
        gen += 1
        parent_abs = (idx + offset)[keep]
        offset += cur_t.size
        cur_t, cur_x, cur_y = ct[keep], cx[keep], cy[keep]
        ts.append(cur_t)
        xs.append(cur_x)
        ys.append(cur_y)
        parents.append(parent_abs)
        gens.append(np.full(cur_t.size, gen, np.int32))
    return Cascade(
        np.concatenate(ts),
        np.concatenate(xs),
        np.concatenate(ys),
        np.concatenate(parents),
        np.concatenate(gens),
    )
