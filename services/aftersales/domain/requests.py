"""An after-sales request's way through an order's ledger (rules: DOMAIN.md section 4): the
buyer asks, the seller answers, the buyer may escalate a rejection to the operator, a return
is shipped and received, and the request is settled (refunded, exchanged or repaired) or
closed. `ledger.decide` hands these commands to `decide_request`; refund amounts are in
`refunds.py`.

The seller's return policy (`ReturnTerms`, from `return_policy.py`) comes with the request:
how long after delivery its buyers may ask, whether it takes change-of-mind requests
(BUYER_REASONS) once the order has shipped, whether it offers REPAIR. Without one, the
marketplace's default window and today's rules apply (change of mind accepted, no repair).

Timers (AftersalesPolicy): the seller answers within 48 h or the request is approved
(`auto`); a rejection can be escalated for 72 h, then the request closes; an approved return
is shipped within 7 days or the request closes; a return in transit the seller has not
recorded within 10 days counts as received as expected (`auto`) and is refunded.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.aftersales.domain.ledger_state import Case, Ledger
from services.aftersales.domain.refunds import refund_amount, settlement
from shared.aggregate import DomainError, InvalidCommand, NotFound
from shared.events import EventPayload
from shared.events.aftersales import (
    BUYER_REASONS,
    CONDITIONS,
    NO_REFUND_TYPES,
    REASON_CODES,
    REQUEST_TYPES,
    AftersalesApproved,
    AftersalesClosed,
    AftersalesEscalated,
    AftersalesRejected,
    AftersalesRequested,
    Condition,
    ExchangeShipped,
    ReasonCode,
    RefundIssued,
    RepairShipped,
    RequestedItem,
    RequestOutcome,
    RequestType,
    ReturnReceived,
    ReturnShipped,
)
from shared.money import Money


@dataclass(frozen=True)
class AftersalesPolicy:
    """The marketplace's timers; `return_window` applies to sellers without a return policy of
    their own, which sets one between `min_return_window` and `max_return_window`."""

    answer_within: timedelta = timedelta(hours=48)
    return_window: timedelta = timedelta(days=15)
    escalate_within: timedelta = timedelta(hours=72)
    ship_return_within: timedelta = timedelta(days=7)
    receive_within: timedelta = timedelta(days=10)
    min_return_window: timedelta = timedelta(days=7)
    max_return_window: timedelta = timedelta(days=90)


@dataclass(frozen=True)
class ReturnTerms:
    """What the order's seller takes: the window after delivery, change-of-mind requests,
    repair."""

    window: timedelta
    change_of_mind: bool = True
    repair: bool = False


# --- commands -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenRequest:
    request_id: uuid.UUID
    buyer_id: str
    type: RequestType
    items: Sequence[RequestedItem]
    reason_code: ReasonCode
    description: str | None
    evidence_urls: Sequence[str]
    now: datetime
    terms: ReturnTerms | None = None  # the seller's; None: the marketplace's defaults


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
    condition: Condition
    now: datetime


@dataclass(frozen=True)
class Expire:
    """A request's timer went off: whatever is due for its status now happens."""

    request_id: uuid.UUID
    now: datetime


# --- decide ---------------------------------------------------------------------------------


RequestCommand = OpenRequest | Answer | Escalate | ShipReturn | Receive | Expire


def decide_request(
    state: Ledger, order_id: uuid.UUID, command: RequestCommand, policy: AftersalesPolicy
) -> list[EventPayload]:
    """What a request's command decides on the ledger of the order `order_id`."""
    match command:
        case OpenRequest():
            return [_open(state, order_id, command, policy)]
        case Answer():
            return _answer(state, order_id, _case(state, command.request_id), command)
        case Escalate():
            return _escalate(state, order_id, _case(state, command.request_id), command, policy)
        case ShipReturn():
            return _ship_return(order_id, _case(state, command.request_id), command)
        case Receive():
            return _receive_return(state, order_id, _case(state, command.request_id), command)
        case Expire():
            return _expire(state, order_id, _case(state, command.request_id), command.now, policy)


def _case(state: Ledger, request_id: uuid.UUID) -> Case:
    case = state.cases.get(request_id)
    if case is None:
        raise NotFound("request-not-found", "no such after-sales request")
    return case


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
    if cmd.type not in REQUEST_TYPES:
        raise InvalidCommand("unknown-type", f"type must be one of {', '.join(REQUEST_TYPES)}")
    if cmd.reason_code not in REASON_CODES:
        raise InvalidCommand(
            "unknown-reason", f"reason_code must be one of {', '.join(REASON_CODES)}"
        )
    terms = cmd.terms or ReturnTerms(policy.return_window)
    if cmd.type == "REPAIR" and not terms.repair:
        raise DomainError("repair-not-offered", "this seller does not offer repair")
    if cmd.type == "REPAIR" and cmd.reason_code in BUYER_REASONS:
        raise InvalidCommand("nothing-to-repair", "a repair needs a fault with the goods")
    if cmd.type != "REFUND_ONLY" and state.delivered_at is None:
        raise DomainError("not-delivered", f"{cmd.type} needs the order delivered first")
    if state.delivered_at is not None and cmd.now > state.delivered_at + terms.window:
        raise DomainError("window-closed", "the after-sales window after delivery has passed")
    if cmd.reason_code in BUYER_REASONS and state.shipped and not terms.change_of_mind:
        raise DomainError(
            "change-of-mind-not-accepted", "this seller takes no change-of-mind returns"
        )
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
    if cmd.type in NO_REFUND_TYPES:
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
            return [rejected, closed(order_id, case, "REJECTED", cmd.now)]
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


def _ship_return(order_id: uuid.UUID, case: Case, cmd: ShipReturn) -> list[EventPayload]:
    if case.type == "REFUND_ONLY" or case.status != "APPROVED":
        raise DomainError("no-return-expected", f"the request is {case.type}, {case.status}")
    return [
        ReturnShipped(
            order_id=order_id,
            request_id=case.request_id,
            carrier=cmd.carrier,
            tracking_number=cmd.tracking_number,
            at=cmd.now,
        )
    ]


def _receive_return(
    state: Ledger, order_id: uuid.UUID, case: Case, cmd: Receive
) -> list[EventPayload]:
    if cmd.condition not in CONDITIONS:
        raise InvalidCommand(
            "unknown-condition", f"condition must be one of {', '.join(CONDITIONS)}"
        )
    if case.status != "RETURN_IN_TRANSIT":
        raise DomainError("no-return-in-transit", f"the request is {case.status}")
    return _receive(state, order_id, case, cmd.condition, cmd.now, auto=False)


def _receive(
    state: Ledger, order_id: uuid.UUID, case: Case, condition: Condition, now: datetime, auto: bool
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
            return [closed(order_id, case, "REJECTED", now)]
        case "APPROVED" if now >= since + policy.ship_return_within:
            return [closed(order_id, case, "RETURN_NOT_SHIPPED", now)]
        case "RETURN_IN_TRANSIT" if now >= since + policy.receive_within:
            return _receive(state, order_id, case, "AS_EXPECTED", now, auto=True)
    return []


def _settle(state: Ledger, order_id: uuid.UUID, case: Case, now: datetime) -> list[EventPayload]:
    if case.type == "EXCHANGE":
        return [
            ExchangeShipped(
                order_id=order_id, request_id=case.request_id, items=list(case.items), at=now
            ),
            closed(order_id, case, "EXCHANGED", now),
        ]
    if case.type == "REPAIR":
        return [
            RepairShipped(
                order_id=order_id, request_id=case.request_id, items=list(case.items), at=now
            ),
            closed(order_id, case, "REPAIRED", now),
        ]
    return [
        RefundIssued(
            order_id=order_id,
            request_id=case.request_id,
            amount=settlement(state, case),
            reason=case.reason_code,
            at=now,
        ),
        closed(order_id, case, "REFUNDED", now),
    ]


def closed(
    order_id: uuid.UUID, case: Case, outcome: RequestOutcome, now: datetime
) -> AftersalesClosed:
    return AftersalesClosed(order_id=order_id, request_id=case.request_id, outcome=outcome, at=now)
