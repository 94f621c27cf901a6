"""Pickup, fulfillment and order services over the real broker: a warehouse in a provider's
coverage is subscribed, reviewed, and its labels say PICK UP with the provider's prefix; one
outside coverage ships DROP OFF; an unreviewed request is flagged on a simulated clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import partial

import httpx
import jwt
import pytest

from services.fulfillment.app import create_fulfillment_app
from services.order.app import create_order_app
from services.pickup.app import create_pickup_app
from services.pickup.settings import PickupSettings
from shared.auth import mint_token
from shared.clock import SimulatedClock
from tests.conftest import eventually
from tests.e2e.journeys import keep_profile, pay, planned_packages

ADDRESS = {
    "recipient_name": "Lan",
    "phone": "+84 912 345",
    "line1": "12 Hang Bac",
    "postal_code": "100000",
    "country": "VN",
}


@pytest.fixture
async def stack(order_db, fulfillment_db, pickup_db, serve_services):
    clock = SimulatedClock(start=datetime(2026, 11, 2, 9, tzinfo=UTC))
    pickup = partial(
        create_pickup_app, pickup_settings=PickupSettings(seed_default_providers=False)
    )
    clients, settings = await serve_services(
        clock,
        (create_order_app, order_db),
        (create_fulfillment_app, fulfillment_db),
        (pickup, pickup_db),
    )
    return clients, clock, settings[0].effective_jwt_secret


def auth(secret: str, role: str, sub: str, **claims: str) -> dict[str, str]:
    """A bearer header; a seller here is its own shop (`seller_id` = `sub`) unless told."""
    if role == "seller":
        claims.setdefault("seller_id", sub)
    return {"Authorization": "Bearer " + mint_token(secret, sub=sub, role=role, **claims)}


def unscoped_driver(secret: str, sub: str) -> dict[str, str]:
    """A driver token naming no provider (mint_token refuses to make one)."""
    exp = datetime.now(UTC) + timedelta(hours=1)
    token = jwt.encode({"sub": sub, "role": "driver", "exp": exp}, secret, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


async def test_subscriptions_decide_what_labels_say(stack) -> None:
    (orders, fulfillment, pickup), clock, secret = stack
    operator = auth(secret, "operator", "op")
    seller = auth(secret, "seller", "shop-p")
    buyer = auth(secret, "buyer", "b-p")
    r = await pickup.put(
        "/v1/providers/WS",
        headers=operator,
        json={
            "name": "Westar",
            "tracking_prefix": "WS",
            "coverage": [{"country": "VN", "city": "Hanoi"}],
        },
    )
    assert r.status_code == 200, r.text
    assert [
        p["provider_code"] for p in (await pickup.get("/v1/providers", headers=buyer)).json()
    ] == ["WS"]
    assert (
        await pickup.put(
            "/v1/providers/WS",
            headers=seller,
            json={"name": "x", "tracking_prefix": "WS", "coverage": []},
        )
    ).status_code == 403

    covered = await stocked_warehouse(fulfillment, seller, "Shop Hanoi", "Hanoi")
    uncovered = await stocked_warehouse(fulfillment, seller, "Shop Hue", "Hue")

    async def subscription(wid: str) -> dict | None:
        return await subscription_of(pickup, seller, wid)

    pending = await eventually(lambda: subscription(covered), within=40)
    assert (pending["status"], pending["provider_code"], pending["handover"]) == (
        "PENDING_REVIEW",
        "WS",
        "DROP_OFF",
    )
    not_covered = await eventually(lambda: subscription(uncovered), within=20)
    assert (not_covered["status"], not_covered["handover"]) == ("NOT_COVERED", "DROP_OFF")

    other_driver = auth(secret, "driver", "d-x", provider="SPX")
    sid = pending["subscription_id"]
    # a driver token naming no provider is nobody's driver (refused at the edge, or a 404)
    nobodys = unscoped_driver(secret, "d-0")
    review = {"approve": True}
    for subscription_id in (sid, not_covered["subscription_id"]):
        r = await pickup.post(
            f"/v1/pickup-subscriptions/{subscription_id}/review", headers=nobodys, json=review
        )
        assert r.status_code in (401, 404), r.text
    assert (
        await pickup.post(
            f"/v1/pickup-subscriptions/{sid}/review", headers=other_driver, json={"approve": True}
        )
    ).status_code == 404
    driver = auth(secret, "driver", "d-ws", provider="WS")
    approved = await pickup.post(
        f"/v1/pickup-subscriptions/{sid}/review", headers=driver, json={"approve": True}
    )
    assert (
        approved.status_code == 200
        and approved.json()["status"] == "ACTIVE"
        and approved.json()["handover"] == "PICKUP"
    )

    await orders.post(
        "/v1/products",
        headers=seller,
        json={
            "sku": "BOOK",
            "title": "Book",
            "price": {"amount": 90000, "currency": "VND"},
            "weight_g": 500,
        },
    )

    async def place(city: str) -> dict:
        order = (
            await orders.post(
                "/v1/orders",
                headers=buyer,
                json={
                    "seller_id": "shop-p",
                    "items": [{"sku": "BOOK", "quantity": 1}],
                    "shipping_address": {**ADDRESS, "city": city},
                    "payment_method": "COD",
                },
            )
        ).json()
        await pay(orders, buyer, order)
        clock.advance(timedelta(hours=1, seconds=1))

        return await planned_packages(fulfillment, seller, order["order_id"])

    # stock is in both warehouses: take the covered one's away to steer each order
    await fulfillment.put(
        f"/v1/warehouses/{uncovered}/stock/BOOK", headers=seller, json={"on_hand": 0}
    )
    plan = await place("Hanoi")
    assert plan["packages"][0]["warehouse_id"] == covered
    pid = plan["packages"][0]["package_id"]
    assert (
        await fulfillment.post(
            f"/v1/packages/{pid}/ship", headers=seller, json={"handover": "DROP_OFF"}
        )
    ).status_code == 409
    shipped = (
        await fulfillment.post(
            f"/v1/packages/{pid}/ship", headers=seller, json={"handover": "PICKUP"}
        )
    ).json()
    assert shipped["tracking_number"].startswith("WS") and shipped["carrier"] == "WS"

    await fulfillment.put(
        f"/v1/warehouses/{covered}/stock/BOOK", headers=seller, json={"on_hand": 4}
    )
    await fulfillment.put(
        f"/v1/warehouses/{uncovered}/stock/BOOK", headers=seller, json={"on_hand": 5}
    )
    await fulfillment.put(
        f"/v1/warehouses/{covered}/stock/BOOK", headers=seller, json={"on_hand": 0}
    )
    plan = await place("Hue")
    assert plan["packages"][0]["warehouse_id"] == uncovered
    pid = plan["packages"][0]["package_id"]
    assert (
        await fulfillment.post(
            f"/v1/packages/{pid}/ship", headers=seller, json={"handover": "PICKUP"}
        )
    ).status_code == 409
    dropped = await fulfillment.post(
        f"/v1/packages/{pid}/ship", headers=seller, json={"handover": "DROP_OFF"}
    )
    assert dropped.status_code == 200
    label = (
        await fulfillment.get(
            f"/v1/packages/{pid}/documents", headers={**seller, "Accept": "application/json"}
        )
    ).json()
    assert label["handover_mode"] == "DROP OFF"

    # the seller declines pickup at the covered warehouse: back to drop-off
    declined = await pickup.post(f"/v1/pickup-subscriptions/{sid}/decline", headers=seller)
    assert declined.json()["status"] == "DECLINED" and declined.json()["handover"] == "DROP_OFF"


async def test_an_unreviewed_request_is_flagged_after_24_hours_and_an_address_change_asks_again(
    stack,
) -> None:
    (_, fulfillment, pickup), clock, secret = stack
    operator = auth(secret, "operator", "op")
    seller = auth(secret, "seller", "shop-q")
    await pickup.put(
        "/v1/providers/WS",
        headers=operator,
        json={
            "name": "Westar",
            "tracking_prefix": "WS",
            "coverage": [{"country": "VN", "city": "Hanoi"}, {"country": "VN", "city": "Hue"}],
        },
    )
    wid = await stocked_warehouse(fulfillment, seller, "Q", "Hanoi", units=0)

    async def subscription() -> dict | None:
        return await subscription_of(pickup, seller, wid)

    first = await eventually(subscription, within=40)
    before = await overdue_metric(pickup, operator)
    clock.advance(timedelta(hours=24, minutes=1))

    async def flagged() -> bool:
        return bool((await subscription() or {}).get("review_overdue"))

    assert await eventually(flagged, within=20)
    chase = (await pickup.get("/v1/pickup-subscriptions/overdue-reviews", headers=operator)).json()[
        "items"
    ]
    assert [str(i["subscription_id"]) for i in chase] == [first["subscription_id"]]
    assert await overdue_metric(pickup, operator) == before + 1

    await fulfillment.put(
        f"/v1/warehouses/{wid}/address", headers=seller, json={**ADDRESS, "city": "Hue"}
    )

    async def renewed() -> dict | None:
        current = await subscription()
        return (
            current if current and current["subscription_id"] != first["subscription_id"] else None
        )

    again = await eventually(renewed, within=20)
    assert again["status"] == "PENDING_REVIEW" and not again["review_overdue"]


async def overdue_metric(pickup: httpx.AsyncClient, operator: dict[str, str]) -> float:
    for line in (await pickup.get("/metrics", headers=operator)).text.splitlines():
        if line.startswith("shopflow_pickup_subscription_reviews_overdue_total "):
            return float(line.split()[1])
    return 0.0


async def test_a_provider_switch_moves_new_labels_and_extends_orders_around_the_cutover(
    stack,
) -> None:
    (orders, fulfillment, pickup), clock, secret = stack
    operator = auth(secret, "operator", "op")
    seller = auth(secret, "seller", "shop-s")
    buyer = auth(secret, "buyer", "b-s")
    hanoi = {"country": "VN", "city": "Hanoi", "timezone": "Asia/Ho_Chi_Minh"}
    for code, coverage in (("WS", [hanoi]), ("GHN", [])):
        await pickup.put(
            f"/v1/providers/{code}",
            headers=operator,
            json={"name": code, "tracking_prefix": code, "coverage": coverage},
        )
    wid = await stocked_warehouse(fulfillment, seller, "S", "Hanoi")

    async def subscription() -> dict | None:
        return await subscription_of(pickup, seller, wid)

    pending = await eventually(subscription, within=40)
    await pickup.post(
        f"/v1/pickup-subscriptions/{pending['subscription_id']}/review",
        headers=operator,
        json={"approve": True},
    )
    await orders.post(
        "/v1/products",
        headers=seller,
        json={
            "sku": "BOOK",
            "title": "Book",
            "price": {"amount": 90000, "currency": "VND"},
            "weight_g": 500,
        },
    )

    async def create() -> dict:
        body = {
            "seller_id": "shop-s",
            "items": [{"sku": "BOOK", "quantity": 1}],
            "shipping_address": {**ADDRESS, "city": "Hanoi"},
            "payment_method": "COD",
        }
        return (await orders.post("/v1/orders", headers=buyer, json=body)).json()

    early = (
        await create()
    )  # created before the switch is even scheduled: the day before the cutover
    await eventually(lambda: _pickup_knows(pickup, operator), within=1)  # pickup is up
    cutover = clock.now() + timedelta(days=1)
    r = await pickup.post(
        "/v1/provider-switches",
        headers=operator,
        json={
            "country": "VN",
            "city": "hanoi",
            "to_provider": "GHN",
            "cutover_at": cutover.isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["timezone"] == "Asia/Ho_Chi_Minh"  # the region's, from the coverage
    unzoned = await pickup.post(  # no provider names Hue's zone: refused, not read as UTC
        "/v1/provider-switches",
        headers=operator,
        json={
            "country": "VN",
            "city": "Hue",
            "to_provider": "GHN",
            "cutover_at": r.json()["cutover_at"],
        },
    )
    assert unzoned.status_code == 422 and "time zone" in unzoned.json()["detail"], unzoned.text
    assert (  # the operator does not pass one
        await pickup.post(
            "/v1/provider-switches",
            headers=operator,
            json={
                "country": "VN",
                "city": "Hanoi",
                "to_provider": "GHN",
                "cutover_at": r.json()["cutover_at"],
                "timezone": "UTC",
            },
        )
    ).status_code == 422
    late = await create()  # the day before too, after scheduling

    for order in (early, late):
        await pay(orders, buyer, order)
    clock.advance(timedelta(hours=1, seconds=1))

    for order in (early, late):
        await planned_packages(fulfillment, seller, order["order_id"])

        async def extended(order: dict = order) -> bool:
            body = (await orders.get(f"/v1/orders/{order['order_id']}", headers=buyer)).json()
            if not body["placed_at"]:
                return False
            created = datetime.fromisoformat(body["created_at"])
            return datetime.fromisoformat(body["dispatch_deadline"]) - created == timedelta(
                hours=72 + 72
            )

        assert await eventually(extended, within=30)

    first = (
        await fulfillment.get(f"/v1/orders/{early['order_id']}/packages", headers=seller)
    ).json()["packages"][0]
    label_before = (
        await fulfillment.post(
            f"/v1/packages/{first['package_id']}/ship", headers=seller, json={"handover": "PICKUP"}
        )
    ).json()
    assert label_before["tracking_number"].startswith("WS")

    clock.set(cutover + timedelta(minutes=1))

    async def switched() -> bool:
        return (await subscription() or {}).get("provider_code") == "GHN"

    assert await eventually(switched, within=30)
    second = (
        await fulfillment.get(f"/v1/orders/{late['order_id']}/packages", headers=seller)
    ).json()["packages"][0]

    async def ship_with_new_prefix() -> dict | None:
        r = await fulfillment.post(
            f"/v1/packages/{second['package_id']}/ship", headers=seller, json={"handover": "PICKUP"}
        )
        return r.json() if r.status_code == 200 else None

    label_after = await eventually(ship_with_new_prefix, within=20)  # fulfillment learns the switch
    assert label_after["tracking_number"].startswith("GHN") and label_after["carrier"] == "GHN"


async def _pickup_knows(pickup: httpx.AsyncClient, headers: dict[str, str]) -> bool:
    return (await pickup.get("/v1/providers", headers=headers)).status_code == 200


async def test_the_first_mile_from_ready_to_ship_to_the_hub(stack) -> None:
    (orders, fulfillment, pickup), clock, secret = stack
    operator = auth(secret, "operator", "op")
    seller = auth(secret, "seller", "shop-r")
    buyer = auth(secret, "buyer", "b-r")
    driver = auth(secret, "driver", "drv-1", provider="WS")
    stranger = auth(secret, "driver", "drv-9", provider="GHN")
    await pickup.put(
        "/v1/providers/WS",
        headers=operator,
        json={
            "name": "Westar",
            "tracking_prefix": "WS",
            "coverage": [{"country": "VN", "city": "Hanoi"}],
        },
    )
    wid = await stocked_warehouse(fulfillment, seller, "R", "Hanoi")

    async def subscription() -> dict | None:
        return await subscription_of(pickup, seller, wid)

    sid = (await eventually(subscription, within=40))["subscription_id"]
    await pickup.post(
        f"/v1/pickup-subscriptions/{sid}/review", headers=driver, json={"approve": True}
    )
    await orders.post(
        "/v1/products",
        headers=seller,
        json={
            "sku": "BOOK",
            "title": "Book",
            "price": {"amount": 90000, "currency": "VND"},
            "weight_g": 500,
        },
    )
    order = (
        await orders.post(
            "/v1/orders",
            headers=buyer,
            json={
                "seller_id": "shop-r",
                "items": [{"sku": "BOOK", "quantity": 2}],
                "shipping_address": {**ADDRESS, "city": "Hanoi"},
                "payment_method": "COD",
            },
        )
    ).json()
    await pay(orders, buyer, order)
    clock.advance(timedelta(hours=1, seconds=1))

    pid = (await planned_packages(fulfillment, seller, order["order_id"]))["packages"][0][
        "package_id"
    ]
    shipped = await fulfillment.post(
        f"/v1/packages/{pid}/ship", headers=seller, json={"handover": "PICKUP"}
    )
    assert shipped.status_code == 200 and shipped.json()["tracking_number"].startswith("WS")

    async def run_with_package() -> dict | None:
        items = (await pickup.get("/v1/pickup-tasks", headers=driver)).json()["items"]
        return next((t for t in items if any(p["package_id"] == pid for p in t["packages"])), None)

    task = await eventually(run_with_package, within=30)
    assert task["provider_code"] == "WS" and task["driver"] is None
    assert (
        await pickup.get("/v1/pickup-tasks", params={"provider_code": "GHN"}, headers=driver)
    ).status_code == 403
    assert (await pickup.get("/v1/pickup-tasks", headers=stranger)).json()["items"] == []
    nobodys = unscoped_driver(secret, "drv-0")  # names no provider: sees no provider's runs
    assert (await pickup.get("/v1/pickup-tasks", headers=nobodys)).status_code in (401, 403)
    r = await pickup.post(f"/v1/packages/{pid}/pickup-scan", headers=nobodys)
    assert r.status_code in (401, 404), r.text

    clock.advance(timedelta(hours=24, minutes=1))  # nobody took the run: flagged

    async def flagged() -> bool:
        return bool((await run_with_package() or {}).get("driver_overdue"))

    assert await eventually(flagged, within=20)
    r = await pickup.post(
        f"/v1/pickup-tasks/{task['task_id']}/driver",
        headers=driver,
        json={"driver_id": "drv-1", "name": "Minh", "phone": "+84 90 123"},
    )
    assert r.status_code == 200 and r.json()["driver_id"] == "drv-1"

    # another provider's parcel is a plain 404 (it names no provider), in every parcel route
    hub_body = {"hub_id": "HN-9 河内"}
    assert_not_found(await pickup.post(f"/v1/packages/{pid}/pickup-scan", headers=stranger))
    assert_not_found(
        await pickup.post(f"/v1/packages/{pid}/hub-arrival", headers=stranger, json=hub_body)
    )
    assert_not_found(await pickup.post(f"/v1/packages/{uuid.uuid4()}/pickup-scan", headers=driver))
    assert (
        await pickup.post(
            f"/v1/packages/{pid}/hub-arrival", headers=driver, json={"hub_id": "HN-1"}
        )
    ).status_code == 409
    scan = await pickup.post(f"/v1/packages/{pid}/pickup-scan", headers=driver)
    assert scan.status_code == 200 and scan.json()["status"] == "PICKED_UP"
    again = await pickup.post(f"/v1/packages/{pid}/pickup-scan", headers=driver)
    assert again.status_code == 200 and again.json()["status"] == "PICKED_UP"
    # once WS holds it, another provider's driver neither sees it nor moves it to a hub
    assert_not_found(await pickup.post(f"/v1/packages/{pid}/pickup-scan", headers=stranger))
    assert_not_found(
        await pickup.post(f"/v1/packages/{pid}/hub-arrival", headers=stranger, json=hub_body)
    )
    still = await pickup.post(f"/v1/packages/{pid}/pickup-scan", headers=driver)
    assert still.status_code == 200 and still.json()["status"] == "PICKED_UP"
    hub = await pickup.post(
        f"/v1/packages/{pid}/hub-arrival", headers=driver, json={"hub_id": "HN-1"}
    )
    assert hub.status_code == 200 and hub.json()["status"] == "AT_HUB"

    async def followed() -> bool:
        package = (
            await fulfillment.get(f"/v1/orders/{order['order_id']}/packages", headers=seller)
        ).json()["packages"][0]
        status = (await orders.get(f"/v1/orders/{order['order_id']}", headers=buyer)).json()[
            "status"
        ]
        return package["status"] == "PICKED_UP" and status == "IN_TRANSIT"

    assert await eventually(followed, within=30)


def assert_not_found(r: httpx.Response) -> None:
    assert r.status_code == 404, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "WS" not in r.text and "GHN" not in r.text


async def stocked_warehouse(
    fulfillment: httpx.AsyncClient, seller: dict[str, str], name: str, city: str, units: int = 5
) -> str:
    r = await fulfillment.post(
        "/v1/warehouses",
        headers=seller,
        json={
            "name": name,
            "address": {**ADDRESS, "city": city},
            "contact": {"name": "K", "phone": "+84 24 1"},
        },
    )
    wid = str(r.json()["warehouse_id"])
    await keep_profile(fulfillment, seller)
    if units:
        await fulfillment.put(
            f"/v1/warehouses/{wid}/stock/BOOK", headers=seller, json={"on_hand": units}
        )
    return wid


async def subscription_of(
    pickup: httpx.AsyncClient, seller: dict[str, str], warehouse_id: str
) -> dict | None:
    r = await pickup.get(f"/v1/warehouses/{warehouse_id}/pickup-subscription", headers=seller)
    return r.json() if r.status_code == 200 else None
