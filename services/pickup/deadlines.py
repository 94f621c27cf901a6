"""The pickup service's SLA timers: the provider's review of a subscription request (or of a
subscription a switch moved to it), a switch's cutover, a parcel's collection and a run's
driver."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from shared.deadlines import Deadline, schedule
from shared.events import Envelope
from shared.events.pickup import (
    ParcelAwaited,
    PickupSubscriptionProviderSwitched,
    PickupSubscriptionRequested,
    PickupTaskCreated,
    ProviderSwitchScheduled,
)

SUBSCRIPTION_REVIEW = "subscription-review"
SWITCH_CUTOVER = "switch-cutover"
COLLECTION_DUE = "collection-due"
DRIVER_DUE = "driver-due"


async def schedule_for(
    conn: AsyncConnection,
    events: Sequence[Envelope],
    collect_within: timedelta,
    driver_within: timedelta,
) -> None:
    for envelope in events:
        match envelope.decode():
            case ParcelAwaited(handover="PICKUP") as event:
                due = event.at + collect_within
                await schedule(conn, COLLECTION_DUE, str(event.package_id), due)
            case PickupTaskCreated() as event:
                due = event.created_at + driver_within
                await schedule(conn, DRIVER_DUE, str(event.task_id), due)
            case ProviderSwitchScheduled() as event:
                await schedule(conn, SWITCH_CUTOVER, str(event.switch_id), event.cutover_at)
            case PickupSubscriptionProviderSwitched(review_due=datetime() as due) as event:
                payload = {"warehouse_id": str(event.warehouse_id)}
                await schedule(conn, SUBSCRIPTION_REVIEW, str(event.subscription_id), due, payload)
            case PickupSubscriptionRequested() as event:
                payload = {"warehouse_id": str(event.warehouse_id)}
                await schedule(
                    conn, SUBSCRIPTION_REVIEW, str(event.subscription_id), event.review_due, payload
                )


class Flags(Protocol):
    async def flag_review_overdue(
        self, warehouse_id: uuid.UUID, subscription_id: uuid.UUID, now: datetime
    ) -> None: ...

    async def apply_switch(self, switch_id: uuid.UUID, now: datetime) -> None: ...

    async def flag_pickup_overdue(self, package_id: uuid.UUID, now: datetime) -> None: ...

    async def flag_driver_overdue(self, task_id: uuid.UUID, now: datetime) -> None: ...


def handlers(service: Flags) -> dict[str, Callable[[Deadline, datetime], Awaitable[None]]]:
    async def review_due(deadline: Deadline, now: datetime) -> None:
        warehouse_id = uuid.UUID(deadline.payload["warehouse_id"])
        await service.flag_review_overdue(warehouse_id, uuid.UUID(deadline.subject_id), now)

    async def cutover(deadline: Deadline, now: datetime) -> None:
        await service.apply_switch(uuid.UUID(deadline.subject_id), now)

    async def collection_due(deadline: Deadline, now: datetime) -> None:
        await service.flag_pickup_overdue(uuid.UUID(deadline.subject_id), now)

    async def driver_due(deadline: Deadline, now: datetime) -> None:
        await service.flag_driver_overdue(uuid.UUID(deadline.subject_id), now)

    return {
        SUBSCRIPTION_REVIEW: review_due,
        SWITCH_CUTOVER: cutover,
        COLLECTION_DUE: collection_due,
        DRIVER_DUE: driver_due,
    }
