"""The same mechanisms against Apache Kafka and PostgreSQL started by testcontainers.

Runs only where a Docker engine answers; our machines have none, so it is skipped there.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest


def _docker_engine_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


pytestmark = [
    pytest.mark.containers,
    pytest.mark.skipif(
        not _docker_engine_available(),
        reason="no Docker engine here: the testcontainers path (Apache Kafka + PostgreSQL) "
        "runs only where one exists; the embedded stack covers the same tests",
    ),
]


async def test_relay_to_apache_kafka_and_back() -> None:
    from aiokafka import AIOKafkaConsumer
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    from shared.db import Database
    from shared.embedded import database_url
    from shared.events.order import OrderCompleted
    from shared.eventstore import EventStore
    from shared.kafka import ensure_topics
    from shared.migrations import upgrade
    from shared.relay import Relay
    from shared.settings import Settings

    with PostgresContainer("postgres:16") as pg, KafkaContainer() as kafka:
        url = database_url(pg.get_connection_url(driver=None), pg.dbname)
        await asyncio.to_thread(upgrade, "order", url)
        settings = Settings(
            DATABASE_URL=url,  # type: ignore[call-arg]
            KAFKA_BOOTSTRAP_SERVERS=kafka.get_bootstrap_server(),
            kafka_idempotence=True,
        )
        await ensure_topics(settings, [settings.topic("order")])
        db = Database(url)
        store = EventStore("order", settings.topic("order"))
        order_id = uuid.uuid4()
        async with db.transaction() as conn:
            await store.append(
                conn,
                f"order/{order_id}",
                0,
                [OrderCompleted(order_id=order_id, completed_at=datetime.now(UTC), auto=False)],
                occurred_at=datetime.now(UTC),
                order_id=order_id,
            )
        relay = Relay(db, settings, store)
        await relay.start()
        assert await relay.relay_once() == 1
        await relay.stop()
        consumer = AIOKafkaConsumer(
            settings.topic("order"),
            bootstrap_servers=settings.bootstrap_servers(),
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            record = await asyncio.wait_for(consumer.getone(), 60)
        finally:
            await consumer.stop()
        assert record.key == str(order_id).encode()
        await db.close()
