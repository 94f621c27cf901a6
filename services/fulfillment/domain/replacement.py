"""An after-sales exchange's replacement goods (part of the FULFILLMENT aggregate, see
`fulfillment.py`): waiting for stock, then planned once in packages of their own, reserved
against the exchange request and shipped like any other package."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.fulfillment.domain.packing import replacement_packages
from shared.events import EventPayload
from shared.events.fulfillment import (
    Allocation,
    OrderLine,
    ReplacementAwaitingStock,
    ReplacementPlanned,
    Shortfall,
    SkuQuantity,
)


@dataclass(frozen=True)
class Replacement:
    items: tuple[SkuQuantity, ...]
    status: Literal["AWAITING_STOCK", "PLANNED"]


@dataclass(frozen=True)
class PlanReplacement:
    """Replacement goods for an exchange: planned from the stock reserved for the request
    (`allocations`), or waiting for stock (`shortfalls`)."""

    request_id: uuid.UUID
    items: Sequence[SkuQuantity]
    allocations: Sequence[Allocation]
    shortfalls: Sequence[Shortfall]
    dispatch_deadline: datetime
    now: datetime


def plan_replacement(
    command: PlanReplacement,
    known: Replacement | None,
    *,
    order_id: uuid.UUID,
    seller_id: str,
    buyer_id: str,
    lines: Sequence[OrderLine],
) -> list[EventPayload]:
    """The exchange's goods wait for stock (once), or are planned (once); `known` is what
    the order knows of this exchange so far, `lines` weigh and measure its goods."""
    if known is not None and known.status == "PLANNED":
        return []
    if not command.allocations:
        if known is not None:
            return []  # still waiting for stock
        return [
            ReplacementAwaitingStock(
                order_id=order_id,
                seller_id=seller_id,
                request_id=command.request_id,
                items=list(command.items),
                shortfalls=list(command.shortfalls),
            )
        ]
    packages = replacement_packages(
        command.request_id, lines, command.allocations, command.dispatch_deadline
    )
    return [
        ReplacementPlanned(
            order_id=order_id,
            seller_id=seller_id,
            buyer_id=buyer_id,
            request_id=command.request_id,
            packages=packages,
        )
    ]
