"""The analytics service layer: apply events to the projections, rebuild them beside the
active ones and switch, report their progress, count seller metrics."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics import read_model
from services.analytics.domain.arrival import recorded
from services.analytics.domain.carrier_ratings import carrier_ratings as per_carrier
from services.analytics.domain.document import view_document
from services.analytics.domain.metrics import date_span, order_facts, seller_metrics
from shared import metrics
from shared.aggregate import DomainError
from shared.consumer import ConsumerRunner
from shared.events import Envelope
from shared.runtime import ServiceRuntime

log = structlog.get_logger()


SOURCES = ("order", "fulfillment", "pickup", "aftersales")
REBUILD_CHUNK = 500  # orders refolded per transaction in a rebuild
# A refold saves its views a part at a time (see `_refold`): parts of at least FOLD_PART events,
# and no more than FOLD_PARTS of them (a rebuild's chunk: fewer, larger statements).
FOLD_PART = 100
FOLD_PARTS = 16


class _Known(NamedTuple):
    """The events known of an order, not decoded yet: logged before, and just received."""

    logged: list[read_model.Logged]
    received: list[Envelope]


class AnalyticsService:
    def __init__(self, runtime: ServiceRuntime, pickup_window: timedelta) -> None:
        self.runtime = runtime
        self.pickup_window = pickup_window
        self.runner: ConsumerRunner | None = None

    async def abandon_interrupted_rebuild(self) -> None:
        """A rebuild does not survive a restart: its half-built generation is dropped."""
        async with self.runtime.db.transaction() as conn:
            await conn.execute(
                text(
                    "UPDATE generations SET status = 'FAILED', finished_at = now(), "
                    "error = 'interrupted by a restart' WHERE status = 'BUILDING'"
                )
            )
            await read_model.drop_failed(conn)

    # -- applying ----------------------------------------------------------------------------

    async def apply(self, conn: AsyncConnection, envelopes: list[Envelope]) -> None:
        """Refold each order a batch of new events concerns once, and log and count the
        events (while the first orders fold). They are new: the consumer's inbox lets through
        only events not applied before."""
        order_ids = sorted({e.order_id for e in envelopes if e.order_id is not None})
        orders = await self._lock_and_read(conn, order_ids, envelopes)
        targets = await read_model.live_generations(conn)
        await self._refold(
            conn, orders, targets, first=read_model.log_events(conn, envelopes, applied=True)
        )
        now = self.runtime.now()
        lag = metrics.PROJECTION_LAG.labels("order_views")
        for envelope in envelopes:
            lag.observe(max((now - envelope.occurred_at).total_seconds(), 0.0))

    async def refresh(
        self, conn: AsyncConnection, order_ids: list[uuid.UUID], generation: int | None = None
    ) -> None:
        """Refold these orders from their logged events, in every live generation or the one
        given (a rebuild's)."""
        orders = await self._lock_and_read(conn, order_ids)
        targets = [generation] if generation else await read_model.live_generations(conn)
        await self._refold(conn, orders, targets)

    async def _lock_and_read(
        self, conn: AsyncConnection, order_ids: list[uuid.UUID], received: Sequence[Envelope] = ()
    ) -> dict[uuid.UUID, _Known]:
        """The events known of these orders, locked first (the refreshes of an order, live
        and a rebuild's, are serialised): those logged and those just `received`."""
        if not order_ids:
            return {}
        await read_model.lock_orders(conn, order_ids)
        logged = await read_model.logged_events(conn, order_ids, [e.event_id for e in received])
        orders = {order_id: _Known(logged[order_id], []) for order_id in order_ids}
        for envelope in received:
            if envelope.order_id in orders:
                orders[envelope.order_id].received.append(envelope)
        return orders

    async def _refold(
        self,
        conn: AsyncConnection,
        orders: dict[uuid.UUID, _Known],
        targets: list[int],
        first: Awaitable[None] | None = None,
    ) -> None:
        """Decode and fold the orders' events into their views, and save them in `targets`;
        `first`, a statement to run before the saves.

        Folding is this process's CPU and saving the database server's, so they overlap:
        each statement is sent before the fold that follows it starts (`_started`), the
        orders are folded a part at a time, and a part's views are saved while the next part
        folds (`first` while the first part does). A rebuild spent a third of its time
        waiting for its saves before this."""
        pending = await _started(first) if first is not None else None
        try:
            for part in _parts(orders):
                rows = [_view_row(order_id, known) for order_id, known in part]
                if pending is not None:
                    await pending
                pending = await _started(read_model.save_views(conn, targets, rows))
            if pending is not None:
                await pending
        finally:
            if pending is not None and not pending.done():  # a fold failed: the statement
                with contextlib.suppress(Exception):  # ends before the transaction does
                    await pending

    # -- rebuild -----------------------------------------------------------------------------

    async def start_rebuild(self) -> dict[str, Any]:
        """Fill a new generation from the topics' beginning beside the active one, then
        switch to it; reads keep using the active one meanwhile."""
        async with self.runtime.db.transaction() as conn:
            building = await conn.execute(
                text("SELECT generation FROM generations WHERE status = 'BUILDING'")
            )
            if building.first() is not None:
                raise DomainError("rebuild-running", "a rebuild is running already")
            generation = int(
                (
                    await conn.execute(
                        text(
                            "INSERT INTO generations (generation, status) SELECT "
                            "max(generation) + 1, 'BUILDING' FROM generations RETURNING generation"
                        )
                    )
                ).scalar_one()
            )
        self.runtime.background(self._rebuild(generation))
        return {"generation": generation, "status": "BUILDING"}

    async def _rebuild(self, generation: int) -> None:
        try:
            replayed = await self._replay_topics()
            async with self.runtime.db.connect() as conn:
                order_ids = await read_model.order_ids(conn)
            for n in range(0, len(order_ids), REBUILD_CHUNK):
                async with self.runtime.db.transaction() as conn:
                    await self.refresh(conn, order_ids[n : n + REBUILD_CHUNK], generation)
            async with self.runtime.db.transaction() as conn:
                digest, _ = await read_model.digest(conn, generation)
                await conn.execute(
                    text("UPDATE generations SET status = 'RETIRED' WHERE status = 'ACTIVE'")
                )
                await conn.execute(
                    text(
                        "UPDATE generations SET status = 'ACTIVE', finished_at = now(), "
                        "replayed = :replayed, digest = :digest WHERE generation = :gen"
                    ),
                    {"gen": generation, "replayed": replayed, "digest": digest},
                )
                await read_model.drop_retired(conn)
            log.info("projection rebuilt", generation=generation, replayed=replayed)
        except Exception as exc:
            log.exception("projection rebuild failed", generation=generation)
            async with self.runtime.db.transaction() as conn:
                await conn.execute(
                    text(
                        "UPDATE generations SET status = 'FAILED', finished_at = now(), "
                        "error = :error WHERE generation = :gen"
                    ),
                    {"gen": generation, "error": repr(exc)},
                )
                await read_model.drop_failed(conn)

    async def _replay_topics(self) -> int:
        """Read every source topic from its beginning up to its end at the start, logging any
        event not logged yet. Returns how many events were read."""
        settings = self.runtime.settings
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers(), enable_auto_commit=False
        )
        await consumer.start()
        read = 0
        try:
            await consumer.topics()  # fetches the metadata
            partitions = [
                TopicPartition(topic, p)
                for topic in (settings.topic(s) for s in SOURCES)
                for p in sorted(consumer.partitions_for_topic(topic) or ())
            ]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            remaining = {tp for tp in partitions if ends[tp] > 0}
            while remaining:
                batch = await consumer.getmany(*remaining, timeout_ms=500, max_records=500)
                envelopes = [
                    Envelope.model_validate_json(record.value or b"")
                    for tp, records in batch.items()
                    for record in records
                    if record.offset < ends[tp]
                ]
                read += len(envelopes)
                async with self.runtime.db.transaction() as conn:
                    await read_model.log_events(conn, envelopes, applied=False)
                for tp in list(remaining):
                    if await consumer.position(tp) >= ends[tp]:
                        remaining.discard(tp)
        finally:
            await consumer.stop()
        return read

    # -- reads -------------------------------------------------------------------------------

    async def status(self) -> dict[str, Any]:
        now = self.runtime.now()
        async with self.runtime.db.connect() as conn:
            progress = await read_model.progress(conn)
            generations = await read_model.generations(conn)
            counts = await read_model.counts(conn)
        positions = await self.runner.positions() if self.runner else {}
        lag = sum(p["lag"] for p in positions.values())
        last = max((p["last_occurred_at"] for p in progress if p["last_occurred_at"]), default=None)
        return {
            "projection": "order_views",
            "generations": generations,
            "partitions": positions,
            "lag_events": lag,
            "lag_seconds": round((now - last).total_seconds(), 3) if lag and last else 0.0,
            "events_applied": sum(p["events_applied"] for p in progress),
            "topics": progress,
            "events_received": counts["received"],
            "events_held": counts["held"],
            "dead_letters": counts["dead_letters"],
        }

    async def digest(self) -> dict[str, Any]:
        async with self.runtime.db.connect() as conn:
            generation = await read_model.active_generation(conn)
            digest, count = await read_model.digest(conn, generation)
        return {"generation": generation, "digest": digest, "orders": count}

    async def metrics(
        self, seller_id: str, start: datetime, end: datetime, granularity: str
    ) -> dict[str, Any]:
        async with self.runtime.db.connect() as conn:
            cores = await read_model.facts_cores(conn, seller_id, start, end)
        facts = [order_facts(core) for core in cores]
        periods = []
        if granularity == "day":
            day = start
            while day < end:
                next_day = min(day + timedelta(days=1), end)
                periods.append(seller_metrics(facts, day, next_day, self.pickup_window))
                day = next_day
        return {
            "seller_id": seller_id,
            "granularity": granularity,
            "total": seller_metrics(facts, start, end, self.pickup_window),
            "periods": periods,
        }

    async def carrier_ratings(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        async with self.runtime.db.connect() as conn:
            cores = await read_model.rated_deliveries(conn, start, end)
        return per_carrier(cores, start, end)


def _view_row(order_id: uuid.UUID, known: _Known) -> read_model.OrderRow:
    events = [read_model.decoded(e) for e in known.logged] + [recorded(e) for e in known.received]
    view, doc = view_document(order_id, events)
    return read_model.OrderRow(view, doc, *date_span(view))


def _parts(orders: dict[uuid.UUID, _Known]) -> Iterator[list[tuple[uuid.UUID, _Known]]]:
    """The orders in parts of at least FOLD_PART events, FOLD_PARTS parts at most."""
    total = sum(len(known.logged) + len(known.received) for known in orders.values())
    at_least = max(FOLD_PART, total // FOLD_PARTS)
    part: list[tuple[uuid.UUID, _Known]] = []
    size = 0
    for order_id, known in orders.items():
        part.append((order_id, known))
        size += len(known.logged) + len(known.received)
        if size >= at_least:
            yield part
            part, size = [], 0
    if part:
        yield part


async def _started(statement: Awaitable[None]) -> asyncio.Future[None]:
    """The statement running as a task, once it is on its way to the server: a task starts
    only when its creator yields, and CPU-bound work does not. The connection stays the
    caller's: it awaits the task before its next statement."""
    task = asyncio.ensure_future(statement)
    await asyncio.sleep(0)
    return task
