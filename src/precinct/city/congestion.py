"""Hour-of-day congestion: travel-time multipliers per road class.

Free-flow times are stored on the graph; a query with ``hour=h`` multiplies each edge's time by
``FACTORS[class, h]``. The profile follows the shape of published urban speed curves (a morning
peak around 07:30-08:30, a longer evening peak around 17:00-19:00, free flow at night), with
arterials suffering most and expressways, local streets and service roads less.
"""

from __future__ import annotations

import numpy as np

from precinct.errors import BadInput

# Road classes shared by the OSM loader and the synthetic city.
MOTORWAY, TRUNK, PRIMARY, SECONDARY, TERTIARY, LOCAL, SERVICE = range(7)
CLASS_NAMES = ("motorway", "trunk", "primary", "secondary", "tertiary", "local", "service")
# Default free-flow speeds (km/h) when OSM has no usable maxspeed, and for the synthetic city.
DEFAULT_SPEED_KMH = np.array([100.0, 80.0, 60.0, 50.0, 40.0, 30.0, 20.0])

# Relative delay shape over the day (1 = free flow).
_SHAPE = np.array([
    0.00, 0.00, 0.00, 0.00, 0.00, 0.05,  # 00-05
    0.30, 0.85, 1.00, 0.60, 0.40, 0.40,  # 06-11
    0.45, 0.40, 0.40, 0.45, 0.65, 0.95,  # 12-17
    1.00, 0.70, 0.40, 0.25, 0.10, 0.05,  # 18-23
])
# Peak delay per class: arterials +70 % at the worst hour, local streets +25 %.
_PEAK = np.array([0.45, 0.55, 0.70, 0.60, 0.45, 0.25, 0.15])

FACTORS: np.ndarray = 1.0 + _PEAK[:, None] * _SHAPE[None, :]
FACTORS.setflags(write=False)


def check_hour(hour: int | None) -> int | None:
    """Validate an hour of day (0-23) or ``None`` (free flow)."""
    if hour is None:
        return None
    if isinstance(hour, bool) or not isinstance(hour, int | np.integer) or not 0 <= int(hour) <= 23:
        raise BadInput(f"hour must be an integer from 0 to 23, got {hour!r}", detail={"hour": hour})
    return int(hour)


def factors_for(road_class: np.ndarray, hour: int | None) -> np.ndarray:
    """Per-edge multiplier for ``hour`` (all ones when ``hour`` is None).

    Parameters
    ----------
    road_class : numpy.ndarray
        Class code per edge (0..6, see ``CLASS_NAMES``).
    hour : int or None
        Hour of day 0-23.

    Returns
    -------
    numpy.ndarray
        float64 multipliers, one per edge.
    """
    h = check_hour(hour)
    if h is None:
        return np.ones(road_class.shape, dtype=np.float64)
    return np.asarray(FACTORS[:, h][road_class], dtype=np.float64)
