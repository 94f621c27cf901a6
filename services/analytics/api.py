"""Thin routes of the analytics service: order views, seller metrics and projection
operations (the seller dashboard, `dashboard.py`, serves the same reads to its session)."""

from __future__ import annotations

import uuid
from datetime import UTC, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Query, Request

from services.analytics import read_model
from services.analytics.domain.metrics import DEFINITIONS, THRESHOLDS
from services.analytics.service import AnalyticsService
from shared.aggregate import NotFound
from shared.auth import Principal, require
from shared.events.order import OrderStatus
from shared.models import Timestamp
from shared.pagination import MAX_LIMIT
from shared.problems import Problem

router = APIRouter(prefix="/v1", tags=["analytics"])
MAX_DAYS = 366


def service(request: Request) -> AnalyticsService:
    svc: AnalyticsService = request.app.state.analytics_service
    return svc


@router.get("/order-views/{order_id}")
async def order_view(
    order_id: uuid.UUID,
    request: Request,
    caller: Principal = require("buyer", "seller", "operator"),
) -> dict[str, Any]:
    """The order as every service saw it: status, items, amounts, SLA dates, packages (status,
    handover, carrier, tracking number and history, documents, pickup), after-sales cases,
    refunds, review, and a `timeline` of every event with a short summary. `held` counts
    events received before an earlier one of the same stream (applied once it arrives)."""
    async with service(request).runtime.db.connect() as conn:
        doc = await read_model.order_view(conn, order_id)
    visible = doc is not None and (
        caller.is_operator
        or (caller.role == "buyer" and doc["buyer_id"] == caller.sub)
        or (caller.role == "seller" and doc["seller_id"] == caller.seller_id)
    )
    if doc is None or not visible:
        raise NotFound("order-not-found", "no view of this order (yet)")
    return doc


@router.get("/order-views")
async def order_views(
    request: Request,
    seller_id: str | None = Query(None, max_length=100),
    status: OrderStatus | None = None,
    created_from: Timestamp | None = None,
    created_to: Timestamp | None = None,
    needs_action: bool = Query(
        False,
        description="only orders awaiting shipment within 24 h of their dispatch deadline (or "
        "past it), with an overdue pickup, or with an open after-sales case",
    ),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    cursor: str | None = Query(None, max_length=500),
    caller: Principal = require("seller", "operator"),
) -> dict[str, Any]:
    """A seller's own orders (operators: anyone's), oldest first, paginated."""
    svc = service(request)
    soon = svc.runtime.now() + timedelta(hours=24) if needs_action else None
    async with svc.runtime.db.connect() as conn:
        items, next_cursor = await read_model.order_views(
            conn,
            caller.sellers_reach(seller_id),
            status,
            created_from,
            created_to,
            soon,
            limit,
            cursor,
        )
    return {"items": items, "next_cursor": next_cursor}


METRICS_DOC = "The seller's metrics (DOMAIN.md section 5), exact, from the events:\n\n" + "\n".join(
    f"- `{name}`: {text}" for name, text in DEFINITIONS.items()
)


@router.get("/sellers/{seller_id}/metrics", description=METRICS_DOC)
async def seller_metrics(
    seller_id: str,
    request: Request,
    from_: Timestamp | None = Query(None, alias="from", description="default: `to` - 30 days"),
    to: Timestamp | None = Query(
        None, description="exclusive; default: the end of today (UTC), so days are whole"
    ),
    granularity: Literal["day", "total"] = "day",
    caller: Principal = require("seller", "operator"),
) -> dict[str, Any]:
    svc = service(request)
    seller = caller.sellers_reach(seller_id)
    assert seller is not None
    today = svc.runtime.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    end = to or today + timedelta(days=1)
    start = from_ or end - timedelta(days=30)
    if start >= end:
        raise Problem(422, "Validation failed", "`from` must be before `to`", code="bad-period")
    if granularity == "day" and end - start > timedelta(days=MAX_DAYS):
        raise Problem(
            422,
            "Validation failed",
            f"at most {MAX_DAYS} days per day-by-day request; ask for granularity=total",
            code="bad-period",
        )
    result = await svc.metrics(seller, start, end, granularity)
    return {**result, "definitions": DEFINITIONS, "thresholds": _thresholds()}


@router.get("/carrier-ratings")
async def carrier_ratings(
    request: Request,
    from_: Timestamp | None = Query(None, alias="from", description="default: `to` - 30 days"),
    to: Timestamp | None = Query(None, description="exclusive; default: now"),
    _: Principal = require("operator"),
) -> dict[str, Any]:
    """Per carrier, the buyers' logistics ratings of reviews posted in [from, to): `count`,
    `sum` and `average` stars, exact, from the events. A review counts for each carrier that
    carried one of the order's own packages."""
    svc = service(request)
    end = to or svc.runtime.now()
    start = from_ or end - timedelta(days=30)
    if start >= end:
        raise Problem(422, "Validation failed", "`from` must be before `to`", code="bad-period")
    carriers = await svc.carrier_ratings(start, end)
    return {"from": start.isoformat(), "to": end.isoformat(), "carriers": carriers}


def _thresholds() -> dict[str, dict[str, Any]]:
    return {name: {"op": op, "value": value} for name, (op, value) in THRESHOLDS.items()}


@router.get("/projections/status")
async def projection_status(request: Request, _: Principal = require("operator")) -> dict[str, Any]:
    """Position and lag per partition, events applied and received, events held for a gap,
    dead letters, and the generations (a rebuild builds one beside the active one)."""
    return await service(request).status()


@router.post("/projections/rebuild", status_code=202)
async def rebuild(request: Request, _: Principal = require("operator")) -> dict[str, Any]:
    """Rebuild from the topics' beginning into a new generation while the active one keeps
    answering; switch when complete. Follow it in /v1/projections/status."""
    return await service(request).start_rebuild()


@router.get("/projections/digest")
async def digest(request: Request, _: Principal = require("operator")) -> dict[str, Any]:
    """A SHA-256 over the active generation's views and facts: equal before and after a
    rebuild when nothing changed."""
    return await service(request).digest()
