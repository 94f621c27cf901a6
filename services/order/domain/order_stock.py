"""A placed order short of stock: fulfillment could not reserve it, so it waits (the buyer
sees it) until the seller restocks (the stock is reserved: it no longer waits), cancels it
(OUT_OF_STOCK, the seller's fault), or the wait runs out: still short `stock_shortage_cancel_after`
after the shortage began, the system cancels it at the seller's fault."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.order.domain.order_cancellation import cancelled
from services.order.domain.order_policy import OrderPolicy
from services.order.domain.order_state import Order
from shared.events import EventPayload
from shared.events.fulfillment import Shortfall
from shared.events.order import OrderAwaitingStock, OrderStockReserved

OUT_OF_STOCK = "OUT_OF_STOCK"


@dataclass(frozen=True)
class RecordStockShortage:
    shortfalls: Sequence[Shortfall]
    now: datetime


@dataclass(frozen=True)
class RecordStockReserved:
    now: datetime


@dataclass(frozen=True)
class CancelForStockShortage:
    now: datetime


def record_shortage(
    state: Order, order_id: uuid.UUID, command: RecordStockShortage, policy: OrderPolicy
) -> list[EventPayload]:
    if state.status != "AWAITING_SHIPMENT":  # cancelled meanwhile: nothing waits
        return []
    shortfalls = list(command.shortfalls)
    waiting = state.awaiting_stock
    if waiting is not None and list(waiting.shortfalls) == shortfalls:
        return []
    since = waiting.since if waiting is not None else command.now
    return [
        OrderAwaitingStock(
            order_id=order_id,
            shortfalls=shortfalls,
            since=since,
            cancel_at=since + policy.stock_shortage_cancel_after,
            recorded_at=command.now,
        )
    ]


def record_reserved(
    state: Order, order_id: uuid.UUID, command: RecordStockReserved
) -> list[EventPayload]:
    if state.awaiting_stock is None:
        return []
    return [
        OrderStockReserved(
            order_id=order_id, waited_since=state.awaiting_stock.since, reserved_at=command.now
        )
    ]


def cancel_for_shortage(
    state: Order, order_id: uuid.UUID, command: CancelForStockShortage
) -> list[EventPayload]:
    """Still short when the wait ran out: cancelled at the seller's fault."""
    waiting = state.awaiting_stock
    if state.status != "AWAITING_SHIPMENT" or waiting is None or command.now < waiting.cancel_at:
        return []
    note = "still short of stock: " + ", ".join(
        f"{s.sku} {s.available}/{s.requested}" for s in waiting.shortfalls
    )
    return [cancelled(state, order_id, "system", "system", OUT_OF_STOCK, note, True, command.now)]
