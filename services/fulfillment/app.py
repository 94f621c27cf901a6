"""Wiring of the fulfillment service."""

from __future__ import annotations

from fastapi import FastAPI

from services.fulfillment import api, deadlines
from services.fulfillment.handlers import aftersales_reactions, order_reactions, pickup_reactions
from services.fulfillment.service import FulfillmentService
from services.fulfillment.settings import FulfillmentSettings
from shared.clock import Clock
from shared.http import create_app
from shared.runtime import ServiceRuntime
from shared.settings import Settings

SERVICE = "fulfillment"


def create_fulfillment_app(
    settings: Settings | None = None,
    clock: Clock | None = None,
    fulfillment_settings: FulfillmentSettings | None = None,
) -> FastAPI:
    runtime = ServiceRuntime(SERVICE, settings or Settings(), clock)
    own_settings = fulfillment_settings or FulfillmentSettings()
    fulfillment_service = FulfillmentService(
        runtime,
        own_settings.default_pickup(),
        own_settings.logistics(),
        own_settings.replacement_dispatch_within,
    )
    runtime.add_consumer("orders", ["order"], order_reactions(fulfillment_service))
    runtime.add_consumer("pickup", ["pickup"], pickup_reactions(fulfillment_service))
    runtime.add_consumer("aftersales", ["aftersales"], aftersales_reactions(fulfillment_service))
    for kind, handler in deadlines.handlers(fulfillment_service.mark_overdue).items():
        runtime.on_deadline(kind, handler)
    app = create_app(
        runtime,
        [api.router],
        title="shopflow fulfillment service",
        description="Warehouses, stock, packages, split and combine, labels, shipping, tracking.",
        public_paths=[api.CARRIER_EVENTS],  # signed: the route checks the signature
    )
    app.state.fulfillment_service = fulfillment_service
    return app
