"""The fulfillment service's reactions to other services' events, keyed by event class."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from services.fulfillment import read_model
from services.fulfillment.domain.fulfillment import (
    RequestFulfillment,
    SetDispatchDeadline,
    UpdateShippingAddress,
)
from services.fulfillment.domain.package import RecordCollection
from services.fulfillment.service import FulfillmentService
from shared.consumer import Reactions
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
    PickupSubscriptionApproved,
    PickupSubscriptionDeclined,
    PickupSubscriptionNotCovered,
    PickupSubscriptionProviderSwitched,
    PickupSubscriptionPushFailed,
    PickupSubscriptionRejected,
    PickupSubscriptionRequested,
    ProviderConfigured,
    ProviderSwitchScheduled,
    SubscriptionEvent,
)


def order_reactions(service: FulfillmentService) -> Reactions:
    async def placed(conn: AsyncConnection, event: OrderPlaced, envelope: Envelope) -> None:
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
                    unit_price=i.unit_price,
                )
                for i in event.items
            ],
            shipping_address=event.shipping_address,
            currency=event.total.currency,
            placed_at=event.placed_at,
            dispatch_deadline=event.dispatch_deadline,
            deliver_by=event.deliver_by,
            subtotal=event.subtotal,
            shipping_fee=event.shipping_fee,
            total=event.total,
            paid_at=event.paid_at,
            shipping_option=event.shipping_option,
        )
        command = RequestFulfillment(request, service.runtime.now())
        await service.on_fulfillment(event.order_id, command, within=conn)
        await service.reserve_and_plan(conn, event.order_id)

    async def cancelled(conn: AsyncConnection, event: OrderCancelled, envelope: Envelope) -> None:
        await service.cancel(conn, event.order_id, f"order cancelled ({event.reason_code})")

    async def address_changed(
        conn: AsyncConnection, event: ShippingAddressChanged, envelope: Envelope
    ) -> None:
        fulfillment, _ = await service.fulfillment(event.order_id)
        if fulfillment.exists:  # before placement, OrderPlaced brings the latest address
            command = UpdateShippingAddress(event.shipping_address, service.runtime.now())
            await service.on_fulfillment(event.order_id, command, within=conn)

    async def deadline_moved(
        conn: AsyncConnection, event: DispatchDeadlineMoved, envelope: Envelope
    ) -> None:
        if event.dispatch_deadline is not None:  # before placement OrderPlaced includes it
            command = SetDispatchDeadline(
                event.dispatch_deadline, event.reason, service.runtime.now()
            )
            await service.on_fulfillment(event.order_id, command, within=conn)

    return {
        OrderPlaced: placed,
        OrderCancelled: cancelled,
        ShippingAddressChanged: address_changed,
        DispatchDeadlineMoved: deadline_moved,
    }


def _volume_cm3(dimensions: Dimensions | None) -> int:
    if dimensions is None:
        return 0
    return -(-dimensions.length_mm * dimensions.width_mm * dimensions.height_mm // 1000)


def pickup_reactions(service: FulfillmentService) -> Reactions:
    """Who collects from a warehouse, with which prefix (from any subscription event), the
    providers' receiving hubs (printed on first-mile labels), and the first mile's
    collections."""

    async def provider_configured(
        conn: AsyncConnection, event: ProviderConfigured, envelope: Envelope
    ) -> None:
        await read_model.record_region_hubs(conn, event.provider_code, event.hubs)

    async def subscription_changed(
        conn: AsyncConnection, event: SubscriptionEvent, envelope: Envelope
    ) -> None:
        await read_model.record_pickup_status(
            conn, event.warehouse_id, event.handover, event.provider_code, event.tracking_prefix
        )

    async def switch_scheduled(
        conn: AsyncConnection, event: ProviderSwitchScheduled, envelope: Envelope
    ) -> None:
        await read_model.record_switch(
            conn,
            event.switch_id,
            event.country,
            event.city,
            event.to_provider,
            event.tracking_prefix,
            event.cutover_at,
        )

    async def collected(
        conn: AsyncConnection, event: PickedUp | DroppedOff, envelope: Envelope
    ) -> None:
        via: Literal["PICKUP", "DROP_OFF"] = "PICKUP" if isinstance(event, PickedUp) else "DROP_OFF"
        command = RecordCollection(event.package_id, via, event.at, service.runtime.now())
        for ref in await read_model.package_refs(conn, event.package_id):  # combined: all
            await service.on_fulfillment(ref.order_id, command, within=conn)

    return {
        ProviderConfigured: provider_configured,
        ProviderSwitchScheduled: switch_scheduled,
        PickedUp: collected,
        DroppedOff: collected,
        PickupSubscriptionRequested: subscription_changed,
        PickupSubscriptionNotCovered: subscription_changed,
        PickupSubscriptionApproved: subscription_changed,
        PickupSubscriptionRejected: subscription_changed,
        PickupSubscriptionDeclined: subscription_changed,
        PickupSubscriptionProviderSwitched: subscription_changed,
        PickupSubscriptionPushFailed: subscription_changed,  # drop-off until saved again
    }


def aftersales_reactions(service: FulfillmentService) -> Reactions:
    async def exchange(conn: AsyncConnection, event: ExchangeShipped, envelope: Envelope) -> None:
        items = [SkuQuantity(sku=i.sku, quantity=i.quantity) for i in event.items]
        await service.plan_replacement(conn, event.order_id, event.request_id, items)

    return {ExchangeShipped: exchange}
