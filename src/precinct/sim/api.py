"""A small HTTP client for the live driver: per-user tokens, idempotency keys, missing routes.

The driver uses the public API exactly as a real integration would. Routes that another part of
the system has not shipped yet answer 404 with the framework's generic body; such a *stream* is
switched off after one warning so the demo keeps running while the rest lands.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import httpx

log = logging.getLogger("precinct.sim.live")


class ApiClient:
    """Talks to one Precinct server as several users.

    Parameters
    ----------
    base_url
        ``http://host:port``.
    passwords
        Username to password for every account the driver uses.
    """

    def __init__(
        self,
        base_url: str,
        passwords: dict[str, str],
        *,
        timeout: float = 30.0,
        stopping: threading.Event | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        # ``http``: tests pass an in-process client (Starlette's TestClient is an httpx.Client).
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout)
        # Set when the demo shuts down: calls still in flight then fail quietly.
        self.stopping = stopping or threading.Event()
        self.passwords = passwords
        self.tokens: dict[str, str] = {}
        self.disabled: set[str] = set()
        self.errors = 0
        self._lock = threading.Lock()
        self._user_locks: dict[str, threading.Lock] = {}

    def close(self) -> None:
        self.http.close()

    def healthy(self) -> bool:
        try:
            return self.http.get("/api/v1/health", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def _token(self, user: str, refresh: bool = False) -> str:
        # One login at a time per user; different users log in concurrently (password checks
        # are slow by design, and the driver prepares its fleet from several threads).
        with self._lock:
            lock = self._user_locks.setdefault(user, threading.Lock())
        with lock:
            if refresh or user not in self.tokens:
                r = self.http.post("/api/v1/auth/token", data={"username": user, "password": self.passwords[user]})
                r.raise_for_status()
                self.tokens[user] = r.json()["access_token"]
            return self.tokens[user]

    def login(self, user: str) -> bool:
        """Log ``user`` in now (so that its first request does not wait); ``False`` if refused."""
        try:
            self._token(user)
            return True
        except httpx.HTTPError as exc:
            if not self.stopping.is_set():
                self.errors += 1
                log.warning("login of %s failed: %s", user, exc)
            return False

    def request(
        self,
        stream: str,
        user: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        idem: str | None = None,
        ok_conflict: bool = False,
    ) -> httpx.Response | None:
        """One API call; ``None`` if the stream is off, the route is missing or the call failed.

        A 401 (expired token) logs in again and retries once. A 409 is expected where
        ``ok_conflict`` (re-creating something that exists) and returned without a warning.
        """
        if stream in self.disabled or self.stopping.is_set():
            return None
        headers = {"Idempotency-Key": idem} if idem else {}
        try:
            for attempt in (0, 1):
                headers["Authorization"] = f"Bearer {self._token(user, refresh=attempt == 1)}"
                r = self.http.request(method, "/api/v1" + path, json=json, headers=headers)
                if r.status_code != 401:
                    break
        except httpx.HTTPError as exc:
            if not self.stopping.is_set():
                self.errors += 1
                log.warning("%s %s failed: %s", method, path, exc)
            return None
        if (r.status_code == 404 and _route_missing(r)) or r.status_code == 405:
            self.disabled.add(stream)
            log.warning("the server has no %s %s yet; the %s stream is off", method, path, stream)
            return None
        if r.status_code >= 400 and not (ok_conflict and r.status_code == 409):
            self.errors += 1
            log.info("%s %s -> %s %s", method, path, r.status_code, r.text[:300])
            return None
        return r


def _route_missing(r: httpx.Response) -> bool:
    # The router's own 404 says "Not Found"; a missing *resource* has a specific message.
    try:
        return bool(r.json().get("message") == "Not Found")
    except ValueError:
        return True
