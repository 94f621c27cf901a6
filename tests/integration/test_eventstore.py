"""Event store contract: optimistic concurrency, retries, and a gap-safe global reader."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from services.order.domain.order import ORDER
from services.order.domain.order_cancellation import CancelOrder
from services.order.domain.order_intake import CreateOrder, OrderLine
from services.order.domain.product import Product
from shared.aggregate import Aggregate, Snapshots, execute, load
from shared.db import Database
from shared.events.common import Address
from shared.events.order import ProductChanged, ProductListed
from shared.eventstore import ConcurrencyError, EventStore, Position
from shared.money import Money

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def listed(n: int) -> ProductListed:
    return ProductListed(
        seller_id="s1",
        sku=f"SKU-{n}",
        title="t",
        price=Money(amount=100, currency="USD"),
        weight_g=1,
    )


@pytest.fixture
async def db(order_db: str):
    database = Database(order_db)
    yield database
    await database.close()


@pytest.fixture
def store() -> EventStore:
    return EventStore("order", "shopflow.order.events")


async def test_append_and_load_round_trip(db: Database, store: EventStore) -> None:
    async with db.transaction() as conn:
        written = await store.append(conn, "s-1", 0, [listed(1), listed(2)], occurred_at=NOW)
    async with db.connect() as conn:
        loaded = await store.load(conn, "s-1")
    assert [e.event_id for e in loaded] == [e.event_id for e in written]
    assert [e.stream_version for e in loaded] == [1, 2]
    assert loaded[1].decode() == listed(2)
    assert loaded[1].payload == listed(2).model_dump(mode="json")


class Boom(Exception):
    pass


async def count_rows(db: Database, stream_id: str) -> int:
    """The stream's events."""
    async with db.connect() as conn:
        events = await conn.execute(
            text("SELECT count(*) FROM events WHERE stream_id = :s"), {"s": stream_id}
        )
        return int(events.scalar_one())


async def test_an_append_is_undone_with_the_callers_transaction(
    db: Database, store: EventStore
) -> None:
    """The append runs on the driver under SQLAlchemy: as the first statement of the
    transaction, after another, and in a savepoint, it commits and rolls back with it."""
    with pytest.raises(Boom):
        async with db.transaction() as conn:
            await store.append(conn, "atomic-1", 0, [listed(1)], occurred_at=NOW)
            raise Boom
    assert await count_rows(db, "atomic-1") == 0

    with pytest.raises(Boom):
        async with db.transaction() as conn:
            await conn.execute(text("SELECT 1"))
            await store.append(conn, "atomic-2", 0, [listed(1)], occurred_at=NOW)
            raise Boom
    assert await count_rows(db, "atomic-2") == 0

    async with db.transaction() as conn:
        await store.append(conn, "atomic-3", 0, [listed(1)], occurred_at=NOW)
        with pytest.raises(ConcurrencyError):
            async with conn.begin_nested():
                await store.append(conn, "atomic-3", 0, [listed(2)], occurred_at=NOW)
        await store.append(conn, "atomic-3", 1, [listed(3)], occurred_at=NOW)
    assert await count_rows(db, "atomic-3") == 2
    async with db.connect() as conn:
        loaded = await store.load(conn, "atomic-3")
    assert [e.decode() for e in loaded] == [listed(1), listed(3)]

    async with db.connect() as conn:
        with pytest.raises(RuntimeError):
            await store.append(conn, "atomic-4", 0, [listed(1)], occurred_at=NOW)


async def test_two_writers_on_one_stream_exactly_one_wins(db: Database, store: EventStore) -> None:
    async with db.transaction() as conn:
        await store.append(conn, "s-2", 0, [listed(1)], occurred_at=NOW)

    gate = asyncio.Barrier(2)

    async def writer(n: int) -> str:
        async with db.transaction() as conn:
            await store.load(conn, "s-2")
            await gate.wait()  # both have read version 1 before either writes
            try:
                await store.append(conn, "s-2", 1, [listed(n)], occurred_at=NOW)
            except ConcurrencyError:
                return "lost"
        return "won"

    results = await asyncio.gather(writer(10), writer(11))
    assert sorted(results) == ["lost", "won"]
    async with db.connect() as conn:
        assert len(await store.load(conn, "s-2")) == 2


async def test_conflicting_commands_are_retried_and_both_decided(
    db: Database, store: EventStore
) -> None:
    """Concurrent commands on one order: the loser reloads and decides on the new state."""
    order_id = uuid.uuid4()
    listing = Product(
        seller_id="s1", sku="A", title="A", price=Money(amount=500, currency="USD"), weight_g=100
    )
    create = CreateOrder(
        order_id=order_id,
        buyer_id="b1",
        seller_id="s1",
        lines=[OrderLine("A", 1)],
        listings={"A": listing},
        shipping_address=Address(
            recipient_name="R",
            phone="+1 555",
            line1="x",
            city="c",
            postal_code="12345",
            country="US",
        ),
        shipping_option="STANDARD",
        payment_method="CARD",
        now=NOW,
    )
    stream = ORDER.stream(order_id)
    assert stream == f"order/{order_id}"  # the stream ids stored events live under
    await execute(db, store, ORDER, stream, create)

    outcomes: list[str] = []

    async def cancel(actor: str, reason: str) -> None:
        command = CancelOrder(actor=actor, actor_id=actor, reason_code=reason, note=None, now=NOW)  # type: ignore[arg-type]
        try:
            await execute(db, store, ORDER, stream, command)
            outcomes.append("cancelled")
        except Exception as exc:  # the second decides against a cancelled order
            outcomes.append(getattr(exc, "code", repr(exc)))

    await asyncio.gather(*(cancel("buyer", "CHANGED_MIND") for _ in range(4)))
    assert sorted(outcomes) == ["already-cancelled"] * 3 + ["cancelled"]
    async with db.connect() as conn:
        state, version = await load(conn, store, ORDER, stream)
    assert state.status == "CANCELLED"
    assert version == 4  # created, status, cancelled, status


async def test_gap_safe_reader_sees_every_event_under_concurrent_writers(
    db: Database, store: EventStore
) -> None:
    """Many writers commit out of position order; a reader following (tx_id, position)
    checkpoints must still see every event exactly once."""
    writers, per_writer = 8, 25
    done = asyncio.Event()
    seen: list[uuid.UUID] = []

    async def writer(w: int) -> None:
        for i in range(per_writer):
            async with db.transaction() as conn:
                await store.append(conn, f"w{w}-{i}", 0, [listed(i)], occurred_at=NOW)
                if i % 3 == 0:
                    # hold the transaction so later positions commit before this one
                    await conn.execute(text("SELECT pg_sleep(0.01)"))

    async def reader() -> None:
        checkpoint = Position()
        while True:
            finished = done.is_set()
            async with db.connect() as conn:
                batch = await store.read_all(conn, checkpoint, limit=37)
            for stored in batch:
                assert stored.position > checkpoint
                checkpoint = stored.position
                seen.append(stored.envelope.event_id)
            if finished and not batch:
                return
            if not batch:
                await asyncio.sleep(0.005)

    reading = asyncio.create_task(reader())
    await asyncio.gather(*(writer(w) for w in range(writers)))
    done.set()
    await asyncio.wait_for(reading, 60)
    async with db.connect() as conn:
        all_ids = [
            r[0] for r in await conn.execute(text("SELECT event_id FROM events ORDER BY position"))
        ]
    assert len(seen) == len(set(seen)) == writers * per_writer
    assert set(seen) == set(all_ids)


async def test_a_naive_position_reader_would_skip_a_late_commit(
    db: Database, store: EventStore
) -> None:
    """Shows the defect the guard prevents: position 1 commits after position 2."""
    early = await db.engine.connect()
    tx = await early.begin()
    await store.append(early, "late", 0, [listed(1)], occurred_at=NOW)  # lower position
    async with db.transaction() as conn:
        await store.append(conn, "fast", 0, [listed(2)], occurred_at=NOW)  # higher, commits first
    async with db.connect() as conn:
        naive = (await conn.execute(text("SELECT max(position) FROM events"))).scalar_one()
        guarded = await store.read_all(conn, Position())
    assert naive == 2  # a position-only reader would checkpoint 2 here and never see 1
    assert guarded == []  # the guard holds back everything after the open transaction
    await tx.commit()
    await early.close()
    async with db.connect() as conn:
        after = await store.read_all(conn, Position())
    assert [e.envelope.stream_id for e in after] == ["late", "fast"]


async def test_upcasting_on_read(db: Database, store: EventStore) -> None:
    """Stored events are never rewritten; an old schema_version is upcast when decoded."""
    from shared.events import EventPayload, EventRegistry

    registry = EventRegistry()

    @registry.register("Renamed", service="order", version=2)
    class Renamed(EventPayload):
        full_name: str

    @registry.upcaster("Renamed", from_version=1)
    def v1_to_v2(data: dict) -> dict:  # type: ignore[type-arg]
        return {"full_name": data["name"]}

    assert registry.decode("Renamed", 1, {"name": "x"}) == Renamed(full_name="x")
    assert registry.decode("Renamed", 2, {"full_name": "y"}) == Renamed(full_name="y")
    assert ProductChanged.event_type == "ProductChanged"


@dataclass(frozen=True)
class Add:
    n: int
    now: datetime = NOW


SKUS: Aggregate[tuple[str, ...]] = Aggregate(
    name="skus",
    initial=(),
    decide=lambda _, command: [listed(command.n)],
    evolve=lambda state, event: (*state, event.sku),  # type: ignore[attr-defined]
    snapshots=Snapshots("skus-v1", lambda s: {"skus": list(s)}, lambda d: tuple(d["skus"]), 3),
)


def add(n: int) -> Add:
    return Add(n)


async def snapshot_row(db: Database, stream_id: str):
    async with db.connect() as conn:
        return (
            await conn.execute(
                text("SELECT stream_version, codec, state FROM snapshots WHERE stream_id = :s"),
                {"s": stream_id},
            )
        ).one_or_none()


async def test_a_long_stream_is_loaded_from_its_snapshot(db: Database, store: EventStore) -> None:
    """Snapshots contract: taken when an append crosses a multiple of `every`, a load folds
    only the events after it, another codec's snapshot is ignored, and a snapshot goes with
    the transaction that took it."""
    stream = f"snap-{uuid.uuid4()}"
    for n in range(1, 8):
        await execute(db, store, SKUS, stream, add(n))
    row = await snapshot_row(db, stream)
    assert (row.stream_version, row.codec) == (6, "skus-v1")
    assert row.state == {"skus": [f"SKU-{n}" for n in range(1, 7)]}
    everything = tuple(f"SKU-{n}" for n in range(1, 8))
    async with db.connect() as conn:
        assert await load(conn, store, SKUS, stream) == (everything, 7)

    async with db.transaction() as conn:  # a doctored snapshot shows the load starts there
        await conn.execute(
            text('UPDATE snapshots SET state = \'{"skus": ["X"]}\' WHERE stream_id = :s'),
            {"s": stream},
        )
    async with db.connect() as conn:
        assert await load(conn, store, SKUS, stream) == (("X", "SKU-7"), 7)

    assert SKUS.snapshots is not None
    v2 = replace(SKUS, snapshots=replace(SKUS.snapshots, codec="skus-v2"))
    async with db.connect() as conn:
        assert await load(conn, store, v2, stream) == (everything, 7)
    for n in (8, 9):
        await execute(db, store, v2, stream, add(n))
    row = await snapshot_row(db, stream)
    assert (row.stream_version, row.codec) == (9, "skus-v2")
    assert row.state == {"skus": [f"SKU-{n}" for n in range(1, 10)]}

    rolled_back = f"snap-{uuid.uuid4()}"
    with pytest.raises(Boom):
        async with db.transaction() as conn:
            for n in range(1, 4):
                await execute(db, store, SKUS, rolled_back, add(n), within=conn)
            raise Boom
    assert await snapshot_row(db, rolled_back) is None


async def read_stream_order(db: Database, store: EventStore, stream_id: str) -> list[int]:
    async with db.connect() as conn:
        stored = await store.read_all(conn, limit=100_000)
    return [s.envelope.stream_version for s in stored if s.envelope.stream_id == stream_id]


async def test_a_stream_keeps_its_order_in_the_global_read_whoever_wrote_first(
    db: Database, store: EventStore
) -> None:
    """A transaction that wrote something (its inbox) before another one appended to a
    stream and committed has the older transaction id; the next version it appends must
    still come after its predecessor in the (tx_id, position) order that readers and the
    relay follow."""
    stream = f"ordered-{uuid.uuid4()}"
    async with db.transaction() as older:
        await older.execute(
            text(
                "INSERT INTO consumer_progress (consumer, stream_id) "
                "VALUES ('t', gen_random_uuid()::text)"
            )
        )
        async with db.transaction() as newer:
            await store.append(newer, stream, 0, [listed(1)], occurred_at=NOW)
        await store.append(older, stream, 1, [listed(2)], occurred_at=NOW)
        await store.append(older, stream, 2, [listed(3)], occurred_at=NOW)
    assert await read_stream_order(db, store, stream) == [1, 2, 3]

    # through execute inside a consumer's transaction (a savepoint per attempt)
    skus = f"ordered-{uuid.uuid4()}"
    async with db.transaction() as consumer:
        await consumer.execute(
            text(
                "INSERT INTO consumer_progress (consumer, stream_id) "
                "VALUES ('t', gen_random_uuid()::text)"
            )
        )
        await execute(db, store, SKUS, skus, add(1))
        await execute(db, store, SKUS, skus, add(2), within=consumer)
    assert await read_stream_order(db, store, skus) == [1, 2]
