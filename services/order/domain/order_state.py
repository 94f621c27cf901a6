"""The order aggregate's state: what its decisions need (and the order view shows)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from shared.events.common import Address, LineItem
from shared.events.fulfillment import PackageStatus, Shortfall
from shared.events.order import (
    OrderCancelled,
    OrderStatus,
    Programme,
    ReviewDecision,
    ReviewFailure,
)
from shared.money import Money

# Before a package is ready to ship the order can still be cancelled or re-addressed.
PRE_SHIPMENT: frozenset[OrderStatus] = frozenset({"UNPAID", "ON_HOLD", "AWAITING_SHIPMENT"})
# Placed and not delivered yet: its status follows its packages.
FULFILLING: frozenset[OrderStatus] = frozenset(
    {"AWAITING_SHIPMENT", "PARTIALLY_SHIPPING", "AWAITING_COLLECTION", "IN_TRANSIT"}
)


@dataclass(frozen=True)
class CancellationRequest:
    """A buyer's request to cancel a placed order, which the seller answers."""

    requested_by: str
    reason_code: str
    note: str | None
    requested_at: datetime
    auto_approve_at: datetime
    status: Literal["PENDING", "REJECTED"] = "PENDING"
    rejection_reason: str | None = None


@dataclass(frozen=True)
class AwaitingStock:
    """The placed order waits for stock since `since`; cancelled at `cancel_at` if still short."""

    since: datetime
    cancel_at: datetime
    shortfalls: tuple[Shortfall, ...]


@dataclass(frozen=True)
class Order:
    status: OrderStatus | None = None
    order_id: uuid.UUID | None = None
    buyer_id: str = ""
    seller_id: str = ""
    items: tuple[LineItem, ...] = ()
    shipping_address: Address | None = None
    shipping_option: str = ""
    payment_method: str = ""
    subtotal: Money | None = None
    shipping_fee: Money | None = None
    total: Money | None = None
    created_at: datetime | None = None
    pay_by: datetime | None = None
    paid_at: datetime | None = None
    paid_amount: Money | None = None
    transaction_id: str | None = None
    remorse_until: datetime | None = None
    review_passed: bool | None = None
    review_failures: tuple[ReviewFailure, ...] = ()
    operator_decision: ReviewDecision | None = None
    placed_at: datetime | None = None
    dispatch_deadline: datetime | None = None
    deliver_by: datetime | None = None
    cancellation_request: CancellationRequest | None = None
    cancellation: OrderCancelled | None = None
    completed_at: datetime | None = None
    package_statuses: Mapping[uuid.UUID, PackageStatus] = field(default_factory=dict)
    delivered_at: datetime | None = None
    open_cases: frozenset[uuid.UUID] = frozenset()  # after-sales requests not closed yet
    refunds: Mapping[str, int] = field(default_factory=dict)  # refund key -> minor units
    refunded: Money | None = None  # the refunded total
    fully_refunded: bool = False
    extra_dispatch_hours: int = 0  # granted before placement, added to its deadline
    extensions: frozenset[uuid.UUID] = frozenset()  # the grants (switches) taken, each once
    programme: Programme = "LOCAL"  # the seller's when the order was made: its base SLA
    awaiting_stock: AwaitingStock | None = None  # placed, and its stock not reserved yet

    @property
    def open_aftersales_cases(self) -> int:
        return len(self.open_cases)

    @property
    def exists(self) -> bool:
        return self.status is not None

    @property
    def cleared_for_placement(self) -> bool:
        return self.review_passed is True or self.operator_decision == "APPROVE"


def refund_key(request_id: uuid.UUID | None) -> str:
    """A refund is recorded once per after-sales request, and once for the cancellation."""
    return str(request_id or "cancellation")
