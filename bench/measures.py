"""The measurements of `make bench`, each a function returning one run's figures. Every loop
is bounded in count and in time; nothing here asserts a timing."""

from __future__ import annotations

import asyncio
import functools
import gc
import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx

from shared import embedded
from shared.auth import mint_token
from shared.db import Database
from shared.events.order import OrderCompleted
from shared.eventstore import EventStore
from shared.migrations import upgrade
from shared.settings import Settings

NOW = datetime(2026, 11, 1, tzinfo=UTC)
MAX_SECONDS = 6.0


async def rate(op: Callable[[int], Awaitable[None]], count: int, workers: int) -> float:
    """Run `op` up to `count` times over `workers` tasks, at most MAX_SECONDS; ops per second."""
    done = 0
    stop_at = time.perf_counter() + MAX_SECONDS

    async def worker(w: int) -> None:
        nonlocal done
        i = w
        while i < count and time.perf_counter() < stop_at:
            await op(i)
            done += 1
            i += workers

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(workers)))
    return done / (time.perf_counter() - started)


async def fresh_db(server_url: str, service: str | None) -> str:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    await embedded.create_database(server_url, name)
    url = embedded.database_url(server_url, name)
    if service:
        await asyncio.to_thread(upgrade, service, url)
    return url


async def settle(server_url: str) -> None:
    """Start a run on a quiet server: drop the databases earlier runs made (their autovacuum
    and checkpoint work slowed the next run's first figures by up to half) and checkpoint."""
    conn = await asyncpg.connect(server_url)
    try:
        names = await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE 'bench\\_%' "
            "OR datname LIKE 'load\\_%'"
        )
        for row in names:
            await conn.execute(f'DROP DATABASE "{row["datname"]}" WITH (FORCE)')
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


# --- event store ---------------------------------------------------------------------------


async def store_rates(server_url: str) -> dict[str, float]:
    """Appends per second, one event per command, with 1 and 8 writers; a raw asyncpg INSERT
    with 8 connections as the ceiling."""
    url = await fresh_db(server_url, "order")
    raw = await asyncpg.create_pool(url, min_size=8, max_size=8)
    await raw.execute("CREATE TABLE baseline (id uuid PRIMARY KEY, body jsonb)")
    db = Database(url, pool_size=8)
    store = EventStore("order", "bench.order")

    async def insert(_: int) -> None:
        await raw.execute("INSERT INTO baseline VALUES ($1, '{}')", uuid.uuid4())

    async def append(_: int) -> None:
        order_id = uuid.uuid4()
        async with db.transaction() as conn:
            await store.append(
                conn,
                f"order/{order_id}",
                0,
                [OrderCompleted(order_id=order_id, completed_at=NOW, auto=False)],
                occurred_at=NOW,
                order_id=order_id,
            )

    try:
        return {
            "raw_insert_8": await rate(insert, 100_000, 8),
            "append_1": await rate(append, 50_000, 1),
            "append_8": await rate(append, 50_000, 8),
        }
    finally:
        await db.close()
        await raw.close()


@functools.cache
def _parcel() -> type:
    """The library's aggregate, defined once per process (it refuses a second class under
    the same topic, as a second bench run would make)."""
    from eventsourcing.domain import Aggregate, event

    class Parcel(Aggregate):
        @event("Registered")
        def __init__(self, name: str) -> None:
            self.name = name

    return Parcel


def eventsourcing_rates(server_url: str, database_url: str) -> dict[str, float]:
    """The `eventsourcing` library (v9, its PostgreSQL module) saving one new aggregate (one
    event) per call, with 1 and 8 threads, on the same server."""
    from eventsourcing.application import Application

    parcel = _parcel()
    parts = urlsplit(database_url)
    query = parse_qs(parts.query)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts.path.lstrip("/"),
        "POSTGRES_HOST": query.get("host", [parts.hostname or "localhost"])[0],
        "POSTGRES_PORT": str(parts.port or query.get("port", ["5432"])[0]),
        "POSTGRES_USER": parts.username or "postgres",
        "POSTGRES_PASSWORD": parts.password or "",
        "POSTGRES_POOL_SIZE": "8",
        "CREATE_TABLE": "y",
    }
    app: Application[uuid.UUID] = Application(env=env)
    results = {}
    for threads in (1, 8):
        results[f"eventsourcing_{threads}"] = _threaded_rate(
            lambda: app.save(parcel(name="p")), threads
        )
    app.close()
    return results


def _threaded_rate(op: Callable[[], object], threads: int, count: int = 50_000) -> float:
    """Calls per second of `op` over `threads` threads; failed calls are not counted (and the
    first failure is reported)."""
    done = 0
    failures: list[Exception] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + MAX_SECONDS

    def work() -> None:
        nonlocal done
        while time.perf_counter() < stop_at and done < count:
            try:
                op()
            except Exception as exc:
                with lock:
                    failures.append(exc)
                continue
            with lock:
                done += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(work) for _ in range(threads)]
    for future in futures:
        future.result()
    if failures:
        print(f"  {len(failures)} calls failed with {threads} threads, e.g. {failures[0]!r}")
    return done / (time.perf_counter() - started)


async def stock_figures(server_url: str, orders: int = 1000) -> dict[str, float]:
    """A busy seller: the latency of reserving stock (load the seller's stock stream from its
    snapshot, decide, append) over the first 100 orders and at `orders` orders, each order
    reserved and shipped (two events)."""
    from services.fulfillment.domain.stock import (
        STOCK,
        AdjustStock,
        ConsumeShipped,
        ReserveStock,
    )
    from shared.aggregate import execute
    from shared.events.fulfillment import SkuQuantity

    db = Database(await fresh_db(server_url, "fulfillment"), pool_size=2)
    store = EventStore("fulfillment", "bench.fulfillment")
    stream, warehouse, line = STOCK.stream("busy"), uuid.uuid4(), [SkuQuantity(sku="A", quantity=1)]

    async def run(command: Any) -> None:
        await execute(db, store, STOCK, stream, command)

    await run(AdjustStock("busy", warehouse, "A", 10**6, NOW))
    latencies = []
    stop_at = time.perf_counter() + 4 * MAX_SECONDS
    for _ in range(orders):
        if time.perf_counter() > stop_at:
            break
        order_id = uuid.uuid4()
        started = time.perf_counter()
        await run(ReserveStock("busy", order_id, line, NOW))
        latencies.append(time.perf_counter() - started)
        await run(ConsumeShipped(order_id, warehouse, line, NOW))
    await db.close()
    return {
        "stock_reserve_first_100_ms": 1000 * statistics.median(latencies[:100]),
        "stock_reserve_last_100_ms": 1000 * statistics.median(latencies[-100:]),
        "stock_orders_reached": float(len(latencies)),
    }


# --- HTTP ----------------------------------------------------------------------------------


async def http_figures(server_url: str, bootstrap: str) -> dict[str, float]:
    """POST /v1/orders through the order service as its own process (one uvicorn worker),
    at a fixed concurrency of 16: rate and latency percentiles."""
    import subprocess

    url = await fresh_db(server_url, "order")
    port = embedded.free_port()
    env = {
        **os.environ,
        "SHOPFLOW_ORDER_DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "SHOPFLOW_ORDER_PORT": str(port),
        "SHOPFLOW_KAFKA_TOPIC_PREFIX": f"bench{port}.",
        "SHOPFLOW_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, before the measurement
        [sys.executable, "-m", "services.order"], env=env, stdout=subprocess.DEVNULL
    )
    settings = Settings()
    secret = settings.effective_jwt_secret
    seller = {
        "Authorization": "Bearer "
        + mint_token(secret, sub="shop-1", role="seller", seller_id="shop-1")
    }
    buyer = {"Authorization": "Bearer " + mint_token(secret, sub="buyer-1", role="buyer")}
    order = {
        "seller_id": "shop-1",
        "items": [{"sku": "TEE-1", "quantity": 1}],
        "payment_method": "CARD",
        "shipping_address": {
            "recipient_name": "A",
            "phone": "+1 555",
            "line1": "x",
            "city": "c",
            "postal_code": "12345",
            "country": "US",
        },
    }
    latencies: list[float] = []
    try:
        embedded.wait_for_port("127.0.0.1", port, process)
        limits = httpx.Limits(max_connections=16)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
            product = {"sku": "TEE-1", "title": "T", "price": {"amount": 100, "currency": "USD"}}
            await client.post("/v1/products", headers=seller, json={**product, "weight_g": 9})

            async def create(_: int) -> None:
                started = time.perf_counter()
                (await client.post("/v1/orders", headers=buyer, json=order)).raise_for_status()
                latencies.append(time.perf_counter() - started)

            per_second = await rate(create, 20_000, 16)
    finally:
        process.terminate()
        process.wait(20)
    latencies.sort()
    return {
        "create_order_per_s": per_second,
        "create_order_p50_ms": 1000 * latencies[len(latencies) // 2],
        "create_order_p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
    }


# --- projections -------------------------------------------------------------------------


async def projection_figures(server_url: str, journeys: int = 1000) -> dict[str, float]:
    """The analytics projection applying hand-built journeys through its consumer runner (inbox
    included, the broker left out), then a rebuild of every order view from its event log."""
    from services.analytics.app import create_analytics_app
    from services.analytics.service import AnalyticsService
    from shared.clock import SimulatedClock
    from tests.stories import T0, journey

    url = await fresh_db(server_url, "analytics")
    settings = Settings(DATABASE_URL=url, log_level="WARNING")
    app = create_analytics_app(settings, SimulatedClock(start=T0))
    service: AnalyticsService = app.state.analytics_service
    runner = service.runner
    assert runner is not None
    from shared.consumer import Message

    envelopes = [e for _ in range(journeys) for e in journey().envelopes]
    messages = [
        Message("bench", 0, n, str(e.order_id), e.model_dump_json())
        for n, e in enumerate(envelopes)
    ]
    gc.freeze()  # as a service does once started (ServiceRuntime.start)
    started = time.perf_counter()
    applied = 0
    for n in range(0, len(messages), 200):  # as the consumer polls: up to 200 records a batch
        if time.perf_counter() - started > 4 * MAX_SECONDS:
            break
        await runner.process_batch(messages[n : n + 200])
        applied += len(messages[n : n + 200])
    apply_rate = applied / (time.perf_counter() - started)
    from services.analytics import read_model
    from services.analytics.service import REBUILD_CHUNK

    async with service.runtime.db.connect() as conn:
        order_ids = await read_model.order_ids(conn)
    started = time.perf_counter()
    for n in range(0, len(order_ids), REBUILD_CHUNK):  # as a rebuild does
        async with service.runtime.db.transaction() as conn:
            await service.refresh(conn, order_ids[n : n + REBUILD_CHUNK], generation=2)
    rebuild_rate = applied / (time.perf_counter() - started)
    await service.runtime.db.close()
    return {"projection_apply_per_s": apply_rate, "rebuild_events_per_s": rebuild_rate}


def median_and_spread(runs: list[dict[str, float]]) -> dict[str, dict[str, Any]]:
    keys = runs[0].keys()
    return {
        k: {
            "median": statistics.median(r[k] for r in runs),
            "min": min(r[k] for r in runs),
            "max": max(r[k] for r in runs),
            "runs": [r[k] for r in runs],
        }
        for k in keys
    }
