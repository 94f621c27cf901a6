"""Wiring of the webhooks into the analytics service: their consumer group, their sender and
their routes."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter

from services.analytics.webhooks import api, handlers
from services.analytics.webhooks.sender import Sender
from services.analytics.webhooks.settings import WebhookSettings
from shared.runtime import ServiceRuntime

SOURCES = ["order", "fulfillment", "aftersales"]


@dataclass(frozen=True)
class Webhooks:
    router: APIRouter
    settings: WebhookSettings
    sender: Sender


def install(runtime: ServiceRuntime, settings: WebhookSettings | None = None) -> Webhooks:
    """Add the webhooks' consumer group and sender to the runtime (the app puts `settings`
    in its state as `webhook_settings`)."""
    webhook_settings = settings or WebhookSettings()
    runtime.add_consumer("webhooks", SOURCES, handlers.reactions())
    sender = Sender(runtime, webhook_settings)
    runtime.add_loop("webhook-sender", sender.run)
    return Webhooks(api.router, webhook_settings, sender)
