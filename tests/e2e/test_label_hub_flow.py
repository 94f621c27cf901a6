"""Issue 16 over the real broker: a pickup provider names the hub receiving a region's
parcels, and the first-mile label of a warehouse there prints it; the hub records a label
defect on a parcel it received, which charges the seller a relabel fee and counts in the
seller's label defect rate."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import partial

import asyncpg
import pytest

from services.analytics.app import create_analytics_app
from services.fulfillment.app import create_fulfillment_app
from services.order.app import create_order_app
from services.pickup.app import create_pickup_app
from services.pickup.settings import PickupSettings
from shared.clock import SimulatedClock
from shared.settings import to_libpq_url
from tests.conftest import eventually
from tests.e2e.journeys import keep_profile, pay, planned_packages
from tests.e2e.test_pickup_flow import assert_not_found, auth, subscription_of

DONGGUAN = {
    "recipient_name": "陈先生",
    "phone": "+86 769 2238 8888",
    "line1": "洪梅镇洪梅大道18号",
    "city": "东莞市",
    "region": "广东省",
    "postal_code": "523160",
    "country": "CN",
}
HUB = {
    "hub_id": "DG-HM-1",
    "name": "中通东莞洪梅分拨中心",
    "line1": "洪梅镇望沙路88号",
    "city": "东莞市",
    "region": "广东省",
    "postal_code": "523160",
    "country": "CN",
}
ZTO = {
    "name": "中通快递",
    "tracking_prefix": "ZT",
    "coverage": [
        {"country": "CN", "city": "东莞市", "hub": HUB},
        {"country": "CN", "city": "佛山市"},
    ],
}


@pytest.fixture
async def stack(order_db, fulfillment_db, pickup_db, analytics_db, serve_services):
    clock = SimulatedClock(start=datetime(2026, 11, 2, 9, tzinfo=UTC))
    pickup = partial(
        create_pickup_app,
        pickup_settings=PickupSettings(
            seed_default_providers=False, relabel_fee_amount=300, relabel_fee_currency="CNY"
        ),
    )
    clients, settings = await serve_services(
        clock,
        (create_order_app, order_db),
        (create_fulfillment_app, fulfillment_db),
        (pickup, pickup_db),
        (create_analytics_app, analytics_db),
    )
    return clients, clock, settings[0].effective_jwt_secret, fulfillment_db


async def test_a_hub_configuration_is_validated_and_changes_nothing_when_refused(stack) -> None:
    (_, _, pickup, _), _, secret, _ = stack
    operator = auth(secret, "operator", "op")
    assert (await pickup.put("/v1/providers/ZTO", headers=operator, json=ZTO)).status_code == 200
    abroad = {
        **ZTO,
        "coverage": [{"country": "CN", "city": "东莞市", "hub": {**HUB, "country": "VN"}}],
    }
    no_postal_code = {
        **ZTO,
        "coverage": [{"country": "CN", "city": "东莞市", "hub": {**HUB, "postal_code": ""}}],
    }
    for refused in (abroad, no_postal_code):
        r = await pickup.put("/v1/providers/ZTO", headers=operator, json=refused)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    seller = auth(secret, "seller", "shop-x")
    assert (await pickup.put("/v1/providers/ZTO", headers=seller, json=ZTO)).status_code == 403
    [provider] = (await pickup.get("/v1/providers", headers=seller)).json()
    assert provider["coverage"] == [
        {"country": "CN", "city": "东莞市", "hub": {**HUB, "line2": None}, "timezone": None},
        {"country": "CN", "city": "佛山市", "hub": None, "timezone": None},
    ]


async def test_a_first_mile_label_names_the_hub_and_a_label_defect_is_charged_and_counted(
    stack,
) -> None:
    (orders, fulfillment, pickup, analytics), clock, secret, fulfillment_db = stack
    operator = auth(secret, "operator", "op")
    seller = auth(secret, "seller", "shop-dg")
    buyer = auth(secret, "buyer", "b-dg")
    driver = auth(secret, "driver", "drv-zt", provider="ZTO")
    stranger = auth(secret, "driver", "drv-sf", provider="SF")
    assert (await pickup.put("/v1/providers/ZTO", headers=operator, json=ZTO)).status_code == 200

    r = await fulfillment.post(
        "/v1/warehouses",
        headers=seller,
        json={
            "name": "东莞洪梅仓",
            "address": DONGGUAN,
            "contact": {"name": "王", "phone": "+86 769 1"},
        },
    )
    wid = str(r.json()["warehouse_id"])
    await keep_profile(fulfillment, seller)
    await fulfillment.put(f"/v1/warehouses/{wid}/stock/TEA", headers=seller, json={"on_hand": 5})
    pending = await eventually(lambda: subscription_of(pickup, seller, wid), within=40)
    r = await pickup.post(
        f"/v1/pickup-subscriptions/{pending['subscription_id']}/review",
        headers=driver,
        json={"approve": True},
    )
    assert r.json()["handover"] == "PICKUP", r.text
    await orders.post(
        "/v1/products",
        headers=seller,
        json={
            "sku": "TEA",
            "title": "普洱茶",
            "price": {"amount": 8800, "currency": "CNY"},
            "weight_g": 400,
        },
    )
    order = (
        await orders.post(
            "/v1/orders",
            headers=buyer,
            json={
                "seller_id": "shop-dg",
                "items": [{"sku": "TEA", "quantity": 1}],
                "shipping_address": {**DONGGUAN, "recipient_name": "李女士"},
                "payment_method": "COD",
            },
        )
    ).json()
    await pay(orders, buyer, order)
    clock.advance(timedelta(hours=1, seconds=1))
    plan = await planned_packages(fulfillment, seller, order["order_id"])
    pid = plan["packages"][0]["package_id"]

    async def hub_known() -> bool:  # fulfillment has heard the provider's configuration
        conn = await asyncpg.connect(to_libpq_url(fulfillment_db))
        try:
            return bool(await conn.fetchval("SELECT count(*) FROM region_hubs"))
        finally:
            await conn.close()

    assert await eventually(hub_known, within=30)

    async def pickup_known() -> bool:  # fulfillment has heard the subscription's approval
        r = await fulfillment.post(
            f"/v1/packages/{pid}/ship", headers=seller, json={"handover": "PICKUP"}
        )
        return r.status_code == 200

    assert await eventually(pickup_known, within=30)
    label = (
        await fulfillment.get(
            f"/v1/packages/{pid}/documents", headers={**seller, "Accept": "application/json"}
        )
    ).json()
    assert label["handover_mode"] == "PICK UP"
    assert label["hub_address"] == [
        "中通东莞洪梅分拨中心",
        "洪梅镇望沙路88号",
        "广东省 东莞市",
        "523160 CN",
    ]
    pdf = await fulfillment.get(f"/v1/packages/{pid}/documents", headers=seller)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    async def awaited() -> bool:
        r = await pickup.post(f"/v1/packages/{pid}/pickup-scan", headers=driver)
        return r.status_code == 200

    assert await eventually(awaited, within=30)
    defect = {"reason_code": "UNREADABLE_LABEL", "note": "面单被水浸湿 条码无法扫描"}
    before = await pickup.post(f"/v1/packages/{pid}/label-defect", headers=driver, json=defect)
    assert before.status_code == 409, before.text  # not at the hub yet
    hub = await pickup.post(
        f"/v1/packages/{pid}/hub-arrival", headers=driver, json={"hub_id": "DG-HM-1"}
    )
    assert hub.status_code == 200, hub.text

    # another provider's driver, an unknown parcel: 404; a seller: 403; a bad reason: 422
    assert_not_found(
        await pickup.post(f"/v1/packages/{pid}/label-defect", headers=stranger, json=defect)
    )
    assert_not_found(
        await pickup.post(f"/v1/packages/{uuid.uuid4()}/label-defect", headers=driver, json=defect)
    )
    r = await pickup.post(f"/v1/packages/{pid}/label-defect", headers=seller, json=defect)
    assert r.status_code == 403
    r = await pickup.post(
        f"/v1/packages/{pid}/label-defect", headers=driver, json={"reason_code": "UGLY"}
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")

    recorded = await pickup.post(f"/v1/packages/{pid}/label-defect", headers=driver, json=defect)
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["label_defect"] == "UNREADABLE_LABEL"
    again = await pickup.post(f"/v1/packages/{pid}/label-defect", headers=operator, json=defect)
    assert again.status_code == 200  # the same defect again: charged once
    other = {"reason_code": "WRONG_LABEL"}
    assert (
        await pickup.post(f"/v1/packages/{pid}/label-defect", headers=operator, json=other)
    ).status_code == 409

    async def charged() -> dict | None:
        r = await analytics.get(f"/v1/order-views/{order['order_id']}", headers=seller)
        if r.status_code != 200:
            return None
        view = r.json()
        return view if view["packages"][0]["pickup"].get("relabel_fee") else None

    view = await eventually(charged, within=40)
    assert view["packages"][0]["pickup"]["label_defect"] == "UNREADABLE_LABEL"
    assert view["packages"][0]["pickup"]["relabel_fee"] == {"amount": 300, "currency": "CNY"}
    events = [t["event_type"] for t in view["timeline"]]
    assert events.count("LabelDefectRecorded") == 1 and events.count("RelabelFeeCharged") == 1

    metrics = await analytics.get(
        "/v1/sellers/shop-dg/metrics", params={"granularity": "total"}, headers=seller
    )
    body = metrics.json()
    assert body["total"]["label_defect_rate"] == {"numerator": 1, "denominator": 1, "value": 1.0}
    assert "label_defect_rate" in body["definitions"]
    assert body["thresholds"]["label_defect_rate"] == {"op": "<=", "value": 0.01}
