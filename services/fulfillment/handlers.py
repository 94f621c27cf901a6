"""The fulfillment service's reactions to other services' events."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from services.fulfillment import views
from services.fulfillment.domain import (
    RecordCollection,
    RequestFulfillment,
    SetDispatchDeadline,
    UpdateShippingAddress,
)
from services.fulfillment.service import FulfillmentService
from shared.consumer import Handler
from shared.events import Envelope
from shared.events.aftersales import ExchangeShipped
from shared.events.common import Dimensions
from shared.events.fulfillment import FulfillmentRequested, OrderLine, SkuQuantity
from shared.events.order import (
    DispatchDeadlineMoved,
    OrderCancelled,
    OrderPlaced,
    ShippingAddressChanged,
)
from shared.events.pickup import (
    DroppedOff,
    PickedUp,
    ProviderSwitchScheduled,
    SubscriptionEvent,
)


def order_handlers(service: FulfillmentService) -> dict[str, Handler]:
    async def placed(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, OrderPlaced)
        request = FulfillmentRequested(
            order_id=event.order_id,
            seller_id=event.seller_id,
            buyer_id=event.buyer_id,
            lines=[
                OrderLine(
                    sku=i.sku,
                    title=i.title,
                    quantity=i.quantity,
                    weight_g=i.weight_g,
                    volume_cm3=_volume_cm3(i.dimensions),
                )
                for i in event.items
            ],
            shipping_address=event.shipping_address,
            currency=event.total.currency,
            placed_at=event.placed_at,
            dispatch_deadline=event.dispatch_deadline,
            deliver_by=event.deliver_by,
        )
        await service.on_fulfillment(event.order_id, RequestFulfillment(request), within=conn)
        await service.reserve_and_plan(conn, event.order_id)

    async def cancelled(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, OrderCancelled)
        await service.cancel(conn, event.order_id, f"order cancelled ({event.reason_code})")

    async def address_changed(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, ShippingAddressChanged)
        fulfillment, _ = await service.fulfillment(event.order_id)
        if fulfillment.exists:  # before placement, OrderPlaced brings the latest address
            command = UpdateShippingAddress(event.shipping_address)
            await service.on_fulfillment(event.order_id, command, within=conn)

    async def deadline_moved(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, DispatchDeadlineMoved)
        if event.dispatch_deadline is not None:  # before placement OrderPlaced includes it
            command = SetDispatchDeadline(event.dispatch_deadline, event.reason)
            await service.on_fulfillment(event.order_id, command, within=conn)

    return {
        "OrderPlaced": placed,
        "OrderCancelled": cancelled,
        "ShippingAddressChanged": address_changed,
        "DispatchDeadlineMoved": deadline_moved,
    }


def _volume_cm3(dimensions: Dimensions | None) -> int:
    if dimensions is None:
        return 0
    return -(-dimensions.length_mm * dimensions.width_mm * dimensions.height_mm // 1000)


def pickup_handlers(service: FulfillmentService) -> dict[str, Handler]:
    """Who collects from a warehouse, with which prefix: from any subscription event."""

    async def subscription_changed(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, SubscriptionEvent)
        await views.record_pickup_status(
            conn, event.warehouse_id, event.handover, event.provider_code, event.tracking_prefix
        )

    async def switch_scheduled(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, ProviderSwitchScheduled)
        await views.record_switch(
            conn,
            event.switch_id,
            event.country,
            event.city,
            event.to_provider,
            event.tracking_prefix,
            event.cutover_at,
        )

    async def collected(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, PickedUp | DroppedOff)
        via = "PICKUP" if isinstance(event, PickedUp) else "DROP_OFF"
        for ref in await views.package_refs(conn, event.package_id):  # a combined parcel: all
            command = RecordCollection(event.package_id, via, event.at)
            await service.on_fulfillment(ref.order_id, command, within=conn)

    handlers: dict[str, Handler] = {
        "ProviderSwitchScheduled": switch_scheduled,
        "PickedUp": collected,
        "DroppedOff": collected,
    }
    return handlers | dict.fromkeys(
        [
            "PickupSubscriptionRequested",
            "PickupSubscriptionNotCovered",
            "PickupSubscriptionApproved",
            "PickupSubscriptionRejected",
            "PickupSubscriptionDeclined",
            "PickupSubscriptionProviderSwitched",
        ],
        subscription_changed,
    )


def aftersales_handlers(service: FulfillmentService) -> dict[str, Handler]:
    async def exchange(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, ExchangeShipped)
        items = [SkuQuantity(sku=i.sku, quantity=i.quantity) for i in event.items]
        await service.plan_replacement(conn, event.order_id, event.request_id, items)

    return {"ExchangeShipped": exchange}
