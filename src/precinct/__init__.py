"""Precinct: an open-source police operations platform (情指勤舆督一体化)."""

__version__ = "0.1.0"
