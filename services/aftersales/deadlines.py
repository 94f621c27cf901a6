"""The aftersales service's timers: one per request, set again at each step whose time is
limited (the seller's answer, escalation, shipping and receiving the return). When it goes
off, `Expire` decides what is due for the request's status then."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from services.aftersales.domain.requests import AftersalesPolicy
from shared.deadlines import Deadline, DeadlineHandler, schedule
from shared.events import Envelope
from shared.events.aftersales import (
    AftersalesApproved,
    AftersalesRejected,
    AftersalesRequested,
    ReturnShipped,
)

REQUEST_TIMER = "request-timer"


async def schedule_for(
    conn: AsyncConnection, events: Sequence[Envelope], policy: AftersalesPolicy
) -> None:
    for envelope in events:
        event = envelope.decode()
        match event:
            case AftersalesRequested():
                due = event.answer_due
            case AftersalesRejected():
                due = event.at + policy.escalate_within
            case AftersalesApproved():
                due = event.at + policy.ship_return_within
            case ReturnShipped():
                due = event.at + policy.receive_within
            case _:
                continue
        payload = {"order_id": str(event.order_id)}
        await schedule(conn, REQUEST_TIMER, str(event.request_id), due, payload)


ExpireRequest = Callable[[uuid.UUID, uuid.UUID, datetime], Awaitable[object]]
"""`expire(order_id, request_id, now)`"""


def handlers(expire: ExpireRequest) -> dict[str, DeadlineHandler]:
    """The handler of each timer kind; a request timer's subject is the request id."""

    async def request_timer(deadline: Deadline, now: datetime) -> None:
        await expire(uuid.UUID(deadline.payload["order_id"]), uuid.UUID(deadline.subject_id), now)

    return {REQUEST_TIMER: request_timer}
