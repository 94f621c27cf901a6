"""The aftersales service's reactions, keyed by event class: what it knows of orders comes
from the order service's events; the packages sellers may complain about from fulfillment's."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncConnection

from services.aftersales import read_model
from services.aftersales.service import AftersalesService
from shared.consumer import Reactions
from shared.events import Envelope
from shared.events.aftersales import OrderProgress
from shared.events.fulfillment import ReadyToShip
from shared.events.order import (
    OrderCancelled,
    OrderCreated,
    OrderPaid,
    OrderStatus,
    OrderStatusChanged,
)

# The order statuses that matter here: shipped (for the shipping-fee rule) and delivered (the
# return window starts).
PROGRESS_OF_ORDER_STATUS: Mapping[OrderStatus, OrderProgress] = {
    "IN_TRANSIT": "SHIPPED",
    "DELIVERED": "DELIVERED",
}


def order_reactions(service: AftersalesService) -> Reactions:
    async def created(conn: AsyncConnection, event: OrderCreated, _: Envelope) -> None:
        await service.record_order(conn, event)

    async def paid(conn: AsyncConnection, event: OrderPaid, _: Envelope) -> None:
        await service.record_progress(conn, event.order_id, "PAID", event.paid_at, event.amount)

    async def status_changed(conn: AsyncConnection, event: OrderStatusChanged, _: Envelope) -> None:
        progress = PROGRESS_OF_ORDER_STATUS.get(event.to_status)
        if progress is not None:
            await service.record_progress(conn, event.order_id, progress, event.changed_at)

    async def cancelled(conn: AsyncConnection, event: OrderCancelled, _: Envelope) -> None:
        await service.order_cancelled(conn, event)

    return {
        OrderCreated: created,
        OrderPaid: paid,
        OrderStatusChanged: status_changed,
        OrderCancelled: cancelled,
    }


async def remember_shipment(conn: AsyncConnection, event: ReadyToShip, _: Envelope) -> None:
    await read_model.remember_shipment(conn, event)


FULFILLMENT_REACTIONS: Reactions = {ReadyToShip: remember_shipment}
