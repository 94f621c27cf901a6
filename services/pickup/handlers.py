"""The pickup service's reactions, keyed by event class: a warehouse saved or moved asks for
pickup there (its address saved again unchanged asks only after a failed push); a package
ready to ship joins a collection run (or waits at the hub); an order created around a
provider switch gets its dispatch deadline extended."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from services.pickup.service import PickupService
from shared.consumer import Reactions
from shared.events import Envelope
from shared.events.fulfillment import (
    ReadyToShip,
    WarehouseAddressChanged,
    WarehouseAddressResaved,
    WarehouseRegistered,
)
from shared.events.order import OrderCreated


def fulfillment_reactions(service: PickupService) -> Reactions:
    async def warehouse_saved(
        conn: AsyncConnection,
        event: WarehouseRegistered | WarehouseAddressChanged,
        envelope: Envelope,
    ) -> None:
        await service.request_for_warehouse(
            conn, event.warehouse_id, event.seller_id, event.address
        )

    async def warehouse_resaved(
        conn: AsyncConnection, event: WarehouseAddressResaved, envelope: Envelope
    ) -> None:
        await service.request_for_warehouse(
            conn, event.warehouse_id, event.seller_id, event.address, after_failed_push=True
        )

    async def ready_to_ship(conn: AsyncConnection, event: ReadyToShip, envelope: Envelope) -> None:
        await service.await_parcel(conn, event)

    return {
        WarehouseRegistered: warehouse_saved,
        WarehouseAddressChanged: warehouse_saved,
        WarehouseAddressResaved: warehouse_resaved,
        ReadyToShip: ready_to_ship,
    }


def order_reactions(service: PickupService) -> Reactions:
    async def order_created(conn: AsyncConnection, event: OrderCreated, envelope: Envelope) -> None:
        await service.order_created(conn, event.order_id, event.seller_id, event.created_at)

    return {OrderCreated: order_created}
