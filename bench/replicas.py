"""A client for a service that runs as several replicas, any of which may be down.

`ReplicaTransport` is an httpx transport: a client built on it (`replica_client`) is used like
any `httpx.AsyncClient` with a relative path. Each request goes to the next replica in turn;
one that is unreachable, times out, or answers 500/502/503/504 is tried again on another
replica, with back-off, until a time budget runs out. Every request that changes something
(not GET/HEAD) carries an `Idempotency-Key` (the same on every attempt; the services'
middleware replays the first response for the same key and caller), so a retry never applies
anything twice; a 409 "request in progress" for that key (the first attempt still running, or
killed mid-way) is waited out the same way. The key is also sent as the correlation id, so the
events a request appended can be told from another request's.

A 500 is retried too: a service whose database is down answers 500 (nothing maps an outage to
503), and with the key a retry is safe.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx

RETRY_STATUSES = {500, 502, 503, 504}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass
class RetryStats:
    """What the clients had to retry, by reason ("ConnectError", "503", ...)."""

    requests: int = 0
    retried_requests: int = 0
    attempts: Counter[str] = field(default_factory=Counter)
    longest_s: float = 0.0  # the longest time one request took, retries included


class ReplicaTransport(httpx.AsyncBaseTransport):
    def __init__(
        self,
        replicas: list[str],
        stats: RetryStats | None = None,
        budget_s: float = 240.0,
        max_delay_s: float = 2.0,
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """`replicas`: base URLs (http://127.0.0.1:port) of the same service; `inner` sends
        each attempt (a real HTTP transport unless told)."""
        if not replicas:
            raise ValueError("a service needs at least one replica")
        self.replicas = [httpx.URL(u) for u in replicas]
        self.stats = stats or RetryStats()
        self.budget_s = budget_s
        self.max_delay_s = max_delay_s
        self._next = 0
        self._suspect_until: dict[int, float] = {}
        self._inner = inner or httpx.AsyncHTTPTransport()

    def _pick(self, now: float) -> int:
        """The next replica in turn that did not fail a moment ago (else the next in turn)."""
        count = len(self.replicas)
        for step in range(count):
            index = (self._next + step) % count
            if self._suspect_until.get(index, 0.0) <= now:
                self._next = index + 1
                return index
        index = self._next % count
        self._next = index + 1
        return index

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + self.budget_s
        body = await request.aread()
        headers = httpx.Headers(request.headers)
        headers.pop("host", None)
        if request.method not in SAFE_METHODS and "idempotency-key" not in headers:
            key = f"sim-{uuid.uuid4()}"
            headers["Idempotency-Key"] = key
            headers.setdefault("X-Correlation-ID", key)
        self.stats.requests += 1
        delay = 0.1
        retried = False
        while True:
            index = self._pick(loop.time())
            base = self.replicas[index]
            attempt = httpx.Request(
                request.method,
                request.url.copy_with(scheme=base.scheme, host=base.host, port=base.port),
                headers=headers,
                content=body,
                extensions=request.extensions,
            )
            reason: str
            last: httpx.Response | None = None
            try:
                response = await self._inner.handle_async_request(attempt)
                try:
                    content = await response.aread()
                finally:
                    await response.aclose()
            except httpx.TransportError as exc:  # unreachable, timed out, connection dropped
                reason = type(exc).__name__
                error: Exception | None = exc
            else:
                error = None
                last = httpx.Response(
                    response.status_code,
                    headers=response.headers,
                    stream=httpx.ByteStream(content),
                    extensions=response.extensions,
                )
                in_progress = response.status_code == 409 and b"idempotency-in-progress" in content
                if response.status_code not in RETRY_STATUSES and not in_progress:
                    if retried:
                        self.stats.retried_requests += 1
                    self.stats.longest_s = max(self.stats.longest_s, loop.time() - started)
                    return last
                reason = "409 in progress" if in_progress else str(response.status_code)
            self.stats.attempts[reason] += 1
            retried = True
            self._suspect_until[index] = loop.time() + 1.0
            if loop.time() + delay > deadline:
                self.stats.retried_requests += 1
                if last is not None:
                    return last  # the caller sees the last answer
                assert error is not None
                raise error
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_delay_s)

    async def aclose(self) -> None:
        await self._inner.aclose()


def replica_client(
    service: str, replicas: list[str], stats: RetryStats, timeout_s: float = 15.0
) -> httpx.AsyncClient:
    """A client of `service` (relative paths) over its replicas; `timeout_s` bounds each
    attempt, the transport's budget the whole request."""
    return httpx.AsyncClient(
        base_url=f"http://{service}",
        transport=ReplicaTransport(replicas, stats),
        timeout=timeout_s,
    )
