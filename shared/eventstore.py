"""The event store: append with optimistic concurrency, load a stream, read all events in a
gap-safe global order.

Each row records its writing transaction (`tx_id xid8 DEFAULT pg_current_xact_id()`).
`read_all` returns only rows whose transaction id is below the oldest transaction still
running (`pg_snapshot_xmin(pg_current_snapshot())`), ordered by (tx_id, position), so a
reader that checkpoints (tx_id, position) never skips a late commit of a lower position.

A transaction gets its id at its first write, which may come before it loads a stream (a
consumer's inbox row, another aggregate's events): another transaction may then append to
that stream and commit with a later id, and our next version would sort before it. So an
append records the later of its own id and its predecessor's `tx_id`. The guard still holds:
a row's `tx_id` is never below its writer's id, so the reader passes it only once its writer
has finished; and the predecessor was committed before this append (it was loaded), so its
position is lower: per stream, (tx_id, position) is the version order, and the relay, which
follows `read_all`, publishes a stream in version order too (the events table is the outbox).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection

from shared import context, metrics
from shared.db import driver_connection
from shared.events import Envelope, EventPayload


class ConcurrencyError(Exception):
    """Another writer appended to the stream first."""

    def __init__(self, stream_id: str, expected_version: int) -> None:
        super().__init__(f"stream {stream_id} moved past version {expected_version}")
        self.stream_id = stream_id
        self.expected_version = expected_version


@dataclass(frozen=True, order=True)
class Position:
    tx_id: int = 0
    position: int = 0


@dataclass(frozen=True)
class StoredEvent:
    position: Position
    envelope: Envelope


EVENTS_CHANNEL = "shopflow_events"

# One round trip, one prepared statement on the driver: the events and the relay's wake-up
# call. The rows' tx_id is the later of this transaction's id and that of the stream's
# previous event (the module docstring says why).
_APPEND = f"""
    WITH ordering AS (
        SELECT GREATEST(pg_current_xact_id(), (
            SELECT tx_id FROM events WHERE stream_id = $12 AND stream_version = $13
        )) AS tx_id
    ), new_events AS (
        INSERT INTO events (tx_id, event_id, stream_id, stream_version, event_type,
                            schema_version, occurred_at, order_id, seller_id, correlation_id,
                            causation_id, payload)
        SELECT o.tx_id, e.event_id, e.stream_id, e.stream_version, e.event_type,
               e.schema_version, e.occurred_at, e.order_id, e.seller_id, e.correlation_id,
               e.causation_id, CAST(e.payload AS jsonb)
        FROM ordering AS o,
             unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::int[],
                    $6::timestamptz[], $7::uuid[], $8::text[], $9::text[], $10::text[],
                    $11::text[])
             AS e(event_id, stream_id, stream_version, event_type, schema_version, occurred_at,
                  order_id, seller_id, correlation_id, causation_id, payload)
    )
    SELECT pg_notify('{EVENTS_CHANNEL}', '')  -- the insert above runs without being read
"""
_LOAD = """
    SELECT event_id, stream_id, stream_version, event_type, schema_version, occurred_at,
           order_id, seller_id, correlation_id, causation_id, payload::text AS payload
    FROM events WHERE stream_id = $1 AND stream_version > $2
    ORDER BY stream_version
"""
_LOAD_SNAPSHOT = """
    SELECT stream_version, state::text AS state FROM snapshots
    WHERE stream_id = $1 AND codec = $2
"""
_SAVE_SNAPSHOT = """
    INSERT INTO snapshots (stream_id, stream_version, codec, state)
    VALUES ($1, $2, $3, $4::jsonb)
    ON CONFLICT (stream_id) DO UPDATE
    SET stream_version = EXCLUDED.stream_version, codec = EXCLUDED.codec,
        state = EXCLUDED.state, taken_at = now()
    WHERE snapshots.stream_version < EXCLUDED.stream_version OR snapshots.codec <> EXCLUDED.codec
"""
_READ_ALL = """
    SELECT tx_id::text::bigint AS tx, position, event_id, stream_id, stream_version, event_type,
           schema_version, occurred_at, order_id, seller_id, correlation_id, causation_id,
           payload::text AS payload
    FROM events
    WHERE (tx_id, position) > ($1::text::xid8, $2)
      AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY tx_id, position
    LIMIT $3
"""


def _envelope(m: asyncpg.Record, producer: str) -> Envelope:
    return Envelope.model_validate(
        {
            "event_id": m["event_id"],
            "event_type": m["event_type"],
            "schema_version": m["schema_version"],
            "occurred_at": m["occurred_at"],
            "producer": producer,
            "stream_id": m["stream_id"],
            "stream_version": m["stream_version"],
            "order_id": m["order_id"],
            "seller_id": m["seller_id"],
            "correlation_id": m["correlation_id"],
            "causation_id": m["causation_id"],
            "payload": _loads(m["payload"]),
        }
    )


def _loads(raw: str) -> dict[str, object]:
    value = json.loads(raw)
    assert isinstance(value, dict)
    return value


class EventStore:
    def __init__(self, service: str, topic: str) -> None:
        self.service = service
        self.topic = topic

    async def load(self, conn: AsyncConnection, stream_id: str, after: int = 0) -> list[Envelope]:
        driver = await driver_connection(conn)
        rows = await driver.fetch(_LOAD, stream_id, after)
        return [_envelope(r, self.service) for r in rows]

    async def load_snapshot(
        self, conn: AsyncConnection, stream_id: str, codec: str
    ) -> tuple[int, dict[str, Any]] | None:
        """The stream's snapshot taken with `codec` (its version and state), if any."""
        driver = await driver_connection(conn)
        row = await driver.fetchrow(_LOAD_SNAPSHOT, stream_id, codec)
        return None if row is None else (row["stream_version"], _loads(row["state"]))

    async def save_snapshot(
        self, conn: AsyncConnection, stream_id: str, version: int, codec: str, state: str
    ) -> None:
        """Keep `state` (JSON) as the stream's snapshot at `version`, in the caller's
        transaction; an older one, or one of another codec, is replaced."""
        driver = await driver_connection(conn)
        await driver.execute(_SAVE_SNAPSHOT, stream_id, version, codec, state)

    async def append(
        self,
        conn: AsyncConnection,
        stream_id: str,
        expected_version: int,
        events: Sequence[EventPayload],
        *,
        occurred_at: datetime,
        order_id: uuid.UUID | None = None,
        seller_id: str | None = None,
    ) -> list[Envelope]:
        """Append after `expected_version` (0 for a new stream), in the caller's transaction.
        Raises ConcurrencyError if the stream moved."""
        if not events:
            return []
        if not conn.in_transaction():
            raise RuntimeError("append in the caller's transaction")
        envelopes = [
            Envelope.model_construct(  # every field is made here: nothing to validate
                event_id=uuid.uuid4(),
                event_type=e.event_type,
                schema_version=e.schema_version,
                occurred_at=occurred_at,
                producer=self.service,
                stream_id=stream_id,
                stream_version=expected_version + i,
                order_id=order_id,
                seller_id=seller_id,
                correlation_id=context.correlation_id.get(),
                causation_id=context.causation_id.get(),
                payload=e.model_dump(mode="json"),
            )
            for i, e in enumerate(events, start=1)
        ]
        driver = await driver_connection(conn)
        try:
            await driver.execute(
                _APPEND,
                [e.event_id for e in envelopes],
                [e.stream_id for e in envelopes],
                [e.stream_version for e in envelopes],
                [e.event_type for e in envelopes],
                [e.schema_version for e in envelopes],
                [e.occurred_at for e in envelopes],
                [e.order_id for e in envelopes],
                [e.seller_id for e in envelopes],
                [e.correlation_id for e in envelopes],
                [e.causation_id for e in envelopes],
                [e.model_dump_json() for e in events],
                stream_id,
                expected_version,
            )
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == "events_stream_version_key":
                metrics.COMMAND_CONFLICTS.labels(self.service).inc()
                raise ConcurrencyError(stream_id, expected_version) from exc
            raise
        for env in envelopes:
            metrics.EVENTS_APPENDED.labels(self.service, env.event_type).inc()
        return envelopes

    async def read_all(
        self, conn: AsyncConnection, after: Position = Position(), limit: int = 1000
    ) -> list[StoredEvent]:
        """The events after `after` whose writers have all finished, in (tx_id, position)
        order: a reader that checkpoints the last position never skips a late commit."""
        return await self.read_all_on(await driver_connection(conn), after, limit)

    async def read_all_on(
        self, driver: asyncpg.Connection, after: Position = Position(), limit: int = 1000
    ) -> list[StoredEvent]:
        """`read_all` on a driver connection (the relay reads on its leadership's)."""
        rows = await driver.fetch(_READ_ALL, str(after.tx_id), after.position, limit)
        return [
            StoredEvent(Position(r["tx"], r["position"]), _envelope(r, self.service)) for r in rows
        ]
