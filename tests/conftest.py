"""Test infrastructure: the real PostgreSQL and the real broker.

By default one embedded PostgreSQL server and one Tansu broker are started for the whole
session (in a temporary folder, on a free port). With DATABASE_URL and
KAFKA_BOOTSTRAP_SERVERS set, the tests use those instead. Every test gets its own database,
cloned from a migrated template, and its own topic namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection

from shared import embedded
from shared.clock import SimulatedClock
from shared.db import Database
from shared.migrations import upgrade
from shared.serve import BackgroundServer, serve_in_background
from shared.settings import DEV_CARRIER_SECRET, Settings


@dataclass
class Transactions:
    opened: int = 0


def count_transactions(db: Database, monkeypatch: pytest.MonkeyPatch) -> Transactions:
    """Count the transactions `db` opens from now on (`.opened`)."""
    count = Transactions()
    real = db.transaction

    @contextlib.asynccontextmanager
    async def counted() -> AsyncIterator[AsyncConnection]:
        count.opened += 1
        async with real() as conn:
            yield conn

    monkeypatch.setattr(db, "transaction", counted)
    return count


@dataclass(frozen=True)
class Infra:
    server_url: str
    bootstrap: str


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    external_db = os.environ.get("DATABASE_URL")
    external_kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    workdir = Path(tempfile.mkdtemp(prefix="sf-"))
    tansu: subprocess.Popen[bytes] | None = None
    pgdata = workdir / "pg"
    try:
        server_url = external_db or embedded.start_postgres(pgdata)
        if external_kafka:
            bootstrap = external_kafka
        else:
            port = embedded.free_port()
            tansu = embedded.start_tansu(port, workdir / "tansu.log")
            bootstrap = f"127.0.0.1:{port}"
        yield Infra(server_url, bootstrap)
    finally:
        if tansu is not None:
            tansu.terminate()
            tansu.wait(10)
        if not external_db:
            embedded.stop_postgres(pgdata)
        shutil.rmtree(workdir, ignore_errors=True)


_templates: dict[str, str] = {}


async def _admin(infra: Infra) -> asyncpg.Connection:
    return await asyncpg.connect(embedded.database_url(infra.server_url, "postgres"))


async def fresh_database(infra: Infra, service: str) -> str:
    """A new database of `service`, migrated (cloned from a template migrated once)."""
    if service not in _templates:
        template = f"sf_template_{service}_{uuid.uuid4().hex[:6]}"
        conn = await _admin(infra)
        try:
            await conn.execute(f'CREATE DATABASE "{template}"')
        finally:
            await conn.close()
        url = embedded.database_url(infra.server_url, template)
        await asyncio.to_thread(upgrade, service, url)
        _templates[service] = template
    name = f"sf_test_{uuid.uuid4().hex[:10]}"
    conn = await _admin(infra)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_templates[service]}"')
    finally:
        await conn.close()
    return embedded.database_url(infra.server_url, name)


TEST_CARRIERS = ("SPX", "GHN", "JNT", "VNPOST", "POST", "ACME", "DHL", "GHTK")


def make_settings(infra: Infra, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap,
        "kafka_topic_prefix": f"t{uuid.uuid4().hex[:8]}.",
        "environment": "test",
        # outside development a carrier needs its own secret; the tests' carriers sign with it
        "carrier_secrets": {carrier: DEV_CARRIER_SECRET for carrier in TEST_CARRIERS},
        "scheduler_interval_s": 0.05,
        "relay_poll_interval_s": 0.2,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def order_db(infra: Infra) -> str:
    return await fresh_database(infra, "order")


@pytest.fixture
async def fulfillment_db(infra: Infra) -> str:
    return await fresh_database(infra, "fulfillment")


@pytest.fixture
async def pickup_db(infra: Infra) -> str:
    return await fresh_database(infra, "pickup")


@pytest.fixture
async def aftersales_db(infra: Infra) -> str:
    return await fresh_database(infra, "aftersales")


@pytest.fixture
async def analytics_db(infra: Infra) -> str:
    return await fresh_database(infra, "analytics")


@pytest.fixture
async def serve_app() -> AsyncIterator[Callable[[FastAPI], Awaitable[BackgroundServer]]]:
    """Serve FastAPI apps with a real uvicorn on 127.0.0.1 (free port); stop them after."""
    servers: list[BackgroundServer] = []

    async def start(app: FastAPI) -> BackgroundServer:
        servers.append(await serve_in_background(app))
        return servers[-1]

    yield start
    for server in servers:
        await server.stop()


AppFactory = Callable[[Settings, SimulatedClock], FastAPI]


@pytest.fixture
async def serve_services(infra: Infra, serve_app):  # type: ignore[no-untyped-def]
    """Start services together: one simulated clock, one topic namespace, a database each
    (`(factory, database_url)` pairs). Returns their clients (closed after the test) and
    their settings, in the order given."""
    clients: list[httpx.AsyncClient] = []

    async def start(
        clock: SimulatedClock, *apps: tuple[AppFactory, str]
    ) -> tuple[list[httpx.AsyncClient], list[Settings]]:
        prefix = f"t{uuid.uuid4().hex[:8]}."
        settings = [make_settings(infra, db, kafka_topic_prefix=prefix) for _, db in apps]
        started = []
        for (factory, _), service_settings in zip(apps, settings, strict=True):
            server = await serve_app(factory(service_settings, clock))
            started.append(httpx.AsyncClient(base_url=server.base_url, timeout=20))
        clients.extend(started)
        return started, settings

    yield start
    for client in clients:
        await client.aclose()


async def eventually(check, within: float = 20.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll `check` (sync or async) until it returns a truthy value or the deadline passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    last: object = None
    while loop.time() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {within}s (last value: {last!r})")
