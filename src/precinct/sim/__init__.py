"""The living city: a deterministic scenario engine.

It simulates a county's police work on the city road graph and is used three ways:

- batch (:mod:`precinct.sim.generate`): data sets in the formats of the design brief (reads,
  calls, cases, watchlist, person-vehicle links) plus ``truth.json`` with the planted answers;
- live (:mod:`precinct.sim.live`): feeds a running Precinct through its public HTTP API only:
  calls, plate and tag reads, person–vehicle links, and a fleet (:mod:`precinct.sim.fleet`) that
  works a shift roster (:mod:`precinct.sim.shifts`) and answers dispatches;
- ground truth for tests: every planted story records what a correct analysis must find.

The generators are pure functions on numpy arrays driven by explicit ``numpy.random.Generator``
objects derived from one seed, so the same seed gives byte-identical output.
"""
