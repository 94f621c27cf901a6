"""The pickup service layer: providers, coverage and subscriptions through the shared store."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.pickup import deadlines, views
from services.pickup.domain import (
    DEFAULT_PROVIDERS,
    EXTENSIONS,
    PARCEL,
    PROVIDER,
    SUBSCRIPTION,
    SWITCH,
    TASK,
    ApplySwitch,
    AssignDriver,
    Collect,
    ConfigureProvider,
    FlagDriverOverdue,
    FlagPickupOverdue,
    FlagReviewOverdue,
    OpenTask,
    Parcel,
    ParcelCommand,
    Provider,
    RequestSubscription,
    ScheduleSwitch,
    Subscription,
    SubscriptionCommand,
    Switch,
    Task,
    covering_provider,
    decide_parcel,
    decide_provider,
    decide_subscription,
    decide_switch,
    decide_task,
    extend_order,
    extensions_stream,
    in_switch_window,
    move_subscription,
    parcel_stream,
    provider_stream,
    run_date,
    subscription_stream,
    switch_stream,
    task_id_for,
    task_stream,
)
from services.pickup.policy import PickupSettings
from shared import metrics
from shared.aggregate import Aggregate, Outcome, execute, load
from shared.events import Envelope, EventPayload
from shared.events.common import Address
from shared.events.fulfillment import ReadyToShip
from shared.events.pickup import ParcelAwaited
from shared.runtime import ServiceRuntime


class PickupService:
    def __init__(self, runtime: ServiceRuntime, policy: PickupSettings) -> None:
        self.runtime = runtime
        self.policy = policy
        self.review_within = policy.review_within

    async def _project(self, conn: AsyncConnection, _: object, events: list[Envelope]) -> None:
        await views.project(conn, events)
        await deadlines.schedule_for(
            conn, events, self.policy.collect_within, self.policy.driver_within
        )

    async def configure_provider(self, command: ConfigureProvider) -> Outcome[Provider]:
        return await execute(
            self.runtime.db,
            self.runtime.store,
            PROVIDER,
            provider_stream(command.provider_code),
            lambda state: decide_provider(state, command),
            now=self.runtime.now(),
            after_append=self._project,
        )

    async def seed_default_providers(self) -> None:
        """A fresh system gets a sensible default set (operators change it with PUT)."""
        async with self.runtime.db.connect() as conn:
            if await views.providers(conn):
                return
        for command in DEFAULT_PROVIDERS.values():
            await self.configure_provider(command)

    async def providers(self) -> list[Provider]:
        async with self.runtime.db.connect() as conn:
            return await views.providers(conn)

    async def on_subscription(
        self,
        warehouse_id: uuid.UUID,
        command: SubscriptionCommand,
        within: AsyncConnection | None = None,
    ) -> Outcome[Subscription]:
        return await execute(
            self.runtime.db,
            self.runtime.store,
            SUBSCRIPTION,
            subscription_stream(warehouse_id),
            lambda state: decide_subscription(state, command),
            now=self.runtime.now(),
            after_append=self._project,
            within=within,
        )

    async def request_for_warehouse(
        self, conn: AsyncConnection, warehouse_id: uuid.UUID, seller_id: str, address: Address
    ) -> None:
        await views.remember_warehouse(conn, warehouse_id, seller_id, address.country, address.city)
        providers = await views.providers(conn)
        switched = await views.region_provider(conn, address.country, address.city)
        provider = next((p for p in providers if p.provider_code == switched), None)
        provider = provider or covering_provider(providers, address)
        command = RequestSubscription(
            warehouse_id, seller_id, provider, self.review_within, self.runtime.now()
        )
        await self.on_subscription(warehouse_id, command, within=conn)

    async def subscription(self, warehouse_id: uuid.UUID) -> tuple[Subscription, int]:
        async with self.runtime.db.connect() as conn:
            return await load(
                conn, self.runtime.store, SUBSCRIPTION, subscription_stream(warehouse_id)
            )

    async def warehouse_of(self, subscription_id: uuid.UUID) -> uuid.UUID | None:
        async with self.runtime.db.connect() as conn:
            return await views.warehouse_of(conn, subscription_id)

    async def flag_review_overdue(
        self, warehouse_id: uuid.UUID, subscription_id: uuid.UUID, now: datetime
    ) -> None:
        outcome = await self.on_subscription(warehouse_id, FlagReviewOverdue(subscription_id, now))
        if outcome.events:
            metrics.PICKUP_REVIEWS_OVERDUE.inc()

    # -- provider switches -------------------------------------------------------------------

    async def on_switch(
        self,
        switch_id: uuid.UUID,
        command: ScheduleSwitch | ApplySwitch,
        within: AsyncConnection | None = None,
    ) -> Outcome[Switch]:
        return await execute(
            self.runtime.db,
            self.runtime.store,
            SWITCH,
            switch_stream(switch_id),
            lambda state: decide_switch(state, command),
            now=self.runtime.now(),
            after_append=self._project,
            within=within,
        )

    async def schedule_switch(self, command: ScheduleSwitch) -> Switch:
        """Schedule it, and extend the orders already created in its window."""
        async with self.runtime.db.transaction() as conn:
            outcome = await self.on_switch(command.switch_id, command, within=conn)
            switch = outcome.state
            assert switch.cutover_at is not None
            window = views.orders_near(
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
        await views.remember_order(conn, order_id, seller_id, created_at)
        for switch_id in await views.switches_for_seller(conn, seller_id):
            switch, _ = await load(conn, self.runtime.store, SWITCH, switch_stream(switch_id))
            if switch.cutover_at and in_switch_window(
                created_at, switch.cutover_at, switch.timezone
            ):
                await self._extend(conn, order_id, seller_id, switch)

    async def _extend(
        self, conn: AsyncConnection, order_id: uuid.UUID, seller_id: str, switch: Switch
    ) -> None:
        now = self.runtime.now()
        await execute(
            self.runtime.db,
            self.runtime.store,
            EXTENSIONS,
            extensions_stream(order_id),
            lambda state: extend_order(state, order_id, seller_id, switch, now),
            now=now,
            within=conn,
            order_id=order_id,
        )

    async def apply_switch(self, switch_id: uuid.UUID, now: datetime) -> None:
        """At the cutover the region's subscriptions move to the new provider."""
        async with self.runtime.db.transaction() as conn:
            outcome = await self.on_switch(switch_id, ApplySwitch(now), within=conn)
            if not outcome.events:
                return
            switch = outcome.state
            for warehouse_id in await views.warehouses_in(conn, switch.country, switch.city):
                await execute(
                    self.runtime.db,
                    self.runtime.store,
                    SUBSCRIPTION,
                    subscription_stream(warehouse_id),
                    lambda state: move_subscription(state, switch, now),
                    now=now,
                    after_append=self._project,
                    within=conn,
                )

    # -- collection runs ---------------------------------------------------------------------

    async def _run(
        self,
        aggregate: Aggregate[Any],
        stream: str,
        decide: Callable[[Any], list[EventPayload]],
        within: AsyncConnection | None = None,
    ) -> Outcome[Any]:
        return await execute(
            self.runtime.db,
            self.runtime.store,
            aggregate,
            stream,
            decide,
            now=self.runtime.now(),
            after_append=self._project,
            within=within,
        )

    async def await_parcel(self, conn: AsyncConnection, event: ReadyToShip) -> None:
        """A package is ready to ship: a PICKUP one joins the day's run of its provider at
        its warehouse; a DROP_OFF one waits at the hub."""
        if event.handover == "SELLER_OWN":
            return
        task_id = day = None
        if event.handover == "PICKUP":
            day = run_date(event.ready_at, self.policy.cutoff, self.policy.timezone)
            task_id = task_id_for(event.carrier, event.warehouse_id, day)
            command = OpenTask(
                task_id, event.carrier, event.warehouse_id, event.seller_id, day, event.ready_at
            )
            await self._run(TASK, task_stream(task_id), lambda s: decide_task(s, command), conn)
        awaited = ParcelAwaited(
            order_id=event.order_id,
            package_id=event.package_id,
            seller_id=event.seller_id,
            warehouse_id=event.warehouse_id,
            tracking_number=event.tracking_number,
            provider_code=event.carrier,
            at=event.ready_at,
            handover=event.handover,
            task_id=task_id,
            run_date=day,
        )
        await self._run(
            PARCEL,
            parcel_stream(event.package_id),
            lambda state: [] if state.package_id else [awaited],
            conn,
        )

    async def on_parcel(self, package_id: uuid.UUID, command: ParcelCommand) -> Outcome[Parcel]:
        return await self._run(
            PARCEL, parcel_stream(package_id), lambda s: decide_parcel(s, command)
        )

    async def collect(
        self, package_id: uuid.UUID, driver_id: str, driver_provider: str
    ) -> Outcome[Parcel]:
        async with self.runtime.db.connect() as conn:
            parcel, _ = await load(conn, self.runtime.store, PARCEL, parcel_stream(package_id))
        region_provider = None
        if parcel.warehouse_id is not None:
            subscription, _ = await self.subscription(parcel.warehouse_id)
            region_provider = subscription.provider_code
        command = Collect(driver_id, driver_provider, region_provider, self.runtime.now())
        return await self.on_parcel(package_id, command)

    async def assign_driver(self, task_id: uuid.UUID, command: AssignDriver) -> Outcome[Task]:
        return await self._run(TASK, task_stream(task_id), lambda s: decide_task(s, command))

    async def task(self, task_id: uuid.UUID) -> Task:
        async with self.runtime.db.connect() as conn:
            state, _ = await load(conn, self.runtime.store, TASK, task_stream(task_id))
            return state

    async def flag_pickup_overdue(self, package_id: uuid.UUID, now: datetime) -> None:
        await self.on_parcel(package_id, FlagPickupOverdue(self.policy.collect_within, now))

    async def flag_driver_overdue(self, task_id: uuid.UUID, now: datetime) -> None:
        command = FlagDriverOverdue(self.policy.driver_within, now)
        await self._run(TASK, task_stream(task_id), lambda s: decide_task(s, command))
