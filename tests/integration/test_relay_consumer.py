"""The relay (the events table is the outbox) and the consumer runner against the real
PostgreSQL and broker."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections import defaultdict
from datetime import UTC, datetime

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared import embedded
from shared.consumer import ConsumerRunner, Message
from shared.db import Database, is_outage
from shared.events import Envelope
from shared.events.order import OrderCompleted, OrderStatusChanged
from shared.eventstore import EventStore
from shared.kafka import EventHeaders, ensure_topics
from shared.relay import Relay
from shared.settings import Settings
from tests.conftest import Infra, count_transactions, eventually, make_settings
from tests.pg_proxy import PgProxy

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
REQUIRED_ENVELOPE_FIELDS = {
    "event_id",
    "event_type",
    "schema_version",
    "occurred_at",
    "producer",
    "stream_id",
    "stream_version",
    "order_id",
    "seller_id",
    "correlation_id",
    "causation_id",
    "payload",
}


@pytest.fixture
async def env(infra, order_db):
    settings = make_settings(infra, order_db)
    db = Database(order_db)
    async with db.transaction() as conn:
        await conn.execute(text("CREATE TABLE applied (event_id uuid NOT NULL, stream_id text)"))
    topic = settings.topic("order")
    await ensure_topics(settings, [topic])
    yield settings, db, EventStore("order", topic)
    await db.close()


async def append_orders(
    db: Database, store: EventStore, orders: int, versions: int
) -> list[uuid.UUID]:
    """Interleave appends of several orders, `versions` events each."""
    ids = [uuid.uuid4() for _ in range(orders)]
    for v in range(versions):
        for order_id in ids:
            async with db.transaction() as conn:
                await store.append(
                    conn,
                    f"order/{order_id}",
                    v,
                    [OrderCompleted(order_id=order_id, completed_at=NOW, auto=bool(v % 2))],
                    occurred_at=NOW,
                    order_id=order_id,
                    seller_id="s1",
                )
    return ids


async def read_topic(settings: Settings, expected: int) -> list[dict]:
    consumer = AIOKafkaConsumer(
        settings.topic("order"),
        bootstrap_servers=settings.bootstrap_servers(),
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    records: list[dict] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while len(records) < expected and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for msgs in batch.values():
                records.extend(
                    {"key": m.key.decode(), "headers": dict(m.headers), **json.loads(m.value)}
                    for m in msgs
                )
    finally:
        await consumer.stop()
    return records


async def record(conn: AsyncConnection, envelope: Envelope) -> None:
    await conn.execute(
        text("INSERT INTO applied (event_id, stream_id) VALUES (:id, :stream)"),
        {"id": envelope.event_id, "stream": envelope.stream_id},
    )


async def applied_count(db: Database) -> int:
    async with db.connect() as conn:
        return (await conn.execute(text("SELECT count(*) FROM applied"))).scalar_one()


def runner_for(
    settings: Settings, db: Database, group: str, handler=record, batched: bool = False
) -> ConsumerRunner:
    """Batched: the same handler run over each event of a batch, as a projection would."""

    async def each(conn: AsyncConnection, envelopes: list[Envelope]) -> None:
        for envelope in envelopes:
            await handler(conn, envelope)

    async def react(conn: AsyncConnection, event: OrderCompleted, envelope: Envelope) -> None:
        assert event == envelope.decode()
        await handler(conn, envelope)

    topics = [settings.topic("order")]
    if batched:
        return ConsumerRunner(db, settings, group, topics, {}, batch_handler=each)
    return ConsumerRunner(db, settings, group, topics, {OrderCompleted: react})


async def run_until(runner: ConsumerRunner, condition) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        await eventually(condition, within=40)
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def test_events_reach_the_topic_with_the_envelope_in_per_order_order(env) -> None:
    settings, db, store = env
    ids = await append_orders(db, store, orders=4, versions=5)
    relay = Relay(db, settings, store)
    await relay.start()
    try:
        while await relay.relay_once():
            pass
    finally:
        await relay.stop()
    records = await read_topic(settings, 20)
    assert len(records) == 20
    by_key: dict[str, list[int]] = defaultdict(list)
    for r in records:
        assert r.keys() >= REQUIRED_ENVELOPE_FIELDS
        assert r["producer"] == "order" and r["event_type"] == "OrderCompleted"
        assert r["key"] == r["order_id"]
        assert r["headers"] == {  # what a consumer passes an event over by, unread
            "event_type": b"OrderCompleted",
            "stream_id": r["stream_id"].encode(),
            "stream_version": str(r["stream_version"]).encode(),
        }
        by_key[r["key"]].append(r["stream_version"])
    assert set(by_key) == {str(i) for i in ids}
    assert all(versions == [1, 2, 3, 4, 5] for versions in by_key.values())
    async with db.connect() as conn:
        last = (await store.read_all(conn, limit=100))[-1]
    assert (await relay.checkpoint()).position == last.position  # the last acknowledged


async def test_a_new_leader_resumes_after_the_checkpoint_and_publishes_only_the_rest(
    env,
) -> None:
    settings, db, store = env
    await append_orders(db, store, orders=2, versions=2)
    first = Relay(db, settings, store)
    await first.start()
    try:
        assert await first.relay_once() == 4
    finally:
        await first.stop()
    await append_orders(db, store, orders=1, versions=3)
    successor = Relay(db, settings, store)
    await successor.start()
    try:
        assert await successor.relay_once() == 3
        assert await successor.relay_once() == 0
    finally:
        await successor.stop()
    records = await read_topic(settings, 7)
    assert len(records) == 7 and len({r["event_id"] for r in records}) == 7


async def test_relay_killed_between_publish_and_checkpoint_republishes_and_consumer_applies_once(
    env,
) -> None:
    settings, db, store = env
    await append_orders(db, store, orders=3, versions=2)
    crashed = Relay(db, settings, store)
    await crashed.start()
    # published, then "killed" before the checkpoint moved
    await crashed.publish(await crashed.fetch((await crashed.checkpoint()).position))
    await crashed.stop()

    successor = Relay(db, settings, store)
    await successor.start()
    try:
        assert await successor.relay_once() == 6  # the checkpoint had not moved: all again
    finally:
        await successor.stop()
    assert len(await read_topic(settings, 12)) == 12

    runner = runner_for(settings, db, f"{settings.kafka_topic_prefix}g-once")
    await run_until(runner, lambda: runner.seen >= 12)
    assert await applied_count(db) == 6
    async with db.connect() as conn:
        distinct = (
            await conn.execute(text("SELECT count(DISTINCT event_id) FROM applied"))
        ).scalar_one()
    assert distinct == 6


async def test_relay_leadership_is_exclusive(env) -> None:
    settings, db, store = env
    first = Relay(db, settings, store)
    second = Relay(db, settings, store)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(first.run(stop)), asyncio.create_task(second.run(stop))]
    try:
        await eventually(lambda: first.is_leader or second.is_leader)
        assert not (first.is_leader and second.is_leader)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 20)


async def test_consumer_restarted_resumes_from_its_committed_offsets(env) -> None:
    settings, db, store = env
    relay = Relay(db, settings, store)
    await relay.start()
    try:
        await append_orders(db, store, orders=2, versions=3)
        await relay.relay_once()
        group = f"{settings.kafka_topic_prefix}g-resume"
        first = runner_for(settings, db, group)
        await run_until(first, lambda: first.seen >= 6)

        await append_orders(db, store, orders=2, versions=2)
        await relay.relay_once()
    finally:
        await relay.stop()
    second = runner_for(settings, db, group)
    await run_until(second, lambda: second.seen >= 4)
    assert second.seen == 4  # resumed after the committed offsets, re-read nothing
    assert await applied_count(db) == 10


@pytest.mark.parametrize("batched", [False, True], ids=["one-by-one", "batched"])
async def test_poison_event_is_parked_while_its_partition_proceeds_and_can_be_retried(
    env, batched: bool
) -> None:
    """Batched or not, the same outcome: a failing batch is redone one record at a time."""
    settings, db, store = env
    order_id = uuid.uuid4()
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers())
    await producer.start()
    envelopes = []
    try:
        async with db.transaction() as conn:
            envelopes = await store.append(
                conn,
                f"order/{order_id}",
                0,
                [OrderCompleted(order_id=order_id, completed_at=NOW, auto=False) for _ in range(5)],
                occurred_at=NOW,
                order_id=order_id,
            )
        key = str(order_id).encode()
        for i, envelope in enumerate(envelopes):
            await producer.send_and_wait(
                settings.topic("order"), envelope.model_dump_json().encode(), key=key
            )
            if i == 2:  # a malformed record in the middle of the same partition
                await producer.send_and_wait(settings.topic("order"), b"{not json", key=key)
    finally:
        await producer.stop()

    poison, violating = envelopes[1].event_id, envelopes[3].event_id
    broken = {"on": True}

    async def handler(conn: AsyncConnection, envelope: Envelope) -> None:
        if broken["on"] and envelope.event_id == poison:
            raise RuntimeError("cannot apply this one")
        if broken["on"] and envelope.event_id == violating:  # the database refuses it
            await conn.execute(text("INSERT INTO applied (event_id) VALUES (NULL)"))
        await record(conn, envelope)

    runner = runner_for(settings, db, f"{settings.kafka_topic_prefix}g-poison", handler, batched)
    await run_until(runner, lambda: runner.seen >= 6)
    assert await applied_count(db) == 3
    async with db.connect() as conn:
        parked = (
            await conn.execute(
                text("SELECT id, event_id, error, attempts FROM dead_letters ORDER BY id")
            )
        ).all()
    assert len(parked) == 3
    assert parked[0].event_id == poison and "cannot apply this one" in parked[0].error
    assert parked[0].attempts == settings.consumer_max_attempts
    assert parked[1].event_id is None  # the malformed record
    assert parked[2].event_id == violating and "NotNullViolationError" in parked[2].error
    assert parked[2].attempts == settings.consumer_max_attempts
    assert runner.outage_waits == 0  # a statement the database refuses is no outage

    broken["on"] = False
    for dead_letter in (parked[0], parked[2]):
        result = await runner.retry_dead_letter(dead_letter.id)
        assert result["resolved"] is True
    assert await applied_count(db) == 5
    again = await runner.retry_dead_letter(parked[1].id)
    assert again["resolved"] is False


async def test_a_batch_handler_takes_a_polls_new_events_at_once_in_their_transaction(
    env,
) -> None:
    settings, db, store = env
    ids = await append_orders(db, store, orders=2, versions=6)
    relay = Relay(db, settings, store)
    await relay.start()
    while await relay.relay_once():
        pass
    await relay.stop()
    batches: list[int] = []

    async def project(conn: AsyncConnection, envelopes: list[Envelope]) -> None:
        for envelope in envelopes:
            await record(conn, envelope)
        batches.append(len(envelopes))

    group = f"{settings.kafka_topic_prefix}g-batched"
    topics = [settings.topic("order")]
    runner = ConsumerRunner(db, settings, group, topics, {}, batch_handler=project)
    await run_until(runner, lambda: runner.applied >= 12)
    assert await applied_count(db) == 12 == runner.applied == sum(batches) and len(ids) == 2
    assert max(batches) > 1  # more than one event per call and transaction

    # The same records again, and a repeat inside one batch: the inbox lets none through.
    async with db.connect() as conn:
        stored = await store.read_all(conn, limit=100)
    values = [e.envelope.model_dump_json() for e in stored]
    again = [Message(topics[0], 0, n, None, value) for n, value in enumerate(values)]
    await runner.process_batch(again + again[:3])
    assert await applied_count(db) == 12 and sum(batches) == 12


async def test_a_rebalance_while_events_flow_loses_nothing_and_applies_each_once(env) -> None:
    """A second member joins the group mid-stream; partitions move; the inbox absorbs any
    redelivery, and every event is applied exactly once."""
    settings, db, store = env
    group = f"{settings.kafka_topic_prefix}g-rebalance"
    relay = Relay(db, settings, store)
    await relay.start()
    stop = asyncio.Event()
    first, second = runner_for(settings, db, group), runner_for(settings, db, group)
    tasks = [asyncio.create_task(first.run(stop))]
    try:
        for round_ in range(6):
            await append_orders(db, store, orders=5, versions=1)
            await relay.relay_once()
            if round_ == 2:
                await eventually(lambda: first.seen > 0, within=30)
                tasks.append(asyncio.create_task(second.run(stop)))
                await eventually(
                    lambda: second.consumer and second.consumer.assignment(), within=30
                )
        await eventually(lambda: _applied_at_least(db, 30), within=60)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        await relay.stop()
    async with db.connect() as conn:
        total, distinct = (
            await conn.execute(text("SELECT count(*), count(DISTINCT event_id) FROM applied"))
        ).one()
    assert total == distinct == 30
    assert second.seen > 0  # the partitions really moved


async def _applied_at_least(db: Database, n: int) -> bool:
    return await applied_count(db) >= n


async def test_the_leading_relay_is_woken_by_notify_not_by_its_polling(infra, order_db) -> None:
    settings = make_settings(infra, order_db, relay_poll_interval_s=120)
    db = Database(order_db)
    store = EventStore("order", settings.topic("order"))
    await ensure_topics(settings, [settings.topic("order")])
    relay = Relay(db, settings, store)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await eventually(lambda: relay.passes >= 1)  # the first, empty pass: now it waits
        await append_orders(db, store, orders=1, versions=2)
        records = await read_topic(settings, 2)  # reads for at most 30 s, far below 120 s
        assert [r["stream_version"] for r in records] == [1, 2]
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
        await db.close()


async def test_a_relay_whose_lock_connection_is_killed_stops_and_another_takes_over(
    env,
) -> None:
    """The leader reads and moves its checkpoint on the connection that holds the lock: once
    it is killed, the old leader can do neither, and the other relay leads from the
    checkpoint, publishing what came after."""
    settings, db, store = env
    first, second = Relay(db, settings, store), Relay(db, settings, store)
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    leading = asyncio.create_task(first.run(stop_first))
    await eventually(lambda: first.is_leader)
    standby = asyncio.create_task(second.run(stop_second))
    try:
        await append_orders(db, store, orders=1, versions=2)
        await eventually(lambda: _caught_up(db, store, first))
        lock_pid = first._conn.get_server_pid()  # type: ignore[union-attr]
        conn = await asyncpg.connect(db.libpq_url)
        try:
            assert await conn.fetchval("SELECT pg_terminate_backend($1)", lock_pid)
        finally:
            await conn.close()
        await eventually(lambda: second.is_leader, within=30)
        await append_orders(db, store, orders=1, versions=3)
        await eventually(lambda: _caught_up(db, store, second), within=30)
        stop_first.set()
        await asyncio.wait_for(leading, 20)
        assert not first.is_leader
        records = await read_topic(settings, 5)
        assert sorted(r["stream_version"] for r in records) == [1, 1, 2, 2, 3]
    finally:
        stop_first.set()
        stop_second.set()
        await asyncio.wait_for(asyncio.gather(leading, standby), 20)


async def _caught_up(db: Database, store: EventStore, relay: Relay) -> bool:
    """The relay's checkpoint is the last event's position."""
    async with db.connect() as conn:
        last = (await store.read_all(conn, limit=10_000))[-1].position
    return relay._checkpoint is not None and relay._checkpoint.position == last


async def test_a_broker_that_lost_its_topics_gets_every_event_again(
    infra, order_db, tmp_path
) -> None:
    """The embedded broker keeps nothing across its restart: the relay finds the topic
    holding fewer records than it published, creates it again and publishes from the start."""
    port = embedded.free_port()
    broker = embedded.start_tansu(port, tmp_path / "tansu.log")
    settings = make_settings(
        infra,
        order_db,
        KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{port}",
        relay_topic_check_interval_s=0.5,
    )
    db = Database(order_db)
    store = EventStore("order", settings.topic("order"))
    relay = Relay(db, settings, store)
    stop = asyncio.Event()
    task: asyncio.Task[None] | None = None
    try:
        await ensure_topics(settings, [store.topic])
        await append_orders(db, store, orders=2, versions=3)
        task = asyncio.create_task(relay.run(stop))
        assert len(await read_topic(settings, 6)) == 6

        broker.kill()
        broker.wait(10)
        broker = embedded.start_tansu(port, tmp_path / "tansu-again.log")
        await eventually(lambda: relay.republished >= 1, within=60)
        records = await read_topic(settings, 6)
        assert len({(r["stream_id"], r["stream_version"]) for r in records}) == len(records) == 6
    finally:
        stop.set()
        if task is not None:
            await asyncio.wait_for(task, 30)
        broker.kill()
        broker.wait(10)
        await db.close()


@pytest.mark.parametrize("batched", [False, True], ids=["one-by-one", "batched"])
async def test_a_replay_of_everything_after_the_retention_purge_applies_nothing_twice(
    env, batched: bool
) -> None:
    """The inbox is a version per source stream, not a row per event: the retention purge
    leaves it whole, so the whole history replayed later (here shuffled, as events of a
    stream with several keys may come from several partitions) is all repeats."""
    settings, db, store = env
    await append_orders(db, store, orders=3, versions=4)
    async with db.connect() as conn:
        values = [e.envelope.model_dump_json() for e in await store.read_all(conn, limit=100)]
    messages = [Message(settings.topic("order"), 0, n, None, v) for n, v in enumerate(values)]
    shuffled = messages[::-1] + messages[5:7]
    runner = runner_for(settings, db, f"{settings.kafka_topic_prefix}g-replay", batched=batched)
    await runner.process_batch(shuffled)
    assert await applied_count(db) == 12  # every event once, whatever the order

    await Relay(db, settings.model_copy(update={"retention_days": 0}), store).purge()
    await runner.process_batch(messages)  # the whole history again, long after
    await runner.process_batch(shuffled)
    assert await applied_count(db) == 12
    async with db.connect() as conn:
        progress = (
            await conn.execute(text("SELECT watermark, ahead FROM consumer_progress"))
        ).all()
    assert sorted(progress) == [(4, []), (4, []), (4, [])]  # three streams, all taken


async def _dead_letters(db: Database) -> int:
    async with db.connect() as conn:
        return (await conn.execute(text("SELECT count(*) FROM dead_letters"))).scalar_one()


async def _relay_all(db: Database, settings: Settings, store: EventStore) -> None:
    relay = Relay(db, settings, store)
    await relay.start()
    try:
        while await relay.relay_once():
            pass
    finally:
        await relay.stop()


@pytest.mark.parametrize("batched", [False, True], ids=["one-by-one", "batched"])
async def test_a_database_outage_holds_the_consumer_until_it_ends_and_parks_nothing(
    env, infra: Infra, batched: bool
) -> None:
    """The consumer's database goes out of reach while it runs (a proxy cut), with events
    waiting: it applies none and parks none however long that lasts, and applies each once
    when the database is back."""
    settings, db, store = env
    proxy = PgProxy(infra.server_url)
    await proxy.restore()
    through_proxy = Database(proxy.url(db.url))
    runner = runner_for(
        settings, through_proxy, f"{settings.kafka_topic_prefix}g-outage", batched=batched
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        await append_orders(db, store, orders=2, versions=2)
        await _relay_all(db, settings, store)  # the relay goes to the database directly
        await eventually(lambda: _applied_at_least(db, 4), within=40)

        await proxy.cut()
        await append_orders(db, store, orders=3, versions=3)
        await _relay_all(db, settings, store)
        # It waits for the database more times than an event failing on its own is tried.
        limit = settings.consumer_max_attempts
        await eventually(lambda: runner.outage_waits > limit or task.done(), within=40)
        assert not task.done()
        assert await applied_count(db) == 4
        assert await _dead_letters(db) == 0

        await proxy.restore()
        await eventually(lambda: _applied_at_least(db, 13), within=40)
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)  # raises what crashed it, if anything did
        await proxy.cut()
        await through_proxy.close()
    async with db.connect() as conn:
        total, distinct = (
            await conn.execute(text("SELECT count(*), count(DISTINCT event_id) FROM applied"))
        ).one()
    assert total == distinct == 13
    assert await _dead_letters(db) == 0


async def test_a_consumer_stopped_during_an_outage_leaves_what_it_did_not_apply_uncommitted(
    env, infra: Infra
) -> None:
    """Stopped while its database is out of reach, the consumer ends promptly and commits no
    offset past the records it could not apply: the next run of the group applies them."""
    settings, db, store = env
    proxy = PgProxy(infra.server_url)
    await proxy.restore()
    through_proxy = Database(proxy.url(db.url))
    group = f"{settings.kafka_topic_prefix}g-outage-stop"
    try:
        await proxy.cut()
        await append_orders(db, store, orders=3, versions=2)
        await _relay_all(db, settings, store)
        first = runner_for(settings, through_proxy, group)
        stop = asyncio.Event()
        task = asyncio.create_task(first.run(stop))
        try:
            await eventually(lambda: first.outage_waits > 0 or task.done(), within=40)
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
        assert await applied_count(db) == 0 and await _dead_letters(db) == 0

        await proxy.restore()
        second = runner_for(settings, through_proxy, group)
        await run_until(second, lambda: second.applied >= 6)
    finally:
        await proxy.cut()
        await through_proxy.close()
    assert await applied_count(db) == 6 and await _dead_letters(db) == 0


async def test_is_outage_tells_a_database_out_of_reach_from_a_statement_it_refuses(
    env, infra: Infra
) -> None:
    """On the errors the driver and SQLAlchemy really raise."""
    _, db, _ = env
    proxy = PgProxy(infra.server_url)
    await proxy.restore()
    through_proxy = Database(proxy.url(db.url))

    async def error_of(database: Database, statement: str, **params: object) -> Exception:
        try:
            async with database.transaction() as conn:
                await conn.execute(text(statement), params)
        except Exception as exc:
            return exc
        raise AssertionError(f"{statement} did not fail")

    try:
        await through_proxy.ping()  # a pooled connection, to be reset by the cut
        await proxy.cut()
        reset = await error_of(through_proxy, "SELECT 1")
        refused = await error_of(through_proxy, "SELECT 1")
    finally:
        await through_proxy.close()
    assert is_outage(reset) and is_outage(refused)

    terminated = Database(db.url)  # a pooled connection the server then terminates
    try:
        async with terminated.connect() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with db.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        assert is_outage(await error_of(terminated, "SELECT 1"))
    finally:
        await terminated.close()

    async with db.transaction() as conn:
        await conn.execute(text("CREATE TABLE once (id int PRIMARY KEY)"))
        await conn.execute(text("INSERT INTO once VALUES (1)"))
    refused_statements = [
        await error_of(db, "INSERT INTO once VALUES (1)"),
        await error_of(db, "INSERT INTO applied (event_id) VALUES (NULL)"),
        await error_of(db, "SELECT CAST(:x AS int)", x="not a number"),
        await error_of(db, "SELECT 1 / 0"),
        await error_of(db, "SELEC 1"),
    ]
    assert not any(is_outage(exc) for exc in refused_statements), refused_statements


async def _stream_of(db: Database, store: EventStore, kinds: str) -> tuple[str, list[Message]]:
    """A new order stream whose events are, version after version, `kinds`: `w` an event the
    test's reaction wants (OrderCompleted), `u` one it does not (OrderStatusChanged); each
    as the consumer would read it from the topic."""
    order_id = uuid.uuid4()
    stream = f"order/{order_id}"
    for version, kind in enumerate(kinds):
        event = (
            OrderCompleted(order_id=order_id, completed_at=NOW, auto=True)
            if kind == "w"
            else OrderStatusChanged(
                order_id=order_id, from_status=None, to_status="UNPAID", changed_at=NOW
            )
        )
        async with db.transaction() as conn:
            await store.append(conn, stream, version, [event], occurred_at=NOW, order_id=order_id)
    async with db.connect() as conn:
        stored = await store.read_all(conn, limit=10_000)
    values = [e.envelope for e in stored if e.envelope.stream_id == stream]
    messages = [
        Message("t", 0, n, stream, e.model_dump_json())
        for n, e in enumerate(sorted(values, key=lambda e: e.stream_version))
    ]
    return stream, messages


async def _progress_of(db: Database, consumer: str, stream: str) -> tuple[int, list[int]] | None:
    async with db.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT watermark, ahead FROM consumer_progress "
                    "WHERE consumer = :c AND stream_id = :s"
                ),
                {"c": consumer, "s": stream},
            )
        ).first()
    return (row.watermark, sorted(row.ahead)) if row else None


async def test_events_no_reaction_wants_are_passed_over_without_a_transaction(
    env, monkeypatch
) -> None:
    """A poll of events none of which a reaction wants moves its streams' progress on with
    one statement outside any transaction; what it wants after them is applied once, and a
    replay of everything applies nothing again."""
    settings, db, store = env
    stream, (u1, u2, w3, u4) = await _stream_of(db, store, "uuwu")
    runner = runner_for(settings, db, "g-pass-over")
    transactions = count_transactions(db, monkeypatch)

    await runner.process_batch([u1, u2])
    assert transactions.opened == 0
    assert await _progress_of(db, "g-pass-over", stream) == (2, [])
    await runner.process_batch([w3])
    assert transactions.opened == 1 and await applied_count(db) == 1
    await runner.process_batch([u4])
    assert transactions.opened == 1 and await _progress_of(db, "g-pass-over", stream) == (4, [])
    await runner.process_batch([u1, u2, w3, u4, w3])
    assert await applied_count(db) == 1


async def test_events_passed_over_across_a_gap_keep_the_gap_for_the_inbox(env) -> None:
    """Versions that do not continue the watermark (one missing, one repeated) go through
    the inbox's transaction: the missing version is still applied when it comes."""
    settings, db, store = env
    stream, (w1, u2, u3, u4) = await _stream_of(db, store, "wuuu")
    runner = runner_for(settings, db, "g-gap")
    await runner.process_batch([u2, u3])  # version 1 not seen yet
    assert await _progress_of(db, "g-gap", stream) == (0, [2, 3])
    await runner.process_batch([u4, u4])
    assert await _progress_of(db, "g-gap", stream) == (0, [2, 3, 4])
    await runner.process_batch([w1])
    assert await applied_count(db) == 1
    assert await _progress_of(db, "g-gap", stream) == (4, [])


async def test_records_whose_headers_name_an_unwanted_type_are_passed_over_unread(
    env, monkeypatch
) -> None:
    """The event type travels as a header: a record no reaction wants is passed over without
    its value being parsed (here a value that could not be), without a transaction and
    without a dead letter; a wanted one with headers is applied as before."""
    settings, db, store = env
    stream, (u1, u2, w3) = await _stream_of(db, store, "uuw")
    runner = runner_for(settings, db, "g-headers")
    transactions = count_transactions(db, monkeypatch)

    def with_headers(message: Message, value: str | None = None) -> Message:
        envelope = Envelope.model_validate_json(message.value)
        headers = EventHeaders(envelope.event_type, envelope.stream_id, envelope.stream_version)
        return dataclasses.replace(message, value=value or message.value, headers=headers)

    await runner.process_batch([with_headers(u1, "not json"), with_headers(u2, "{")])
    assert transactions.opened == 0 and await _dead_letters(db) == 0
    assert await _progress_of(db, "g-headers", stream) == (2, [])
    await runner.process_batch([with_headers(w3)])
    assert transactions.opened == 1 and await applied_count(db) == 1
    assert await _progress_of(db, "g-headers", stream) == (3, [])


def test_event_headers_round_trip_and_are_absent_when_a_producer_left_any_out() -> None:
    headers = EventHeaders("OrderPlaced", "order/1", 7)
    assert EventHeaders.from_kafka(headers.to_kafka()) == headers
    assert EventHeaders.from_kafka(headers.to_kafka()[:2]) is None
    assert EventHeaders.from_kafka([*headers.to_kafka()[:2], ("stream_version", b"x")]) is None
    assert EventHeaders.from_kafka([]) is None
