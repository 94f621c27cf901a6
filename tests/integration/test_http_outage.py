"""A request that meets a database outage is a 503 problem to retry, never a 500; the same
request with the same Idempotency-Key succeeds once the database answers again."""

from __future__ import annotations

import httpx

from services.order.app import create_order_app
from shared.auth import mint_token
from shared.clock import SimulatedClock
from tests.conftest import Infra, make_settings
from tests.pg_proxy import PgProxy


async def test_a_database_outage_answers_503_and_the_retry_succeeds(
    infra: Infra, order_db: str, serve_app
) -> None:
    proxy = PgProxy(infra.server_url)
    await proxy.restore()
    settings = make_settings(infra, proxy.url(order_db))
    server = await serve_app(create_order_app(settings, SimulatedClock()))
    token = mint_token(settings.effective_jwt_secret, sub="u-1", role="seller", seller_id="s-1")
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "product-1"}
    product = {
        "sku": "TEA-1",
        "title": "龙井茶 250g",
        "price": {"amount": 4800, "currency": "CNY"},
        "weight_g": 300,
    }
    async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as client:
        try:
            await proxy.cut()
            down = await client.post("/v1/products", headers=headers, json=product)
            assert down.status_code == 503, down.text
            assert down.headers["content-type"] == "application/problem+json"
            assert down.headers["retry-after"] == "1"
            assert down.json()["title"] == "Service unavailable"
            assert "Traceback" not in down.text and "asyncpg" not in down.text

            await proxy.restore()
            up = await client.post("/v1/products", headers=headers, json=product)
            assert up.status_code == 201, up.text
            again = await client.post("/v1/products", headers=headers, json=product)
            assert again.status_code == 201 and again.json() == up.json()
        finally:
            await proxy.cut()
