"""A seller's return policy and what it decides of its buyers' requests, pure: the window after
delivery within the marketplace's bounds, change-of-mind requests, repair (and what a repair
refunds: nothing), and the defaults of a seller without a policy."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.aftersales.domain.ledger import LEDGER, decide
from services.aftersales.domain.requests import (
    AftersalesPolicy,
    Answer,
    Expire,
    Receive,
    ReturnTerms,
    ShipReturn,
)
from services.aftersales.domain.return_policy import (
    RETURN_POLICY,
    ReturnPolicy,
    SetReturnPolicy,
    return_policy_aggregate,
)
from shared.aggregate import DomainError, InvalidCommand
from shared.events.aftersales import AftersalesClosed, RefundIssued, RepairShipped, ReturnPolicySet
from tests.unit.aftersales.test_ledger import T0, ledger, refunds, request, run

POLICY = AftersalesPolicy()  # window 15 days; a seller's between 7 and 90
NO_CHANGE_OF_MIND = ReturnTerms(timedelta(days=30), change_of_mind=False, repair=True)


def policy_of(*commands: SetReturnPolicy) -> ReturnPolicy:
    state = RETURN_POLICY.initial
    for command in commands:
        state = RETURN_POLICY.fold(RETURN_POLICY.decide(state, command), state)
    return state


def test_a_seller_without_a_policy_has_the_marketplace_defaults() -> None:
    terms = ReturnPolicy().terms(POLICY)
    assert terms == ReturnTerms(timedelta(days=15), change_of_mind=True, repair=False)
    assert not ReturnPolicy().exists


def test_a_sellers_window_lies_between_the_marketplace_minimum_and_maximum() -> None:
    with pytest.raises(InvalidCommand, match="between 7 and 90"):
        RETURN_POLICY.decide(ReturnPolicy(), SetReturnPolicy("s1", 6, True, False, T0))
    with pytest.raises(InvalidCommand, match="between 7 and 90"):
        RETURN_POLICY.decide(ReturnPolicy(), SetReturnPolicy("s1", 91, True, False, T0))
    narrow = return_policy_aggregate(
        AftersalesPolicy(min_return_window=timedelta(days=10), max_return_window=timedelta(days=20))
    )
    with pytest.raises(InvalidCommand, match="between 10 and 20"):
        narrow.decide(ReturnPolicy(), SetReturnPolicy("s1", 7, True, False, T0))
    [event] = RETURN_POLICY.decide(ReturnPolicy(), SetReturnPolicy("s1", 7, True, False, T0))
    assert isinstance(event, ReturnPolicySet) and event.return_window_days == 7


def test_a_policy_set_gives_the_terms_requests_are_decided_by_and_again_changes_nothing() -> None:
    state = policy_of(SetReturnPolicy("s1", 30, False, True, T0))
    assert state.terms(POLICY) == NO_CHANGE_OF_MIND
    assert RETURN_POLICY.decide(state, SetReturnPolicy("s1", 30, False, True, T0)) == []
    changed = policy_of(
        SetReturnPolicy("s1", 30, False, True, T0), SetReturnPolicy("s1", 10, True, False, T0)
    )
    assert changed.terms(POLICY) == ReturnTerms(timedelta(days=10), True, False)


def test_a_request_after_the_sellers_window_is_refused_and_within_a_longer_one_taken() -> None:
    delivered = T0 - timedelta(days=1)  # `ledger()`'s delivery
    day_20 = delivered + timedelta(days=20)
    with pytest.raises(DomainError, match="window"):
        request(ledger(), at=day_20, A=1)  # the marketplace's 15 days
    request(ledger(), at=day_20, terms=NO_CHANGE_OF_MIND, A=1)  # the seller's 30 days
    seven = ReturnTerms(timedelta(days=7))
    with pytest.raises(DomainError, match="window"):
        request(ledger(), at=delivered + timedelta(days=8), terms=seven, A=1)


def test_a_change_of_mind_request_is_refused_where_the_seller_takes_none() -> None:
    with pytest.raises(DomainError, match="change-of-mind") as refused:
        request(ledger(), "RETURN_AND_REFUND", "NO_LONGER_NEEDED", terms=NO_CHANGE_OF_MIND, A=1)
    assert refused.value.code == "change-of-mind-not-accepted" and refused.value.status == 409
    request(ledger(), "RETURN_AND_REFUND", "DAMAGED", terms=NO_CHANGE_OF_MIND, A=1)  # a fault
    request(ledger(), "RETURN_AND_REFUND", "NO_LONGER_NEEDED", A=1)  # the default takes it
    # before anything shipped, a change of mind is no return: the refund is still open
    request(
        ledger(delivered=False), "REFUND_ONLY", "NO_LONGER_NEEDED", terms=NO_CHANGE_OF_MIND, B=1
    )


def test_repair_is_refused_where_the_seller_offers_none_and_for_a_change_of_mind() -> None:
    with pytest.raises(DomainError, match="repair") as refused:
        request(ledger(), "REPAIR", "QUALITY_PROBLEM", A=1)
    assert refused.value.code == "repair-not-offered"
    with pytest.raises(InvalidCommand, match="fault"):
        request(ledger(), "REPAIR", "NO_LONGER_NEEDED", terms=NO_CHANGE_OF_MIND, A=1)
    with pytest.raises(DomainError, match="delivered"):
        request(ledger(delivered=False), "REPAIR", "QUALITY_PROBLEM", terms=NO_CHANGE_OF_MIND, A=1)


def test_a_repair_refunds_nothing_and_ends_repaired_once_the_return_is_inspected() -> None:
    state, rid = request(ledger(), "REPAIR", "QUALITY_PROBLEM", terms=NO_CHANGE_OF_MIND, A=1)
    assert state.cases[rid].refund_amount.amount == 0
    state = run(state, Answer(rid, True, "s1", None, T0))
    assert state.cases[rid].status == "APPROVED"  # waits for the item
    state = run(state, ShipReturn(rid, "POST", "RR1", T0))
    events = decide(state, Receive(rid, "AS_EXPECTED", T0 + timedelta(days=1)))
    assert refunds(state, events) == 0
    assert [type(e) for e in events][1:] == [RepairShipped, AftersalesClosed]
    state = LEDGER.fold(events, state)
    assert state.cases[rid].status == "REPAIRED" and state.cases[rid].outcome == "REPAIRED"
    assert state.refunded == 0


def test_a_repair_in_transit_unrecorded_by_the_seller_is_repaired_when_its_time_runs_out() -> None:
    state, rid = request(ledger(), "REPAIR", "QUALITY_PROBLEM", terms=NO_CHANGE_OF_MIND, A=1)
    state = run(run(state, Answer(rid, True, "s1", None, T0)), ShipReturn(rid, "P", "RR1", T0))
    events = decide(state, Expire(rid, T0 + timedelta(days=10)))
    assert not any(isinstance(e, RefundIssued) for e in events)
    assert LEDGER.fold(events, state).cases[rid].status == "REPAIRED"


def test_a_repair_claims_its_units_and_leaves_the_rest_of_the_order_refundable() -> None:
    state, _ = request(ledger(), "REPAIR", "QUALITY_PROBLEM", terms=NO_CHANGE_OF_MIND, A=1)
    with pytest.raises(InvalidCommand, match="at most 1"):
        request(state, "REFUND_ONLY", "DAMAGED", A=2)
    state, refund = request(state, "REFUND_ONLY", "DAMAGED", A=1, B=1)
    # the last units, for the seller's fault: the items and the shipping fee, as without repair
    assert state.cases[refund].refund_amount.amount == 1000 + 500 + 300
    events = decide(state, Answer(refund, True, "s1", None, T0))
    assert refunds(state, events) == 1800
