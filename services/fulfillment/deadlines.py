"""The fulfillment service's SLA timer: each package's dispatch deadline."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from shared.deadlines import Deadline, schedule
from shared.events import Envelope
from shared.events.fulfillment import (
    DispatchDeadlineChanged,
    PackagesPlanned,
    ReplacementPlanned,
)

DISPATCH_DEADLINE = "dispatch-deadline"


async def schedule_for(conn: AsyncConnection, events: Sequence[Envelope]) -> None:
    for envelope in events:
        event = envelope.decode()
        match event:
            case PackagesPlanned() | ReplacementPlanned():
                for package in event.packages:
                    await _schedule(
                        conn, event.order_id, package.package_id, package.dispatch_deadline
                    )
            case DispatchDeadlineChanged():
                for package_id in event.package_ids:
                    await _schedule(conn, event.order_id, package_id, event.dispatch_deadline)


async def _schedule(
    conn: AsyncConnection, order_id: uuid.UUID, package_id: uuid.UUID, due: datetime
) -> None:
    await schedule(conn, DISPATCH_DEADLINE, str(package_id), due, {"order_id": str(order_id)})


MarkOverdue = Callable[[uuid.UUID, uuid.UUID, datetime], Awaitable[object]]


def handlers(
    mark_overdue: MarkOverdue,
) -> dict[str, Callable[[Deadline, datetime], Awaitable[None]]]:
    async def dispatch_deadline(deadline: Deadline, now: datetime) -> None:
        await mark_overdue(
            uuid.UUID(deadline.payload["order_id"]), uuid.UUID(deadline.subject_id), now
        )

    return {DISPATCH_DEADLINE: dispatch_deadline}
