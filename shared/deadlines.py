"""SLA timers: rows in the owning service's database, fired by a scheduler loop.

`schedule` writes a deadline in the caller's transaction (with the events that start it).
The scheduler claims due rows with `FOR UPDATE SKIP LOCKED`, so several replicas can run it,
and calls the handler registered for the kind, which issues a command. Handlers must be safe
to run twice: the command is decided against the current state, and a deadline that no
longer applies decides nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared import metrics
from shared.clock import Clock
from shared.db import Database, driver_connection, dumps
from shared.waiting import pause

log = structlog.get_logger()


@dataclass(frozen=True)
class Deadline:
    """`subject_id` is the id of what the timer is about (an order, a package, a request)."""

    id: int
    kind: str
    subject_id: str
    due_at: datetime
    payload: dict[str, Any]


DeadlineHandler = Callable[[Deadline, datetime], Awaitable[None]]

# The same deadline scheduled twice is one deadline; scheduled again after it fired, it is
# armed again (the state it was scheduled for may have come back, e.g. the last after-sales
# case of an order closing after its completion time): handlers decide on the current state.
_SCHEDULE = text(
    """
    INSERT INTO deadlines (kind, subject_id, due_at, payload)
    VALUES (:kind, :subject_id, :due_at, CAST(:payload AS jsonb))
    ON CONFLICT (kind, subject_id, due_at) DO UPDATE
    SET fired_at = NULL, attempts = 0, last_error = NULL, payload = EXCLUDED.payload
    WHERE deadlines.fired_at IS NOT NULL
    """
)
_CLAIM = text(
    """
    SELECT id, kind, subject_id, due_at, payload FROM deadlines
    WHERE fired_at IS NULL AND due_at <= :now
    ORDER BY due_at
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
    """
)
# Whether anything is due: one indexed statement outside a transaction, so that a pass with
# nothing to fire (most of them) costs one round trip, not a transaction of three.
_ANY_DUE = "SELECT EXISTS (SELECT 1 FROM deadlines WHERE fired_at IS NULL AND due_at <= $1)"
_FIRED = text("UPDATE deadlines SET fired_at = :now, attempts = attempts + 1 WHERE id = :id")
_FAILED = text(
    "UPDATE deadlines SET attempts = attempts + 1, last_error = :error, due_at = :retry_at "
    "WHERE id = :id"
)


async def schedule(
    conn: AsyncConnection,
    kind: str,
    subject_id: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        _SCHEDULE,
        {"kind": kind, "subject_id": subject_id, "due_at": due_at, "payload": dumps(payload or {})},
    )


class DeadlineScheduler:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        service: str,
        handlers: Mapping[str, DeadlineHandler],
        interval_s: float = 1.0,
        batch_size: int = 100,
    ) -> None:
        self.db = db
        self.clock = clock
        self.service = service
        self.handlers = dict(handlers)
        self.interval_s = interval_s
        self.batch_size = batch_size

    async def any_due(self, now: datetime) -> bool:
        async with self.db.connect() as conn:
            raw = await driver_connection(conn)
            due: bool = await raw.fetchval(_ANY_DUE, now)
        return due

    async def fire_due(self) -> int:
        """Fire every deadline due now; returns how many fired."""
        now = self.clock.now()
        if not await self.any_due(now):
            metrics.DEADLINES_DUE.labels(self.service).set(0)
            return 0
        async with self.db.transaction() as conn:
            rows = (await conn.execute(_CLAIM, {"now": now, "limit": self.batch_size})).all()
            metrics.DEADLINES_DUE.labels(self.service).set(len(rows))
            for row in rows:
                deadline = Deadline(*row)
                handler = self.handlers.get(deadline.kind)
                try:
                    if handler is None:
                        raise LookupError(f"no handler for deadline kind {deadline.kind!r}")
                    await handler(deadline, now)
                except Exception as exc:
                    log.error(
                        "deadline failed", kind=deadline.kind, id=deadline.id, error=repr(exc)
                    )
                    metrics.DEADLINES_FIRED.labels(self.service, deadline.kind, "failed").inc()
                    await conn.execute(
                        _FAILED,
                        {
                            "id": deadline.id,
                            "error": repr(exc),
                            "retry_at": now + timedelta(minutes=1),
                        },
                    )
                    continue
                metrics.DEADLINES_FIRED.labels(self.service, deadline.kind, "fired").inc()
                await conn.execute(_FIRED, {"id": deadline.id, "now": now})
        return len(rows)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                fired = await self.fire_due()
            except Exception as exc:
                log.error("deadline scheduler pass failed", error=repr(exc))
                fired = 0
            if fired < self.batch_size:
                await pause(stop, self.interval_s)
