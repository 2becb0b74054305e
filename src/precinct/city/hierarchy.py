"""A contraction hierarchy laid out for sweeps, and its one-to-many queries.

Built by :func:`precinct.city.ch.build_hierarchy`; the query kernels are in
:mod:`precinct.city.sweep`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from precinct.city.geo import FloatArray
from precinct.city.sweep import (
    CutModel,
    FleetSelection,
    phast,
    rphast,
    rphast_compact,
    rphast_selected,
)


@dataclass(frozen=True)
class Hierarchy:
    """A contraction hierarchy in k-space (k = position in descending rank order).

    ``kpos[node]`` is a node's k. ``out_*``: for each k, edges to higher-ranked nodes leaving it;
    ``in_*``: edges from higher-ranked nodes entering it.
    """

    kpos: np.ndarray
    out_indptr: np.ndarray
    out_adj: np.ndarray
    out_w: FloatArray
    in_indptr: np.ndarray
    in_adj: np.ndarray
    in_w: FloatArray
    _cut_models: dict[bool, CutModel] = field(default_factory=dict, compare=False, repr=False)
    _fleets: dict[bool, FleetSelection] = field(default_factory=dict, compare=False, repr=False)

    def to_node(self, seeds: np.ndarray, costs: FloatArray, *, reverse: bool) -> FloatArray:
        """Costs (k-space) from seed nodes to all (``reverse``: from all to the seeds)."""
        sk = self.kpos[seeds]
        if reverse:  # up = against edges into k (in_), sweep pulls along edges out of k (out_)
            return phast(self.in_indptr, self.in_adj, self.in_w, self.out_indptr, self.out_adj,
                         self.out_w, sk, costs)
        return phast(self.out_indptr, self.out_adj, self.out_w, self.in_indptr, self.in_adj,
                     self.in_w, sk, costs)

    def to_targets(self, seeds: np.ndarray, costs: FloatArray, targets: np.ndarray, *,
                   reverse: bool) -> FloatArray:
        """Costs from seed nodes to ``targets`` (``reverse``: from each target to the seeds).

        RPHAST: the sweep skips the nodes no target can reach upwards (see
        :mod:`precinct.city.sweep`). Same answers as :meth:`to_node`, at the targets.
        """
        sk = self.kpos[seeds]
        tk = self.kpos[targets]
        if reverse:  # the sweep pulls along edges out of k; up = edges into k
            up, down = (self.in_indptr, self.in_adj, self.in_w), (
                self.out_indptr, self.out_adj, self.out_w)
        else:
            up, down = (self.out_indptr, self.out_adj, self.out_w), (
                self.in_indptr, self.in_adj, self.in_w)
        fleet = self._fleets.get(reverse)
        if fleet is None:
            fleet = self._fleets.setdefault(reverse, FleetSelection(*down))
        plan = fleet.plan(tk)
        if plan is not None:
            selected, compact = plan
            if compact is not None:
                return rphast_compact(*up, *down, sk, costs, selected, compact.indptr,
                                      compact.adj, compact.w, compact.local[tk])
            return rphast_selected(*up, *down, sk, costs, selected, tk)
        model = self._cut_models.get(reverse)
        if model is None:  # a few milliseconds, once per hierarchy and direction
            model = self._cut_models.setdefault(reverse, CutModel(down[0], down[1]))
        return rphast(*up, *down, sk, costs, tk, model.cut(tk.size))

    def arrays(self, prefix: str = "ch") -> dict[str, np.ndarray]:
        """Arrays for saving with the graph (``prefix`` tells hierarchies apart)."""
        return {f"{prefix}_{k}": getattr(self, k) for k in
                ("kpos", "out_indptr", "out_adj", "out_w", "in_indptr", "in_adj", "in_w")}

    @classmethod
    def from_arrays(cls, extras: dict[str, np.ndarray], prefix: str = "ch") -> Hierarchy | None:
        """The hierarchy stored in a graph's extras under ``prefix``, if any."""
        names = ("kpos", "out_indptr", "out_adj", "out_w", "in_indptr", "in_adj", "in_w")
        if not all(f"{prefix}_{k}" in extras for k in names):
            return None
        a = [extras[f"{prefix}_{k}"] for k in names]
        return cls(a[0], a[1], a[2], a[3], a[4], a[5], a[6])
