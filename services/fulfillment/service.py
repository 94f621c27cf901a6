"""The fulfillment service layer: runs the domain's commands through the shared store."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from services.fulfillment import deadlines, read_model
from services.fulfillment.domain import fulfillment, seller_profile, stock, warehouse
from services.fulfillment.domain.allocation import shortfalls
from services.fulfillment.domain.combining import Combine, Uncombine
from services.fulfillment.domain.fulfillment import (
    FULFILLMENT,
    CancelFulfillment,
    Fulfillment,
    PlanPackages,
    RecordShortage,
)
from services.fulfillment.domain.logistics import LogisticsConfig, platform_tracking_number
from services.fulfillment.domain.package import (
    MarkDispatchOverdue,
    Package,
    RecordSelfDelivery,
    RecordTracking,
)
from services.fulfillment.domain.replacement import PlanReplacement
from services.fulfillment.domain.seller_profile import SELLER_PROFILE, SellerProfile
from services.fulfillment.domain.shipping import (
    ParcelContents,
    PickupStatus,
    ShipPackage,
    parcel_contents,
)
from services.fulfillment.domain.stock import (
    STOCK,
    AdjustStock,
    ConsumeShipped,
    ReleaseStock,
    ReserveStock,
    Stock,
)
from services.fulfillment.domain.warehouse import WAREHOUSE, Warehouse
from shared.aggregate import DomainError, InvalidCommand, NotFound, Outcome, execute, load
from shared.events import Envelope
from shared.events.fulfillment import Customs, Handover, SkuQuantity
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

    # -- the four aggregates, one way each -------------------------------------------------

    async def on_warehouse(
        self,
        warehouse_id: uuid.UUID,
        command: warehouse.Command,
        guard: Callable[[Warehouse], None] | None = None,
    ) -> Outcome[Warehouse]:
        return await execute(
            self.runtime.db,
            self.runtime.store,
            WAREHOUSE,
            WAREHOUSE.stream(warehouse_id),
            command,
            guard=guard,
            after_append=self._project,
        )

    async def on_seller_profile(
        self, seller_id: str, command: seller_profile.Command
    ) -> Outcome[SellerProfile]:
        return await execute(
            self.runtime.db,
            self.runtime.store,
            SELLER_PROFILE,
            SELLER_PROFILE.stream(seller_id),
            command,
        )

    async def on_stock(
        self,
        seller_id: str,
        command: stock.Command,
        within: AsyncConnection | None = None,
        order_id: uuid.UUID | None = None,
    ) -> Outcome[Stock]:
        return await execute(
            self.runtime.db,
            self.runtime.store,
            STOCK,
            STOCK.stream(seller_id),
            command,
            within=within,
            order_id=order_id,
            max_attempts=20,  # one stream per seller: busy sellers conflict more
        )

    async def on_fulfillment(
        self,
        order_id: uuid.UUID,
        command: fulfillment.Command,
        within: AsyncConnection | None = None,
        guard: Callable[[Fulfillment], None] | None = None,
    ) -> Outcome[Fulfillment]:
        return await execute(
            self.runtime.db,
            self.runtime.store,
            FULFILLMENT,
            FULFILLMENT.stream(order_id),
            command,
            guard=guard,
            after_append=self._project,
            within=within,
        )

    async def _project(self, conn: AsyncConnection, _: object, events: list[Envelope]) -> None:
        await read_model.project(conn, events)
        await deadlines.schedule_for(conn, events)

    # -- reads -----------------------------------------------------------------------------

    async def warehouse(self, warehouse_id: uuid.UUID) -> tuple[Warehouse, int]:
        async with self.runtime.db.connect() as conn:
            return await load(conn, self.runtime.store, WAREHOUSE, WAREHOUSE.stream(warehouse_id))

    async def seller_profile(self, seller_id: str) -> tuple[SellerProfile, int]:
        async with self.runtime.db.connect() as conn:
            return await load(
                conn, self.runtime.store, SELLER_PROFILE, SELLER_PROFILE.stream(seller_id)
            )

    async def stock(self, seller_id: str) -> Stock:
        async with self.runtime.db.connect() as conn:
            state, _ = await load(conn, self.runtime.store, STOCK, STOCK.stream(seller_id))
            return state

    async def fulfillment(self, order_id: uuid.UUID) -> tuple[Fulfillment, int]:
        async with self.runtime.db.connect() as conn:
            return await self._fulfillment(conn, order_id)

    async def _fulfillment(
        self, conn: AsyncConnection, order_id: uuid.UUID
    ) -> tuple[Fulfillment, int]:
        return await load(conn, self.runtime.store, FULFILLMENT, FULFILLMENT.stream(order_id))

    # -- flows -----------------------------------------------------------------------------

    async def reserve_and_plan(self, conn: AsyncConnection, order_id: uuid.UUID) -> None:
        """Reserve the order's stock and plan its packages, or record the shortage."""
        order, _ = await self._fulfillment(conn, order_id)
        if order.status not in ("NEW", "AWAITING_STOCK"):
            return
        now = self.runtime.now()
        lines = [SkuQuantity(sku=line.sku, quantity=line.quantity) for line in order.lines]
        reserve = ReserveStock(order.seller_id, order_id, lines, now)
        held = await self.on_stock(order.seller_id, reserve, within=conn, order_id=order_id)
        allocations = held.state.reservations.get(order_id)
        command: fulfillment.Command
        if allocations:
            rules, _ = await read_model.split_rules(conn, order.seller_id)
            command = PlanPackages(allocations, rules, now)
        else:
            command = RecordShortage(shortfalls(lines, held.state.available()), now)
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
        order, _ = await self._fulfillment(conn, order_id)
        if not order.exists:
            return  # never placed here: nothing was shipped, nothing to exchange
        now = self.runtime.now()
        reserve = ReserveStock(order.seller_id, request_id, items, now)
        held = await self.on_stock(order.seller_id, reserve, within=conn, order_id=order_id)
        allocations = held.state.reservations.get(request_id, ())
        command = PlanReplacement(
            request_id,
            items,
            allocations,
            [] if allocations else shortfalls(items, held.state.available()),
            now + self.replacement_dispatch_within,
            now,
        )
        await self.on_fulfillment(order_id, command, within=conn)

    async def adjust_stock(self, command: AdjustStock) -> Stock:
        """Set a count; orders and exchanges of this seller waiting for stock get another
        try."""
        outcome = await self.on_stock(command.seller_id, command)
        async with self.runtime.db.transaction() as conn:
            for order_id in await read_model.waiting_orders(conn, command.seller_id):
                await self.reserve_and_plan(conn, order_id)
            for order_id, request_id in await read_model.waiting_replacements(
                conn, command.seller_id
            ):
                order, _ = await self._fulfillment(conn, order_id)
                items = order.replacements[request_id].items
                await self.plan_replacement(conn, order_id, request_id, items)
        return outcome.state

    async def ship(
        self,
        refs: Sequence[read_model.PackageRef],
        *,
        handover: Handover,
        carrier: str | None = None,
        tracking_number: str | None = None,
        customs: Customs | None = None,
        note: str | None = None,
    ) -> list[Outcome[Fulfillment]]:
        """Arrange shipment of a package (in every order a combined parcel serves), and take
        its units out of the stock, in one transaction."""
        shipped_from, _ = await self.warehouse(refs[0].warehouse_id)
        profile, _ = await self.seller_profile(refs[0].seller_id)
        parcel = await self.parcel(refs) if len(refs) > 1 else None
        outcomes = []
        async with self.runtime.db.transaction() as conn:
            pickup = await read_model.pickup_status(
                conn, refs[0].warehouse_id, self.default_pickup, self.runtime.now()
            )
            sequence = await read_model.next_tracking_sequence(conn)
            issued = platform_tracking_number(pickup.tracking_prefix, sequence)
            hub = await read_model.receiving_hub(conn, refs[0].warehouse_id, pickup.provider_code)
            for ref in refs:
                now = self.runtime.now()
                command = ShipPackage(
                    package_id=ref.package_id,
                    handover=handover,
                    carrier=carrier,
                    tracking_number=tracking_number,
                    customs=customs,
                    note=note,
                    warehouse=shipped_from,
                    pickup=pickup,
                    issued_tracking_number=issued,
                    config=self.logistics,
                    now=now,
                    parcel=parcel,
                    profile=profile,
                    receiving_hub=hub,
                    delivery=self.runtime.settings.effective_delivery_calendars,
                )
                outcome = await self.on_fulfillment(ref.order_id, command, within=conn)
                package = outcome.state.packages[ref.package_id]
                reservation_id = package.replacement_for or ref.order_id
                await self.on_stock(
                    ref.seller_id,
                    ConsumeShipped(reservation_id, ref.warehouse_id, package.items, now),
                    within=conn,
                    order_id=ref.order_id,
                )
                outcomes.append(outcome)
            await self._claim_tracking(conn, outcomes[0].state.packages[refs[0].package_id])
        return outcomes

    async def _claim_tracking(self, conn: AsyncConnection, package: Package) -> None:
        """One carrier's tracking number names one parcel, or its reports could not tell
        whose parcel they are about (a self-delivered one has none)."""
        if package.tracking_number is None:
            return
        assert package.carrier is not None
        if not await read_model.claim_tracking(
            conn, package.carrier, package.tracking_number, package.package_id
        ):
            raise DomainError(
                "tracking-number-taken",
                f"{package.carrier} tracking number {package.tracking_number} is already on "
                "another parcel",
            )

    async def combine(self, seller_id: str, package_ids: Sequence[uuid.UUID]) -> uuid.UUID:
        """One parcel for packages of orders of the same buyer, address and warehouse."""
        if len(set(package_ids)) < 2:
            raise InvalidCommand("combine-needs-two", "name at least two different packages")
        by_order: dict[uuid.UUID, list[uuid.UUID]] = {}
        async with self.runtime.db.connect() as conn:
            refs = [await read_model.package_refs(conn, pid) for pid in package_ids]
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
            now = self.runtime.now()
            for order_id, own in by_order.items():
                command = Combine(combined_id, own, order_ids, now)
                await self.on_fulfillment(order_id, command, within=conn)
        return combined_id

    async def parcel(self, refs: Sequence[read_model.PackageRef]) -> ParcelContents:
        """What a parcel holds across every order it serves (one, or each order of a combined
        parcel), titled from each order's lines: for its label and its packing slip."""
        parts = []
        for ref in refs:
            state, _ = await self.fulfillment(ref.order_id)
            if ref.package_id in state.packages:
                parts.append((state.packages[ref.package_id], state.lines))
        return parcel_contents(parts)

    async def uncombine(self, refs: Sequence[read_model.PackageRef]) -> None:
        async with self.runtime.db.transaction() as conn:
            now = self.runtime.now()
            for ref in refs:
                command = Uncombine(ref.package_id, now)
                await self.on_fulfillment(ref.order_id, command, within=conn)

    async def track(
        self,
        refs: Sequence[read_model.PackageRef],
        command: RecordTracking | RecordSelfDelivery,
    ) -> list[Outcome[Fulfillment]]:
        """A carrier's report, or a seller's record of its own delivery, in every order the
        parcel serves."""
        async with self.runtime.db.transaction() as conn:
            return [await self.on_fulfillment(r.order_id, command, within=conn) for r in refs]

    async def mark_overdue(
        self, order_id: uuid.UUID, package_id: uuid.UUID, now: datetime
    ) -> Outcome[Fulfillment]:
        return await self.on_fulfillment(order_id, MarkDispatchOverdue(package_id, now))

    async def cancel(self, conn: AsyncConnection, order_id: uuid.UUID, reason: str) -> None:
        """Cancel the order's open packages and release its stock (an order cancelled before
        it was placed never reached fulfillment: nothing to do)."""
        order, _ = await self._fulfillment(conn, order_id)
        if not order.exists:
            return
        now = self.runtime.now()
        await self.on_fulfillment(order_id, CancelFulfillment(reason, now), within=conn)
        await self.on_stock(
            order.seller_id, ReleaseStock(order_id, now), within=conn, order_id=order_id
        )
