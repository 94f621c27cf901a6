"""Events of the aftersales service (topic shopflow.aftersales.events)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, get_args

from pydantic import ConfigDict, Field

from shared.events import EventPayload, register
from shared.models import Model
from shared.money import Money

SERVICE = "aftersales"
AFTERSALES_STREAM = "aftersales"  # aftersales/<order id>: an order's after-sales ledger
COMPLAINT_STREAM = "complaint"
RETURN_POLICY_STREAM = "return-policy"  # return-policy/<seller id>: a seller's return policy

# The after-sales vocabulary (requests, schemas and the analytics views use these).
# REPAIR: where the seller's return policy offers it; the item comes back, is repaired and
# shipped back (like an exchange, nothing is refunded).
RequestType = Literal["REFUND_ONLY", "RETURN_AND_REFUND", "EXCHANGE", "REPAIR"]
REQUEST_TYPES: tuple[RequestType, ...] = get_args(RequestType)
NO_REFUND_TYPES: frozenset[RequestType] = frozenset({"EXCHANGE", "REPAIR"})  # goods, not money
ReasonCode = Literal[
    "QUALITY_PROBLEM",
    "DAMAGED",
    "WRONG_ITEM",
    "NOT_AS_DESCRIBED",
    "MISSING_PARTS",
    "NOT_RECEIVED",
    "NO_LONGER_NEEDED",
]
REASON_CODES: tuple[ReasonCode, ...] = get_args(ReasonCode)
# The buyer's own reasons: a change of mind (a seller's return policy may refuse them).
BUYER_REASONS: frozenset[ReasonCode] = frozenset({"NO_LONGER_NEEDED"})
Condition = Literal["AS_EXPECTED", "DAMAGED", "WRONG_ITEM", "MISSING"]
CONDITIONS: tuple[Condition, ...] = get_args(Condition)
ComplaintType = Literal["DELAY", "LOSS", "DAMAGE"]
COMPLAINT_TYPES: tuple[ComplaintType, ...] = get_args(ComplaintType)
# Where a request stands (the requests' `status`; CLOSED: ended without a refund, exchange or
# repair).
RequestStatus = Literal[
    "REQUESTED",
    "APPROVED",
    "REJECTED",
    "ESCALATED",
    "RETURN_IN_TRANSIT",
    "RETURN_RECEIVED",
    "REFUNDED",
    "EXCHANGED",
    "REPAIRED",
    "CLOSED",
]
REQUEST_STATUSES: tuple[RequestStatus, ...] = get_args(RequestStatus)
# How a request ended (AftersalesClosed.outcome).
RequestOutcome = Literal[
    "REFUNDED", "EXCHANGED", "REPAIRED", "REJECTED", "RETURN_NOT_SHIPPED", "ORDER_CANCELLED"
]
REQUEST_OUTCOMES: tuple[RequestOutcome, ...] = get_args(RequestOutcome)
# What this service follows of an order's way (AftersalesOrderProgressed.progress).
OrderProgress = Literal["PAID", "SHIPPED", "DELIVERED", "CANCELLED"]
ORDER_PROGRESS: tuple[OrderProgress, ...] = get_args(OrderProgress)
ComplaintStatus = Literal["OPEN", "RESOLVED"]
COMPLAINT_STATUSES: tuple[ComplaintStatus, ...] = get_args(ComplaintStatus)


class OrderedItem(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")
    sku: str
    quantity: int = Field(gt=0)
    unit_price: Money


class RequestedItem(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")
    sku: str
    quantity: int = Field(gt=0)


@register("AftersalesOrderRecorded", service=SERVICE)
class AftersalesOrderRecorded(EventPayload):
    """What this service needs of an order, from the order service's events."""

    order_id: uuid.UUID
    buyer_id: str
    seller_id: str
    items: list[OrderedItem]
    shipping_fee: Money
    total: Money


@register("AftersalesOrderProgressed", service=SERVICE)
class AftersalesOrderProgressed(EventPayload):
    order_id: uuid.UUID
    progress: str  # PAID, SHIPPED, DELIVERED, CANCELLED
    at: datetime
    paid: Money | None = None


@register("AftersalesRequested", service=SERVICE)
class AftersalesRequested(EventPayload):
    order_id: uuid.UUID
    request_id: uuid.UUID
    buyer_id: str
    type: str  # REFUND_ONLY, RETURN_AND_REFUND, EXCHANGE, REPAIR
    items: list[RequestedItem]
    reason_code: str
    description: str | None = None
    evidence_urls: list[str] = Field(default_factory=list)
    requested_at: datetime
    answer_due: datetime
    refund_amount: Money


@register("AftersalesApproved", service=SERVICE)
class AftersalesApproved(EventPayload):
    order_id: uuid.UUID
    request_id: uuid.UUID
    auto: bool
    by: str
    at: datetime


@register("AftersalesRejected", service=SERVICE)
class AftersalesRejected(EventPayload):
    order_id: uuid.UUID
    request_id: uuid.UUID
    reason: str
    by: str
    at: datetime


@register("AftersalesEscalated", service=SERVICE)
class AftersalesEscalated(EventPayload):
    order_id: uuid.UUID
    request_id: uuid.UUID
    at: datetime


@register("ReturnShipped", service=SERVICE)
class ReturnShipped(EventPayload):
    order_id: uuid.UUID
    request_id: uuid.UUID
    carrier: str
    tracking_number: str
    at: datetime


@register("ReturnReceived", service=SERVICE)
class ReturnReceived(EventPayload):
    """The seller's inspection of the returned goods; `auto` when the seller did not record
    receipt in time and the return counts as received as expected."""

    order_id: uuid.UUID
    request_id: uuid.UUID
    condition: str  # AS_EXPECTED, DAMAGED, WRONG_ITEM, MISSING
    at: datetime
    auto: bool = False


@register("RefundIssued", service=SERVICE)
class RefundIssued(EventPayload):
    """Money back to the buyer: for an after-sales request, or for a cancelled paid order
    (`request_id` None). Never more, in sum, than what was paid."""

    order_id: uuid.UUID
    request_id: uuid.UUID | None
    amount: Money
    reason: str
    at: datetime


@register("ExchangeShipped", service=SERVICE)
class ExchangeShipped(EventPayload):
    order_id: uuid.UUID
    request_id: uuid.UUID
    items: list[RequestedItem]
    at: datetime


@register("RepairShipped", service=SERVICE)
class RepairShipped(EventPayload):
    """The returned items of a REPAIR request, repaired, go back to the buyer (nothing is
    refunded, no stock is taken)."""

    order_id: uuid.UUID
    request_id: uuid.UUID
    items: list[RequestedItem]
    at: datetime


@register("AftersalesClosed", service=SERVICE)
class AftersalesClosed(EventPayload):
    """Every request ends here: REFUNDED, EXCHANGED, REPAIRED, REJECTED (not escalated in
    time, or rejected by the operator), RETURN_NOT_SHIPPED or ORDER_CANCELLED."""

    order_id: uuid.UUID
    request_id: uuid.UUID
    outcome: str
    at: datetime


@register("LogisticsComplaintFiled", service=SERVICE)
class LogisticsComplaintFiled(EventPayload):
    complaint_id: uuid.UUID
    seller_id: str
    package_id: uuid.UUID
    carrier: str
    type: str  # DELAY, LOSS, DAMAGE
    description: str
    at: datetime


@register("LogisticsComplaintResolved", service=SERVICE)
class LogisticsComplaintResolved(EventPayload):
    complaint_id: uuid.UUID
    resolution: str
    by: str
    at: datetime


MAX_REVIEW_PHOTOS = 9


@register("ReviewPosted", service=SERVICE)
class ReviewPosted(EventPayload):
    """A buyer's review of a delivered order. `rating` is the overall (product) rating the
    seller's metrics count; the seller's service and the delivery (`logistics_rating`, counted
    per carrier for operators) may be rated apart, and photos referenced."""

    order_id: uuid.UUID
    buyer_id: str
    seller_id: str
    rating: int = Field(ge=1, le=5)
    text: str | None = None
    at: datetime
    seller_service_rating: int | None = Field(None, ge=1, le=5)
    logistics_rating: int | None = Field(None, ge=1, le=5)
    photos: list[str] = Field(default_factory=list)


@register("ReturnPolicySet", service=SERVICE)
class ReturnPolicySet(EventPayload):
    """A seller's return policy, within the marketplace's bounds: how many days after delivery
    its buyers may ask, whether it takes change-of-mind returns (BUYER_REASONS), whether it
    offers repair."""

    seller_id: str
    return_window_days: int = Field(ge=1)
    accepts_change_of_mind: bool
    offers_repair: bool
    at: datetime
