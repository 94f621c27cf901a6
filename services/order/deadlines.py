"""The order service's SLA timers: unpaid timeout, end of the remorse window, and the
automatic approval of an unanswered cancellation request."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from services.order.domain import ApproveCancellation, CancelUnpaid, EndRemorseWindow, OrderCommand
from shared.deadlines import Deadline, schedule
from shared.events import Envelope
from shared.events.order import CancellationRequested, OrderCreated, OrderPutOnHold

UNPAID_TIMEOUT = "unpaid-timeout"
REMORSE_WINDOW_END = "remorse-window-end"
CANCELLATION_AUTO_APPROVE = "cancellation-auto-approve"


async def schedule_for(conn: AsyncConnection, events: list[Envelope]) -> None:
    """Start the timers the new events call for, in the same transaction."""
    for envelope in events:
        event = envelope.decode()
        match event:
            case OrderCreated():
                await schedule(conn, UNPAID_TIMEOUT, str(event.order_id), event.pay_by)
            case OrderPutOnHold():
                await schedule(conn, REMORSE_WINDOW_END, str(event.order_id), event.remorse_until)
            case CancellationRequested():
                await schedule(
                    conn, CANCELLATION_AUTO_APPROVE, str(event.order_id), event.auto_approve_at
                )


Handle = Callable[[uuid.UUID, OrderCommand], Awaitable[object]]


def handlers(handle: Handle) -> dict[str, Callable[[Deadline, datetime], Awaitable[None]]]:
    commands: dict[str, Callable[[datetime], OrderCommand]] = {
        UNPAID_TIMEOUT: lambda now: CancelUnpaid(now=now),
        REMORSE_WINDOW_END: lambda now: EndRemorseWindow(now=now),
        CANCELLATION_AUTO_APPROVE: lambda now: ApproveCancellation(
            actor_id="system", now=now, auto=True
        ),
    }

    def fire(kind: str) -> Callable[[Deadline, datetime], Awaitable[None]]:
        async def run(deadline: Deadline, now: datetime) -> None:
            await handle(uuid.UUID(deadline.stream_id), commands[kind](now))

        return run

    return {kind: fire(kind) for kind in commands}
