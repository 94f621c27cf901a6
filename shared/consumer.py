"""The consumer runner: an aiokafka consumer group whose reaction runs in one database
transaction together with the consumer's inbox: per source stream, the versions it took
(`shared.progress`), so a redelivered event, or a replay of any age, is a no-op. Reactions
are keyed by event class (a registered event model): a typo fails at import, an unregistered
class fails the start, and each reaction is handed the decoded event. Offsets are committed
after that transaction. An event that keeps failing is parked in `dead_letters` with its
error, and the partition goes on; operators can retry it. A database outage is no event's
failure: the runner waits it out and applies the same records once the database answers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import structlog
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import CommitFailedError, KafkaError
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared import context, metrics
from shared.db import Database, driver_connection, is_outage
from shared.events import REGISTRY, Envelope, EventPayload
from shared.kafka import EventHeaders
from shared.progress import StreamProgress
from shared.settings import Settings
from shared.waiting import pause

log = structlog.get_logger()

Reaction = Callable[[AsyncConnection, Any, Envelope], Awaitable[None]]
"""`reaction(conn, event, envelope)`: the decoded (upcast) event, and its envelope for the
metadata (occurred_at, ids)."""
Reactions = Mapping[type[EventPayload], Reaction]
BatchHandler = Callable[[AsyncConnection, list[Envelope]], Awaitable[None]]
P = ParamSpec("P")
T = TypeVar("T")

OUTAGE_FIRST_WAIT_S = 0.1
OUTAGE_MAX_WAIT_S = 2.0


class UnregisteredReaction(ValueError):
    """A reaction keyed by a class that is not a registered event model."""


def reactions_by_type(reactions: Reactions) -> dict[str, Reaction]:
    """The reactions by event type name, each key checked against the event registry."""
    by_type: dict[str, Reaction] = {}
    for model, reaction in reactions.items():
        name = getattr(model, "event_type", None)
        if name is None or name not in REGISTRY or REGISTRY.model(name) is not model:
            raise UnregisteredReaction(f"{model!r} is not a registered event model")
        by_type[name] = reaction
    return by_type


# The streams' progress rows, locked (in one order, so two members never deadlock) and read.
_PROGRESS = text(
    """
    INSERT INTO consumer_progress (consumer, stream_id)
    SELECT :consumer, s FROM unnest(CAST(:streams AS text[])) AS s ORDER BY s
    ON CONFLICT (consumer, stream_id) DO UPDATE SET watermark = consumer_progress.watermark
    RETURNING stream_id, watermark, ahead
    """
)
_TAKEN = text(
    """
    UPDATE consumer_progress AS p
    SET watermark = u.watermark, ahead = CAST(u.ahead AS integer[])
    FROM unnest(CAST(:streams AS text[]), CAST(:watermarks AS integer[]),
                CAST(:aheads AS text[])) AS u(stream_id, watermark, ahead)
    WHERE p.consumer = :consumer AND p.stream_id = u.stream_id
    """
)
# Events no reaction wants, passed over without a transaction: each stream's run of versions
# moves its watermark on in one statement where it continues it exactly (the stream's first
# versions create its row); the streams it returns were passed over, the rest go through the
# inbox's transaction (a repeat, a gap, versions ahead: `StreamProgress`).
_PASS_OVER = """
    WITH runs AS (
        SELECT * FROM unnest($2::text[], $3::integer[], $4::integer[]) AS r(stream_id, first, last)
    ), advanced AS (
        UPDATE consumer_progress AS p SET watermark = runs.last
        FROM runs
        WHERE p.consumer = $1 AND p.stream_id = runs.stream_id
          AND p.watermark = runs.first - 1 AND cardinality(p.ahead) = 0
        RETURNING p.stream_id
    ), created AS (
        INSERT INTO consumer_progress (consumer, stream_id, watermark)
        SELECT $1, runs.stream_id, runs.last FROM runs WHERE runs.first = 1
        ON CONFLICT (consumer, stream_id) DO NOTHING
        RETURNING stream_id
    )
    SELECT stream_id FROM advanced UNION ALL SELECT stream_id FROM created
"""
_PARK = text(
    """
    INSERT INTO dead_letters (consumer, topic, partition, "offset", event_id, key, value, error,
                              attempts)
    VALUES (:consumer, :topic, :partition, :offset, :event_id, :key, :value, :error, :attempts)
    RETURNING id
    """
)


@dataclass(frozen=True)
class Message:
    """What the runner needs of a Kafka record (also rebuilt from a dead letter)."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: str
    headers: EventHeaders | None = None  # None: the producer set none, the value is read


class DeadLetterNotFound(LookupError):
    pass


class _Stopped(BaseException):
    """Told to stop while waiting out an outage. Like a cancellation it is not an error (no
    `except Exception` takes it): `run` ends without committing the records not applied."""


class ConsumerRunner:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        name: str,
        topics: list[str],
        reactions: Reactions,
        batch_handler: BatchHandler | None = None,
    ) -> None:
        """`reactions` react to one event at a time, by event class. A `batch_handler`
        (projections) takes instead every new event of a poll's partition at once, in one
        transaction: one commit and one refold per batch, not per event."""
        self.db = db
        self.settings = settings
        self.name = name
        self.topics = topics
        self.reactions = reactions_by_type(reactions)
        self.batch_handler = batch_handler
        self.consumer: AIOKafkaConsumer | None = None
        self.applied = 0
        self.seen = 0
        self.outage_waits = 0
        self._stop = asyncio.Event()  # `run`'s; never set when records are processed directly

    async def apply(self, envelope: Envelope) -> bool:
        """Run the reaction once for this event; False if it was taken before or no reaction
        wants it."""
        applied = await self._apply_all([envelope])
        self.applied += applied
        return applied > 0

    def _wanted(self, envelope: Envelope) -> Reaction | None:
        return self.reactions.get(envelope.event_type)

    async def _apply_all(self, envelopes: list[Envelope]) -> int:
        """In one transaction: take the events in the inbox (an event whose stream version
        was taken before is a repeat, however old), run the reactions (or the batch handler)
        on the new ones, and record what was taken. Returns how many were applied. Events
        none of which a reaction wants are passed over first (`_pass_over`)."""
        if self.batch_handler is None and not any(self._wanted(e) for e in envelopes):
            passed = await self._pass_over([(e.stream_id, e.stream_version) for e in envelopes])
            envelopes = [e for e in envelopes if e.stream_id not in passed]
        if not envelopes:
            return 0
        async with self.db.transaction() as conn:
            progress = await _progress(conn, self.name, {e.stream_id for e in envelopes})
            fresh = []
            for envelope in envelopes:
                stream = progress[envelope.stream_id]
                if not stream.done(envelope.stream_version):
                    progress[envelope.stream_id] = stream.take(envelope.stream_version)
                    fresh.append(envelope)
            if self.batch_handler is not None:
                if fresh:
                    await self.batch_handler(conn, fresh)
                applied = len(fresh)
            else:
                applied = 0
                for envelope in fresh:
                    reaction = self._wanted(envelope)
                    if reaction is None:
                        continue
                    context.correlation_id.set(envelope.correlation_id)
                    context.causation_id.set(str(envelope.event_id))
                    await reaction(conn, envelope.decode(), envelope)
                    applied += 1
            await _save_progress(conn, self.name, progress, {e.stream_id for e in fresh})
        return applied

    async def _pass_over(self, events: list[tuple[str, int]]) -> set[str]:
        """Record events no reaction wants, given as (stream, version), as taken with one
        statement and no transaction where each stream's versions here continue its
        watermark without a gap (the common case: in order, nothing ahead). Returns the
        streams passed over; the other events need the inbox's transaction."""
        versions: dict[str, list[int]] = {}
        for stream_id, version in events:
            versions.setdefault(stream_id, []).append(version)
        runs = {
            stream: (min(vs), max(vs))
            for stream, vs in versions.items()
            if sorted(vs) == list(range(min(vs), max(vs) + 1))
        }
        if not runs:
            return set()
        streams = sorted(runs)
        async with self.db.connect() as conn:
            raw = await driver_connection(conn)
            rows = await raw.fetch(
                _PASS_OVER,
                self.name,
                streams,
                [runs[s][0] for s in streams],
                [runs[s][1] for s in streams],
            )
        return {row["stream_id"] for row in rows}

    async def _pass_over_by_headers(self, messages: list[Message]) -> list[Message]:
        """Pass over the records whose headers name an event type no reaction wants, without
        reading their values; returns the rest (wanted, without headers, or not passed)."""
        unwanted = [
            m.headers
            for m in messages
            if m.headers is not None and m.headers.event_type not in self.reactions
        ]
        if not unwanted:
            return messages
        passed = await self._pass_over([(h.stream_id, h.stream_version) for h in unwanted])
        rest = [
            m
            for m in messages
            if m.headers is None
            or m.headers.event_type in self.reactions
            or m.headers.stream_id not in passed
        ]
        skipped = len(messages) - len(rest)
        self.seen += skipped
        metrics.CONSUMED.labels(self.name, "skipped").inc(skipped)
        return rest

    async def process_batch(self, messages: list[Message]) -> None:
        """Apply a poll's records of one partition in one transaction (the reactions one
        after the other, or the batch handler once): one commit and one pass through the
        inbox per poll. While the database is unreachable the same batch is tried again; if
        anything else fails in it, it is rolled back whole and the records go one by one,
        with retries and dead letters. Records of event types no reaction wants are passed
        over first by their headers, unread."""
        if self.batch_handler is None:
            messages = await self._through_outages(self._pass_over_by_headers, messages)
        if len(messages) < 2:
            for message in messages:
                await self.process(message)
            return
        try:
            envelopes = [Envelope.model_validate_json(m.value) for m in messages]
            applied = await self._through_outages(self._apply_all, envelopes)
        except Exception as exc:
            log.warning("batch failed, applying one by one", consumer=self.name, error=repr(exc))
            for message in messages:
                await self.process(message)
            return
        self.seen += len(messages)
        self.applied += applied
        metrics.CONSUMED.labels(self.name, "applied").inc(applied)
        metrics.CONSUMED.labels(self.name, "skipped").inc(len(messages) - applied)

    async def process(self, message: Message) -> None:
        """Apply with bounded retries; park the event when it still fails on its own. The
        database being unreachable is no attempt: it is waited out."""
        self.seen += 1
        attempts = 0
        error: Exception | None = None
        envelope: Envelope | None = None
        try:
            envelope = Envelope.model_validate_json(message.value)
        except ValidationError as exc:
            error = exc
        while envelope is not None and attempts < self.settings.consumer_max_attempts:
            attempts += 1
            try:
                applied = await self._through_outages(self.apply, envelope)
                metrics.CONSUMED.labels(self.name, "applied" if applied else "skipped").inc()
                return
            except Exception as exc:
                error = exc
                log.warning(
                    "handler failed",
                    consumer=self.name,
                    event_id=str(envelope.event_id),
                    attempt=attempts,
                    error=repr(exc),
                )
                await asyncio.sleep(0.05 * 2**attempts)  # back-off before a retry
        await self._through_outages(self.park, message, envelope, error, max(attempts, 1))

    async def _through_outages(
        self, work: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`work(*args, **kwargs)`, run again, with growing pauses, for as long as it fails
        because the database is unreachable (`is_outage`); any other error is raised. An
        outage is logged when it begins and when it ends. Told to stop meanwhile: `_Stopped`.
        """
        loop = asyncio.get_running_loop()
        began: float | None = None
        wait = OUTAGE_FIRST_WAIT_S
        while True:
            try:
                result = await work(*args, **kwargs)
            except Exception as exc:
                if not is_outage(exc):
                    self._outage_over(began)
                    raise
                if began is None:
                    began = loop.time()
                    log.error("database unreachable, waiting", consumer=self.name, error=repr(exc))
            else:
                self._outage_over(began)
                return result
            await pause(self._stop, wait)
            if self._stop.is_set():
                raise _Stopped
            self.outage_waits += 1
            wait = min(wait * 2, OUTAGE_MAX_WAIT_S)

    def _outage_over(self, began: float | None) -> None:
        if began is not None:
            outage_s = round(asyncio.get_running_loop().time() - began, 3)
            log.info("database reachable again", consumer=self.name, outage_s=outage_s)

    async def park(
        self, message: Message, envelope: Envelope | None, error: Exception | None, attempts: int
    ) -> int:
        async with self.db.transaction() as conn:
            row = await conn.execute(
                _PARK,
                {
                    "consumer": self.name,
                    "topic": message.topic,
                    "partition": message.partition,
                    "offset": message.offset,
                    "event_id": envelope.event_id if envelope else None,
                    "key": message.key,
                    "value": message.value,
                    "error": repr(error),
                    "attempts": attempts,
                },
            )
            dead_letter_id = int(row.scalar_one())
        metrics.DEAD_LETTERS.labels(self.name).inc()
        log.error("event parked as dead letter", consumer=self.name, id=dead_letter_id)
        return dead_letter_id

    async def retry_dead_letter(self, dead_letter_id: int) -> dict[str, Any]:
        """Apply a parked event again; on success it is resolved, else its error updated."""
        async with self.db.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT value FROM dead_letters WHERE id = :id AND consumer = :consumer "
                        "AND resolved_at IS NULL"
                    ),
                    {"id": dead_letter_id, "consumer": self.name},
                )
            ).first()
        if row is None:
            raise DeadLetterNotFound(dead_letter_id)
        try:
            await self.apply(Envelope.model_validate_json(row.value))
        except Exception as exc:
            async with self.db.transaction() as conn:
                await conn.execute(
                    text(
                        "UPDATE dead_letters SET retried_at = now(), attempts = attempts + 1, "
                        "error = :error WHERE id = :id"
                    ),
                    {"id": dead_letter_id, "error": repr(exc)},
                )
            return {"id": dead_letter_id, "resolved": False, "error": repr(exc)}
        async with self.db.transaction() as conn:
            await conn.execute(
                text(
                    "UPDATE dead_letters SET retried_at = now(), resolved_at = now() WHERE id = :id"
                ),
                {"id": dead_letter_id},
            )
        return {"id": dead_letter_id, "resolved": True, "error": None}

    async def run(self, stop: asyncio.Event) -> None:
        self.consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.settings.bootstrap_servers(),
            group_id=self.name,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=200,
            fetch_max_wait_ms=self.settings.consumer_fetch_max_wait_ms,
            metadata_max_age_ms=self.settings.consumer_metadata_max_age_ms,
        )
        self._stop = stop
        if not await _start_unless_stopped(self.consumer, stop):
            return
        try:
            while not stop.is_set():
                batch = await self.consumer.getmany(timeout_ms=200, max_records=200)
                for records in batch.values():
                    await self.process_batch(
                        [
                            Message(
                                topic=record.topic,
                                partition=record.partition,
                                offset=record.offset,
                                key=record.key.decode() if record.key else None,
                                value=record.value.decode() if record.value else "",
                                headers=EventHeaders.from_kafka(record.headers),
                            )
                            for record in records
                        ]
                    )
                if batch:
                    await self._commit()
        except _Stopped:
            log.warning(
                "stopped while the database is unreachable; what was not applied is not "
                "committed: the next run reads it again",
                consumer=self.name,
            )
        finally:
            await self.consumer.stop()
            self.consumer = None

    async def _commit(self) -> None:
        assert self.consumer is not None
        try:
            await self.consumer.commit()
        except (CommitFailedError, KafkaError) as exc:
            # A rebalance took the partitions: the next owner re-reads from the last commit
            # and the inbox turns the repeats into no-ops.
            log.warning("offset commit failed", consumer=self.name, error=repr(exc))

    async def positions(self) -> dict[str, dict[str, int]]:
        """Own position and lag per partition (the admin API's group offsets fail on Tansu)."""
        if self.consumer is None:
            return {}
        assigned = self.consumer.assignment()
        ends = await self.consumer.end_offsets(list(assigned))
        return {
            f"{tp.topic}:{tp.partition}": {
                "position": (pos := await self.consumer.position(tp)),
                "end": ends[tp],
                "lag": max(ends[tp] - pos, 0),
            }
            for tp in sorted(assigned)
        }


async def _progress(
    conn: AsyncConnection, consumer: str, streams: set[str]
) -> dict[str, StreamProgress]:
    rows = await conn.execute(_PROGRESS, {"consumer": consumer, "streams": sorted(streams)})
    return {r.stream_id: StreamProgress(r.watermark, frozenset(r.ahead)) for r in rows}


async def _save_progress(
    conn: AsyncConnection, consumer: str, progress: dict[str, StreamProgress], changed: set[str]
) -> None:
    if not changed:
        return
    streams = sorted(changed)
    await conn.execute(
        _TAKEN,
        {
            "consumer": consumer,
            "streams": streams,
            "watermarks": [progress[s].watermark for s in streams],
            "aheads": ["{" + ",".join(map(str, sorted(progress[s].ahead))) + "}" for s in streams],
        },
    )


async def _start_unless_stopped(consumer: AIOKafkaConsumer, stop: asyncio.Event) -> bool:
    """Join the group, unless told to stop first (a join takes seconds on Tansu)."""
    starting = asyncio.ensure_future(consumer.start())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait([starting, stopping], return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if starting.done():
        starting.result()
        return True
    starting.cancel()
    with contextlib.suppress(asyncio.CancelledError, KafkaError):
        await starting
    # Leaving a group we never finished joining can wait out the broker's join delay;
    # nothing was consumed, so there is nothing to commit: let it finish in the background.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(consumer.stop()), 0.5)
    return False
