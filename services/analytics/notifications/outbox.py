"""The pending mails (`mail_outbox`) and the recipients' addresses (`mail_sellers`,
`mail_orders`). A mail is written in the consumer's inbox transaction under a unique
(event id, recipient): one event never mails one recipient twice, however often it is
replayed. The sender claims due mails with FOR UPDATE SKIP LOCKED, so replicas share them."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics.notifications.mails import Mail

_ENQUEUE = text(
    """
    INSERT INTO mail_outbox (event_id, recipient, order_id, seller_id, template, params)
    VALUES (:event_id, :recipient, :order_id, :seller_id, :template, CAST(:params AS jsonb))
    ON CONFLICT (event_id, recipient) DO NOTHING
    """
)
_SELLER = text(
    """
    INSERT INTO mail_sellers (seller_id, email, language) VALUES (:seller_id, :email, :language)
    ON CONFLICT (seller_id) DO UPDATE SET email = EXCLUDED.email, language = EXCLUDED.language,
                                          updated_at = now()
    """
)
_ORDER = text(
    """
    INSERT INTO mail_orders (order_id, seller_id, buyer_id, buyer_email, buyer_language)
    VALUES (:order_id, :seller_id, :buyer_id, :email, :language)
    ON CONFLICT (order_id) DO NOTHING
    """
)
# Due mails with their recipient's address as known now. `known`: the recipient is known
# (a seller with a profile, an order seen), whether or not it gave an address.
_CLAIM = text(
    """
    SELECT m.id, m.event_id, m.recipient, m.template, m.params, m.attempts,
           m.created_at < now() - make_interval(secs => :address_wait_s) AS waited_enough,
           m.created_at < now() - make_interval(secs => :give_up_s) AS too_old,
           CASE WHEN m.recipient = 'seller' THEN s.email ELSE o.buyer_email END AS email,
           CASE WHEN m.recipient = 'seller' THEN s.language ELSE o.buyer_language END
               AS language,
           CASE WHEN m.recipient = 'seller' THEN s.seller_id IS NOT NULL
                ELSE o.order_id IS NOT NULL END AS known
    FROM mail_outbox m
    LEFT JOIN mail_orders o ON o.order_id = m.order_id
    LEFT JOIN mail_sellers s ON s.seller_id = COALESCE(m.seller_id, o.seller_id)
    WHERE m.status = 'PENDING' AND m.due_at <= now()
    ORDER BY m.due_at, m.id
    LIMIT :limit
    FOR UPDATE OF m SKIP LOCKED
    """
)


@dataclass(frozen=True)
class Due:
    id: int
    event_id: uuid.UUID
    recipient: str
    template: str
    params: dict[str, Any]
    attempts: int
    email: str | None
    language: str | None
    known: bool
    waited_enough: bool
    too_old: bool


async def enqueue(conn: AsyncConnection, event_id: uuid.UUID, mails: list[Mail]) -> None:
    for mail in mails:
        await conn.execute(
            _ENQUEUE,
            {
                "event_id": event_id,
                "recipient": mail.recipient,
                "order_id": mail.order_id,
                "seller_id": mail.seller_id,
                "template": mail.template,
                "params": json.dumps(mail.params, ensure_ascii=False),
            },
        )


async def remember_seller(
    conn: AsyncConnection, seller_id: str, email: str | None, language: str | None
) -> None:
    await conn.execute(_SELLER, {"seller_id": seller_id, "email": email, "language": language})


async def remember_order(
    conn: AsyncConnection,
    order_id: uuid.UUID,
    seller_id: str,
    buyer_id: str,
    email: str | None,
    language: str | None,
) -> None:
    await conn.execute(
        _ORDER,
        {
            "order_id": order_id,
            "seller_id": seller_id,
            "buyer_id": buyer_id,
            "email": email,
            "language": language,
        },
    )


async def claim(
    conn: AsyncConnection, limit: int, address_wait_s: float, give_up_s: float
) -> list[Due]:
    rows = await conn.execute(
        _CLAIM, {"limit": limit, "address_wait_s": address_wait_s, "give_up_s": give_up_s}
    )
    return [
        Due(
            r.id,
            r.event_id,
            r.recipient,
            r.template,
            r.params if isinstance(r.params, dict) else json.loads(r.params),
            r.attempts,
            r.email,
            r.language,
            bool(r.known),
            bool(r.waited_enough),
            bool(r.too_old),
        )
        for r in rows
    ]


async def sent(
    conn: AsyncConnection, mail_id: int, to: str, language: str, subject: str, message_id: str
) -> None:
    await conn.execute(
        text(
            "UPDATE mail_outbox SET status = 'SENT', sent_at = now(), attempts = attempts + 1, "
            "to_address = :to, language = :language, subject = :subject, "
            "message_id = :message_id, last_error = NULL WHERE id = :id"
        ),
        {
            "id": mail_id,
            "to": to,
            "language": language,
            "subject": subject,
            "message_id": message_id,
        },
    )


async def later(conn: AsyncConnection, mail_id: int, delay_s: float, error: str) -> None:
    """Tried (or waiting for its address): due again after `delay_s`."""
    await conn.execute(
        text(
            "UPDATE mail_outbox SET attempts = attempts + 1, last_error = :error, "
            "due_at = now() + make_interval(secs => :delay) WHERE id = :id"
        ),
        {"id": mail_id, "delay": delay_s, "error": error},
    )


async def settled(conn: AsyncConnection, mail_id: int, status: str, error: str) -> None:
    """Not sent, and never will be: NO_ADDRESS (the recipient gave none) or FAILED."""
    await conn.execute(
        text("UPDATE mail_outbox SET status = :status, last_error = :error WHERE id = :id"),
        {"id": mail_id, "status": status, "error": error},
    )


async def mails(conn: AsyncConnection, event_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """The outbox's rows (an event's), oldest first: for operators and tests."""
    rows = await conn.execute(
        text(
            "SELECT id, event_id, recipient, order_id, seller_id, template, status, attempts, "
            "to_address, language, subject, message_id, last_error, created_at, sent_at "
            "FROM mail_outbox WHERE CAST(:event_id AS uuid) IS NULL OR event_id = :event_id "
            "ORDER BY id"
        ),
        {"event_id": event_id},
    )
    return [dict(r._mapping) for r in rows]
