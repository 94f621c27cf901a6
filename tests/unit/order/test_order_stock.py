"""A placed order short of stock waits for the seller: restocked (reserved), cancelled by the
seller for OUT_OF_STOCK, or cancelled at the seller's fault when still short after the
configured time (default 48 h)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from services.order.domain.order_cancellation import CancelOrder
from services.order.domain.order_state import Order
from services.order.domain.order_stock import (
    CancelForStockShortage,
    RecordStockReserved,
    RecordStockShortage,
)
from shared.events.fulfillment import Shortfall
from shared.events.order import OrderAwaitingStock, OrderCancelled, OrderStockReserved
from tests.unit.order.builders import POLICY, T0, created, decide, placed, run

SHORT = [Shortfall(sku="A", requested=2, available=0)]
SHORT_AT = T0 + timedelta(hours=2)


def short_of_stock() -> Order:
    state, _ = run(placed(), RecordStockShortage(SHORT, SHORT_AT))
    return state


def test_a_placed_order_short_of_stock_awaits_stock_and_keeps_its_status() -> None:
    state, events = run(placed(), RecordStockShortage(SHORT, SHORT_AT))
    assert events == [
        OrderAwaitingStock(
            order_id=state.order_id,
            shortfalls=SHORT,
            since=SHORT_AT,
            cancel_at=SHORT_AT + timedelta(hours=48),
            recorded_at=SHORT_AT,
        )
    ]
    assert state.status == "AWAITING_SHIPMENT"  # no status move: a public status stays valid
    assert state.awaiting_stock is not None and state.awaiting_stock.shortfalls == tuple(SHORT)


def test_a_changed_shortfall_keeps_the_time_the_wait_began() -> None:
    state = short_of_stock()
    assert decide(state, RecordStockShortage(SHORT, SHORT_AT + timedelta(hours=1))) == []
    less = [Shortfall(sku="A", requested=2, available=1)]
    later, events = run(state, RecordStockShortage(less, SHORT_AT + timedelta(hours=5)))
    assert [type(e) for e in events] == [OrderAwaitingStock]
    assert later.awaiting_stock is not None
    assert later.awaiting_stock.since == SHORT_AT
    assert later.awaiting_stock.cancel_at == SHORT_AT + POLICY.stock_shortage_cancel_after


def test_the_stock_reserved_clears_the_wait() -> None:
    state, events = run(short_of_stock(), RecordStockReserved(SHORT_AT + timedelta(hours=3)))
    assert [type(e) for e in events] == [OrderStockReserved]
    assert state.awaiting_stock is None and state.status == "AWAITING_SHIPMENT"
    assert decide(placed(), RecordStockReserved(SHORT_AT)) == []  # never waited: nothing


def test_an_order_short_of_stock_for_48h_is_cancelled_seller_fault() -> None:
    state = short_of_stock()
    due = SHORT_AT + timedelta(hours=48)
    assert decide(state, CancelForStockShortage(due - timedelta(seconds=1))) == []
    cancelled, events = run(state, CancelForStockShortage(due))
    event = next(e for e in events if isinstance(e, OrderCancelled))
    assert (event.cancelled_by, event.reason_code, event.seller_fault) == (
        "system",
        "OUT_OF_STOCK",
        True,
    )
    assert event.refund_due == state.paid_amount
    assert cancelled.status == "CANCELLED" and cancelled.awaiting_stock is None


def test_the_wait_is_configurable() -> None:
    policy = replace(POLICY, stock_shortage_cancel_after=timedelta(hours=6))
    events = decide(placed(), RecordStockShortage(SHORT, SHORT_AT), policy)
    assert isinstance(events[0], OrderAwaitingStock)
    assert events[0].cancel_at == SHORT_AT + timedelta(hours=6)


def test_a_restocked_order_is_not_cancelled_when_the_wait_would_have_run_out() -> None:
    state, _ = run(short_of_stock(), RecordStockReserved(SHORT_AT + timedelta(hours=3)))
    assert decide(state, CancelForStockShortage(SHORT_AT + timedelta(hours=48))) == []


def test_the_seller_cancels_an_order_waiting_for_stock_out_of_stock_at_its_fault() -> None:
    command = CancelOrder("seller", "s1", "OUT_OF_STOCK", None, SHORT_AT + timedelta(hours=1))
    state, events = run(short_of_stock(), command)
    event = next(e for e in events if isinstance(e, OrderCancelled))
    assert (event.cancelled_by, event.seller_fault) == ("seller", True)
    assert state.status == "CANCELLED" and state.awaiting_stock is None


def test_a_shortage_after_the_order_was_cancelled_records_nothing() -> None:
    command = CancelOrder("seller", "s1", "OUT_OF_STOCK", None, SHORT_AT)
    cancelled, _ = run(placed(), command)
    assert decide(cancelled, RecordStockShortage(SHORT, SHORT_AT)) == []
    assert decide(created(), RecordStockShortage(SHORT, SHORT_AT)) == []  # not placed
