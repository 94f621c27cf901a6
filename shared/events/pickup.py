"""Events of the pickup service (topic shopflow.pickup.events) that other services use.

The pickup service itself arrives with issue 4; the models its consumers rely on are
defined here first so the contract is fixed.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from shared.events import EventPayload, register

SERVICE = "pickup"


@register("DispatchDeadlineExtended", service=SERVICE)
class DispatchDeadlineExtended(EventPayload):
    """An order created around a provider switch gets more time to dispatch."""

    order_id: uuid.UUID
    seller_id: str
    extended_by_hours: int
    reason: str
    extended_at: datetime
