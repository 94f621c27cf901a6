"""Which warehouses an order's units are reserved in, pure.

The strategy (stated and tested): all or nothing per order. If one warehouse can cover every
line, the order ships from it (the one with most units available, then the lowest id).
Otherwise each SKU is taken from the warehouses with most available units first. If the
seller's stock cannot cover a SKU, nothing is reserved: the shortfalls are returned instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from shared.events.fulfillment import Allocation, Shortfall, SkuQuantity

Slot = tuple[uuid.UUID, str]  # (warehouse_id, sku)


def allocate(
    lines: Sequence[SkuQuantity], available: Mapping[Slot, int]
) -> list[Allocation] | list[Shortfall]:
    """The allocation strategy of this module's docstring. Returns the allocations, or the
    shortfalls when the stock cannot cover the order."""
    warehouses = sorted({wh for wh, _ in available}, key=str)
    missing = [
        Shortfall(sku=line.sku, requested=line.quantity, available=total)
        for line in lines
        if (total := sum(max(available.get((wh, line.sku), 0), 0) for wh in warehouses))
        < line.quantity
    ]
    if missing:
        return missing
    whole = [
        wh
        for wh in warehouses
        if all(available.get((wh, line.sku), 0) >= line.quantity for line in lines)
    ]
    if whole:

        def units(wh: uuid.UUID) -> int:
            return sum(max(u, 0) for (w, _), u in available.items() if w == wh)

        best = max(whole, key=lambda wh: (units(wh), -warehouses.index(wh)))
        return [Allocation(warehouse_id=best, sku=ln.sku, quantity=ln.quantity) for ln in lines]
    allocations: list[Allocation] = []
    for line in lines:
        needed = line.quantity
        sources = sorted(warehouses, key=lambda wh: (-available.get((wh, line.sku), 0), str(wh)))
        for wh in sources:
            take = min(needed, max(available.get((wh, line.sku), 0), 0))
            if take > 0:
                allocations.append(Allocation(warehouse_id=wh, sku=line.sku, quantity=take))
                needed -= take
            if needed == 0:
                break
    return allocations


def shortfalls(lines: Sequence[SkuQuantity], available: Mapping[Slot, int]) -> list[Shortfall]:
    """What the stock lacks to cover `lines` (empty when it covers them)."""
    return [s for s in allocate(lines, available) if isinstance(s, Shortfall)]
