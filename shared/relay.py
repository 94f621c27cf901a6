"""The relay: publishes the event store to Kafka in commit order, one leader per service.

The events table is the outbox (as in postgresql-event-sourcing): the relay follows it with
the store's gap-safe reader (`EventStore.read_all`) from a checkpoint `(tx_id, position)` kept
in `relay_checkpoints`, and advances the checkpoint only after the broker acknowledged every
event up to it. A crash between the two re-publishes (at-least-once; the consumers' inbox
makes that harmless). Because the store is the truth, publishing can restart from any
checkpoint, e.g. from the start after the broker lost its topics.

Leadership is a PostgreSQL session advisory lock held on a dedicated connection, which also
LISTENs for the NOTIFY sent by each append (a polling interval is the fallback).
"""

from __future__ import annotations

import asyncio
import zlib
from datetime import timedelta

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from shared import metrics
from shared.db import Database
from shared.eventstore import EVENTS_CHANNEL, EventStore, Position, StoredEvent
from shared.kafka import make_producer
from shared.settings import Settings
from shared.waiting import pause

log = structlog.get_logger()

_CHECKPOINT = text(
    "SELECT tx_id::text::bigint AS tx_id, position FROM relay_checkpoints WHERE relay = :relay"
)
_ADVANCE = text(
    """
    INSERT INTO relay_checkpoints (relay, tx_id, position)
    VALUES (:relay, CAST(:tx_id AS xid8), :position)
    ON CONFLICT (relay) DO UPDATE
    SET tx_id = EXCLUDED.tx_id, position = EXCLUDED.position, updated_at = now()
    """
)
_OLDER_THAN = "< now() - CAST(:age AS interval)"
_PURGE = {
    "inbox": text(f"DELETE FROM inbox WHERE processed_at {_OLDER_THAN}"),
    "idempotency_keys": text(f"DELETE FROM idempotency_keys WHERE created_at {_OLDER_THAN}"),
}


class Relay:
    def __init__(self, db: Database, settings: Settings, store: EventStore) -> None:
        self.db = db
        self.settings = settings
        self.store = store
        self.service = store.service
        self.lock_key = zlib.crc32(f"shopflow-relay-{self.service}".encode())
        self.is_leader = False
        self.passes = 0
        self._wake = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._position: Position | None = None  # the checkpoint, read once per leadership

    async def checkpoint(self) -> Position:
        """Where publishing resumes: after the last event the broker acknowledged."""
        async with self.db.connect() as conn:
            row = (await conn.execute(_CHECKPOINT, {"relay": self.service})).first()
        return Position() if row is None else Position(row.tx_id, row.position)

    async def fetch(self, after: Position) -> list[StoredEvent]:
        async with self.db.connect() as conn:
            return await self.store.read_all(conn, after, self.settings.relay_batch_size)

    async def publish(self, events: list[StoredEvent]) -> None:
        """Send and wait for every acknowledgement. aiokafka keeps one batch in flight per
        partition, so events of one key keep their order."""
        assert self._producer is not None, "start() the relay first"
        futures = [
            await self._producer.send(
                self.store.topic,
                e.envelope.model_dump_json().encode(),
                key=e.envelope.key.encode(),
            )
            for e in events
        ]
        await asyncio.gather(*futures)

    async def advance(self, to: Position) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                _ADVANCE, {"relay": self.service, "tx_id": to.tx_id, "position": to.position}
            )
        self._position = to

    async def relay_once(self) -> int:
        """Publish the next batch after the checkpoint, then advance it; how many went out."""
        if self._position is None:
            self._position = await self.checkpoint()
        events = await self.fetch(self._position)
        metrics.RELAY_BATCH.labels(self.service).set(len(events))
        if events:
            await self.publish(events)
            await self.advance(events[-1].position)
            metrics.RELAY_PUBLISHED.labels(self.service).inc(len(events))
        return len(events)

    async def purge(self) -> None:
        age = timedelta(days=self.settings.retention_days)
        async with self.db.transaction() as conn:
            for table, statement in _PURGE.items():
                result = await conn.execute(statement, {"age": age})
                metrics.PURGED.labels(self.service, table).inc(max(result.rowcount, 0))

    async def start(self) -> None:
        self._position = None
        self._producer = make_producer(self.settings)
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def run(self, stop: asyncio.Event) -> None:
        """Wait for leadership, then relay until `stop` is set."""
        interval = self.settings.relay_poll_interval_s
        while not stop.is_set():
            conn = await asyncpg.connect(self.db.libpq_url)
            try:
                if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", self.lock_key):
                    await pause(stop, interval)
                    continue
                self.is_leader = True
                metrics.RELAY_LEADER.labels(self.service).set(1)
                await conn.add_listener(EVENTS_CHANNEL, lambda *_: self._wake.set())
                await self.start()
                await self._lead(stop, conn, interval)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("relay lost its connection", error=str(exc))
                await pause(stop, interval)
            finally:
                self.is_leader = False
                metrics.RELAY_LEADER.labels(self.service).set(0)
                await self.stop()
                await conn.close()

    async def _lead(self, stop: asyncio.Event, conn: asyncpg.Connection, interval: float) -> None:
        while not stop.is_set() and not conn.is_closed():
            self._wake.clear()
            try:
                published = await self.relay_once()
            except Exception as exc:  # broker or database down: retry after a pause
                log.error("relay failed, retrying", error=repr(exc))
                await pause(stop, interval)
                continue
            self.passes += 1
            if self.passes % 600 == 0:
                await self.purge()
            if published < self.settings.relay_batch_size:
                await pause(stop, interval, self._wake)
