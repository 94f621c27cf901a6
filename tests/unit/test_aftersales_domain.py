"""The aftersales ledger, pure: eligibility, refund amounts and the flows of a request."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.aftersales.domain import (
    LEDGER,
    Answer,
    Escalate,
    Ledger,
    OpenRequest,
    Receive,
    RecordOrder,
    RecordProgress,
    RefundCancellation,
    ShipReturn,
    decide,
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
                )
            ),
        )
    )
    state = run(
        state, RecordProgress("PAID", T0 - timedelta(days=5), Money(amount=2800, currency=VND))
    )
    if delivered:
        state = run(state, RecordProgress("DELIVERED", T0 - timedelta(days=1)))
    return state


def run(state: Ledger, command) -> Ledger:  # type: ignore[no-untyped-def]
    return LEDGER.fold(decide(state, command), state)


def request(
    state: Ledger,
    type_: str = "RETURN_AND_REFUND",
    reason: str = "DAMAGED",
    at: datetime = T0,
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
    assert (
        decide(state, Answer(rid, True, "system", None, T0 + timedelta(hours=47), auto=True)) == []
    )
    events = decide(state, Answer(rid, True, "system", None, T0 + timedelta(hours=48), auto=True))
    assert events[0].auto and refunds(state, events) == 500  # type: ignore[attr-defined]


def test_a_damaged_return_goes_to_the_operator() -> None:
    state, rid = request(ledger(), A=1)
    state = run(run(state, Answer(rid, True, "s1", None, T0)), ShipReturn(rid, "POST", "RR1", T0))
    state = run(state, Receive(rid, "DAMAGED", T0))
    assert state.cases[rid].status == "ESCALATED"
    events = decide(state, Answer(rid, True, "op", None, T0, escalated_decision=True))
    assert refunds(state, events) == 1000


def test_a_cancelled_paid_order_is_refunded_once() -> None:
    state = ledger(delivered=False)
    events = decide(state, RefundCancellation(T0))
    assert refunds(state, events) == 2800
    state = LEDGER.fold(events, state)
    assert decide(state, RefundCancellation(T0)) == []


STEPS = st.lists(
    st.tuples(
        st.sampled_from(["REFUND_ONLY", "RETURN_AND_REFUND"]),
        st.sampled_from(["DAMAGED", "NO_LONGER_NEEDED", "WRONG_ITEM"]),
        st.dictionaries(st.sampled_from("AB"), st.integers(1, 2), min_size=1),
        st.sampled_from(["approve", "reject", "cancel"]),
    ),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(steps=STEPS)
def test_refunds_never_add_up_to_more_than_was_paid(steps) -> None:  # type: ignore[no-untyped-def]
    state = ledger()
    issued = 0
    for type_, reason, items, action in steps:
        batches = []
        if action == "cancel":
            batches.append(decide(state, RefundCancellation(T0)))
        else:
            try:
                state, rid = request(state, type_, reason, **items)
            except (DomainError, InvalidCommand):
                continue
            batches.append(decide(state, Answer(rid, action == "approve", "s1", "no", T0)))
        for events in batches:
            issued += refunds(state, events)
            state = LEDGER.fold(events, state)
        if action == "approve" and type_ == "RETURN_AND_REFUND":
            state = run(state, ShipReturn(rid, "POST", "RR1", T0))
            events = decide(state, Receive(rid, "AS_EXPECTED", T0))
            issued += refunds(state, events)
            state = LEDGER.fold(events, state)
        assert issued == state.refunded <= 2800
