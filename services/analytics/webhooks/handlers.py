"""The webhooks' reactions: each event of a kind sellers subscribe to becomes a pending
delivery to its seller's endpoints of that kind (its own consumer group, so the projections
and the mailer go their own pace)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics.webhooks import deliveries, endpoints
from services.analytics.webhooks.rules import KIND_OF, body, recipients
from shared.consumer import Reaction, Reactions
from shared.events import Envelope, EventPayload
from shared.events.order import OrderCreated


async def _seller_of(conn: AsyncConnection, envelope: Envelope) -> str | None:
    """The seller of the event's order: the envelope's, else the one its OrderCreated named."""
    if envelope.seller_id is not None or envelope.order_id is None:
        return envelope.seller_id
    row = await conn.execute(
        text("SELECT seller_id FROM webhook_order_sellers WHERE order_id = :id"),
        {"id": envelope.order_id},
    )
    return row.scalar_one_or_none()


async def order_created(conn: AsyncConnection, event: OrderCreated, envelope: Envelope) -> None:
    await conn.execute(
        text(
            "INSERT INTO webhook_order_sellers (order_id, seller_id) VALUES (:o, :s) "
            "ON CONFLICT (order_id) DO NOTHING"
        ),
        {"o": event.order_id, "s": event.seller_id},
    )


def _deliver(kind: str) -> Reaction:
    async def deliver(conn: AsyncConnection, event: EventPayload, envelope: Envelope) -> None:
        seller_id = await _seller_of(conn, envelope)
        if seller_id is None:
            return
        webhooks = recipients(kind, seller_id, await endpoints.active(conn, seller_id))
        await deliveries.record(
            conn,
            webhooks,
            event_id=envelope.event_id,
            event_type=envelope.event_type,
            kind=kind,
            order_id=envelope.order_id,
            body=body(kind, envelope, seller_id),
            now=envelope.occurred_at,
        )

    return deliver


def reactions() -> Reactions:
    return {OrderCreated: order_created} | {model: _deliver(k) for model, k in KIND_OF.items()}
