"""Wiring of the pickup service."""

from __future__ import annotations

from fastapi import FastAPI

from services.pickup import api, deadlines
from services.pickup.handlers import fulfillment_reactions, order_reactions
from services.pickup.service import PickupService
from services.pickup.settings import PickupSettings
from shared.clock import Clock
from shared.http import create_app
from shared.runtime import ServiceRuntime
from shared.settings import Settings

SERVICE = "pickup"


def create_pickup_app(
    settings: Settings | None = None,
    clock: Clock | None = None,
    pickup_settings: PickupSettings | None = None,
) -> FastAPI:
    runtime = ServiceRuntime(SERVICE, settings or Settings(), clock)
    pickup_settings = pickup_settings or PickupSettings()
    pickup_service = PickupService(runtime, pickup_settings)
    runtime.add_consumer("fulfillment", ["fulfillment"], fulfillment_reactions(pickup_service))
    runtime.add_consumer("orders", ["order"], order_reactions(pickup_service))
    for kind, handler in deadlines.handlers(pickup_service).items():
        runtime.on_deadline(kind, handler)
    if pickup_settings.seed_default_providers:
        runtime.startup.append(pickup_service.seed_default_providers)
    app = create_app(
        runtime,
        [api.router],
        title="shopflow pickup service",
        description="First-mile pickup: providers, coverage, subscriptions (more to come).",
    )
    app.state.pickup_service = pickup_service
    return app
