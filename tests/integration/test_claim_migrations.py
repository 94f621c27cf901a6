"""Upgrading a database with history: tracking numbers and payment transactions already used
are claimed by the first parcel shipped / order paid with them, so the new uniqueness holds
for what came before too."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg

from shared import embedded
from shared.migrations import upgrade

_EVENT = """
    INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version,
                        occurred_at, payload)
    VALUES ($1, $2, 1, $3, 1, now(), $4::jsonb)
"""


async def _upgraded_with(infra, service: str, before: str, events: list[tuple[str, dict]]) -> str:  # type: ignore[no-untyped-def]
    name = f"sf_claims_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(embedded.database_url(infra.server_url, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = embedded.database_url(infra.server_url, name)
    await asyncio.to_thread(upgrade, service, url, before)
    conn = await asyncpg.connect(url)
    try:
        for event_type, payload in events:
            stream = f"s/{uuid.uuid4()}"
            await conn.execute(_EVENT, uuid.uuid4(), stream, event_type, json.dumps(payload))
    finally:
        await conn.close()
    await asyncio.to_thread(upgrade, service, url)
    return url


async def _rows(url: str, query: str) -> list[tuple]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch(query)]
    finally:
        await conn.close()


async def test_shipped_parcels_claim_their_tracking_numbers_first_shipped_first(infra) -> None:
    first, copy, other_carrier = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def ready(package_id: uuid.UUID, carrier: str) -> tuple[str, dict]:
        return "ReadyToShip", {
            "package_id": str(package_id),
            "carrier": carrier,
            "tracking_number": "812345678901",
        }

    url = await _upgraded_with(
        infra,
        "fulfillment",
        "0008",
        [ready(first, "JNT"), ready(copy, "JNT"), ready(other_carrier, "GHN")],
    )
    claims = await _rows(
        url, "SELECT carrier, tracking_number, package_id FROM tracking_claims ORDER BY carrier"
    )
    assert claims == [("GHN", "812345678901", other_carrier), ("JNT", "812345678901", first)]


async def test_paid_orders_claim_their_transactions_first_paid_first(infra) -> None:
    first, second, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def paid(order_id: uuid.UUID, transaction_id: str) -> tuple[str, dict]:
        return "OrderPaid", {"order_id": str(order_id), "transaction_id": transaction_id}

    url = await _upgraded_with(
        infra,
        "order",
        "0004",
        [paid(first, "支付-1"), paid(second, "支付-1"), paid(other, "支付-2")],
    )
    claims = await _rows(
        url, "SELECT transaction_id, order_id FROM payment_transactions ORDER BY transaction_id"
    )
    assert claims == [("支付-1", first), ("支付-2", other)]
