"""The aftersales ledger of one order, pure: requests, decisions, returns, refunds and the
buyer's review; and the logistics complaints of sellers. Rules: DOMAIN.md section 4.

Refund rules (stated and tested):
- an item is refunded at the unit price paid for it, times the quantity requested;
- the shipping fee is refunded when the order's last unit is refunded and the reason is the
  seller's (not NO_LONGER_NEEDED), or whatever the reason before the order shipped, or when a
  paid order is cancelled;
- a cancelled paid order is refunded what was paid and not refunded yet, once;
- the refunds of an order never add up to more than what was paid.

Timers (AftersalesPolicy): the seller answers within 48 h or the request is approved
(`auto`); a rejection can be escalated for 72 h, then the request closes; an approved return
is shipped within 7 days or the request closes; a return in transit the seller has not
recorded within 10 days counts as received as expected (`auto`) and is refunded.
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
    LogisticsComplaintFiled,
    LogisticsComplaintResolved,
    OrderedItem,
    RefundIssued,
    RequestedItem,
    ReturnReceived,
    ReturnShipped,
    ReviewPosted,
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
CONDITIONS = ("AS_EXPECTED", "DAMAGED", "WRONG_ITEM", "MISSING")
BUYER_REASONS = frozenset({"NO_LONGER_NEEDED"})
OPEN = frozenset({"REQUESTED", "APPROVED", "ESCALATED", "RETURN_IN_TRANSIT", "RETURN_RECEIVED"})
# Statuses whose units are not claimed: the buyer may ask for them again.
UNCLAIMED = frozenset({"REJECTED", "CLOSED"})


@dataclass(frozen=True)
class AftersalesPolicy:
    answer_within: timedelta = timedelta(hours=48)
    return_window: timedelta = timedelta(days=15)
    escalate_within: timedelta = timedelta(hours=72)
    ship_return_within: timedelta = timedelta(days=7)
    receive_within: timedelta = timedelta(days=10)


@dataclass(frozen=True)
class Case:
    request_id: uuid.UUID
    type: str
    items: tuple[RequestedItem, ...]
    reason_code: str
    description: str | None
    evidence_urls: tuple[str, ...]
    requested_at: datetime
    answer_due: datetime
    refund_amount: Money
    status: str = "REQUESTED"
    updated_at: datetime | None = None
    approved_auto: bool | None = None
    rejection_reason: str | None = None
    escalated: bool = False
    return_carrier: str | None = None
    return_tracking_number: str | None = None
    condition: str | None = None
    refunded: Money | None = None
    outcome: str | None = None

    @property
    def returned(self) -> bool:
        return self.condition is not None


@dataclass(frozen=True)
class Review:
    rating: int
    text: str | None
    at: datetime


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


# --- commands -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordOrder:
    event: AftersalesOrderRecorded


@dataclass(frozen=True)
class RecordProgress:
    progress: str  # PAID, SHIPPED, DELIVERED, CANCELLED
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
    """The seller's answer, or (`escalated_decision`) the operator's on an escalated case."""

    request_id: uuid.UUID
    approve: bool
    by: str
    reason: str | None
    now: datetime
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
class Expire:
    """A request's timer went off: whatever is due for its status now happens."""

    request_id: uuid.UUID
    now: datetime


@dataclass(frozen=True)
class RefundCancellation:
    now: datetime


@dataclass(frozen=True)
class PostReview:
    buyer_id: str
    rating: int
    text: str | None
    now: datetime


Command = (
    RecordOrder
    | RecordProgress
    | OpenRequest
    | Answer
    | Escalate
    | ShipReturn
    | Receive
    | Expire
    | RefundCancellation
    | PostReview
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
    return Money(amount=max(0, min(amount, _refundable(state))), currency=state.paid.currency)


def _refundable(state: Ledger) -> int:
    """What is left to refund: paid, less refunded, less what open requests promise."""
    assert state.paid is not None
    pending = sum(
        c.refund_amount.amount
        for c in state.cases.values()
        if c.status in OPEN and c.type != "EXCHANGE"
    )
    return state.paid.amount - state.refunded - pending


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
            known = {
                "PAID": state.paid is not None,
                "SHIPPED": state.shipped,
                "DELIVERED": state.delivered_at is not None,
                "CANCELLED": state.cancelled,
            }
            if known.get(command.progress, True):
                return []  # a repeat (or nothing this service follows)
            return [
                AftersalesOrderProgressed(
                    order_id=order_id, progress=command.progress, at=command.at, paid=command.paid
                )
            ]
        case RefundCancellation():
            return _refund_cancellation(state, order_id, command.now)
        case OpenRequest():
            return [_open(state, order_id, command, policy)]
        case PostReview():
            return [_review(state, order_id, command)]
    case = state.cases.get(command.request_id)
    if case is None:
        raise NotFound("request-not-found", "no such after-sales request")
    match command:
        case Answer():
            return _answer(state, order_id, case, command)
        case Escalate():
            return _escalate(state, order_id, case, command, policy)
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
            if command.condition not in CONDITIONS:
                raise InvalidCommand(
                    "unknown-condition", f"condition must be one of {', '.join(CONDITIONS)}"
                )
            if case.status != "RETURN_IN_TRANSIT":
                raise DomainError("no-return-in-transit", f"the request is {case.status}")
            return _receive(state, order_id, case, command.condition, command.now, auto=False)
        case Expire():
            return _expire(state, order_id, case, command.now, policy)
    raise AssertionError(f"unhandled command {command!r}")


def _open(
    state: Ledger, order_id: uuid.UUID, cmd: OpenRequest, policy: AftersalesPolicy
) -> AftersalesRequested:
    if cmd.buyer_id != state.buyer_id:
        raise NotFound("order-not-found", "no such order")
    if cmd.request_id in state.cases:
        raise DomainError("request-exists", "this request exists already")
    if state.cancelled:
        raise DomainError("order-cancelled", "a cancelled order is refunded by its cancellation")
    if state.paid is None:
        raise DomainError("not-paid", "the order was not paid")
    if cmd.type not in TYPES:
        raise InvalidCommand("unknown-type", f"type must be one of {', '.join(TYPES)}")
    if cmd.reason_code not in REASONS:
        raise InvalidCommand("unknown-reason", f"reason_code must be one of {', '.join(REASONS)}")
    if cmd.type != "REFUND_ONLY" and state.delivered_at is None:
        raise DomainError("not-delivered", f"{cmd.type} needs the order delivered first")
    if state.delivered_at is not None and cmd.now > state.delivered_at + policy.return_window:
        raise DomainError("window-closed", "the after-sales window after delivery has passed")
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
        raise DomainError("not-answerable", f"the request is {case.status}, not {expected}")
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
            return [rejected, _closed(order_id, case, "REJECTED", cmd.now)]
        return [rejected]
    return _approve(state, order_id, case, cmd.by, cmd.now, auto=False)


def _approve(
    state: Ledger, order_id: uuid.UUID, case: Case, by: str, now: datetime, auto: bool
) -> list[EventPayload]:
    approved = AftersalesApproved(
        order_id=order_id, request_id=case.request_id, auto=auto, by=by, at=now
    )
    if case.type == "REFUND_ONLY" or case.returned:
        return [approved, *_settle(state, order_id, case, now)]
    return [approved]


def _escalate(
    state: Ledger, order_id: uuid.UUID, case: Case, cmd: Escalate, policy: AftersalesPolicy
) -> list[EventPayload]:
    if case.status != "REJECTED":
        raise DomainError("not-rejected", "only a rejected request can be escalated")
    assert case.updated_at is not None
    if cmd.now >= case.updated_at + policy.escalate_within:
        raise DomainError("escalation-window-closed", "the time to escalate has passed")
    for item in case.items:
        free = state.items[item.sku].quantity - state.claimed(item.sku, besides=case.request_id)
        if item.quantity > free:
            raise DomainError(
                "claimed-again", f"{item.sku} is claimed by a later request; escalate that one"
            )
    return [AftersalesEscalated(order_id=order_id, request_id=case.request_id, at=cmd.now)]


def _receive(
    state: Ledger, order_id: uuid.UUID, case: Case, condition: str, now: datetime, auto: bool
) -> list[EventPayload]:
    received = ReturnReceived(
        order_id=order_id, request_id=case.request_id, condition=condition, at=now, auto=auto
    )
    if condition != "AS_EXPECTED":  # damaged, wrong or missing: the operator decides
        return [
            received,
            AftersalesEscalated(order_id=order_id, request_id=case.request_id, at=now),
        ]
    return [received, *_settle(state, order_id, case, now)]


def _expire(
    state: Ledger, order_id: uuid.UUID, case: Case, now: datetime, policy: AftersalesPolicy
) -> list[EventPayload]:
    since = case.updated_at or case.requested_at
    match case.status:
        case "REQUESTED" if now >= case.answer_due:
            return _approve(state, order_id, case, "system", now, auto=True)
        case "REJECTED" if now >= since + policy.escalate_within:
            return [_closed(order_id, case, "REJECTED", now)]
        case "APPROVED" if now >= since + policy.ship_return_within:
            return [_closed(order_id, case, "RETURN_NOT_SHIPPED", now)]
        case "RETURN_IN_TRANSIT" if now >= since + policy.receive_within:
            return _receive(state, order_id, case, "AS_EXPECTED", now, auto=True)
    return []


def _settle(state: Ledger, order_id: uuid.UUID, case: Case, now: datetime) -> list[EventPayload]:
    if case.type == "EXCHANGE":
        return [
            ExchangeShipped(
                order_id=order_id, request_id=case.request_id, items=list(case.items), at=now
            ),
            _closed(order_id, case, "EXCHANGED", now),
        ]
    assert state.paid is not None
    amount = min(case.refund_amount.amount, state.paid.amount - state.refunded)
    return [
        RefundIssued(
            order_id=order_id,
            request_id=case.request_id,
            amount=Money(amount=amount, currency=case.refund_amount.currency),
            reason=case.reason_code,
            at=now,
        ),
        _closed(order_id, case, "REFUNDED", now),
    ]


def _closed(order_id: uuid.UUID, case: Case, outcome: str, now: datetime) -> AftersalesClosed:
    return AftersalesClosed(order_id=order_id, request_id=case.request_id, outcome=outcome, at=now)


def _refund_cancellation(state: Ledger, order_id: uuid.UUID, now: datetime) -> list[EventPayload]:
    """What was paid and not refunded yet goes back, once; open requests close with it."""
    events: list[EventPayload] = [
        _closed(order_id, case, "ORDER_CANCELLED", now)
        for case in state.cases.values()
        if case.status in OPEN | {"REJECTED"}
    ]
    if state.paid is not None and state.refunded < state.paid.amount:
        remaining = Money(amount=state.paid.amount - state.refunded, currency=state.paid.currency)
        events.append(
            RefundIssued(
                order_id=order_id,
                request_id=None,
                amount=remaining,
                reason="ORDER_CANCELLED",
                at=now,
            )
        )
    return events


def _review(state: Ledger, order_id: uuid.UUID, cmd: PostReview) -> ReviewPosted:
    if cmd.buyer_id != state.buyer_id:
        raise NotFound("order-not-found", "no such order")
    if state.delivered_at is None:
        raise DomainError("not-delivered", "an order is reviewed after its delivery")
    if state.review is not None:
        raise DomainError("already-reviewed", "this order has its review already")
    if not 1 <= cmd.rating <= 5:
        raise InvalidCommand("bad-rating", "rating is 1 to 5 stars")
    return ReviewPosted(
        order_id=order_id,
        buyer_id=state.buyer_id,
        seller_id=state.seller_id,
        rating=cmd.rating,
        text=cmd.text,
        at=cmd.now,
    )


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
                request_id=event.request_id,
                type=event.type,
                items=tuple(event.items),
                reason_code=event.reason_code,
                description=event.description,
                evidence_urls=tuple(event.evidence_urls),
                requested_at=event.requested_at,
                answer_due=event.answer_due,
                refund_amount=event.refund_amount,
                updated_at=event.requested_at,
            )
            return replace(state, cases={**state.cases, case.request_id: case})
        case ReviewPosted():
            return replace(state, review=Review(event.rating, event.text, event.at))
        case RefundIssued():
            state = replace(state, refunded=state.refunded + event.amount.amount)
            if event.request_id in state.cases:
                return _with_case(state, event.request_id, refunded=event.amount)
            return state
        case AftersalesApproved():
            return _with_case(
                state, event.request_id, status="APPROVED", approved_auto=event.auto, at=event.at
            )
        case AftersalesRejected():
            return _with_case(
                state,
                event.request_id,
                status="REJECTED",
                rejection_reason=event.reason,
                at=event.at,
            )
        case AftersalesEscalated():
            return _with_case(
                state, event.request_id, status="ESCALATED", escalated=True, at=event.at
            )
        case ReturnShipped():
            return _with_case(
                state,
                event.request_id,
                status="RETURN_IN_TRANSIT",
                return_carrier=event.carrier,
                return_tracking_number=event.tracking_number,
                at=event.at,
            )
        case ReturnReceived():
            return _with_case(
                state,
                event.request_id,
                status="RETURN_RECEIVED",
                condition=event.condition,
                at=event.at,
            )
        case AftersalesClosed():
            status = {"REFUNDED": "REFUNDED", "EXCHANGED": "EXCHANGED"}.get(event.outcome, "CLOSED")
            return _with_case(
                state, event.request_id, status=status, outcome=event.outcome, at=event.at
            )
    return state


def _with_case(
    state: Ledger, request_id: uuid.UUID | None, at: datetime | None = None, **changes: object
) -> Ledger:
    if request_id is None or request_id not in state.cases:
        return state
    case = state.cases[request_id]
    changed = replace(case, updated_at=at or case.updated_at, **changes)  # type: ignore[arg-type]
    return replace(state, cases={**state.cases, request_id: changed})


LEDGER = Aggregate(
    initial=Ledger(), evolve=evolve, keys=lambda s: (s.order_id, s.seller_id or None)
)


def ledger_stream(order_id: uuid.UUID) -> str:
    return f"aftersales/{order_id}"


# --- logistics complaints ---------------------------------------------------------------------

COMPLAINT_TYPES = ("DELAY", "LOSS", "DAMAGE")


@dataclass(frozen=True)
class Complaint:
    complaint_id: uuid.UUID | None = None
    seller_id: str = ""
    package_id: uuid.UUID | None = None
    carrier: str = ""
    type: str = ""
    description: str = ""
    filed_at: datetime | None = None
    status: str = "NONE"  # OPEN, RESOLVED
    resolution: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class FileComplaint:
    """A seller's complaint about a package it shipped with `carrier` (checked by the
    service against what fulfillment said)."""

    complaint_id: uuid.UUID
    seller_id: str
    package_id: uuid.UUID
    carrier: str
    type: str
    description: str
    now: datetime


@dataclass(frozen=True)
class ResolveComplaint:
    resolution: str
    by: str
    now: datetime


def decide_complaint(
    state: Complaint, command: FileComplaint | ResolveComplaint
) -> list[EventPayload]:
    match command:
        case FileComplaint():
            if state.complaint_id is not None:
                raise DomainError("complaint-exists", "this complaint exists already")
            if command.type not in COMPLAINT_TYPES:
                raise InvalidCommand(
                    "unknown-type", f"type must be one of {', '.join(COMPLAINT_TYPES)}"
                )
            return [
                LogisticsComplaintFiled(
                    complaint_id=command.complaint_id,
                    seller_id=command.seller_id,
                    package_id=command.package_id,
                    carrier=command.carrier,
                    type=command.type,
                    description=command.description,
                    at=command.now,
                )
            ]
        case ResolveComplaint():
            if state.complaint_id is None:
                raise NotFound("complaint-not-found", "no such complaint")
            if state.status == "RESOLVED":
                raise DomainError("already-resolved", "this complaint is resolved already")
            if not command.resolution.strip():
                raise InvalidCommand("resolution-required", "say how it was resolved")
            return [
                LogisticsComplaintResolved(
                    complaint_id=state.complaint_id,
                    resolution=command.resolution,
                    by=command.by,
                    at=command.now,
                )
            ]


def evolve_complaint(state: Complaint, event: EventPayload) -> Complaint:
    match event:
        case LogisticsComplaintFiled():
            return Complaint(
                complaint_id=event.complaint_id,
                seller_id=event.seller_id,
                package_id=event.package_id,
                carrier=event.carrier,
                type=event.type,
                description=event.description,
                filed_at=event.at,
                status="OPEN",
            )
        case LogisticsComplaintResolved():
            return replace(
                state,
                status="RESOLVED",
                resolution=event.resolution,
                resolved_by=event.by,
                resolved_at=event.at,
            )
    return state


COMPLAINT = Aggregate(
    initial=Complaint(), evolve=evolve_complaint, keys=lambda c: (None, c.seller_id or None)
)


def complaint_stream(complaint_id: uuid.UUID) -> str:
    return f"complaint/{complaint_id}"
