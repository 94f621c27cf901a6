"""The snapshot codec of a seller's stock (`stock-v1`): its units on hand and its reservations
as JSON-friendly lists. Change `CODEC` when the encoded shape changes: snapshots of the old
shape are then ignored and the stream is folded from its start."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from services.fulfillment.domain.allocation import Slot
from shared.events.fulfillment import Allocation

CODEC = "stock-v1"

OnHand = Mapping[Slot, int]
Reservations = Mapping[uuid.UUID, tuple[Allocation, ...]]


def encode(seller_id: str, on_hand: OnHand, reservations: Reservations) -> dict[str, Any]:
    return {
        "seller_id": seller_id,
        "on_hand": [[str(wh), sku, units] for (wh, sku), units in on_hand.items()],
        "reservations": [
            [str(reservation_id), [[str(a.warehouse_id), a.sku, a.quantity] for a in allocations]]
            for reservation_id, allocations in reservations.items()
        ],
    }


def decode(
    encoded: dict[str, Any],
) -> tuple[str, dict[Slot, int], dict[uuid.UUID, tuple[Allocation, ...]]]:
    """The inverse of `encode`: (seller id, on hand, reservations). The allocations were
    valid when they were kept."""
    return (
        encoded["seller_id"],
        {(uuid.UUID(wh), sku): units for wh, sku, units in encoded["on_hand"]},
        {
            uuid.UUID(reservation_id): tuple(
                Allocation.model_construct(warehouse_id=uuid.UUID(wh), sku=sku, quantity=q)
                for wh, sku, q in allocations
            )
            for reservation_id, allocations in encoded["reservations"]
        },
    )
