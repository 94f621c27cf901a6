"""The pickup service's reactions: a warehouse saved or moved asks for pickup there."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from services.pickup.service import PickupService
from shared.consumer import Handler
from shared.events import Envelope
from shared.events.fulfillment import (
    ReadyToShip,
    WarehouseAddressChanged,
    WarehouseRegistered,
)
from shared.events.order import OrderCreated


def fulfillment_handlers(service: PickupService) -> dict[str, Handler]:
    async def warehouse_saved(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, WarehouseRegistered | WarehouseAddressChanged)
        await service.request_for_warehouse(
            conn, event.warehouse_id, event.seller_id, event.address
        )

    async def ready_to_ship(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, ReadyToShip)
        await service.await_parcel(conn, event)

    return {
        "WarehouseRegistered": warehouse_saved,
        "WarehouseAddressChanged": warehouse_saved,
        "ReadyToShip": ready_to_ship,
    }


def order_handlers(service: PickupService) -> dict[str, Handler]:
    async def created(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, OrderCreated)
        await service.order_created(conn, event.order_id, event.seller_id, event.created_at)

    return {"OrderCreated": created}
