"""The analytics read model: the projector's tables and their queries. `received_events` is the
projection's event log (what a refold or a rebuild reads; the consumer's inbox is what keeps
an event from being applied twice), `order_views` and `order_facts` hold the views and the
facts of the seller metrics by generation, `projection_progress` the events applied per
topic."""

from __future__ import annotations

import functools
import hashlib
import uuid
from datetime import datetime
from typing import Any, Generic, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import to_json
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics.domain.arrival import Recorded, recorded
from services.analytics.domain.order_view import OrderView
from shared.db import driver_connection
from shared.events import REGISTRY, Envelope, EventPayload
from shared.pagination import keyset_page

_LOG = """
    INSERT INTO received_events (event_id, topic, order_id, stream_id, stream_version,
                                 event_type, occurred_at, envelope)
    SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:producers AS text[]),
                         CAST(:orders AS uuid[]), CAST(:streams AS text[]),
                         CAST(:versions AS int[]), CAST(:types AS text[]),
                         CAST(:occurred AS timestamptz[]), CAST(:envelopes AS text[]))
    ON CONFLICT (event_id) DO NOTHING
"""
_COUNT = """
    INSERT INTO projection_progress (topic, events_applied, last_occurred_at)
    SELECT * FROM unnest(CAST(:topics AS text[]), CAST(:counts AS bigint[]),
                         CAST(:latest AS timestamptz[]))
    ON CONFLICT (topic) DO UPDATE
    SET events_applied = projection_progress.events_applied + EXCLUDED.events_applied,
        last_occurred_at = GREATEST(projection_progress.last_occurred_at,
                                    EXCLUDED.last_occurred_at),
        updated_at = now()
"""


async def log_events(conn: AsyncConnection, envelopes: list[Envelope], *, applied: bool) -> None:
    """Keep the events in the projection's event log, one statement; an event in it already
    stays as it is. `applied`: the events are applied now (not only replayed by a rebuild),
    so they are counted, with the latest occurred_at, per topic, in the same statement."""
    if not envelopes:
        return
    params: dict[str, Any] = {
        "ids": [e.event_id for e in envelopes],
        "producers": [e.producer for e in envelopes],
        "orders": [e.order_id for e in envelopes],
        "streams": [e.stream_id for e in envelopes],
        "versions": [e.stream_version for e in envelopes],
        "types": [e.event_type for e in envelopes],
        "occurred": [e.occurred_at for e in envelopes],
        "envelopes": [e.model_dump_json() for e in envelopes],
    }
    if not applied:
        await conn.execute(text(_LOG), params)
        return
    counts: dict[str, int] = {}
    latest: dict[str, datetime] = {}
    for e in envelopes:
        counts[e.producer] = counts.get(e.producer, 0) + 1
        latest[e.producer] = max(latest.get(e.producer, e.occurred_at), e.occurred_at)
    topics = sorted(counts)
    params |= {
        "topics": topics,
        "counts": [counts[t] for t in topics],
        "latest": [latest[t] for t in topics],
    }
    await conn.execute(text(f"WITH logged AS ({_LOG}) {_COUNT}"), params)


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


class Logged(NamedTuple):
    """A logged event, as kept: its type and its envelope's JSON."""

    event_type: str
    envelope: str


_LOGGED = """
    SELECT order_id, event_type, envelope FROM received_events
    WHERE order_id = ANY($1::uuid[]) AND event_id <> ALL($2::uuid[])
"""


async def logged_events(
    conn: AsyncConnection, order_ids: list[uuid.UUID], excluding: list[uuid.UUID]
) -> dict[uuid.UUID, list[Logged]]:
    """The logged events of these orders, not decoded yet (`decoded`), but those
    `excluding`. On the driver: a rebuild reads every event through here."""
    events: dict[uuid.UUID, list[Logged]] = {order_id: [] for order_id in order_ids}
    driver = await driver_connection(conn)
    for row in await driver.fetch(_LOGGED, order_ids, excluding):
        events[row["order_id"]].append(Logged(row["event_type"], row["envelope"]))
    return events


E = TypeVar("E", bound=EventPayload)


class _LoggedAs(BaseModel, Generic[E]):
    """A logged envelope read straight into its event class, in one pass over its JSON."""

    model_config = ConfigDict(extra="ignore")
    schema_version: int
    stream_id: str
    stream_version: int
    occurred_at: datetime
    payload: E


@functools.cache
def _logged_as(model: type[EventPayload]) -> type[_LoggedAs[Any]]:
    logged: type[_LoggedAs[Any]] = _LoggedAs[model]  # type: ignore[valid-type]
    return logged


def decoded(logged: Logged) -> Recorded:
    """The logged event, decoded. A rebuild decodes every event here: one in its type's
    current schema is read straight into its class (parsing the envelope, then validating
    its payload took half as long again); an older one, or a type this service does not
    know, goes through the envelope and the event registry, which upcasts it."""
    event_type = logged.event_type
    model = REGISTRY.model(event_type) if event_type in REGISTRY else None
    if model is not None:
        try:
            read = _logged_as(model).model_validate_json(logged.envelope)
        except ValidationError:  # an older schema
            read = None
        if read is not None and read.schema_version == model.schema_version:
            at, stream, version = read.occurred_at, read.stream_id, read.stream_version
            return Recorded(stream, version, event_type, at, read.payload)
    return recorded(Envelope.model_validate_json(logged.envelope))


async def live_generations(conn: AsyncConnection) -> list[int]:
    rows = await conn.execute(
        text("SELECT generation FROM generations WHERE status IN ('ACTIVE', 'BUILDING')")
    )
    return [r.generation for r in rows]


async def active_generation(conn: AsyncConnection) -> int:
    result = await conn.execute(text("SELECT generation FROM generations WHERE status = 'ACTIVE'"))
    generation: int = result.scalar_one()
    return generation


class OrderRow(NamedTuple):
    """One order's view and its document, and the span of the dates its metrics count."""

    view: OrderView
    doc: dict[str, Any]  # typed values (`document`): written as JSON by `to_json`
    first_at: datetime | None
    last_at: datetime | None


_SAVE = """
    WITH v AS (
        SELECT g, id, seller, buyer, status, created, deadline, overdue, open,
               CAST(doc AS jsonb) AS doc, first_at, last_at
        FROM unnest($1::int[], $2::uuid[], $3::text[], $4::text[], $5::text[],
                    $6::timestamptz[], $7::timestamptz[], $8::boolean[], $9::int[], $10::text[],
                    $11::timestamptz[], $12::timestamptz[])
            AS v(g, id, seller, buyer, status, created, deadline, overdue, open, doc, first_at,
                 last_at)
    ), saved_views AS (
        INSERT INTO order_views (generation, order_id, seller_id, buyer_id, status, created_at,
                                 dispatch_deadline, pickup_overdue, open_cases, doc)
        SELECT g, id, seller, buyer, status, created, deadline, overdue, open, doc FROM v
        ON CONFLICT (generation, order_id) DO UPDATE SET seller_id = EXCLUDED.seller_id,
            buyer_id = EXCLUDED.buyer_id, status = EXCLUDED.status,
            created_at = EXCLUDED.created_at, dispatch_deadline = EXCLUDED.dispatch_deadline,
            pickup_overdue = EXCLUDED.pickup_overdue, open_cases = EXCLUDED.open_cases,
            doc = EXCLUDED.doc
    )
    INSERT INTO order_facts (generation, order_id, seller_id, first_at, last_at, core)
    SELECT g, id, seller, first_at, last_at, doc - 'timeline' FROM v
    WHERE seller IS NOT NULL  -- the order's creation has not arrived: nothing to count yet
    ON CONFLICT (generation, order_id) DO UPDATE SET seller_id = EXCLUDED.seller_id,
        first_at = EXCLUDED.first_at, last_at = EXCLUDED.last_at, core = EXCLUDED.core
"""


async def save_views(conn: AsyncConnection, generations: list[int], rows: list[OrderRow]) -> None:
    """Upsert the views in each generation, and the facts of those whose creation arrived (a
    view's document without its timeline): one statement, on the driver, whatever the
    number of orders."""
    saved = [(g, r) for g in generations for r in rows]
    if not saved:
        return
    docs = [to_json(r.doc).decode() for r in rows]
    driver = await driver_connection(conn)
    await driver.execute(
        _SAVE,
        [g for g, _ in saved],
        [r.view.order_id for _, r in saved],
        [r.view.seller_id for _, r in saved],
        [r.view.buyer_id for _, r in saved],
        [r.view.status for _, r in saved],
        [r.view.created_at for _, r in saved],
        [r.view.dispatch_deadline for _, r in saved],
        [any(p.pickup.overdue for p in r.view.packages.values()) for _, r in saved],
        [r.doc["open_aftersales_cases"] for _, r in saved],
        docs * len(generations),
        [r.first_at for _, r in saved],
        [r.last_at for _, r in saved],
    )


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


async def rated_deliveries(
    conn: AsyncConnection, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """The facts (cores) of the orders whose review, with a logistics rating, may have been
    posted in [start, end) (their span of dates meets it: the review's date is in it)."""
    rows = await conn.execute(
        text(
            """
            SELECT core FROM order_facts
            WHERE generation = (SELECT generation FROM generations WHERE status = 'ACTIVE')
              AND last_at >= :start AND first_at < :end
              AND core->'review'->>'logistics_rating' IS NOT NULL
            ORDER BY order_id
            """
        ),
        {"start": start, "end": end},
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
