"""Events of the order service (topic shopflow.order.events)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field

from shared.events import REGISTRY, EventPayload, register
from shared.events.common import Address, Dimensions, EmailAddress, Language, LineItem
from shared.events.fulfillment import Shortfall
from shared.models import Model
from shared.money import Money

SERVICE = "order"
ORDER_STREAM = "order"  # order/<order id>
PRODUCT_STREAM = "product"

OrderStatus = Literal[
    "UNPAID",
    "ON_HOLD",
    "AWAITING_SHIPMENT",
    "PARTIALLY_SHIPPING",
    "AWAITING_COLLECTION",
    "IN_TRANSIT",
    "DELIVERED",
    "COMPLETED",
    "CANCELLED",
]
Actor = Literal["buyer", "seller", "operator", "system"]
ReviewDecision = Literal["APPROVE", "REJECT"]  # an operator's decision on a held order
# The seller's programme: a local seller ships in its own market; a cross-border seller's
# parcels are collected by a first-mile provider (or sent to the consolidation warehouse).
Programme = Literal["LOCAL", "CROSS_BORDER"]
PROGRAMMES: tuple[Programme, ...] = ("LOCAL", "CROSS_BORDER")
SELLER_PROGRAMME_STREAM = "seller-programme"  # seller-programme/<seller id>


# A listing's review before buyers may order it (issue 18): NOT_REQUIRED where its market
# does not require one (or it has no market), else PENDING_REVIEW until an operator decides.
ListingReviewStatus = Literal["NOT_REQUIRED", "PENDING_REVIEW", "APPROVED", "REJECTED"]


@register("ProductListed", service=SERVICE)
class ProductListed(EventPayload):
    """`market` (issue 18, optional): the country the listing sells in, ISO 3166-1 alpha-2."""

    seller_id: str
    sku: str
    title: str
    price: Money
    weight_g: int
    dimensions: Dimensions | None = None
    market: str | None = None


@register("ProductChanged", service=SERVICE)
class ProductChanged(EventPayload):
    seller_id: str
    sku: str
    title: str
    price: Money
    weight_g: int
    dimensions: Dimensions | None = None


@register("ProductSubmittedForReview", service=SERVICE)
class ProductSubmittedForReview(EventPayload):
    """The listing waits for an operator's review and cannot be ordered meanwhile: a new
    listing in a market that requires review, or a changed one that needs it again."""

    seller_id: str
    sku: str
    market: str
    title: str
    submitted_at: datetime


@register("ProductApproved", service=SERVICE)
class ProductApproved(EventPayload):
    seller_id: str
    sku: str
    reviewer_id: str
    reason: str | None = None
    reviewed_at: datetime


@register("ProductRejected", service=SERVICE)
class ProductRejected(EventPayload):
    """Orders for the listing stay refused until the seller changes it (a resubmission)
    and an operator approves it."""

    seller_id: str
    sku: str
    reviewer_id: str
    reason: str
    reviewed_at: datetime


class OrderFacts(EventPayload):
    """What an order is, carried whole by OrderCreated and OrderPlaced."""

    order_id: uuid.UUID
    buyer_id: str
    seller_id: str
    items: list[LineItem]
    shipping_address: Address
    shipping_option: str
    subtotal: Money
    shipping_fee: Money
    total: Money
    created_at: datetime


@register("OrderCreated", service=SERVICE, version=2)
class OrderCreated(OrderFacts):
    """`programme` (version 2, issue 17): the seller's programme when the order was made,
    which sets its base dispatch SLA; a version 1 event was a LOCAL seller's."""

    payment_method: str
    pay_by: datetime
    programme: Programme = "LOCAL"
    # Where the buyer's notifications about this order go, given at checkout (issue 18;
    # optional, absent before).
    buyer_email: EmailAddress | None = None
    buyer_language: Language | None = None


@REGISTRY.upcaster("OrderCreated", from_version=1)
def _order_created_v1(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "programme": "LOCAL"}


@register("OrderPaid", service=SERVICE)
class OrderPaid(EventPayload):
    order_id: uuid.UUID
    amount: Money
    transaction_id: str
    paid_at: datetime


class ReviewFailure(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str
    detail: str


@register("OrderPutOnHold", service=SERVICE)
class OrderPutOnHold(EventPayload):
    """The order is held: always for the remorse window, and for as long as the automatic
    review has failures an operator must look at."""

    order_id: uuid.UUID
    remorse_until: datetime
    review_passed: bool
    review_failures: list[ReviewFailure] = Field(default_factory=list)


@register("OrderReviewed", service=SERVICE)
class OrderReviewed(EventPayload):
    order_id: uuid.UUID
    decision: ReviewDecision
    reviewer_id: str
    note: str | None = None


@register("OrderPlaced", service=SERVICE)
class OrderPlaced(OrderFacts):
    """Carries what fulfillment, pickup and analytics need, so nobody calls back."""

    paid_at: datetime
    placed_at: datetime
    dispatch_deadline: datetime
    deliver_by: datetime


@register("ShippingAddressChanged", service=SERVICE)
class ShippingAddressChanged(EventPayload):
    order_id: uuid.UUID
    shipping_address: Address
    changed_at: datetime


@register("CancellationRequested", service=SERVICE)
class CancellationRequested(EventPayload):
    order_id: uuid.UUID
    requested_by: str
    reason_code: str
    note: str | None = None
    requested_at: datetime
    auto_approve_at: datetime


@register("CancellationRejected", service=SERVICE)
class CancellationRejected(EventPayload):
    order_id: uuid.UUID
    rejected_by: str
    reason: str
    rejected_at: datetime


@register("OrderCancelled", service=SERVICE)
class OrderCancelled(EventPayload):
    order_id: uuid.UUID
    cancelled_by: Actor
    actor_id: str
    reason_code: str
    note: str | None = None
    seller_fault: bool
    cancelled_at: datetime
    was_paid: bool
    refund_due: Money | None = None


@register("OrderStatusChanged", service=SERVICE)
class OrderStatusChanged(EventPayload):
    order_id: uuid.UUID
    from_status: OrderStatus | None
    to_status: OrderStatus
    changed_at: datetime


@register("OrderCompleted", service=SERVICE)
class OrderCompleted(EventPayload):
    order_id: uuid.UUID
    completed_at: datetime
    auto: bool


@register("PackageStatusRecorded", service=SERVICE)
class PackageStatusRecorded(EventPayload):
    """What the order knows of one of its packages (from fulfillment and pickup events)."""

    order_id: uuid.UUID
    package_id: uuid.UUID
    package_status: str
    recorded_at: datetime


@register("DispatchDeadlineMoved", service=SERVICE, version=2)
class DispatchDeadlineMoved(EventPayload):
    """The platform granted more time to dispatch (e.g. a pickup provider switch). Before
    the order is placed only the hours are kept, and OrderPlaced's deadline includes them;
    after it, the new deadlines are given. The order service is the one authority on the
    order's dispatch deadline: fulfillment follows this event, not the pickup service's.
    `extension_id` (version 2, issue 17) names the grant (the switch): a grant is taken once."""

    order_id: uuid.UUID
    hours: int
    reason: str
    dispatch_deadline: datetime | None = None
    deliver_by: datetime | None = None
    extension_id: uuid.UUID | None = None  # the switch granting it: one grant per switch


@REGISTRY.upcaster("DispatchDeadlineMoved", from_version=1)
def _deadline_moved_v1(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "extension_id": None}


@register("AftersalesCaseRecorded", service=SERVICE)
class AftersalesCaseRecorded(EventPayload):
    """An after-sales request on the order opened (`open`) or closed, as the aftersales
    service said. While a case is open the order is not completed automatically."""

    order_id: uuid.UUID
    request_id: uuid.UUID
    open: bool
    at: datetime


@register("OrderRefunded", service=SERVICE)
class OrderRefunded(EventPayload):
    """Money went back to the buyer (aftersales' RefundIssued): for a request, or for the
    cancellation (`request_id` None). `fully_refunded` once everything paid came back."""

    order_id: uuid.UUID
    request_id: uuid.UUID | None
    amount: Money
    refunded_total: Money
    fully_refunded: bool
    refunded_at: datetime


@register("OrderAwaitingStock", service=SERVICE)
class OrderAwaitingStock(EventPayload):
    """Fulfillment could not reserve the placed order's stock (its StockShortage): the order
    waits for the seller to restock or cancel (OUT_OF_STOCK), and is cancelled at the seller's
    fault at `cancel_at` if still short. Recorded again, with the same `since`, when the
    shortfalls change."""

    order_id: uuid.UUID
    shortfalls: list[Shortfall]
    since: datetime
    cancel_at: datetime
    recorded_at: datetime


@register("OrderStockReserved", service=SERVICE)
class OrderStockReserved(EventPayload):
    """The stock an order waited for is reserved (fulfillment's StockReserved): it no longer
    waits."""

    order_id: uuid.UUID
    waited_since: datetime
    reserved_at: datetime


@register("SellerProgrammeSet", service=SERVICE)
class SellerProgrammeSet(EventPayload):
    """An operator enrolled the seller in a programme (LOCAL or CROSS_BORDER): the orders
    created from now on take that programme's dispatch SLA."""

    seller_id: str
    programme: Programme
    set_by: str
    set_at: datetime
