"""Cancellation: the buyer cancels an unpaid order, or a paid one within its remorse window, at
once; a placed one by request, which the seller answers (approved automatically when
unanswered). Sellers and operators cancel with a reason that says whether it is the seller's
fault; the system cancels an unpaid order after its timeout and a placed one long overdue for
dispatch. Once a package is ready to ship, only an after-sales request is left."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from services.order.domain.order_policy import OrderPolicy
from services.order.domain.order_state import PRE_SHIPMENT, Order
from shared.aggregate import DomainError, InvalidCommand
from shared.events import EventPayload
from shared.events.order import Actor, CancellationRejected, CancellationRequested, OrderCancelled

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
SYSTEM_REASONS: Mapping[str, bool] = {
    "UNPAID_TIMEOUT": False,
    "MISSED_DISPATCH_DEADLINE": True,
    "OUT_OF_STOCK": True,  # still short of stock when the wait ran out (order_stock)
}
REASONS_BY_ACTOR: Mapping[Actor, Mapping[str, bool]] = {
    "buyer": dict.fromkeys(BUYER_REASONS, False),
    "seller": SELLER_REASONS,
    "operator": OPERATOR_REASONS,
    "system": SYSTEM_REASONS,
}


@dataclass(frozen=True)
class CancelOrder:
    actor: Actor
    actor_id: str
    reason_code: str
    note: str | None
    now: datetime


@dataclass(frozen=True)
class ApproveCancellation:
    """The seller approves the buyer's request; `auto` when its time to answer ran out."""

    actor_id: str
    now: datetime
    auto: bool = False


@dataclass(frozen=True)
class RejectCancellation:
    actor_id: str
    reason: str
    now: datetime


@dataclass(frozen=True)
class CancelUnpaid:
    now: datetime


@dataclass(frozen=True)
class CancelForMissedDispatch:
    now: datetime


def cancel(
    state: Order, order_id: uuid.UUID, command: CancelOrder, policy: OrderPolicy
) -> list[EventPayload]:
    if state.status == "CANCELLED":
        raise DomainError("already-cancelled", "the order is cancelled already")
    if state.status not in PRE_SHIPMENT:
        raise DomainError(
            "cancellation-closed",
            f"the order is {state.status}: a package is ready to ship, use an after-sales request",
        )
    reasons = REASONS_BY_ACTOR[command.actor]
    if command.reason_code not in reasons:
        raise InvalidCommand(
            "unknown-reason-code",
            f"reason_code for a {command.actor} must be one of {', '.join(sorted(reasons))}",
        )
    if command.actor == "buyer" and state.status == "AWAITING_SHIPMENT":
        request = state.cancellation_request
        if request is not None and request.status == "PENDING":
            raise DomainError("cancellation-pending", "a cancellation request is pending already")
        return [
            CancellationRequested(
                order_id=order_id,
                requested_by=command.actor_id,
                reason_code=command.reason_code,
                note=command.note,
                requested_at=command.now,
                auto_approve_at=command.now + policy.cancellation_auto_approve,
            )
        ]
    return [
        cancelled(
            state,
            order_id,
            command.actor,
            command.actor_id,
            command.reason_code,
            command.note,
            reasons[command.reason_code],
            command.now,
        )
    ]


def approve(state: Order, order_id: uuid.UUID, command: ApproveCancellation) -> list[EventPayload]:
    request = state.cancellation_request
    if request is None or request.status != "PENDING" or state.status not in PRE_SHIPMENT:
        if command.auto:
            return []
        raise DomainError("no-pending-cancellation", "there is no pending cancellation request")
    if command.auto and command.now < request.auto_approve_at:
        return []
    return [
        cancelled(
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


def reject(state: Order, order_id: uuid.UUID, command: RejectCancellation) -> list[EventPayload]:
    request = state.cancellation_request
    if request is None or request.status != "PENDING":
        raise DomainError("no-pending-cancellation", "there is no pending cancellation request")
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


def cancel_unpaid(state: Order, order_id: uuid.UUID, command: CancelUnpaid) -> list[EventPayload]:
    """The unpaid timeout: cancels an order still unpaid when its time to pay is over."""
    if state.status != "UNPAID" or state.pay_by is None or command.now < state.pay_by:
        return []
    return [
        cancelled(state, order_id, "system", "system", "UNPAID_TIMEOUT", None, False, command.now)
    ]


def cancel_for_missed_dispatch(
    state: Order, order_id: uuid.UUID, command: CancelForMissedDispatch, policy: OrderPolicy
) -> list[EventPayload]:
    """An order with nothing ready to ship days after its dispatch deadline is cancelled, at
    the seller's fault."""
    due = state.dispatch_deadline and state.dispatch_deadline + policy.missed_dispatch_cancel_after
    if state.status != "AWAITING_SHIPMENT" or due is None or command.now < due:
        return []
    return [
        cancelled(
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


def cancelled(
    state: Order,
    order_id: uuid.UUID,
    actor: Actor,
    actor_id: str,
    reason_code: str,
    note: str | None,
    seller_fault: bool,
    now: datetime,
) -> OrderCancelled:
    """The order cancelled; what was paid is due back to the buyer."""
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
