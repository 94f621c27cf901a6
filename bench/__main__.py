"""`make bench`: throughput of the hot paths on the embedded stack, as rates and as ratios to
a baseline measured in the same run (so the machine's speed and noise cancel out).

Every loop is bounded in count and in time. Nothing here asserts a timing.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from rich.console import Console
from rich.table import Table

from shared import embedded
from shared.auth import mint_token
from shared.db import Database
from shared.events.order import OrderCompleted
from shared.eventstore import EventStore
from shared.kafka import ensure_topics
from shared.migrations import upgrade
from shared.outbox import OutboxRelay
from shared.settings import Settings

console = Console()
NOW = datetime(2026, 11, 1, tzinfo=UTC)
MAX_SECONDS = 8.0


async def rate(label: str, op: Callable[[int], Awaitable[None]], count: int, workers: int) -> float:
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
    per_second = done / (time.perf_counter() - started)
    console.print(f"  {label}: {done} in {time.perf_counter() - started:.2f}s")
    return per_second


def spawn_order_service(database_url: str, bootstrap: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SHOPFLOW_ORDER_DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "SHOPFLOW_ORDER_PORT": str(port),
        "SHOPFLOW_KAFKA_TOPIC_PREFIX": "http.",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "services.order"], env=env, stdout=subprocess.DEVNULL
    )


async def http_rates(base: str, settings: Settings) -> dict[str, float]:
    secret = settings.effective_jwt_secret
    seller = {"Authorization": "Bearer " + mint_token(secret, sub="shop-1", role="seller")}
    buyer = {"Authorization": "Bearer " + mint_token(secret, sub="buyer-1", role="buyer")}
    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        product = {"sku": "TEE-1", "title": "T", "price": {"amount": 100, "currency": "USD"}}
        (await client.post("/v1/products", headers=seller, json={**product, "weight_g": 9}))
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

        async def healthz(i: int) -> None:
            (await client.get("/healthz")).raise_for_status()

        async def create(i: int) -> None:
            (await client.post("/v1/orders", headers=buyer, json=order)).raise_for_status()

        return {
            "GET /healthz /s": await rate("healthz", healthz, 20_000, 16),
            "POST /v1/orders /s": await rate("create order", create, 10_000, 16),
        }


async def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="sf-bench-"))
    tansu = None
    try:
        server = embedded.start_postgres(workdir / "pg")
        port = embedded.free_port()
        tansu = embedded.start_tansu(port, workdir / "tansu.log")
        await embedded.create_database(server, "bench_order")
        url = embedded.database_url(server, "bench_order")
        await asyncio.to_thread(upgrade, "order", url)
        settings = Settings(DATABASE_URL=url, KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{port}")  # type: ignore[call-arg]
        await ensure_topics(settings, [settings.topic("order")])
        results: dict[str, float] = {}
        db = Database(url, pool_size=8)
        store = EventStore("order", settings.topic("order"))
        raw = await asyncpg.create_pool(
            embedded.database_url(server, "bench_order"), min_size=8, max_size=8
        )
        await raw.execute("CREATE TABLE baseline (id uuid PRIMARY KEY, body jsonb)")

        console.print("[bold]database[/]")

        async def baseline_insert(i: int) -> None:
            await raw.execute("INSERT INTO baseline VALUES ($1, '{}')", uuid.uuid4())

        async def append(i: int) -> None:
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

        results["raw asyncpg insert /s"] = await rate("raw insert", baseline_insert, 20_000, 8)
        results["event append (+outbox) /s"] = await rate("append", append, 20_000, 8)

        console.print("[bold]outbox relay[/]")
        relay = OutboxRelay(db, settings, "order", {settings.topic("order")})
        await relay.start()
        started, published = time.perf_counter(), 0
        while time.perf_counter() - started < MAX_SECONDS:
            n = await relay.relay_once()
            if not n:
                break
            published += n
        results["relay published /s"] = published / (time.perf_counter() - started)
        await relay.stop()
        await db.close()
        await raw.close()

        console.print("[bold]HTTP (the order service as its own process, one uvicorn worker)[/]")
        await embedded.create_database(server, "bench_order_http")
        app_url = embedded.database_url(server, "bench_order_http")
        await asyncio.to_thread(upgrade, "order", app_url)
        http_port = embedded.free_port()
        service = spawn_order_service(app_url, f"127.0.0.1:{port}", http_port)
        try:
            embedded.wait_for_port("127.0.0.1", http_port, service)  # type: ignore[arg-type]
            results.update(await http_rates(f"http://127.0.0.1:{http_port}", settings))
        finally:
            service.terminate()
            service.wait(20)

        table = Table(title="shopflow benchmarks (this machine, this run)")
        table.add_column("measure")
        table.add_column("rate", justify="right")
        for name, value in results.items():
            table.add_row(name, f"{value:,.0f}")
        table.add_row(
            "append / raw insert",
            f"{results['event append (+outbox) /s'] / results['raw asyncpg insert /s']:.2f}",
        )
        table.add_row(
            "create order / healthz",
            f"{results['POST /v1/orders /s'] / results['GET /healthz /s']:.2f}",
        )
        console.print(table)
    finally:
        if tansu is not None:
            tansu.terminate()
            tansu.wait(10)
        embedded.stop_postgres(workdir / "pg")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
