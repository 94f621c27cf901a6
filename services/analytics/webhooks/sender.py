"""The sender: claims due deliveries, POSTs them signed to their endpoints and records the
outcome; a delivery failing for the whole retry window is given up and its endpoint
disabled.

Each attempt resolves the endpoint's host again and checks every address (a host that
resolved to a public address at registration may answer with a private one now: DNS
rebinding), then connects to the checked address itself, with the host name for TLS (SNI and
certificate) and the Host header, so nothing resolves it a second time. Redirects are not
followed: a 3xx is a failure."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from datetime import timedelta

import httpx
import structlog

from services.analytics.webhooks import deliveries, endpoints
from services.analytics.webhooks.deliveries import Due
from services.analytics.webhooks.rules import (
    RefusedUrl,
    Target,
    check_addresses,
    delivery_headers,
    parse_url,
)
from services.analytics.webhooks.settings import WebhookSettings
from shared.runtime import ServiceRuntime
from shared.waiting import pause

log = structlog.get_logger()


async def resolve(host: str, port: int) -> list[str]:
    """Every address of `host` (itself when it is an address); RefusedUrl if none."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise RefusedUrl(f"the host {host!r} does not resolve") from None
    return [str(info[4][0]) for info in infos]


async def checked_target(url: str, *, development: bool) -> tuple[Target, str]:
    """The URL's parts and the address to connect to, every address of its host checked."""
    target = parse_url(url, development=development)
    addresses = check_addresses(await resolve(target.host, target.port), development=development)
    return target, addresses[0]


class Sender:
    def __init__(self, runtime: ServiceRuntime, settings: WebhookSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.development = runtime.settings.is_development
        self.client: httpx.AsyncClient | None = None

    async def run(self, stop: asyncio.Event) -> None:
        self.client = httpx.AsyncClient(
            timeout=self.settings.timeout_s, follow_redirects=False, trust_env=False
        )
        try:
            while not stop.is_set():
                try:
                    sent = await self.send_due()
                except Exception as exc:
                    log.error("webhook sender pass failed", error=repr(exc))
                    sent = 0
                if sent == 0:
                    await pause(stop, self.settings.interval_s)
        finally:
            await self.client.aclose()
            self.client = None

    async def send_due(self) -> int:
        """Claim what is due and attempt it; returns how many were attempted."""
        now = self.runtime.now()
        lease = timedelta(seconds=self.settings.timeout_s * 3 + 30)
        async with self.runtime.db.transaction() as conn:
            due = await deliveries.claim(conn, now, lease, self.settings.parallel)
        await asyncio.gather(*(self.attempt(d) for d in due))
        return len(due)

    async def attempt(self, due: Due) -> None:
        raw = due.body.encode()
        started = time.monotonic()
        status_code: int | None = None
        error: str | None = None
        at = self.runtime.now()
        try:
            status_code = await self._post(due, raw)
            if not 200 <= status_code < 300:
                error = f"answered {status_code}"
        except RefusedUrl as exc:
            error = f"refused: {exc}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        duration_ms = int((time.monotonic() - started) * 1000)
        now = self.runtime.now()
        failures = due.attempts + 1
        next_at = (
            None
            if error is None
            else self.settings.backoff.next_attempt(failures, due.first_attempt_at, now)
        )
        async with self.runtime.db.transaction() as conn:
            await deliveries.attempted(
                conn,
                due,
                at=at,
                status_code=status_code,
                error=error,
                duration_ms=duration_ms,
                next_attempt_at=next_at,
            )
            if error is not None and next_at is None:
                hours = self.settings.retry_for_hours
                await endpoints.disable(
                    conn,
                    self.runtime.store,
                    due.webhook_id,
                    f"deliveries failed for {hours:g} h; last: {error}",
                    now,
                )
        if error is not None:
            log.warning(
                "webhook delivery failed",
                webhook_id=str(due.webhook_id),
                delivery_id=str(due.delivery_id),
                attempt=failures,
                error=error,
                given_up=next_at is None,
            )

    async def _post(self, due: Due, raw: bytes) -> int:
        assert self.client is not None
        target, address = await checked_target(due.url, development=self.development)
        literal = f"[{address}]" if ":" in address else address
        default = 443 if target.scheme == "https" else 80
        host = target.host if target.port == default else f"{target.host}:{target.port}"
        headers = delivery_headers(
            due.secret, raw, self.runtime.now(), due.event_id, due.delivery_id, due.kind
        )
        response = await self.client.post(
            f"{target.scheme}://{literal}:{target.port}{target.path}",
            content=raw,
            headers={**headers, "Host": host},
            extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
        )
        return response.status_code
