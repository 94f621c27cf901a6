"""Review before listing (issue 18) over HTTP: the order service (real uvicorn, PostgreSQL and
broker) with listings in CN requiring an operator's review
(SHOPFLOW_ORDER_LISTING_REVIEW_MARKETS=CN)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import text

from services.order.app import create_order_app
from services.order.settings import OrderSettings
from shared.clock import SimulatedClock
from tests.conftest import make_settings
from tests.e2e.test_order_http import ADDRESS, Api, assert_problem

SELLER = "shop-cn"
FAN = {
    "sku": "FAN-1",
    "title": "Desk fan",
    "price": {"amount": 2599, "currency": "USD"},
    "weight_g": 900,
    "market": "CN",
}


@pytest.fixture
async def api(infra, order_db, serve_app):  # type: ignore[no-untyped-def]
    clock = SimulatedClock(start=datetime(2026, 11, 2, 9, tzinfo=UTC))
    settings = make_settings(infra, order_db)
    app = create_order_app(settings, clock, OrderSettings(listing_review_markets=["CN"]))
    running = await serve_app(app)
    api = Api(running.base_url, settings.effective_jwt_secret)
    api.runtime = running.app.state.runtime
    yield api
    await api.client.aclose()


async def order(api: Api, sku: str) -> httpx.Response:
    return await api.client.post(
        "/v1/orders",
        headers=api.buyer(),
        json={
            "seller_id": SELLER,
            "items": [{"sku": sku, "quantity": 1}],
            "shipping_address": ADDRESS,
            "payment_method": "CARD",
        },
    )


async def orders_created(api: Api) -> int:
    assert api.runtime is not None
    async with api.runtime.db.connect() as conn:
        result = await conn.execute(
            text("SELECT count(*) FROM events WHERE event_type = 'OrderCreated'")
        )
        return int(result.scalar_one())


async def review(api: Api, sku: str, headers: dict[str, str], **body: object) -> httpx.Response:
    return await api.client.post(
        f"/v1/products/{sku}/review", params={"seller_id": SELLER}, headers=headers, json=body
    )


async def test_a_listing_pending_review_is_ordered_only_once_an_operator_approved_it(
    api: Api,
) -> None:
    r = await api.client.post("/v1/products", headers=api.seller(SELLER), json=FAN)
    assert r.status_code == 201, r.text
    assert r.json()["market"] == "CN" and r.json()["review"]["status"] == "PENDING_REVIEW"

    refused = assert_problem(await order(api, "FAN-1"), 409)
    assert refused["type"].endswith("product-not-approved") and refused["sku"] == "FAN-1"
    assert "FAN-1" in refused["detail"]
    assert await orders_created(api) == 0  # nothing created

    # not in anyone else's catalogue yet; a seller cannot review, not even its own listing
    for stranger in (api.buyer(), api.seller("shop-other")):
        r = await api.client.get(
            "/v1/products/FAN-1", params={"seller_id": SELLER}, headers=stranger
        )
        assert_problem(r, 404)
    for seller in (api.seller(SELLER), api.seller("shop-other")):
        assert_problem(await review(api, "FAN-1", seller, decision="APPROVE"), 403)

    queue = await api.client.get(
        "/v1/products", params={"status": "PENDING_REVIEW"}, headers=api.operator()
    )
    assert queue.status_code == 200, queue.text
    assert [(p["seller_id"], p["sku"]) for p in queue.json()["items"]] == [(SELLER, "FAN-1")]
    assert_problem(await api.client.get("/v1/products", headers=api.seller(SELLER)), 403)

    r = await review(api, "FAN-1", api.operator(), decision="APPROVE")
    assert r.status_code == 200, r.text
    assert r.json()["review"]["status"] == "APPROVED"
    assert_problem(await review(api, "FAN-1", api.operator(), decision="APPROVE"), 409)

    r = await order(api, "FAN-1")
    assert r.status_code == 201, r.text
    assert await orders_created(api) == 1
    # the catalogue shows it now, without its review, to other parties
    for stranger in (api.buyer(), api.seller("shop-other")):
        r = await api.client.get(
            "/v1/products/FAN-1", params={"seller_id": SELLER}, headers=stranger
        )
        assert r.status_code == 200 and r.json()["review"] is None, r.text
    pending = await api.client.get(
        "/v1/products", params={"status": "PENDING_REVIEW"}, headers=api.operator()
    )
    assert pending.json()["items"] == []


async def test_a_rejected_listing_keeps_refusing_orders_and_its_seller_sees_why(
    api: Api,
) -> None:
    for sku in ("FAN-1", "FAN-2", "FAN-3"):
        r = await api.client.post(
            "/v1/products", headers=api.seller(SELLER), json={**FAN, "sku": sku}
        )
        assert r.status_code == 201, r.text
    # the queue pages (longest waiting first; these wait since the same simulated instant)
    first = await api.client.get(
        "/v1/products", params={"status": "PENDING_REVIEW", "limit": 2}, headers=api.operator()
    )
    rest = await api.client.get(
        "/v1/products",
        params={"status": "PENDING_REVIEW", "limit": 2, "cursor": first.json()["next_cursor"]},
        headers=api.operator(),
    )
    pages = [[p["sku"] for p in page.json()["items"]] for page in (first, rest)]
    assert [len(page) for page in pages] == [2, 1] and rest.json()["next_cursor"] is None
    assert sorted(pages[0] + pages[1]) == ["FAN-1", "FAN-2", "FAN-3"]

    assert_problem(await review(api, "FAN-2", api.operator(), decision="REJECT"), 422)
    r = await review(api, "FAN-2", api.operator(), decision="REJECT", reason="brand not authorised")
    assert r.status_code == 200, r.text
    for _ in range(2):
        assert_problem(await order(api, "FAN-2"), 409)
    assert await orders_created(api) == 0

    own = await api.client.get("/v1/products/FAN-2", headers=api.seller(SELLER))
    assert own.json()["review"]["status"] == "REJECTED"
    assert own.json()["review"]["reason"] == "brand not authorised"
    rejected = await api.client.get(
        "/v1/products", params={"status": "REJECTED"}, headers=api.operator()
    )
    assert [p["sku"] for p in rejected.json()["items"]] == ["FAN-2"]

    # the seller's change sends it back to review; still no orders until approved
    r = await api.client.put(
        "/v1/products/FAN-2", headers=api.seller(SELLER), json={"title": "Acme desk fan"}
    )
    assert r.json()["review"] == {
        **r.json()["review"],
        "status": "PENDING_REVIEW",
        "reason": None,
    }
    assert_problem(await order(api, "FAN-2"), 409)
