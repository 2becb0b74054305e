"""Background traffic: a vehicle population and the plate/tag reads it produces, one day at a time.

Four kinds of road user, each with its own rhythm:

- commuters drive the same corridor out in the morning and back in the evening on weekdays, at a
  personal time that moves only a few minutes from day to day (the daily repetition that makes
  "seen at the same place every day" analyses meaningful);
- locals make one to four trips a day on a few favourite corridors, following the traffic profile;
- through traffic crosses the county edge to edge, with plates from other cities and provinces;
- e-bikes commute on short corridors and are read by tag readers.

A trip expands into one read per camera on its corridor (each missed with a small probability),
at departure + the corridor's time offset x the trip's own speed factor. Everything is vectorised
with ``numpy.repeat``; one day of reads is produced by a single call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from precinct.sim.geo import Corridors, Geography
from precinct.sim.rhythm import DAY_S, HOURLY

# Fractions of reads from each kind of road user.
SHARES = {"commuter": 0.40, "local": 0.35, "through": 0.13, "bike": 0.12}
DETECT_P = 0.95  # a camera reads a passing plate
LOCAL_ACTIVE_P = 0.6
LOCAL_MEAN_TRIPS = 1.8
BIKE_ACTIVE_P = 0.7
MAX_TRIPS = 4
# Speed factors multiply corridor times; never below 0.95 so no vehicle beats the road's speed by
# much (a cloned plate's impossible speed must stand out).
SPEED_LO, SPEED_HI = 0.95, 1.3


@dataclass(frozen=True)
class Population:
    """The background vehicles. Index ranges: commuters, locals, bikes (tags), through pool.

    ``home`` is each commuter's or e-bike's forward corridor; ``favs`` three corridors per local;
    ``dep_am``/``dep_pm`` personal departure times (seconds of day).
    """

    n_commuter: int
    n_local: int
    n_bike: int
    n_through: int
    home: np.ndarray  # int64 corridor per commuter then per bike (combined index)
    dep_am: np.ndarray  # float64 per commuter then per bike
    dep_pm: np.ndarray
    favs: np.ndarray  # int64 (n_local, 3) combined corridor index
    through_trips_per_day: int

    @property
    def n_vehicles(self) -> int:
        return self.n_commuter + self.n_local + self.n_bike + self.n_through

    @property
    def bike_start(self) -> int:
        return self.n_commuter + self.n_local

    @property
    def through_start(self) -> int:
        return self.n_commuter + self.n_local + self.n_bike


@dataclass(frozen=True)
class AllCorridors:
    """The car, through and bike corridors concatenated, with the start index of each set."""

    c: Corridors
    car0: int
    thr0: int
    bike0: int
    n_car: int
    n_thr: int
    n_bike: int


def combine(geo: Geography) -> AllCorridors:
    """Concatenate the geography's corridor sets into one indexable table."""
    sets = [geo.car, geo.through, geo.bike]
    ptr = [np.zeros(1, np.int64)]
    base = 0
    for s in sets:
        ptr.append(s.ptr[1:] + base)
        base += int(s.ptr[-1])
    c = Corridors(
        ptr=np.concatenate(ptr),
        cam=np.concatenate([s.cam for s in sets]),
        off=np.concatenate([s.off for s in sets]),
        duration=np.concatenate([s.duration for s in sets]),
        origin=np.concatenate([s.origin for s in sets]),
        dest=np.concatenate([s.dest for s in sets]),
    )
    return AllCorridors(c, 0, geo.car.n, geo.car.n + geo.through.n, geo.car.n, geo.through.n, geo.bike.n)


def make_population(rng: np.random.Generator, ac: AllCorridors, reads_per_day: int) -> Population:
    """Size and parametrise the population so a weekday yields about ``reads_per_day`` reads.

    Parameters
    ----------
    rng
        Random generator.
    ac
        All corridors.
    reads_per_day
        Target reads on an ordinary weekday.

    Returns
    -------
    Population
    """
    cnt = ac.c.counts.astype(float)
    m_car = max(cnt[ac.car0 : ac.car0 + ac.n_car].mean(), 0.5) * DETECT_P
    m_thr = max(cnt[ac.thr0 : ac.thr0 + ac.n_thr].mean(), 0.5) * DETECT_P
    m_bike = max(cnt[ac.bike0 : ac.bike0 + ac.n_bike].mean(), 0.5) * DETECT_P
    r = float(reads_per_day)
    n_comm = max(int(SHARES["commuter"] * r / (2 * m_car)), 1)
    n_loc = max(int(SHARES["local"] * r / (LOCAL_ACTIVE_P * LOCAL_MEAN_TRIPS * m_car)), 1)
    n_bike = max(int(SHARES["bike"] * r / (BIKE_ACTIVE_P * 2 * m_bike)), 1)
    thr_trips = max(int(SHARES["through"] * r / m_thr), 1)
    n_thr = max(5 * thr_trips, 10)  # regular hauliers come back; most through plates are rare
    # Commuters favour corridors out of the dense centre; any forward car corridor will do.
    home_car = ac.car0 + rng.integers(0, ac.n_car // 2, size=n_comm)
    home_bike = ac.bike0 + rng.integers(0, max(ac.n_bike // 2, 1), size=n_bike)
    am = np.clip(rng.normal(7.7 * 3600, 0.6 * 3600, size=n_comm + n_bike), 5.5 * 3600, 10 * 3600)
    pm = np.clip(rng.normal(17.8 * 3600, 0.8 * 3600, size=n_comm + n_bike), 15.5 * 3600, 21 * 3600)
    favs = ac.car0 + rng.integers(0, ac.n_car, size=(n_loc, 3))
    return Population(n_comm, n_loc, n_bike, n_thr, np.concatenate([home_car, home_bike]), am, pm, favs, thr_trips)


def _reverse(ac: AllCorridors, corr: np.ndarray) -> np.ndarray:
    """The same road driven the other way (corridor sets store both directions, n apart)."""
    out = corr.copy()
    for start, n in ((ac.car0, ac.n_car), (ac.thr0, ac.n_thr), (ac.bike0, ac.n_bike)):
        half = n // 2
        sel = (corr >= start) & (corr < start + n)
        rel = corr[sel] - start
        out[sel] = start + np.where(rel < half, rel + half, rel - half)
    return out


def day_trips(
    rng: np.random.Generator, pop: Population, ac: AllCorridors, day: int, weekday: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The day's trips: vehicle index, combined corridor index, departure (s from period start).

    Parameters
    ----------
    rng
        The day's own generator.
    pop
        Population.
    ac
        All corridors.
    day
        Day number from the period start.
    weekday
        Monday = 0.
    """
    t0 = day * DAY_S
    vehs: list[np.ndarray] = []
    corrs: list[np.ndarray] = []
    deps: list[np.ndarray] = []
    # Commuters (weekdays; a quarter of them also drive a round trip at weekends) and e-bikes.
    n_cb = pop.n_commuter + pop.n_bike
    idx = np.arange(n_cb)
    veh_ids = np.where(idx < pop.n_commuter, idx, idx - pop.n_commuter + pop.bike_start)
    if weekday < 5:
        active = np.where(idx < pop.n_commuter, rng.random(n_cb) < 0.95, rng.random(n_cb) < BIKE_ACTIVE_P)
        am = pop.dep_am + rng.normal(0, 480, n_cb)
        pm = pop.dep_pm + rng.normal(0, 900, n_cb)
    else:
        active = rng.random(n_cb) < np.where(idx < pop.n_commuter, 0.25, 0.5)
        am = 9.5 * 3600 + rng.uniform(0, 4 * 3600, n_cb)
        pm = am + rng.uniform(2 * 3600, 6 * 3600, n_cb)
    sel = np.flatnonzero(active)
    vehs += [veh_ids[sel], veh_ids[sel]]
    corrs += [pop.home[sel], _reverse(ac, pop.home[sel])]
    deps += [t0 + am[sel], t0 + pm[sel]]

    # Locals: chains of trips separated by 1-4 h stays; first departure from the day profile.
    act = np.flatnonzero(rng.random(pop.n_local) < LOCAL_ACTIVE_P)
    ntrips = np.minimum(1 + rng.poisson(LOCAL_MEAN_TRIPS - 1, act.size), MAX_TRIPS)
    p = HOURLY["day"][6:22] / HOURLY["day"][6:22].sum()
    first = (6 + rng.choice(16, size=act.size, p=p)) * 3600.0 + rng.uniform(0, 3600, act.size)
    pick = pop.favs[act][np.arange(act.size)[:, None], rng.integers(0, 3, (act.size, MAX_TRIPS))]
    flip = rng.random((act.size, MAX_TRIPS)) < 0.5
    pick = np.where(flip, _reverse(ac, pick.ravel()).reshape(pick.shape), pick)
    gap = ac.c.duration[pick] + rng.uniform(3600, 4 * 3600, (act.size, MAX_TRIPS))
    dep = first[:, None] + np.concatenate([np.zeros((act.size, 1)), np.cumsum(gap[:, :-1], axis=1)], axis=1)
    # A local's chain ends by 23:00 so it never runs into the next day's first trip.
    ok = (np.arange(MAX_TRIPS)[None, :] < ntrips[:, None]) & (dep < 23 * 3600)
    r, k = np.nonzero(ok)
    vehs.append(pop.n_commuter + act[r])
    corrs.append(pick[r, k])
    deps.append(t0 + dep[r, k])

    # Through traffic: distinct plates from the pool today, round the clock with a day bias.
    n_thr = int(rng.poisson(pop.through_trips_per_day * (0.8 if weekday >= 5 else 1.0)))
    n_thr = min(n_thr, pop.n_through)
    who = rng.choice(pop.n_through, size=n_thr, replace=False)
    p24 = (HOURLY["day"] + 0.5) / (HOURLY["day"] + 0.5).sum()
    hrs = rng.choice(24, size=n_thr, p=p24)
    vehs.append(pop.through_start + who)
    thr_corr = ac.thr0 + rng.integers(0, ac.n_thr, n_thr)
    corrs.append(thr_corr)
    # Finish before midnight with 15 minutes to spare: the same haulier may cross again tomorrow,
    # and two overlapping trips would look like a cloned plate.
    latest = DAY_S - ac.c.duration[thr_corr] - 900
    deps.append(t0 + np.minimum(hrs * 3600.0 + rng.uniform(0, 3600, n_thr), latest))
    return (
        np.concatenate(vehs).astype(np.int64),
        np.concatenate(corrs).astype(np.int64),
        np.concatenate(deps),
    )


def expand_reads(
    rng: np.random.Generator, ac: AllCorridors, veh: np.ndarray, corr: np.ndarray, dep: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Turn trips into reads: one per camera passed, minus misses.

    Returns
    -------
    ts : int64 milliseconds from the period start
    veh : int64 vehicle index
    cam : int32 camera index
    conf : float32 read confidence
    """
    counts = ac.c.counts[corr]
    total = int(counts.sum())
    trip = np.repeat(np.arange(corr.size), counts)
    starts = np.repeat(ac.c.ptr[corr] - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    pos = starts + np.arange(total)
    speed = rng.uniform(SPEED_LO, SPEED_HI, corr.size)
    ts = ((dep[trip] + ac.c.off[pos] * speed[trip]) * 1000).astype(np.int64)
    keep = rng.random(total) < DETECT_P
    conf = (0.97 - rng.gamma(2.0, 0.03, int(keep.sum()))).clip(0.55, 0.999).astype(np.float32)
    return ts[keep], veh[trip][keep], ac.c.cam[pos][keep], conf
