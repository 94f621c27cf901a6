"""The fulfillment service layer: runs the domain's commands through the shared store."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from services.fulfillment import deadlines, views
from services.fulfillment.domain import (
    FULFILLMENT,
    STOCK,
    WAREHOUSE,
    AdjustStock,
    CancelFulfillment,
    ChangeWarehouseAddress,
    Combine,
    ConsumeShipped,
    Fulfillment,
    FulfillmentCommand,
    MarkDispatchOverdue,
    PickupStatus,
    PlanPackages,
    PlanReplacement,
    RecordShortage,
    RecordTracking,
    RegisterWarehouse,
    ReleaseStock,
    ReserveStock,
    ShipPackage,
    Stock,
    StockCommand,
    Uncombine,
    Warehouse,
    allocate,
    decide_fulfillment,
    decide_stock,
    decide_warehouse,
    fulfillment_stream,
    stock_stream,
    warehouse_stream,
)
from services.fulfillment.logistics import LogisticsConfig, platform_tracking_number
from shared.aggregate import InvalidCommand, NotFound, Outcome, execute, load
from shared.events import Envelope
from shared.events.fulfillment import Customs, Shortfall, SkuQuantity
from shared.runtime import ServiceRuntime


class FulfillmentService:
    def __init__(
        self,
        runtime: ServiceRuntime,
        default_pickup: PickupStatus,
        logistics: LogisticsConfig | None = None,
        replacement_dispatch_within: timedelta = timedelta(hours=72),
    ) -> None:
        self.runtime = runtime
        self.default_pickup = default_pickup
        self.logistics = logistics or LogisticsConfig()
        self.replacement_dispatch_within = replacement_dispatch_within

    # -- the three aggregates, one way each ------------------------------------------------

    async def on_warehouse(
        self, warehouse_id: uuid.UUID, command: RegisterWarehouse | ChangeWarehouseAddress
    ) -> Outcome[Warehouse]:
        return await execute(
            self.runtime.db,
            self.runtime.store,
            WAREHOUSE,
            warehouse_stream(warehouse_id),
            lambda state: decide_warehouse(state, command),
            now=self.runtime.now(),
            after_append=self._project,
        )

    async def on_stock(
        self,
        seller_id: str,
        command: StockCommand,
        within: AsyncConnection | None = None,
        order_id: uuid.UUID | None = None,
    ) -> Outcome[Stock]:
        return await execute(
            self.runtime.db,
            self.runtime.store,
            STOCK,
            stock_stream(seller_id),
            lambda state: decide_stock(state, command),
            now=self.runtime.now(),
            within=within,
            order_id=order_id,
            max_attempts=20,  # one stream per seller: busy sellers conflict more
        )

    async def on_fulfillment(
        self,
        order_id: uuid.UUID,
        command: FulfillmentCommand,
        within: AsyncConnection | None = None,
    ) -> Outcome[Fulfillment]:
        return await execute(
            self.runtime.db,
            self.runtime.store,
            FULFILLMENT,
            fulfillment_stream(order_id),
            lambda state: decide_fulfillment(state, command),
            now=self.runtime.now(),
            after_append=self._project,
            within=within,
        )

    async def _project(self, conn: AsyncConnection, _: object, events: list[Envelope]) -> None:
        await views.project(conn, events)
        await deadlines.schedule_for(conn, events)

    # -- reads -----------------------------------------------------------------------------

    async def warehouse(self, warehouse_id: uuid.UUID) -> tuple[Warehouse, int]:
        async with self.runtime.db.connect() as conn:
            return await load(conn, self.runtime.store, WAREHOUSE, warehouse_stream(warehouse_id))

    async def stock(self, seller_id: str) -> Stock:
        async with self.runtime.db.connect() as conn:
            state, _ = await load(conn, self.runtime.store, STOCK, stock_stream(seller_id))
            return state

    async def fulfillment(self, order_id: uuid.UUID) -> tuple[Fulfillment, int]:
        async with self.runtime.db.connect() as conn:
            return await load(conn, self.runtime.store, FULFILLMENT, fulfillment_stream(order_id))

    # -- flows -----------------------------------------------------------------------------

    async def reserve_and_plan(self, conn: AsyncConnection, order_id: uuid.UUID) -> None:
        """Reserve the order's stock and plan its packages, or record the shortage."""
        fulfillment, _ = await load(
            conn, self.runtime.store, FULFILLMENT, fulfillment_stream(order_id)
        )
        if fulfillment.status not in ("NEW", "AWAITING_STOCK"):
            return
        lines = [SkuQuantity(sku=line.sku, quantity=line.quantity) for line in fulfillment.lines]
        reserve = ReserveStock(fulfillment.seller_id, order_id, lines)
        stock = await self.on_stock(fulfillment.seller_id, reserve, within=conn, order_id=order_id)
        allocations = stock.state.reservations.get(order_id)
        command: FulfillmentCommand
        if allocations:
            rules, _ = await views.split_rules(conn, fulfillment.seller_id)
            command = PlanPackages(allocations, rules)
        else:
            shortfalls = allocate(lines, stock.state.available())
            command = RecordShortage([s for s in shortfalls if isinstance(s, Shortfall)])
        await self.on_fulfillment(order_id, command, within=conn)

    async def plan_replacement(
        self,
        conn: AsyncConnection,
        order_id: uuid.UUID,
        request_id: uuid.UUID,
        items: Sequence[SkuQuantity],
    ) -> None:
        """Reserve the exchange's goods (a reservation of the request's own) and plan their
        package, or record that they wait for stock."""
        fulfillment, _ = await load(
            conn, self.runtime.store, FULFILLMENT, fulfillment_stream(order_id)
        )
        if not fulfillment.exists:
            return  # never placed here: nothing was shipped, nothing to exchange
        reserve = ReserveStock(fulfillment.seller_id, request_id, items)
        stock = await self.on_stock(fulfillment.seller_id, reserve, within=conn, order_id=order_id)
        allocations = stock.state.reservations.get(request_id, ())
        shortfalls = [] if allocations else allocate(items, stock.state.available())
        command = PlanReplacement(
            request_id,
            items,
            allocations,
            [s for s in shortfalls if isinstance(s, Shortfall)],
            self.runtime.now() + self.replacement_dispatch_within,
        )
        await self.on_fulfillment(order_id, command, within=conn)

    async def adjust_stock(self, command: AdjustStock) -> Stock:
        """Set a count; orders and exchanges of this seller waiting for stock get another
        try."""
        outcome = await self.on_stock(command.seller_id, command)
        async with self.runtime.db.transaction() as conn:
            for order_id in await views.waiting_orders(conn, command.seller_id):
                await self.reserve_and_plan(conn, order_id)
            for order_id, request_id in await views.waiting_replacements(conn, command.seller_id):
                fulfillment, _ = await load(
                    conn, self.runtime.store, FULFILLMENT, fulfillment_stream(order_id)
                )
                items = fulfillment.replacements[request_id].items
                await self.plan_replacement(conn, order_id, request_id, items)
        return outcome.state

    async def ship(
        self,
        refs: Sequence[views.PackageRef],
        *,
        handover: str,
        carrier: str | None = None,
        tracking_number: str | None = None,
        customs: Customs | None = None,
        note: str | None = None,
    ) -> list[Outcome[Fulfillment]]:
        """Arrange shipment of a package (in every order a combined parcel serves), and take
        its units out of the stock, in one transaction."""
        warehouse, _ = await self.warehouse(refs[0].warehouse_id)
        outcomes = []
        async with self.runtime.db.transaction() as conn:
            pickup = await views.pickup_status(
                conn, refs[0].warehouse_id, self.default_pickup, self.runtime.now()
            )
            sequence = await views.next_tracking_sequence(conn)
            issued = platform_tracking_number(pickup.tracking_prefix, sequence)
            for ref in refs:
                command = ShipPackage(
                    package_id=ref.package_id,
                    handover=handover,
                    carrier=carrier,
                    tracking_number=tracking_number,
                    customs=customs,
                    note=note,
                    warehouse=warehouse,
                    pickup=pickup,
                    issued_tracking_number=issued,
                    config=self.logistics,
                    now=self.runtime.now(),
                )
                outcome = await self.on_fulfillment(ref.order_id, command, within=conn)
                package = outcome.state.packages[ref.package_id]
                reservation = package.replacement_for or ref.order_id
                await self.on_stock(
                    ref.seller_id,
                    ConsumeShipped(reservation, ref.warehouse_id, package.items),
                    within=conn,
                    order_id=ref.order_id,
                )
                outcomes.append(outcome)
        return outcomes

    async def combine(self, seller_id: str, package_ids: Sequence[uuid.UUID]) -> uuid.UUID:
        """One parcel for packages of orders of the same buyer, address and warehouse."""
        if len(set(package_ids)) < 2:
            raise InvalidCommand("combine-needs-two", "name at least two different packages")
        by_order: dict[uuid.UUID, list[uuid.UUID]] = {}
        async with self.runtime.db.connect() as conn:
            refs = [await views.package_refs(conn, pid) for pid in package_ids]
        for pid, found in zip(package_ids, refs, strict=True):
            if len(found) != 1 or found[0].seller_id != seller_id:
                raise NotFound("package-not-found", f"no package {pid} to combine")
            by_order.setdefault(found[0].order_id, []).append(pid)
        orders = [(await self.fulfillment(order_id))[0] for order_id in by_order]
        if len({(f.buyer_id, f.shipping_address) for f in orders}) != 1:
            raise InvalidCommand(
                "not-combinable", "combined packages need the same buyer and address"
            )
        if len({found[0].warehouse_id for found in refs}) != 1:
            raise InvalidCommand("not-combinable", "combined packages need the same warehouse")
        combined_id = uuid.uuid4()
        order_ids = sorted(by_order, key=str)
        async with self.runtime.db.transaction() as conn:
            for order_id, own in by_order.items():
                command = Combine(combined_id, own, order_ids)
                await self.on_fulfillment(order_id, command, within=conn)
        return combined_id

    async def uncombine(self, refs: Sequence[views.PackageRef]) -> None:
        async with self.runtime.db.transaction() as conn:
            for ref in refs:
                await self.on_fulfillment(ref.order_id, Uncombine(ref.package_id), within=conn)

    async def track(
        self, refs: Sequence[views.PackageRef], command: RecordTracking
    ) -> list[Outcome[Fulfillment]]:
        async with self.runtime.db.transaction() as conn:
            return [await self.on_fulfillment(r.order_id, command, within=conn) for r in refs]

    async def mark_overdue(
        self, order_id: uuid.UUID, package_id: uuid.UUID, now: datetime
    ) -> Outcome[Fulfillment]:
        return await self.on_fulfillment(order_id, MarkDispatchOverdue(package_id, now))

    async def cancel(self, conn: AsyncConnection, order_id: uuid.UUID, reason: str) -> None:
        """Cancel the order's open packages and release its stock (an order cancelled before
        it was placed never reached fulfillment: nothing to do)."""
        fulfillment, _ = await load(
            conn, self.runtime.store, FULFILLMENT, fulfillment_stream(order_id)
        )
        if not fulfillment.exists:
            return
        await self.on_fulfillment(order_id, CancelFulfillment(reason), within=conn)
        await self.on_stock(
            fulfillment.seller_id, ReleaseStock(order_id), within=conn, order_id=order_id
        )
