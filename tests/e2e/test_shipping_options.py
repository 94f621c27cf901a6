"""The buyer's shipping option over HTTP: chosen at checkout, it reaches fulfillment, where an
EXPRESS order's package ships only with the platform's channels and is estimated to arrive
sooner than a STANDARD order's on the same route, in the packages view and the order view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.analytics.app import create_analytics_app
from services.fulfillment.app import create_fulfillment_app
from services.order.app import create_order_app
from shared.auth import mint_token
from shared.clock import SimulatedClock
from tests.conftest import eventually
from tests.e2e.journeys import ADDRESS, keep_profile, pay, planned_packages

PLATFORM_CHANNELS = [
    "PLATFORM_PICKUP",
    "PLATFORM_DROP_OFF",
    "CROSS_BORDER_PICKUP",
    "CROSS_BORDER_DROP_OFF",
]


@pytest.fixture
async def shop(order_db, fulfillment_db, analytics_db, serve_services):
    """Order, fulfillment and analytics on one clock (Monday 2 Nov 2026 09:00 UTC), and a
    seller in Hanoi with books in stock."""
    clock = SimulatedClock(start=datetime(2026, 11, 2, 9, tzinfo=UTC))
    (orders, fulfillment, analytics), settings = await serve_services(
        clock,
        (create_order_app, order_db),
        (create_fulfillment_app, fulfillment_db),
        (create_analytics_app, analytics_db),
    )
    secret = settings[0].effective_jwt_secret

    def auth(role: str, sub: str, **claims: str) -> dict[str, str]:
        return {"Authorization": "Bearer " + mint_token(secret, sub=sub, role=role, **claims)}

    seller = auth("seller", "shop-express", seller_id="shop-express")
    r = await orders.post(
        "/v1/products",
        headers=seller,
        json={
            "sku": "BOOK",
            "title": "Truyen Kieu",
            "price": {"amount": 90000, "currency": "VND"},
            "weight_g": 700,
        },
    )
    assert r.status_code == 201, r.text
    r = await fulfillment.post(
        "/v1/warehouses",
        headers=seller,
        json={
            "name": "Shop VN Hanoi",
            "address": {**ADDRESS, "line1": "1 Kho St"},
            "contact": {"name": "Kho", "phone": "+84 24 1234"},
        },
    )
    assert r.status_code == 201, r.text
    stock = f"/v1/warehouses/{r.json()['warehouse_id']}/stock/BOOK"
    r = await fulfillment.put(stock, headers=seller, json={"on_hand": 10})
    assert r.status_code == 200, r.text
    await keep_profile(fulfillment, seller)
    return orders, fulfillment, analytics, clock, seller, auth("buyer", "buyer-express")


async def test_an_express_order_ships_with_platform_channels_only_and_is_due_sooner(shop) -> None:
    orders, fulfillment, analytics, clock, seller, buyer = shop
    placed = {}
    for option in ("EXPRESS", "STANDARD"):
        r = await orders.post(
            "/v1/orders",
            headers=buyer,
            json={
                "seller_id": "shop-express",
                "items": [{"sku": "BOOK", "quantity": 1}],
                "shipping_address": ADDRESS,
                "shipping_option": option,
                "payment_method": "COD",
            },
        )
        assert r.status_code == 201, r.text
        await pay(orders, buyer, r.json())
        placed[option] = r.json()["order_id"]
    clock.advance(timedelta(hours=1, seconds=1))  # past the remorse window: placed
    [express] = (await planned_packages(fulfillment, buyer, placed["EXPRESS"]))["packages"]
    [standard] = (await planned_packages(fulfillment, buyer, placed["STANDARD"]))["packages"]
    assert (express["shipping_option"], express["allowed_channels"]) == (
        "EXPRESS",
        PLATFORM_CHANNELS,
    )
    assert (
        standard["shipping_option"] == "STANDARD" and "SELLER_OWN" in standard["allowed_channels"]
    )

    # The seller's own carrier is refused for the EXPRESS order, naming what is allowed.
    own_carrier = {"handover": "SELLER_OWN", "carrier": "POST", "tracking_number": "RR123456789VN"}
    ship_express = f"/v1/packages/{express['package_id']}/ship"
    refused = await fulfillment.post(ship_express, headers=seller, json=own_carrier)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"].endswith("channel-not-allowed")
    assert (
        problem["allowed_channels"] == PLATFORM_CHANNELS and "PLATFORM_PICKUP" in problem["detail"]
    )
    after = await fulfillment.get(f"/v1/orders/{placed['EXPRESS']}/packages", headers=buyer)
    assert after.json()["packages"][0]["status"] == "PLANNED"  # nothing changed

    # An allowed channel ships it; the STANDARD order may use the seller's own carrier.
    shipped = await fulfillment.post(ship_express, headers=seller, json={"handover": "PICKUP"})
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["channel"] == "PLATFORM_PICKUP"
    r = await fulfillment.post(
        f"/v1/packages/{standard['package_id']}/ship", headers=seller, json=own_carrier
    )
    assert r.status_code == 200, r.text

    # Ready on Monday 2 Nov, to Hanoi (Saturday and Sunday off): EXPRESS 2 working days,
    # STANDARD 5. The buyer reads them in the packages view and in the order view.
    due = {"EXPRESS": "2026-11-04", "STANDARD": "2026-11-09"}
    for option, order_id in placed.items():
        view = await fulfillment.get(f"/v1/orders/{order_id}/packages", headers=buyer)
        assert view.json()["packages"][0]["estimated_delivery_date"] == due[option]

        async def order_view(order_id: str = order_id) -> dict | None:
            r = await analytics.get(f"/v1/order-views/{order_id}", headers=buyer)
            body: dict = r.json()
            shown = r.status_code == 200 and body["packages"]  # packages come a moment later
            return body if shown and body["packages"][0]["ready_at"] else None

        doc = await eventually(order_view, within=40)
        assert doc["shipping_option"] == option
        assert doc["estimated_delivery_date"] == due[option]
        assert doc["packages"][0]["estimated_delivery_date"] == due[option]
