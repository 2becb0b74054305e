"""A real Precinct server for the browser tests and the paint benchmark: ``precinct demo`` when the
simulator provides it, else ``precinct serve`` with users of every role created by the CLI."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PRECINCT = str(Path(sys.executable).with_name("precinct"))
WEB_DIST = ROOT / "src" / "precinct" / "web" / "dist"
PASSWORD = "browser-test-pass-1"
ROLES = ("call_taker", "dispatcher", "patrol", "analyst", "supervisor", "auditor", "admin")


_MAKE_USERS = """
import sys
from precinct.core.clikit import open_db
from precinct.core.identity import create_user
db = open_db()
with db.session() as s:
    for role in sys.argv[2:]:
        create_user(s, username=role + "1", role=role, password=sys.argv[1],
                    unit_id="P-01" if role == "patrol" else None)
# A small synthetic city, cached where the server looks, so its first call does not build the
# default 15 km one (best effort: without it the server builds its own).
try:
    from precinct.city import service
    from precinct.city.road import RoadGraph
    g = RoadGraph.synthetic(size_km=6, seed=1).prepare()
    service.store(g, {"source": "synthetic", "size_km": 6, "seed": 1})
except Exception as exc:
    print("city not prebuilt:", type(exc).__name__, exc, file=sys.stderr)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    data_dir: Path
    proc: subprocess.Popen[bytes]
    logins: dict[str, tuple[str, str]] = field(default_factory=dict)  # role -> (username, password)
    demo: bool = False

    def token(self, role: str) -> str:
        user, pw = self.logins[role]
        r = httpx.post(f"{self.url}/api/v1/auth/token", data={"username": user, "password": pw}, timeout=30)
        r.raise_for_status()
        return str(r.json()["access_token"])

    def api(self, role: str) -> httpx.Client:
        return httpx.Client(base_url=f"{self.url}/api/v1", timeout=120,
                            headers={"Authorization": f"Bearer {self.token(role)}"})

    def open_case(self, role: str, title: str, type: str) -> str:
        """A real open case led by ``role``'s user; its id (issued by Precinct) is what personal-data
        reads name (an invented case id is refused)."""
        with self.api(role) as c:
            r = c.post("/cases", json={"title": title, "type": type})
            r.raise_for_status()
            return str(r.json()["id"])

    def review_headers(self) -> dict[str, str]:
        """Headers for an auditor's audit_review read under a review case of their own."""
        return {"X-Case-Id": self.open_case("auditor", "audit check", "review"), "X-Purpose": "audit_review"}

    def paths(self) -> set[str]:
        spec = httpx.get(f"{self.url}/openapi.json", timeout=30).json()
        return {p.removeprefix("/api/v1") for p in spec.get("paths", {})}


def _has_demo(env: dict[str, str]) -> bool:
    r = subprocess.run([PRECINCT, "--help"], capture_output=True, text=True, env=env, timeout=120)
    return bool(re.search(r"^\W*demo\b", r.stdout, re.M))


def _wait(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"server not up after {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")


def _parse_demo_logins(text: str) -> dict[str, tuple[str, str]]:
    """The demo's banner lists ``<role>  password <pw>``; the username is the role's name."""
    out: dict[str, tuple[str, str]] = {}
    for m in re.finditer(r"^\W*(\w+)\s+password\s+(\S+)", text, re.M):
        if m.group(1) in ROLES:
            out[m.group(1)] = (m.group(1), m.group(2))
    return out


def _start(tmp: Path, env: dict[str, str], demo: bool, timeout: float) -> Server:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp / ("demo.log" if demo else "server.log")
    logins: dict[str, tuple[str, str]] = {}
    if not demo:
        # One process for all accounts (each `precinct` start imports every domain: slow).
        subprocess.run([sys.executable, "-c", _MAKE_USERS, PASSWORD, *ROLES], check=True,
                       capture_output=True, env=env, timeout=180)
        logins = {role: (f"{role}1", PASSWORD) for role in ROLES}
    cmd = [PRECINCT, "demo", "--port", str(port)] if demo else [PRECINCT, "serve", "--port", str(port)]
    with log.open("wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=tmp)
    try:
        _wait(url, proc, log, timeout)
    except Exception:
        _stop(proc)
        raise
    if demo:
        time.sleep(1)
        logins = _parse_demo_logins(log.read_text(errors="replace"))
    return Server(url=url, data_dir=Path(env["PRECINCT_DATA_DIR"]), proc=proc, logins=logins, demo=demo)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class DemoUnavailable(Exception):
    """``precinct demo`` is not implemented on this tree yet."""


@contextlib.contextmanager
def running_server(tmp: Path, *, use_demo: bool = False, timeout: float = 90) -> Iterator[Server]:
    """``precinct serve`` with an account per role; with ``use_demo``, ``precinct demo`` and the
    logins it prints (DemoUnavailable when the command is missing or a stub)."""
    env = {**os.environ, "PRECINCT_ENVIRONMENT": "test", "PRECINCT_TOKEN_TTL_MINUTES": "120",
           "PYTHONUNBUFFERED": "1"}
    env.pop("PRECINCT_DATABASE_URL", None)
    env["PRECINCT_DATA_DIR"] = str(tmp / ("demo-var" if use_demo else "var"))
    Path(env["PRECINCT_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    if use_demo and not _has_demo(env):
        raise DemoUnavailable("no `precinct demo` command")
    try:
        server = _start(tmp, env, use_demo, timeout)
    except RuntimeError as exc:
        if use_demo and "NotImplementedError" in str(exc):
            raise DemoUnavailable("`precinct demo` is still a stub") from exc
        raise
    try:
        yield server
    finally:
        _stop(server.proc)


def chromium_path() -> str | None:
    for p in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if p and Path(p).exists():
            return p
    return None


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
