"""Order and fulfillment services running together over the real broker: a paid order is
placed, its stock reserved and its packages planned; a cancellation releases the stock."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
import pypdfium2
import pytest
import zxingcpp
from aiokafka import AIOKafkaProducer

from services.fulfillment.app import create_fulfillment_app
from services.order.app import create_order_app
from shared.auth import mint_token
from shared.clock import SimulatedClock
from shared.events import Envelope
from shared.events.pickup import DispatchDeadlineExtended
from shared.settings import MarketCalendar
from shared.signatures import HEADER, TIMESTAMP_HEADER, signed_headers
from tests.conftest import eventually
from tests.e2e.journeys import PROFILE, keep_profile, pay, planned_packages

VN_ADDRESS = {
    "recipient_name": "Lan Nguyen",
    "phone": "+84 912 345 678",
    "line1": "12 Hang Bac",
    "city": "Hanoi",
    "postal_code": "100000",
    "country": "VN",
}


@pytest.fixture
async def services(order_db, fulfillment_db, serve_services):
    clock = SimulatedClock(start=datetime(2026, 11, 2, 9, tzinfo=UTC))
    clients, settings = await serve_services(
        clock, (create_order_app, order_db), (create_fulfillment_app, fulfillment_db)
    )
    return tuple(clients), clock, settings[0].effective_jwt_secret, settings[1]


def auth(secret: str, role: str, sub: str, **claims: str) -> dict[str, str]:
    """A bearer header; a seller here is its own shop (`seller_id` = `sub`) unless told."""
    if role == "seller":
        claims.setdefault("seller_id", sub)
    return {"Authorization": "Bearer " + mint_token(secret, sub=sub, role=role, **claims)}


async def test_a_placed_order_gets_stock_reserved_and_packages_planned(services) -> None:
    (orders, fulfillment), clock, secret, _ = services
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
    await pay(orders, buyer, order)
    clock.advance(timedelta(hours=1, seconds=1))

    plan = await planned_packages(fulfillment, buyer, order["order_id"])
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
    (_, fulfillment), _, secret, _ = services
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


async def place_order(
    services, seller_id: str = "shop-ship", before_payment=None, warehouse_id: str | None = None
) -> tuple[dict, dict, str]:  # type: ignore[no-untyped-def]
    """Product, warehouse with stock, an order paid and placed: returns (order, plan, warehouse)."""
    (orders, fulfillment), clock, secret, _ = services
    seller = auth(secret, "seller", seller_id)
    buyer = auth(secret, "buyer", "buyer-1")
    await orders.post(
        "/v1/products",
        headers=seller,
        json={
            "sku": "BOOK",
            "title": "Truyen Kieu",
            "price": {"amount": 90000, "currency": "VND"},
            "weight_g": 700,
        },
    )
    if warehouse_id is None:
        warehouse = await fulfillment.post(
            "/v1/warehouses",
            headers=seller,
            json={
                "name": "Shop VN Hanoi",
                "address": {**VN_ADDRESS, "line1": "1 Kho St"},
                "contact": {"name": "Kho", "phone": "+84 24 1234"},
            },
        )
        warehouse_id = warehouse.json()["warehouse_id"]
        await fulfillment.put(
            f"/v1/warehouses/{warehouse_id}/stock/BOOK", headers=seller, json={"on_hand": 10}
        )
        await keep_profile(fulfillment, seller)
    order = (
        await orders.post(
            "/v1/orders",
            headers=buyer,
            json={
                "seller_id": seller_id,
                "items": [{"sku": "BOOK", "quantity": 2}],
                "shipping_address": VN_ADDRESS,
                "payment_method": "COD",
            },
        )
    ).json()
    if before_payment is not None:
        await before_payment(order)
    await pay(orders, buyer, order)
    clock.advance(timedelta(hours=1, seconds=1))

    return order, await planned_packages(fulfillment, buyer, order["order_id"]), warehouse_id


async def test_a_label_note_diverting_to_wechat_is_a_422_naming_the_text_and_changes_nothing(
    services,
) -> None:
    (_, fulfillment), _, secret, _ = services
    order, plan, _ = await place_order(services, seller_id="shop-note")
    seller = auth(secret, "seller", "shop-note")
    [package] = plan["packages"]
    pid = package["package_id"]

    refused = await fulfillment.post(
        f"/v1/packages/{pid}/ship",
        headers=seller,
        json={"handover": "PICKUP", "note": "加微信 wx123456"},
    )
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert problem["type"].endswith("/label-refused")
    assert "加微信" in problem["detail"] and "wx123456" in problem["detail"]
    assert problem["errors"] == [
        {
            "field": "note",
            "rule": "contact",
            "matched": "加微信",
            "message": "contains contact details unrelated to the order",
        },
        {
            "field": "note",
            "rule": "contact",
            "matched": "wx123456",
            "message": "contains contact details unrelated to the order",
        },
    ]
    after = (
        await fulfillment.get(f"/v1/orders/{order['order_id']}/packages", headers=seller)
    ).json()
    assert after == plan  # still planned: no tracking number, no label, no stock taken
    no_label = await fulfillment.get(
        f"/v1/packages/{pid}/documents", params={"type": "SHIPPING_LABEL"}, headers=seller
    )
    assert no_label.status_code == 409

    # a note of handling instructions and the order's own item passes
    shipped = await fulfillment.post(
        f"/v1/packages/{pid}/ship",
        headers=seller,
        json={"handover": "PICKUP", "note": "Truyen Kieu x2 易碎 小心轻放"},
    )
    assert shipped.status_code == 200, shipped.text
    label = await fulfillment.get(
        f"/v1/packages/{pid}/documents", headers={**seller, "Accept": "application/json"}
    )
    assert label.json()["note"] == "Truyen Kieu x2 易碎 小心轻放"


async def test_ship_a_package_and_print_its_documents(services) -> None:
    (_, fulfillment), _, secret, _ = services
    order, plan, warehouse_id = await place_order(services)
    seller = auth(secret, "seller", "shop-ship")
    buyer = auth(secret, "buyer", "buyer-1")
    [package] = plan["packages"]
    pid = package["package_id"]

    r = await fulfillment.get(
        f"/v1/packages/{pid}/documents", params={"type": "SHIPPING_LABEL"}, headers=seller
    )
    assert r.status_code == 409  # no label before it is ready to ship

    refused = await fulfillment.post(
        f"/v1/packages/{pid}/ship",
        headers=seller,
        json={"handover": "PICKUP", "note": "Buy again at www.shop.vn"},
    )
    assert refused.status_code == 422 and "note contains a link" in refused.json()["detail"]
    wrong_mode = await fulfillment.post(
        f"/v1/packages/{pid}/ship", headers=seller, json={"handover": "DROP_OFF"}
    )
    assert wrong_mode.status_code == 409
    assert (
        await fulfillment.post(
            f"/v1/packages/{pid}/ship", headers=buyer, json={"handover": "PICKUP"}
        )
    ).status_code == 403
    other_seller = auth(secret, "seller", "shop-other")
    assert (
        await fulfillment.post(
            f"/v1/packages/{pid}/ship", headers=other_seller, json={"handover": "PICKUP"}
        )
    ).status_code == 404

    shipped = await fulfillment.post(
        f"/v1/packages/{pid}/ship", headers=seller, json={"handover": "PICKUP"}
    )
    assert shipped.status_code == 200, shipped.text
    body = shipped.json()
    tracking = body["tracking_number"]
    assert (
        body["status"] == "READY_TO_SHIP" and tracking.startswith("SPX") and body["tracking_valid"]
    )
    again = await fulfillment.post(
        f"/v1/packages/{pid}/ship", headers=seller, json={"handover": "PICKUP"}
    )
    assert again.status_code == 409

    label = await fulfillment.get(
        f"/v1/packages/{pid}/documents", headers={**buyer, "Accept": "application/json"}
    )
    fields = label.json()
    assert fields["handover_mode"] == "PICK UP" and fields["tracking_number"] == tracking
    assert fields["recipient_name"] == "Lan Nguyen" and fields["recipient_postal_code"] == "100000"
    assert fields["order_number"] == order["order_id"]
    assert fields["sender_name"] == PROFILE["legal_name"]  # the seller, not its warehouse

    pdf = await fulfillment.get(
        f"/v1/packages/{pid}/documents", params={"type": "SHIPPING_LABEL"}, headers=seller
    )
    assert pdf.headers["content-type"] == "application/pdf"
    page = pypdfium2.PdfDocument(pdf.content)[0]
    width, height = page.get_size()
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (105, 148)  # A6
    decoded = [b.text for b in zxingcpp.read_barcodes(page.render(scale=4).to_pil())]
    assert decoded == [tracking]
    text = page.get_textpage().get_text_range()
    assert (
        "PICK UP" in text
        and "Lan Nguyen" in text
        and "100000" in text
        and order["order_id"] in text
    )

    slip = await fulfillment.get(
        f"/v1/packages/{pid}/documents", params={"type": "PACKING_SLIP"}, headers=seller
    )
    slip_text = pypdfium2.PdfDocument(slip.content)[0].get_textpage().get_text_range()
    assert "PACKING SLIP" in slip_text and "BOOK" in slip_text and "Truyen Kieu" in slip_text

    # the shipped units left the stock
    r = await fulfillment.put(
        f"/v1/warehouses/{warehouse_id}/stock/BOOK", headers=seller, json={"on_hand": 8}
    )
    assert r.json()["reserved"] == 0 and r.json()["available"] == 8


@dataclass(frozen=True)
class CarrierKey:
    """A carrier's webhook secret, and the clock it signs at (the services' simulated one)."""

    secret: str
    clock: SimulatedClock


def signed_report(
    secret: str, carrier: str, body: dict, key: CarrierKey
) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body, ensure_ascii=False).encode()
    headers = {
        **auth(secret, "carrier", f"{carrier.lower()}-bot", carrier=carrier),
        "content-type": "application/json",
        **signed_headers(key.secret, raw, key.clock.now()),
    }
    return raw, headers


def carrier_post(client: httpx.AsyncClient, secret: str, carrier: str, body: dict, key: CarrierKey):  # type: ignore[no-untyped-def]
    raw, headers = signed_report(secret, carrier, body, key)
    return client.post("/v1/carrier-events", content=raw, headers=headers)


async def test_signed_carrier_webhooks_drive_the_package_status(services) -> None:
    (_, fulfillment), clock, secret, settings = services
    _, plan, _ = await place_order(services, "shop-track")
    seller = auth(secret, "seller", "shop-track")
    operator = auth(secret, "operator", "op")
    pid = plan["packages"][0]["package_id"]
    tracking = (
        await fulfillment.post(
            f"/v1/packages/{pid}/ship", headers=seller, json={"handover": "PICKUP"}
        )
    ).json()["tracking_number"]
    carrier_secret = CarrierKey(settings.carrier_secret("SPX"), clock)

    def report(status: str, hour: int) -> dict:
        return {
            "tracking_number": tracking,
            "status": status,
            "occurred_at": f"2026-11-03T{hour:02d}:00:00Z",
        }

    async def package_status() -> str:
        r = await fulfillment.get(f"/v1/orders/{plan['order_id']}/packages", headers=seller)
        return r.json()["packages"][0]["status"]

    forged = CarrierKey("not-the-secret", clock)
    bad = await carrier_post(fulfillment, secret, "SPX", report("IN_TRANSIT", 8), forged)
    assert bad.status_code == 401 and await package_status() == "READY_TO_SHIP"
    unsigned = await fulfillment.post(
        "/v1/carrier-events",
        json=report("IN_TRANSIT", 8),
        headers=auth(secret, "carrier", "x", carrier="SPX"),
    )
    assert unsigned.status_code == 401
    assert (
        await carrier_post(fulfillment, secret, "SPX", {"status": "IN_TRANSIT"}, carrier_secret)
    ).status_code == 422
    assert (
        await carrier_post(fulfillment, secret, "JNT", report("IN_TRANSIT", 8), carrier_secret)
    ).status_code == 404

    first = await carrier_post(fulfillment, secret, "SPX", report("IN_TRANSIT", 8), carrier_secret)
    assert (
        first.status_code == 200
        and first.json()["applied"]
        and first.json()["status"] == "IN_TRANSIT"
    )
    repeat = await carrier_post(fulfillment, secret, "SPX", report("IN_TRANSIT", 8), carrier_secret)
    assert repeat.status_code == 200 and not repeat.json()["applied"]
    for status, hour in (("OUT_FOR_DELIVERY", 9), ("DELIVERED", 11)):
        r = await carrier_post(fulfillment, secret, "SPX", report(status, hour), carrier_secret)
        assert r.json()["applied"], r.text
    assert await package_status() == "DELIVERED"
    odd = await carrier_post(fulfillment, secret, "SPX", report("IN_TRANSIT", 12), carrier_secret)
    assert odd.json() == {**odd.json(), "applied": False, "anomaly": True, "status": "DELIVERED"}
    anomalies = (await fulfillment.get("/v1/tracking-anomalies", headers=operator)).json()["items"]
    assert (
        anomalies[0]["tracking_number"] == tracking
        and anomalies[0]["reported_status"] == "IN_TRANSIT"
    )
    assert (await fulfillment.get("/v1/tracking-anomalies", headers=seller)).status_code == 403


async def test_a_carrier_report_is_refused_when_replayed_stale_forged_or_malformed(
    services,
) -> None:
    """The signature covers X-Shopflow-Timestamp, which must be within 5 minutes of the
    service clock: a captured report cannot be replayed later, and a malformed header is a
    401 problem, never a 500. Nothing refused changes the package."""
    (_, fulfillment), clock, secret, settings = services
    _, plan, _ = await place_order(services, "shop-replay")
    seller = auth(secret, "seller", "shop-replay")
    pid = plan["packages"][0]["package_id"]
    shipped = await fulfillment.post(
        f"/v1/packages/{pid}/ship", headers=seller, json={"handover": "PICKUP"}
    )
    tracking = shipped.json()["tracking_number"]
    key = CarrierKey(settings.carrier_secret("SPX"), clock)

    def report(status: str) -> dict:
        return {
            "tracking_number": tracking,
            "status": status,
            "occurred_at": clock.now().isoformat(),
            "location": "上海市浦东新区转运中心",
        }

    async def package_status() -> str:
        r = await fulfillment.get(f"/v1/orders/{plan['order_id']}/packages", headers=seller)
        return r.json()["packages"][0]["status"]

    def refused(r: httpx.Response) -> bool:
        return (
            r.status_code == 401
            and r.headers["content-type"] == "application/problem+json"
            and r.json()["type"].endswith("/bad-signature")
        )

    async def post(raw: bytes, headers: dict) -> httpx.Response:  # type: ignore[type-arg]
        return await fulfillment.post("/v1/carrier-events", content=raw, headers=headers)

    # captured at the time it was signed, held back past the tolerance: refused
    held_raw, held = signed_report(secret, "SPX", report("IN_TRANSIT"), key)
    clock.advance(timedelta(seconds=301))
    assert refused(await post(held_raw, held)) and await package_status() == "READY_TO_SHIP"
    # nor may a sender date a report ahead to make it last
    ahead = {**held, **signed_headers(key.secret, held_raw, clock.now() + timedelta(minutes=6))}
    assert refused(await post(held_raw, ahead))

    # a fresh one is accepted; replayed 6 minutes later it is refused, not a repeat
    raw, headers = signed_report(secret, "SPX", report("IN_TRANSIT"), key)
    first = await post(raw, headers)
    assert first.status_code == 200 and first.json()["applied"], first.text
    clock.advance(timedelta(minutes=6))
    assert refused(await post(raw, headers))

    # a signature over the body alone (the old scheme), or with a moved timestamp
    raw, headers = signed_report(secret, "SPX", report("OUT_FOR_DELIVERY"), key)
    old_scheme = hmac.new(key.secret.encode(), raw, hashlib.sha256).hexdigest()
    body_only = {**headers, HEADER: "sha256=" + old_scheme}
    assert refused(await post(raw, body_only))
    moved = {**headers, TIMESTAMP_HEADER: str(int(headers[TIMESTAMP_HEADER]) - 1)}
    assert refused(await post(raw, moved))
    forged = signed_report(secret, "SPX", report("OUT_FOR_DELIVERY"), CarrierKey("x" * 40, clock))
    assert refused(await post(*forged))

    # malformed headers, non-ASCII included (a 500 before): refused as problems
    for name, value in (
        (HEADER, "sha256=" + "é" * 64),
        (HEADER, "sha256=签名"),
        (HEADER, "sha256=" + "g" * 64),
        (HEADER, ""),
        (TIMESTAMP_HEADER, "\uff11" * 10),  # full-width digits
        (TIMESTAMP_HEADER, "-5"),
        (TIMESTAMP_HEADER, "9" * 40),
        (TIMESTAMP_HEADER, "1e9"),
    ):
        bad = {**headers, name: value.encode()}
        assert refused(await post(raw, bad)), (name, value)
    assert await package_status() == "IN_TRANSIT"

    good = await post(raw, headers)
    assert good.status_code == 200 and good.json()["status"] == "OUT_FOR_DELIVERY", good.text


async def test_dispatch_deadline_overdue_and_extension_on_a_simulated_clock(services) -> None:
    (_, fulfillment), clock, secret, settings = services
    order, plan, _ = await place_order(services, "shop-late")
    seller = auth(secret, "seller", "shop-late")
    deadline = datetime.fromisoformat(plan["packages"][0]["dispatch_deadline"])

    await publish_extension(settings, order["order_id"], "shop-late", 72)

    async def extended() -> dict | None:
        r = await fulfillment.get(f"/v1/orders/{order['order_id']}/packages", headers=seller)
        package = r.json()["packages"][0]
        return (
            package
            if datetime.fromisoformat(package["dispatch_deadline"])
            == deadline + timedelta(hours=72)
            else None
        )

    await eventually(extended, within=40)
    clock.set(deadline + timedelta(hours=1))  # past the old deadline: not overdue
    clock.advance(timedelta(hours=72))  # past the extended one: overdue

    async def overdue() -> bool:
        r = await fulfillment.get(f"/v1/orders/{order['order_id']}/packages", headers=seller)
        return r.json()["packages"][0]["overdue"]

    assert await eventually(overdue, within=20)


async def publish_extension(settings, order_id: str, seller_id: str, hours: int) -> None:  # type: ignore[no-untyped-def]
    event = DispatchDeadlineExtended(
        order_id=uuid.UUID(order_id),
        seller_id=seller_id,
        extended_by_hours=hours,
        reason="provider switch",
        extended_at=datetime.now(UTC),
    )
    envelope = Envelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        schema_version=1,
        occurred_at=datetime.now(UTC),
        producer="pickup",
        stream_id=f"switch/{order_id}",
        stream_version=1,
        order_id=uuid.UUID(order_id),
        seller_id=seller_id,
        payload=event.model_dump(mode="json"),
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers())
    await producer.start()
    try:
        await producer.send_and_wait(
            settings.topic("pickup"), envelope.model_dump_json().encode(), key=order_id.encode()
        )
    finally:
        await producer.stop()


async def test_an_extension_that_arrives_before_the_order_is_kept_and_applied(services) -> None:
    (orders, fulfillment), _, secret, settings = services
    operator = auth(secret, "operator", "op")

    async def extend_early(order: dict) -> None:
        await publish_extension(settings, order["order_id"], "shop-early", 24)

    order, _, _ = await place_order(services, "shop-early", before_payment=extend_early)

    async def extended() -> bool:
        placed = (await orders.get(f"/v1/orders/{order['order_id']}", headers=operator)).json()
        deadline = datetime.fromisoformat(placed["dispatch_deadline"])
        if deadline - datetime.fromisoformat(placed["created_at"]) != timedelta(hours=72 + 24):
            return False  # whether it came before or after placement, 24 h are added once
        r = await fulfillment.get(f"/v1/orders/{order['order_id']}/packages", headers=operator)
        return datetime.fromisoformat(r.json()["packages"][0]["dispatch_deadline"]) == deadline

    assert await eventually(extended, within=30)


async def test_the_order_status_follows_its_packages_to_delivered_and_completed(services) -> None:
    (orders, fulfillment), clock, secret, settings = services
    seller = auth(secret, "seller", "shop-journey")
    buyer = auth(secret, "buyer", "buyer-1")
    await fulfillment.put(
        "/v1/sellers/shop-journey/split-rules", headers=seller, json={"max_items": 1}
    )
    order, plan, _ = await place_order(services, "shop-journey")
    oid = order["order_id"]
    first, second = (p["package_id"] for p in plan["packages"])

    async def order_status(expected: str) -> dict | None:
        body = (await orders.get(f"/v1/orders/{oid}", headers=buyer)).json()
        return body if body["status"] == expected else None

    tracking = {}
    r = await fulfillment.post(
        f"/v1/packages/{first}/ship", headers=seller, json={"handover": "PICKUP"}
    )
    tracking[first] = r.json()["tracking_number"]
    await eventually(lambda: order_status("PARTIALLY_SHIPPING"), within=30)
    late_cancel = await orders.post(
        f"/v1/orders/{oid}/cancel", headers=buyer, json={"reason_code": "OTHER"}
    )
    assert late_cancel.status_code == 409
    moved = await orders.put(
        f"/v1/orders/{oid}/shipping-address",
        headers=buyer,
        json={**VN_ADDRESS, "line1": "9 Other St"},
    )
    assert moved.status_code == 409

    r = await fulfillment.post(
        f"/v1/packages/{second}/ship", headers=seller, json={"handover": "PICKUP"}
    )
    tracking[second] = r.json()["tracking_number"]
    await eventually(lambda: order_status("AWAITING_COLLECTION"), within=30)

    carrier_secret = CarrierKey(settings.carrier_secret("SPX"), clock)

    async def carrier(package: str, status: str, hour: int) -> None:
        body = {
            "tracking_number": tracking[package],
            "status": status,
            "occurred_at": f"2026-11-03T{hour:02d}:00:00Z",
        }
        r = await carrier_post(fulfillment, secret, "SPX", body, carrier_secret)
        assert r.status_code == 200 and r.json()["applied"], r.text

    await carrier(first, "IN_TRANSIT", 8)
    await eventually(lambda: order_status("IN_TRANSIT"), within=30)
    await carrier(first, "DELIVERED", 12)
    await carrier(second, "IN_TRANSIT", 9)
    await carrier(second, "DELIVERED", 13)
    delivered = await eventually(lambda: order_status("DELIVERED"), within=30)
    assert delivered["status"] == "DELIVERED"

    clock.advance(timedelta(days=7, minutes=1))
    completed = await eventually(lambda: order_status("COMPLETED"), within=30)
    assert completed["completed_at"]


async def test_an_order_not_ready_to_ship_days_after_its_deadline_is_cancelled_at_the_sellers_fault(
    services,
) -> None:
    (orders, fulfillment), clock, secret, _ = services
    seller = auth(secret, "seller", "shop-slow")
    order, plan, warehouse_id = await place_order(services, "shop-slow")
    oid = order["order_id"]
    deadline = datetime.fromisoformat(plan["packages"][0]["dispatch_deadline"])
    clock.set(deadline + timedelta(days=5, minutes=1))

    async def cancelled() -> dict | None:
        body = (await orders.get(f"/v1/orders/{oid}", headers=seller)).json()
        return body if body["status"] == "CANCELLED" else None

    body = await eventually(cancelled, within=30)
    assert body["cancellation"]["reason_code"] == "MISSED_DISPATCH_DEADLINE"
    assert (
        body["cancellation"]["seller_fault"] is True
        and body["cancellation"]["cancelled_by"] == "system"
    )

    async def released() -> bool:
        r = await fulfillment.put(
            f"/v1/warehouses/{warehouse_id}/stock/BOOK", headers=seller, json={"on_hand": 10}
        )
        return r.json()["reserved"] == 0

    assert await eventually(released, within=30)
    packages = (await fulfillment.get(f"/v1/orders/{oid}/packages", headers=seller)).json()
    assert {p["status"] for p in packages["packages"]} == {"CANCELLED"} and packages["packages"][0][
        "overdue"
    ]


async def test_manual_split_then_combine_two_orders_of_one_buyer_into_one_parcel(services) -> None:
    (orders, fulfillment), clock, secret, settings = services
    seller = auth(secret, "seller", "shop-combo")
    buyer = auth(secret, "buyer", "buyer-1")
    first, plan_a, warehouse_id = await place_order(services, "shop-combo")
    second, plan_b, _ = await place_order(services, "shop-combo", warehouse_id=warehouse_id)
    [a] = plan_a["packages"]

    bad_split = await fulfillment.post(
        f"/v1/orders/{first['order_id']}/split",
        headers=seller,
        json={"packages": [{"items": [{"sku": "BOOK", "quantity": 1}]}]},
    )
    assert bad_split.status_code == 422 and "add up exactly" in bad_split.json()["detail"]
    split = await fulfillment.post(
        f"/v1/orders/{first['order_id']}/split",
        headers=seller,
        json={
            "packages": [
                {"items": [{"sku": "BOOK", "quantity": 1}]},
                {"items": [{"sku": "BOOK", "quantity": 1}]},
            ]
        },
    )
    assert split.status_code == 200, split.text
    halves = [p["package_id"] for p in split.json()["packages"]]
    assert len(halves) == 2 and a["package_id"] not in halves

    [b] = plan_b["packages"]
    combined = await fulfillment.post(
        "/v1/packages/combine", headers=seller, json={"package_ids": [*halves, b["package_id"]]}
    )
    assert combined.status_code == 201, combined.text
    parcel = combined.json()
    assert set(parcel["combined_orders"]) == {first["order_id"], second["order_id"]}

    undone = await fulfillment.post(
        f"/v1/packages/{parcel['package_id']}/uncombine", headers=seller
    )
    assert undone.status_code == 200 and {p["package_id"] for p in undone.json()} == {
        *halves,
        b["package_id"],
    }
    parcel = (
        await fulfillment.post(
            "/v1/packages/combine", headers=seller, json={"package_ids": [*halves, b["package_id"]]}
        )
    ).json()

    shipped = await fulfillment.post(
        f"/v1/packages/{parcel['package_id']}/ship", headers=seller, json={"handover": "PICKUP"}
    )
    assert shipped.status_code == 200, shipped.text
    tracking = shipped.json()["tracking_number"]
    label = (
        await fulfillment.get(
            f"/v1/packages/{parcel['package_id']}/documents",
            headers={**buyer, "Accept": "application/json"},
        )
    ).json()
    assert (
        first["order_id"] in label["order_number"] and second["order_id"] in label["order_number"]
    )

    body = {
        "tracking_number": tracking,
        "status": "IN_TRANSIT",
        "occurred_at": "2026-11-03T08:00:00Z",
    }
    key = CarrierKey(settings.carrier_secret("SPX"), clock)
    r = await carrier_post(fulfillment, secret, "SPX", body, key)
    assert r.status_code == 200 and r.json()["applied"]

    async def both_in_transit() -> bool:
        statuses = [
            (await orders.get(f"/v1/orders/{o['order_id']}", headers=buyer)).json()["status"]
            for o in (first, second)
        ]
        return statuses == ["IN_TRANSIT", "IN_TRANSIT"]

    assert await eventually(both_in_transit, within=30)
    again = await fulfillment.post(
        "/v1/packages/combine", headers=seller, json={"package_ids": halves}
    )
    assert again.status_code == 409  # they travel already


async def test_packages_of_different_buyers_are_not_combined(services) -> None:
    (orders, fulfillment), _, secret, _ = services
    seller = auth(secret, "seller", "shop-two")
    _, plan_a, _ = await place_order(services, "shop-two")
    other = auth(secret, "buyer", "buyer-2")
    order_b = (
        await orders.post(
            "/v1/orders",
            headers=other,
            json={
                "seller_id": "shop-two",
                "items": [{"sku": "BOOK", "quantity": 1}],
                "shipping_address": VN_ADDRESS,
                "payment_method": "COD",
            },
        )
    ).json()
    await pay(orders, other, order_b)
    _, clock, _, _ = services
    clock.advance(timedelta(hours=1, seconds=1))

    plan_b = await planned_packages(fulfillment, other, order_b["order_id"])
    ids = [plan_a["packages"][0]["package_id"], plan_b["packages"][0]["package_id"]]
    refused = await fulfillment.post(
        "/v1/packages/combine", headers=seller, json={"package_ids": ids}
    )
    assert refused.status_code == 422 and "same buyer" in refused.json()["detail"]


async def test_a_carriers_tracking_number_names_one_parcel(services) -> None:
    """Two sellers cannot share a tracking number with one carrier, and a carrier's report
    reaches only the parcel its number names (another carrier may use the same digits)."""
    (_, fulfillment), clock, secret, settings = services
    shop_a, shop_b = auth(secret, "seller", "shop-甲"), auth(secret, "seller", "shop-乙")
    _, picked_up, _ = await place_order(services, "shop-甲")
    _, own_carrier, _ = await place_order(services, "shop-甲")
    _, copycat, _ = await place_order(services, "shop-乙")
    a_pickup, a_own, b = (p["packages"][0]["package_id"] for p in (picked_up, own_carrier, copycat))

    def ship(pid: str, seller: dict[str, str], carrier: str, number: str):  # type: ignore[no-untyped-def]
        body = {"handover": "SELLER_OWN", "carrier": carrier, "tracking_number": number}
        return fulfillment.post(f"/v1/packages/{pid}/ship", headers=seller, json=body)

    r = await fulfillment.post(
        f"/v1/packages/{a_pickup}/ship", headers=shop_a, json={"handover": "PICKUP"}
    )
    spx_number = r.json()["tracking_number"]
    assert (await ship(a_own, shop_a, "JNT", "812345678901")).status_code == 200

    taken = await ship(b, shop_b, "JNT", "812345678901")
    assert taken.status_code == 409 and taken.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert "shop-甲" not in taken.text and a_own not in taken.text
    assert (await package_of(fulfillment, shop_b, copycat))["status"] == "PLANNED"
    # the same number with another carrier is another parcel
    shipped = await ship(b, shop_b, "GHN", spx_number)
    assert shipped.status_code == 200, shipped.text

    async def report(carrier: str, number: str, hour: int) -> dict:
        body = {
            "tracking_number": number,
            "status": "IN_TRANSIT",
            "occurred_at": f"2026-11-03T{hour:02d}:00:00Z",
        }
        key = CarrierKey(settings.carrier_secret(carrier), clock)
        r = await carrier_post(fulfillment, secret, carrier, body, key)
        assert r.status_code == 200 and r.json()["applied"], r.text
        return dict(r.json())

    assert (await report("SPX", spx_number, 8))["package_id"] == a_pickup
    assert (await package_of(fulfillment, shop_b, copycat))["status"] == "READY_TO_SHIP"
    assert (await report("JNT", "812345678901", 9))["package_id"] == a_own
    assert (await package_of(fulfillment, shop_b, copycat))["status"] == "READY_TO_SHIP"
    assert (await report("GHN", spx_number, 10))["package_id"] == b
    assert (await package_of(fulfillment, shop_b, copycat))["status"] == "IN_TRANSIT"


async def package_of(fulfillment: httpx.AsyncClient, seller: dict[str, str], plan: dict) -> dict:
    r = await fulfillment.get(f"/v1/orders/{plan['order_id']}/packages", headers=seller)
    package: dict = r.json()["packages"][0]
    return package


VN_CALENDAR = MarketCalendar(time_zone="Asia/Ho_Chi_Minh", holidays=[date(2026, 11, 9)])


@pytest.fixture
async def vn_holiday_services(order_db, fulfillment_db, serve_services):
    """Order and fulfillment told of a (made-up) Vietnamese holiday on Monday 9 Nov 2026."""

    def with_calendar(factory):  # type: ignore[no-untyped-def]
        def create(settings, clock):  # type: ignore[no-untyped-def]
            calendars = {"VN": VN_CALENDAR}
            return factory(settings.model_copy(update={"delivery_calendars": calendars}), clock)

        return create

    clock = SimulatedClock(start=datetime(2026, 11, 2, 9, tzinfo=UTC))
    clients, settings = await serve_services(
        clock,
        (with_calendar(create_order_app), order_db),
        (with_calendar(create_fulfillment_app), fulfillment_db),
    )
    return tuple(clients), clock, settings[0].effective_jwt_secret, settings[1]


async def test_deliver_by_and_the_estimate_count_working_days_of_the_buyers_calendar(
    vn_holiday_services,
) -> None:
    (orders, fulfillment), _, secret, _ = vn_holiday_services
    order, plan, _ = await place_order(vn_holiday_services)
    seller = auth(secret, "seller", "shop-ship")
    buyer = auth(secret, "buyer", "buyer-1")
    # Due for dispatch on Thursday 5 Nov (afternoon in Hanoi); 5 working days: Fri 6, (Mon 9
    # off), Tue 10, Wed 11, Thu 12, Fri 13, to the end of that day in Hanoi (UTC+7).
    placed = (await orders.get(f"/v1/orders/{order['order_id']}", headers=buyer)).json()
    deliver_by = datetime(2026, 11, 13, 16, 59, 59, 999999, tzinfo=UTC)
    assert datetime.fromisoformat(placed["deliver_by"]) == deliver_by
    assert datetime.fromisoformat(plan["deliver_by"]) == deliver_by
    [package] = plan["packages"]
    assert package["estimated_delivery_date"] is None  # not shipped yet

    # Ready on Monday 2 Nov (evening in Hanoi): Tue 3, Wed 4, Thu 5, Fri 6, (9 off), Tue 10.
    shipped = await fulfillment.post(
        f"/v1/packages/{package['package_id']}/ship", headers=seller, json={"handover": "PICKUP"}
    )
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["estimated_delivery_date"] == "2026-11-10"
    view = await fulfillment.get(f"/v1/orders/{order['order_id']}/packages", headers=buyer)
    assert view.json()["packages"][0]["estimated_delivery_date"] == "2026-11-10"
