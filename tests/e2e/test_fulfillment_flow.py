"""Order and fulfillment services running together over the real broker: a paid order is
placed, its stock reserved and its packages planned; a cancellation releases the stock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.fulfillment.app import create_fulfillment_app
from services.order.app import create_order_app
from shared.auth import mint_token
from shared.clock import SimulatedClock
from tests.conftest import eventually, make_settings

VN_ADDRESS = {
    "recipient_name": "Lan Nguyen",
    "phone": "+84 912 345 678",
    "line1": "12 Hang Bac",
    "city": "Hanoi",
    "postal_code": "100000",
    "country": "VN",
}


@pytest.fixture
async def services(infra, order_db, fulfillment_db, serve_app):
    clock = SimulatedClock(start=datetime(2026, 11, 2, 9, tzinfo=UTC))
    order_settings = make_settings(infra, order_db)
    fulfillment_settings = make_settings(
        infra, fulfillment_db, kafka_topic_prefix=order_settings.kafka_topic_prefix
    )
    order = await serve_app(create_order_app(order_settings, clock))
    fulfillment = await serve_app(create_fulfillment_app(fulfillment_settings, clock))
    secret = order_settings.effective_jwt_secret
    clients = (
        httpx.AsyncClient(base_url=order.base_url, timeout=20),
        httpx.AsyncClient(base_url=fulfillment.base_url, timeout=20),
    )
    yield clients, clock, secret
    for client in clients:
        await client.aclose()


def auth(secret: str, role: str, sub: str, **claims: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(secret, sub=sub, role=role, **claims)}


async def test_a_placed_order_gets_stock_reserved_and_packages_planned(services) -> None:
    (orders, fulfillment), clock, secret = services
    seller = auth(secret, "seller", "shop-vn")
    buyer = auth(secret, "buyer", "buyer-1")
    for sku, weight in (("BOOK", 600), ("LAMP", 2500)):
        r = await orders.post(
            "/v1/products",
            headers=seller,
            json={
                "sku": sku,
                "title": sku,
                "price": {"amount": 150000, "currency": "VND"},
                "weight_g": weight,
            },
        )
        assert r.status_code == 201, r.text
    r = await fulfillment.post(
        "/v1/warehouses",
        headers=seller,
        json={
            "name": "Hanoi 1",
            "address": VN_ADDRESS,
            "contact": {"name": "Kho", "phone": "+84 24 1234"},
        },
    )
    assert r.status_code == 201, r.text
    warehouse_id = r.json()["warehouse_id"]
    for sku, units in (("BOOK", 5), ("LAMP", 1)):
        r = await fulfillment.put(
            f"/v1/warehouses/{warehouse_id}/stock/{sku}", headers=seller, json={"on_hand": units}
        )
        assert r.status_code == 200 and r.json()["available"] == units
    r = await fulfillment.put(
        "/v1/sellers/shop-vn/split-rules",
        headers=seller,
        json={"max_weight_g": 2000, "ship_alone_skus": ["LAMP"]},
    )
    assert r.status_code == 200 and r.json()["version"] == 1

    order = (
        await orders.post(
            "/v1/orders",
            headers=buyer,
            json={
                "seller_id": "shop-vn",
                "items": [{"sku": "BOOK", "quantity": 4}, {"sku": "LAMP", "quantity": 1}],
                "shipping_address": VN_ADDRESS,
                "payment_method": "COD",
            },
        )
    ).json()
    paid = await orders.post(
        f"/v1/orders/{order['order_id']}/payments",
        headers=buyer,
        json={"amount": order["total"], "transaction_id": "t1"},
    )
    assert paid.status_code == 200, paid.text
    clock.advance(timedelta(hours=1, seconds=1))

    async def planned() -> dict | None:
        r = await fulfillment.get(f"/v1/orders/{order['order_id']}/packages", headers=buyer)
        return r.json() if r.status_code == 200 and r.json()["status"] == "PLANNED" else None

    plan = await eventually(planned, within=40)
    packages = plan["packages"]
    # LAMP alone; 4 books of 600 g in boxes of at most 2 kg: 3 + 1
    assert sorted(tuple((i["sku"], i["quantity"]) for i in p["items"]) for p in packages) == [
        (("BOOK", 1),),
        (("BOOK", 3),),
        (("LAMP", 1),),
    ]
    assert all(p["status"] == "PLANNED" and p["warehouse_id"] == warehouse_id for p in packages)
    other_buyer = auth(secret, "buyer", "buyer-2")
    assert (
        await fulfillment.get(f"/v1/orders/{order['order_id']}/packages", headers=other_buyer)
    ).status_code == 404

    # stock is held: the count cannot drop below what is reserved
    r = await fulfillment.put(
        f"/v1/warehouses/{warehouse_id}/stock/BOOK", headers=seller, json={"on_hand": 3}
    )
    assert r.status_code == 409
    # the seller cancels (out of stock, seller fault): packages cancelled, stock released
    r = await orders.post(
        f"/v1/orders/{order['order_id']}/cancel",
        headers=seller,
        json={"reason_code": "OUT_OF_STOCK"},
    )
    assert r.status_code == 200 and r.json()["status"] == "CANCELLED"

    async def cancelled() -> dict | None:
        r = await fulfillment.get(f"/v1/orders/{order['order_id']}/packages", headers=buyer)
        return r.json() if r.json()["status"] == "CANCELLED" else None

    after = await eventually(cancelled, within=20)
    assert {p["status"] for p in after["packages"]} == {"CANCELLED"}
    r = await fulfillment.put(
        f"/v1/warehouses/{warehouse_id}/stock/BOOK", headers=seller, json={"on_hand": 5}
    )
    assert r.json() == {
        "warehouse_id": warehouse_id,
        "sku": "BOOK",
        "on_hand": 5,
        "reserved": 0,
        "available": 5,
    }


async def test_warehouses_belong_to_their_seller(services) -> None:
    (_, fulfillment), _, secret = services
    mine = auth(secret, "seller", "shop-a")
    theirs = auth(secret, "seller", "shop-b")
    r = await fulfillment.post(
        "/v1/warehouses",
        headers=mine,
        json={"name": "A", "address": VN_ADDRESS, "contact": {"name": "K", "phone": "+84 24 1234"}},
    )
    wid = r.json()["warehouse_id"]
    assert (await fulfillment.get(f"/v1/warehouses/{wid}", headers=theirs)).status_code == 404
    assert (
        await fulfillment.put(f"/v1/warehouses/{wid}/stock/X", headers=theirs, json={"on_hand": 1})
    ).status_code == 404
    assert (
        await fulfillment.put(f"/v1/warehouses/{wid}/address", headers=theirs, json=VN_ADDRESS)
    ).status_code == 404
    assert (
        await fulfillment.put("/v1/sellers/shop-a/split-rules", headers=theirs, json={})
    ).status_code == 404
    assert (
        await fulfillment.put(f"/v1/warehouses/{wid}/stock/X", headers=mine, json={"on_hand": -1})
    ).status_code == 422
    moved = await fulfillment.put(
        f"/v1/warehouses/{wid}/address", headers=mine, json={**VN_ADDRESS, "city": "Hai Phong"}
    )
    assert (
        moved.status_code == 200
        and moved.json()["address"]["city"] == "Hai Phong"
        and moved.json()["version"] == 2
    )
