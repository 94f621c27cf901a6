"""The order service's SLA timers: unpaid timeout, end of the remorse window, automatic
approval of an unanswered cancellation request, cancellation for a missed dispatch or for a
stock shortage that lasted too long, and the
automatic completion after delivery (again when the last after-sales case closes)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from services.order.domain.order import Order, OrderCommand
from services.order.domain.order_cancellation import (
    ApproveCancellation,
    CancelForMissedDispatch,
    CancelUnpaid,
)
from services.order.domain.order_delivery import AutoComplete
from services.order.domain.order_intake import EndRemorseWindow
from services.order.domain.order_policy import OrderPolicy
from services.order.domain.order_stock import CancelForStockShortage
from shared.deadlines import Deadline, schedule
from shared.events import Envelope
from shared.events.order import (
    AftersalesCaseRecorded,
    CancellationRequested,
    DispatchDeadlineMoved,
    OrderAwaitingStock,
    OrderCreated,
    OrderPlaced,
    OrderPutOnHold,
    OrderStatusChanged,
)

UNPAID_TIMEOUT = "unpaid-timeout"
REMORSE_WINDOW_END = "remorse-window-end"
CANCELLATION_AUTO_APPROVE = "cancellation-auto-approve"
MISSED_DISPATCH = "missed-dispatch"
AUTO_COMPLETE = "auto-complete"
STOCK_SHORTAGE_CANCEL = "stock-shortage-cancel"


async def schedule_for(
    conn: AsyncConnection, state: Order, events: list[Envelope], policy: OrderPolicy
) -> None:
    """Start the timers the new events call for, in the same transaction."""
    for envelope in events:
        event = envelope.decode()
        order_id = str(envelope.order_id)
        match event:
            case OrderCreated():
                await schedule(conn, UNPAID_TIMEOUT, order_id, event.pay_by)
            case OrderPutOnHold():
                await schedule(conn, REMORSE_WINDOW_END, order_id, event.remorse_until)
            case CancellationRequested():
                await schedule(conn, CANCELLATION_AUTO_APPROVE, order_id, event.auto_approve_at)
            case OrderPlaced() | DispatchDeadlineMoved() if event.dispatch_deadline is not None:
                due = event.dispatch_deadline + policy.missed_dispatch_cancel_after
                await schedule(conn, MISSED_DISPATCH, order_id, due)
            case OrderAwaitingStock():
                await schedule(conn, STOCK_SHORTAGE_CANCEL, order_id, event.cancel_at)
            case OrderStatusChanged(to_status="DELIVERED") if state.delivered_at is not None:
                await schedule(
                    conn, AUTO_COMPLETE, order_id, state.delivered_at + policy.auto_complete_after
                )
            case AftersalesCaseRecorded(open=False) if (
                state.status == "DELIVERED" and not state.open_cases and state.delivered_at
            ):
                # the last case closed: complete when due; an auto-complete that fired while
                # the case was open is armed again (and fires at once)
                due = state.delivered_at + policy.auto_complete_after
                await schedule(conn, AUTO_COMPLETE, order_id, due)


Handle = Callable[[uuid.UUID, OrderCommand], Awaitable[object]]


def handlers(handle: Handle) -> dict[str, Callable[[Deadline, datetime], Awaitable[None]]]:
    commands: dict[str, Callable[[datetime], OrderCommand]] = {
        UNPAID_TIMEOUT: lambda now: CancelUnpaid(now=now),
        REMORSE_WINDOW_END: lambda now: EndRemorseWindow(now=now),
        CANCELLATION_AUTO_APPROVE: lambda now: ApproveCancellation(
            actor_id="system", now=now, auto=True
        ),
        MISSED_DISPATCH: lambda now: CancelForMissedDispatch(now=now),
        AUTO_COMPLETE: lambda now: AutoComplete(now=now),
        STOCK_SHORTAGE_CANCEL: lambda now: CancelForStockShortage(now=now),
    }

    def fire(kind: str) -> Callable[[Deadline, datetime], Awaitable[None]]:
        async def run(deadline: Deadline, now: datetime) -> None:
            await handle(uuid.UUID(deadline.subject_id), commands[kind](now))

        return run

    return {kind: fire(kind) for kind in commands}
