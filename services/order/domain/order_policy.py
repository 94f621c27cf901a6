"""Every number of the order rules, with its default (set from `services.order.settings`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from services.order.domain.fees import ShippingOption
from services.order.domain.risk import RiskRules
from shared.calendar import DEFAULT_DELIVERY, DeliveryCalendars


@dataclass(frozen=True)
class OrderPolicy:
    unpaid_timeout: timedelta = timedelta(minutes=30)
    remorse_window: timedelta = timedelta(hours=1)
    cancellation_auto_approve: timedelta = timedelta(hours=24)
    dispatch_sla: timedelta = timedelta(hours=72)
    # deliver-by: working days of the destination's calendar after the dispatch deadline
    delivery: DeliveryCalendars = DEFAULT_DELIVERY
    auto_complete_after: timedelta = timedelta(days=7)
    missed_dispatch_cancel_after: timedelta = timedelta(days=5)
    max_lines: int = 50
    shipping_options: Mapping[str, ShippingOption] = field(
        default_factory=lambda: {
            "STANDARD": ShippingOption(base_fee=300, per_extra_kg=100),
            "EXPRESS": ShippingOption(base_fee=800, per_extra_kg=200),
        }
    )
    risk: RiskRules = field(default_factory=RiskRules)
