"""The request edge of every service, over real HTTP (uvicorn, the real PostgreSQL and
broker): bad input is a 4xx problem that changes nothing, never a 500."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import text
from starlette.types import Message, Receive, Scope, Send

from services.analytics.app import create_analytics_app
from services.order.app import create_order_app
from shared.auth import mint_token
from shared.clock import SimulatedClock
from shared.edge import EdgeMiddleware
from shared.runtime import ServiceRuntime
from shared.settings import Settings
from tests.conftest import make_settings

ADDRESS = {
    "recipient_name": "李雷",
    "phone": "+86 138 0000 0000",
    "line1": "人民路 1 号",
    "city": "上海",
    "postal_code": "200000",
    "country": "CN",
}


def bearer(secret: str, role: str, sub: str, **claims: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(secret, sub=sub, role=role, **claims)}


def assert_problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert {"type", "title", "status", "detail"} <= body.keys() and body["status"] == status
    return body


async def event_count(runtime: ServiceRuntime) -> int:
    async with runtime.db.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM events")))


@pytest.fixture
async def order(infra, order_db, serve_app):
    clock = SimulatedClock(start=datetime(2026, 11, 2, 9, tzinfo=UTC))
    settings = make_settings(infra, order_db)
    server = await serve_app(create_order_app(settings, clock))
    async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as client:
        yield client, settings.effective_jwt_secret, server.app.state.runtime


@pytest.fixture
async def analytics(infra, analytics_db, serve_app):
    clock = SimulatedClock(start=datetime(2026, 11, 2, 9, tzinfo=UTC))
    settings = make_settings(infra, analytics_db)
    server = await serve_app(create_analytics_app(settings, clock))
    async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as client:
        yield client, settings.effective_jwt_secret


@pytest.mark.parametrize(
    "url",
    [
        "/v1/products/T%00EE?seller_id=shop-1",
        "/v1/products/TEE-1?seller_id=shop%001",
        "/v1/products/%E8%A1%AC%E8%A1%AB%00?seller_id=%E5%BA%97%00",
    ],
)
async def test_a_nul_byte_in_a_path_or_query_parameter_is_a_400(order, url: str) -> None:
    client, secret, _ = order
    r = await client.get(url, headers=bearer(secret, "buyer", "buyer-a"))
    assert_problem(r, 400)


async def test_a_nul_byte_in_the_query_of_a_write_changes_nothing(order) -> None:
    client, secret, runtime = order
    seller = bearer(secret, "seller", "user-shop-1", seller_id="shop-1")
    before = await event_count(runtime)
    r = await client.post(
        "/v1/products?note=%E8%A1%AC%00",
        headers=seller,
        json={
            "sku": "SHIRT-1",
            "title": "衬衫",
            "price": {"amount": 100, "currency": "CNY"},
            "weight_g": 1,
        },
    )
    assert assert_problem(r, 400)["errors"][0]["field"] == "query.note"
    assert await event_count(runtime) == before


@pytest.mark.parametrize(
    "url", ["/v1/sellers/%E5%BA%97%00/metrics", "/v1/order-views?seller_id=%00"]
)
async def test_a_nul_byte_in_an_analytics_parameter_is_a_400(analytics, url: str) -> None:
    client, secret = analytics
    assert_problem(await client.get(url, headers=bearer(secret, "operator", "op-1")), 400)


async def test_an_order_line_over_the_money_cap_is_a_422_and_creates_no_order(order) -> None:
    client, secret, runtime = order
    seller = bearer(secret, "seller", "user-shop-1", seller_id="shop-1")
    product = {
        "sku": "GOLD-1KG",
        "title": "一公斤金条",
        "price": {"amount": 10**12, "currency": "CNY"},
        "weight_g": 1000,
    }
    assert (await client.post("/v1/products", headers=seller, json=product)).status_code == 201
    before = await event_count(runtime)
    r = await client.post(
        "/v1/orders",
        headers=bearer(secret, "buyer", "buyer-a"),
        json={
            "seller_id": "shop-1",
            "items": [{"sku": "GOLD-1KG", "quantity": 2}],
            "shipping_address": ADDRESS,
            "payment_method": "CARD",
        },
    )
    assert_problem(r, 422)
    assert await event_count(runtime) == before


@pytest.mark.parametrize(
    "query",
    [
        "to=9999-12-31T23:59:59Z",
        "from=9999-12-31T00:00:00Z&to=9999-12-31T23:59:59Z",
        "from=9999-12-31T00:00:00Z&to=9999-12-31T23:59:59-05:00",
        "to=0001-01-02T00:00:00Z",
        "from=0001-01-01T00:00:00%2B05:00&to=2026-01-01T00:00:00Z&granularity=total",
        "to=0000-01-01T00:00:00Z",
        "to=99999-01-01T00:00:00Z",
    ],
)
async def test_a_metrics_period_out_of_range_is_a_422(analytics, query: str) -> None:
    client, secret = analytics
    r = await client.get(
        f"/v1/sellers/shop-1/metrics?{query}", headers=bearer(secret, "operator", "op-1")
    )
    assert_problem(r, 422)


# --- the body's size and the bearer token, before the body is read -------------------------


@pytest.fixture
async def small_limit(infra, order_db, serve_app):
    """The order service with a 1000-byte body limit."""
    clock = SimulatedClock(start=datetime(2026, 11, 2, 9, tzinfo=UTC))
    settings = make_settings(infra, order_db, max_body_bytes=1000)
    server = await serve_app(create_order_app(settings, clock))
    async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as client:
        yield client, settings.effective_jwt_secret, server.app.state.runtime


def product(title: str) -> dict:
    return {
        "sku": "TEA-1",
        "title": title,
        "price": {"amount": 100, "currency": "CNY"},
        "weight_g": 1,
    }


async def test_a_body_over_the_limit_is_a_413_by_its_content_length(small_limit) -> None:
    client, secret, runtime = small_limit
    seller = bearer(secret, "seller", "user-shop-1", seller_id="shop-1")
    r = await client.post("/v1/products", headers=seller, json=product("龙井" * 600))
    assert_problem(r, 413)
    assert await event_count(runtime) == 0
    ok = await client.post("/v1/products", headers=seller, json=product("龙井"))
    assert ok.status_code == 201, ok.text


async def test_a_streamed_body_over_the_limit_is_a_413(small_limit) -> None:
    """Chunked: no Content-Length, the chunks are counted."""
    client, secret, runtime = small_limit
    seller = bearer(secret, "seller", "user-shop-1", seller_id="shop-1")
    body = json.dumps(product("碧螺春" * 300)).encode()

    async def chunks():  # type: ignore[no-untyped-def]
        for i in range(0, len(body), 256):
            yield body[i : i + 256]

    r = await client.post(
        "/v1/products", headers={**seller, "content-type": "application/json"}, content=chunks()
    )
    assert "content-length" not in r.request.headers
    assert_problem(r, 413)
    assert await event_count(runtime) == 0


async def test_an_unauthenticated_large_post_is_a_401(small_limit) -> None:
    client, _, _ = small_limit
    r = await client.post("/v1/products", json=product("龙井" * 600))
    assert assert_problem(r, 401) and r.headers["www-authenticate"] == "Bearer"
    bad = {
        "Authorization": "Bearer "
        + mint_token("another-secret-0123456789abcdef01", sub="x", role="seller", seller_id="x")
    }
    assert_problem(await client.post("/v1/products", headers=bad, json=product("龙井" * 600)), 401)


async def test_public_paths_need_no_token(order) -> None:
    """Probes and the API's description pass the edge without a token (`/metrics` passes the
    edge too; its own route asks for an operator by default: tests/integration/
    test_metrics_access.py)."""
    client, _, _ = order
    for path in ("/healthz", "/readyz", "/openapi.json", "/docs"):
        assert (await client.get(path)).status_code == 200, path
    metrics = await client.get("/metrics")
    assert metrics.status_code == 401 and "invalid-characters" not in metrics.text


async def test_the_token_is_checked_before_the_body_is_read() -> None:
    """Driven as ASGI: the 401 is sent and the body never received."""
    received: list[Message] = []
    sent: list[Message] = []
    app_ran = False

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal app_ran
        app_ran = True

    async def receive() -> Message:
        received.append({"type": "http.request", "body": b"x" * 1000, "more_body": True})
        return received[-1]

    async def send(message: Message) -> None:
        sent.append(message)

    edge = EdgeMiddleware(app, Settings(environment="test"))
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/orders",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
    }
    await edge(scope, receive, send)
    assert sent[0]["status"] == 401 and not received and not app_ran


async def test_the_dashboard_page_and_carrier_webhook_are_public_at_the_edge() -> None:
    """Their routes authenticate (?token=, a signature): the edge lets them through."""
    ran: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        ran.append(scope["path"])

    async def receive() -> Message:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: Message) -> None:
        raise AssertionError(f"the edge answered {message}")

    edge = EdgeMiddleware(app, Settings(environment="test"), public=["/v1/carrier-events"])
    for method, path in [("GET", "/dashboard/sellers/shop-1"), ("POST", "/v1/carrier-events")]:
        scope = {"type": "http", "method": method, "path": path, "query_string": b"", "headers": []}
        await edge(scope, receive, send)
    assert ran == ["/dashboard/sellers/shop-1", "/v1/carrier-events"]


# --- the rate limit -------------------------------------------------------------------------


async def test_writes_over_the_rate_are_a_429_with_retry_after(infra, order_db, serve_app) -> None:
    clock = SimulatedClock(start=datetime(2026, 11, 2, 9, tzinfo=UTC))
    settings = make_settings(infra, order_db, rate_limit_per_s=0.01, rate_limit_burst=2)
    server = await serve_app(create_order_app(settings, clock))
    secret = settings.effective_jwt_secret
    async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as client:
        shop1 = bearer(secret, "seller", "user-shop-1", seller_id="shop-1")
        shop2 = bearer(secret, "seller", "user-shop-1", seller_id="shop-2")  # same sub
        for sku in ("A-1", "A-2"):
            r = await client.post("/v1/products", headers=shop1, json={**product("茶"), "sku": sku})
            assert r.status_code == 201, r.text
        limited = await client.post("/v1/products", headers=shop1, json=product("茶"))
        assert_problem(limited, 429)
        assert int(limited.headers["retry-after"]) >= 1
        assert (
            await client.get("/v1/products/A-1?seller_id=shop-1", headers=shop1)
        ).status_code == 200
        other = await client.post("/v1/products", headers=shop2, json=product("茶"))
        assert other.status_code == 201, other.text
        assert await event_count(server.app.state.runtime) == 3
