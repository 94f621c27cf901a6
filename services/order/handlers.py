"""The order service's reactions to other services' events: the order's status follows its
packages (and waits while fulfillment is short of its stock), its dispatch deadline the
platform's extensions, and its after-sales cases and
refunds the aftersales service. Each factory gives its consumer's reactions, by event class."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncConnection

from services.order.domain.order_delivery import (
    ExtendDispatch,
    RecordAftersalesCase,
    RecordPackageStatus,
    RecordRefund,
)
from services.order.domain.order_stock import RecordStockReserved, RecordStockShortage
from services.order.service import OrderService
from shared.consumer import Reactions
from shared.events import Envelope
from shared.events.aftersales import AftersalesClosed, AftersalesRequested, RefundIssued
from shared.events.fulfillment import (
    STATUS_BY_EVENT,
    PackagesCancelled,
    PackagesCombined,
    PackagesPlanned,
    PackageStatus,
    PackagesUncombined,
    ReadyToShip,
    StockReserved,
    StockShortage,
    TrackingEvent,
)
from shared.events.pickup import DispatchDeadlineExtended


def fulfillment_reactions(service: OrderService) -> Reactions:
    async def record(
        conn: AsyncConnection,
        order_id: uuid.UUID,
        package_id: uuid.UUID,
        status: PackageStatus,
        envelope: Envelope,
    ) -> None:
        command = RecordPackageStatus(package_id, status, now=envelope.occurred_at)
        await service.handle(order_id, command, within=conn)

    async def planned(conn: AsyncConnection, event: PackagesPlanned, envelope: Envelope) -> None:
        for package_id in event.replaced:
            await record(conn, event.order_id, package_id, "REPLACED", envelope)
        for package in event.packages:
            await record(conn, event.order_id, package.package_id, "PLANNED", envelope)

    async def cancelled(
        conn: AsyncConnection, event: PackagesCancelled, envelope: Envelope
    ) -> None:
        for package_id in event.package_ids:
            await record(conn, event.order_id, package_id, "CANCELLED", envelope)

    async def progressed(
        conn: AsyncConnection, event: ReadyToShip | TrackingEvent, envelope: Envelope
    ) -> None:
        status = STATUS_BY_EVENT[type(event)]
        await record(conn, event.order_id, event.package_id, status, envelope)

    async def combined(conn: AsyncConnection, event: PackagesCombined, envelope: Envelope) -> None:
        for package_id in event.package_ids:
            await record(conn, event.order_id, package_id, "COMBINED", envelope)
        await record(conn, event.order_id, event.combined_package_id, "PLANNED", envelope)

    async def uncombined(
        conn: AsyncConnection, event: PackagesUncombined, envelope: Envelope
    ) -> None:
        await record(conn, event.order_id, event.combined_package_id, "UNCOMBINED", envelope)
        for package_id in event.package_ids:
            await record(conn, event.order_id, package_id, "PLANNED", envelope)

    async def short(conn: AsyncConnection, event: StockShortage, envelope: Envelope) -> None:
        command = RecordStockShortage(event.shortfalls, now=envelope.occurred_at)
        await service.handle(event.order_id, command, within=conn)

    async def reserved(conn: AsyncConnection, event: StockReserved, envelope: Envelope) -> None:
        if event.order_id != envelope.order_id:
            return  # an after-sales exchange's goods (reserved against the request)
        command = RecordStockReserved(now=envelope.occurred_at)
        await service.handle(event.order_id, command, within=conn)

    return {
        StockShortage: short,
        StockReserved: reserved,
        PackagesPlanned: planned,
        PackagesCombined: combined,
        PackagesUncombined: uncombined,
        PackagesCancelled: cancelled,
        **dict.fromkeys(STATUS_BY_EVENT, progressed),
    }


def pickup_reactions(service: OrderService) -> Reactions:
    async def deadline_extended(
        conn: AsyncConnection, event: DispatchDeadlineExtended, envelope: Envelope
    ) -> None:
        command = ExtendDispatch(
            hours=event.extended_by_hours,
            reason=event.reason,
            now=envelope.occurred_at,
            extension_id=event.switch_id,
        )
        await service.handle(event.order_id, command, within=conn)

    return {DispatchDeadlineExtended: deadline_extended}


def aftersales_reactions(service: OrderService) -> Reactions:
    async def case_opened(
        conn: AsyncConnection, event: AftersalesRequested, envelope: Envelope
    ) -> None:
        command = RecordAftersalesCase(event.request_id, open=True, now=envelope.occurred_at)
        await service.handle(event.order_id, command, within=conn)

    async def case_closed(
        conn: AsyncConnection, event: AftersalesClosed, envelope: Envelope
    ) -> None:
        command = RecordAftersalesCase(event.request_id, open=False, now=envelope.occurred_at)
        await service.handle(event.order_id, command, within=conn)

    async def refunded(conn: AsyncConnection, event: RefundIssued, envelope: Envelope) -> None:
        command = RecordRefund(event.request_id, event.amount, now=envelope.occurred_at)
        await service.handle(event.order_id, command, within=conn)

    return {
        AftersalesRequested: case_opened,
        AftersalesClosed: case_closed,
        RefundIssued: refunded,
    }
