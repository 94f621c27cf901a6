"""After placement, pure: the status follows the packages, receipt and automatic completion,
after-sales cases and refunds, the missed dispatch and the dispatch extensions."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from services.order.domain.order import ORDER
from services.order.domain.order_cancellation import CancelForMissedDispatch
from services.order.domain.order_delivery import (
    AutoComplete,
    ConfirmReceipt,
    ExtendDispatch,
    RecordAftersalesCase,
    RecordPackageStatus,
    RecordRefund,
)
from services.order.domain.order_intake import EndRemorseWindow
from services.order.domain.packages import PHASE
from shared.aggregate import DomainError
from shared.events.fulfillment import PACKAGE_STATUSES
from shared.events.order import OrderCancelled, OrderCompleted, OrderPlaced
from shared.money import Money
from tests.unit.order.builders import POLICY, T0, decide, paid, placed, progress, run


def test_every_package_status_has_a_phase() -> None:
    assert set(PHASE) == set(PACKAGE_STATUSES)


def test_confirm_receipt_only_after_delivery() -> None:

    with pytest.raises(DomainError):
        run(placed(), ConfirmReceipt(now=T0))
    done, _ = run(replace(placed(), status="DELIVERED"), ConfirmReceipt(now=T0))
    assert done.status == "COMPLETED"


# --- following the packages ---------------------------------------------------------------


def test_the_status_follows_the_packages() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    state = progress(progress(placed(), a, "PLANNED"), b, "PLANNED")
    assert state.status == "AWAITING_SHIPMENT"
    state = progress(state, a, "READY_TO_SHIP")
    assert state.status == "PARTIALLY_SHIPPING"
    state = progress(state, b, "READY_TO_SHIP")
    assert state.status == "AWAITING_COLLECTION"
    state = progress(state, a, "IN_TRANSIT")
    assert state.status == "IN_TRANSIT"
    state = progress(state, a, "READY_TO_SHIP")  # a late report of an earlier phase
    assert state.package_statuses[a] == "IN_TRANSIT"
    state = progress(state, a, "DELIVERED", hours=10)
    assert state.status == "IN_TRANSIT"
    state = progress(state, b, "DELIVERED", hours=12)
    assert state.status == "DELIVERED" and state.delivered_at == T0 + timedelta(hours=12)


def test_automatic_completion_waits_its_days_and_for_open_cases() -> None:

    package = uuid.uuid4()
    state = progress(progress(placed(), package, "PLANNED"), package, "DELIVERED", hours=5)
    due = T0 + timedelta(hours=5) + POLICY.auto_complete_after
    assert decide(state, AutoComplete(now=due - timedelta(minutes=1))) == []
    assert decide(replace(state, open_cases=frozenset({uuid.uuid4()})), AutoComplete(now=due)) == []
    done, events = run(state, AutoComplete(now=due))
    assert done.status == "COMPLETED" and isinstance(events[0], OrderCompleted) and events[0].auto


def test_aftersales_cases_hold_completion_and_refunds_are_recorded_once() -> None:
    package, case = uuid.uuid4(), uuid.uuid4()
    state = progress(progress(placed(), package, "PLANNED"), package, "DELIVERED", hours=5)
    state, _ = run(state, RecordAftersalesCase(case, True, T0))
    assert state.open_aftersales_cases == 1
    assert decide(state, RecordAftersalesCase(case, True, T0)) == []  # a repeat
    due = T0 + timedelta(hours=5) + POLICY.auto_complete_after
    assert decide(state, AutoComplete(now=due)) == []
    state, _ = run(state, RecordAftersalesCase(case, False, T0))
    assert state.open_aftersales_cases == 0
    assert decide(state, RecordAftersalesCase(case, False, T0)) == []

    assert state.paid_amount is not None
    part = Money(amount=100, currency=state.paid_amount.currency)
    state, events = run(state, RecordRefund(case, part, T0))
    assert not events[0].fully_refunded and state.refunded == part
    assert decide(state, RecordRefund(case, part, T0)) == []  # the same refund again
    rest = Money(amount=state.paid_amount.amount - 100, currency=part.currency)
    state, events = run(state, RecordRefund(uuid.uuid4(), rest, T0))
    assert events[0].fully_refunded and state.fully_refunded
    assert state.status == "DELIVERED"  # the refund is shown on the order, not a new status


def test_a_replacement_package_after_delivery_leaves_the_order_delivered() -> None:
    package = uuid.uuid4()
    state = progress(progress(placed(), package, "PLANNED"), package, "DELIVERED", hours=5)
    assert decide(state, RecordPackageStatus(uuid.uuid4(), "READY_TO_SHIP", T0)) == []


def test_missed_dispatch_cancels_at_the_sellers_fault_only_when_nothing_is_ready() -> None:
    state = placed()
    assert state.dispatch_deadline
    due = state.dispatch_deadline + POLICY.missed_dispatch_cancel_after
    assert decide(state, CancelForMissedDispatch(now=due - timedelta(seconds=1))) == []
    cancelled, events = run(state, CancelForMissedDispatch(now=due))
    event = next(e for e in events if isinstance(e, OrderCancelled))
    assert (
        cancelled.status == "CANCELLED"
        and event.seller_fault
        and event.reason_code == "MISSED_DISPATCH_DEADLINE"
    )
    package = uuid.uuid4()
    ready = progress(progress(state, package, "PLANNED"), package, "READY_TO_SHIP")
    assert decide(ready, CancelForMissedDispatch(now=due)) == []


def test_an_extension_before_placement_is_included_in_the_deadline_and_moves_it_after() -> None:
    early = paid()
    early = ORDER.fold(decide(early, ExtendDispatch(72, "switch", T0)), early)
    assert early.remorse_until
    placed_state, events = run(early, EndRemorseWindow(now=early.remorse_until))
    placed_event = next(e for e in events if isinstance(e, OrderPlaced))
    assert early.created_at
    assert placed_event.dispatch_deadline == early.created_at + timedelta(hours=72 + 72)
    later, _ = run(placed_state, ExtendDispatch(24, "switch", T0))
    assert later.dispatch_deadline == placed_event.dispatch_deadline + timedelta(hours=24)
    assert later.deliver_by == POLICY.delivery.deliver_by("US", later.dispatch_deadline)
