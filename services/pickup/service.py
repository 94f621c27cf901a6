"""The pickup service layer: runs the aggregates' commands through the shared store, with the
read model and the deadlines kept in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from services.pickup import deadlines, read_model
from services.pickup.domain.collection_runs import moved_run_date, run_date, task_id_for
from services.pickup.domain.coverage import covering_provider, region_zone
from services.pickup.domain.cutover import in_switch_window
from services.pickup.domain.extensions import EXTENSIONS, ExtendDispatch
from services.pickup.domain.parcel import (
    PARCEL,
    AwaitParcel,
    Collect,
    FlagPickupOverdue,
    MoveToRun,
    Parcel,
    ParcelCommand,
)
from services.pickup.domain.provider import (
    DEFAULT_PROVIDERS,
    PROVIDER,
    ConfigureProvider,
    Provider,
)
from services.pickup.domain.subscription import (
    SUBSCRIPTION,
    FlagReviewOverdue,
    FollowSwitch,
    RequestSubscription,
    Subscription,
    SubscriptionCommand,
)
from services.pickup.domain.switch import SWITCH, ApplySwitch, ScheduleSwitch, Switch, SwitchCommand
from services.pickup.domain.task import (
    TASK,
    FlagDriverOverdue,
    HandOver,
    OpenTask,
    Task,
    TaskCommand,
)
from services.pickup.settings import PickupSettings
from shared import metrics
from shared.aggregate import Aggregate, Command, Outcome, execute, load
from shared.events import Envelope
from shared.events.common import Address
from shared.events.fulfillment import ReadyToShip
from shared.events.pickup import PickupWindow
from shared.runtime import ServiceRuntime

S = TypeVar("S")


class PickupService:
    def __init__(self, runtime: ServiceRuntime, settings: PickupSettings) -> None:
        self.runtime = runtime
        self.settings = settings

    async def _project(self, conn: AsyncConnection, _: object, events: list[Envelope]) -> None:
        await read_model.project(conn, events)
        await deadlines.schedule_for(
            conn, events, self.settings.collect_within, self.settings.driver_within
        )

    async def _execute(
        self,
        aggregate: Aggregate[S],
        stream_id: str,
        command: Command,
        *,
        guard: Callable[[S], None] | None = None,
        within: AsyncConnection | None = None,
    ) -> Outcome[S]:
        return await execute(
            self.runtime.db,
            self.runtime.store,
            aggregate,
            stream_id,
            command,
            guard=guard,
            after_append=self._project,
            within=within,
        )

    # -- providers ---------------------------------------------------------------------------

    async def configure_provider(self, command: ConfigureProvider) -> Outcome[Provider]:
        return await self._execute(PROVIDER, PROVIDER.stream(command.provider_code), command)

    async def seed_default_providers(self) -> None:
        """A fresh system gets a sensible default set (operators change it with PUT)."""
        async with self.runtime.db.connect() as conn:
            if await read_model.providers(conn):
                return
        for p in DEFAULT_PROVIDERS:
            await self.configure_provider(
                ConfigureProvider(
                    p.provider_code,
                    p.name,
                    p.tracking_prefix,
                    p.coverage,
                    self.runtime.now(),
                    zones=p.zones,
                )
            )

    async def providers(self) -> list[Provider]:
        async with self.runtime.db.connect() as conn:
            return await read_model.providers(conn)

    # -- subscriptions -----------------------------------------------------------------------

    async def on_subscription(
        self,
        warehouse_id: uuid.UUID,
        command: SubscriptionCommand,
        *,
        guard: Callable[[Subscription], None] | None = None,
        within: AsyncConnection | None = None,
    ) -> Outcome[Subscription]:
        return await self._execute(
            SUBSCRIPTION, SUBSCRIPTION.stream(warehouse_id), command, guard=guard, within=within
        )

    async def request_for_warehouse(
        self,
        conn: AsyncConnection,
        warehouse_id: uuid.UUID,
        seller_id: str,
        address: Address,
        *,
        after_failed_push: bool = False,
    ) -> None:
        await read_model.remember_warehouse(
            conn, warehouse_id, seller_id, address.country, address.city
        )
        providers = await read_model.providers(conn)
        switched = await read_model.region_provider(conn, address.country, address.city)
        provider = next((p for p in providers if p.provider_code == switched), None)
        provider = provider or covering_provider(providers, address)
        command = RequestSubscription(
            warehouse_id,
            seller_id,
            provider,
            self.settings.review_within,
            self.runtime.now(),
            only_after_failed_push=after_failed_push,
        )
        await self.on_subscription(warehouse_id, command, within=conn)

    async def subscription(self, warehouse_id: uuid.UUID) -> tuple[Subscription, int]:
        async with self.runtime.db.connect() as conn:
            return await load(
                conn, self.runtime.store, SUBSCRIPTION, SUBSCRIPTION.stream(warehouse_id)
            )

    async def warehouse_of(self, subscription_id: uuid.UUID) -> uuid.UUID | None:
        async with self.runtime.db.connect() as conn:
            return await read_model.warehouse_of(conn, subscription_id)

    async def flag_review_overdue(
        self, warehouse_id: uuid.UUID, subscription_id: uuid.UUID, now: datetime
    ) -> None:
        outcome = await self.on_subscription(warehouse_id, FlagReviewOverdue(subscription_id, now))
        if outcome.events:
            metrics.PICKUP_REVIEWS_OVERDUE.inc()

    # -- provider switches -------------------------------------------------------------------

    async def on_switch(
        self, switch_id: uuid.UUID, command: SwitchCommand, within: AsyncConnection | None = None
    ) -> Outcome[Switch]:
        return await self._execute(SWITCH, SWITCH.stream(switch_id), command, within=within)

    async def schedule_switch(self, command: ScheduleSwitch) -> Switch:
        """Schedule it, and extend the region's pickup sellers' orders already created in its
        window."""
        async with self.runtime.db.transaction() as conn:
            await read_model.lock_switch_windows(conn, exclusive=True)
            outcome = await self.on_switch(command.switch_id, command, within=conn)
            switch = outcome.state
            assert switch.cutover_at is not None
            window = read_model.orders_near(
                conn,
                switch.country,
                switch.city,
                switch.cutover_at - timedelta(days=3),
                switch.cutover_at + timedelta(days=2),
            )
            for order_id, seller_id, created_at in await window:
                if in_switch_window(created_at, switch.cutover_at, switch.timezone):
                    await self._extend(conn, order_id, seller_id, switch)
        return switch

    async def order_created(
        self, conn: AsyncConnection, order_id: uuid.UUID, seller_id: str, created_at: datetime
    ) -> None:
        await read_model.lock_switch_windows(conn, exclusive=False)
        await read_model.remember_order(conn, order_id, seller_id, created_at)
        for switch_id in await read_model.switches_for_seller(conn, seller_id):
            switch, _ = await load(conn, self.runtime.store, SWITCH, SWITCH.stream(switch_id))
            if switch.cutover_at and in_switch_window(
                created_at, switch.cutover_at, switch.timezone
            ):
                await self._extend(conn, order_id, seller_id, switch)

    async def _extend(
        self, conn: AsyncConnection, order_id: uuid.UUID, seller_id: str, switch: Switch
    ) -> None:
        await execute(
            self.runtime.db,
            self.runtime.store,
            EXTENSIONS,
            EXTENSIONS.stream(order_id),
            ExtendDispatch(order_id, seller_id, switch, self.runtime.now()),
            within=conn,
            order_id=order_id,
        )

    async def apply_switch(self, switch_id: uuid.UUID, now: datetime) -> None:
        """At the cutover the region's subscriptions move to the new provider, which reviews
        them in a batch; the parcels still waiting on the old provider's runs move to the
        new provider's, and the old runs are handed over."""
        async with self.runtime.db.transaction() as conn:
            outcome = await self.on_switch(switch_id, ApplySwitch(now), within=conn)
            if not outcome.events:
                return
            switch = outcome.state
            follow = FollowSwitch(switch, now, self.settings.review_within)
            for warehouse_id in await read_model.warehouses_in(conn, switch.country, switch.city):
                moved = await self.on_subscription(warehouse_id, follow, within=conn)
                await self._move_waiting_parcels(conn, warehouse_id, moved.state, switch, now)

    async def _move_waiting_parcels(
        self,
        conn: AsyncConnection,
        warehouse_id: uuid.UUID,
        subscription: Subscription,
        switch: Switch,
        now: datetime,
    ) -> None:
        assert switch.switch_id is not None
        start = self.pickup_window(subscription).start
        old_tasks: set[uuid.UUID] = set()
        for package_id, task_id in await read_model.waiting_parcels(
            conn, warehouse_id, switch.to_provider
        ):
            parcel, _ = await load(conn, self.runtime.store, PARCEL, PARCEL.stream(package_id))
            day = moved_run_date(parcel.run_date, now, start, switch.timezone)
            new_task = task_id_for(switch.to_provider, warehouse_id, day)
            opened = OpenTask(
                new_task, switch.to_provider, warehouse_id, parcel.seller_id, day, now, now
            )
            await self.on_task(new_task, opened, within=conn)
            move = MoveToRun(new_task, day, switch.to_provider, switch.switch_id, now)
            await self.on_parcel(package_id, move, within=conn)
            old_tasks.add(task_id)
        for task_id in sorted(old_tasks):
            await self.on_task(
                task_id, HandOver(switch.to_provider, switch.switch_id, now), within=conn
            )

    async def run_zone(self, conn: AsyncConnection, warehouse_id: uuid.UUID, provider: str) -> str:
        """Whose calendar days a warehouse's runs follow: its region's time zone as the
        coverage names it (the collecting provider's first), else `SHOPFLOW_PICKUP_TIMEZONE`."""
        region = await read_model.warehouse_region(conn, warehouse_id)
        if region is None:
            return self.settings.timezone
        zone = region_zone(await read_model.providers(conn), *region, prefer=provider)
        return zone or self.settings.timezone

    def pickup_window(self, subscription: Subscription) -> PickupWindow:
        """The warehouse's agreed daily window, or the default one."""
        return subscription.pickup_window or self.settings.default_pickup_window

    # -- collection runs ---------------------------------------------------------------------

    async def await_parcel(self, conn: AsyncConnection, event: ReadyToShip) -> None:
        """A package is ready to ship: a PICKUP one joins the run of the provider serving its
        warehouse (whatever the label says) on the first day whose pickup window had not
        started when it was ready; a DROP_OFF one waits at the hub. The seller's own carrier
        or its own delivery (SELF_DELIVERY) never passes the first mile."""
        if event.handover in ("SELLER_OWN", "SELF_DELIVERY") or event.tracking_number is None:
            return
        task_id = day = None
        collector = event.carrier
        if event.handover == "PICKUP":
            subscription, _ = await load(
                conn, self.runtime.store, SUBSCRIPTION, SUBSCRIPTION.stream(event.warehouse_id)
            )
            if subscription.status == "ACTIVE" and subscription.provider_code:
                collector = subscription.provider_code
            start = self.pickup_window(subscription).start
            zone = await self.run_zone(conn, event.warehouse_id, collector)
            day = run_date(event.ready_at, start, zone)
            task_id = task_id_for(collector, event.warehouse_id, day)
            open_task = OpenTask(
                task_id,
                collector,
                event.warehouse_id,
                event.seller_id,
                day,
                ready_at=event.ready_at,
                now=self.runtime.now(),
            )
            await self.on_task(task_id, open_task, within=conn)
        command = AwaitParcel(
            order_id=event.order_id,
            package_id=event.package_id,
            seller_id=event.seller_id,
            warehouse_id=event.warehouse_id,
            tracking_number=event.tracking_number,
            provider_code=event.carrier,
            handover=event.handover,
            ready_at=event.ready_at,
            task_id=task_id,
            run_date=day,
            now=self.runtime.now(),
            collector=collector,
        )
        await self.on_parcel(event.package_id, command, within=conn)

    async def on_parcel(
        self,
        package_id: uuid.UUID,
        command: ParcelCommand,
        *,
        guard: Callable[[Parcel], None] | None = None,
        within: AsyncConnection | None = None,
    ) -> Outcome[Parcel]:
        return await self._execute(
            PARCEL, PARCEL.stream(package_id), command, guard=guard, within=within
        )

    async def region_provider(self, package_id: uuid.UUID) -> str | None:
        """The provider that serves the parcel's warehouse now (after a switch, not the one
        on its label); None for an unknown parcel."""
        async with self.runtime.db.connect() as conn:
            parcel, _ = await load(conn, self.runtime.store, PARCEL, PARCEL.stream(package_id))
        if parcel.warehouse_id is None:
            return None
        subscription, _ = await self.subscription(parcel.warehouse_id)
        return subscription.provider_code

    async def collect(
        self,
        package_id: uuid.UUID,
        driver_id: str,
        driver_provider: str,
        *,
        guard: Callable[[Parcel], None] | None = None,
        region_provider: str | None = None,
    ) -> Outcome[Parcel]:
        command = Collect(driver_id, driver_provider, region_provider, self.runtime.now())
        return await self.on_parcel(package_id, command, guard=guard)

    async def on_task(
        self,
        task_id: uuid.UUID,
        command: TaskCommand,
        *,
        guard: Callable[[Task], None] | None = None,
        within: AsyncConnection | None = None,
    ) -> Outcome[Task]:
        return await self._execute(TASK, TASK.stream(task_id), command, guard=guard, within=within)

    async def flag_pickup_overdue(self, package_id: uuid.UUID, now: datetime) -> None:
        await self.on_parcel(package_id, FlagPickupOverdue(self.settings.collect_within, now))

    async def flag_driver_overdue(self, task_id: uuid.UUID, now: datetime) -> None:
        await self.on_task(task_id, FlagDriverOverdue(self.settings.driver_within, now))
