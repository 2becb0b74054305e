"""``precinct demo``: the server on embedded defaults with the living city driving it live.

Start-up order keeps the time to a usable server short: migrate, create the demo accounts, load
the city, start uvicorn; the driver then prepares its scenario in a background thread while the
server already answers, and talks to it over HTTP only.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from precinct.config import Settings, get_settings
from precinct.core.clikit import err_console
from precinct.core.db import Database
from precinct.core.identity import DEMO_MARK, create_user
from precinct.core.models import User
from precinct.core.roles import Role
from precinct.errors import ConfigurationError
from precinct.sim.accounts import demo_password, device_accounts, role_accounts

log = logging.getLogger("precinct.sim.demo")


def ensure_demo_users(db: Database) -> dict[str, str]:
    """Create the role logins that do not exist yet; returns username to password for all
    demo accounts (devices included)."""
    with db.session() as s:
        have = set(s.scalars(select(User.username)).all())
        for name, role, password, unit in role_accounts():
            if name not in have:
                create_user(
                    s,
                    username=name,
                    role=role,
                    password=password,
                    display_name=f"{DEMO_MARK}demo {role.value}",
                    unit_id=unit,
                    actor="system",
                )
    with db.session() as s:  # real cases to work under (personal-data reads need an open case)
        from precinct.cases.service import ensure_demo_cases

        ensure_demo_cases(s, users={role.value: name for name, role, _pw, _u in role_accounts()})
    return {name: pw for name, _r, pw, _u in role_accounts() + device_accounts()}


def prepare_city(settings: Settings, osm: Path | None) -> Any:
    """The road graph the server and the driver share (an OSM file is built and cached once)."""
    from precinct.city import service

    if osm is not None:
        service.ensure_osm_city(osm, settings,
                                on_build=lambda: err_console.print(f"building the road graph from {osm} ..."))
    return service.current_city(settings)


class _DemoServer:
    """Builds a uvicorn server whose Ctrl-C / SIGTERM stops the simulation first and then exits
    cleanly (uvicorn would otherwise re-raise the signal after shutting down)."""

    @staticmethod
    def make(config: Any, stop: threading.Event) -> Any:
        import uvicorn

        class Server(uvicorn.Server):
            def handle_exit(self, sig: int, frame: Any) -> None:
                stop.set()
                super().handle_exit(sig, frame)
                self._captured_signals.clear()

        return Server(config)


def _banner(url: str, started: float) -> None:
    lines = [
        f"Precinct demo is up in {time.monotonic() - started:.1f} s: {url}/",
        f"  API docs {url}/docs   health {url}/api/v1/health",
        "  demo logins (local demo only):",
    ]
    lines += [f"    {r.value:<11} password {demo_password(r)}" for r in Role]
    lines.append("  Ctrl-C stops the server and the simulation.")
    err_console.print("\n".join(lines))


def run_demo(
    *,
    port: int = 8000,
    host: str = "127.0.0.1",
    speed: float = 30.0,
    seed: int = 1,
    osm: Path | None = None,
    reads_per_day: int = 60_000,
    calls_per_day: float = 400.0,
    no_sim: bool = False,
) -> None:
    """Start the operations centre with a simulated city feeding it live (embedded defaults).

    Parameters
    ----------
    port, host
        Where the server listens.
    speed, seed
        Simulated seconds per real second; the scenario seed.
    osm
        A real map (``.osm.pbf``) instead of the synthetic city.
    reads_per_day, calls_per_day
        Size of the simulated traffic and 110 calls.
    no_sim
        Serve only; do not drive the simulation.
    """
    import uvicorn

    from precinct.app import create_app
    from precinct.sim.api import ApiClient
    from precinct.sim.live import LiveDriver, summary

    started = time.monotonic()
    settings = get_settings()
    if settings.environment == "production":
        raise ConfigurationError(
            "precinct demo creates accounts with known passwords; it refuses PRECINCT_ENVIRONMENT=production"
        )
    settings.ensure_dirs()
    db = Database.from_settings(settings)
    db.migrate()
    passwords = ensure_demo_users(db)
    city = prepare_city(settings, osm)
    app = create_app(settings, db=db, migrate=False)
    app.state.city = city
    stop = threading.Event()
    server = _DemoServer.make(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on"), stop)
    url = f"http://{host}:{port}"
    driver_box: dict[str, LiveDriver] = {}

    def drive() -> None:
        api = ApiClient(url, passwords, stopping=stop)
        try:
            while not api.healthy():
                if stop.wait(0.2):
                    return
            _banner(url, started)
            if no_sim:
                return
            driver = LiveDriver(
                api,
                city,
                seed=seed,
                speed=speed,
                reads_per_day=reads_per_day,
                calls_per_day=calls_per_day,
            )
            driver_box["driver"] = driver
            driver.run(stop)
        except Exception:  # the server keeps running; say why the city stopped
            log.exception("the simulation stopped")
        finally:
            api.close()

    thread = threading.Thread(target=drive, name="precinct-sim", daemon=True)
    thread.start()
    try:
        server.run()
    finally:
        stop.set()
        thread.join(timeout=5)  # a driver still preparing its scenario is a daemon; let it go
        drv = driver_box.get("driver")
        if drv is not None:
            stats = {**drv.stats, "http_errors": drv.api.errors, "streams_off": sorted(drv.api.disabled)}
            err_console.print(f"simulation stopped: {summary(stats)}")
            (settings.data_dir / "demo-last-run.json").write_text(json.dumps(stats), encoding="utf-8")
