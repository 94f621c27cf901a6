"""The deadline scheduler and the retention purge against the real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from shared import metrics
from shared.clock import SimulatedClock
from shared.db import Database
from shared.deadlines import Deadline, DeadlineScheduler, schedule
from shared.eventstore import EventStore
from shared.relay import Relay
from tests.conftest import count_transactions, make_settings

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


@pytest.fixture
async def db(order_db: str):
    database = Database(order_db)
    yield database
    await database.close()


async def test_deadlines_fire_once_when_due_even_with_competing_schedulers(db: Database) -> None:
    clock = SimulatedClock(start=T0)
    fired: Counter[str] = Counter()

    async def handler(deadline: Deadline, now: datetime) -> None:
        await asyncio.sleep(0.001)
        fired[deadline.subject_id] += 1

    async with db.transaction() as conn:
        for i in range(60):
            await schedule(conn, "test", f"s{i}", T0 + timedelta(minutes=i % 3))
        await schedule(conn, "test", "s0", T0)  # the same deadline twice is one deadline
    schedulers = [
        DeadlineScheduler(db, clock, "order", {"test": handler}, batch_size=7) for _ in range(3)
    ]

    async def drain(s: DeadlineScheduler) -> None:
        while await s.fire_due():
            pass

    await asyncio.gather(*(drain(s) for s in schedulers))
    assert sum(fired.values()) == 20  # only the ones due at T0
    clock.advance(timedelta(minutes=5))
    await asyncio.gather(*(drain(s) for s in schedulers))
    assert len(fired) == 60 and set(fired.values()) == {1}

    async with db.transaction() as conn:  # scheduled again once fired: armed again
        await schedule(conn, "test", "s1", T0 + timedelta(minutes=1))
    await asyncio.gather(*(drain(s) for s in schedulers))
    assert fired["s1"] == 2 and sum(fired.values()) == 61


async def test_a_pass_with_nothing_due_opens_no_transaction(db: Database, monkeypatch) -> None:
    """Most passes find nothing due: they cost one statement, not a transaction; a deadline
    that comes due is fired by the next pass."""
    clock = SimulatedClock(start=T0)
    fired: list[str] = []

    async def handler(deadline: Deadline, now: datetime) -> None:
        fired.append(deadline.subject_id)

    async with db.transaction() as conn:
        await schedule(conn, "later", "s1", T0 + timedelta(minutes=1))
    transactions = count_transactions(db, monkeypatch)

    scheduler = DeadlineScheduler(db, clock, "order", {"later": handler})
    assert await scheduler.fire_due() == 0 and transactions.opened == 0
    clock.advance(timedelta(minutes=1))
    assert await scheduler.fire_due() == 1 and transactions.opened == 1 and fired == ["s1"]
    assert await scheduler.fire_due() == 0 and transactions.opened == 1


async def test_a_failing_deadline_is_retried_later_not_lost(db: Database) -> None:
    clock = SimulatedClock(start=T0)
    calls: list[datetime] = []

    async def flaky(deadline: Deadline, now: datetime) -> None:
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("downstream unavailable")

    async with db.transaction() as conn:
        await schedule(conn, "flaky", "x", T0)
    scheduler = DeadlineScheduler(db, clock, "order", {"flaky": flaky})
    assert await scheduler.fire_due() == 1
    assert await scheduler.fire_due() == 0  # backed off
    async with db.connect() as conn:
        row = (
            await conn.execute(text("SELECT attempts, last_error, fired_at FROM deadlines"))
        ).one()
    assert row.attempts == 1 and "downstream unavailable" in row.last_error and row.fired_at is None
    clock.advance(timedelta(minutes=2))
    assert await scheduler.fire_due() == 1
    assert len(calls) == 2


async def test_the_scheduler_reports_the_deadlines_it_found_due(db: Database) -> None:
    """shopflow_deadlines_due (the Grafana panel "deadlines due"): what the last pass found
    due, at most a batch; 0 once nothing is due."""
    clock = SimulatedClock(start=T0)

    async def handler(deadline: Deadline, now: datetime) -> None:
        pass

    async with db.transaction() as conn:
        for i in range(5):
            await schedule(conn, "gauge", f"s{i}", T0)
    scheduler = DeadlineScheduler(db, clock, "deadlines-due", {"gauge": handler}, batch_size=3)
    due = metrics.DEADLINES_DUE.labels("deadlines-due")
    assert await scheduler.fire_due() == 3 and due._value.get() == 3
    assert await scheduler.fire_due() == 2 and due._value.get() == 2
    assert await scheduler.fire_due() == 0 and due._value.get() == 0


async def test_retention_purges_old_idempotency_keys_never_events_nor_the_inbox(
    infra, order_db, db
) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            text(
                "INSERT INTO idempotency_keys (caller, key, request_hash, created_at) VALUES "
                "('c', 'old', 'h', now() - interval '30 days'), ('c', 'new', 'h', now())"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO events (event_id, stream_id, stream_version, event_type, "
                "schema_version, occurred_at, payload, recorded_at) VALUES (gen_random_uuid(), "
                "'s', 1, 'T', 1, now(), '{}', now() - interval '30 days')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO consumer_progress (consumer, stream_id, watermark) "
                "VALUES ('c', 's', 1)"
            )
        )
    relay = Relay(db, make_settings(infra, order_db), EventStore("order", "t"))
    await relay.purge()
    async with db.connect() as conn:
        keys = (await conn.execute(text("SELECT key FROM idempotency_keys"))).scalars().all()
        events = (await conn.execute(text("SELECT count(*) FROM events"))).scalar_one()
        progress = (await conn.execute(text("SELECT count(*) FROM consumer_progress"))).scalar_one()
    assert keys == ["new"]
    assert events == 1  # the store is the truth (and the outbox): never purged
    assert progress == 1  # the once-only record: a replay of any age stays a repeat


async def test_retention_purges_dead_letters_resolved_long_ago_and_keeps_open_ones(
    infra, order_db, db
) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            text(
                'INSERT INTO dead_letters (consumer, topic, partition, "offset", value, error, '
                "attempts, created_at, resolved_at) VALUES "
                "('c', 't', 0, 1, '{}', 'e', 3, now() - interval '40 days', "
                "now() - interval '30 days'), "  # resolved long ago: purged
                "('c', 't', 0, 2, '{}', 'e', 3, now() - interval '40 days', now()), "
                "('c', 't', 0, 3, '{}', 'e', 3, now() - interval '40 days', NULL)"  # still open
            )
        )
    relay = Relay(db, make_settings(infra, order_db), EventStore("order", "t"))
    await relay.purge()
    async with db.connect() as conn:
        offsets = (
            (await conn.execute(text('SELECT "offset" FROM dead_letters ORDER BY 1')))
            .scalars()
            .all()
        )
    assert offsets == [2, 3]  # resolved recently, and open however old: an operator's to see
