"""The outbox relay: publishes outbox rows to Kafka in commit order, one leader per service.

Leadership is a PostgreSQL session advisory lock held on a dedicated connection, which also
LISTENs for the NOTIFY sent by each append (a polling interval is the fallback). Rows are
read with the same xmin guard as the event store, so per stream they go out in commit order,
and they are marked published only after the broker acknowledged them: a crash between the
two re-publishes (at-least-once; the consumers' inbox makes that harmless).
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from shared import metrics
from shared.db import Database
from shared.eventstore import OUTBOX_CHANNEL
from shared.kafka import UnknownTopic, make_producer
from shared.settings import Settings
from shared.waiting import pause

log = structlog.get_logger()

_FETCH = text(
    """
    SELECT position, topic, key, value FROM outbox
    WHERE published_at IS NULL AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY tx_id, position
    LIMIT :limit
    """
)
_MARK = text("UPDATE outbox SET published_at = now() WHERE position = ANY(:positions)")
_OLDER_THAN = "< now() - CAST(:age AS interval)"
_PURGE = {
    "outbox": text(
        f"DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at {_OLDER_THAN}"
    ),
    "inbox": text(f"DELETE FROM inbox WHERE processed_at {_OLDER_THAN}"),
    "idempotency_keys": text(f"DELETE FROM idempotency_keys WHERE created_at {_OLDER_THAN}"),
}


@dataclass(frozen=True)
class OutboxRow:
    position: int
    topic: str
    key: str
    value: str


class OutboxRelay:
    def __init__(
        self, db: Database, settings: Settings, service: str, allowed_topics: set[str]
    ) -> None:
        self.db = db
        self.settings = settings
        self.service = service
        self.allowed_topics = allowed_topics
        self.lock_key = zlib.crc32(f"shopflow-relay-{service}".encode())
        self.is_leader = False
        self.passes = 0
        self._wake = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None

    async def fetch(self) -> list[OutboxRow]:
        async with self.db.connect() as conn:
            rows = await conn.execute(_FETCH, {"limit": self.settings.relay_batch_size})
            return [OutboxRow(*r) for r in rows]

    async def publish(self, rows: list[OutboxRow]) -> None:
        """Send and wait for every acknowledgement. aiokafka keeps one batch in flight per
        partition, so rows of one key keep their order."""
        assert self._producer is not None, "start() the relay first"
        for row in rows:
            if row.topic not in self.allowed_topics:
                raise UnknownTopic(f"refusing to publish to unknown topic {row.topic!r}")
        futures = [
            await self._producer.send(row.topic, row.value.encode(), key=row.key.encode())
            for row in rows
        ]
        await asyncio.gather(*futures)

    async def mark(self, rows: list[OutboxRow]) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(_MARK, {"positions": [r.position for r in rows]})
        metrics.OUTBOX_PUBLISHED.labels(self.service).inc(len(rows))

    async def relay_once(self) -> int:
        rows = await self.fetch()
        metrics.OUTBOX_PENDING.labels(self.service).set(len(rows))
        if rows:
            await self.publish(rows)
            await self.mark(rows)
        return len(rows)

    async def purge(self) -> None:
        age = timedelta(days=self.settings.retention_days)
        async with self.db.transaction() as conn:
            for table, statement in _PURGE.items():
                result = await conn.execute(statement, {"age": age})
                metrics.PURGED.labels(self.service, table).inc(max(result.rowcount, 0))

    async def start(self) -> None:
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
                await conn.add_listener(OUTBOX_CHANNEL, lambda *_: self._wake.set())
                await self.start()
                await self._lead(stop, conn, interval)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("outbox relay lost its connection", error=str(exc))
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
            except Exception as exc:  # broker down or a row refused: retry after a pause
                log.error("outbox relay failed, retrying", error=repr(exc))
                await pause(stop, interval)
                continue
            self.passes += 1
            if self.passes % 600 == 0:
                await self.purge()
            if published < self.settings.relay_batch_size:
                await pause(stop, interval, self._wake)
