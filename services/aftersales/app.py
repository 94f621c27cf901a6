"""Wiring of the aftersales service."""

from __future__ import annotations

from fastapi import FastAPI

from services.aftersales import api, deadlines
from services.aftersales.handlers import FULFILLMENT_REACTIONS, order_reactions
from services.aftersales.service import AftersalesService
from services.aftersales.settings import AftersalesSettings
from shared.clock import Clock
from shared.events.aftersales import SERVICE
from shared.http import create_app
from shared.runtime import ServiceRuntime
from shared.settings import Settings


def create_aftersales_app(
    settings: Settings | None = None,
    clock: Clock | None = None,
    aftersales_settings: AftersalesSettings | None = None,
) -> FastAPI:
    runtime = ServiceRuntime(SERVICE, settings or Settings(), clock)
    aftersales_service = AftersalesService(
        runtime, (aftersales_settings or AftersalesSettings()).policy()
    )
    runtime.add_consumer("orders", ["order"], order_reactions(aftersales_service))
    runtime.add_consumer("fulfillment", ["fulfillment"], FULFILLMENT_REACTIONS)
    for kind, handler in deadlines.handlers(aftersales_service.expire).items():
        runtime.on_deadline(kind, handler)
    app = create_app(
        runtime,
        [api.router],
        title="shopflow aftersales service",
        description="Refunds, returns, exchanges, logistics complaints and reviews (CONTRACT.md).",
    )
    app.state.aftersales_service = aftersales_service
    return app
