"""The aftersales service layer: the ledger of each order and the logistics complaints,
through the shared store."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from services.aftersales import deadlines, views
from services.aftersales.domain import (
    COMPLAINT,
    LEDGER,
    AftersalesPolicy,
    Command,
    Complaint,
    Expire,
    FileComplaint,
    Ledger,
    RecordOrder,
    RecordProgress,
    RefundCancellation,
    ResolveComplaint,
    complaint_stream,
    decide,
    decide_complaint,
    ledger_stream,
)
from shared.aggregate import InvalidCommand, NotFound, Outcome, execute, load
from shared.events import Envelope, EventPayload
from shared.events.aftersales import AftersalesOrderRecorded, OrderedItem
from shared.events.order import OrderCancelled, OrderCreated
from shared.runtime import ServiceRuntime

Guard = Callable[[Ledger], None]


class AftersalesService:
    def __init__(self, runtime: ServiceRuntime, policy: AftersalesPolicy) -> None:
        self.runtime = runtime
        self.policy = policy

    async def on_ledger(
        self,
        order_id: uuid.UUID,
        command: Command,
        guard: Guard | None = None,
        within: AsyncConnection | None = None,
    ) -> Outcome[Ledger]:
        """Decide `command` on the order's ledger; `guard` sees the state first (ownership)."""

        def decide_on(state: Ledger) -> list[EventPayload]:
            if guard is not None:
                guard(state)
            return decide(state, command, self.policy)

        return await execute(
            self.runtime.db,
            self.runtime.store,
            LEDGER,
            ledger_stream(order_id),
            decide_on,
            now=self.runtime.now(),
            after_append=self._project_ledger,
            within=within,
        )

    async def _project_ledger(
        self, conn: AsyncConnection, state: Ledger, events: list[Envelope]
    ) -> None:
        await views.project_ledger(conn, state, events)
        await deadlines.schedule_for(conn, events, self.policy)

    async def ledger(self, order_id: uuid.UUID) -> tuple[Ledger, int]:
        async with self.runtime.db.connect() as conn:
            return await load(conn, self.runtime.store, LEDGER, ledger_stream(order_id))

    async def order_of_request(self, request_id: uuid.UUID) -> uuid.UUID | None:
        async with self.runtime.db.connect() as conn:
            return await views.order_of_request(conn, request_id)

    async def expire(self, order_id: uuid.UUID, request_id: uuid.UUID, now: datetime) -> None:
        await self.on_ledger(order_id, Expire(request_id, now))

    # -- what the order service tells ----------------------------------------------------------

    async def record_order(self, conn: AsyncConnection, event: OrderCreated) -> None:
        recorded = AftersalesOrderRecorded(
            order_id=event.order_id,
            buyer_id=event.buyer_id,
            seller_id=event.seller_id,
            items=[
                OrderedItem(sku=i.sku, quantity=i.quantity, unit_price=i.unit_price)
                for i in event.items
            ],
            shipping_fee=event.shipping_fee,
            total=event.total,
        )
        await self.on_ledger(event.order_id, RecordOrder(recorded), within=conn)

    async def record_progress(
        self, conn: AsyncConnection, order_id: uuid.UUID, progress: RecordProgress
    ) -> None:
        await self.on_ledger(order_id, progress, within=conn)

    async def order_cancelled(self, conn: AsyncConnection, event: OrderCancelled) -> None:
        """A cancelled paid order gets back what was paid, once, whichever path cancelled it."""
        await self.on_ledger(
            event.order_id, RecordProgress("CANCELLED", event.cancelled_at), within=conn
        )
        await self.on_ledger(event.order_id, RefundCancellation(self.runtime.now()), within=conn)

    # -- logistics complaints -------------------------------------------------------------------

    async def file_complaint(self, command: FileComplaint) -> Outcome[Complaint]:
        async with self.runtime.db.connect() as conn:
            shipment = await views.shipment(conn, command.package_id)
        if shipment is None or shipment.seller_id != command.seller_id:
            raise NotFound("package-not-found", "no shipped package of yours with this id")
        if shipment.carrier.upper() != command.carrier.upper():
            raise InvalidCommand(
                "carrier-mismatch", f"the package travels with {shipment.carrier}, not that carrier"
            )
        return await self.on_complaint(command.complaint_id, command)

    async def on_complaint(
        self, complaint_id: uuid.UUID, command: FileComplaint | ResolveComplaint
    ) -> Outcome[Complaint]:
        return await execute(
            self.runtime.db,
            self.runtime.store,
            COMPLAINT,
            complaint_stream(complaint_id),
            lambda state: decide_complaint(state, command),
            now=self.runtime.now(),
            after_append=views.project_complaint,
        )

    async def complaint(self, complaint_id: uuid.UUID) -> tuple[Complaint, int]:
        async with self.runtime.db.connect() as conn:
            return await load(conn, self.runtime.store, COMPLAINT, complaint_stream(complaint_id))
