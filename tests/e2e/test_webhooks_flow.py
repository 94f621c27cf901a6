"""Sellers' webhooks over the real broker: a receiver started here on 127.0.0.1 (the test
environment allows http and loopback, as development does) gets its seller's order events
signed and in order, after answering 500 twice; another seller's events never reach it; a
delivery is replayed from the log; an endpoint that keeps failing is disabled, with a
`WebhookEndpointDisabled` event on the analytics topic."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI, Request, Response

from services.analytics.app import create_analytics_app
from services.analytics.webhooks.settings import WebhookSettings
from services.order.app import create_order_app
from shared.clock import SimulatedClock
from shared.settings import Settings, to_libpq_url
from shared.signatures import verify
from tests.conftest import eventually
from tests.e2e.journeys import ADDRESS, auth, pay

# Short back-off on the simulated clock: 1 s, then 2 s; a delivery failing 30 s is given up.
FAST = WebhookSettings(retry_first_s=1, retry_longest_s=2, retry_for_hours=30 / 3600)


class Receiver:
    """A seller's webhook receiver: records every request; answers 500 to the first
    `fail_first` requests of a path, and always to the paths in `always_fail`."""

    def __init__(self, fail_first: int, always_fail: set[str]) -> None:
        self.requests: dict[str, list[tuple[dict[str, str], bytes, int]]] = {}
        self.fail_first = fail_first
        self.always_fail = always_fail
        self.app = FastAPI()

        @self.app.post("/{path}")
        async def hook(path: str, request: Request) -> Response:
            seen = self.requests.setdefault(path, [])
            status = 500 if path in always_fail or len(seen) < fail_first else 200
            seen.append((dict(request.headers), await request.body(), status))
            return Response(status_code=status)

    def delivered(self, path: str) -> list[dict[str, Any]]:
        return [json.loads(b) for _, b, status in self.requests.get(path, []) if status == 200]


@pytest.fixture
async def shop(order_db, analytics_db, serve_services, serve_app):  # type: ignore[no-untyped-def]
    clock = SimulatedClock(start=datetime(2026, 12, 1, 9, tzinfo=UTC))
    clients, settings = await serve_services(
        clock,
        (create_order_app, order_db),
        (lambda s, c: create_analytics_app(s, c, webhook_settings=FAST), analytics_db),
    )
    receiver = Receiver(fail_first=2, always_fail={"broken"})
    server = await serve_app(receiver.app)
    return clients, settings, clock, receiver, server.base_url


async def _order(orders: httpx.AsyncClient, secret: str, seller_id: str, buyer: str) -> dict:
    """An order of `seller_id`'s, paid, then cancelled by its buyer: three status changes."""
    seller = auth(secret, "seller", f"{seller_id}-staff", seller_id=seller_id)
    r = await orders.post(
        "/v1/products",
        headers=seller,
        json={
            "sku": "MUG",
            "title": "Mug",
            "price": {"amount": 50000, "currency": "VND"},
            "weight_g": 300,
        },
    )
    assert r.status_code in (201, 409), r.text
    buyer_headers = auth(secret, "buyer", buyer)
    r = await orders.post(
        "/v1/orders",
        headers=buyer_headers,
        json={
            "seller_id": seller_id,
            "items": [{"sku": "MUG", "quantity": 1}],
            "shipping_address": ADDRESS,
            "payment_method": "CARD",
        },
    )
    assert r.status_code == 201, r.text
    order: dict = r.json()
    await pay(orders, buyer_headers, order)
    r = await orders.post(
        f"/v1/orders/{order['order_id']}/cancel",
        headers=buyer_headers,
        json={"reason_code": "CHANGED_MIND"},
    )
    assert r.status_code == 200, r.text
    return order


async def test_a_sellers_endpoint_gets_its_own_orders_events_signed_in_order_with_retries(
    shop,  # type: ignore[no-untyped-def]
) -> None:
    (orders, analytics), settings, clock, receiver, base = shop
    secret = settings[0].effective_jwt_secret
    seller_a = auth(secret, "seller", "a-staff", seller_id="shop-a")
    seller_b = auth(secret, "seller", "b-staff", seller_id="shop-b")
    operator = auth(secret, "operator", "op-1")

    r = await analytics.post(
        "/v1/webhooks",
        headers=seller_a,
        json={"url": f"{base}/a", "events": ["order.status_changed"]},
    )
    assert r.status_code == 201, r.text
    hook_a = r.json()
    assert hook_a["secret"].startswith("whsec_") and hook_a["seller_id"] == "shop-a"
    # An operator registers one for shop-b (a partner), to a path that always answers 500.
    r = await analytics.post(
        "/v1/webhooks",
        headers=operator,
        json={"url": f"{base}/broken", "events": ["order.status_changed"], "seller_id": "shop-b"},
    )
    assert r.status_code == 201, r.text
    hook_b = r.json()

    # The secret is shown once; strangers see nothing of the endpoint.
    r = await analytics.get(f"/v1/webhooks/{hook_a['webhook_id']}", headers=seller_a)
    assert r.status_code == 200 and "secret" not in r.json()
    for headers, status in ((seller_b, 404), (auth(secret, "buyer", "b1"), 403), ({}, 401)):
        path = f"/v1/webhooks/{hook_a['webhook_id']}"
        assert (await analytics.get(path, headers=headers)).status_code == status
        assert (await analytics.get(f"{path}/deliveries", headers=headers)).status_code == status
        assert (await analytics.delete(path, headers=headers)).status_code == status
    listed = (await analytics.get("/v1/webhooks", headers=seller_b)).json()["items"]
    assert [w["webhook_id"] for w in listed] == [hook_b["webhook_id"]]
    r = await analytics.post(
        "/v1/webhooks",
        headers=seller_b,
        json={"url": f"{base}/x", "events": ["order.status_changed"], "seller_id": "shop-a"},
    )
    assert r.status_code == 404
    r = await analytics.post(
        "/v1/webhooks",
        headers=seller_a,
        json={"url": "ftp://127.0.0.1/x", "events": ["refund.issued"]},
    )
    assert r.status_code == 422

    order_a = await _order(orders, secret, "shop-a", "buyer-a")
    order_b = await _order(orders, secret, "shop-b", "buyer-b")

    async def three_delivered() -> list[dict[str, Any]] | None:
        clock.advance(timedelta(seconds=1))  # the back-off runs on the simulated clock
        delivered = receiver.delivered("a")
        last = delivered[-1]["data"]["to_status"] if delivered else None
        return delivered if last == "CANCELLED" else None

    await eventually(three_delivered, within=60, interval=0.2)
    calls = receiver.requests["a"]
    # The first delivery was answered 500 twice, then retried; nothing later overtook it.
    assert [status for _, _, status in calls[:3]] == [500, 500, 200]
    bodies = [json.loads(raw) for _, raw, _ in calls]
    assert len({b["event_id"] for b in bodies[:3]}) == 1
    delivered = receiver.delivered("a")
    statuses = [b["data"]["to_status"] for b in delivered]
    assert statuses[0] == "UNPAID" and statuses.count("CANCELLED") == 1 and len(statuses) >= 3
    assert {b["order_id"] for b in delivered} == {order_a["order_id"]}
    assert {b["seller_id"] for b in bodies} == {"shop-a"}
    for headers, raw, _ in calls:
        assert verify(
            hook_a["secret"],
            raw,
            headers.get("x-shopflow-timestamp"),
            headers.get("x-shopflow-signature"),
            now=clock.now(),
            tolerance_s=300,
        )
        assert headers["x-shopflow-event-id"] == json.loads(raw)["event_id"]

    # The log shows the attempts; a replay sends the same event again, under a new delivery id.
    r = await analytics.get(f"/v1/webhooks/{hook_a['webhook_id']}/deliveries", headers=seller_a)
    assert r.status_code == 200, r.text
    log = r.json()["items"]
    assert [d["status"] for d in log] == ["DELIVERED"] * len(log)
    assert [a["status_code"] for a in log[0]["attempts"]] == [500, 500, 200]
    first = log[0]
    assert (
        await analytics.post(
            f"/v1/webhooks/{hook_a['webhook_id']}/deliveries/{first['delivery_id']}/replay",
            headers=seller_b,
        )
    ).status_code == 404
    r = await analytics.post(
        f"/v1/webhooks/{hook_a['webhook_id']}/deliveries/{first['delivery_id']}/replay",
        headers=seller_a,
    )
    assert r.status_code == 202, r.text
    replay = r.json()

    async def replayed() -> bool:
        clock.advance(timedelta(seconds=1))
        return any(
            h["x-shopflow-delivery-id"] == replay["delivery_id"]
            for h, _, status in receiver.requests["a"]
            if status == 200
        )

    await eventually(replayed, within=30, interval=0.2)
    again = [
        json.loads(raw)
        for h, raw, _ in receiver.requests["a"]
        if h["x-shopflow-delivery-id"] == replay["delivery_id"]
    ]
    assert again[0]["event_id"] == first["event_id"]

    # shop-b's endpoint keeps failing: after the retry window it is disabled, and the topic
    # is told; shop-b's events never went to shop-a's endpoint.
    async def disabled() -> bool:
        clock.advance(timedelta(seconds=2))
        r = await analytics.get(f"/v1/webhooks/{hook_b['webhook_id']}", headers=seller_b)
        return r.json()["status"] == "DISABLED"

    await eventually(disabled, within=60, interval=0.2)
    assert all(
        b["order_id"] == order_b["order_id"]
        for _, raw, _ in receiver.requests["broken"]
        for b in [json.loads(raw)]
    )
    assert order_b["order_id"] not in str(receiver.requests["a"])
    conn = await asyncpg.connect(to_libpq_url(Settings.database_url_for(settings[1], "analytics")))
    try:
        row = await conn.fetchrow(
            "SELECT seller_id, payload::text AS payload FROM events "
            "WHERE event_type = 'WebhookEndpointDisabled'"
        )
    finally:
        await conn.close()
    assert row is not None and row["seller_id"] == "shop-b"
    payload = json.loads(row["payload"])
    assert payload["webhook_id"] == hook_b["webhook_id"] and payload["url"] == f"{base}/broken"
