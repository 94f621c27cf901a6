"""/metrics shows business volumes: by default only to an operator's token on the service's
port; in `port` mode without a token on a port of its own, bound to the configured host, and
not on the service's port."""

from __future__ import annotations

import httpx
import pytest

from services.analytics.app import create_analytics_app
from shared.auth import mint_token
from shared.embedded import free_port
from tests.conftest import make_settings


def bearer(settings, role: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    shop = "shop-1" if role == "seller" else None  # a seller's token names its shop
    token = mint_token(settings.effective_jwt_secret, sub=f"{role}-1", role=role, seller_id=shop)
    return {"Authorization": f"Bearer {token}"}


async def test_by_default_metrics_are_for_operators_only(infra, analytics_db, serve_app) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(infra, analytics_db)
    assert settings.metrics_access == "operator"
    server = await serve_app(create_analytics_app(settings))
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers=bearer(settings, "seller"))).status_code == 403
        shown = await client.get("/metrics", headers=bearer(settings, "operator"))
    assert shown.status_code == 200 and "shopflow_http_requests_total" in shown.text


async def test_in_port_mode_metrics_are_on_their_own_port_only(
    infra, analytics_db, serve_app, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    monkeypatch.setenv("SHOPFLOW_ANALYTICS_METRICS_PORT", str(port))
    settings = make_settings(infra, analytics_db, metrics_access="port", host="127.0.0.1")
    server = await serve_app(create_analytics_app(settings))
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        on_service_port = await client.get("/metrics", headers=bearer(settings, "operator"))
        await client.get("/healthz")
        on_own_port = await client.get(f"http://127.0.0.1:{port}/metrics")
    assert on_service_port.status_code == 404
    assert on_own_port.status_code == 200 and "shopflow_http_requests_total" in on_own_port.text
    await server.stop()
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):  # stopped with the service
            await client.get(f"http://127.0.0.1:{port}/metrics")
