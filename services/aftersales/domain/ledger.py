"""The after-sales ledger of one order (stream `aftersales/<order id>`), the aggregate: what
this service hears of the order, the order's after-sales requests, its cancellation refund and
its review. Its state is in `ledger_state.py`; a request's commands and rules in
`requests.py`; what a refund pays back in `refunds.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from services.aftersales.domain.ledger_state import OPEN, Case, Ledger, Review
from services.aftersales.domain.refunds import cancellation_refund
from services.aftersales.domain.requests import (
    AftersalesPolicy,
    Answer,
    Escalate,
    Expire,
    OpenRequest,
    Receive,
    RequestCommand,
    ShipReturn,
    closed,
    decide_request,
)
from shared.aggregate import Aggregate, DomainError, InvalidCommand, NotFound
from shared.events import EventPayload
from shared.events.aftersales import (
    AFTERSALES_STREAM,
    MAX_REVIEW_PHOTOS,
    AftersalesApproved,
    AftersalesClosed,
    AftersalesEscalated,
    AftersalesOrderProgressed,
    AftersalesOrderRecorded,
    AftersalesRejected,
    AftersalesRequested,
    OrderProgress,
    RefundIssued,
    RequestStatus,
    ReturnReceived,
    ReturnShipped,
    ReviewPosted,
)
from shared.money import Money

# The status a request ends in, by its outcome (any other outcome: CLOSED).
STATUS_OF_OUTCOME: Mapping[str, RequestStatus] = {
    "REFUNDED": "REFUNDED",
    "EXCHANGED": "EXCHANGED",
    "REPAIRED": "REPAIRED",
}


# --- commands -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordOrder:
    """The order as the order service created it (recorded once)."""

    event: AftersalesOrderRecorded
    now: datetime


@dataclass(frozen=True)
class RecordProgress:
    """The order moved on (`at`: when, as the order service says), heard of `now`."""

    progress: OrderProgress
    at: datetime
    now: datetime
    paid: Money | None = None


@dataclass(frozen=True)
class RefundCancellation:
    now: datetime


@dataclass(frozen=True)
class PostReview:
    """`rating` is the overall (product) rating; the others are optional."""

    buyer_id: str
    rating: int
    text: str | None
    now: datetime
    seller_service_rating: int | None = None
    logistics_rating: int | None = None
    photos: tuple[str, ...] = ()


Command = RecordOrder | RecordProgress | RefundCancellation | PostReview | RequestCommand


# --- decide ---------------------------------------------------------------------------------


def decide(
    state: Ledger, command: Command, policy: AftersalesPolicy = AftersalesPolicy()
) -> list[EventPayload]:
    match command:
        case RecordOrder():
            return [] if state.order_id else [command.event]
    if state.order_id is None:
        raise NotFound("order-not-found", "no such order here (yet)")
    order_id = state.order_id
    match command:
        case RecordProgress():
            return _progress(state, order_id, command)
        case RefundCancellation():
            return _refund_cancellation(state, order_id, command.now)
        case PostReview():
            return [_review(state, order_id, command)]
        case OpenRequest() | Answer() | Escalate() | ShipReturn() | Receive() | Expire():
            return decide_request(state, order_id, command, policy)
    raise AssertionError(f"unhandled command {command!r}")


def _progress(state: Ledger, order_id: uuid.UUID, cmd: RecordProgress) -> list[EventPayload]:
    known = {
        "PAID": state.paid is not None,
        "SHIPPED": state.shipped,
        "DELIVERED": state.delivered_at is not None,
        "CANCELLED": state.cancelled,
    }
    if known.get(cmd.progress, True):
        return []  # a repeat (or nothing this service follows)
    return [
        AftersalesOrderProgressed(
            order_id=order_id, progress=cmd.progress, at=cmd.at, paid=cmd.paid
        )
    ]


def _refund_cancellation(state: Ledger, order_id: uuid.UUID, now: datetime) -> list[EventPayload]:
    """What was paid and not refunded yet goes back, once; open requests close with it."""
    events: list[EventPayload] = [
        closed(order_id, case, "ORDER_CANCELLED", now)
        for case in state.cases.values()
        if case.status in OPEN | {"REJECTED"}
    ]
    remaining = cancellation_refund(state)
    if remaining is not None:
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
    for name, stars in (
        ("rating", cmd.rating),
        ("seller_service_rating", cmd.seller_service_rating),
        ("logistics_rating", cmd.logistics_rating),
    ):
        if stars is not None and not 1 <= stars <= 5:
            raise InvalidCommand("bad-rating", f"{name} is 1 to 5 stars")
    if len(cmd.photos) > MAX_REVIEW_PHOTOS:
        raise InvalidCommand("too-many-photos", f"at most {MAX_REVIEW_PHOTOS} photos")
    return ReviewPosted(
        order_id=order_id,
        buyer_id=state.buyer_id,
        seller_id=state.seller_id,
        rating=cmd.rating,
        text=cmd.text,
        at=cmd.now,
        seller_service_rating=cmd.seller_service_rating,
        logistics_rating=cmd.logistics_rating,
        photos=list(cmd.photos),
    )


# --- evolve ---------------------------------------------------------------------------------


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
        case AftersalesOrderProgressed(progress="PAID"):
            return replace(state, paid=event.paid)
        case AftersalesOrderProgressed(progress="SHIPPED"):
            return replace(state, shipped=True)
        case AftersalesOrderProgressed(progress="DELIVERED"):
            return replace(state, shipped=True, delivered_at=event.at)
        case AftersalesOrderProgressed(progress="CANCELLED"):
            return replace(state, cancelled=True)
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
            review = Review(
                event.rating,
                event.text,
                event.at,
                event.seller_service_rating,
                event.logistics_rating,
                tuple(event.photos),
            )
            return replace(state, review=review)
        case RefundIssued():
            state = replace(state, refunded=state.refunded + event.amount.amount)
            return _with_case(state, event.request_id, refunded=event.amount)
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
            return _with_case(
                state,
                event.request_id,
                status=STATUS_OF_OUTCOME.get(event.outcome, "CLOSED"),
                outcome=event.outcome,
                at=event.at,
            )
    return state


def _with_case(
    state: Ledger, request_id: uuid.UUID | None, at: datetime | None = None, **changes: object
) -> Ledger:
    """The ledger with one request changed (and its `updated_at` moved to `at`); unchanged if
    the event names no request of this ledger (a cancelled order's refund)."""
    if request_id is None or request_id not in state.cases:
        return state
    case = state.cases[request_id]
    changed = replace(case, updated_at=at or case.updated_at, **changes)  # type: ignore[arg-type]
    return replace(state, cases={**state.cases, request_id: changed})


# --- the aggregate --------------------------------------------------------------------------


def _keys(state: Ledger) -> tuple[uuid.UUID | None, str | None]:
    return state.order_id, state.seller_id or None


def ledger_aggregate(policy: AftersalesPolicy) -> Aggregate[Ledger]:
    """The ledger deciding by these timers (the service's, from its settings)."""

    def decide_by_policy(state: Ledger, command: Command) -> list[EventPayload]:
        return decide(state, command, policy)

    return Aggregate(
        name=AFTERSALES_STREAM,
        initial=Ledger(),
        decide=decide_by_policy,
        evolve=evolve,
        keys=_keys,
    )


LEDGER = ledger_aggregate(AftersalesPolicy())  # with the default timers
