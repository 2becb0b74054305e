"""Near-repeat burglaries as a self-exciting (Hawkes) point process in space and time.

Each burglary raises the risk nearby for a while (Johnson & Bowers: elevated for about two weeks
within a few hundred metres). We simulate it through the branching representation: background
events are given; each event has ``Poisson(alpha)`` children, displaced by an exponential delay and
a Gaussian offset; children have children in turn. ``alpha < 1`` keeps the cascade finite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NearRepeat:
    """Branching-process parameters: mean children per event, mean delay, spatial spread."""

    alpha: float = 0.45
    mean_delay_s: float = 3.0 * 86400
    sigma_m: float = 150.0


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
    if params.alpha >= 1:
        raise ValueError("alpha must be below 1 or the cascade never ends")
    ts, xs, ys = [np.asarray(t0, np.int64)], [np.asarray(x0, float)], [np.asarray(y0, float)]
    parents = [np.full(len(t0), -1, np.int64)]
    gens = [np.zeros(len(t0), np.int32)]
    offset, gen = 0, 0
    cur_t, cur_x, cur_y = ts[0], xs[0], ys[0]
    while cur_t.size:
        n_children = rng.poisson(params.alpha, size=cur_t.size)
        idx = np.repeat(np.arange(cur_t.size), n_children)
        delay = rng.exponential(params.mean_delay_s, size=idx.size).astype(np.int64) + 60
        ct = cur_t[idx] + delay
        cx = cur_x[idx] + rng.normal(0, params.sigma_m, idx.size)
        cy = cur_y[idx] + rng.normal(0, params.sigma_m, idx.size)
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
