"""The webhooks' rules, pure: which events are which kind, whose they are, which endpoint
URLs and addresses are allowed, the retry schedule, and what a delivery carries."""

from __future__ import annotations

import ipaddress
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args
from urllib.parse import urlsplit

from shared.events import Envelope, EventPayload
from shared.events.aftersales import AftersalesRequested, RefundIssued
from shared.events.fulfillment import (
    Delivered,
    DeliveryFailed,
    InTransit,
    OutForDelivery,
    PackageDamaged,
    PackageLost,
    PackagePickedUp,
    ReadyToShip,
    ReturnedToSender,
)
from shared.events.order import OrderStatusChanged
from shared.signatures import signed_headers

# What a seller subscribes to.
Kind = Literal[
    "order.status_changed",
    "package.shipped",
    "tracking.updated",
    "aftersales.requested",
    "refund.issued",
]
KINDS: tuple[Kind, ...] = get_args(Kind)

KIND_OF: dict[type[EventPayload], Kind] = {
    OrderStatusChanged: "order.status_changed",
    ReadyToShip: "package.shipped",
    PackagePickedUp: "tracking.updated",
    InTransit: "tracking.updated",
    OutForDelivery: "tracking.updated",
    DeliveryFailed: "tracking.updated",
    Delivered: "tracking.updated",
    PackageLost: "tracking.updated",
    PackageDamaged: "tracking.updated",
    ReturnedToSender: "tracking.updated",
    AftersalesRequested: "aftersales.requested",
    RefundIssued: "refund.issued",
}

EVENT_ID_HEADER = "X-Shopflow-Event-Id"
DELIVERY_ID_HEADER = "X-Shopflow-Delivery-Id"
KIND_HEADER = "X-Shopflow-Event"


# -- who gets what -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscription:
    """An active endpoint, as routing needs it."""

    webhook_id: uuid.UUID
    seller_id: str
    kinds: frozenset[str]


def recipients(
    kind: str, seller_id: str | None, endpoints: Iterable[Subscription]
) -> list[uuid.UUID]:
    """The endpoints an event of `kind` of `seller_id`'s order goes to: that seller's own that
    subscribed to the kind; an event whose seller is unknown goes nowhere."""
    if seller_id is None:
        return []
    return sorted(e.webhook_id for e in endpoints if e.seller_id == seller_id and kind in e.kinds)


def body(kind: str, envelope: Envelope, seller_id: str) -> str:
    """What a delivery POSTs: the event id (the receiver's dedup key), its kind and type, the
    order and seller, and the event's payload as `data`."""
    return json.dumps(
        {
            "event_id": str(envelope.event_id),
            "kind": kind,
            "event_type": envelope.event_type,
            "occurred_at": envelope.occurred_at.isoformat(),
            "order_id": str(envelope.order_id) if envelope.order_id else None,
            "seller_id": seller_id,
            "data": envelope.payload,
        },
        separators=(",", ":"),
        sort_keys=True,
    )


def delivery_headers(
    secret: str,
    raw_body: bytes,
    at: datetime,
    event_id: uuid.UUID,
    delivery_id: uuid.UUID,
    kind: str,
) -> dict[str, str]:
    """A delivery's headers: signed like carrier reports (`shared.signatures`), signed at the
    time of each attempt, so a retry carries a fresh timestamp."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "shopflow-webhooks/1",
        EVENT_ID_HEADER: str(event_id),
        DELIVERY_ID_HEADER: str(delivery_id),
        KIND_HEADER: kind,
        **signed_headers(secret, raw_body, at),
    }


# -- endpoint URLs and addresses ---------------------------------------------------------------


class RefusedUrl(ValueError):
    """An endpoint URL or address webhooks are not sent to; the message says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent


def parse_url(url: str, *, development: bool) -> Target:
    """The URL's parts, or RefusedUrl: HTTPS (HTTP too in development), a host name, no
    user info and no fragment."""
    if len(url) > 2000 or any(c.isspace() or ord(c) < 32 for c in url):
        raise RefusedUrl("the URL is too long or holds spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedUrl("the URL is malformed") from None
    schemes = ("https", "http") if development else ("https",)
    if parts.scheme not in schemes:
        raise RefusedUrl("webhook endpoints must be https URLs")
    if not parts.hostname:
        raise RefusedUrl("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise RefusedUrl("the URL may not carry user information")
    if parts.fragment:
        raise RefusedUrl("the URL may not carry a fragment")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default = 443 if parts.scheme == "https" else 80
    return Target(parts.scheme, parts.hostname.lower().rstrip("."), port or default, path)


def check_addresses(addresses: Iterable[str], *, development: bool) -> list[str]:
    """The host's addresses, every one of them public (outside development), else RefusedUrl:
    one private address among public ones is enough to refuse (an attacker's DNS answers
    differently each time)."""
    found = list(dict.fromkeys(addresses))
    if not found:
        raise RefusedUrl("the host has no address")
    for raw in found:
        try:
            address = ipaddress.ip_address(raw.split("%", 1)[0])
        except ValueError:
            raise RefusedUrl(f"the host resolves to a malformed address {raw!r}") from None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if development:
            continue
        if not address.is_global or address.is_multicast:
            raise RefusedUrl(
                f"the host resolves to {address}, a private, loopback, link-local or "
                "otherwise non-public address"
            )
    return found


# -- retries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off: `first` after the first failure, doubling up to `longest`,
    for `give_up_after` from the delivery's first attempt."""

    first: timedelta
    longest: timedelta
    give_up_after: timedelta

    def delay(self, failures: int) -> timedelta:
        """The wait after the `failures`-th failure in a row (1, 2, ...)."""
        exponent = min(max(failures - 1, 0), 40)
        return min(self.first * (2**exponent), self.longest)

    def next_attempt(
        self, failures: int, first_attempt: datetime, now: datetime
    ) -> datetime | None:
        """When to try again after a failure at `now`; None once the window is over."""
        at = now + self.delay(failures)
        return at if at <= first_attempt + self.give_up_after else None

    def schedule(self) -> list[timedelta]:
        """The waits, one per retry, until the delivery is given up (for the docs and tests)."""
        waits: list[timedelta] = []
        spent = timedelta(0)
        while spent + self.delay(len(waits) + 1) <= self.give_up_after:
            waits.append(self.delay(len(waits) + 1))
            spent += waits[-1]
        return waits
