"""Writes (POST, PUT, PATCH, DELETE) rate limited per principal with a token bucket.

The buckets live in the process: with N processes (replicas) behind a balancer a principal
may send up to N times the configured rate. That bounds what one caller can make one process
do; a limit shared by every replica would need a shared store (the database or a cache) and
is not built. Settings: `rate_limit_enabled`, `rate_limit_per_s`, `rate_limit_burst`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from shared.edge import WRITE_METHODS, principal_key, principal_of
from shared.problems import problem_response
from shared.settings import Settings


class TokenBucket:
    """Per key, `burst` tokens that refill at `rate` per second; a request takes one."""

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str) -> float:
        """0 when the request may go (a token is taken), else the seconds until one is free."""
        now = self.clock()
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, now - at) * self.rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            self._prune(now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / self.rate

    def _prune(self, now: float) -> None:
        """Forget the buckets that are full again (as good as new), once there are many."""
        if len(self._buckets) <= self.max_keys:
            return
        self._buckets = {
            key: (tokens, at)
            for key, (tokens, at) in self._buckets.items()
            if tokens + (now - at) * self.rate < self.burst
        }


class RateLimitMiddleware:
    """429 with Retry-After when a principal writes faster than its bucket allows. A write
    without an authenticated principal (a public route) is counted per client address."""

    def __init__(
        self, app: ASGIApp, settings: Settings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.app = app
        self.enabled = settings.rate_limit_enabled
        self.bucket = TokenBucket(settings.rate_limit_per_s, settings.rate_limit_burst, clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        principal = principal_of(scope)
        if principal is not None:
            key = principal_key(principal)
        else:
            key = "client:" + str((scope.get("client") or ("?",))[0])
        wait = self.bucket.take(key)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            await problem_response(
                429,
                "Too many requests",
                f"too many writes from this caller; retry in {retry_after} s",
                "rate-limited",
                headers={"Retry-After": str(retry_after)},
            )(scope, receive, send)
            return
        await self.app(scope, receive, send)
