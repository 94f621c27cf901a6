"""The order service's aggregates, pure: `decide(state, command) -> events` and
`evolve(state, event) -> state`. No I/O and no clock: time comes in with the command.

Rules: DOMAIN.md section 1. Every number is a field of `OrderPolicy` with its default.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import singledispatch
from typing import Literal

from shared.aggregate import Aggregate, DomainError, InvalidCommand, NotFound
from shared.events import EventPayload
from shared.events.common import Address, Dimensions, LineItem
from shared.events.order import (
    AftersalesCaseRecorded,
    CancellationRejected,
    CancellationRequested,
    DispatchDeadlineMoved,
    OrderCancelled,
    OrderCompleted,
    OrderCreated,
    OrderPaid,
    OrderPlaced,
    OrderPutOnHold,
    OrderRefunded,
    OrderReviewed,
    OrderStatus,
    OrderStatusChanged,
    PackageStatusRecorded,
    ProductChanged,
    ProductListed,
    ReviewFailure,
    ShippingAddressChanged,
)
from shared.money import Money

# --- policy ---------------------------------------------------------------------------------

BUYER_REASONS = frozenset(
    {"CHANGED_MIND", "FOUND_CHEAPER", "WRONG_ADDRESS", "DUPLICATE_ORDER", "SLOW_DELIVERY", "OTHER"}
)
# Seller and operator reason codes, and whether each counts against the seller.
SELLER_REASONS: Mapping[str, bool] = {
    "OUT_OF_STOCK": True,
    "PRICING_ERROR": True,
    "UNABLE_TO_SHIP": True,
    "MISSED_DISPATCH_DEADLINE": True,
    "BUYER_REQUESTED": False,
    "ADDRESS_UNREACHABLE": False,
    "SUSPECTED_FRAUD": False,
}
OPERATOR_REASONS: Mapping[str, bool] = {**SELLER_REASONS, "REVIEW_REJECTED": False, "OTHER": False}
SYSTEM_REASONS: Mapping[str, bool] = {"UNPAID_TIMEOUT": False, "MISSED_DISPATCH_DEADLINE": True}


@dataclass(frozen=True)
class ShippingOption:
    base_fee: int
    per_extra_kg: int


@dataclass(frozen=True)
class RiskRules:
    """Configurable risk rules; any hit keeps a paid order ON_HOLD for an operator."""

    max_order_total: int | None = 5_000_000
    max_units_per_sku: int | None = 50
    blocked_postal_codes: frozenset[str] = frozenset()
    blocked_buyers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class OrderPolicy:
    unpaid_timeout: timedelta = timedelta(minutes=30)
    remorse_window: timedelta = timedelta(hours=1)
    cancellation_auto_approve: timedelta = timedelta(hours=24)
    dispatch_sla: timedelta = timedelta(hours=72)
    deliver_by_after_dispatch: timedelta = timedelta(days=6)
    auto_complete_after: timedelta = timedelta(days=7)
    missed_dispatch_cancel_after: timedelta = timedelta(days=5)
    max_lines: int = 50
    shipping_options: Mapping[str, ShippingOption] = field(
        default_factory=lambda: {
            "STANDARD": ShippingOption(base_fee=300, per_extra_kg=100),
            "EXPRESS": ShippingOption(base_fee=800, per_extra_kg=200),
        }
    )
    risk: RiskRules = RiskRules()


def shipping_fee(option: ShippingOption, weight_g: int, currency: str) -> Money:
    """Base fee covers the first kilogram; each started kilogram after it costs extra."""
    extra_kg = max(0, -(-weight_g // 1000) - 1)
    return Money(amount=option.base_fee + extra_kg * option.per_extra_kg, currency=currency)


# --- products -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Product:
    seller_id: str = ""
    sku: str = ""
    title: str = ""
    price: Money | None = None
    weight_g: int = 0
    dimensions: Dimensions | None = None

    @property
    def exists(self) -> bool:
        return self.price is not None


@dataclass(frozen=True)
class ListProduct:
    seller_id: str
    sku: str
    title: str
    price: Money
    weight_g: int
    dimensions: Dimensions | None = None


@dataclass(frozen=True)
class ChangeProduct:
    title: str | None = None
    price: Money | None = None
    weight_g: int | None = None
    dimensions: Dimensions | None = None


def decide_product(state: Product, command: ListProduct | ChangeProduct) -> list[EventPayload]:
    match command:
        case ListProduct():
            if state.exists:
                raise DomainError("product-exists", f"SKU {command.sku} is listed already; PUT it")
            return [ProductListed(**command.__dict__)]
        case ChangeProduct():
            if not state.exists or state.price is None:
                raise NotFound("product-not-found", f"SKU {state.sku or '?'} is not listed")
            return [
                ProductChanged(
                    seller_id=state.seller_id,
                    sku=state.sku,
                    title=command.title if command.title is not None else state.title,
                    price=command.price if command.price is not None else state.price,
                    weight_g=command.weight_g if command.weight_g is not None else state.weight_g,
                    dimensions=command.dimensions or state.dimensions,
                )
            ]


def evolve_product(state: Product, event: EventPayload) -> Product:
    if isinstance(event, ProductListed | ProductChanged):
        return Product(
            seller_id=event.seller_id,
            sku=event.sku,
            title=event.title,
            price=event.price,
            weight_g=event.weight_g,
            dimensions=event.dimensions,
        )
    return state


PRODUCT = Aggregate(initial=Product(), evolve=evolve_product, keys=lambda p: (None, p.seller_id))


def product_stream(seller_id: str, sku: str) -> str:
    return f"product/{seller_id}/{sku}"


# --- orders: state --------------------------------------------------------------------------


@dataclass(frozen=True)
class CancellationRequest:
    requested_by: str
    reason_code: str
    note: str | None
    requested_at: datetime
    auto_approve_at: datetime
    status: Literal["PENDING", "REJECTED"] = "PENDING"
    rejection_reason: str | None = None


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
    operator_decision: str | None = None
    placed_at: datetime | None = None
    dispatch_deadline: datetime | None = None
    deliver_by: datetime | None = None
    cancellation_request: CancellationRequest | None = None
    cancelled: OrderCancelled | None = None
    completed_at: datetime | None = None
    packages: Mapping[uuid.UUID, str] = field(default_factory=dict)
    delivered_at: datetime | None = None
    open_cases: frozenset[uuid.UUID] = frozenset()  # after-sales requests not closed yet
    refunds: Mapping[str, int] = field(default_factory=dict)  # refund key -> minor units
    refunded: Money | None = None
    fully_refunded: bool = False
    extra_dispatch_hours: int = 0

    @property
    def open_aftersales_cases(self) -> int:
        return len(self.open_cases)

    @property
    def exists(self) -> bool:
        return self.status is not None

    @property
    def cleared_for_placement(self) -> bool:
        return self.review_passed is True or self.operator_decision == "APPROVE"


# --- orders: commands -----------------------------------------------------------------------


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class CreateOrder:
    order_id: uuid.UUID
    buyer_id: str
    seller_id: str
    lines: Sequence[OrderLine]
    listings: Mapping[str, Product]
    shipping_address: Address
    shipping_option: str
    payment_method: str
    now: datetime


@dataclass(frozen=True)
class PayOrder:
    amount: Money
    transaction_id: str
    listings: Mapping[str, Product]
    now: datetime


@dataclass(frozen=True)
class EndRemorseWindow:
    now: datetime


@dataclass(frozen=True)
class ReviewOrder:
    decision: Literal["APPROVE", "REJECT"]
    reviewer_id: str
    note: str | None
    now: datetime


Actor = Literal["buyer", "seller", "operator", "system"]


@dataclass(frozen=True)
class CancelOrder:
    actor: Actor
    actor_id: str
    reason_code: str
    note: str | None
    now: datetime


@dataclass(frozen=True)
class ApproveCancellation:
    actor_id: str
    now: datetime
    auto: bool = False


@dataclass(frozen=True)
class RejectCancellation:
    actor_id: str
    reason: str
    now: datetime


@dataclass(frozen=True)
class ChangeShippingAddress:
    shipping_address: Address
    now: datetime


@dataclass(frozen=True)
class ConfirmReceipt:
    now: datetime


@dataclass(frozen=True)
class CancelUnpaid:
    now: datetime


@dataclass(frozen=True)
class RecordPackageStatus:
    package_id: uuid.UUID
    package_status: str
    now: datetime


@dataclass(frozen=True)
class ExtendDispatch:
    hours: int
    reason: str
    now: datetime


@dataclass(frozen=True)
class AutoComplete:
    now: datetime


@dataclass(frozen=True)
class CancelForMissedDispatch:
    now: datetime


@dataclass(frozen=True)
class RecordAftersalesCase:
    request_id: uuid.UUID
    open: bool
    now: datetime


@dataclass(frozen=True)
class RecordRefund:
    """A refund the aftersales service issued; `request_id` None for the cancellation's."""

    request_id: uuid.UUID | None
    amount: Money
    now: datetime


OrderCommand = (
    CreateOrder
    | PayOrder
    | EndRemorseWindow
    | ReviewOrder
    | CancelOrder
    | ApproveCancellation
    | RejectCancellation
    | ChangeShippingAddress
    | ConfirmReceipt
    | CancelUnpaid
    | RecordPackageStatus
    | ExtendDispatch
    | AutoComplete
    | CancelForMissedDispatch
    | RecordAftersalesCase
    | RecordRefund
)

# Before a package is ready to ship the order can still be cancelled or re-addressed.
PRE_SHIPMENT: frozenset[str] = frozenset({"UNPAID", "ON_HOLD", "AWAITING_SHIPMENT"})


# --- orders: decide -------------------------------------------------------------------------


def decide_order(
    state: Order, command: OrderCommand, policy: OrderPolicy = OrderPolicy()
) -> list[EventPayload]:
    """Decide, then add OrderStatusChanged when the events move the status."""
    events = _decide(state, command, policy)
    after = ORDER.fold(events, state)
    if events and after.status != state.status and after.order_id is not None:
        assert after.status is not None
        events.append(
            OrderStatusChanged(
                order_id=after.order_id,
                from_status=state.status,
                to_status=after.status,
                changed_at=command.now,
            )
        )
    return events


def _decide(state: Order, command: OrderCommand, policy: OrderPolicy) -> list[EventPayload]:
    if isinstance(command, CreateOrder):
        return _create(state, command, policy)
    if not state.exists or state.order_id is None:
        raise NotFound("order-not-found", "no such order")
    order_id = state.order_id
    match command:
        case PayOrder():
            return _pay(state, order_id, command, policy)
        case EndRemorseWindow():
            if state.status != "ON_HOLD" or state.remorse_until is None:
                return []
            if command.now < state.remorse_until or not state.cleared_for_placement:
                return []
            return [_placed(state, order_id, command.now, policy)]
        case ReviewOrder():
            return _review(state, order_id, command, policy)
        case CancelOrder():
            return _cancel(state, order_id, command, policy)
        case ApproveCancellation():
            request = state.cancellation_request
            if request is None or request.status != "PENDING" or state.status not in PRE_SHIPMENT:
                if command.auto:
                    return []
                raise DomainError(
                    "no-pending-cancellation", "there is no pending cancellation request"
                )
            if command.auto and command.now < request.auto_approve_at:
                return []
            return [
                _cancelled(
                    state,
                    order_id,
                    "buyer",
                    request.requested_by,
                    request.reason_code,
                    request.note,
                    False,
                    command.now,
                )
            ]
        case RejectCancellation():
            request = state.cancellation_request
            if request is None or request.status != "PENDING":
                raise DomainError(
                    "no-pending-cancellation", "there is no pending cancellation request"
                )
            if not command.reason.strip():
                raise InvalidCommand("reason-required", "a rejection needs a reason")
            return [
                CancellationRejected(
                    order_id=order_id,
                    rejected_by=command.actor_id,
                    reason=command.reason,
                    rejected_at=command.now,
                )
            ]
        case ChangeShippingAddress():
            if state.status not in PRE_SHIPMENT:
                raise DomainError(
                    "address-locked", f"the address cannot change once the order is {state.status}"
                )
            if command.shipping_address == state.shipping_address:
                return []
            return [
                ShippingAddressChanged(
                    order_id=order_id,
                    shipping_address=command.shipping_address,
                    changed_at=command.now,
                )
            ]
        case ConfirmReceipt():
            if state.status == "COMPLETED":
                return []
            if state.status != "DELIVERED":
                raise DomainError("not-delivered", f"the order is {state.status}, not DELIVERED")
            return [OrderCompleted(order_id=order_id, completed_at=command.now, auto=False)]
        case RecordPackageStatus():
            return _record_package(state, order_id, command)
        case ExtendDispatch():
            if state.status in ("CANCELLED", "COMPLETED"):
                return []
            extra = timedelta(hours=command.hours)
            placed = state.dispatch_deadline is not None and state.deliver_by is not None
            return [
                DispatchDeadlineMoved(
                    order_id=order_id,
                    hours=command.hours,
                    reason=command.reason,
                    dispatch_deadline=state.dispatch_deadline + extra if placed else None,  # type: ignore[operator]
                    deliver_by=state.deliver_by + extra if placed else None,  # type: ignore[operator]
                )
            ]
        case AutoComplete():
            due = state.delivered_at and state.delivered_at + policy.auto_complete_after
            if state.status != "DELIVERED" or due is None or command.now < due:
                return []
            if state.open_aftersales_cases:
                return []  # completes when the case closes (aftersales, issue 5)
            return [OrderCompleted(order_id=order_id, completed_at=command.now, auto=True)]
        case CancelForMissedDispatch():
            due = state.dispatch_deadline and (
                state.dispatch_deadline + policy.missed_dispatch_cancel_after
            )
            if state.status != "AWAITING_SHIPMENT" or due is None or command.now < due:
                return []
            return [
                _cancelled(
                    state,
                    order_id,
                    "system",
                    "system",
                    "MISSED_DISPATCH_DEADLINE",
                    "not ready to ship in time",
                    True,
                    command.now,
                )
            ]
        case RecordAftersalesCase():
            if (command.request_id in state.open_cases) == command.open:
                return []  # a repeat, or a close of a case never opened here
            return [
                AftersalesCaseRecorded(
                    order_id=order_id,
                    request_id=command.request_id,
                    open=command.open,
                    at=command.now,
                )
            ]
        case RecordRefund():
            return _record_refund(state, order_id, command)
        case CancelUnpaid():
            if state.status != "UNPAID" or state.pay_by is None or command.now < state.pay_by:
                return []
            return [
                _cancelled(
                    state, order_id, "system", "system", "UNPAID_TIMEOUT", None, False, command.now
                )
            ]
    raise AssertionError(f"unhandled command {command!r}")


# How far along the way a package status is. Reports from different topics may arrive out of
# order: a status of an earlier phase than the one known is ignored.
_PHASE = {
    "PLANNED": 0,
    "COMBINED": 0,  # travels inside a combined parcel (its own package id)
    "UNCOMBINED": 0,  # a combined parcel taken apart again
    "READY_TO_SHIP": 1,
    "PICKED_UP": 2,
    "IN_TRANSIT": 3,
    "OUT_FOR_DELIVERY": 3,
    "DELIVERY_FAILED": 3,
    "DAMAGED": 3,
    "DELIVERED": 4,
    "LOST": 4,
    "RETURNED_TO_SENDER": 4,
    "CANCELLED": 5,
    "REPLACED": 5,
}
_INACTIVE = frozenset({"CANCELLED", "REPLACED", "COMBINED", "UNCOMBINED"})
_LEFT = frozenset(s for s, phase in _PHASE.items() if 2 <= phase <= 4)
_FULFILLING = frozenset(
    {"AWAITING_SHIPMENT", "PARTIALLY_SHIPPING", "AWAITING_COLLECTION", "IN_TRANSIT"}
)


def _record_refund(state: Order, order_id: uuid.UUID, cmd: RecordRefund) -> list[EventPayload]:
    key = str(cmd.request_id or "cancellation")
    if key in state.refunds:
        return []
    total = (state.refunded or Money.zero(cmd.amount.currency)) + cmd.amount
    paid = state.paid_amount
    return [
        OrderRefunded(
            order_id=order_id,
            request_id=cmd.request_id,
            amount=cmd.amount,
            refunded_total=total,
            fully_refunded=paid is not None and total.amount >= paid.amount,
            refunded_at=cmd.now,
        )
    ]


def _record_package(
    state: Order, order_id: uuid.UUID, cmd: RecordPackageStatus
) -> list[EventPayload]:
    if state.status not in _FULFILLING | {"DELIVERED"} or cmd.package_status not in _PHASE:
        return []
    known = state.packages.get(cmd.package_id)
    if known is None and state.status == "DELIVERED":
        return []  # a replacement shipped for an after-sales exchange: not the order's parcel
    if known == cmd.package_status or (
        known is not None and _PHASE[cmd.package_status] < _PHASE[known]
    ):
        return []
    return [
        PackageStatusRecorded(
            order_id=order_id,
            package_id=cmd.package_id,
            package_status=cmd.package_status,
            recorded_at=cmd.now,
        )
    ]


def status_from_packages(state: Order) -> OrderStatus:
    """The order's status while it is being fulfilled, from what its packages do."""
    active = [s for s in state.packages.values() if s not in _INACTIVE]
    if not active:
        return "AWAITING_SHIPMENT"
    if all(s == "DELIVERED" for s in active):
        return "DELIVERED"
    if any(s in _LEFT for s in active):
        return "IN_TRANSIT"
    if all(s == "READY_TO_SHIP" for s in active):
        return "AWAITING_COLLECTION"
    if any(s == "READY_TO_SHIP" for s in active):
        return "PARTIALLY_SHIPPING"
    return "AWAITING_SHIPMENT"


def _create(state: Order, cmd: CreateOrder, policy: OrderPolicy) -> list[EventPayload]:
    if state.exists:
        raise DomainError("order-exists", "this order exists already")
    if not cmd.lines:
        raise InvalidCommand("no-items", "an order needs at least one item")
    if len(cmd.lines) > policy.max_lines:
        raise InvalidCommand("too-many-items", f"at most {policy.max_lines} lines per order")
    skus = [line.sku for line in cmd.lines]
    if len(set(skus)) != len(skus):
        raise InvalidCommand("duplicate-sku", "each SKU may appear once; set its quantity")
    option = policy.shipping_options.get(cmd.shipping_option)
    if option is None:
        raise InvalidCommand(
            "unknown-shipping-option",
            f"shipping_option must be one of {', '.join(sorted(policy.shipping_options))}",
        )
    items: list[LineItem] = []
    for line in cmd.lines:
        listing = cmd.listings.get(line.sku)
        if listing is None or listing.price is None or listing.seller_id != cmd.seller_id:
            raise InvalidCommand(
                "unknown-sku", f"seller {cmd.seller_id} does not list SKU {line.sku}"
            )
        items.append(
            LineItem(
                sku=line.sku,
                title=listing.title,
                quantity=line.quantity,
                unit_price=listing.price,
                weight_g=listing.weight_g,
                dimensions=listing.dimensions,
            )
        )
    currencies = {item.unit_price.currency for item in items}
    if len(currencies) != 1:
        raise InvalidCommand("mixed-currencies", "all items of an order must share one currency")
    currency = currencies.pop()
    subtotal = Money.zero(currency)
    for item in items:
        subtotal = subtotal + item.unit_price.times(item.quantity)
    weight = sum(item.weight_g * item.quantity for item in items)
    fee = shipping_fee(option, weight, currency)
    return [
        OrderCreated(
            order_id=cmd.order_id,
            buyer_id=cmd.buyer_id,
            seller_id=cmd.seller_id,
            items=items,
            shipping_address=cmd.shipping_address,
            shipping_option=cmd.shipping_option,
            payment_method=cmd.payment_method,
            subtotal=subtotal,
            shipping_fee=fee,
            total=subtotal + fee,
            created_at=cmd.now,
            pay_by=cmd.now + policy.unpaid_timeout,
        )
    ]


def _pay(
    state: Order, order_id: uuid.UUID, cmd: PayOrder, policy: OrderPolicy
) -> list[EventPayload]:
    if state.status != "UNPAID":
        raise DomainError("not-payable", f"the order is {state.status}, not UNPAID")
    if state.pay_by is not None and cmd.now >= state.pay_by:
        raise DomainError("payment-window-closed", "the order was not paid in time")
    if cmd.amount != state.total:
        assert state.total is not None
        raise InvalidCommand(
            "amount-mismatch",
            f"payment of {cmd.amount.amount} {cmd.amount.currency} does not match the total "
            f"{state.total.amount} {state.total.currency}",
        )
    paid = replace(state, paid_amount=cmd.amount)
    failures = review_order(paid, cmd.listings, policy.risk)
    return [
        OrderPaid(
            order_id=order_id, amount=cmd.amount, transaction_id=cmd.transaction_id, paid_at=cmd.now
        ),
        OrderPutOnHold(
            order_id=order_id,
            remorse_until=cmd.now + policy.remorse_window,
            review_passed=not failures,
            review_failures=failures,
        ),
    ]


def _review(
    state: Order, order_id: uuid.UUID, cmd: ReviewOrder, policy: OrderPolicy
) -> list[EventPayload]:
    if state.status != "ON_HOLD":
        raise DomainError("not-on-hold", f"the order is {state.status}, not ON_HOLD")
    if state.operator_decision is not None:
        raise DomainError(
            "already-reviewed", f"an operator decided {state.operator_decision} already"
        )
    reviewed = OrderReviewed(
        order_id=order_id, decision=cmd.decision, reviewer_id=cmd.reviewer_id, note=cmd.note
    )
    if cmd.decision == "REJECT":
        return [
            reviewed,
            _cancelled(
                state,
                order_id,
                "operator",
                cmd.reviewer_id,
                "REVIEW_REJECTED",
                cmd.note,
                False,
                cmd.now,
            ),
        ]
    events: list[EventPayload] = [reviewed]
    if state.remorse_until is not None and cmd.now >= state.remorse_until:
        events.append(_placed(state, order_id, cmd.now, policy))
    return events


def _cancel(
    state: Order, order_id: uuid.UUID, cmd: CancelOrder, policy: OrderPolicy
) -> list[EventPayload]:
    if state.status == "CANCELLED":
        raise DomainError("already-cancelled", "the order is cancelled already")
    if state.status not in PRE_SHIPMENT:
        raise DomainError(
            "cancellation-closed",
            f"the order is {state.status}: a package is ready to ship, use an after-sales request",
        )
    reasons: Mapping[str, bool] = {
        "buyer": dict.fromkeys(BUYER_REASONS, False),
        "seller": SELLER_REASONS,
        "operator": OPERATOR_REASONS,
        "system": SYSTEM_REASONS,
    }[cmd.actor]
    if cmd.reason_code not in reasons:
        raise InvalidCommand(
            "unknown-reason-code",
            f"reason_code for a {cmd.actor} must be one of {', '.join(sorted(reasons))}",
        )
    if cmd.actor == "buyer" and state.status == "AWAITING_SHIPMENT":
        if (
            state.cancellation_request is not None
            and state.cancellation_request.status == "PENDING"
        ):
            raise DomainError("cancellation-pending", "a cancellation request is pending already")
        return [
            CancellationRequested(
                order_id=order_id,
                requested_by=cmd.actor_id,
                reason_code=cmd.reason_code,
                note=cmd.note,
                requested_at=cmd.now,
                auto_approve_at=cmd.now + policy.cancellation_auto_approve,
            )
        ]
    return [
        _cancelled(
            state,
            order_id,
            cmd.actor,
            cmd.actor_id,
            cmd.reason_code,
            cmd.note,
            reasons[cmd.reason_code],
            cmd.now,
        )
    ]


def _cancelled(
    state: Order,
    order_id: uuid.UUID,
    actor: Actor,
    actor_id: str,
    reason_code: str,
    note: str | None,
    seller_fault: bool,
    now: datetime,
) -> OrderCancelled:
    was_paid = state.paid_at is not None
    return OrderCancelled(
        order_id=order_id,
        cancelled_by=actor,
        actor_id=actor_id,
        reason_code=reason_code,
        note=note,
        seller_fault=seller_fault,
        cancelled_at=now,
        was_paid=was_paid,
        refund_due=state.paid_amount if was_paid else None,
    )


def _placed(state: Order, order_id: uuid.UUID, now: datetime, policy: OrderPolicy) -> OrderPlaced:
    assert state.shipping_address and state.subtotal and state.shipping_fee and state.total
    assert state.created_at and state.paid_at
    dispatch_deadline = now + policy.dispatch_sla + timedelta(hours=state.extra_dispatch_hours)
    return OrderPlaced(
        order_id=order_id,
        buyer_id=state.buyer_id,
        seller_id=state.seller_id,
        items=list(state.items),
        shipping_address=state.shipping_address,
        shipping_option=state.shipping_option,
        subtotal=state.subtotal,
        shipping_fee=state.shipping_fee,
        total=state.total,
        created_at=state.created_at,
        paid_at=state.paid_at,
        placed_at=now,
        dispatch_deadline=dispatch_deadline,
        deliver_by=dispatch_deadline + policy.deliver_by_after_dispatch,
    )


# --- the automatic review -------------------------------------------------------------------

_POSTAL_CODES = {
    "US": r"^\d{5}(-\d{4})?$",
    "DE": r"^\d{5}$",
    "FR": r"^\d{5}$",
    "ES": r"^\d{5}$",
    "IT": r"^\d{5}$",
    "GB": r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$",
    "VN": r"^\d{6}$",
    "ID": r"^\d{5}$",
    "TH": r"^\d{5}$",
    "MY": r"^\d{5}$",
    "PH": r"^\d{4}$",
    "SG": r"^\d{6}$",
}
_GENERIC_POSTAL_CODE = r"^[A-Z0-9][A-Z0-9 \-]{1,9}$"


def postal_code_valid(country: str, postal_code: str) -> bool:
    pattern = _POSTAL_CODES.get(country, _GENERIC_POSTAL_CODE)
    return re.match(pattern, postal_code.strip().upper()) is not None


def review_order(
    order: Order, listings: Mapping[str, Product], rules: RiskRules
) -> list[ReviewFailure]:
    """The platform's automatic review of a paid order; an empty list means it passed."""
    failures: list[ReviewFailure] = []

    def fail(code: str, detail: str) -> None:
        failures.append(ReviewFailure(code=code, detail=detail))

    for item in order.items:
        listing = listings.get(item.sku)
        if listing is None or listing.price is None:
            fail("PRODUCT_UNAVAILABLE", f"SKU {item.sku} is no longer listed")
        elif listing.price != item.unit_price:
            fail(
                "PRICE_CHANGED",
                f"SKU {item.sku} is listed at {listing.price.amount} now, "
                f"ordered at {item.unit_price.amount}",
            )
        if rules.max_units_per_sku is not None and item.quantity > rules.max_units_per_sku:
            fail(
                "RISK_QUANTITY",
                f"{item.quantity} units of {item.sku} exceed {rules.max_units_per_sku}",
            )
    if not order.buyer_id.strip():
        fail("BUYER_DATA", "the buyer is unknown")
    elif order.buyer_id in rules.blocked_buyers:
        fail("RISK_BUYER_BLOCKED", "the buyer is on the block list")
    address = order.shipping_address
    if address is None:
        fail("ADDRESS_INCOMPLETE", "no shipping address")
    else:
        missing = [
            name
            for name in ("recipient_name", "phone", "line1", "city", "postal_code", "country")
            if not str(getattr(address, name) or "").strip()
        ]
        if missing:
            fail("ADDRESS_INCOMPLETE", f"missing {', '.join(missing)}")
        elif not postal_code_valid(address.country, address.postal_code):
            fail(
                "ADDRESS_INCOMPLETE",
                f"postal code {address.postal_code!r} is not valid for {address.country}",
            )
        if address.postal_code.strip().upper() in rules.blocked_postal_codes:
            fail("RISK_BLOCKED_AREA", f"postal code {address.postal_code} is blocked")
    if order.paid_amount != order.total:
        fail("PAYMENT_MISMATCH", "the payment does not match the total")
    if (
        rules.max_order_total is not None
        and order.total is not None
        and order.total.amount > rules.max_order_total
    ):
        fail("RISK_HIGH_VALUE", f"total {order.total.amount} exceeds {rules.max_order_total}")
    return failures


# --- orders: evolve -------------------------------------------------------------------------


@singledispatch
def evolve_order(event: EventPayload, state: Order) -> Order:
    return state


@evolve_order.register
def _(event: OrderCreated, state: Order) -> Order:
    return Order(
        status="UNPAID",
        order_id=event.order_id,
        buyer_id=event.buyer_id,
        seller_id=event.seller_id,
        items=tuple(event.items),
        shipping_address=event.shipping_address,
        shipping_option=event.shipping_option,
        payment_method=event.payment_method,
        subtotal=event.subtotal,
        shipping_fee=event.shipping_fee,
        total=event.total,
        created_at=event.created_at,
        pay_by=event.pay_by,
    )


@evolve_order.register
def _(event: OrderPaid, state: Order) -> Order:
    return replace(
        state,
        status="ON_HOLD",
        paid_at=event.paid_at,
        paid_amount=event.amount,
        transaction_id=event.transaction_id,
    )


@evolve_order.register
def _(event: OrderPutOnHold, state: Order) -> Order:
    return replace(
        state,
        status="ON_HOLD",
        remorse_until=event.remorse_until,
        review_passed=event.review_passed,
        review_failures=tuple(event.review_failures),
    )


@evolve_order.register
def _(event: OrderReviewed, state: Order) -> Order:
    return replace(state, operator_decision=event.decision)


@evolve_order.register
def _(event: OrderPlaced, state: Order) -> Order:
    return replace(
        state,
        status="AWAITING_SHIPMENT",
        placed_at=event.placed_at,
        dispatch_deadline=event.dispatch_deadline,
        deliver_by=event.deliver_by,
    )


@evolve_order.register
def _(event: ShippingAddressChanged, state: Order) -> Order:
    return replace(state, shipping_address=event.shipping_address)


@evolve_order.register
def _(event: CancellationRequested, state: Order) -> Order:
    return replace(
        state,
        cancellation_request=CancellationRequest(
            requested_by=event.requested_by,
            reason_code=event.reason_code,
            note=event.note,
            requested_at=event.requested_at,
            auto_approve_at=event.auto_approve_at,
        ),
    )


@evolve_order.register
def _(event: CancellationRejected, state: Order) -> Order:
    assert state.cancellation_request is not None
    return replace(
        state,
        cancellation_request=replace(
            state.cancellation_request, status="REJECTED", rejection_reason=event.reason
        ),
    )


@evolve_order.register
def _(event: OrderCancelled, state: Order) -> Order:
    return replace(state, status="CANCELLED", cancelled=event)


@evolve_order.register
def _(event: OrderStatusChanged, state: Order) -> Order:
    return replace(state, status=event.to_status)


@evolve_order.register
def _(event: OrderCompleted, state: Order) -> Order:
    return replace(state, status="COMPLETED", completed_at=event.completed_at)


@evolve_order.register
def _(event: PackageStatusRecorded, state: Order) -> Order:
    packages = {**state.packages, event.package_id: event.package_status}
    moved = replace(state, packages=packages)
    status = status_from_packages(moved)
    delivered_at = state.delivered_at
    if status == "DELIVERED" and state.status != "DELIVERED":
        delivered_at = event.recorded_at
    return replace(moved, status=status, delivered_at=delivered_at)


@evolve_order.register
def _(event: AftersalesCaseRecorded, state: Order) -> Order:
    if event.open:
        return replace(state, open_cases=state.open_cases | {event.request_id})
    return replace(state, open_cases=state.open_cases - {event.request_id})


@evolve_order.register
def _(event: OrderRefunded, state: Order) -> Order:
    key = str(event.request_id or "cancellation")
    return replace(
        state,
        refunds={**state.refunds, key: event.amount.amount},
        refunded=event.refunded_total,
        fully_refunded=event.fully_refunded,
    )


@evolve_order.register
def _(event: DispatchDeadlineMoved, state: Order) -> Order:
    extra = state.extra_dispatch_hours + event.hours
    if event.dispatch_deadline is None:
        return replace(state, extra_dispatch_hours=extra)
    return replace(
        state,
        extra_dispatch_hours=extra,
        dispatch_deadline=event.dispatch_deadline,
        deliver_by=event.deliver_by,
    )


ORDER = Aggregate(
    initial=Order(),
    evolve=lambda state, event: evolve_order(event, state),
    keys=lambda o: (o.order_id, o.seller_id or None),
)


def order_stream(order_id: uuid.UUID) -> str:
    return f"order/{order_id}"
