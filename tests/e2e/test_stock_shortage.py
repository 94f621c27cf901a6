"""A placed order short of stock, end to end (order, fulfillment and analytics over the real
broker, on a simulated clock): the buyer sees it wait for stock; the seller restocks and the
first placed of the waiting orders gets its stock reserved and its packages planned; the
seller cancels another for OUT_OF_STOCK; one still short 48 h later is cancelled at the
seller's fault, and both count in the seller's Seller-Fault Cancellation Rate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.analytics.app import create_analytics_app
from services.fulfillment.app import create_fulfillment_app
from services.order.app import create_order_app
from shared.auth import mint_token
from shared.clock import SimulatedClock
from tests.conftest import eventually
from tests.e2e.journeys import ADDRESS, keep_profile, lamp_shop, pay, planned_packages

SELLER_ID = "shop-short"


@pytest.fixture
async def stack(order_db, fulfillment_db, analytics_db, serve_services):
    clock = SimulatedClock(start=datetime(2026, 11, 2, 9, tzinfo=UTC))
    clients, settings = await serve_services(
        clock,
        (create_order_app, order_db),
        (create_fulfillment_app, fulfillment_db),
        (create_analytics_app, analytics_db),
    )
    return clients, clock, settings[0].effective_jwt_secret


def auth(secret: str, role: str, sub: str, **claims: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(secret, sub=sub, role=role, **claims)}


async def placed_order(
    orders: httpx.AsyncClient, clock: SimulatedClock, buyer: dict[str, str], units: int
) -> dict:
    """An order of `units` lamps, paid, and placed once its remorse window has passed."""
    body = {
        "seller_id": SELLER_ID,
        "items": [{"sku": "LAMP", "quantity": units}],
        "shipping_address": ADDRESS,
        "payment_method": "CARD",
    }
    r = await orders.post("/v1/orders", headers=buyer, json=body)
    assert r.status_code == 201, r.text
    order: dict = r.json()
    await pay(orders, buyer, order)
    clock.advance(timedelta(hours=1, seconds=1))
    return order


async def order_when(
    orders: httpx.AsyncClient, headers: dict[str, str], order_id: str, check: Callable[[dict], bool]
) -> dict:
    async def seen() -> dict | None:
        body = (await orders.get(f"/v1/orders/{order_id}", headers=headers)).json()
        return body if check(body) else None

    result: dict = await eventually(seen, within=40)
    return result


async def test_an_order_short_of_stock_waits_is_restocked_or_cancelled_at_the_sellers_fault(
    stack,
) -> None:
    (orders, fulfillment, analytics), clock, secret = stack
    seller = auth(secret, "seller", "staff", seller_id=SELLER_ID)
    buyer = auth(secret, "buyer", "buyer-1")
    await keep_profile(fulfillment, seller)
    stock_url = await lamp_shop(orders, fulfillment, seller, on_hand=1)

    # two orders of 2 lamps, one lamp in stock: both wait, and the buyer sees it
    first = await placed_order(orders, clock, buyer, units=2)
    first_waiting = await order_when(
        orders, buyer, first["order_id"], lambda o: o["awaiting_stock"]
    )
    second = await placed_order(orders, clock, buyer, units=2)
    second_waiting = await order_when(
        orders, buyer, second["order_id"], lambda o: o["awaiting_stock"]
    )
    assert first_waiting["status"] == "AWAITING_SHIPMENT"  # a contract status: no new one
    assert first_waiting["stock_shortage"]["shortfalls"] == [
        {"sku": "LAMP", "requested": 2, "available": 1}
    ]
    since = datetime.fromisoformat(second_waiting["stock_shortage"]["since"])
    cancel_at = datetime.fromisoformat(second_waiting["stock_shortage"]["cancel_at"])
    assert cancel_at == since + timedelta(hours=48)

    async def view_waiting() -> dict | None:
        r = await analytics.get(f"/v1/order-views/{second['order_id']}", headers=buyer)
        return r.json() if r.status_code == 200 and r.json()["awaiting_stock"] else None

    view = await eventually(view_waiting, within=40)
    assert view["stock_shortage"]["shortfalls"][0]["sku"] == "LAMP"

    # the seller restocks to 3: the first placed gets its 2, the second still lacks one
    r = await fulfillment.put(stock_url, headers=seller, json={"on_hand": 3})
    assert r.status_code == 200, r.text
    cleared = await order_when(orders, buyer, first["order_id"], lambda o: not o["awaiting_stock"])
    assert cleared["stock_shortage"] is None and cleared["status"] == "AWAITING_SHIPMENT"
    await planned_packages(fulfillment, buyer, first["order_id"])
    still = (await orders.get(f"/v1/orders/{second['order_id']}", headers=buyer)).json()
    assert still["awaiting_stock"] is True

    # a third waits too; the seller cancels it for being out of stock: its fault
    third = await placed_order(orders, clock, buyer, units=2)
    await order_when(orders, buyer, third["order_id"], lambda o: o["awaiting_stock"])
    r = await orders.post(
        f"/v1/orders/{third['order_id']}/cancel",
        headers=seller,
        json={"reason_code": "OUT_OF_STOCK"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["cancellation"]["seller_fault"] is True and not r.json()["awaiting_stock"]

    # the second is still short when its 48 h are over: cancelled at the seller's fault
    clock.set(cancel_at + timedelta(minutes=1))
    cancelled = await order_when(
        orders, buyer, second["order_id"], lambda o: o["status"] == "CANCELLED"
    )
    assert (
        cancelled["cancellation"]["cancelled_by"],
        cancelled["cancellation"]["reason_code"],
        cancelled["cancellation"]["seller_fault"],
        cancelled["awaiting_stock"],
    ) == ("system", "OUT_OF_STOCK", True, False)
    restocked = (await orders.get(f"/v1/orders/{first['order_id']}", headers=buyer)).json()
    assert restocked["status"] == "AWAITING_SHIPMENT"  # restocked in time: not cancelled

    async def rate() -> dict | None:
        r = await analytics.get(
            f"/v1/sellers/{SELLER_ID}/metrics", params={"granularity": "total"}, headers=seller
        )
        sfcr = r.json()["total"]["seller_fault_cancellation_rate"] if r.status_code == 200 else {}
        return sfcr if sfcr.get("numerator") == 2 else None

    sfcr = await eventually(rate, within=45)
    assert sfcr["denominator"] == 3
