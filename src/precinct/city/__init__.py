"""City model: the road graph, travel times, snapping, isochrones, street names.

``RoadGraph`` is the one class to use; ``precinct.city.service.current_city()`` returns this
installation's graph.
"""

from precinct.city.names import Candidate
from precinct.city.road import RoadGraph
from precinct.city.routing import Route
from precinct.city.snapping import Snap, Snaps

__all__ = ["Candidate", "RoadGraph", "Route", "Snap", "Snaps"]
