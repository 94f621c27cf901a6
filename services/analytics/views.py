"""The analytics tables: the received-event log, order views and facts by generation."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.events import Envelope
from shared.pagination import keyset_page


async def receive(conn: AsyncConnection, topic: str, envelope: Envelope) -> bool:
    """Keep the event; False when it was kept already."""
    inserted = await conn.execute(
        text(
            """
            INSERT INTO received_events (event_id, topic, order_id, stream_id, stream_version,
                                         event_type, occurred_at, envelope)
            VALUES (:id, :topic, :order, :stream, :version, :type, :at, :envelope)
            ON CONFLICT (event_id) DO NOTHING RETURNING 1
            """
        ),
        {
            "id": envelope.event_id,
            "topic": topic,
            "order": envelope.order_id,
            "stream": envelope.stream_id,
            "version": envelope.stream_version,
            "type": envelope.event_type,
            "at": envelope.occurred_at,
            "envelope": envelope.model_dump_json(),
        },
    )
    return inserted.first() is not None


async def count_progress(conn: AsyncConnection, topic: str, occurred_at: datetime) -> None:
    await conn.execute(
        text(
            """
            INSERT INTO projection_progress (topic, events_applied, last_occurred_at)
            VALUES (:topic, 1, :at)
            ON CONFLICT (topic) DO UPDATE
            SET events_applied = projection_progress.events_applied + 1,
                last_occurred_at = GREATEST(projection_progress.last_occurred_at, :at),
                updated_at = now()
            """
        ),
        {"topic": topic, "at": occurred_at},
    )


async def lock_order(conn: AsyncConnection, order_id: uuid.UUID) -> None:
    """Serialise the refreshes of one order (live events and a rebuild) until commit."""
    await conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:id, 7))"), {"id": str(order_id)}
    )


async def order_events(conn: AsyncConnection, order_id: uuid.UUID) -> list[Envelope]:
    rows = await conn.execute(
        text("SELECT envelope FROM received_events WHERE order_id = :id"), {"id": order_id}
    )
    return [Envelope.model_validate_json(r.envelope) for r in rows]


async def live_generations(conn: AsyncConnection) -> list[int]:
    rows = await conn.execute(
        text("SELECT generation FROM generations WHERE status IN ('ACTIVE', 'BUILDING')")
    )
    return [r.generation for r in rows]


async def active_generation(conn: AsyncConnection) -> int:
    result = await conn.execute(text("SELECT generation FROM generations WHERE status = 'ACTIVE'"))
    generation: int = result.scalar_one()
    return generation


async def save_view(
    conn: AsyncConnection,
    generation: int,
    order_id: uuid.UUID,
    doc: dict[str, Any],
    core: dict[str, Any],
    first_at: datetime | None,
    last_at: datetime | None,
) -> None:
    await conn.execute(
        text(
            """
            INSERT INTO order_views (generation, order_id, seller_id, buyer_id, status,
                                     created_at, dispatch_deadline, pickup_overdue, open_cases, doc)
            VALUES (:gen, :id, :seller, :buyer, :status, :created, :deadline, :overdue, :open,
                    CAST(:doc AS jsonb))
            ON CONFLICT (generation, order_id) DO UPDATE SET seller_id = EXCLUDED.seller_id,
                buyer_id = EXCLUDED.buyer_id, status = EXCLUDED.status,
                created_at = EXCLUDED.created_at, dispatch_deadline = EXCLUDED.dispatch_deadline,
                pickup_overdue = EXCLUDED.pickup_overdue, open_cases = EXCLUDED.open_cases,
                doc = EXCLUDED.doc
            """
        ),
        {
            "gen": generation,
            "id": order_id,
            "seller": doc["seller_id"],
            "buyer": doc["buyer_id"],
            "status": doc["status"],
            "created": _dt(doc["created_at"]),
            "deadline": _dt(doc["dispatch_deadline"]),
            "overdue": any(p["pickup"]["overdue"] for p in doc["packages"]),
            "open": doc["open_aftersales_cases"],
            "doc": json.dumps(doc),
        },
    )
    if doc["seller_id"] is None:
        return  # the order's creation has not arrived yet: nothing to count
    await conn.execute(
        text(
            """
            INSERT INTO order_facts (generation, order_id, seller_id, first_at, last_at, core)
            VALUES (:gen, :id, :seller, :first, :last, CAST(:core AS jsonb))
            ON CONFLICT (generation, order_id) DO UPDATE SET seller_id = EXCLUDED.seller_id,
                first_at = EXCLUDED.first_at, last_at = EXCLUDED.last_at, core = EXCLUDED.core
            """
        ),
        {
            "gen": generation,
            "id": order_id,
            "seller": doc["seller_id"],
            "first": first_at,
            "last": last_at,
            "core": json.dumps(core),
        },
    )


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def view(conn: AsyncConnection, order_id: uuid.UUID) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            text(
                "SELECT doc FROM order_views WHERE order_id = :id AND generation = "
                "(SELECT generation FROM generations WHERE status = 'ACTIVE')"
            ),
            {"id": order_id},
        )
    ).first()
    return dict(row.doc) if row else None


async def views(
    conn: AsyncConnection,
    seller_id: str | None,
    status: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
    needs_action_before: datetime | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest last; `needs_action_before`: orders awaiting shipment with a dispatch deadline
    before it, overdue pickups, or open after-sales cases."""
    where = ["generation = (SELECT generation FROM generations WHERE status = 'ACTIVE')"]
    where.append("created_at IS NOT NULL")
    params: dict[str, Any] = {}
    for column, value, op in (
        ("seller_id", seller_id, "="),
        ("status", status, "="),
        ("created_at", created_from, ">="),
        ("created_at", created_to, "<"),
    ):
        if value is not None:
            where.append(f"{column} {op} :{column}_{len(params)}")
            params[f"{column}_{len(params)}"] = value
    if needs_action_before is not None:
        where.append(
            "((status IN ('AWAITING_SHIPMENT', 'PARTIALLY_SHIPPING') AND dispatch_deadline < "
            ":soon) OR pickup_overdue OR open_cases > 0)"
        )
        params["soon"] = needs_action_before
    sort = ("created_at", "order_id")
    return await keyset_page(conn, "order_views", sort, where, params, limit, cursor)


async def facts_cores(
    conn: AsyncConnection, seller_id: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    rows = await conn.execute(
        text(
            """
            SELECT core FROM order_facts
            WHERE generation = (SELECT generation FROM generations WHERE status = 'ACTIVE')
              AND seller_id = :seller AND last_at >= :start AND first_at < :end
            ORDER BY order_id
            """
        ),
        {"seller": seller_id, "start": start, "end": end},
    )
    return [dict(r.core) for r in rows]


async def digest(conn: AsyncConnection, generation: int) -> tuple[str, int]:
    """A fingerprint of a generation's views and facts: equal iff they are equal."""
    rows = await conn.execute(
        text(
            """
            SELECT v.order_id, v.doc::text AS doc, coalesce(f.core::text, '') AS core
            FROM order_views v LEFT JOIN order_facts f USING (generation, order_id)
            WHERE v.generation = :gen ORDER BY v.order_id
            """
        ),
        {"gen": generation},
    )
    h = hashlib.sha256()
    count = 0
    for row in rows:
        for part in (str(row.order_id), row.doc, row.core):
            h.update(part.encode())
            h.update(b"\x1f")
        count += 1
    return h.hexdigest(), count


async def order_ids(conn: AsyncConnection) -> list[uuid.UUID]:
    rows = await conn.execute(
        text("SELECT DISTINCT order_id FROM received_events WHERE order_id IS NOT NULL")
    )
    return sorted(r.order_id for r in rows)


async def generations(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(
        text(
            "SELECT generation, status, started_at, finished_at, replayed, digest, error "
            "FROM generations ORDER BY generation"
        )
    )
    return [dict(r._mapping) for r in rows]


async def progress(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(
        text("SELECT topic, events_applied, last_occurred_at FROM projection_progress ORDER BY 1")
    )
    return [dict(r._mapping) for r in rows]


async def counts(conn: AsyncConnection) -> dict[str, int]:
    row = (
        await conn.execute(
            text(
                """
                SELECT (SELECT count(*) FROM received_events) AS received,
                       (SELECT count(*) FROM dead_letters
                        WHERE resolved_at IS NULL) AS dead_letters,
                       (SELECT coalesce(sum((doc->>'held')::int), 0) FROM order_views
                        WHERE generation = (SELECT generation FROM generations
                                            WHERE status = 'ACTIVE')) AS held
                """
            )
        )
    ).one()
    return {"received": row.received, "dead_letters": row.dead_letters, "held": int(row.held)}


async def drop_retired(conn: AsyncConnection) -> None:
    await _drop(conn, "RETIRED")


async def drop_failed(conn: AsyncConnection) -> None:
    await _drop(conn, "FAILED")


async def _drop(conn: AsyncConnection, status: str) -> None:
    for table in ("order_views", "order_facts"):
        await conn.execute(
            text(
                f"DELETE FROM {table} WHERE generation IN "
                "(SELECT generation FROM generations WHERE status = :status)"
            ),
            {"status": status},
        )
