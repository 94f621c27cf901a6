"""Every number of the order rules, with its default (set from `services.order.settings`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from services.order.domain.fees import ShippingOption
from services.order.domain.risk import RiskRules
from shared.calendar import DEFAULT_DELIVERY, DeliveryCalendars
from shared.events.order import Programme

DeadlineAnchor = Literal["created", "placed"]


@dataclass(frozen=True)
class OrderPolicy:
    unpaid_timeout: timedelta = timedelta(minutes=30)
    remorse_window: timedelta = timedelta(hours=1)
    cancellation_auto_approve: timedelta = timedelta(hours=24)
    dispatch_sla: timedelta = timedelta(hours=72)  # a LOCAL seller's
    cross_border_dispatch_sla: timedelta = timedelta(hours=48)  # a CROSS_BORDER seller's
    # (market: the shipping address's country, programme) -> the SLA there, over the above
    dispatch_sla_by_market: Mapping[tuple[str, Programme], timedelta] = field(default_factory=dict)
    dispatch_deadline_from: DeadlineAnchor = "created"  # the order's creation, or placement
    # deliver-by: working days of the destination's calendar after the dispatch deadline
    delivery: DeliveryCalendars = DEFAULT_DELIVERY
    auto_complete_after: timedelta = timedelta(days=7)
    missed_dispatch_cancel_after: timedelta = timedelta(days=5)
    stock_shortage_cancel_after: timedelta = timedelta(hours=48)  # still short: cancelled
    max_lines: int = 50
    shipping_options: Mapping[str, ShippingOption] = field(
        default_factory=lambda: {
            "STANDARD": ShippingOption(base_fee=300, per_extra_kg=100),
            "EXPRESS": ShippingOption(base_fee=800, per_extra_kg=200),
        }
    )
    risk: RiskRules = field(default_factory=RiskRules)
    # markets (country codes) where a listing waits for an operator's review (`product`)
    listing_review_markets: frozenset[str] = frozenset()

    def dispatch_sla_for(self, programme: Programme, market: str) -> timedelta:
        """The base dispatch SLA of a seller of `programme` selling into `market`."""
        override = self.dispatch_sla_by_market.get((market.upper(), programme))
        if override is not None:
            return override
        return self.cross_border_dispatch_sla if programme == "CROSS_BORDER" else self.dispatch_sla

    def dispatch_anchor(self, created_at: datetime, placed_at: datetime) -> datetime:
        """Where the dispatch SLA counts from ("下单后72小时内": the order's creation)."""
        return created_at if self.dispatch_deadline_from == "created" else placed_at
