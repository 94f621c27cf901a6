"""Events of the sellers' webhooks (analytics service, topic shopflow.analytics.events)."""

from __future__ import annotations

import uuid
from datetime import datetime

from shared.events import EventPayload, register

SERVICE = "analytics"
WEBHOOK_ENDPOINT_STREAM = "webhook-endpoint"  # webhook-endpoint/<webhook id>


@register("WebhookEndpointDisabled", service=SERVICE)
class WebhookEndpointDisabled(EventPayload):
    """A seller's webhook endpoint kept failing and gets no more deliveries until it is
    registered again (the mailer tells the seller)."""

    webhook_id: uuid.UUID
    seller_id: str
    url: str
    reason: str
    disabled_at: datetime
