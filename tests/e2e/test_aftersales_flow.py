"""Order, fulfillment and aftersales running together over the real broker and PostgreSQL:
requests after delivery, decisions, returns, refunds (visible on the order), exchanges that
ship a replacement package, the cancellation refund, reviews and logistics complaints."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from services.aftersales.app import create_aftersales_app
from services.fulfillment.app import create_fulfillment_app
from services.order.app import create_order_app
from shared.clock import SimulatedClock
from tests.conftest import eventually
from tests.e2e.journeys import BOOK, PEN, Journey, auth


@pytest.fixture
async def services(order_db, fulfillment_db, aftersales_db, serve_services):
    clock = SimulatedClock(start=datetime(2026, 11, 2, 9, tzinfo=UTC))
    clients, settings = await serve_services(
        clock,
        (create_order_app, order_db),
        (create_fulfillment_app, fulfillment_db),
        (create_aftersales_app, aftersales_db),
    )
    return Journey(*clients, clock, settings[0].effective_jwt_secret, settings[1])


async def test_a_return_after_delivery_ends_in_the_right_refund_shown_on_the_order(
    services: Journey,
) -> None:
    j = services
    order, _ = await j.delivered_order("shop-return")
    oid = order["order_id"]
    seller = j.seller("shop-return")

    request = await j.open_request(
        oid,
        type="RETURN_AND_REFUND",
        items=[{"sku": "BOOK", "quantity": 1}],
        description="cover torn",
        evidence_urls=["https://img.example/torn.jpg"],
    )
    rid = request["request_id"]
    assert request["status"] == "REQUESTED"
    assert request["refund_amount"] == {"amount": BOOK, "currency": "VND"}  # one of two books
    too_many = await j.aftersales.post(
        "/v1/aftersales/requests",
        headers=j.buyer,
        json={
            "order_id": oid,
            "type": "RETURN_AND_REFUND",
            "items": [{"sku": "BOOK", "quantity": 2}],
            "reason_code": "DAMAGED",
        },
    )
    assert too_many.status_code == 422 and "at most 1" in too_many.json()["detail"]

    early = await j.post(
        rid, "return-shipment", j.buyer, {"carrier": "VNPOST", "tracking_number": "RR1234"}
    )
    assert early.status_code == 409  # not approved yet
    approved = await j.post(rid, "approve", seller)
    assert approved.status_code == 200 and approved.json()["status"] == "APPROVED"
    shipped = await j.post(
        rid, "return-shipment", j.buyer, {"carrier": "VNPOST", "tracking_number": "RR123456789VN"}
    )
    assert shipped.json()["status"] == "RETURN_IN_TRANSIT"
    received = await j.post(rid, "receive", seller, {"condition": "AS_EXPECTED"})
    assert received.status_code == 200, received.text
    body = received.json()
    assert body["status"] == "REFUNDED" and body["refunded"]["amount"] == BOOK
    assert body["return_shipment"]["tracking_number"] == "RR123456789VN"

    refunded = await j.order_state(
        oid, lambda o: o["refunded"] is not None and o["open_aftersales_cases"] == 0
    )
    assert refunded["refunded"] == {"amount": BOOK, "currency": "VND"}
    assert not refunded["fully_refunded"]

    listed = await j.aftersales.get(
        "/v1/aftersales/requests", params={"order_id": oid}, headers=seller
    )
    assert [r["request_id"] for r in listed.json()["items"]] == [rid]
    other_seller = await j.aftersales.get(
        "/v1/aftersales/requests", params={"order_id": oid}, headers=j.seller("shop-other")
    )
    assert other_seller.json()["items"] == []


async def test_a_rejection_escalated_to_the_operator_holds_completion_until_it_closes(
    services: Journey, order_db: str
) -> None:
    j = services
    order, _ = await j.delivered_order("shop-escalate")
    oid = order["order_id"]
    seller = j.seller("shop-escalate")
    request = await j.open_request(
        oid,
        type="REFUND_ONLY",
        reason_code="NOT_AS_DESCRIBED",
        items=[{"sku": "BOOK", "quantity": 2}, {"sku": "PEN", "quantity": 1}],
    )
    rid = request["request_id"]
    assert request["refund_amount"]["amount"] == order["total"]["amount"]  # shipping too

    no_reason = await j.post(rid, "reject", seller, {"reason": " "})
    assert no_reason.status_code == 422
    rejected = await j.post(rid, "reject", seller, {"reason": "as described in the listing"})
    assert rejected.json()["status"] == "REJECTED"
    assert (await j.post(rid, "decide", j.operator, {"approve": True})).status_code == 409
    escalated = await j.post(rid, "escalate", j.buyer)
    assert escalated.json()["status"] == "ESCALATED"
    await j.order_state(oid, lambda o: o["open_aftersales_cases"] == 1)

    # past the automatic completion: the timer fires, but the open case holds the order back
    j.clock.advance(timedelta(days=8))
    conn = await asyncpg.connect(order_db)
    try:

        async def completion_considered() -> bool:
            fired = await conn.fetchval(
                "SELECT count(*) FROM deadlines WHERE kind = 'auto-complete' "
                "AND subject_id = $1 AND fired_at IS NOT NULL",
                oid,
            )
            return bool(fired)

        await eventually(completion_considered, within=30)
    finally:
        await conn.close()
    held = (await j.orders.get(f"/v1/orders/{oid}", headers=j.buyer)).json()
    assert held["status"] == "DELIVERED"

    decided = await j.post(rid, "decide", j.operator, {"approve": True})
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "REFUNDED"
    done = await j.order_state(oid, lambda o: o["status"] == "COMPLETED")
    assert done["fully_refunded"] and done["refunded"]["amount"] == order["total"]["amount"]


async def test_an_unanswered_request_is_approved_automatically(services: Journey) -> None:
    j = services
    order, _ = await j.delivered_order("shop-silent")
    request = await j.open_request(
        order["order_id"], type="REFUND_ONLY", items=[{"sku": "PEN", "quantity": 1}]
    )
    j.clock.advance(timedelta(hours=47))
    assert (await j.request_state(request["request_id"], "REQUESTED"))["auto_approved"] is None
    j.clock.advance(timedelta(hours=1, seconds=1))
    refunded = await j.request_state(request["request_id"], "REFUNDED")
    assert refunded["auto_approved"] is True and refunded["refunded"]["amount"] == PEN


async def test_an_exchange_ships_a_replacement_package(services: Journey) -> None:
    j = services
    order, _ = await j.delivered_order("shop-exchange")
    oid = order["order_id"]
    seller = j.seller("shop-exchange")
    request = await j.open_request(
        oid, type="EXCHANGE", reason_code="WRONG_ITEM", items=[{"sku": "PEN", "quantity": 1}]
    )
    rid = request["request_id"]
    assert request["refund_amount"]["amount"] == 0
    await j.post(rid, "approve", seller)
    await j.post(rid, "return-shipment", j.buyer, {"carrier": "VNPOST", "tracking_number": "RR99"})
    damaged = await j.post(rid, "receive", seller, {"condition": "WRONG_ITEM"})
    assert damaged.json()["status"] == "ESCALATED"  # the operator looks at it
    exchanged = await j.post(rid, "decide", j.operator, {"approve": True})
    assert exchanged.json()["status"] == "EXCHANGED"

    async def replacement() -> dict | None:
        r = await j.fulfillment.get(f"/v1/orders/{oid}/packages", headers=seller)
        found = [p for p in r.json()["packages"] if p["replacement_for"] == rid]
        return found[0] if found else None

    package = await eventually(replacement, within=30)
    assert package["items"] == [{"sku": "PEN", "quantity": 1}] and package["status"] == "PLANNED"
    stock_path = f"/v1/warehouses/{package['warehouse_id']}/stock/PEN"
    held = await j.fulfillment.put(stock_path, headers=seller, json={"on_hand": 9})
    assert held.json()["reserved"] == 1  # the replacement's own reservation
    r = await j.fulfillment.post(
        f"/v1/packages/{package['package_id']}/ship", headers=seller, json={"handover": "PICKUP"}
    )
    assert r.status_code == 200 and r.json()["tracking_number"], r.text
    stock = await j.fulfillment.put(stock_path, headers=seller, json={"on_hand": 8})
    assert stock.json()["reserved"] == 0  # shipped: taken out of the stock
    after = (await j.orders.get(f"/v1/orders/{oid}", headers=j.buyer)).json()
    assert after["status"] == "DELIVERED"


async def test_a_cancelled_paid_order_is_refunded_once_even_when_told_twice(
    services: Journey, aftersales_db: str, order_db: str
) -> None:
    j = services
    order = await j.paid_order("shop-cancel")
    oid = order["order_id"]
    r = await j.orders.post(
        f"/v1/orders/{oid}/cancel", headers=j.buyer, json={"reason_code": "CHANGED_MIND"}
    )
    assert r.status_code == 200, r.text
    refunded = await j.order_state(oid, lambda o: o["fully_refunded"])
    assert refunded["refunded"] == order["total"]

    # the cancellation comes again: the same message, and a copy with another event id
    orders_db = await asyncpg.connect(order_db)
    try:
        row = await orders_db.fetchrow(
            "SELECT event_id, stream_id, stream_version, occurred_at, payload::text AS payload "
            "FROM events WHERE order_id = $1 AND event_type = 'OrderCancelled'",
            uuid.UUID(oid),
        )
    finally:
        await orders_db.close()
    envelope = {
        "event_id": str(row["event_id"]),
        "event_type": "OrderCancelled",
        "schema_version": 1,
        "occurred_at": row["occurred_at"].isoformat(),
        "producer": "order",
        "stream_id": row["stream_id"],
        "stream_version": row["stream_version"],
        "order_id": oid,
        "payload": json.loads(row["payload"]),
    }
    # the copy looks like a later event of the stream: the inbox lets it through, the ledger
    # refunds the cancellation once all the same
    copy = {
        **envelope,
        "event_id": str(uuid.uuid4()),
        "stream_version": envelope["stream_version"] + 100,
    }
    producer = AIOKafkaProducer(bootstrap_servers=j.settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for value in (envelope, copy):
            await producer.send_and_wait(
                j.settings.topic("order"), json.dumps(value).encode(), key=oid.encode()
            )
    finally:
        await producer.stop()

    conn = await asyncpg.connect(aftersales_db)
    try:

        async def copy_handled() -> bool:
            return bool(
                await conn.fetchval(
                    "SELECT count(*) FROM consumer_progress WHERE stream_id = $1 "
                    "AND $2 = ANY(ahead)",
                    copy["stream_id"],
                    copy["stream_version"],
                )
            )

        await eventually(copy_handled, within=30)
        refunds = await conn.fetch(
            "SELECT payload FROM events WHERE event_type = 'RefundIssued' AND order_id = $1",
            uuid.UUID(oid),
        )
    finally:
        await conn.close()
    assert len(refunds) == 1
    assert json.loads(refunds[0]["payload"])["amount"] == order["total"]


async def test_reviews_once_after_delivery_and_complaints_to_a_resolution(
    services: Journey,
) -> None:
    j = services
    early = await j.paid_order("shop-review")
    r = await j.aftersales.post(
        "/v1/reviews", headers=j.buyer, json={"order_id": early["order_id"], "rating": 5}
    )
    assert r.status_code in (404, 409)  # not delivered (or not heard of yet)

    order, packages = await j.delivered_order("shop-review")
    oid = order["order_id"]

    async def reviewed() -> httpx.Response | None:
        r = await j.aftersales.post(
            "/v1/reviews", headers=j.buyer, json={"order_id": oid, "rating": 2, "text": "slow"}
        )
        return r if r.status_code == 201 else None

    first = await eventually(reviewed, within=30)
    assert first.json()["rating"] == 2
    again = await j.aftersales.post(
        "/v1/reviews", headers=j.buyer, json={"order_id": oid, "rating": 5}
    )
    assert again.status_code == 409
    stranger = auth(j.secret, "buyer", "buyer-2")
    r = await j.aftersales.post(
        "/v1/reviews", headers=stranger, json={"order_id": oid, "rating": 1}
    )
    assert r.status_code == 404
    bad = await j.aftersales.post(
        "/v1/reviews", headers=j.buyer, json={"order_id": oid, "rating": 6}
    )
    assert bad.status_code == 422
    shown = await j.aftersales.get(f"/v1/orders/{oid}/review", headers=j.seller("shop-review"))
    assert shown.json()["text"] == "slow"

    seller = j.seller("shop-review")
    package_id = packages[0]["package_id"]
    complaint = {"package_id": package_id, "type": "DELAY", "description": "3 days late"}
    wrong_carrier = await j.aftersales.post(
        "/v1/logistics-complaints", headers=seller, json={**complaint, "carrier": "GHN"}
    )
    assert wrong_carrier.status_code == 422
    not_theirs = await j.aftersales.post(
        "/v1/logistics-complaints",
        headers=j.seller("shop-other"),
        json={**complaint, "carrier": "SPX"},
    )
    assert not_theirs.status_code == 404
    filed = await j.aftersales.post(
        "/v1/logistics-complaints", headers=seller, json={**complaint, "carrier": "SPX"}
    )
    assert filed.status_code == 201 and filed.json()["status"] == "OPEN", filed.text
    cid = filed.json()["complaint_id"]
    path = f"/v1/logistics-complaints/{cid}/resolve"
    assert (
        await j.aftersales.post(path, headers=seller, json={"resolution": "x"})
    ).status_code == 403
    resolved = await j.aftersales.post(
        path, headers=j.operator, json={"resolution": "carrier credited 20000 VND"}
    )
    assert resolved.json()["status"] == "RESOLVED" and resolved.json()["version"] == 2
    twice = await j.aftersales.post(path, headers=j.operator, json={"resolution": "again"})
    assert twice.status_code == 409
    listed = await j.aftersales.get("/v1/logistics-complaints", headers=seller)
    assert [c["complaint_id"] for c in listed.json()["items"]] == [cid]
    hidden = await j.aftersales.get(
        f"/v1/logistics-complaints/{cid}", headers=j.seller("shop-other")
    )
    assert hidden.status_code == 404


async def test_the_wrong_caller_is_refused_on_every_endpoint(services: Journey) -> None:
    """No token: 401. Wrong role: 403. Someone else's request: 404. Nothing changes."""
    j = services
    order, _ = await j.delivered_order("shop-guard")
    request = await j.open_request(
        order["order_id"], type="RETURN_AND_REFUND", items=[{"sku": "PEN", "quantity": 1}]
    )
    rid = request["request_id"]
    other_buyer = auth(j.secret, "buyer", "buyer-2")
    other_seller = j.seller("shop-other")
    seller = j.seller("shop-guard")
    driver = auth(j.secret, "driver", "d1", provider="SPX")
    actions = {
        "approve": ({}, other_seller, j.buyer),
        "reject": ({"reason": "no"}, other_seller, j.buyer),
        "escalate": ({}, other_buyer, seller),
        "decide": ({"approve": True}, None, seller),
        "return-shipment": ({"carrier": "VNPOST", "tracking_number": "RR55"}, other_buyer, seller),
        "receive": ({"condition": "AS_EXPECTED"}, other_seller, j.buyer),
    }
    for action, (body, stranger, wrong_role) in actions.items():
        path = f"/v1/aftersales/requests/{rid}/{action}"
        assert (await j.aftersales.post(path, json=body)).status_code == 401, action
        r = await j.aftersales.post(path, headers=wrong_role, json=body)
        assert r.status_code == 403, action
        if stranger is not None:
            r = await j.aftersales.post(path, headers=stranger, json=body)
            assert r.status_code == 404, (action, r.text)
    for headers, status in ((other_buyer, 404), (other_seller, 404), (driver, 403), ({}, 401)):
        r = await j.aftersales.get(f"/v1/aftersales/requests/{rid}", headers=headers)
        assert r.status_code == status
    new = {
        "order_id": order["order_id"],
        "type": "REFUND_ONLY",
        "items": [{"sku": "BOOK", "quantity": 1}],
        "reason_code": "DAMAGED",
    }
    assert (
        await j.aftersales.post("/v1/aftersales/requests", headers=other_buyer, json=new)
    ).status_code == 404
    assert (
        await j.aftersales.post("/v1/aftersales/requests", headers=seller, json=new)
    ).status_code == 403
    assert (
        await j.aftersales.post(
            "/v1/reviews", headers=seller, json={"order_id": order["order_id"], "rating": 3}
        )
    ).status_code == 403
    assert (
        await j.aftersales.post(
            "/v1/logistics-complaints",
            headers=j.buyer,
            json={
                "package_id": str(uuid.uuid4()),
                "carrier": "SPX",
                "type": "LOSS",
                "description": "x",
            },
        )
    ).status_code == 403
    unchanged = await j.aftersales.get(f"/v1/aftersales/requests/{rid}", headers=j.operator)
    assert (
        unchanged.json()["status"] == "REQUESTED"
        and unchanged.json()["version"] == request["version"]
    )
