"""The state of an order's after-sales ledger: what the rules need of the order as this service
heard of it (items, shipping fee, paid, shipped, delivered, cancelled), what was refunded, the
order's after-sales requests (`Case`, one per request) and its review. `ledger.evolve` builds it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from shared.events.aftersales import OrderedItem, RequestedItem, RequestStatus
from shared.money import Money

# A request still under way: it promises its refund and claims its units.
OPEN: frozenset[RequestStatus] = frozenset(
    {"REQUESTED", "APPROVED", "ESCALATED", "RETURN_IN_TRANSIT", "RETURN_RECEIVED"}
)
# Statuses whose units are not claimed: the buyer may ask for them again.
UNCLAIMED: frozenset[RequestStatus] = frozenset({"REJECTED", "CLOSED"})


@dataclass(frozen=True)
class Case:
    """One after-sales request on the order."""

    request_id: uuid.UUID
    type: str  # a RequestType
    items: tuple[RequestedItem, ...]
    reason_code: str  # a ReasonCode
    description: str | None
    evidence_urls: tuple[str, ...]
    requested_at: datetime
    answer_due: datetime
    refund_amount: Money
    status: RequestStatus = "REQUESTED"
    updated_at: datetime | None = None
    approved_auto: bool | None = None
    rejection_reason: str | None = None
    escalated: bool = False
    return_carrier: str | None = None
    return_tracking_number: str | None = None
    condition: str | None = None  # a Condition, once the return was received
    refunded: Money | None = None
    outcome: str | None = None  # a RequestOutcome, once closed

    @property
    def returned(self) -> bool:
        return self.condition is not None


@dataclass(frozen=True)
class Review:
    rating: int  # the overall (product) rating
    text: str | None
    at: datetime
    seller_service_rating: int | None = None
    logistics_rating: int | None = None
    photos: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ledger:
    order_id: uuid.UUID | None = None
    buyer_id: str = ""
    seller_id: str = ""
    items: Mapping[str, OrderedItem] = field(default_factory=dict)  # by SKU
    shipping_fee: Money | None = None
    paid: Money | None = None
    shipped: bool = False
    delivered_at: datetime | None = None
    cancelled: bool = False
    refunded: int = 0  # minor units, in the paid currency
    cases: Mapping[uuid.UUID, Case] = field(default_factory=dict)  # by request id
    review: Review | None = None

    def claimed(self, sku: str, besides: uuid.UUID | None = None) -> int:
        """Units of the SKU in requests that still claim them (not rejected or closed
        without a refund), leaving out the request `besides`."""
        return sum(
            i.quantity
            for c in self.cases.values()
            if c.request_id != besides and c.status not in UNCLAIMED
            for i in c.items
            if i.sku == sku
        )
