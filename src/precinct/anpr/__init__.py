"""Plate and tag reads (ANPR). Importing the package registers how pinned reads follow their case
(:mod:`precinct.anpr.casepins`)."""

from precinct.anpr import casepins as _casepins

_casepins.register()
