"""The pickup service's SLA timers: the provider's 24 h review of a subscription request."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from shared.deadlines import Deadline, schedule
from shared.events import Envelope
from shared.events.pickup import PickupSubscriptionRequested, ProviderSwitchScheduled

SUBSCRIPTION_REVIEW = "subscription-review"
SWITCH_CUTOVER = "switch-cutover"


async def schedule_for(conn: AsyncConnection, events: Sequence[Envelope]) -> None:
    for envelope in events:
        event = envelope.decode()
        if isinstance(event, ProviderSwitchScheduled):
            await schedule(conn, SWITCH_CUTOVER, str(event.switch_id), event.cutover_at)
        if isinstance(event, PickupSubscriptionRequested):
            payload = {"warehouse_id": str(event.warehouse_id)}
            await schedule(
                conn, SUBSCRIPTION_REVIEW, str(event.subscription_id), event.review_due, payload
            )


FlagOverdue = Callable[[uuid.UUID, uuid.UUID, datetime], Awaitable[object]]
ApplySwitch = Callable[[uuid.UUID, datetime], Awaitable[object]]


def handlers(
    flag: FlagOverdue, apply_switch: ApplySwitch
) -> dict[str, Callable[[Deadline, datetime], Awaitable[None]]]:
    async def review_due(deadline: Deadline, now: datetime) -> None:
        warehouse_id = uuid.UUID(deadline.payload["warehouse_id"])
        await flag(warehouse_id, uuid.UUID(deadline.stream_id), now)

    async def cutover(deadline: Deadline, now: datetime) -> None:
        await apply_switch(uuid.UUID(deadline.stream_id), now)

    return {SUBSCRIPTION_REVIEW: review_due, SWITCH_CUTOVER: cutover}
