"""The aftersales ledger of one order, pure: requests, decisions, returns and refunds.
Rules: DOMAIN.md section 4.

Refund rules (stated and tested):
- an item is refunded at the unit price paid for it, times the quantity requested;
- the shipping fee is refunded when the order's last unit is refunded and the reason is the
  seller's (not NO_LONGER_NEEDED), or when a paid order is cancelled;
- a cancelled paid order is refunded its full paid amount, once;
- the refunds of an order never add up to more than what was paid.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from shared.aggregate import Aggregate, DomainError, InvalidCommand, NotFound
from shared.events import EventPayload
from shared.events.aftersales import (
    AftersalesApproved,
    AftersalesClosed,
    AftersalesEscalated,
    AftersalesOrderProgressed,
    AftersalesOrderRecorded,
    AftersalesRejected,
    AftersalesRequested,
    ExchangeShipped,
    OrderedItem,
    RefundIssued,
    RequestedItem,
    ReturnReceived,
    ReturnShipped,
)
from shared.money import Money

TYPES = ("REFUND_ONLY", "RETURN_AND_REFUND", "EXCHANGE")
REASONS = (
    "QUALITY_PROBLEM",
    "DAMAGED",
    "WRONG_ITEM",
    "NOT_AS_DESCRIBED",
    "MISSING_PARTS",
    "NOT_RECEIVED",
    "NO_LONGER_NEEDED",
)
BUYER_REASONS = frozenset({"NO_LONGER_NEEDED"})
OPEN = frozenset({"REQUESTED", "APPROVED", "ESCALATED", "RETURN_IN_TRANSIT", "RETURN_RECEIVED"})


@dataclass(frozen=True)
class AftersalesPolicy:
    answer_within: timedelta = timedelta(hours=48)
    return_window: timedelta = timedelta(days=15)


@dataclass(frozen=True)
class Case:
    request_id: uuid.UUID
    type: str
    items: tuple[RequestedItem, ...]
    reason_code: str
    status: str
    refund_amount: Money
    answer_due: datetime
    rejection_reason: str | None = None
    returned: bool = False


@dataclass(frozen=True)
class Ledger:
    order_id: uuid.UUID | None = None
    buyer_id: str = ""
    seller_id: str = ""
    items: Mapping[str, OrderedItem] = field(default_factory=dict)
    shipping_fee: Money | None = None
    paid: Money | None = None
    shipped: bool = False
    delivered_at: datetime | None = None
    cancelled: bool = False
    refunded: int = 0  # minor units, in the paid currency
    cases: Mapping[uuid.UUID, Case] = field(default_factory=dict)

    @property
    def open_cases(self) -> int:
        return sum(1 for c in self.cases.values() if c.status in OPEN)

    def claimed(self, sku: str) -> int:
        """Units of the SKU in cases that are not rejected or closed without a refund."""
        return sum(
            i.quantity
            for c in self.cases.values()
            if c.status not in ("REJECTED", "CLOSED_REJECTED")
            for i in c.items
            if i.sku == sku
        )


# --- commands -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordOrder:
    event: AftersalesOrderRecorded


@dataclass(frozen=True)
class RecordProgress:
    progress: str
    at: datetime
    paid: Money | None = None


@dataclass(frozen=True)
class OpenRequest:
    request_id: uuid.UUID
    buyer_id: str
    type: str
    items: Sequence[RequestedItem]
    reason_code: str
    description: str | None
    evidence_urls: Sequence[str]
    now: datetime


@dataclass(frozen=True)
class Answer:
    request_id: uuid.UUID
    approve: bool
    by: str
    reason: str | None
    now: datetime
    auto: bool = False
    escalated_decision: bool = False


@dataclass(frozen=True)
class Escalate:
    request_id: uuid.UUID
    now: datetime


@dataclass(frozen=True)
class ShipReturn:
    request_id: uuid.UUID
    carrier: str
    tracking_number: str
    now: datetime


@dataclass(frozen=True)
class Receive:
    request_id: uuid.UUID
    condition: str
    now: datetime


@dataclass(frozen=True)
class RefundCancellation:
    now: datetime


Command = (
    RecordOrder
    | RecordProgress
    | OpenRequest
    | Answer
    | Escalate
    | ShipReturn
    | Receive
    | RefundCancellation
)


def refund_amount(state: Ledger, items: Sequence[RequestedItem], reason_code: str) -> Money:
    """What refunding these items pays back, by the rules of the module's docstring."""
    assert state.paid is not None and state.shipping_fee is not None
    amount = sum(state.items[i.sku].unit_price.amount * i.quantity for i in items)
    claimed_after = {sku: state.claimed(sku) for sku in state.items}
    for item in items:
        claimed_after[item.sku] += item.quantity
    whole_order = all(claimed_after[sku] >= it.quantity for sku, it in state.items.items())
    if whole_order and (reason_code not in BUYER_REASONS or not state.shipped):
        amount += state.shipping_fee.amount
    remaining = state.paid.amount - state.refunded - _pending_refunds(state)
    return Money(amount=max(0, min(amount, remaining)), currency=state.paid.currency)


def _pending_refunds(state: Ledger) -> int:
    """Refunds promised by open cases and not yet issued."""
    return sum(
        c.refund_amount.amount
        for c in state.cases.values()
        if c.status in OPEN and c.type != "EXCHANGE"
    )


def decide(
    state: Ledger, command: Command, policy: AftersalesPolicy = AftersalesPolicy()
) -> list[EventPayload]:
    if isinstance(command, RecordOrder):
        return [] if state.order_id else [command.event]
    if state.order_id is None:
        raise NotFound("order-not-found", "no such order here (yet)")
    order_id = state.order_id
    match command:
        case RecordProgress():
            return [
                AftersalesOrderProgressed(
                    order_id=order_id, progress=command.progress, at=command.at, paid=command.paid
                )
            ]
        case RefundCancellation():
            if state.paid is None or state.refunded >= state.paid.amount:
                return []
            remaining = Money(
                amount=state.paid.amount - state.refunded, currency=state.paid.currency
            )
            return [
                RefundIssued(
                    order_id=order_id,
                    request_id=None,
                    amount=remaining,
                    reason="ORDER_CANCELLED",
                    at=command.now,
                )
            ]
        case OpenRequest():
            return [_open(state, order_id, command, policy)]
    case = state.cases.get(command.request_id)
    if case is None:
        raise NotFound("request-not-found", "no such after-sales request")
    match command:
        case Answer():
            return _answer(state, order_id, case, command)
        case Escalate():
            if case.status != "REJECTED":
                raise DomainError("not-rejected", "only a rejected request can be escalated")
            return [
                AftersalesEscalated(order_id=order_id, request_id=case.request_id, at=command.now)
            ]
        case ShipReturn():
            if case.type == "REFUND_ONLY" or case.status != "APPROVED":
                raise DomainError(
                    "no-return-expected", f"the request is {case.type}, {case.status}"
                )
            return [
                ReturnShipped(
                    order_id=order_id,
                    request_id=case.request_id,
                    carrier=command.carrier,
                    tracking_number=command.tracking_number,
                    at=command.now,
                )
            ]
        case Receive():
            if case.status != "RETURN_IN_TRANSIT":
                raise DomainError("no-return-in-transit", f"the request is {case.status}")
            received = ReturnReceived(
                order_id=order_id,
                request_id=case.request_id,
                condition=command.condition,
                at=command.now,
            )
            if command.condition != "AS_EXPECTED":
                return [
                    received,
                    AftersalesEscalated(
                        order_id=order_id, request_id=case.request_id, at=command.now
                    ),
                ]
            return [received, *_settle(order_id, case, command.now)]
    raise AssertionError(f"unhandled command {command!r}")


def _open(
    state: Ledger, order_id: uuid.UUID, cmd: OpenRequest, policy: AftersalesPolicy
) -> AftersalesRequested:
    if cmd.buyer_id != state.buyer_id:
        raise NotFound("order-not-found", "no such order")
    if state.cancelled:
        raise DomainError("order-cancelled", "a cancelled order is refunded by its cancellation")
    if state.paid is None:
        raise DomainError("not-paid", "the order was not paid")
    if cmd.type not in TYPES:
        raise InvalidCommand("unknown-type", f"type must be one of {', '.join(TYPES)}")
    if cmd.reason_code not in REASONS:
        raise InvalidCommand("unknown-reason", f"reason_code must be one of {', '.join(REASONS)}")
    if cmd.type != "REFUND_ONLY":
        if state.delivered_at is None:
            raise DomainError("not-delivered", f"{cmd.type} needs the order delivered first")
        if cmd.now > state.delivered_at + policy.return_window:
            raise DomainError("window-closed", "the return window after delivery has passed")
    if not cmd.items or len({i.sku for i in cmd.items}) != len(cmd.items):
        raise InvalidCommand("bad-items", "name each SKU once, at least one")
    for item in cmd.items:
        ordered = state.items.get(item.sku)
        if ordered is None:
            raise InvalidCommand("unknown-sku", f"SKU {item.sku} is not in the order")
        free = ordered.quantity - state.claimed(item.sku)
        if item.quantity > free:
            raise InvalidCommand("too-many", f"at most {free} more of {item.sku} can be requested")
    amount = refund_amount(state, cmd.items, cmd.reason_code)
    if cmd.type == "EXCHANGE":
        amount = Money.zero(amount.currency)
    return AftersalesRequested(
        order_id=order_id,
        request_id=cmd.request_id,
        buyer_id=cmd.buyer_id,
        type=cmd.type,
        items=list(cmd.items),
        reason_code=cmd.reason_code,
        description=cmd.description,
        evidence_urls=list(cmd.evidence_urls),
        requested_at=cmd.now,
        answer_due=cmd.now + policy.answer_within,
        refund_amount=amount,
    )


def _answer(state: Ledger, order_id: uuid.UUID, case: Case, cmd: Answer) -> list[EventPayload]:
    expected = "ESCALATED" if cmd.escalated_decision else "REQUESTED"
    if case.status != expected:
        if cmd.auto:
            return []
        raise DomainError("not-answerable", f"the request is {case.status}")
    if cmd.auto and cmd.now < case.answer_due:
        return []
    if not cmd.approve:
        if not (cmd.reason or "").strip():
            raise InvalidCommand("reason-required", "a rejection needs a reason")
        rejected = AftersalesRejected(
            order_id=order_id,
            request_id=case.request_id,
            reason=cmd.reason or "",
            by=cmd.by,
            at=cmd.now,
        )
        if cmd.escalated_decision:
            return [
                rejected,
                AftersalesClosed(
                    order_id=order_id, request_id=case.request_id, outcome="REJECTED", at=cmd.now
                ),
            ]
        return [rejected]
    approved = AftersalesApproved(
        order_id=order_id, request_id=case.request_id, auto=cmd.auto, by=cmd.by, at=cmd.now
    )
    if case.type == "REFUND_ONLY" or case.returned:
        return [approved, *_settle(order_id, case, cmd.now)]
    return [approved]


def _settle(order_id: uuid.UUID, case: Case, now: datetime) -> list[EventPayload]:
    if case.type == "EXCHANGE":
        return [
            ExchangeShipped(
                order_id=order_id, request_id=case.request_id, items=list(case.items), at=now
            ),
            AftersalesClosed(
                order_id=order_id, request_id=case.request_id, outcome="EXCHANGED", at=now
            ),
        ]
    return [
        RefundIssued(
            order_id=order_id,
            request_id=case.request_id,
            amount=case.refund_amount,
            reason=case.reason_code,
            at=now,
        ),
        AftersalesClosed(order_id=order_id, request_id=case.request_id, outcome="REFUNDED", at=now),
    ]


def evolve(state: Ledger, event: EventPayload) -> Ledger:
    match event:
        case AftersalesOrderRecorded():
            return replace(
                state,
                order_id=event.order_id,
                buyer_id=event.buyer_id,
                seller_id=event.seller_id,
                items={i.sku: i for i in event.items},
                shipping_fee=event.shipping_fee,
            )
        case AftersalesOrderProgressed():
            if event.progress == "PAID":
                return replace(state, paid=event.paid)
            if event.progress == "SHIPPED":
                return replace(state, shipped=True)
            if event.progress == "DELIVERED":
                return replace(state, shipped=True, delivered_at=event.at)
            if event.progress == "CANCELLED":
                return replace(state, cancelled=True)
            return state
        case AftersalesRequested():
            case = Case(
                event.request_id,
                event.type,
                tuple(event.items),
                event.reason_code,
                "REQUESTED",
                event.refund_amount,
                event.answer_due,
            )
            return replace(state, cases={**state.cases, case.request_id: case})
        case RefundIssued():
            return replace(state, refunded=state.refunded + event.amount.amount)
    status = {
        AftersalesApproved: "APPROVED",
        AftersalesRejected: "REJECTED",
        AftersalesEscalated: "ESCALATED",
        ReturnShipped: "RETURN_IN_TRANSIT",
        ReturnReceived: "RETURN_RECEIVED",
    }.get(type(event))
    request_id = getattr(event, "request_id", None)
    if not isinstance(request_id, uuid.UUID) or request_id not in state.cases:
        return state
    if isinstance(event, ReturnReceived):
        received = replace(state.cases[request_id], status="RETURN_RECEIVED", returned=True)
        return replace(state, cases={**state.cases, request_id: received})
    if isinstance(event, AftersalesClosed):
        closed = {"REFUNDED": "REFUNDED", "EXCHANGED": "EXCHANGED"}.get(
            event.outcome, "CLOSED_REJECTED"
        )
        return replace(
            state,
            cases={**state.cases, request_id: replace(state.cases[request_id], status=closed)},
        )
    if status:
        return replace(
            state,
            cases={**state.cases, request_id: replace(state.cases[request_id], status=status)},
        )
    return state


LEDGER = Aggregate(
    initial=Ledger(), evolve=evolve, keys=lambda s: (s.order_id, s.seller_id or None)
)


def ledger_stream(order_id: uuid.UUID) -> str:
    return f"aftersales/{order_id}"
