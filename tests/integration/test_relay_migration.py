"""Upgrading a database that still has an outbox: the relay starts where publishing stopped."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from shared import embedded
from shared.migrations import upgrade

_EVENT = """
    INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version,
                        occurred_at, payload)
    VALUES ($1, $2, $3, 'T', 1, now(), '{}')
"""
_OUTBOX = """
    INSERT INTO outbox (event_id, topic, key, value, published_at)
    VALUES ($1, 't', 'k', '{}', CASE WHEN $2 THEN now() END)
"""


async def _database(infra) -> str:
    name = f"sf_migrate_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(embedded.database_url(infra.server_url, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return embedded.database_url(infra.server_url, name)


async def _old_store_with(infra, published: list[bool]) -> tuple[str, list[int]]:
    """A database at the revision before the change, one event per flag; an outbox row per
    event (published or not), except that the first event's row was purged already."""
    url = await _database(infra)
    await asyncio.to_thread(upgrade, "order", url, "0002")
    conn = await asyncpg.connect(url)
    try:
        positions = []
        for version, is_published in enumerate(published, start=1):
            event_id = uuid.uuid4()
            async with conn.transaction():
                await conn.execute(_EVENT, event_id, "s", version)
                if version > 1:
                    await conn.execute(_OUTBOX, event_id, is_published)
            positions.append(
                await conn.fetchval("SELECT position FROM events WHERE event_id = $1", event_id)
            )
    finally:
        await conn.close()
    await asyncio.to_thread(upgrade, "order", url)
    return url, positions


async def _checkpoint(url: str) -> int | None:
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT to_regclass('outbox')") is None
        return await conn.fetchval("SELECT position FROM relay_checkpoints WHERE relay = 'order'")
    finally:
        await conn.close()


async def test_the_relay_starts_just_before_the_first_unpublished_event(infra) -> None:
    url, positions = await _old_store_with(infra, [True, True, False, True, False])
    assert await _checkpoint(url) == positions[1]


async def test_a_fully_published_outbox_starts_the_relay_after_the_last_event(infra) -> None:
    url, positions = await _old_store_with(infra, [True, True, True])
    assert await _checkpoint(url) == positions[-1]


async def test_a_new_database_has_no_checkpoint_and_the_relay_starts_at_the_beginning(
    infra,
) -> None:
    url = await _database(infra)
    await asyncio.to_thread(upgrade, "order", url)
    assert await _checkpoint(url) is None
