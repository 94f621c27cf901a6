"""The pickup service layer: providers, coverage and subscriptions through the shared store."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from services.pickup import deadlines, views
from services.pickup.domain import (
    DEFAULT_PROVIDERS,
    PROVIDER,
    SUBSCRIPTION,
    ConfigureProvider,
    FlagReviewOverdue,
    Provider,
    RequestSubscription,
    Subscription,
    SubscriptionCommand,
    covering_provider,
    decide_provider,
    decide_subscription,
    provider_stream,
    subscription_stream,
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
        provider = covering_provider(await views.providers(conn), address)
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
