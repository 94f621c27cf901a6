"""The after-sales ledger of an order, pure: eligibility, refund amounts and the flows of a
request."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.aftersales.domain.ledger import (
    LEDGER,
    PostReview,
    RecordOrder,
    RecordProgress,
    RefundCancellation,
    decide,
)
from services.aftersales.domain.ledger_state import Ledger
from services.aftersales.domain.requests import (
    Answer,
    Escalate,
    Expire,
    OpenRequest,
    Receive,
    ReturnTerms,
    ShipReturn,
)
from shared.aggregate import DomainError, InvalidCommand, NotFound
from shared.events.aftersales import (
    AftersalesOrderRecorded,
    OrderedItem,
    RefundIssued,
    RequestedItem,
)
from shared.money import Money

T0 = datetime(2026, 11, 10, 9, tzinfo=UTC)
VND = "VND"


def ledger(delivered: bool = True) -> Ledger:
    order_id = uuid.uuid4()
    state = LEDGER.fold(
        decide(
            Ledger(),
            RecordOrder(
                AftersalesOrderRecorded(
                    order_id=order_id,
                    buyer_id="b1",
                    seller_id="s1",
                    items=[
                        OrderedItem(
                            sku="A", quantity=2, unit_price=Money(amount=1000, currency=VND)
                        ),
                        OrderedItem(
                            sku="B", quantity=1, unit_price=Money(amount=500, currency=VND)
                        ),
                    ],
                    shipping_fee=Money(amount=300, currency=VND),
                    total=Money(amount=2800, currency=VND),
                ),
                T0 - timedelta(days=6),
            ),
        )
    )
    state = run(
        state, RecordProgress("PAID", T0 - timedelta(days=5), T0, Money(amount=2800, currency=VND))
    )
    if delivered:
        state = run(state, RecordProgress("DELIVERED", T0 - timedelta(days=1), T0))
    return state


def run(state: Ledger, command) -> Ledger:  # type: ignore[no-untyped-def]
    return LEDGER.fold(decide(state, command), state)


def request(
    state: Ledger,
    type_: str = "RETURN_AND_REFUND",
    reason: str = "DAMAGED",
    at: datetime = T0,
    terms: ReturnTerms | None = None,
    **items: int,
):  # type: ignore[no-untyped-def]
    rid = uuid.uuid4()
    command = OpenRequest(
        rid,
        "b1",
        type_,
        [RequestedItem(sku=s, quantity=q) for s, q in items.items()],
        reason,
        None,
        [],
        at,
        terms,
    )
    return run(state, command), rid


def refunds(state: Ledger, events) -> int:  # type: ignore[no-untyped-def]
    return sum(e.amount.amount for e in events if isinstance(e, RefundIssued))


def test_eligibility() -> None:
    state = ledger()
    with pytest.raises(InvalidCommand, match="at most 2"):
        request(state, A=3)
    with pytest.raises(InvalidCommand):
        request(state, Z=1)
    with pytest.raises(DomainError, match="window"):
        request(state, at=T0 + timedelta(days=15), A=1)
    with pytest.raises(DomainError, match="delivered"):
        request(ledger(delivered=False), A=1)
    request(ledger(delivered=False), "REFUND_ONLY", "NOT_RECEIVED", A=1)  # refund only: fine
    with pytest.raises(NotFound):
        decide(
            state,
            OpenRequest(
                uuid.uuid4(),
                "someone-else",
                "REFUND_ONLY",
                [RequestedItem(sku="A", quantity=1)],
                "DAMAGED",
                None,
                [],
                T0,
            ),
        )
    state, _ = request(state, A=1)
    state, _ = request(state, A=1)
    with pytest.raises(InvalidCommand, match="at most 0"):
        request(state, A=1)


def test_return_then_refund_of_the_items_paid_price() -> None:
    state, rid = request(ledger(), A=1)
    with pytest.raises(DomainError):
        run(state, ShipReturn(rid, "POST", "RR123456789VN", T0))  # not approved yet
    state = run(state, Answer(rid, True, "s1", None, T0))
    state = run(state, ShipReturn(rid, "POST", "RR123456789VN", T0))
    events = decide(state, Receive(rid, "AS_EXPECTED", T0))
    assert refunds(state, events) == 1000
    state = LEDGER.fold(events, state)
    assert state.cases[rid].status == "REFUNDED" and state.refunded == 1000


def test_the_whole_order_for_a_sellers_fault_refunds_shipping_too() -> None:
    state, rid = request(ledger(), "REFUND_ONLY", "WRONG_ITEM", A=2, B=1)
    assert state.cases[rid].refund_amount.amount == 2800
    remorse, rid2 = request(ledger(), "REFUND_ONLY", "NO_LONGER_NEEDED", A=2, B=1)
    assert remorse.cases[rid2].refund_amount.amount == 2500  # shipping stays with the buyer


def test_rejected_then_escalated_then_decided() -> None:
    state, rid = request(ledger(), "REFUND_ONLY", "QUALITY_PROBLEM", B=1)
    with pytest.raises(InvalidCommand):
        run(state, Answer(rid, False, "s1", " ", T0))
    state = run(state, Answer(rid, False, "s1", "looks fine", T0))
    assert state.cases[rid].status == "REJECTED"
    request(state, B=1)  # a rejected request frees its units
    state = run(state, Escalate(rid, T0))
    events = decide(state, Answer(rid, True, "op", None, T0, escalated_decision=True))
    assert refunds(state, events) == 500


def test_unanswered_requests_are_approved_automatically_when_due() -> None:
    state, rid = request(ledger(), "REFUND_ONLY", "DAMAGED", B=1)
    assert decide(state, Expire(rid, T0 + timedelta(hours=47))) == []
    events = decide(state, Expire(rid, T0 + timedelta(hours=48)))
    assert events[0].auto and refunds(state, events) == 500  # type: ignore[attr-defined]
    state = LEDGER.fold(events, state)
    assert state.cases[rid].status == "REFUNDED" and state.cases[rid].approved_auto
    assert decide(state, Expire(rid, T0 + timedelta(days=30))) == []  # nothing more is due
    with pytest.raises(DomainError, match="REFUNDED"):
        decide(state, Answer(rid, False, "s1", "too late", T0 + timedelta(hours=49)))


def test_every_step_with_a_time_limit_ends_when_it_runs_out() -> None:
    state, rejected = request(ledger(), "REFUND_ONLY", "DAMAGED", B=1)
    state = run(state, Answer(rejected, False, "s1", "no", T0))
    assert decide(state, Expire(rejected, T0 + timedelta(hours=71))) == []
    state = run(state, Expire(rejected, T0 + timedelta(hours=72)))
    assert (state.cases[rejected].status, state.cases[rejected].outcome) == ("CLOSED", "REJECTED")
    with pytest.raises(DomainError, match="only a rejected"):
        run(state, Escalate(rejected, T0 + timedelta(hours=73)))

    state, unshipped = request(state, A=1)
    state = run(state, Answer(unshipped, True, "s1", None, T0))
    state = run(state, Expire(unshipped, T0 + timedelta(days=7)))
    assert state.cases[unshipped].outcome == "RETURN_NOT_SHIPPED"
    assert state.claimed("A") == 0  # its units can be asked for again

    state, unreceived = request(state, A=1)
    state = run(state, Answer(unreceived, True, "s1", None, T0))
    state = run(state, ShipReturn(unreceived, "POST", "RR1", T0 + timedelta(days=1)))
    events = decide(state, Expire(unreceived, T0 + timedelta(days=11)))
    assert events[0].auto and refunds(state, events) == 1000  # type: ignore[attr-defined]


def test_an_escalation_comes_in_time_and_only_for_units_not_claimed_again() -> None:
    state, rid = request(ledger(), "REFUND_ONLY", "QUALITY_PROBLEM", A=2)
    state = run(state, Answer(rid, False, "s1", "fine", T0))
    with pytest.raises(DomainError, match="passed"):
        run(state, Escalate(rid, T0 + timedelta(hours=72)))
    state, _ = request(state, "REFUND_ONLY", "QUALITY_PROBLEM", A=1)
    with pytest.raises(DomainError, match="claimed"):
        run(state, Escalate(rid, T0))


def test_reviews_once_per_order_after_delivery_by_its_buyer() -> None:
    with pytest.raises(DomainError, match="delivery"):
        decide(ledger(delivered=False), PostReview("b1", 5, None, T0))
    state = ledger()
    with pytest.raises(NotFound):
        decide(state, PostReview("b2", 5, None, T0))
    with pytest.raises(InvalidCommand):
        decide(state, PostReview("b1", 6, None, T0))
    state = run(state, PostReview("b1", 2, "slow", T0))
    assert state.review is not None and state.review.rating == 2
    with pytest.raises(DomainError, match="already"):
        decide(state, PostReview("b1", 5, None, T0))


def test_a_damaged_return_goes_to_the_operator() -> None:
    state, rid = request(ledger(), A=1)
    state = run(run(state, Answer(rid, True, "s1", None, T0)), ShipReturn(rid, "POST", "RR1", T0))
    state = run(state, Receive(rid, "DAMAGED", T0))
    assert state.cases[rid].status == "ESCALATED"
    events = decide(state, Answer(rid, True, "op", None, T0, escalated_decision=True))
    assert refunds(state, events) == 1000


def test_a_cancelled_paid_order_is_refunded_once() -> None:
    state = ledger(delivered=False)
    state, rid = request(state, "REFUND_ONLY", "NOT_RECEIVED", B=1)
    state = run(state, Answer(rid, True, "s1", None, T0))  # 500 back already
    state, pending = request(state, "REFUND_ONLY", "NOT_RECEIVED", A=1)
    state = run(state, RecordProgress("CANCELLED", T0, T0))
    events = decide(state, RefundCancellation(T0))
    assert refunds(state, events) == 2300  # what was paid and not refunded yet
    state = LEDGER.fold(events, state)
    assert state.cases[pending].outcome == "ORDER_CANCELLED"
    assert decide(state, RefundCancellation(T0)) == []
    assert decide(state, RecordProgress("CANCELLED", T0, T0)) == []


REPAIRING = ReturnTerms(timedelta(days=15), repair=True)  # the default window, and repair
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["REFUND_ONLY", "RETURN_AND_REFUND", "EXCHANGE", "REPAIR"]),
        st.sampled_from(["DAMAGED", "NO_LONGER_NEEDED", "WRONG_ITEM"]),
        st.dictionaries(st.sampled_from("AB"), st.integers(1, 2), min_size=1),
        st.sampled_from(["approve", "reject", "escalate", "expire", "cancel"]),
        st.sampled_from(["AS_EXPECTED", "DAMAGED"]),
        st.booleans(),
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(steps=STEPS)
def test_refunds_never_add_up_to_more_than_was_paid(steps) -> None:  # type: ignore[no-untyped-def]
    """Whatever the sequence of requests, decisions, returns, timers and a cancellation."""
    state = ledger()
    issued = 0
    now = T0

    def apply(command) -> None:  # type: ignore[no-untyped-def]
        nonlocal state, issued
        try:
            events = decide(state, command)
        except (DomainError, InvalidCommand):
            return
        issued += refunds(state, events)
        state = LEDGER.fold(events, state)

    for type_, reason, items, action, condition, operator_approves in steps:
        now += timedelta(hours=1)
        if action == "cancel":
            apply(RecordProgress("CANCELLED", now, now))
            apply(RefundCancellation(now))
            continue
        try:
            state, rid = request(state, type_, reason, at=now, terms=REPAIRING, **items)
        except (DomainError, InvalidCommand):
            continue
        if action == "expire":
            apply(Expire(rid, now + timedelta(days=2)))
        else:
            apply(Answer(rid, action == "approve", "s1", "no", now))
        if action == "escalate":
            apply(Escalate(rid, now))
            apply(Answer(rid, operator_approves, "op", "no", now, escalated_decision=True))
        apply(ShipReturn(rid, "POST", "RR1", now))
        apply(Receive(rid, condition, now))
        apply(Answer(rid, operator_approves, "op", "no", now, escalated_decision=True))
        assert issued == state.refunded <= 2800
    for item in state.items.values():
        assert state.claimed(item.sku) <= item.quantity


def test_a_review_rates_the_product_the_sellers_service_and_the_delivery_apart() -> None:
    photos = ("https://img.example/1.jpg", "https://img.example/2.jpg")
    command = PostReview("b1", 4, "good", T0, seller_service_rating=5, logistics_rating=2)
    state = run(ledger(), replace(command, photos=photos))
    review = state.review
    assert review is not None and (review.rating, review.seller_service_rating) == (4, 5)
    assert review.logistics_rating == 2 and review.photos == photos
    with pytest.raises(InvalidCommand, match="logistics_rating"):
        decide(ledger(), replace(command, logistics_rating=0))
    with pytest.raises(InvalidCommand, match="seller_service_rating"):
        decide(ledger(), replace(command, seller_service_rating=6))
    with pytest.raises(InvalidCommand, match="photos"):
        decide(ledger(), replace(command, photos=photos * 5))
    plain = run(ledger(), PostReview("b1", 3, None, T0))  # as before: only the overall rating
    assert plain.review is not None and plain.review.logistics_rating is None
