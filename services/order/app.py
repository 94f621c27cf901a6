"""Wiring of the order service."""

from __future__ import annotations

from fastapi import FastAPI

from services.order import api, deadlines
from services.order.handlers import aftersales_reactions, fulfillment_reactions, pickup_reactions
from services.order.service import OrderService
from services.order.settings import OrderSettings
from shared.clock import Clock
from shared.http import create_app
from shared.runtime import ServiceRuntime
from shared.settings import Settings

SERVICE = "order"


def create_order_app(
    settings: Settings | None = None,
    clock: Clock | None = None,
    order_settings: OrderSettings | None = None,
) -> FastAPI:
    runtime = ServiceRuntime(SERVICE, settings or Settings(), clock)
    policy = (order_settings or OrderSettings()).policy(
        runtime.settings.effective_delivery_calendars
    )
    order_service = OrderService(runtime, policy)
    for kind, handler in deadlines.handlers(order_service.handle).items():
        runtime.on_deadline(kind, handler)
    runtime.add_consumer("fulfillment", ["fulfillment"], fulfillment_reactions(order_service))
    runtime.add_consumer("pickup", ["pickup"], pickup_reactions(order_service))
    runtime.add_consumer("aftersales", ["aftersales"], aftersales_reactions(order_service))
    app = create_app(
        runtime,
        [api.router],
        title="shopflow order service",
        description="Catalog, order intake, payment, review, cancellation (CONTRACT.md).",
    )
    app.state.order_service = order_service
    return app
