"""The relay: publishes the event store to Kafka in commit order, one leader per service.

The events table is the outbox (as in postgresql-event-sourcing): the relay follows it with
the store's gap-safe reader (`EventStore.read_all`) from a checkpoint `(tx_id, position)` kept
in `relay_checkpoints`, and advances the checkpoint only after the broker acknowledged every
event up to it. A crash between the two re-publishes (at-least-once; the consumers' inbox
makes that harmless).

Leadership is a PostgreSQL session advisory lock held on a dedicated connection, which also
LISTENs for the NOTIFY sent by each append (a polling interval is the fallback). The leader
reads the events and moves the checkpoint on that same connection: once it is gone (killed,
the server restarted), the lock is gone with it and so is every way to publish or to move the
checkpoint; the next leader resumes from the last checkpoint.

Because the store is the truth, publishing can restart from any checkpoint. Before each pass
the leader reads the topic's end offsets and compares them with the ones it saw last (kept
with the checkpoint): on a healthy broker they never go down, so a topic that is gone or
holds less lost records (the embedded broker keeps nothing across its restart). The topic is
then created again and everything is published again from the start.
"""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from dataclasses import dataclass, field
from datetime import timedelta

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from sqlalchemy import text

from shared import metrics
from shared.db import Database, driver_connection
from shared.eventstore import EVENTS_CHANNEL, EventStore, Position, StoredEvent
from shared.kafka import EventHeaders, ensure_topics, make_producer
from shared.settings import Settings
from shared.waiting import pause

log = structlog.get_logger()

_CHECKPOINT = """
    SELECT tx_id::text::bigint AS tx_id, position, topic_ends::text AS topic_ends
    FROM relay_checkpoints WHERE relay = $1
"""
_ADVANCE = """
    INSERT INTO relay_checkpoints (relay, tx_id, position, topic_ends)
    VALUES ($1, $2::text::xid8, $3, $4::jsonb)
    ON CONFLICT (relay) DO UPDATE
    SET tx_id = EXCLUDED.tx_id, position = EXCLUDED.position,
        topic_ends = EXCLUDED.topic_ends, updated_at = now()
"""
_OLDER_THAN = "< now() - CAST(:age AS interval)"
# Resolved dead letters go after retention counted from their resolution; open ones stay
# whatever their age: each is an event no reaction has applied, which an operator must see.
_PURGE = {
    "idempotency_keys": text(f"DELETE FROM idempotency_keys WHERE created_at {_OLDER_THAN}"),
    "dead_letters": text(
        f"DELETE FROM dead_letters WHERE resolved_at IS NOT NULL AND resolved_at {_OLDER_THAN}"
    ),
}


@dataclass(frozen=True)
class Checkpoint:
    """After which event publishing resumes, and the end offset of each of the topic's
    partitions as last seen."""

    position: Position = field(default_factory=Position)
    topic_ends: dict[int, int] = field(default_factory=dict)


class Relay:
    def __init__(self, db: Database, settings: Settings, store: EventStore) -> None:
        self.db = db
        self.settings = settings
        self.store = store
        self.service = store.service
        self.lock_key = zlib.crc32(f"shopflow-relay-{self.service}".encode())
        self.is_leader = False
        self.passes = 0
        self.republished = 0  # times the topic was found to have lost records
        self._wake = asyncio.Event()
        self._conn: asyncpg.Connection | None = None
        self._owns_conn = False
        self._producer: AIOKafkaProducer | None = None
        self._offsets: AIOKafkaConsumer | None = None
        self._checkpoint: Checkpoint | None = None  # read once per start
        self._partitions: set[int] = set()
        self._next_metadata = 0.0

    async def start(self, conn: asyncpg.Connection | None = None) -> None:
        """Connect to the broker; read and write the store on `conn` (the leadership's), or
        on a connection of its own."""
        self._conn = conn or await asyncpg.connect(self.db.libpq_url)
        self._owns_conn = conn is None
        self._checkpoint = None
        self._next_metadata = 0.0
        self._producer = make_producer(self.settings)
        await self._producer.start()
        self._offsets = AIOKafkaConsumer(
            bootstrap_servers=self.settings.bootstrap_servers(), metadata_max_age_ms=5000
        )
        await self._offsets.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
        if self._offsets is not None:
            await self._offsets.stop()
            self._offsets = None
        if self._conn is not None and self._owns_conn:
            await self._conn.close()
        self._conn = None

    async def checkpoint(self) -> Checkpoint:
        async with self.db.connect() as conn:
            driver = await driver_connection(conn)
            return _checkpoint(await driver.fetchrow(_CHECKPOINT, self.service))

    async def fetch(self, after: Position) -> list[StoredEvent]:
        assert self._conn is not None, "start() the relay first"
        return await self.store.read_all_on(self._conn, after, self.settings.relay_batch_size)

    async def publish(self, events: list[StoredEvent]) -> None:
        """Send and wait for every acknowledgement. aiokafka keeps one batch in flight per
        partition, so events of one key keep their order. Each record carries its event's
        type and stream version as headers (`EventHeaders`)."""
        assert self._producer is not None, "start() the relay first"
        futures = [
            await self._producer.send(
                self.store.topic,
                e.envelope.model_dump_json().encode(),
                key=e.envelope.key.encode(),
                headers=EventHeaders(
                    e.envelope.event_type, e.envelope.stream_id, e.envelope.stream_version
                ).to_kafka(),
            )
            for e in events
        ]
        await asyncio.gather(*futures)

    async def advance(self, to: Checkpoint) -> None:
        assert self._conn is not None, "start() the relay first"
        position = to.position
        ends = json.dumps({str(p): end for p, end in to.topic_ends.items()})
        await self._conn.execute(
            _ADVANCE, self.service, str(position.tx_id), position.position, ends
        )
        self._checkpoint = to

    async def relay_once(self) -> int:
        """Publish the next batch after the checkpoint, then advance it; how many went out."""
        assert self._conn is not None, "start() the relay first"
        if self._checkpoint is None:
            self._checkpoint = _checkpoint(await self._conn.fetchrow(_CHECKPOINT, self.service))
        ends = await self.topic_ends()
        if _lost(self._checkpoint.topic_ends, ends):
            await self.republish_all(ends)
        events = await self.fetch(self._checkpoint.position)
        metrics.RELAY_BATCH.labels(self.service).set(len(events))
        if events:
            await self.publish(events)
            await self.advance(Checkpoint(events[-1].position, ends))
            metrics.RELAY_PUBLISHED.labels(self.service).inc(len(events))
        elif ends != self._checkpoint.topic_ends:
            await self.advance(Checkpoint(self._checkpoint.position, ends))
        return len(events)

    async def topic_ends(self) -> dict[int, int]:
        """The end offset of each of the topic's partitions ({} if the topic is gone). The
        partitions come from metadata refreshed every few seconds."""
        assert self._offsets is not None, "start() the relay first"
        topic = self.store.topic
        if not self._partitions or time.monotonic() >= self._next_metadata:
            await self._offsets.topics()
            self._partitions = self._offsets.partitions_for_topic(topic) or set()
            self._next_metadata = time.monotonic() + self.settings.relay_topic_check_interval_s
        if not self._partitions:
            return {}
        try:
            ends = await self._offsets.end_offsets(
                [TopicPartition(topic, p) for p in self._partitions]
            )
        except KafkaError:
            self._partitions = set()  # the topic may be gone: read its metadata again
            raise
        return {tp.partition: end for tp, end in ends.items()}

    async def republish_all(self, ends: dict[int, int]) -> None:
        """The topic lost records: create it again and publish from the start."""
        assert self._checkpoint is not None
        log.warning(
            "the broker lost records of the topic: publishing every event again",
            topic=self.store.topic,
            ends_seen=self._checkpoint.topic_ends,
            ends_now=ends,
        )
        await ensure_topics(self.settings, [self.store.topic])
        self._partitions = set()  # read them again
        await self.advance(Checkpoint(Position(), ends))
        self.republished += 1
        metrics.RELAY_REPUBLISHED.labels(self.service).inc()

    async def purge(self) -> None:
        age = timedelta(days=self.settings.retention_days)
        async with self.db.transaction() as conn:
            for table, statement in _PURGE.items():
                result = await conn.execute(statement, {"age": age})
                metrics.PURGED.labels(self.service, table).inc(max(result.rowcount, 0))

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
                await self.start(conn)
                await self._lead(stop, conn, interval)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
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
            except asyncpg.InterfaceError:
                raise  # the leadership's connection is gone: so is the leadership
            except Exception as exc:  # broker or database down: retry after a pause
                log.error("relay failed, retrying", error=repr(exc))
                await pause(stop, interval)
                continue
            self.passes += 1
            if self.passes % 600 == 0:
                await self.purge()
            if published < self.settings.relay_batch_size:
                await pause(stop, interval, self._wake)


def _checkpoint(row: asyncpg.Record | None) -> Checkpoint:
    if row is None:
        return Checkpoint()
    ends = {int(p): int(end) for p, end in json.loads(row["topic_ends"]).items()}
    return Checkpoint(Position(row["tx_id"], row["position"]), ends)


def _lost(seen: dict[int, int], now: dict[int, int]) -> bool:
    """End offsets never go down on a healthy broker: a partition that is gone or holds less
    than was seen lost records."""
    return any(now.get(partition, 0) < end for partition, end in seen.items() if end > 0)
