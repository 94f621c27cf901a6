"""The pickup service's query tables, kept in the same transaction as the events."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.pickup.domain import Provider, evolve_provider
from shared.events import Envelope
from shared.events.pickup import (
    PickupSubscriptionReviewOverdue,
    ProviderConfigured,
    SubscriptionEvent,
)


async def project(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
    for envelope in envelopes:
        event = envelope.decode()
        match event:
            case ProviderConfigured():
                await conn.execute(
                    text(
                        """
                        INSERT INTO providers (provider_code, name, tracking_prefix, coverage)
                        VALUES (:code, :name, :prefix, CAST(:coverage AS jsonb))
                        ON CONFLICT (provider_code) DO UPDATE SET name = EXCLUDED.name,
                            tracking_prefix = EXCLUDED.tracking_prefix,
                            coverage = EXCLUDED.coverage
                        """
                    ),
                    {
                        "code": event.provider_code,
                        "name": event.name,
                        "prefix": event.tracking_prefix,
                        "coverage": json.dumps(event.coverage),
                    },
                )
            case PickupSubscriptionReviewOverdue():
                await conn.execute(
                    text(
                        "UPDATE subscriptions SET review_overdue = true WHERE subscription_id = :id"
                    ),
                    {"id": event.subscription_id},
                )
            case SubscriptionEvent():
                await conn.execute(
                    text(
                        """
                        INSERT INTO subscriptions (subscription_id, warehouse_id, seller_id,
                                                   provider_code, status, review_due)
                        VALUES (:id, :wh, :seller, :provider, :status, :due)
                        ON CONFLICT (subscription_id) DO UPDATE
                        SET status = EXCLUDED.status, updated_at = now()
                        """
                    ),
                    {
                        "id": event.subscription_id,
                        "wh": event.warehouse_id,
                        "seller": event.seller_id,
                        "provider": event.provider_code,
                        "status": event.status,
                        "due": getattr(event, "review_due", None),
                    },
                )


async def providers(conn: AsyncConnection) -> list[Provider]:
    rows = await conn.execute(
        text(
            "SELECT provider_code, name, tracking_prefix, coverage::text AS coverage "
            "FROM providers ORDER BY provider_code"
        )
    )
    return [
        evolve_provider(
            Provider(),
            ProviderConfigured(
                provider_code=r.provider_code,
                name=r.name,
                tracking_prefix=r.tracking_prefix,
                coverage=json.loads(r.coverage),
            ),
        )
        for r in rows
    ]


async def warehouse_of(conn: AsyncConnection, subscription_id: uuid.UUID) -> uuid.UUID | None:
    row = (
        await conn.execute(
            text("SELECT warehouse_id FROM subscriptions WHERE subscription_id = :id"),
            {"id": subscription_id},
        )
    ).first()
    return row.warehouse_id if row else None


async def overdue_reviews(conn: AsyncConnection) -> list[dict[str, object]]:
    rows = await conn.execute(
        text(
            "SELECT subscription_id, warehouse_id, seller_id, provider_code, review_due "
            "FROM subscriptions WHERE status = 'PENDING_REVIEW' AND review_overdue "
            "ORDER BY review_due LIMIT 500"
        )
    )
    return [dict(r._mapping) for r in rows]
