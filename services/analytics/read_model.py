"""The analytics read model: the projector's tables and their queries. `received_events` is the
projection's event log (what a refold or a rebuild reads; the consumer's inbox is what keeps
an event from being applied twice), `order_views` and `order_facts` hold the views and the
facts of the seller metrics by generation, `projection_progress` the events applied per
topic."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic_core import to_json
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.events import Envelope
from shared.pagination import keyset_page


async def log_events(conn: AsyncConnection, envelopes: list[Envelope]) -> None:
    """Keep the events in the projection's event log (one statement). An event kept already
    (by a rebuild's replay of the topics) stays as it is."""
    if not envelopes:
        return
    await conn.execute(
        text(
            """
            INSERT INTO received_events (event_id, topic, order_id, stream_id, stream_version,
                                         event_type, occurred_at, envelope)
            SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:topics AS text[]),
                                 CAST(:orders AS uuid[]), CAST(:streams AS text[]),
                                 CAST(:versions AS int[]), CAST(:types AS text[]),
                                 CAST(:ats AS timestamptz[]), CAST(:envelopes AS text[]))
            ON CONFLICT (event_id) DO NOTHING
            """
        ),
        {
            "ids": [e.event_id for e in envelopes],
            "topics": [e.producer for e in envelopes],
            "orders": [e.order_id for e in envelopes],
            "streams": [e.stream_id for e in envelopes],
            "versions": [e.stream_version for e in envelopes],
            "types": [e.event_type for e in envelopes],
            "ats": [e.occurred_at for e in envelopes],
            "envelopes": [e.model_dump_json() for e in envelopes],
        },
    )


async def count_progress(conn: AsyncConnection, envelopes: list[Envelope]) -> None:
    """Events applied and the latest occurred_at per topic, one statement for a batch."""
    counts: dict[str, int] = {}
    latest: dict[str, datetime] = {}
    for e in envelopes:
        counts[e.producer] = counts.get(e.producer, 0) + 1
        latest[e.producer] = max(latest.get(e.producer, e.occurred_at), e.occurred_at)
    if not counts:
        return
    topics = sorted(counts)
    await conn.execute(
        text(
            """
            INSERT INTO projection_progress (topic, events_applied, last_occurred_at)
            SELECT * FROM unnest(CAST(:topics AS text[]), CAST(:counts AS bigint[]),
                                 CAST(:ats AS timestamptz[]))
            ON CONFLICT (topic) DO UPDATE
            SET events_applied = projection_progress.events_applied + EXCLUDED.events_applied,
                last_occurred_at = GREATEST(projection_progress.last_occurred_at,
                                            EXCLUDED.last_occurred_at),
                updated_at = now()
            """
        ),
        {
            "topics": topics,
            "counts": [counts[t] for t in topics],
            "ats": [latest[t] for t in topics],
        },
    )


async def lock_orders(conn: AsyncConnection, order_ids: list[uuid.UUID]) -> None:
    """Serialise the refreshes of each order (live events and a rebuild) until commit; taken
    in order_id order by everyone, so two refreshes never wait on each other in a cycle."""
    await conn.execute(
        text(
            """
            SELECT pg_advisory_xact_lock(hashtextextended(id::text, 7))
            FROM (SELECT id FROM unnest(CAST(:ids AS uuid[])) AS id ORDER BY id) AS sorted
            """
        ),
        {"ids": sorted(order_ids)},
    )


async def order_events(
    conn: AsyncConnection, order_ids: list[uuid.UUID], known: list[Envelope]
) -> dict[uuid.UUID, list[Envelope]]:
    """Every logged event of these orders; those in `known` (just received) are not read
    and parsed again."""
    events: dict[uuid.UUID, list[Envelope]] = {order_id: [] for order_id in order_ids}
    for e in known:
        if e.order_id in events:
            events[e.order_id].append(e)
    rows = await conn.execute(
        text(
            "SELECT order_id, envelope FROM received_events WHERE order_id = "
            "ANY(CAST(:ids AS uuid[])) AND event_id <> ALL(CAST(:known AS uuid[]))"
        ),
        {"ids": order_ids, "known": [e.event_id for e in known]},
    )
    for r in rows:
        events[r.order_id].append(Envelope.model_validate_json(r.envelope))
    return events


async def live_generations(conn: AsyncConnection) -> list[int]:
    rows = await conn.execute(
        text("SELECT generation FROM generations WHERE status IN ('ACTIVE', 'BUILDING')")
    )
    return [r.generation for r in rows]


async def active_generation(conn: AsyncConnection) -> int:
    result = await conn.execute(text("SELECT generation FROM generations WHERE status = 'ACTIVE'"))
    generation: int = result.scalar_one()
    return generation


@dataclass(frozen=True)
class OrderRow:
    """One order's view and the facts its metrics count, as saved."""

    order_id: uuid.UUID
    doc: dict[str, Any]
    core: dict[str, Any]
    first_at: datetime | None
    last_at: datetime | None


async def save_views(conn: AsyncConnection, generations: list[int], rows: list[OrderRow]) -> None:
    """Upsert the views (and the facts of those whose creation arrived) in each generation:
    two statements whatever the number of orders."""
    views = [(g, r) for g in generations for r in rows]
    if not views:
        return
    await conn.execute(
        text(
            """
            INSERT INTO order_views (generation, order_id, seller_id, buyer_id, status,
                                     created_at, dispatch_deadline, pickup_overdue, open_cases, doc)
            SELECT g, id, seller, buyer, status, created, deadline, overdue, open,
                   CAST(doc AS jsonb)
            FROM unnest(CAST(:gens AS int[]), CAST(:ids AS uuid[]), CAST(:sellers AS text[]),
                        CAST(:buyers AS text[]), CAST(:statuses AS text[]),
                        CAST(:created AS timestamptz[]), CAST(:deadlines AS timestamptz[]),
                        CAST(:overdue AS boolean[]), CAST(:open AS int[]), CAST(:docs AS text[]))
                AS v(g, id, seller, buyer, status, created, deadline, overdue, open, doc)
            ON CONFLICT (generation, order_id) DO UPDATE SET seller_id = EXCLUDED.seller_id,
                buyer_id = EXCLUDED.buyer_id, status = EXCLUDED.status,
                created_at = EXCLUDED.created_at, dispatch_deadline = EXCLUDED.dispatch_deadline,
                pickup_overdue = EXCLUDED.pickup_overdue, open_cases = EXCLUDED.open_cases,
                doc = EXCLUDED.doc
            """
        ),
        {
            "gens": [g for g, _ in views],
            "ids": [r.order_id for _, r in views],
            "sellers": [r.doc["seller_id"] for _, r in views],
            "buyers": [r.doc["buyer_id"] for _, r in views],
            "statuses": [r.doc["status"] for _, r in views],
            "created": [_dt(r.doc["created_at"]) for _, r in views],
            "deadlines": [_dt(r.doc["dispatch_deadline"]) for _, r in views],
            "overdue": [any(p["pickup"]["overdue"] for p in r.doc["packages"]) for _, r in views],
            "open": [r.doc["open_aftersales_cases"] for _, r in views],
            "docs": [to_json(r.doc).decode() for _, r in views],
        },
    )
    facts = [(g, r) for g, r in views if r.doc["seller_id"] is not None]
    if not facts:
        return  # no order's creation has arrived yet: nothing to count
    await conn.execute(
        text(
            """
            INSERT INTO order_facts (generation, order_id, seller_id, first_at, last_at, core)
            SELECT g, id, seller, first_at, last_at, CAST(core AS jsonb)
            FROM unnest(CAST(:gens AS int[]), CAST(:ids AS uuid[]), CAST(:sellers AS text[]),
                        CAST(:firsts AS timestamptz[]), CAST(:lasts AS timestamptz[]),
                        CAST(:cores AS text[])) AS f(g, id, seller, first_at, last_at, core)
            ON CONFLICT (generation, order_id) DO UPDATE SET seller_id = EXCLUDED.seller_id,
                first_at = EXCLUDED.first_at, last_at = EXCLUDED.last_at, core = EXCLUDED.core
            """
        ),
        {
            "gens": [g for g, _ in facts],
            "ids": [r.order_id for _, r in facts],
            "sellers": [r.doc["seller_id"] for _, r in facts],
            "firsts": [r.first_at for _, r in facts],
            "lasts": [r.last_at for _, r in facts],
            "cores": [to_json(r.core).decode() for _, r in facts],
        },
    )


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def order_view(conn: AsyncConnection, order_id: uuid.UUID) -> dict[str, Any] | None:
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


async def order_views(
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
