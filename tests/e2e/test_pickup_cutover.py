"""Pickup across a provider switch and the daily pickup window, over HTTP against the order,
fulfillment and pickup services on the real broker: a parcel labelled by the old provider
moves to the new provider's run at the cutover (the old run is not chased), the new provider
batch-reviews what was moved (a failed push is asked again when the seller saves the address
again), and a parcel ready after noon but before the agreed window goes the same day."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx

from tests.conftest import eventually
from tests.e2e.journeys import pay, planned_packages
from tests.e2e.test_pickup_flow import (
    ADDRESS,
    assert_not_found,
    auth,
    stack,  # noqa: F401  (the fixture)
    stocked_warehouse,
    subscription_of,
)

GHN_HOURS = {"start": "08:00", "end": "20:00"}


HANOI = ZoneInfo("Asia/Ho_Chi_Minh")  # the zone WS's coverage gives Hanoi


async def providers(pickup: httpx.AsyncClient, operator: dict[str, str]) -> None:
    for code, coverage, hotline in (
        (
            "WS",
            [{"country": "VN", "city": "Hanoi", "timezone": "Asia/Ho_Chi_Minh"}],
            "+84 24 3999 0000",
        ),
        ("GHN", [], "1900 2045"),
    ):
        r = await pickup.put(
            f"/v1/providers/{code}",
            headers=operator,
            json={
                "name": code,
                "tracking_prefix": code,
                "coverage": coverage,
                "hotline": hotline,
                "service_hours": GHN_HOURS if code == "GHN" else None,
            },
        )
        assert r.status_code == 200, r.text


async def ready_parcel(
    orders: httpx.AsyncClient,
    fulfillment: httpx.AsyncClient,
    seller: dict[str, str],
    buyer: dict[str, str],
    seller_id: str,
    clock,  # type: ignore[no-untyped-def]
    ship_at: datetime | None = None,
) -> dict:
    await orders.post(
        "/v1/products",
        headers=seller,
        json={
            "sku": "BOOK",
            "title": "书",
            "price": {"amount": 90000, "currency": "VND"},
            "weight_g": 500,
        },
    )
    order = (
        await orders.post(
            "/v1/orders",
            headers=buyer,
            json={
                "seller_id": seller_id,
                "items": [{"sku": "BOOK", "quantity": 1}],
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
    if ship_at:
        clock.set(ship_at)
    shipped = await fulfillment.post(
        f"/v1/packages/{pid}/ship", headers=seller, json={"handover": "PICKUP"}
    )
    assert shipped.status_code == 200, shipped.text
    return shipped.json()


async def run_of(
    pickup: httpx.AsyncClient, headers: dict[str, str], package_id: str
) -> dict | None:
    items = (await pickup.get("/v1/pickup-tasks", headers=headers)).json()["items"]
    return next(
        (t for t in items if any(p["package_id"] == package_id for p in t["packages"])), None
    )


async def test_across_a_cutover_the_new_provider_collects_and_batch_reviews_the_region(
    stack,  # noqa: F811
) -> None:
    (orders, fulfillment, pickup), clock, secret = stack
    operator = auth(secret, "operator", "op")
    seller = auth(secret, "seller", "shop-cut")
    buyer = auth(secret, "buyer", "b-cut")
    ws = auth(secret, "driver", "d-ws", provider="WS")
    ghn = auth(secret, "driver", "d-ghn", provider="GHN")
    await providers(pickup, operator)
    main = await stocked_warehouse(fulfillment, seller, "河内一号仓", "Hanoi")
    second = await stocked_warehouse(fulfillment, seller, "河内二号仓", "Hanoi", units=0)
    for wid in (main, second):
        pending = await eventually(lambda wid=wid: subscription_of(pickup, seller, wid), within=40)
        r = await pickup.post(
            f"/v1/pickup-subscriptions/{pending['subscription_id']}/review",
            headers=ws,
            json={"approve": True, "pickup_window": {"start": "15:00", "end": "18:00"}},
        )
        assert r.status_code == 200 and r.json()["pickup_window"]["start"] == "15:00:00", r.text

    label = await ready_parcel(orders, fulfillment, seller, buyer, "shop-cut", clock)
    pid = label["package_id"]
    assert label["tracking_number"].startswith("WS")
    old_run = await eventually(lambda: run_of(pickup, ws, pid), within=30)
    assert old_run["provider_code"] == "WS"

    cutover = clock.now() + timedelta(hours=2)
    r = await pickup.post(
        "/v1/provider-switches",
        headers=operator,
        json={
            "country": "VN",
            "city": "Hanoi",
            "to_provider": "GHN",
            "cutover_at": cutover.isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    clock.set(cutover + timedelta(minutes=1))

    # the WS-labelled parcel is on GHN's run now; WS's run is handed over, empty
    new_run = await eventually(lambda: run_of(pickup, ghn, pid), within=30)
    # Hanoi's calendar: the cutover came after that day's window opened (14:00), so the next day
    local_cutover = cutover.astimezone(HANOI)
    assert local_cutover.time() >= time(14)
    expected_day = local_cutover.date() + timedelta(days=1)
    assert new_run["provider_code"] == "GHN" and new_run["run_date"] == expected_day.isoformat()
    ws_runs = (await pickup.get("/v1/pickup-tasks", headers=ws)).json()["items"]
    [handed] = [t for t in ws_runs if t["task_id"] == old_run["task_id"]]
    assert handed["handed_over"] and handed["packages"] == []
    assert_not_found(await pickup.post(f"/v1/packages/{pid}/pickup-scan", headers=ws))

    # the moved subscriptions: still picking up, for GHN to review within 24 hours
    moved = await subscription_of(pickup, seller, main)
    assert moved is not None
    assert (moved["provider_code"], moved["status"], moved["handover"]) == (
        "GHN",
        "ACTIVE",
        "PICKUP",
    )
    assert moved["review_pending"] and moved["pickup_window"]["start"] == "15:00:00"
    assert moved["provider"] == {
        "provider_code": "GHN",
        "name": "GHN",
        "hotline": "1900 2045",
        "service_hours": {"start": "08:00:00", "end": "20:00:00", "days": [1, 2, 3, 4, 5, 6, 7]},
    }
    batch = (await pickup.get("/v1/pickup-subscriptions/pending-reviews", headers=ghn)).json()
    assert {i["warehouse_id"] for i in batch["items"]} == {main, second}
    assert (await pickup.get("/v1/pickup-subscriptions/pending-reviews", headers=ws)).json()[
        "items"
    ] == []

    # a day on: GHN's reviews are overdue; the old WS run raised no driver flag, GHN's did
    clock.advance(timedelta(hours=24, minutes=1))

    async def ghn_run_flagged() -> bool:
        return bool((await run_of(pickup, ghn, pid) or {}).get("driver_overdue"))

    assert await eventually(ghn_run_flagged, within=20)
    [handed] = [
        t
        for t in (await pickup.get("/v1/pickup-tasks", headers=ws)).json()["items"]
        if t["task_id"] == old_run["task_id"]
    ]
    assert not handed["driver_overdue"]

    async def overdue() -> set[str]:
        r = await pickup.get("/v1/pickup-subscriptions/overdue-reviews", headers=operator)
        return {str(i["warehouse_id"]) for i in r.json()["items"]}

    assert await eventually(lambda: _eq(overdue(), {main, second}), within=20)

    # the batch: one approved with a new window, one whose push failed; a batch naming a
    # subscription that is not GHN's is a 404 and changes nothing
    by_wh = {i["warehouse_id"]: i["subscription_id"] for i in batch["items"]}
    items = [
        {
            "subscription_id": by_wh[main],
            "decision": "APPROVE",
            "note": "批量审核通过",
            "pickup_window": {"start": "16:00", "end": "19:00"},
        },
        {"subscription_id": by_wh[second], "decision": "PUSH_FAILED", "note": "地址无法导入"},
    ]
    review = "/v1/pickup-subscriptions/batch-review"
    assert_not_found(await pickup.post(review, headers=ws, json={"items": items}))
    unknown = {"subscription_id": str(uuid.uuid4()), "decision": "APPROVE"}
    assert_not_found(await pickup.post(review, headers=ghn, json={"items": [*items, unknown]}))
    assert (await subscription_of(pickup, seller, main) or {}).get("review_pending")
    r = await pickup.post(
        "/v1/pickup-subscriptions/batch-review", headers=ghn, json={"items": items}
    )
    assert r.status_code == 200, r.text
    approved, failed = r.json()["items"]
    assert approved["status"] == "ACTIVE" and not approved["review_pending"]
    assert approved["pickup_window"] == {"start": "16:00:00", "end": "19:00:00"}
    assert (failed["status"], failed["handover"], failed["push_failed"]) == (
        "REJECTED",
        "DROP_OFF",
        True,
    )
    again = await pickup.post(review, headers=ghn, json={"items": items[:1]})
    assert again.json()["items"] == [{"subscription_id": by_wh[main], "error": "not-pending"}]
    assert await eventually(lambda: _eq(overdue(), set()), within=20)

    scan = await pickup.post(f"/v1/packages/{pid}/pickup-scan", headers=ghn)
    assert scan.status_code == 200 and scan.json()["status"] == "PICKED_UP", scan.text

    # fulfillment learns the failed push: the second warehouse ships by drop-off
    for wid, units in ((second, 5), (main, 0)):
        await fulfillment.put(
            f"/v1/warehouses/{wid}/stock/BOOK", headers=seller, json={"on_hand": units}
        )
    order = (
        await orders.post(
            "/v1/orders",
            headers=buyer,
            json={
                "seller_id": "shop-cut",
                "items": [{"sku": "BOOK", "quantity": 1}],
                "shipping_address": {**ADDRESS, "city": "Hanoi"},
                "payment_method": "COD",
            },
        )
    ).json()
    await pay(orders, buyer, order)
    clock.advance(timedelta(hours=1, seconds=1))
    package = (await planned_packages(fulfillment, seller, order["order_id"]))["packages"][0]
    assert package["warehouse_id"] == second

    async def shipped_drop_off() -> bool:
        r = await fulfillment.post(
            f"/v1/packages/{package['package_id']}/ship",
            headers=seller,
            json={"handover": "DROP_OFF"},
        )
        return r.status_code == 200

    assert await eventually(shipped_drop_off, within=20)

    # the seller saves the second warehouse's address again, unchanged: GHN is asked again
    r = await fulfillment.put(
        f"/v1/warehouses/{second}/address", headers=seller, json={**ADDRESS, "city": "Hanoi"}
    )
    assert r.status_code == 200, r.text

    async def asked_again() -> dict | None:
        current = await subscription_of(pickup, seller, second)
        return current if current and current["subscription_id"] != by_wh[second] else None

    again = await eventually(asked_again, within=20)
    assert (again["status"], again["provider_code"], again["push_failed"]) == (
        "PENDING_REVIEW",
        "GHN",
        False,
    )


async def _eq(value, expected) -> bool:  # type: ignore[no-untyped-def]
    return (await value) == expected


async def test_a_parcel_ready_after_noon_before_the_agreed_window_goes_the_same_day(
    stack,  # noqa: F811
) -> None:
    (orders, fulfillment, pickup), clock, secret = stack
    operator = auth(secret, "operator", "op")
    seller = auth(secret, "seller", "shop-win")
    buyer = auth(secret, "buyer", "b-win")
    ws = auth(secret, "driver", "d-ws", provider="WS")
    ghn = auth(secret, "driver", "d-ghn", provider="GHN")
    await providers(pickup, operator)
    wid = await stocked_warehouse(fulfillment, seller, "W", "Hanoi")
    pending = await eventually(lambda: subscription_of(pickup, seller, wid), within=40)
    sid = pending["subscription_id"]
    window = {"start": "15:00", "end": "18:00"}
    bad = await pickup.post(
        f"/v1/pickup-subscriptions/{sid}/review",
        headers=ws,
        json={"approve": True, "pickup_window": {"start": "18:00", "end": "15:00"}},
    )
    assert bad.status_code == 422
    r = await pickup.post(
        f"/v1/pickup-subscriptions/{sid}/review",
        headers=ws,
        json={"approve": True, "pickup_window": window},
    )
    assert r.status_code == 200, r.text
    shown = await subscription_of(pickup, seller, wid)
    assert shown is not None
    assert shown["pickup_window"] == {"start": "15:00:00", "end": "18:00:00"}
    assert shown["provider"]["hotline"] == "+84 24 3999 0000"
    assert shown["provider"]["service_hours"] is None

    # the provider may change the window later; another provider's driver may not
    change = f"/v1/pickup-subscriptions/{sid}/pickup-window"
    assert_not_found(await pickup.put(change, headers=ghn, json={"start": "14:00", "end": "17:00"}))
    r = await pickup.put(change, headers=ws, json={"start": "14:00", "end": "17:00"})
    assert r.status_code == 200 and r.json()["pickup_window"]["start"] == "14:00:00", r.text

    # ready at 13:30 Hanoi time (the region's zone), after the old noon cut-off, before the
    # window: that day's run
    day = clock.now().astimezone(HANOI).date() + timedelta(days=1)
    ship_at = datetime.combine(day, time(13, 30), HANOI)
    label = await ready_parcel(orders, fulfillment, seller, buyer, "shop-win", clock, ship_at)
    task = await eventually(lambda: run_of(pickup, ws, label["package_id"]), within=30)
    assert task["run_date"] == day.isoformat()
