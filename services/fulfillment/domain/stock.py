"""One seller's stock: units on hand per warehouse and SKU, and the reservations held against
them (one per order, or per after-sales exchange request). Stream `stock/<seller id>`.

A busy seller's stream grows with every order: it is folded in one pass (`fold_all`) and
loaded from its last snapshot (`stock_codec`)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from services.fulfillment.domain import stock_codec
from services.fulfillment.domain.allocation import Slot, allocate
from shared.aggregate import Aggregate, DomainError, InvalidCommand, Snapshots
from shared.events import EventPayload
from shared.events.fulfillment import (
    STOCK_STREAM,
    Allocation,
    SkuQuantity,
    StockAdjusted,
    StockReleased,
    StockReserved,
)


@dataclass(frozen=True)
class Stock:
    """One seller's stock. `reservations` is keyed by the order (or the exchange request) the
    units are held for."""

    seller_id: str = ""
    on_hand: Mapping[Slot, int] = field(default_factory=dict)
    reservations: Mapping[uuid.UUID, tuple[Allocation, ...]] = field(default_factory=dict)

    def reserved(self, slot: Slot) -> int:
        return sum(
            a.quantity
            for allocations in self.reservations.values()
            for a in allocations
            if (a.warehouse_id, a.sku) == slot
        )

    def available(self) -> dict[Slot, int]:
        held: dict[Slot, int] = defaultdict(int)
        for allocations in self.reservations.values():
            for a in allocations:
                held[(a.warehouse_id, a.sku)] += a.quantity
        return {slot: units - held[slot] for slot, units in self.on_hand.items()}


@dataclass(frozen=True)
class AdjustStock:
    """A count: `on_hand` units of the SKU in the warehouse."""

    seller_id: str
    warehouse_id: uuid.UUID
    sku: str
    on_hand: int
    now: datetime


@dataclass(frozen=True)
class ReserveStock:
    """Hold units for an order, or for an exchange request's replacement goods."""

    seller_id: str
    reservation_id: uuid.UUID
    lines: Sequence[SkuQuantity]
    now: datetime


@dataclass(frozen=True)
class ReleaseStock:
    reservation_id: uuid.UUID
    now: datetime


@dataclass(frozen=True)
class ConsumeShipped:
    """A package left the warehouse: its units leave the stock and the reservation."""

    reservation_id: uuid.UUID
    warehouse_id: uuid.UUID
    items: Sequence[SkuQuantity]
    now: datetime


Command = AdjustStock | ReserveStock | ReleaseStock | ConsumeShipped


def decide(state: Stock, command: Command) -> list[EventPayload]:
    match command:
        case AdjustStock():
            slot = (command.warehouse_id, command.sku)
            if command.on_hand < 0:
                raise InvalidCommand("negative-stock", "on_hand cannot be negative")
            held = state.reserved(slot)
            if command.on_hand < held:
                raise DomainError(
                    "stock-reserved",
                    f"{held} units of {command.sku} are reserved for orders here; "
                    "on_hand cannot go below that",
                )
            previous = state.on_hand.get(slot, 0)
            if previous == command.on_hand and slot in state.on_hand:
                return []
            return [
                StockAdjusted(
                    seller_id=command.seller_id,
                    warehouse_id=command.warehouse_id,
                    sku=command.sku,
                    on_hand=command.on_hand,
                    previous=previous,
                )
            ]
        case ReserveStock():
            if command.reservation_id in state.reservations:
                return []  # never reserved twice for one order
            allocations = allocate(command.lines, state.available())
            if not all(isinstance(a, Allocation) for a in allocations):
                return []  # the caller records the shortage on the order's fulfillment
            return [
                StockReserved(
                    seller_id=command.seller_id,
                    order_id=command.reservation_id,
                    allocations=[a for a in allocations if isinstance(a, Allocation)],
                )
            ]
        case ReleaseStock():
            reservation = state.reservations.get(command.reservation_id)
            if not reservation:
                return []
            return [
                StockReleased(
                    seller_id=state.seller_id,
                    order_id=command.reservation_id,
                    allocations=list(reservation),
                )
            ]
        case ConsumeShipped():
            reserved_here = {
                (a.warehouse_id, a.sku): a.quantity
                for a in state.reservations.get(command.reservation_id, ())
            }
            events: list[EventPayload] = []
            for item in command.items:
                slot = (command.warehouse_id, item.sku)
                if reserved_here.get(slot, 0) < item.quantity:
                    continue  # not reserved here (already consumed, or released)
                previous = state.on_hand.get(slot, 0)
                events.append(
                    StockAdjusted(
                        seller_id=state.seller_id,
                        warehouse_id=command.warehouse_id,
                        sku=item.sku,
                        on_hand=previous - item.quantity,
                        previous=previous,
                        reason="SHIPPED",
                        order_id=command.reservation_id,
                    )
                )
            return events


def _after_shipping(
    reservation: tuple[Allocation, ...], shipped: StockAdjusted
) -> tuple[Allocation, ...]:
    """The reservation once a SHIPPED adjustment took its units out of it."""
    slot = (shipped.warehouse_id, shipped.sku)
    units = shipped.previous - shipped.on_hand
    remaining = []
    for a in reservation:
        if (a.warehouse_id, a.sku) == slot and units > 0:
            take = min(units, a.quantity)
            units -= take
            if a.quantity > take:
                remaining.append(a.model_copy(update={"quantity": a.quantity - take}))
        else:
            remaining.append(a)
    return tuple(remaining)


def evolve(state: Stock, event: EventPayload) -> Stock:
    match event:
        case StockAdjusted():
            reservations = state.reservations
            if event.reason == "SHIPPED" and event.order_id is not None:
                consumed = _after_shipping(reservations.get(event.order_id, ()), event)
                reservations = {**reservations, event.order_id: consumed}
            on_hand = {**state.on_hand, (event.warehouse_id, event.sku): event.on_hand}
            return Stock(event.seller_id, on_hand, reservations)
        case StockReserved():
            reservations = {**state.reservations, event.order_id: tuple(event.allocations)}
            return Stock(event.seller_id, state.on_hand, reservations)
        case StockReleased():
            reservations = {k: v for k, v in state.reservations.items() if k != event.order_id}
            return replace(state, reservations=reservations)
    return state


def fold_all(events: Iterable[EventPayload], state: Stock) -> Stock:
    """The state `evolve` reaches event by event, in one pass on working copies of the maps.
    Evolving copies the seller's whole reservation map per event: a load cost quadratic in
    the seller's orders (2,000 orders took 46 ms to fold that way, 4 ms this way)."""
    seller_id = state.seller_id
    on_hand = dict(state.on_hand)
    reservations = dict(state.reservations)
    for event in events:
        match event:
            case StockAdjusted():
                seller_id = event.seller_id
                on_hand[(event.warehouse_id, event.sku)] = event.on_hand
                if event.reason == "SHIPPED" and event.order_id is not None:
                    reservation = reservations.get(event.order_id, ())
                    reservations[event.order_id] = _after_shipping(reservation, event)
            case StockReserved():
                seller_id = event.seller_id
                reservations[event.order_id] = tuple(event.allocations)
            case StockReleased():
                reservations.pop(event.order_id, None)
    return Stock(seller_id, on_hand, reservations)


def encode(state: Stock) -> dict[str, Any]:
    return stock_codec.encode(state.seller_id, state.on_hand, state.reservations)


def decode(encoded: dict[str, Any]) -> Stock:
    return Stock(*stock_codec.decode(encoded))


STOCK = Aggregate(
    name=STOCK_STREAM,
    initial=Stock(),
    decide=decide,
    evolve=evolve,
    keys=lambda s: (None, s.seller_id or None),
    fold_all=fold_all,
    snapshots=Snapshots(stock_codec.CODEC, encode, decode, every=100),
)
