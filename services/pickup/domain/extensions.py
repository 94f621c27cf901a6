"""An order's dispatch extensions for provider switches: one stream per order, so each switch
extends an order once however often its window is looked at, and several switches do not add
up: the order gets the largest extension among them (a later, larger one tops it up), so an
extension never shortens the deadline and the rule applies once per order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.pickup.domain.switch import Switch
from shared.aggregate import Aggregate
from shared.events import EventPayload
from shared.events.pickup import DispatchDeadlineExtended


@dataclass(frozen=True)
class OrderExtensions:
    """The switches whose extension an order has had."""

    switches: frozenset[uuid.UUID] = frozenset()
    hours: int = 0  # granted so far, over all switches


@dataclass(frozen=True)
class ExtendDispatch:
    """The order, of a pickup seller of the switch's region, was created in the switch's
    window (see `cutover.in_switch_window`)."""

    order_id: uuid.UUID
    seller_id: str
    switch: Switch
    now: datetime


def decide(state: OrderExtensions, command: ExtendDispatch) -> list[EventPayload]:
    match command:
        case ExtendDispatch(switch=switch):
            if switch.switch_id is None or switch.switch_id in state.switches:
                return []
            top_up = switch.sla_extension_hours - state.hours
            if top_up <= 0:
                return []  # an earlier switch gave as much or more
            return [
                DispatchDeadlineExtended(
                    order_id=command.order_id,
                    seller_id=command.seller_id,
                    extended_by_hours=top_up,
                    reason=f"pickup provider switch in {switch.city}, {switch.country}",
                    extended_at=command.now,
                    switch_id=switch.switch_id,
                )
            ]
    raise AssertionError(f"unhandled command {command!r}")


def evolve(state: OrderExtensions, event: EventPayload) -> OrderExtensions:
    match event:
        case DispatchDeadlineExtended(switch_id=uuid.UUID() as switch_id):
            return OrderExtensions(
                state.switches | {switch_id}, state.hours + event.extended_by_hours
            )
    return state


EXTENSIONS = Aggregate(name="extensions", initial=OrderExtensions(), decide=decide, evolve=evolve)
