"""Tokens at a service's edge: a driver token without its provider, a token without `exp`,
or one from another issuer or for another audience answers 401 problem+json in our words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from services.pickup.app import create_pickup_app
from shared.auth import mint_for
from shared.clock import SimulatedClock
from shared.settings import Settings
from tests.conftest import make_settings

START = datetime(2026, 11, 2, 9, tzinfo=UTC)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def forged(settings: Settings, **claims: Any) -> dict[str, str]:
    """A token signed with the right secret but exactly these claims (None drops one)."""
    now = datetime.now(UTC)
    body: dict[str, Any] = {"sub": "司机-王", "iat": now, "exp": now + timedelta(hours=1)}
    body.update(claims)
    token = jwt.encode(
        {k: v for k, v in body.items() if v is not None}, settings.effective_jwt_secret
    )
    return bearer(token)


async def pickup(infra, pickup_db, serve_app, **overrides: object):  # type: ignore[no-untyped-def]
    settings = make_settings(infra, pickup_db, **overrides)
    server = await serve_app(create_pickup_app(settings, SimulatedClock(start=START)))
    return httpx.AsyncClient(base_url=server.base_url, timeout=20), settings


def refused(r: httpx.Response, detail: str) -> bool:
    return (
        r.status_code == 401
        and r.headers["content-type"] == "application/problem+json"
        and r.headers["www-authenticate"] == "Bearer"
        and r.json()["detail"] == detail
    )


async def test_a_driver_token_without_provider_does_not_list_every_providers_runs(
    infra, pickup_db, serve_app
) -> None:
    client, settings = await pickup(infra, pickup_db, serve_app)
    async with client:
        own = await client.get(
            "/v1/pickup-tasks",
            headers=bearer(mint_for(settings, sub="d1", role="driver", provider="SPX")),
        )
        assert own.status_code == 200
        unscoped = forged(settings, role="driver")
        need = "a driver token needs a provider claim"
        assert refused(await client.get("/v1/pickup-tasks", headers=unscoped), need)
        r = await client.get("/v1/pickup-tasks?provider_code=GHN", headers=unscoped)
        assert refused(r, need)


@pytest.mark.parametrize(
    ("claims", "detail"),
    [
        ({"exp": None}, "the token has no exp claim"),
        ({"iss": None}, "the token has no iss claim"),
        ({"aud": None}, "the token has no aud claim"),
        ({"iss": "https://evil.example"}, "the token was issued by someone else"),
        ({"aud": "another-api"}, "the token is meant for someone else"),
        ({"exp": START - timedelta(days=1)}, "the token has expired"),
        ({"role": "seller"}, "a seller token needs a seller_id claim"),
    ],
)
async def test_an_incomplete_or_foreign_token_is_refused_in_our_words(
    infra, pickup_db, serve_app, claims: dict[str, Any], detail: str
) -> None:
    client, settings = await pickup(
        infra, pickup_db, serve_app, jwt_issuer="https://auth.shopflow.cn", jwt_audience="shopflow"
    )
    async with client:
        ours = {"iss": "https://auth.shopflow.cn", "aud": "shopflow", "role": "operator"}
        assert (
            await client.get("/v1/pickup-tasks", headers=forged(settings, **ours))
        ).status_code == 200
        minted = bearer(mint_for(settings, sub="op", role="operator"))
        assert (await client.get("/v1/pickup-tasks", headers=minted)).status_code == 200
        r = await client.get("/v1/pickup-tasks", headers=forged(settings, **{**ours, **claims}))
        assert refused(r, detail), r.text
        garbage = await client.get(
            "/v1/pickup-tasks", headers={"Authorization": "Bearer eyJ.x!.签名".encode()}
        )
        assert refused(garbage, "the token is not one of ours or is malformed"), garbage.text
