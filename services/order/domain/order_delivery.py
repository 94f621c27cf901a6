"""After placement: the order follows its packages (as fulfillment and pickup report them)
to DELIVERED, takes dispatch extensions the platform grants, completes when the buyer
confirms receipt or some days after delivery (not while an after-sales case is open), and
shows the after-sales cases and refunds the aftersales service reports."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.order.domain.order_policy import OrderPolicy
from services.order.domain.order_state import FULFILLING, Order, refund_key
from services.order.domain.packages import is_package_status, supersedes
from shared.aggregate import DomainError
from shared.events import EventPayload
from shared.events.fulfillment import PackageStatus
from shared.events.order import (
    AftersalesCaseRecorded,
    DispatchDeadlineMoved,
    OrderCompleted,
    OrderRefunded,
    PackageStatusRecorded,
)
from shared.money import Money


@dataclass(frozen=True)
class RecordPackageStatus:
    package_id: uuid.UUID
    package_status: PackageStatus
    now: datetime


@dataclass(frozen=True)
class ExtendDispatch:
    hours: int
    reason: str
    now: datetime
    extension_id: uuid.UUID | None = None  # the grant (a switch): taken once


@dataclass(frozen=True)
class ConfirmReceipt:
    now: datetime


@dataclass(frozen=True)
class AutoComplete:
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


def record_package_status(
    state: Order, order_id: uuid.UUID, command: RecordPackageStatus
) -> list[EventPayload]:
    """A package's news, unless it is old: a repeat, or a status of an earlier phase."""
    if state.status not in FULFILLING | {"DELIVERED"}:
        return []
    if not is_package_status(command.package_status):
        return []  # not a status of the vocabulary
    known = state.package_statuses.get(command.package_id)
    if known is None and state.status == "DELIVERED":
        return []  # a replacement shipped for an after-sales exchange: not the order's parcel
    if not supersedes(command.package_status, known):
        return []
    return [
        PackageStatusRecorded(
            order_id=order_id,
            package_id=command.package_id,
            package_status=command.package_status,
            recorded_at=command.now,
        )
    ]


def extend_dispatch(
    state: Order, order_id: uuid.UUID, command: ExtendDispatch, policy: OrderPolicy
) -> list[EventPayload]:
    """Before placement the hours are kept (and added when placed); after it, the deadlines
    move: deliver-by is counted again, in working days, from the new dispatch deadline. Only
    later, never earlier, and a grant (`extension_id`) once."""
    if state.status in ("CANCELLED", "COMPLETED") or command.hours <= 0:
        return []
    if command.extension_id is not None and command.extension_id in state.extensions:
        return []
    dispatch_deadline, deliver_by = state.dispatch_deadline, state.deliver_by
    if dispatch_deadline is None or deliver_by is None:  # not placed yet
        dispatch_deadline = deliver_by = None
    else:
        assert state.shipping_address is not None
        dispatch_deadline = dispatch_deadline + timedelta(hours=command.hours)
        deliver_by = policy.delivery.deliver_by(state.shipping_address.country, dispatch_deadline)
    return [
        DispatchDeadlineMoved(
            order_id=order_id,
            hours=command.hours,
            reason=command.reason,
            dispatch_deadline=dispatch_deadline,
            deliver_by=deliver_by,
            extension_id=command.extension_id,
        )
    ]


def confirm_receipt(
    state: Order, order_id: uuid.UUID, command: ConfirmReceipt
) -> list[EventPayload]:
    if state.status == "COMPLETED":
        return []
    if state.status != "DELIVERED":
        raise DomainError("not-delivered", f"the order is {state.status}, not DELIVERED")
    return [OrderCompleted(order_id=order_id, completed_at=command.now, auto=False)]


def auto_complete(
    state: Order, order_id: uuid.UUID, command: AutoComplete, policy: OrderPolicy
) -> list[EventPayload]:
    due = state.delivered_at and state.delivered_at + policy.auto_complete_after
    if state.status != "DELIVERED" or due is None or command.now < due:
        return []
    if state.open_aftersales_cases:
        return []  # completes when the case closes (aftersales, issue 5)
    return [OrderCompleted(order_id=order_id, completed_at=command.now, auto=True)]


def record_aftersales_case(
    state: Order, order_id: uuid.UUID, command: RecordAftersalesCase
) -> list[EventPayload]:
    if (command.request_id in state.open_cases) == command.open:
        return []  # a repeat, or a close of a case never opened here
    return [
        AftersalesCaseRecorded(
            order_id=order_id, request_id=command.request_id, open=command.open, at=command.now
        )
    ]


def record_refund(state: Order, order_id: uuid.UUID, command: RecordRefund) -> list[EventPayload]:
    if refund_key(command.request_id) in state.refunds:
        return []
    total = (state.refunded or Money.zero(command.amount.currency)) + command.amount
    paid = state.paid_amount
    return [
        OrderRefunded(
            order_id=order_id,
            request_id=command.request_id,
            amount=command.amount,
            refunded_total=total,
            fully_refunded=paid is not None and total.amount >= paid.amount,
            refunded_at=command.now,
        )
    ]
