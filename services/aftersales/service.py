"""The aftersales service layer: the ledger of each order and the logistics complaints,
through the shared store."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from services.aftersales import deadlines, read_model
from services.aftersales.domain.complaint import COMPLAINT, Complaint, FileComplaint
from services.aftersales.domain.complaint import Command as ComplaintCommand
from services.aftersales.domain.ledger import (
    Command,
    RecordOrder,
    RecordProgress,
    RefundCancellation,
    ledger_aggregate,
)
from services.aftersales.domain.ledger_state import Ledger
from services.aftersales.domain.requests import AftersalesPolicy, Expire, OpenRequest
from services.aftersales.domain.return_policy import (
    ReturnPolicy,
    SetReturnPolicy,
    return_policy_aggregate,
)
from shared.aggregate import InvalidCommand, NotFound, Outcome, execute, load
from shared.events import Envelope
from shared.events.aftersales import AftersalesOrderRecorded, OrderedItem, OrderProgress
from shared.events.order import OrderCancelled, OrderCreated
from shared.money import Money
from shared.runtime import ServiceRuntime

Guard = Callable[[Ledger], None]


class AftersalesService:
    def __init__(self, runtime: ServiceRuntime, policy: AftersalesPolicy) -> None:
        self.runtime = runtime
        self.policy = policy
        self.ledgers = ledger_aggregate(policy)
        self.return_policies = return_policy_aggregate(policy)

    async def on_ledger(
        self,
        order_id: uuid.UUID,
        command: Command,
        guard: Guard | None = None,
        within: AsyncConnection | None = None,
    ) -> Outcome[Ledger]:
        """Decide `command` on the order's ledger; `guard` sees the state first (ownership)."""
        return await execute(
            self.runtime.db,
            self.runtime.store,
            self.ledgers,
            self.ledgers.stream(order_id),
            command,
            guard=guard,
            after_append=self._project_ledger,
            within=within,
        )

    async def _project_ledger(
        self, conn: AsyncConnection, state: Ledger, events: list[Envelope]
    ) -> None:
        await read_model.project_ledger(conn, state, events)
        await deadlines.schedule_for(conn, events, self.policy)

    async def open_request(self, order_id: uuid.UUID, command: OpenRequest) -> Outcome[Ledger]:
        """Open a request under the return policy of the order's seller."""
        ledger, _ = await self.ledger(order_id)
        if ledger.seller_id:
            seller_policy, _ = await self.return_policy(ledger.seller_id)
            command = replace(command, terms=seller_policy.terms(self.policy))
        return await self.on_ledger(order_id, command)

    async def ledger(self, order_id: uuid.UUID) -> tuple[Ledger, int]:
        async with self.runtime.db.connect() as conn:
            return await load(conn, self.runtime.store, self.ledgers, self.ledgers.stream(order_id))

    async def order_of_request(self, request_id: uuid.UUID) -> uuid.UUID | None:
        async with self.runtime.db.connect() as conn:
            return await read_model.order_of_request(conn, request_id)

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
        command = RecordOrder(recorded, self.runtime.now())
        await self.on_ledger(event.order_id, command, within=conn)

    async def record_progress(
        self,
        conn: AsyncConnection,
        order_id: uuid.UUID,
        progress: OrderProgress,
        at: datetime,
        paid: Money | None = None,
    ) -> None:
        command = RecordProgress(progress, at, self.runtime.now(), paid)
        await self.on_ledger(order_id, command, within=conn)

    async def order_cancelled(self, conn: AsyncConnection, event: OrderCancelled) -> None:
        """A cancelled paid order gets back what was paid, once, whichever path cancelled it."""
        now = self.runtime.now()
        cancelled = RecordProgress("CANCELLED", event.cancelled_at, now)
        await self.on_ledger(event.order_id, cancelled, within=conn)
        await self.on_ledger(event.order_id, RefundCancellation(now), within=conn)

    # -- return policies -----------------------------------------------------------------------

    async def set_return_policy(self, command: SetReturnPolicy) -> Outcome[ReturnPolicy]:
        aggregate = self.return_policies
        return await execute(
            self.runtime.db,
            self.runtime.store,
            aggregate,
            aggregate.stream(command.seller_id),
            command,
        )

    async def return_policy(self, seller_id: str) -> tuple[ReturnPolicy, int]:
        async with self.runtime.db.connect() as conn:
            aggregate = self.return_policies
            return await load(conn, self.runtime.store, aggregate, aggregate.stream(seller_id))

    # -- logistics complaints -------------------------------------------------------------------

    async def file_complaint(self, command: FileComplaint) -> Outcome[Complaint]:
        async with self.runtime.db.connect() as conn:
            shipment = await read_model.shipment(conn, command.package_id)
        if shipment is None or shipment.seller_id != command.seller_id:
            raise NotFound("package-not-found", "no shipped package of yours with this id")
        if shipment.carrier.upper() != command.carrier.upper():
            raise InvalidCommand(
                "carrier-mismatch", f"the package travels with {shipment.carrier}, not that carrier"
            )
        return await self.on_complaint(command.complaint_id, command)

    async def on_complaint(
        self, complaint_id: uuid.UUID, command: ComplaintCommand
    ) -> Outcome[Complaint]:
        return await execute(
            self.runtime.db,
            self.runtime.store,
            COMPLAINT,
            COMPLAINT.stream(complaint_id),
            command,
            after_append=read_model.project_complaint,
        )

    async def complaint(self, complaint_id: uuid.UUID) -> tuple[Complaint, int]:
        async with self.runtime.db.connect() as conn:
            return await load(conn, self.runtime.store, COMPLAINT, COMPLAINT.stream(complaint_id))
