"""The command domains share their fixtures (tests/command_fixtures.py)."""

from command_fixtures import _city, live_server, live_token, login, make_units, small_city  # noqa: F401
