"""Webhook endpoints: registered by a seller (or an operator for it), read, deleted, and
disabled when they keep failing (with a `WebhookEndpointDisabled` event on the analytics
topic). An endpoint is a row, not an event stream: its signing secret must never reach the
topic."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics.webhooks.rules import Subscription
from shared.aggregate import DomainError, NotFound
from shared.events.webhooks import WEBHOOK_ENDPOINT_STREAM, WebhookEndpointDisabled
from shared.eventstore import EventStore
from shared.pagination import decode_cursor, next_cursor

_COLUMNS = (
    "webhook_id, seller_id, url, kinds, description, status, disabled_reason, created_at, "
    "changed_at, version"
)


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _doc(row: Any) -> dict[str, Any]:
    return {
        "webhook_id": str(row.webhook_id),
        "seller_id": row.seller_id,
        "url": row.url,
        "events": list(row.kinds),
        "description": row.description,
        "status": row.status,
        "disabled_reason": row.disabled_reason,
        "created_at": row.created_at,
        "changed_at": row.changed_at,
        "version": row.version,
    }


async def register(
    conn: AsyncConnection,
    *,
    seller_id: str,
    url: str,
    kinds: list[str],
    description: str | None,
    created_by: str,
    now: datetime,
    max_per_seller: int,
) -> dict[str, Any]:
    """A new active endpoint; its document with the secret (shown this once)."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": seller_id})
    count = (
        await conn.execute(
            text(
                "SELECT count(*) FROM webhook_endpoints WHERE seller_id = :s AND status <> "
                "'DELETED'"
            ),
            {"s": seller_id},
        )
    ).scalar_one()
    if count >= max_per_seller:
        raise DomainError(
            "too-many-webhooks", f"a seller may have {max_per_seller} webhook endpoints"
        )
    secret = new_secret()
    row = (
        await conn.execute(
            text(
                f"""
                INSERT INTO webhook_endpoints (webhook_id, seller_id, url, kinds, description,
                    secret, status, created_by, created_at, changed_at)
                VALUES (:id, :seller, :url, :kinds, :description, :secret, 'ACTIVE', :by,
                        :now, :now)
                RETURNING {_COLUMNS}
                """
            ),
            {
                "id": uuid.uuid4(),
                "seller": seller_id,
                "url": url,
                "kinds": sorted(set(kinds)),
                "description": description,
                "secret": secret,
                "by": created_by,
                "now": now,
            },
        )
    ).one()
    return {**_doc(row), "secret": secret}


async def get(
    conn: AsyncConnection, webhook_id: uuid.UUID, seller_id: str | None
) -> dict[str, Any]:
    """The endpoint, if it is `seller_id`'s (any seller's when None); 404 otherwise."""
    row = (
        await conn.execute(
            text(
                f"SELECT {_COLUMNS} FROM webhook_endpoints WHERE webhook_id = :id "
                "AND status <> 'DELETED' AND (CAST(:seller AS text) IS NULL OR seller_id = :seller)"
            ),
            {"id": webhook_id, "seller": seller_id},
        )
    ).first()
    if row is None:
        raise NotFound("webhook-not-found", "no such webhook among yours")
    return _doc(row)


async def page(
    conn: AsyncConnection, seller_id: str | None, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    position = decode_cursor(cursor)
    rows = (
        await conn.execute(
            text(
                f"""
                SELECT {_COLUMNS} FROM webhook_endpoints
                WHERE status <> 'DELETED'
                  AND (CAST(:seller AS text) IS NULL OR seller_id = :seller)
                  AND (CAST(:after_at AS timestamptz) IS NULL
                       OR (created_at, webhook_id) > (:after_at, :after_id))
                ORDER BY created_at, webhook_id LIMIT :limit
                """
            ),
            {
                "seller": seller_id,
                "after_at": position[0] if position else None,
                "after_id": position[1] if position else None,
                "limit": limit + 1,
            },
        )
    ).all()
    keys = [(r.created_at, r.webhook_id) for r in rows]
    return [_doc(r) for r in rows[:limit]], next_cursor(keys, limit)


async def delete(
    conn: AsyncConnection, webhook_id: uuid.UUID, seller_id: str | None, now: datetime
) -> None:
    """Gone for good: no more deliveries; its log stays in the database, not readable."""
    await get(conn, webhook_id, seller_id)
    await conn.execute(
        text(
            "UPDATE webhook_endpoints SET status = 'DELETED', changed_at = :now, "
            "version = version + 1 WHERE webhook_id = :id"
        ),
        {"id": webhook_id, "now": now},
    )


async def active(conn: AsyncConnection, seller_id: str) -> list[Subscription]:
    rows = await conn.execute(
        text(
            "SELECT webhook_id, seller_id, kinds FROM webhook_endpoints "
            "WHERE seller_id = :seller AND status = 'ACTIVE'"
        ),
        {"seller": seller_id},
    )
    return [Subscription(r.webhook_id, r.seller_id, frozenset(r.kinds)) for r in rows]


async def disable(
    conn: AsyncConnection, store: EventStore, webhook_id: uuid.UUID, reason: str, now: datetime
) -> bool:
    """Disable an active endpoint and tell the topic (`WebhookEndpointDisabled`), in the
    caller's transaction; False if it was not active."""
    row = (
        await conn.execute(
            text(
                """
                UPDATE webhook_endpoints
                SET status = 'DISABLED', disabled_reason = :reason, changed_at = :now,
                    version = version + 1, events_appended = events_appended + 1
                WHERE webhook_id = :id AND status = 'ACTIVE'
                RETURNING seller_id, url, events_appended
                """
            ),
            {"id": webhook_id, "reason": reason, "now": now},
        )
    ).first()
    if row is None:
        return False
    event = WebhookEndpointDisabled(
        webhook_id=webhook_id, seller_id=row.seller_id, url=row.url, reason=reason, disabled_at=now
    )
    await store.append(
        conn,
        f"{WEBHOOK_ENDPOINT_STREAM}/{webhook_id}",
        row.events_appended - 1,
        [event],
        occurred_at=now,
        seller_id=row.seller_id,
    )
    return True
