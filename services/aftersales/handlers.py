"""The aftersales service's reactions: what it knows of orders comes from the order
service's events; the packages sellers may complain about from fulfillment's."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from services.aftersales import views
from services.aftersales.domain import RecordProgress
from services.aftersales.service import AftersalesService
from shared.consumer import Handler
from shared.events import Envelope
from shared.events.fulfillment import ReadyToShip
from shared.events.order import OrderCancelled, OrderCreated, OrderPaid, OrderStatusChanged

# Order statuses that matter here: shipped (for the shipping-fee rule) and delivered (the
# return window starts).
PROGRESS_OF_STATUS = {"IN_TRANSIT": "SHIPPED", "DELIVERED": "DELIVERED"}


def order_handlers(service: AftersalesService) -> dict[str, Handler]:
    async def created(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, OrderCreated)
        await service.record_order(conn, event)

    async def paid(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, OrderPaid)
        progress = RecordProgress("PAID", event.paid_at, event.amount)
        await service.record_progress(conn, event.order_id, progress)

    async def status_changed(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, OrderStatusChanged)
        progress = PROGRESS_OF_STATUS.get(event.to_status)
        if progress is not None:
            command = RecordProgress(progress, event.changed_at)
            await service.record_progress(conn, event.order_id, command)

    async def cancelled(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, OrderCancelled)
        await service.order_cancelled(conn, event)

    return {
        "OrderCreated": created,
        "OrderPaid": paid,
        "OrderStatusChanged": status_changed,
        "OrderCancelled": cancelled,
    }


def fulfillment_handlers(_: AftersalesService) -> dict[str, Handler]:
    async def ready_to_ship(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, ReadyToShip)
        await views.remember_shipment(conn, event)

    return {"ReadyToShip": ready_to_ship}
