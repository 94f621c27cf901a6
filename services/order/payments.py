"""Which order each payment transaction paid: a transaction id pays one order only."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


async def claim_transaction(
    conn: AsyncConnection, transaction_id: str, order_id: uuid.UUID
) -> bool:
    """Claim the transaction for the order, in the caller's transaction: False when it paid
    another order. A concurrent claim of the same id waits for the first to commit or roll
    back (the table's primary key), then sees it."""
    inserted = await conn.execute(
        text(
            "INSERT INTO payment_transactions (transaction_id, order_id) VALUES (:tx, :order) "
            "ON CONFLICT DO NOTHING RETURNING order_id"
        ),
        {"tx": transaction_id, "order": order_id},
    )
    if inserted.first() is not None:
        return True
    paid = await conn.execute(
        text("SELECT order_id FROM payment_transactions WHERE transaction_id = :tx"),
        {"tx": transaction_id},
    )
    return bool(paid.scalar_one_or_none() == order_id)
