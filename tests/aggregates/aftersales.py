"""The aftersales service's aggregates and reactions, for the shared contract test: event
histories made by deciding commands in turn (folding as it goes), and every reactions dict the
app registers."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from services.aftersales.domain.complaint import COMPLAINT, FileComplaint, ResolveComplaint
from services.aftersales.domain.ledger import (
    LEDGER,
    PostReview,
    RecordOrder,
    RecordProgress,
    RefundCancellation,
)
from services.aftersales.domain.requests import (
    Answer,
    Escalate,
    Expire,
    OpenRequest,
    Receive,
    ReturnTerms,
    ShipReturn,
)
from services.aftersales.domain.return_policy import RETURN_POLICY, SetReturnPolicy
from services.aftersales.handlers import FULFILLMENT_REACTIONS, order_reactions
from services.aftersales.service import AftersalesService
from shared.aggregate import Aggregate
from shared.consumer import Reaction
from shared.events import EventPayload
from shared.events.aftersales import AftersalesOrderRecorded, OrderedItem, RequestedItem
from shared.money import Money

T0 = datetime(2026, 11, 10, 9, tzinfo=UTC)
H = timedelta(hours=1)


def history(aggregate: Aggregate[Any], commands: list[Any]) -> list[EventPayload]:
    """The events of deciding each command in turn on the state folded so far."""
    assert aggregate.decide is not None
    state, events = aggregate.initial, []
    for command in commands:
        new = list(aggregate.decide(state, command))
        state = aggregate.fold(new, state)
        events += new
    return events


def _order(order_id: uuid.UUID) -> RecordOrder:
    def vnd(amount: int) -> Money:
        return Money(amount=amount, currency="VND")

    recorded = AftersalesOrderRecorded(
        order_id=order_id,
        buyer_id="b1",
        seller_id="s1",
        items=[
            OrderedItem(sku="A", quantity=3, unit_price=vnd(1000)),
            OrderedItem(sku="B", quantity=2, unit_price=vnd(500)),
            OrderedItem(sku="C", quantity=1, unit_price=vnd(2000)),
        ],
        shipping_fee=vnd(300),
        total=vnd(6300),
    )
    return RecordOrder(recorded, T0)


def _request(request_id: uuid.UUID, type_: Any, reason: Any, at: datetime, **items: int) -> Any:
    requested = [RequestedItem(sku=sku, quantity=q) for sku, q in items.items()]
    return OpenRequest(request_id, "b1", type_, requested, reason, "see photos", [], at)


def _delivered(order_id: uuid.UUID, delivered_at: datetime) -> list[Any]:
    paid = Money(amount=6300, currency="VND")
    return [
        _order(order_id),
        RecordProgress("PAID", T0 + H, T0 + H, paid),
        RecordProgress("SHIPPED", T0 + 24 * H, T0 + 24 * H),
        RecordProgress("DELIVERED", delivered_at, delivered_at),
    ]


def _requests_answered_by_seller_and_operator() -> list[EventPayload]:
    refund, ret, damaged, rejected = (uuid.uuid4() for _ in range(4))
    d = T0 + 72 * H  # delivered
    return history(
        LEDGER,
        [
            *_delivered(uuid.uuid4(), d),
            # refund only, approved by the seller: refunded at once
            _request(refund, "REFUND_ONLY", "MISSING_PARTS", d + H, B=1),
            Answer(refund, True, "s1", None, d + 2 * H),
            # a return, received as expected: refunded
            _request(ret, "RETURN_AND_REFUND", "DAMAGED", d + H, A=1),
            Answer(ret, True, "s1", None, d + 2 * H),
            ShipReturn(ret, "POST", "RR123456789VN", d + 3 * H),
            Receive(ret, "AS_EXPECTED", d + 40 * H),
            # a return received damaged: the operator decides
            _request(damaged, "RETURN_AND_REFUND", "WRONG_ITEM", d + H, A=1),
            Answer(damaged, True, "s1", None, d + 2 * H),
            ShipReturn(damaged, "POST", "RR223456789VN", d + 3 * H),
            Receive(damaged, "DAMAGED", d + 40 * H),
            Answer(damaged, True, "op", None, d + 41 * H, escalated_decision=True),
            # rejected, escalated, rejected by the operator
            _request(rejected, "REFUND_ONLY", "NOT_AS_DESCRIBED", d + 2 * H, B=1),
            Answer(rejected, False, "s1", "as described", d + 3 * H),
            Escalate(rejected, d + 4 * H),
            Answer(rejected, False, "op", "as pictured", d + 5 * H, escalated_decision=True),
            PostReview("b1", 4, "fine in the end", d + 90 * H),
        ],
    )


def _requests_moved_on_by_their_timers() -> list[EventPayload]:
    exchange, late, unshipped = (uuid.uuid4() for _ in range(3))
    d = T0 + 72 * H  # delivered
    return history(
        LEDGER,
        [
            *_delivered(uuid.uuid4(), d),
            # an exchange approved for want of an answer, its return counted as received
            _request(exchange, "EXCHANGE", "QUALITY_PROBLEM", d + H, C=1),
            Expire(exchange, d + 49 * H),
            ShipReturn(exchange, "GHN", "GHN0001", d + 50 * H),
            Expire(exchange, d + 50 * H + timedelta(days=10)),
            # rejected and never escalated
            _request(late, "REFUND_ONLY", "NOT_AS_DESCRIBED", d + 6 * H, B=1),
            Answer(late, False, "s1", "no", d + 7 * H),
            Expire(late, d + 79 * H),
            # approved and never shipped back
            _request(unshipped, "RETURN_AND_REFUND", "NO_LONGER_NEEDED", d + 80 * H, A=1),
            Answer(unshipped, True, "s1", None, d + 81 * H),
            Expire(unshipped, d + 81 * H + timedelta(days=7)),
        ],
    )


def _paid_order_cancelled_with_a_request_open() -> list[EventPayload]:
    first, pending = uuid.uuid4(), uuid.uuid4()
    paid = Money(amount=6300, currency="VND")
    return history(
        LEDGER,
        [
            _order(uuid.uuid4()),
            RecordProgress("PAID", T0 + H, T0 + H, paid),
            _request(first, "REFUND_ONLY", "NOT_RECEIVED", T0 + 2 * H, C=1),
            Answer(first, True, "s1", None, T0 + 3 * H),
            _request(pending, "REFUND_ONLY", "NOT_RECEIVED", T0 + 4 * H, A=3),
            RecordProgress("CANCELLED", T0 + 5 * H, T0 + 5 * H),
            RefundCancellation(T0 + 5 * H),
        ],
    )


def _a_repair_under_the_sellers_policy_and_a_detailed_review() -> list[EventPayload]:
    repair = uuid.uuid4()
    d = T0 + 72 * H  # delivered
    terms = ReturnTerms(timedelta(days=30), change_of_mind=False, repair=True)
    opened = _request(repair, "REPAIR", "QUALITY_PROBLEM", d + H, C=1)
    return history(
        LEDGER,
        [
            *_delivered(uuid.uuid4(), d),
            OpenRequest(**{**vars(opened), "terms": terms}),
            Answer(repair, True, "s1", None, d + 2 * H),
            ShipReturn(repair, "POST", "RR323456789VN", d + 3 * H),
            Receive(repair, "AS_EXPECTED", d + 40 * H),
            PostReview("b1", 5, "fixed", d + 90 * H, 4, 2, ("https://img.example/1.jpg",)),
        ],
    )


def _return_policy_set_and_changed() -> list[EventPayload]:
    return history(
        RETURN_POLICY,
        [
            SetReturnPolicy("s1", 30, False, True, T0),
            SetReturnPolicy("s1", 30, False, True, T0 + H),  # the same: nothing
            SetReturnPolicy("s1", 14, True, False, T0 + 2 * H),
        ],
    )


def _complaint_filed_and_resolved() -> list[EventPayload]:
    complaint_id, package_id = uuid.uuid4(), uuid.uuid4()
    return history(
        COMPLAINT,
        [
            FileComplaint(complaint_id, "s1", package_id, "SPX", "DELAY", "late 5 days", T0),
            ResolveComplaint("the carrier compensated", "op", T0 + 48 * H),
        ],
    )


HISTORIES: list[tuple[Aggregate[Any], list[EventPayload]]] = [
    (LEDGER, _requests_answered_by_seller_and_operator()),
    (LEDGER, _requests_moved_on_by_their_timers()),
    (LEDGER, _paid_order_cancelled_with_a_request_open()),
    (LEDGER, _a_repair_under_the_sellers_policy_and_a_detailed_review()),
    (RETURN_POLICY, _return_policy_set_and_changed()),
    (COMPLAINT, _complaint_filed_and_resolved()),
]

# The reactions are only inspected for their keys: the service is not needed.
REACTIONS: list[Mapping[type[EventPayload], Reaction]] = [
    order_reactions(cast(AftersalesService, None)),
    FULFILLMENT_REACTIONS,
]
