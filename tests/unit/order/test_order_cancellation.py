"""Cancellation, pure: by the buyer at once or by request, by the seller and operator with a
reason that says whether it is the seller's fault, by the system on timeouts; and the
invariants over any sequence of commands."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.order.domain.order import ORDER
from services.order.domain.order_cancellation import (
    ApproveCancellation,
    CancelOrder,
    CancelUnpaid,
    RejectCancellation,
)
from services.order.domain.order_delivery import ConfirmReceipt
from services.order.domain.order_intake import (
    ChangeShippingAddress,
    EndRemorseWindow,
    PayOrder,
    ReviewOrder,
)
from shared.aggregate import DomainError, InvalidCommand
from shared.events.order import CancellationRequested, OrderCancelled, OrderStatusChanged
from tests.unit.order.builders import (
    ADDRESS,
    POLICY,
    T0,
    created,
    decide,
    listing,
    paid,
    placed,
    run,
)

# --- cancellation -------------------------------------------------------------------------


def test_buyer_cancels_unpaid_and_within_remorse_at_once() -> None:
    unpaid, events = run(
        created(),
        CancelOrder(actor="buyer", actor_id="b1", reason_code="CHANGED_MIND", note=None, now=T0),
    )
    assert unpaid.status == "CANCELLED"
    cancelled = next(e for e in events if isinstance(e, OrderCancelled))
    assert not cancelled.was_paid and cancelled.refund_due is None
    state = paid()
    in_window, events = run(
        state,
        CancelOrder(
            actor="buyer",
            actor_id="b1",
            reason_code="CHANGED_MIND",
            note=None,
            now=T0 + timedelta(minutes=6),
        ),
    )
    assert in_window.status == "CANCELLED"
    assert next(e for e in events if isinstance(e, OrderCancelled)).refund_due == state.total


def test_buyer_cancellation_after_placement_is_a_request_the_seller_answers() -> None:
    state = placed()
    now = T0 + timedelta(hours=3)
    requested, events = run(
        state,
        CancelOrder(actor="buyer", actor_id="b1", reason_code="CHANGED_MIND", note="oops", now=now),
    )
    assert requested.status == "AWAITING_SHIPMENT"
    request = next(e for e in events if isinstance(e, CancellationRequested))
    assert request.auto_approve_at == now + POLICY.cancellation_auto_approve
    with pytest.raises(DomainError):
        run(
            requested,
            CancelOrder(
                actor="buyer", actor_id="b1", reason_code="CHANGED_MIND", note=None, now=now
            ),
        )
    rejected, _ = run(
        requested, RejectCancellation(actor_id="s1", reason="already packed", now=now)
    )
    assert rejected.cancellation_request and rejected.cancellation_request.status == "REJECTED"
    # an auto-approval firing after a rejection does nothing
    assert (
        decide(
            rejected, ApproveCancellation(actor_id="system", now=request.auto_approve_at, auto=True)
        )
        == []
    )
    with pytest.raises(InvalidCommand):
        run(requested, RejectCancellation(actor_id="s1", reason="  ", now=now))
    approved, events = run(requested, ApproveCancellation(actor_id="s1", now=now))
    cancelled = next(e for e in events if isinstance(e, OrderCancelled))
    assert (
        approved.status == "CANCELLED"
        and cancelled.cancelled_by == "buyer"
        and not cancelled.seller_fault
    )


def test_unanswered_request_is_approved_automatically_only_when_due() -> None:
    state = placed()
    requested, events = run(
        state,
        CancelOrder(
            actor="buyer",
            actor_id="b1",
            reason_code="OTHER",
            note=None,
            now=T0 + timedelta(hours=2),
        ),
    )
    due = next(e for e in events if isinstance(e, CancellationRequested)).auto_approve_at
    assert (
        decide(
            requested,
            ApproveCancellation(actor_id="system", now=due - timedelta(seconds=1), auto=True),
        )
        == []
    )
    auto, _ = run(requested, ApproveCancellation(actor_id="system", now=due, auto=True))
    assert auto.status == "CANCELLED"


@pytest.mark.parametrize(
    ("reason", "fault"),
    [("OUT_OF_STOCK", True), ("PRICING_ERROR", True), ("BUYER_REQUESTED", False)],
)
def test_seller_cancellation_reason_decides_seller_fault(reason: str, fault: bool) -> None:
    _, events = run(
        placed(),
        CancelOrder(
            actor="seller",
            actor_id="s1",
            reason_code=reason,
            note=None,
            now=T0 + timedelta(hours=3),
        ),
    )
    assert next(e for e in events if isinstance(e, OrderCancelled)).seller_fault is fault


def test_unknown_reason_codes_are_refused() -> None:
    with pytest.raises(InvalidCommand):
        run(
            placed(),
            CancelOrder(
                actor="seller", actor_id="s1", reason_code="CHANGED_MIND", note=None, now=T0
            ),
        )
    with pytest.raises(InvalidCommand):
        run(
            created(),
            CancelOrder(
                actor="buyer", actor_id="b1", reason_code="OUT_OF_STOCK", note=None, now=T0
            ),
        )


def test_unpaid_timeout_cancels_only_unpaid_orders_when_due() -> None:
    state = created()
    assert decide(state, CancelUnpaid(now=T0 + timedelta(minutes=29))) == []
    timed_out, events = run(state, CancelUnpaid(now=T0 + timedelta(minutes=30)))
    assert timed_out.status == "CANCELLED"
    assert next(e for e in events if isinstance(e, OrderCancelled)).reason_code == "UNPAID_TIMEOUT"
    assert decide(paid(), CancelUnpaid(now=T0 + timedelta(hours=5))) == []


def test_later_statuses_refuse_cancellation_and_address_changes() -> None:

    for status in (
        "AWAITING_COLLECTION",
        "PARTIALLY_SHIPPING",
        "IN_TRANSIT",
        "DELIVERED",
        "COMPLETED",
    ):
        state = replace(placed(), status=status)
        with pytest.raises(DomainError) as err:
            run(
                state,
                CancelOrder(actor="buyer", actor_id="b1", reason_code="OTHER", note=None, now=T0),
            )
        assert err.value.status == 409
        with pytest.raises(DomainError):
            run(
                state,
                ChangeShippingAddress(
                    shipping_address=ADDRESS.model_copy(update={"line1": "2 Elm"}), now=T0
                ),
            )


# --- properties over command sequences ------------------------------------------------------

ACTIONS = st.lists(
    st.sampled_from(
        [
            "pay",
            "end_window",
            "buyer_cancel",
            "seller_cancel",
            "approve",
            "reject",
            "timeout",
            "review_ok",
            "confirm",
        ]
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(actions=ACTIONS, step_minutes=st.integers(1, 2000))
def test_any_command_sequence_keeps_the_invariants(actions: list[str], step_minutes: int) -> None:
    """Whatever happens: a cancelled order stays cancelled, money never changes after
    creation, a refund is due exactly when a paid order is cancelled, and every status move
    is announced by OrderStatusChanged."""
    state = created()
    total = state.total
    now = T0
    for action in actions:
        now += timedelta(minutes=step_minutes)
        assert state.total
        command = {
            "pay": PayOrder(
                amount=state.total, transaction_id="t", listings={"A": listing()}, now=now
            ),
            "end_window": EndRemorseWindow(now=now),
            "buyer_cancel": CancelOrder(
                actor="buyer", actor_id="b1", reason_code="OTHER", note=None, now=now
            ),
            "seller_cancel": CancelOrder(
                actor="seller", actor_id="s1", reason_code="OUT_OF_STOCK", note=None, now=now
            ),
            "approve": ApproveCancellation(actor_id="s1", now=now),
            "reject": RejectCancellation(actor_id="s1", reason="no", now=now),
            "timeout": CancelUnpaid(now=now),
            "review_ok": ReviewOrder(decision="APPROVE", reviewer_id="op", note=None, now=now),
            "confirm": ConfirmReceipt(now=now),
        }[action]
        before = state
        try:
            events = decide(state, command)
        except DomainError:
            continue
        state = ORDER.fold(events, state)
        if before.status == "CANCELLED":
            assert events == []
        if state.status != before.status:
            assert (
                isinstance(events[-1], OrderStatusChanged) and events[-1].to_status == state.status
            )
        for event in events:
            if isinstance(event, OrderCancelled):
                assert (event.refund_due is not None) == (before.paid_at is not None)
        assert state.total == total
