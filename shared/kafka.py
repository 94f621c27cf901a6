"""Broker plumbing: topics created explicitly at start-up, and the producer settings."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from shared.settings import Settings


class UnknownTopic(ValueError):
    pass


_HEADER_NAMES = ("event_type", "stream_id", "stream_version")


@dataclass(frozen=True)
class EventHeaders:
    """The Kafka headers the relay puts on every record: a consumer passes over an event it
    has no reaction for with these alone, without parsing the record's value."""

    event_type: str
    stream_id: str
    stream_version: int

    def to_kafka(self) -> list[tuple[str, bytes]]:
        return [
            ("event_type", self.event_type.encode()),
            ("stream_id", self.stream_id.encode()),
            ("stream_version", str(self.stream_version).encode()),
        ]

    @classmethod
    def from_kafka(cls, headers: Sequence[tuple[str, bytes]]) -> EventHeaders | None:
        """The record's headers, or None where a producer left them out (then the value is
        read): records published before they existed, or by someone else's producer."""
        found = {name: value for name, value in headers if name in _HEADER_NAMES}
        if len(found) < len(_HEADER_NAMES):
            return None
        try:
            return cls(
                found["event_type"].decode(),
                found["stream_id"].decode(),
                int(found["stream_version"]),
            )
        except (UnicodeDecodeError, ValueError):
            return None


async def connect_admin(settings: Settings, timeout_s: float = 30.0) -> AIOKafkaAdminClient:
    deadline = time.monotonic() + timeout_s
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers())
        try:
            await admin.start()
            return admin
        except KafkaError:
            await admin.close()
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def ensure_topics(settings: Settings, topics: list[str]) -> None:
    """Create the topics with the configured partitions. A Tansu broker creates unknown
    topics silently with its own defaults, so we never rely on that."""
    admin = await connect_admin(settings)
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(t, settings.kafka_partitions, settings.kafka_replication_factor)
                        for t in missing
                    ]
                )
    finally:
        await admin.close()


async def broker_reachable(settings: Settings, timeout_s: float = 2.0) -> bool:
    try:
        admin = await asyncio.wait_for(connect_admin(settings, timeout_s), timeout_s)
    except (KafkaError, TimeoutError, OSError):
        return False
    await admin.close()
    return True


def make_producer(settings: Settings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers(),
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        linger_ms=2,
    )
