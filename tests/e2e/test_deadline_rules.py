"""Issue 17 end to end (order, fulfillment, pickup and analytics over the real broker): the
seller guide's worked example, word for word. Dongguan switches to a new pickup provider at
00:00 Beijing time on 19 September; its pickup sellers' orders created on 18 and 19 September
get 3 more days; a cross-border seller's order created 18 September 10:00 may be dispatched
until 23 September 10:00. A seller of the region shipping by drop-off, or whose pickup is not
active yet, keeps its deadline; the order service, fulfillment's package and the analytics
order view agree."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.analytics.app import create_analytics_app
from services.fulfillment.app import create_fulfillment_app
from services.order.app import create_order_app
from services.pickup.app import create_pickup_app
from services.pickup.settings import PickupSettings
from shared.auth import mint_token
from shared.clock import SimulatedClock
from tests.conftest import eventually
from tests.e2e.journeys import keep_profile, pay

BEIJING = ZoneInfo("Asia/Shanghai")
DONGGUAN = {
    "recipient_name": "王小美",
    "phone": "+86 769 8888 0000",
    "line1": "洪梅镇某某路1号",
    "city": "Dongguan",
    "postal_code": "523000",
    "country": "CN",
}
BUYER_ADDRESS = {
    "recipient_name": "Amy Clark",
    "phone": "+44 20 7946 0000",
    "line1": "1 High St",
    "city": "London",
    "postal_code": "SW1A 1AA",
    "country": "GB",
}


@pytest.fixture
async def stack(order_db, fulfillment_db, pickup_db, analytics_db, serve_services):
    clock = SimulatedClock(start=datetime(2026, 9, 18, 9, tzinfo=BEIJING))
    pickup = partial(
        create_pickup_app, pickup_settings=PickupSettings(seed_default_providers=False)
    )
    clients, settings = await serve_services(
        clock,
        (create_order_app, order_db),
        (create_fulfillment_app, fulfillment_db),
        (pickup, pickup_db),
        (create_analytics_app, analytics_db),
    )
    return clients, clock, settings[0].effective_jwt_secret


def auth(secret: str, role: str, sub: str, **claims: str) -> dict[str, str]:
    if role == "seller":
        claims.setdefault("seller_id", sub)
    return {"Authorization": "Bearer " + mint_token(secret, sub=sub, role=role, **claims)}


async def seller_in_dongguan(
    orders: httpx.AsyncClient,
    fulfillment: httpx.AsyncClient,
    pickup: httpx.AsyncClient,
    secret: str,
    seller_id: str,
) -> tuple[dict[str, str], dict]:
    """A cross-border seller with a stocked warehouse in Dongguan; its pickup subscription
    once requested."""
    seller, operator = auth(secret, "seller", seller_id), auth(secret, "operator", "op")
    r = await orders.put(
        f"/v1/sellers/{seller_id}/programme", headers=operator, json={"programme": "CROSS_BORDER"}
    )
    assert r.status_code == 200, r.text
    product = {"sku": "LAMP", "title": "台灯", "price": {"amount": 5900, "currency": "GBP"}}
    r = await orders.post("/v1/products", headers=seller, json={**product, "weight_g": 800})
    assert r.status_code == 201, r.text
    r = await fulfillment.post(
        "/v1/warehouses",
        headers=seller,
        json={"name": "东莞仓", "address": DONGGUAN, "contact": {"name": "王", "phone": "+86 1"}},
    )
    assert r.status_code == 201, r.text
    wid = r.json()["warehouse_id"]
    await keep_profile(fulfillment, seller)
    r = await fulfillment.put(
        f"/v1/warehouses/{wid}/stock/LAMP", headers=seller, json={"on_hand": 5}
    )
    assert r.status_code == 200, r.text

    async def requested() -> dict | None:
        r = await pickup.get(f"/v1/warehouses/{wid}/pickup-subscription", headers=seller)
        return r.json() if r.status_code == 200 else None

    subscription: dict = await eventually(requested, within=40)
    assert subscription["status"] == "PENDING_REVIEW" and subscription["provider_code"] == "SF"
    return seller, subscription


async def test_dongguan_switch_an_order_created_18_sep_10h_is_due_23_sep_10h(stack) -> None:
    (orders, fulfillment, pickup, analytics), clock, secret = stack
    operator = auth(secret, "operator", "op")
    buyer = auth(secret, "buyer", "amy")
    r = await pickup.put(
        "/v1/providers/SF",
        headers=operator,
        json={
            "name": "顺丰",
            "tracking_prefix": "SF",
            "coverage": [{"country": "CN", "city": "Dongguan", "timezone": "Asia/Shanghai"}],
        },
    )
    assert r.status_code == 200 and r.json()["coverage"][0]["timezone"] == "Asia/Shanghai"
    r = await pickup.put(
        "/v1/providers/WS",
        headers=operator,
        json={"name": "Westar", "tracking_prefix": "WS", "coverage": []},
    )
    assert r.status_code == 200, r.text

    _, sub = await seller_in_dongguan(orders, fulfillment, pickup, secret, "dg-pickup")
    r = await pickup.post(
        f"/v1/pickup-subscriptions/{sub['subscription_id']}/review",
        headers=operator,
        json={"approve": True},
    )
    assert r.json()["status"] == "ACTIVE", r.text
    drop_off_seller, sub = await seller_in_dongguan(orders, fulfillment, pickup, secret, "dg-drop")
    r = await pickup.post(
        f"/v1/pickup-subscriptions/{sub['subscription_id']}/decline", headers=drop_off_seller
    )
    assert r.json()["handover"] == "DROP_OFF", r.text
    await seller_in_dongguan(orders, fulfillment, pickup, secret, "dg-pending")  # not reviewed

    clock.set(datetime(2026, 9, 18, 10, tzinfo=BEIJING))
    created = {}
    for seller_id in ("dg-pickup", "dg-drop", "dg-pending"):
        body = {
            "seller_id": seller_id,
            "items": [{"sku": "LAMP", "quantity": 1}],
            "shipping_address": BUYER_ADDRESS,
            "payment_method": "CARD",
        }
        r = await orders.post("/v1/orders", headers=buyer, json=body)
        assert r.status_code == 201, r.text
        created[seller_id] = r.json()
        await pay(orders, buyer, r.json())

    r = await pickup.post(
        "/v1/provider-switches",
        headers=operator,
        json={
            "country": "CN",
            "city": "Dongguan",
            "to_provider": "WS",
            "cutover_at": "2026-09-19T00:00:00+08:00",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["timezone"] == "Asia/Shanghai" and r.json()["sla_extension_hours"] == 72
    clock.advance(timedelta(hours=1, seconds=1))  # the remorse window ends: placed

    expected = {
        "dg-pickup": datetime(2026, 9, 23, 10, tzinfo=BEIJING),  # 2 days + 3 days
        "dg-drop": datetime(2026, 9, 20, 10, tzinfo=BEIJING),  # drop-off: 2 days
        "dg-pending": datetime(2026, 9, 20, 10, tzinfo=BEIJING),  # pickup not active yet
    }
    for seller_id, due in expected.items():
        order_id = created[seller_id]["order_id"]

        async def agreed(order_id: str = order_id, due: datetime = due) -> dict | None:
            order = (await orders.get(f"/v1/orders/{order_id}", headers=operator)).json()
            packages = await fulfillment.get(f"/v1/orders/{order_id}/packages", headers=operator)
            view = await analytics.get(f"/v1/order-views/{order_id}", headers=operator)
            if packages.status_code != 200 or view.status_code != 200:
                return None
            seen = {
                "order service": order["dispatch_deadline"],
                "fulfillment": packages.json()["packages"][0]["dispatch_deadline"]
                if packages.json()["packages"]
                else None,
                "order view": view.json()["dispatch_deadline"],
            }
            times = {k: v and datetime.fromisoformat(v) for k, v in seen.items()}
            return times if all(t == due for t in times.values()) else None

        assert await eventually(agreed, within=40), f"{seller_id}: not all at {due.isoformat()}"
