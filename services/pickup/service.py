"""The pickup service layer: providers, coverage and subscriptions through the shared store."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from services.pickup import deadlines, views
from services.pickup.domain import (
    DEFAULT_PROVIDERS,
    EXTENSIONS,
    PROVIDER,
    SUBSCRIPTION,
    SWITCH,
    ApplySwitch,
    ConfigureProvider,
    FlagReviewOverdue,
    Provider,
    RequestSubscription,
    ScheduleSwitch,
    Subscription,
    SubscriptionCommand,
    Switch,
    covering_provider,
    decide_provider,
    decide_subscription,
    decide_switch,
    extend_order,
    extensions_stream,
    in_switch_window,
    move_subscription,
    provider_stream,
    subscription_stream,
    switch_stream,
)
from shared import metrics
from shared.aggregate import Outcome, execute, load
from shared.events import Envelope
from shared.events.common import Address
from shared.runtime import ServiceRuntime


class PickupService:
    def __init__(self, runtime: ServiceRuntime, review_within: timedelta) -> None:
        self.runtime = runtime
        self.review_within = review_within

    async def _project(self, conn: AsyncConnection, _: object, events: list[Envelope]) -> None:
        await views.project(conn, events)
        await deadlines.schedule_for(conn, events)

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
