"""``precinct demo`` comes up on a fresh data directory, serves the demo logins, stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from precinct.core.roles import Role
from precinct.sim.accounts import demo_password
from support import free_port


@pytest.mark.slow
def test_demo_comes_up_and_stops(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PRECINCT_DATA_DIR": str(tmp_path / "var"), "PRECINCT_ENVIRONMENT": "local"}
    env.pop("PRECINCT_DATABASE_URL", None)
    exe = Path(sys.executable).parent / "precinct"
    log = (tmp_path / "demo.log").open("w+", encoding="utf-8")  # a file: a full pipe would block the demo
    proc = subprocess.Popen(
        [str(exe), "demo", "--port", str(port), "--speed", "60", "--reads-per-day", "2000"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # generous: the test machine is shared
        while True:
            assert proc.poll() is None, (tmp_path / "demo.log").read_text(encoding="utf-8")
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "demo.log").read_text(encoding="utf-8")
            time.sleep(0.3)
        for role in (Role.dispatcher, Role.auditor):
            r = httpx.post(f"{base}/api/v1/auth/token", data={"username": role.value, "password": demo_password(role)})
            assert r.status_code == 200, r.text
            me = httpx.get(f"{base}/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
            assert me.json()["role"] == role.value
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    out = (tmp_path / "demo.log").read_text(encoding="utf-8")
    assert proc.returncode == 0, out
    assert "Precinct demo is up" in out and "demo-dispatcher" in out


def test_demo_refuses_production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from precinct.cli import app
    from precinct.config import get_settings

    monkeypatch.setenv("PRECINCT_ENVIRONMENT", "production")
    monkeypatch.setenv("PRECINCT_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("PRECINCT_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        res = CliRunner().invoke(app, ["demo", "--port", str(free_port())])
    finally:
        get_settings.cache_clear()
    assert res.exit_code != 0
    assert not (tmp_path / "precinct.db").exists()


def test_sim_generate_cli(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from precinct.cli import app

    res = CliRunner().invoke(
        app,
        [
            "sim",
            "generate",
            "--days",
            "1",
            "--out",
            str(tmp_path / "o"),
            "--reads-per-day",
            "500",
            "--seed",
            "2",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    for name in ("reads.parquet", "calls.csv", "cases.csv", "watchlist.csv", "links.csv", "truth.json"):
        assert (tmp_path / "o" / name).stat().st_size > 0


def test_sim_generate_near_repeat_share(tmp_path: Path) -> None:
    """``--near-repeat-share 0`` plants no near-repeat burglary (the truth counts none, and no call
    has a parent event); a share whose cascade would never end is refused with the parameter named."""
    import json

    from typer.testing import CliRunner

    from precinct.cli import app

    base = ["sim", "generate", "--days", "3", "--reads-per-day", "500", "--seed", "4", "--calls-per-day", "300"]
    res = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "off"), "--near-repeat-share", "0"])
    assert res.exit_code == 0, res.output
    truth = json.loads((tmp_path / "off" / "truth.json").read_text())
    info = truth["calls"]["near_repeat"]
    assert info["share"] == 0 and info["planted"] == 0
    res = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "on"), "--near-repeat-share", "0.6"])
    assert res.exit_code == 0, res.output
    on = json.loads((tmp_path / "on" / "truth.json").read_text())
    on_info = on["calls"]["near_repeat"]
    assert on_info["share"] == 0.6 and on_info["planted"] > 0
    assert len(on["calls"]["near_repeat_pairs"]) > 0 and not truth["calls"]["near_repeat_pairs"]
    res = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "bad"), "--near-repeat-share", "0.9"])
    assert res.exit_code != 0 and "near-repeat share" in str(res.exception)
