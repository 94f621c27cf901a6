"""Every order endpoint through httpx against the running service (real uvicorn, real
PostgreSQL and broker), on a simulated clock for the deadlines."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import text

from services.order.app import create_order_app
from shared.auth import mint_token
from shared.clock import SimulatedClock
from shared.runtime import ServiceRuntime
from tests.conftest import eventually, make_settings

ADDRESS = {
    "recipient_name": "Ann Lee",
    "phone": "+1 555 0100",
    "line1": "1 Main St",
    "city": "Springfield",
    "postal_code": "12345",
    "country": "US",
}
PRODUCT = {
    "sku": "TEE-1",
    "title": "T-shirt",
    "price": {"amount": 1999, "currency": "USD"},
    "weight_g": 250,
}


class Api:
    def __init__(self, base_url: str, secret: str) -> None:
        self.client = httpx.AsyncClient(base_url=base_url, timeout=20)
        self.secret = secret
        self.runtime: ServiceRuntime | None = None

    def auth(self, role: str, sub: str, **claims: str) -> dict[str, str]:
        return {"Authorization": "Bearer " + mint_token(self.secret, sub=sub, role=role, **claims)}

    def buyer(self, sub: str = "buyer-a") -> dict[str, str]:
        return self.auth("buyer", sub)

    def seller(self, seller_id: str = "shop-1") -> dict[str, str]:
        return self.auth("seller", f"user-{seller_id}", seller_id=seller_id)

    def operator(self) -> dict[str, str]:
        return self.auth("operator", "op-1")

    async def order(
        self, buyer: str = "buyer-a", quantity: int = 2, seller: str = "shop-1"
    ) -> dict:
        r = await self.client.post(
            "/v1/orders",
            headers=self.buyer(buyer),
            json={
                "seller_id": seller,
                "items": [{"sku": "TEE-1", "quantity": quantity}],
                "shipping_address": ADDRESS,
                "payment_method": "CARD",
            },
        )
        assert r.status_code == 201, r.text
        return r.json()

    async def pay(self, order: dict, buyer: str = "buyer-a") -> httpx.Response:
        return await self.client.post(
            f"/v1/orders/{order['order_id']}/payments",
            headers=self.buyer(buyer),
            json={"amount": order["total"], "transaction_id": f"tx-{order['order_id']}"},
        )

    async def get(self, order_id: str, headers: dict[str, str]) -> dict:
        r = await self.client.get(f"/v1/orders/{order_id}", headers=headers)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
async def stack(infra, order_db, serve_app):
    clock = SimulatedClock(start=datetime(2026, 11, 2, 9, tzinfo=UTC))
    settings = make_settings(infra, order_db)
    running = await serve_app(create_order_app(settings, clock))
    api = Api(running.base_url, settings.effective_jwt_secret)
    api.runtime = running.app.state.runtime
    r = await api.client.post("/v1/products", headers=api.seller(), json=PRODUCT)
    assert r.status_code == 201, r.text
    yield api, clock, settings
    await api.client.aclose()


def assert_problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert {"type", "title", "status", "detail"} <= body.keys() and body["status"] == status
    return body


async def test_health_readiness_metrics_and_openapi(stack) -> None:
    api, _, _ = stack
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": True, "broker": True}
    metrics = (await api.client.get("/metrics", headers=api.operator())).text
    assert "shopflow_http_requests_total" in metrics and "shopflow_events_appended_total" in metrics
    paths = (await api.client.get("/openapi.json")).json()["paths"]
    for path in [
        "/v1/products",
        "/v1/products/{sku}",
        "/v1/orders",
        "/v1/orders/{order_id}",
        "/v1/orders/{order_id}/payments",
        "/v1/orders/{order_id}/review",
        "/v1/orders/{order_id}/cancel",
        "/v1/orders/{order_id}/cancellation-request/approve",
        "/v1/orders/{order_id}/cancellation-request/reject",
        "/v1/orders/{order_id}/shipping-address",
        "/v1/orders/{order_id}/confirm-receipt",
    ]:
        assert path in paths


async def test_products_catalog(stack) -> None:
    api, _, _ = stack
    r = await api.client.get(
        "/v1/products/TEE-1", params={"seller_id": "shop-1"}, headers=api.buyer()
    )
    assert r.json()["price"] == {"amount": 1999, "currency": "USD"} and r.json()["version"] == 1
    r = await api.client.put(
        "/v1/products/TEE-1",
        headers=api.seller(),
        json={"price": {"amount": 2199, "currency": "USD"}},
    )
    assert (
        r.status_code == 200
        and r.json()["price"]["amount"] == 2199
        and r.json()["title"] == "T-shirt"
    )
    assert_problem(await api.client.post("/v1/products", headers=api.seller(), json=PRODUCT), 409)
    assert_problem(
        await api.client.put("/v1/products/NOPE", headers=api.seller(), json={"title": "x"}), 404
    )
    assert_problem(
        await api.client.get(
            "/v1/products/TEE-1", params={"seller_id": "shop-2"}, headers=api.buyer()
        ),
        404,
    )
    assert_problem(await api.client.post("/v1/products", headers=api.buyer(), json=PRODUCT), 403)
    bad = assert_problem(
        await api.client.post(
            "/v1/products",
            headers=api.seller(),
            json={**PRODUCT, "sku": "A", "price": {"amount": -1, "currency": "usd"}},
        ),
        422,
    )
    assert {"price.amount", "price.currency"} <= {
        e["field"].removeprefix("body.") for e in bad["errors"]
    }


async def test_order_journey_create_pay_and_place_on_the_broker(stack) -> None:
    api, clock, settings = stack
    order = await api.order()
    assert order["status"] == "UNPAID"
    assert order["subtotal"] == {"amount": 3998, "currency": "USD"}
    assert order["total"]["amount"] == order["subtotal"]["amount"] + order["shipping_fee"]["amount"]
    r = await api.pay(order)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ON_HOLD" and r.json()["review_passed"] is True

    clock.advance(timedelta(hours=1, seconds=1))  # the remorse window passes
    placed = await eventually(
        lambda: _status(api, order["order_id"], "AWAITING_SHIPMENT"), within=20
    )
    assert placed["dispatch_deadline"] and placed["deliver_by"]

    consumer = AIOKafkaConsumer(
        settings.topic("order"),
        bootstrap_servers=settings.bootstrap_servers(),
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    seen: list[str] = []
    try:

        async def collect() -> bool:
            batch = await consumer.getmany(timeout_ms=300)
            for msgs in batch.values():
                seen.extend(
                    json.loads(m.value)["event_type"]
                    for m in msgs
                    if m.key == order["order_id"].encode()
                )
            return "OrderPlaced" in seen

        await eventually(collect, within=30)
    finally:
        await consumer.stop()
    for event_type in ("OrderCreated", "OrderPaid", "OrderPutOnHold", "OrderPlaced"):
        assert event_type in seen
    assert seen.index("OrderCreated") < seen.index("OrderPaid") < seen.index("OrderPlaced")


async def _fired(api: Api, kind: str, subject_id: str) -> bool:
    assert api.runtime is not None
    async with api.runtime.db.connect() as conn:
        row = await conn.execute(
            text("SELECT fired_at FROM deadlines WHERE kind = :k AND subject_id = :s"),
            {"k": kind, "s": subject_id},
        )
        return any(r.fired_at is not None for r in row)


async def _status(api: Api, order_id: str, status: str) -> dict | None:
    body = await api.get(order_id, api.operator())
    return body if body["status"] == status else None


async def test_wrong_amount_is_422_and_changes_nothing(stack) -> None:
    api, _, _ = stack
    order = await api.order()
    r = await api.client.post(
        f"/v1/orders/{order['order_id']}/payments",
        headers=api.buyer(),
        json={"amount": {"amount": 1, "currency": "USD"}, "transaction_id": "t"},
    )
    assert assert_problem(r, 422)["type"].endswith("amount-mismatch")
    after = await api.get(order["order_id"], api.buyer())
    assert after["status"] == "UNPAID" and after["version"] == order["version"]


async def test_callers_see_and_touch_only_their_own_orders(stack) -> None:
    api, _, _ = stack
    order = await api.order(buyer="buyer-a")
    oid = order["order_id"]
    assert (
        await api.client.get(f"/v1/orders/{oid}", headers=api.buyer("buyer-a"))
    ).status_code == 200
    assert (
        await api.client.get(f"/v1/orders/{oid}", headers=api.seller("shop-1"))
    ).status_code == 200
    assert (await api.client.get(f"/v1/orders/{oid}", headers=api.operator())).status_code == 200
    assert_problem(await api.client.get(f"/v1/orders/{oid}", headers=api.buyer("buyer-b")), 404)
    assert_problem(await api.client.get(f"/v1/orders/{oid}", headers=api.seller("shop-2")), 404)
    assert_problem(await api.pay(order, buyer="buyer-b"), 404)
    assert_problem(
        await api.client.post(
            f"/v1/orders/{oid}/cancel", headers=api.buyer("buyer-b"), json={"reason_code": "OTHER"}
        ),
        404,
    )
    assert_problem(await api.client.get(f"/v1/orders/{oid}"), 401)
    assert_problem(
        await api.client.get(f"/v1/orders/{oid}", headers={"Authorization": "Bearer nonsense"}), 401
    )
    forged = mint_token("another-secret-of-32-bytes-or-more!!", sub="buyer-a", role="buyer")
    assert_problem(
        await api.client.get(f"/v1/orders/{oid}", headers={"Authorization": f"Bearer {forged}"}),
        401,
    )
    assert_problem(
        await api.client.get(f"/v1/orders/{oid}", headers=api.auth("driver", "d1", provider="p")),
        403,
    )
    assert_problem(await api.client.post("/v1/orders", headers=api.seller(), json={}), 403)
    assert_problem(
        await api.client.post(
            f"/v1/orders/{oid}/review", headers=api.buyer(), json={"decision": "APPROVE"}
        ),
        403,
    )
    assert_problem(await api.client.get(f"/v1/orders/{uuid.uuid4()}", headers=api.operator()), 404)
    unchanged = await api.get(oid, api.buyer("buyer-a"))
    assert unchanged["status"] == "UNPAID" and unchanged["version"] == order["version"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"seller_id": "shop-1", "items": [], "shipping_address": ADDRESS, "payment_method": "CARD"},
        {
            "seller_id": "shop-1",
            "items": [{"sku": "TEE-1", "quantity": 0}],
            "shipping_address": ADDRESS,
            "payment_method": "CARD",
        },
        {
            "seller_id": "shop-1",
            "items": [{"sku": "TEE-1", "quantity": 1}],
            "shipping_address": {**ADDRESS, "postal_code": ""},
            "payment_method": "CARD",
        },
        {
            "seller_id": "shop-1",
            "items": [{"sku": "TEE-1", "quantity": 1}],
            "shipping_address": ADDRESS,
            "payment_method": "CARD",
            "extra": 1,
        },
        {
            "seller_id": "shop-1",
            "items": [{"sku": "NOPE", "quantity": 1}],
            "shipping_address": ADDRESS,
            "payment_method": "CARD",
        },
        {
            "seller_id": "shop-1",
            "items": [{"sku": "TEE-1", "quantity": 1}],
            "shipping_address": ADDRESS,
            "payment_method": "CARD",
            "shipping_option": "TELEPORT",
        },
    ],
)
async def test_bad_order_input_is_a_422_problem(stack, body) -> None:
    api, _, _ = stack
    assert_problem(await api.client.post("/v1/orders", headers=api.buyer(), json=body), 422)


async def test_malformed_json_and_bad_ids_are_4xx(stack) -> None:
    api, _, _ = stack
    r = await api.client.post(
        "/v1/orders", headers={**api.buyer(), "content-type": "application/json"}, content=b"{nope"
    )
    assert_problem(r, 422)
    assert_problem(await api.client.get("/v1/orders/not-a-uuid", headers=api.buyer()), 422)


async def test_idempotency_key_replays_the_first_response_and_changes_nothing(stack) -> None:
    api, _, _ = stack
    body = {
        "seller_id": "shop-1",
        "items": [{"sku": "TEE-1", "quantity": 1}],
        "shipping_address": ADDRESS,
        "payment_method": "CARD",
    }
    headers = {**api.buyer(), "Idempotency-Key": "create-1"}
    first = await api.client.post("/v1/orders", headers=headers, json=body)
    second = await api.client.post("/v1/orders", headers=headers, json=body)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("idempotent-replayed") == "true"
    other = await api.client.post(
        "/v1/orders", headers=headers, json={**body, "payment_method": "COD"}
    )
    assert_problem(other, 422)
    # the key is the caller's: another buyer with the same key creates its own order
    third = await api.client.post(
        "/v1/orders", headers={**api.buyer("buyer-z"), "Idempotency-Key": "create-1"}, json=body
    )
    assert third.status_code == 201 and third.json()["order_id"] != first.json()["order_id"]
    order = first.json()
    pay_headers = {**api.buyer(), "Idempotency-Key": "pay-1"}
    payment = {"amount": order["total"], "transaction_id": "t-1"}
    p1 = await api.client.post(
        f"/v1/orders/{order['order_id']}/payments", headers=pay_headers, json=payment
    )
    p2 = await api.client.post(
        f"/v1/orders/{order['order_id']}/payments", headers=pay_headers, json=payment
    )
    assert p1.status_code == p2.status_code == 200 and p1.json()["version"] == p2.json()["version"]
    assert (await api.get(order["order_id"], api.buyer()))["version"] == p1.json()["version"]


async def test_unpaid_order_is_cancelled_after_the_timeout(stack) -> None:
    api, clock, _ = stack
    order = await api.order()
    clock.advance(timedelta(minutes=31))
    cancelled = await eventually(lambda: _status(api, order["order_id"], "CANCELLED"))
    assert cancelled["cancellation"]["reason_code"] == "UNPAID_TIMEOUT"
    assert cancelled["cancellation"]["seller_fault"] is False
    assert_problem(await api.pay(order), 409)


async def test_cancellation_paths(stack) -> None:
    api, clock, _ = stack
    # within the remorse window: at once
    early = await api.order()
    await api.pay(early)
    r = await api.client.post(
        f"/v1/orders/{early['order_id']}/cancel",
        headers=api.buyer(),
        json={"reason_code": "CHANGED_MIND"},
    )
    assert r.status_code == 200 and r.json()["status"] == "CANCELLED"
    assert r.json()["cancellation"]["refund_due"] == early["total"]
    assert_problem(
        await api.client.post(
            f"/v1/orders/{early['order_id']}/cancel",
            headers=api.buyer(),
            json={"reason_code": "OTHER"},
        ),
        409,
    )

    # after placement: a request, rejected by the seller, then another auto-approved
    late = await api.order()
    await api.pay(late)
    oid = late["order_id"]
    clock.advance(timedelta(hours=1, minutes=1))
    await eventually(lambda: _status(api, oid, "AWAITING_SHIPMENT"))
    r = await api.client.post(
        f"/v1/orders/{oid}/cancel", headers=api.buyer(), json={"reason_code": "CHANGED_MIND"}
    )
    assert r.status_code == 202 and r.json()["cancellation_request"]["status"] == "PENDING"
    assert_problem(
        await api.client.post(
            f"/v1/orders/{oid}/cancellation-request/reject", headers=api.seller(), json={}
        ),
        422,
    )
    assert_problem(
        await api.client.post(
            f"/v1/orders/{oid}/cancellation-request/approve", headers=api.seller("shop-2")
        ),
        404,
    )
    r = await api.client.post(
        f"/v1/orders/{oid}/cancellation-request/reject",
        headers=api.seller(),
        json={"reason": "packed"},
    )
    assert r.status_code == 200 and r.json()["cancellation_request"]["status"] == "REJECTED"
    r = await api.client.post(
        f"/v1/orders/{oid}/cancel", headers=api.buyer(), json={"reason_code": "OTHER"}
    )
    assert r.status_code == 202
    clock.advance(timedelta(hours=24, minutes=1))
    auto = await eventually(lambda: _status(api, oid, "CANCELLED"))
    assert (
        auto["cancellation"]["cancelled_by"] == "buyer"
        and auto["cancellation"]["seller_fault"] is False
    )

    # the seller cancels with a seller-fault reason
    third = await api.order()
    r = await api.client.post(
        f"/v1/orders/{third['order_id']}/cancel",
        headers=api.seller(),
        json={"reason_code": "OUT_OF_STOCK"},
    )
    assert r.status_code == 200 and r.json()["cancellation"]["seller_fault"] is True
    assert_problem(
        await api.client.post(
            f"/v1/orders/{(await api.order())['order_id']}/cancel",
            headers=api.seller(),
            json={"reason_code": "CHANGED_MIND"},
        ),
        422,
    )


async def test_operator_review_of_a_held_order(stack) -> None:
    api, clock, _ = stack
    order = await api.order(quantity=60)  # above the default risk limit of 50 units per SKU
    r = await api.pay(order)
    assert r.json()["review_passed"] is False
    assert "RISK_QUANTITY" in [f["code"] for f in r.json()["review_failures"]]
    clock.advance(timedelta(hours=2))
    await eventually(lambda: _fired(api, "remorse-window-end", order["order_id"]))
    # the remorse window is over, but the failed review keeps the order on hold
    assert (await api.get(order["order_id"], api.operator()))["status"] == "ON_HOLD"
    r = await api.client.post(
        f"/v1/orders/{order['order_id']}/review",
        headers=api.operator(),
        json={"decision": "APPROVE"},
    )
    assert r.status_code == 200 and r.json()["status"] == "AWAITING_SHIPMENT"
    assert_problem(
        await api.client.post(
            f"/v1/orders/{order['order_id']}/review",
            headers=api.operator(),
            json={"decision": "REJECT"},
        ),
        409,
    )
    assert_problem(
        await api.client.post(
            f"/v1/orders/{order['order_id']}/review",
            headers=api.operator(),
            json={"decision": "MAYBE"},
        ),
        422,
    )


async def test_address_change_and_confirm_receipt(stack) -> None:
    api, _, _ = stack
    order = await api.order()
    oid = order["order_id"]
    r = await api.client.put(
        f"/v1/orders/{oid}/shipping-address",
        headers=api.buyer(),
        json={**ADDRESS, "line1": "2 Elm St"},
    )
    assert r.status_code == 200 and r.json()["shipping_address"]["line1"] == "2 Elm St"
    assert_problem(
        await api.client.put(
            f"/v1/orders/{oid}/shipping-address",
            headers=api.buyer(),
            json={**ADDRESS, "country": "USA"},
        ),
        422,
    )
    assert_problem(
        await api.client.put(
            f"/v1/orders/{oid}/shipping-address", headers=api.buyer("buyer-b"), json=ADDRESS
        ),
        404,
    )
    assert_problem(
        await api.client.post(f"/v1/orders/{oid}/confirm-receipt", headers=api.buyer()), 409
    )
    await api.client.post(
        f"/v1/orders/{oid}/cancel", headers=api.buyer(), json={"reason_code": "OTHER"}
    )
    assert_problem(
        await api.client.put(
            f"/v1/orders/{oid}/shipping-address", headers=api.buyer(), json=ADDRESS
        ),
        409,
    )


async def test_dead_letter_operations_need_an_operator(stack) -> None:
    api, _, _ = stack
    assert_problem(await api.client.get("/v1/dead-letters", headers=api.buyer()), 403)
    r = await api.client.get("/v1/dead-letters", headers=api.operator())
    assert r.status_code == 200 and r.json() == {"items": []}
    assert_problem(await api.client.post("/v1/dead-letters/999/retry", headers=api.operator()), 404)


async def test_a_payment_transaction_pays_one_order_only(stack) -> None:
    api, _, _ = stack
    first, second = await api.order(buyer="买家-张"), await api.order(buyer="买家-李")

    def pay(order: dict, buyer: str, transaction_id: str, amount: dict | None = None):  # type: ignore[no-untyped-def]
        return api.client.post(
            f"/v1/orders/{order['order_id']}/payments",
            headers=api.buyer(buyer),
            json={"amount": amount or order["total"], "transaction_id": transaction_id},
        )

    assert (await pay(first, "买家-张", "支付-0001")).status_code == 200
    reused = assert_problem(await pay(second, "买家-李", "支付-0001"), 409)
    assert first["order_id"] not in reused["detail"] and "买家-张" not in reused["detail"]
    untouched = await api.get(second["order_id"], api.buyer("买家-李"))
    assert untouched["status"] == "UNPAID" and untouched["version"] == second["version"]

    # a refused payment claims nothing: its transaction can still pay
    wrong = {**second["total"], "amount": second["total"]["amount"] - 1}
    assert_problem(await pay(second, "买家-李", "支付-0002", wrong), 422)
    assert (await pay(second, "买家-李", "支付-0002")).status_code == 200

    # two orders paid at once with one transaction: exactly one is paid
    third, fourth = await api.order(buyer="买家-王"), await api.order(buyer="买家-赵")
    racing = await asyncio.gather(
        pay(third, "买家-王", "支付-0003"), pay(fourth, "买家-赵", "支付-0003")
    )
    assert sorted(r.status_code for r in racing) == [200, 409]


async def test_the_dispatch_deadline_counts_from_creation_by_the_sellers_programme(stack) -> None:
    """Issue 17: "下单后72小时内" for a local seller, 2 days for a cross-border seller, both
    from the order's creation (not from placement, an hour and more later)."""
    api, clock, _ = stack
    r = await api.client.post("/v1/products", headers=api.seller("shop-cb"), json=PRODUCT)
    assert r.status_code == 201, r.text
    assert (
        await api.client.get("/v1/sellers/shop-cb/programme", headers=api.seller("shop-cb"))
    ).json()["programme"] == "LOCAL"
    assert_problem(
        await api.client.put(
            "/v1/sellers/shop-cb/programme",
            headers=api.seller("shop-cb"),
            json={"programme": "CROSS_BORDER"},
        ),
        403,
    )
    assert_problem(
        await api.client.put(
            "/v1/sellers/shop-cb/programme", headers=api.operator(), json={"programme": "X"}
        ),
        422,
    )
    r = await api.client.put(
        "/v1/sellers/shop-cb/programme",
        headers=api.operator(),
        json={"programme": "CROSS_BORDER"},
    )
    assert r.status_code == 200 and r.json()["programme"] == "CROSS_BORDER", r.text
    assert_problem(
        await api.client.get("/v1/sellers/shop-cb/programme", headers=api.seller("shop-1")), 404
    )
    local = await api.order()
    cross = await api.order(seller="shop-cb")
    assert cross["programme"] == "CROSS_BORDER" and local["programme"] == "LOCAL"
    clock.advance(timedelta(minutes=20))
    for order in (local, cross):
        assert (await api.pay(order)).status_code == 200
    clock.advance(timedelta(hours=1, seconds=1))
    for order, hours in ((local, 72), (cross, 48)):
        placed = await eventually(
            lambda order=order: _status(api, order["order_id"], "AWAITING_SHIPMENT"), within=20
        )
        created = datetime.fromisoformat(placed["created_at"])
        assert datetime.fromisoformat(placed["dispatch_deadline"]) == created + timedelta(
            hours=hours
        )
