"""Thin routes of the sellers' webhooks: register, list, read and delete endpoints; read an
endpoint's delivery log and replay a delivery. A seller touches only its own endpoints (404
for anyone else's); an operator registers and reads them for any seller."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from services.analytics.webhooks import deliveries, endpoints
from services.analytics.webhooks.rules import Kind, RefusedUrl
from services.analytics.webhooks.sender import checked_target
from services.analytics.webhooks.settings import WebhookSettings
from shared.aggregate import InvalidCommand
from shared.auth import Principal, require
from shared.models import Body
from shared.pagination import MAX_LIMIT
from shared.runtime import ServiceRuntime

router = APIRouter(prefix="/v1", tags=["webhooks"])


class WebhookIn(Body):
    url: str = Field(
        min_length=1,
        max_length=2000,
        description="an https URL whose host resolves to public addresses only (http and "
        "private addresses are allowed in development)",
    )
    events: list[Kind] = Field(min_length=1, max_length=10, description="the kinds to receive")
    seller_id: str | None = Field(
        None,
        max_length=100,
        description="whose orders (an operator's registration); a seller's own by default",
    )
    description: str | None = Field(None, max_length=500)


def _runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


def _settings(request: Request) -> WebhookSettings:
    settings: WebhookSettings = request.app.state.webhook_settings
    return settings


@router.post("/webhooks", status_code=201)
async def register_webhook(
    body: WebhookIn, request: Request, caller: Principal = require("seller", "operator")
) -> dict[str, Any]:
    """Register an endpoint for kinds of the seller's order events. The answer holds the
    signing `secret`, shown this once: deliveries carry `X-Shopflow-Signature: sha256=<hex
    HMAC-SHA256 of "<X-Shopflow-Timestamp>.<raw body>">` with it."""
    seller_id = caller.sellers_reach(body.seller_id)
    if seller_id is None:
        raise InvalidCommand(
            "seller-required",
            "an operator names the seller the webhook is for",
            errors=[{"field": "seller_id", "message": "required for an operator"}],
        )
    runtime = _runtime(request)
    try:
        await checked_target(body.url, development=runtime.settings.is_development)
    except RefusedUrl as exc:
        raise InvalidCommand(
            "webhook-url-refused", str(exc), errors=[{"field": "url", "message": str(exc)}]
        ) from None
    async with runtime.db.transaction() as conn:
        return await endpoints.register(
            conn,
            seller_id=seller_id,
            url=body.url,
            kinds=list(body.events),
            description=body.description,
            created_by=caller.sub,
            now=runtime.now(),
            max_per_seller=_settings(request).max_endpoints_per_seller,
        )


@router.get("/webhooks")
async def list_webhooks(
    request: Request,
    seller_id: str | None = Query(None, max_length=100),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    cursor: str | None = Query(None, max_length=500),
    caller: Principal = require("seller", "operator"),
) -> dict[str, Any]:
    """A seller's own endpoints (operators: anyone's), oldest first; never their secrets."""
    async with _runtime(request).db.connect() as conn:
        items, next_cursor = await endpoints.page(
            conn, caller.sellers_reach(seller_id), limit, cursor
        )
    return {"items": items, "next_cursor": next_cursor}


@router.get("/webhooks/{webhook_id}")
async def get_webhook(
    webhook_id: uuid.UUID, request: Request, caller: Principal = require("seller", "operator")
) -> dict[str, Any]:
    async with _runtime(request).db.connect() as conn:
        return await endpoints.get(conn, webhook_id, caller.sellers_reach(None))


@router.delete("/webhooks/{webhook_id}", status_code=204)
async def delete_webhook(
    webhook_id: uuid.UUID, request: Request, caller: Principal = require("seller", "operator")
) -> Response:
    """No more deliveries to the endpoint; its pending ones are dropped with it."""
    runtime = _runtime(request)
    async with runtime.db.transaction() as conn:
        await endpoints.delete(conn, webhook_id, caller.sellers_reach(None), runtime.now())
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/deliveries")
async def list_deliveries(
    webhook_id: uuid.UUID,
    request: Request,
    status: Literal["PENDING", "DELIVERED", "FAILED"] | None = None,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    cursor: str | None = Query(None, max_length=500),
    caller: Principal = require("seller", "operator"),
) -> dict[str, Any]:
    """The endpoint's delivery log, oldest first: each delivery's event, body, status and
    attempts (time, answer status or error)."""
    async with _runtime(request).db.connect() as conn:
        await endpoints.get(conn, webhook_id, caller.sellers_reach(None))
        items, next_cursor = await deliveries.page(conn, webhook_id, status, limit, cursor)
    return {"items": items, "next_cursor": next_cursor}


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/replay", status_code=202)
async def replay_delivery(
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
    request: Request,
    caller: Principal = require("seller", "operator"),
) -> dict[str, Any]:
    """Send a delivery's event again (the same event id and body, a new delivery id), after
    the pending deliveries of its order."""
    runtime = _runtime(request)
    async with runtime.db.transaction() as conn:
        await endpoints.get(conn, webhook_id, caller.sellers_reach(None))
        return await deliveries.replay(conn, webhook_id, delivery_id, runtime.now())
