"""An order's way in: created from the seller's listings, paid, held for the remorse window
and the automatic review (an operator decides on a failed one), then placed. Until a package
is ready to ship the buyer may change the shipping address."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from services.order.domain.fees import shipping_fee
from services.order.domain.order_cancellation import cancelled
from services.order.domain.order_policy import OrderPolicy
from services.order.domain.order_state import PRE_SHIPMENT, Order
from services.order.domain.product import Product
from services.order.domain.risk import review_order
from shared.aggregate import DomainError, InvalidCommand
from shared.events import EventPayload
from shared.events.common import Address, LineItem
from shared.events.order import (
    OrderCreated,
    OrderPaid,
    OrderPlaced,
    OrderPutOnHold,
    OrderReviewed,
    Programme,
    ReviewDecision,
    ShippingAddressChanged,
)
from shared.money import Money


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
    listings: Mapping[str, Product]  # the seller's listings of the lines' SKUs
    shipping_address: Address
    shipping_option: str
    payment_method: str
    now: datetime
    programme: Programme = "LOCAL"  # the seller's, as enrolled (`seller_programme`)
    buyer_email: str | None = None  # where the buyer's notifications go (optional)
    buyer_language: str | None = None


@dataclass(frozen=True)
class PayOrder:
    amount: Money
    transaction_id: str
    listings: Mapping[str, Product]  # the listings now, for the review
    now: datetime


@dataclass(frozen=True)
class EndRemorseWindow:
    now: datetime


@dataclass(frozen=True)
class ReviewOrder:
    decision: ReviewDecision
    reviewer_id: str
    note: str | None
    now: datetime


@dataclass(frozen=True)
class ChangeShippingAddress:
    shipping_address: Address
    now: datetime


def create(state: Order, command: CreateOrder, policy: OrderPolicy) -> list[EventPayload]:
    if state.exists:
        raise DomainError("order-exists", "this order exists already")
    if not command.lines:
        raise InvalidCommand("no-items", "an order needs at least one item")
    if len(command.lines) > policy.max_lines:
        raise InvalidCommand("too-many-items", f"at most {policy.max_lines} lines per order")
    skus = [line.sku for line in command.lines]
    if len(set(skus)) != len(skus):
        raise InvalidCommand("duplicate-sku", "each SKU may appear once; set its quantity")
    option = policy.shipping_options.get(command.shipping_option)
    if option is None:
        raise InvalidCommand(
            "unknown-shipping-option",
            f"shipping_option must be one of {', '.join(sorted(policy.shipping_options))}",
        )
    items = [_item(command, line) for line in command.lines]
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
            order_id=command.order_id,
            buyer_id=command.buyer_id,
            seller_id=command.seller_id,
            items=items,
            shipping_address=command.shipping_address,
            shipping_option=command.shipping_option,
            payment_method=command.payment_method,
            subtotal=subtotal,
            shipping_fee=fee,
            total=subtotal + fee,
            created_at=command.now,
            pay_by=command.now + policy.unpaid_timeout,
            programme=command.programme,
            buyer_email=command.buyer_email,
            buyer_language=command.buyer_language,
        )
    ]


def _item(command: CreateOrder, line: OrderLine) -> LineItem:
    """The line at the seller's listing: its title, price, weight and size; a listing
    waiting for (or refused at) review cannot be ordered."""
    listing = command.listings.get(line.sku)
    if listing is None or listing.price is None or listing.seller_id != command.seller_id:
        raise InvalidCommand(
            "unknown-sku", f"seller {command.seller_id} does not list SKU {line.sku}"
        )
    if not listing.orderable:
        raise DomainError(
            "product-not-approved",
            f"SKU {line.sku} of seller {command.seller_id} is {listing.review_status}: it "
            "cannot be ordered until an operator approves the listing",
            sku=line.sku,
        )
    return LineItem(
        sku=line.sku,
        title=listing.title,
        quantity=line.quantity,
        unit_price=listing.price,
        weight_g=listing.weight_g,
        dimensions=listing.dimensions,
    )


def pay(
    state: Order, order_id: uuid.UUID, command: PayOrder, policy: OrderPolicy
) -> list[EventPayload]:
    """Paid in full and in time: held for the remorse window, with the automatic review."""
    if state.status != "UNPAID":
        raise DomainError("not-payable", f"the order is {state.status}, not UNPAID")
    if state.pay_by is not None and command.now >= state.pay_by:
        raise DomainError("payment-window-closed", "the order was not paid in time")
    if command.amount != state.total:
        assert state.total is not None
        raise InvalidCommand(
            "amount-mismatch",
            f"payment of {command.amount.amount} {command.amount.currency} does not match the "
            f"total {state.total.amount} {state.total.currency}",
        )
    failures = review_order(
        replace(state, paid_amount=command.amount), command.listings, policy.risk
    )
    return [
        OrderPaid(
            order_id=order_id,
            amount=command.amount,
            transaction_id=command.transaction_id,
            paid_at=command.now,
        ),
        OrderPutOnHold(
            order_id=order_id,
            remorse_until=command.now + policy.remorse_window,
            review_passed=not failures,
            review_failures=failures,
        ),
    ]


def end_remorse_window(
    state: Order, order_id: uuid.UUID, command: EndRemorseWindow, policy: OrderPolicy
) -> list[EventPayload]:
    """The order is placed when its window is over, if the review (or an operator) cleared it."""
    if state.status != "ON_HOLD" or state.remorse_until is None:
        return []
    if command.now < state.remorse_until or not state.cleared_for_placement:
        return []
    return [placed(state, order_id, command.now, policy)]


def review(
    state: Order, order_id: uuid.UUID, command: ReviewOrder, policy: OrderPolicy
) -> list[EventPayload]:
    """An operator's decision on a held order: a rejection cancels it, an approval places it
    (at once if its remorse window is over)."""
    if state.status != "ON_HOLD":
        raise DomainError("not-on-hold", f"the order is {state.status}, not ON_HOLD")
    if state.operator_decision is not None:
        raise DomainError(
            "already-reviewed", f"an operator decided {state.operator_decision} already"
        )
    reviewed = OrderReviewed(
        order_id=order_id,
        decision=command.decision,
        reviewer_id=command.reviewer_id,
        note=command.note,
    )
    if command.decision == "REJECT":
        return [
            reviewed,
            cancelled(
                state,
                order_id,
                "operator",
                command.reviewer_id,
                "REVIEW_REJECTED",
                command.note,
                False,
                command.now,
            ),
        ]
    events: list[EventPayload] = [reviewed]
    if state.remorse_until is not None and command.now >= state.remorse_until:
        events.append(placed(state, order_id, command.now, policy))
    return events


def placed(state: Order, order_id: uuid.UUID, now: datetime, policy: OrderPolicy) -> OrderPlaced:
    """The order placed at `now`: due for dispatch its programme's SLA after its creation
    (or its placement, as the policy says), plus any extension granted before; due for
    delivery some working days after that."""
    assert state.shipping_address and state.subtotal and state.shipping_fee and state.total
    assert state.created_at and state.paid_at
    sla = policy.dispatch_sla_for(state.programme, state.shipping_address.country)
    anchor = policy.dispatch_anchor(state.created_at, now)
    dispatch_deadline = anchor + sla + timedelta(hours=state.extra_dispatch_hours)
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
        deliver_by=policy.delivery.deliver_by(state.shipping_address.country, dispatch_deadline),
    )


def change_shipping_address(
    state: Order, order_id: uuid.UUID, command: ChangeShippingAddress
) -> list[EventPayload]:
    if state.status not in PRE_SHIPMENT:
        raise DomainError(
            "address-locked", f"the address cannot change once the order is {state.status}"
        )
    if command.shipping_address == state.shipping_address:
        return []
    return [
        ShippingAddressChanged(
            order_id=order_id, shipping_address=command.shipping_address, changed_at=command.now
        )
    ]
