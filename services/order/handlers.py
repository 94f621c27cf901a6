"""The order service's reactions to other services' events: the order's status follows its
packages, its dispatch deadline the platform's extensions, and its after-sales cases and
refunds the aftersales service."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncConnection

from services.order.domain import (
    ExtendDispatch,
    RecordAftersalesCase,
    RecordPackageStatus,
    RecordRefund,
)
from services.order.service import OrderService
from shared.consumer import Handler
from shared.events import Envelope
from shared.events.aftersales import AftersalesClosed, AftersalesRequested, RefundIssued
from shared.events.fulfillment import (
    STATUS_BY_EVENT_TYPE,
    PackagesCancelled,
    PackagesCombined,
    PackagesPlanned,
    PackagesUncombined,
    ReadyToShip,
    TrackingEvent,
)
from shared.events.pickup import DispatchDeadlineExtended


def fulfillment_handlers(service: OrderService) -> dict[str, Handler]:
    async def record(
        conn: AsyncConnection,
        order_id: uuid.UUID,
        package_id: uuid.UUID,
        status: str,
        envelope: Envelope,
    ) -> None:
        command = RecordPackageStatus(package_id, status, envelope.occurred_at)
        await service.handle(order_id, command, within=conn)

    async def planned(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, PackagesPlanned)
        for package_id in event.replaced:
            await record(conn, event.order_id, package_id, "REPLACED", envelope)
        for package in event.packages:
            await record(conn, event.order_id, package.package_id, "PLANNED", envelope)

    async def cancelled(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, PackagesCancelled)
        for package_id in event.package_ids:
            await record(conn, event.order_id, package_id, "CANCELLED", envelope)

    async def progressed(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, ReadyToShip | TrackingEvent)
        status = STATUS_BY_EVENT_TYPE[envelope.event_type]
        await record(conn, event.order_id, event.package_id, status, envelope)

    async def combined(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, PackagesCombined)
        for package_id in event.package_ids:
            await record(conn, event.order_id, package_id, "COMBINED", envelope)
        await record(conn, event.order_id, event.combined_package_id, "PLANNED", envelope)

    async def uncombined(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, PackagesUncombined)
        await record(conn, event.order_id, event.combined_package_id, "UNCOMBINED", envelope)
        for package_id in event.package_ids:
            await record(conn, event.order_id, package_id, "PLANNED", envelope)

    return {
        "PackagesPlanned": planned,
        "PackagesCombined": combined,
        "PackagesUncombined": uncombined,
        "PackagesCancelled": cancelled,
        **dict.fromkeys(STATUS_BY_EVENT_TYPE, progressed),
    }


def pickup_handlers(service: OrderService) -> dict[str, Handler]:
    async def deadline_extended(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, DispatchDeadlineExtended)
        command = ExtendDispatch(event.extended_by_hours, event.reason, envelope.occurred_at)
        await service.handle(event.order_id, command, within=conn)

    return {"DispatchDeadlineExtended": deadline_extended}


def aftersales_handlers(service: OrderService) -> dict[str, Handler]:
    async def case(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, AftersalesRequested | AftersalesClosed)
        opened = isinstance(event, AftersalesRequested)
        command = RecordAftersalesCase(event.request_id, opened, envelope.occurred_at)
        await service.handle(event.order_id, command, within=conn)

    async def refunded(conn: AsyncConnection, envelope: Envelope) -> None:
        event = envelope.decode()
        assert isinstance(event, RefundIssued)
        command = RecordRefund(event.request_id, event.amount, envelope.occurred_at)
        await service.handle(event.order_id, command, within=conn)

    return {"AftersalesRequested": case, "AftersalesClosed": case, "RefundIssued": refunded}
