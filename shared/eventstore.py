"""The event store: append with optimistic concurrency, load a stream, read all events in a
gap-safe global order.

Each row records its writing transaction (`tx_id xid8 DEFAULT pg_current_xact_id()`).
`read_all` returns only rows whose transaction id is below the oldest transaction still
running (`pg_snapshot_xmin(pg_current_snapshot())`), ordered by (tx_id, position), so a
reader that checkpoints (tx_id, position) never skips a late commit of a lower position.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from shared import context, metrics
from shared.db import dumps
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


OUTBOX_CHANNEL = "shopflow_outbox"

# One round trip: the events, their outbox rows and the relay's wake-up call.
_APPEND = text(
    f"""
    WITH new_events AS (
        INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version,
                            occurred_at, order_id, seller_id, correlation_id, causation_id,
                            payload)
        SELECT * FROM unnest(
            CAST(:event_ids AS uuid[]), CAST(:stream_ids AS text[]), CAST(:versions AS int[]),
            CAST(:event_types AS text[]), CAST(:schema_versions AS int[]),
            CAST(:occurred_ats AS timestamptz[]), CAST(:order_ids AS uuid[]),
            CAST(:seller_ids AS text[]), CAST(:correlation_ids AS text[]),
            CAST(:causation_ids AS text[]), CAST(CAST(:payloads AS text[]) AS jsonb[]))
        RETURNING 1
    ), new_outbox AS (
        INSERT INTO outbox (event_id, topic, key, value)
        SELECT * FROM unnest(CAST(:event_ids AS uuid[]), CAST(:topics AS text[]),
                             CAST(:keys AS text[]), CAST(:values AS text[]))
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM new_events) AS events, (SELECT count(*) FROM new_outbox) AS outbox,
           pg_notify('{OUTBOX_CHANNEL}', '')
    """
)
_LOAD = text(
    """
    SELECT event_id, stream_id, stream_version, event_type, schema_version, occurred_at,
           order_id, seller_id, correlation_id, causation_id, payload::text AS payload
    FROM events WHERE stream_id = :stream_id AND stream_version > :after
    ORDER BY stream_version
    """
)
_READ_ALL = text(
    """
    SELECT tx_id::text::bigint AS tx, position, event_id, stream_id, stream_version, event_type,
           schema_version, occurred_at, order_id, seller_id, correlation_id, causation_id,
           payload::text AS payload
    FROM events
    WHERE (tx_id, position) > (CAST(CAST(:tx AS text) AS xid8), :position)
      AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY tx_id, position
    LIMIT :limit
    """
)


def _envelope(row: object) -> Envelope:
    m = row._mapping  # type: ignore[attr-defined]
    return Envelope.model_validate(
        {
            "event_id": m["event_id"],
            "event_type": m["event_type"],
            "schema_version": m["schema_version"],
            "occurred_at": m["occurred_at"],
            "producer": "",
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
        rows = await conn.execute(_LOAD, {"stream_id": stream_id, "after": after})
        return [_envelope(r).model_copy(update={"producer": self.service}) for r in rows]

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
        """Append after `expected_version` (0 for a new stream) and write an outbox row per
        event, in the caller's transaction. Raises ConcurrencyError if the stream moved."""
        if not events:
            return []
        envelopes = [
            Envelope(
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
        try:
            await conn.execute(
                _APPEND,
                {
                    "event_ids": [e.event_id for e in envelopes],
                    "stream_ids": [e.stream_id for e in envelopes],
                    "versions": [e.stream_version for e in envelopes],
                    "event_types": [e.event_type for e in envelopes],
                    "schema_versions": [e.schema_version for e in envelopes],
                    "occurred_ats": [e.occurred_at for e in envelopes],
                    "order_ids": [e.order_id for e in envelopes],
                    "seller_ids": [e.seller_id for e in envelopes],
                    "correlation_ids": [e.correlation_id for e in envelopes],
                    "causation_ids": [e.causation_id for e in envelopes],
                    "payloads": [dumps(e.payload) for e in envelopes],
                    "topics": [self.topic] * len(envelopes),
                    "keys": [e.key for e in envelopes],
                    "values": [e.model_dump_json() for e in envelopes],
                },
            )
        except IntegrityError as exc:
            if "events_stream_version_key" in str(exc.orig):
                metrics.COMMAND_CONFLICTS.labels(self.service).inc()
                raise ConcurrencyError(stream_id, expected_version) from exc
            raise
        for env in envelopes:
            metrics.EVENTS_APPENDED.labels(self.service, env.event_type).inc()
        return envelopes

    async def read_all(
        self, conn: AsyncConnection, after: Position = Position(), limit: int = 1000
    ) -> list[StoredEvent]:
        rows = await conn.execute(
            _READ_ALL, {"tx": str(after.tx_id), "position": after.position, "limit": limit}
        )
        return [
            StoredEvent(
                Position(r._mapping["tx"], r._mapping["position"]),
                _envelope(r).model_copy(update={"producer": self.service}),
            )
            for r in rows
        ]
