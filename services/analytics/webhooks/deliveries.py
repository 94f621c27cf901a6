"""The delivery log: a delivery per event and endpoint (the queue the sender works through,
and the log a seller reads and replays from), each attempt recorded. Deliveries of one order
to one endpoint go in event order: only the oldest pending one of an order is due, so a
failing delivery holds the later ones of its order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.aggregate import DomainError, NotFound
from shared.pagination import decode_cursor, next_cursor

_RECORD = text(
    """
    INSERT INTO webhook_deliveries (delivery_id, webhook_id, event_id, event_type, kind,
        order_id, body, status, next_attempt_at, created_at)
    SELECT gen_random_uuid(), w, :event_id, :event_type, :kind, :order_id, :body, 'PENDING',
           :now, :now
    FROM unnest(CAST(:webhooks AS uuid[])) AS w
    ON CONFLICT (webhook_id, event_id) WHERE replay_of IS NULL DO NOTHING
    """
)
# Due: pending, of an active endpoint, its time come, not leased by another sender, and the
# oldest pending one of its order for its endpoint.
_CLAIM = text(
    """
    UPDATE webhook_deliveries AS d
    SET lease_until = :lease_until, first_attempt_at = coalesce(d.first_attempt_at, :now)
    FROM webhook_endpoints AS e
    WHERE e.webhook_id = d.webhook_id AND d.delivery_id IN (
        SELECT c.delivery_id FROM webhook_deliveries AS c
        JOIN webhook_endpoints AS ce ON ce.webhook_id = c.webhook_id
        WHERE c.status = 'PENDING' AND ce.status = 'ACTIVE' AND c.next_attempt_at <= :now
          AND (c.lease_until IS NULL OR c.lease_until < :now)
          AND NOT EXISTS (
              SELECT 1 FROM webhook_deliveries AS p
              WHERE p.webhook_id = c.webhook_id AND p.order_id = c.order_id
                AND p.status = 'PENDING' AND p.seq < c.seq)
        ORDER BY c.seq
        LIMIT :limit
        FOR UPDATE OF c SKIP LOCKED)
    RETURNING d.delivery_id, d.webhook_id, d.event_id, d.kind, d.body, d.attempts,
              d.first_attempt_at, e.url, e.secret
    """
)


@dataclass(frozen=True)
class Due:
    delivery_id: uuid.UUID
    webhook_id: uuid.UUID
    event_id: uuid.UUID
    kind: str
    body: str
    attempts: int
    first_attempt_at: datetime
    url: str
    secret: str


async def record(
    conn: AsyncConnection,
    webhooks: list[uuid.UUID],
    *,
    event_id: uuid.UUID,
    event_type: str,
    kind: str,
    order_id: uuid.UUID | None,
    body: str,
    now: datetime,
) -> None:
    """A pending delivery of the event to each endpoint (once: a repeat adds nothing)."""
    if not webhooks:
        return
    await conn.execute(
        _RECORD,
        {
            "webhooks": webhooks,
            "event_id": event_id,
            "event_type": event_type,
            "kind": kind,
            "order_id": order_id,
            "body": body,
            "now": now,
        },
    )


async def claim(conn: AsyncConnection, now: datetime, lease: timedelta, limit: int) -> list[Due]:
    rows = await conn.execute(_CLAIM, {"now": now, "lease_until": now + lease, "limit": limit})
    return [Due(*row) for row in rows]


async def attempted(
    conn: AsyncConnection,
    due: Due,
    *,
    at: datetime,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
    next_attempt_at: datetime | None,
) -> None:
    """Record an attempt: delivered (a 2xx), to be tried again at `next_attempt_at`, or
    given up (FAILED) when that is None."""
    delivered = status_code is not None and 200 <= status_code < 300
    attempt = due.attempts + 1
    await conn.execute(
        text(
            "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, "
            "duration_ms) VALUES (:id, :attempt, :at, :code, :error, :ms)"
        ),
        {
            "id": due.delivery_id,
            "attempt": attempt,
            "at": at,
            "code": status_code,
            "error": error,
            "ms": duration_ms,
        },
    )
    status = "DELIVERED" if delivered else ("PENDING" if next_attempt_at else "FAILED")
    await conn.execute(
        text(
            """
            UPDATE webhook_deliveries
            SET status = :status, attempts = :attempt, lease_until = NULL,
                last_status_code = :code, last_error = :error,
                next_attempt_at = coalesce(:next, next_attempt_at),
                delivered_at = CASE WHEN :delivered THEN CAST(:at AS timestamptz) END
            WHERE delivery_id = :id
            """
        ),
        {
            "id": due.delivery_id,
            "status": status,
            "attempt": attempt,
            "code": status_code,
            "error": error,
            "next": next_attempt_at,
            "delivered": delivered,
            "at": at,
        },
    )


def _doc(row: Any, attempts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "delivery_id": str(row.delivery_id),
        "webhook_id": str(row.webhook_id),
        "event_id": str(row.event_id),
        "event_type": row.event_type,
        "kind": row.kind,
        "order_id": str(row.order_id) if row.order_id else None,
        "status": row.status,
        "attempts": attempts,
        "next_attempt_at": row.next_attempt_at if row.status == "PENDING" else None,
        "last_status_code": row.last_status_code,
        "last_error": row.last_error,
        "replay_of": str(row.replay_of) if row.replay_of else None,
        "created_at": row.created_at,
        "delivered_at": row.delivered_at,
        "body": row.body,
    }


async def page(
    conn: AsyncConnection,
    webhook_id: uuid.UUID,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """The endpoint's deliveries in the order they were queued, each with its attempts."""
    position = decode_cursor(cursor)
    rows = (
        await conn.execute(
            text(
                """
                SELECT * FROM webhook_deliveries
                WHERE webhook_id = :id AND (CAST(:status AS text) IS NULL OR status = :status)
                  AND (CAST(:after_id AS uuid) IS NULL OR seq > (
                      SELECT seq FROM webhook_deliveries WHERE delivery_id = :after_id))
                ORDER BY seq LIMIT :limit
                """
            ),
            {
                "id": webhook_id,
                "status": status,
                "after_id": position[1] if position else None,
                "limit": limit + 1,
            },
        )
    ).all()
    shown = rows[:limit]
    attempts: dict[uuid.UUID, list[dict[str, Any]]] = {r.delivery_id: [] for r in shown}
    if shown:
        for a in await conn.execute(
            text(
                "SELECT delivery_id, attempt, at, status_code, error, duration_ms "
                "FROM webhook_attempts WHERE delivery_id = ANY(:ids) ORDER BY attempt"
            ),
            {"ids": list(attempts)},
        ):
            attempts[a.delivery_id].append(
                {
                    "attempt": a.attempt,
                    "at": a.at,
                    "status_code": a.status_code,
                    "error": a.error,
                    "duration_ms": a.duration_ms,
                }
            )
    keys = [(r.created_at, r.delivery_id) for r in rows]
    return [_doc(r, attempts[r.delivery_id]) for r in shown], next_cursor(keys, limit)


async def replay(
    conn: AsyncConnection, webhook_id: uuid.UUID, delivery_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    """A new delivery of the same event (same event id and body) to the endpoint, after the
    pending ones of its order."""
    status = (
        await conn.execute(
            text("SELECT status FROM webhook_endpoints WHERE webhook_id = :id"), {"id": webhook_id}
        )
    ).scalar_one()
    if status != "ACTIVE":
        raise DomainError("webhook-not-active", f"the webhook is {status}: nothing is sent to it")
    row = (
        await conn.execute(
            text(
                """
                INSERT INTO webhook_deliveries (delivery_id, webhook_id, event_id, event_type,
                    kind, order_id, body, status, next_attempt_at, created_at, replay_of)
                SELECT gen_random_uuid(), webhook_id, event_id, event_type, kind, order_id, body,
                       'PENDING', :now, :now, delivery_id
                FROM webhook_deliveries WHERE delivery_id = :delivery AND webhook_id = :webhook
                RETURNING *
                """
            ),
            {"delivery": delivery_id, "webhook": webhook_id, "now": now},
        )
    ).first()
    if row is None:
        raise NotFound("delivery-not-found", "no such delivery of this webhook")
    return _doc(row, [])
