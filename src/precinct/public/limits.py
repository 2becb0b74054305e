"""Rate limiting and caching for the public (no-login) routes, per application process."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from fastapi import Request

from precinct.core.openapi import documents
from precinct.errors import RateLimited

PER_MINUTE = 120
CACHE_TTL_S = 300.0


class RateLimiter:
    """A sliding one-minute window of requests per client address."""

    def __init__(self, per_minute: int = PER_MINUTE, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute, self.clock = per_minute, clock
        self.hits: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def check(self, client: str) -> None:
        """Count one request of ``client``; RateLimited when it made ``per_minute`` in the last minute."""
        now = self.clock()
        with self.lock:
            q = self.hits.setdefault(client, deque())
            while q and q[0] <= now - 60:
                q.popleft()
            if len(q) >= self.per_minute:
                retry = max(1, int(q[0] + 60 - now) + 1)
                raise RateLimited(f"too many requests: at most {self.per_minute} a minute to the public routes",
                                  detail={"retry_after_s": retry})
            q.append(now)
            if len(self.hits) > 100_000:  # forget idle clients rather than grow without bound
                self.hits = {c: d for c, d in self.hits.items() if d and d[-1] > now - 60}


class TTLCache:
    """A small time-limited cache of computed public answers."""

    def __init__(self, ttl_s: float = CACHE_TTL_S, clock: Callable[[], float] = time.monotonic,
                 max_items: int = 256) -> None:
        self.ttl_s, self.clock, self.max_items = ttl_s, clock, max_items
        self.items: dict[Any, tuple[float, Any]] = {}
        self.lock = threading.Lock()

    def get_or_compute(self, key: Any, compute: Callable[[], Any]) -> Any:
        now = self.clock()
        with self.lock:
            hit = self.items.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
        value = compute()
        with self.lock:
            if len(self.items) >= self.max_items:
                self.items = {k: v for k, v in self.items.items() if v[0] > now}
            self.items[key] = (now + self.ttl_s, value)
        return value


def _state(request: Request, name: str, factory: Callable[[], Any]) -> Any:
    value = getattr(request.app.state, name, None)
    if value is None:
        value = factory()
        setattr(request.app.state, name, value)
    return value


@documents(429)
def rate_limit(request: Request) -> None:
    """Dependency of every public route (beside ``public``)."""
    limiter: RateLimiter = _state(request, "public_rate_limiter", RateLimiter)
    limiter.check(request.client.host if request.client else "unknown")


def cache(request: Request) -> TTLCache:
    """The application's cache of public answers."""
    result: TTLCache = _state(request, "public_cache", TTLCache)
    return result
