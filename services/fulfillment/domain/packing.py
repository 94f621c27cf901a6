"""Which units travel in which package, pure: the seller's automatic split rules (bin
packing), the seller's own manual split, and an exchange's replacement packages. Packages
never mix warehouses."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from services.fulfillment.domain.allocation import Slot
from services.fulfillment.domain.package import Package
from shared.aggregate import InvalidCommand
from shared.events.fulfillment import Allocation, OrderLine, PlannedPackage, SkuQuantity


@dataclass(frozen=True)
class SplitRules:
    """The seller's automatic split rules; packages never mix warehouses."""

    max_weight_g: int | None = None
    max_items: int | None = None
    ship_alone_skus: frozenset[str] = frozenset()


@dataclass
class _Box:
    items: dict[str, int] = field(default_factory=dict)
    weight_g: int = 0
    count: int = 0
    alone: bool = False

    def room(self, weight: int, rules: SplitRules, wanted: int) -> int:
        if self.alone:
            return 0
        fit = wanted
        if rules.max_items is not None:
            fit = min(fit, rules.max_items - self.count)
        if rules.max_weight_g is not None and weight > 0:
            fit = min(fit, (rules.max_weight_g - self.weight_g) // weight)
        return max(fit, 0)

    def add(self, sku: str, units: int, weight: int) -> None:
        self.items[sku] = self.items.get(sku, 0) + units
        self.weight_g += units * weight
        self.count += units


def split(
    lines: Sequence[tuple[str, int, int]], rules: SplitRules
) -> list[tuple[dict[str, int], int]]:
    """Pack (sku, quantity, unit weight) of one warehouse into boxes: ship-alone SKUs one
    unit a box; the rest first-fit, heaviest SKU first, within the weight and item limits.
    A unit over the limits on its own travels alone. Returns (items, weight) per box."""
    boxes: list[_Box] = []
    for sku, quantity, weight in sorted(lines, key=lambda line: (-line[2], line[0])):
        if sku in rules.ship_alone_skus:
            boxes.extend(_Box({sku: 1}, weight, 1, alone=True) for _ in range(quantity))
            continue
        remaining = quantity
        for box in boxes:
            fit = box.room(weight, rules, remaining)
            if fit:
                box.add(sku, fit, weight)
                remaining -= fit
        while remaining:
            box = _Box()
            fit = box.room(weight, rules, remaining)
            if fit == 0:  # over the limits on its own: one unit, sealed
                box.alone, fit = True, 1
            box.add(sku, fit, weight)
            boxes.append(box)
            remaining -= fit
    return [(box.items, box.weight_g) for box in boxes]


def _planned(
    package_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    items: Mapping[str, int],
    lines: Sequence[OrderLine],
    dispatch_deadline: datetime,
) -> PlannedPackage:
    """A package of `items` (sku -> units), weighed and measured by the order's lines."""
    weights = {line.sku: line.weight_g for line in lines}
    volumes = {line.sku: line.volume_cm3 for line in lines}
    return PlannedPackage(
        package_id=package_id,
        warehouse_id=warehouse_id,
        items=[SkuQuantity(sku=s, quantity=q) for s, q in sorted(items.items())],
        weight_g=sum(weights.get(s, 0) * q for s, q in items.items()),
        dispatch_deadline=dispatch_deadline,
        volume_cm3=sum(volumes.get(s, 0) * q for s, q in items.items()),
    )


def _by_warehouse(allocations: Iterable[Allocation]) -> dict[uuid.UUID, dict[str, int]]:
    units: dict[uuid.UUID, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for a in allocations:
        units[a.warehouse_id][a.sku] += a.quantity
    return units


def planned_packages(
    order_id: uuid.UUID,
    plan: int,
    lines: Sequence[OrderLine],
    allocations: Sequence[Allocation],
    rules: SplitRules,
    dispatch_deadline: datetime,
) -> list[PlannedPackage]:
    """The order's packages from its reservation, split by the seller's rules per warehouse.
    `plan` is the number of this plan of the order (its package ids derive from it)."""
    weights = {line.sku: line.weight_g for line in lines}
    by_warehouse = _by_warehouse(allocations)
    packages: list[PlannedPackage] = []
    for warehouse_id in sorted(by_warehouse, key=str):
        units = [
            (sku, quantity, weights.get(sku, 0))
            for sku, quantity in sorted(by_warehouse[warehouse_id].items())
        ]
        for items, _ in split(units, rules):
            package_id = uuid.uuid5(order_id, f"plan-{plan}-{len(packages) + 1}")
            packages.append(_planned(package_id, warehouse_id, items, lines, dispatch_deadline))
    return packages


@dataclass(frozen=True)
class ManualPackage:
    """One package of a seller's own split; its warehouse is found when not named."""

    items: Sequence[SkuQuantity]
    warehouse_id: uuid.UUID | None = None


def manual_packages(
    order_id: uuid.UUID,
    plan: int,
    lines: Sequence[OrderLine],
    open_packages: Sequence[Package],
    requested: Sequence[ManualPackage],
    dispatch_deadline: datetime,
) -> list[PlannedPackage]:
    """The seller's split of the packages not yet ready to ship (`open_packages`): it must
    add up exactly to their units, and each package must come from one warehouse."""
    pool: dict[Slot, int] = defaultdict(int)
    for package in open_packages:
        for item in package.items:
            pool[(package.warehouse_id, item.sku)] += item.quantity
    wanted: dict[str, int] = defaultdict(int)
    for manual in requested:
        for item in manual.items:
            wanted[item.sku] += item.quantity
    have: dict[str, int] = defaultdict(int)
    for (_, sku), quantity in pool.items():
        have[sku] += quantity
    if wanted != have:
        expected = ", ".join(f"{sku} x{q}" for sku, q in sorted(have.items()))
        raise InvalidCommand(
            "split-does-not-add-up",
            f"the packages must add up exactly to what is not yet ready to ship: {expected}",
        )
    warehouses = sorted({wh for wh, _ in pool}, key=str)
    planned: list[PlannedPackage] = []
    for n, manual in enumerate(requested, start=1):
        items: dict[str, int] = defaultdict(int)
        for item in manual.items:
            items[item.sku] += item.quantity
        candidates = [manual.warehouse_id] if manual.warehouse_id else warehouses
        source = next(
            (wh for wh in candidates if all(pool.get((wh, s), 0) >= q for s, q in items.items())),
            None,
        )
        if source is None:
            raise InvalidCommand(
                "split-across-warehouses",
                f"package {n} cannot be served from one warehouse; name its warehouse_id",
            )
        for sku, quantity in items.items():
            pool[(source, sku)] -= quantity
        package_id = uuid.uuid5(order_id, f"plan-{plan}-{n}")
        planned.append(_planned(package_id, source, items, lines, dispatch_deadline))
    return planned


def replacement_packages(
    request_id: uuid.UUID,
    lines: Sequence[OrderLine],
    allocations: Sequence[Allocation],
    dispatch_deadline: datetime,
) -> list[PlannedPackage]:
    """An exchange's replacement goods: one package per warehouse its reservation draws on;
    no split rules (an exchange is a few units)."""
    by_warehouse = _by_warehouse(allocations)
    return [
        _planned(
            uuid.uuid5(request_id, f"replacement-{n}"),
            warehouse_id,
            units,
            lines,
            dispatch_deadline,
        )
        for n, (warehouse_id, units) in enumerate(
            sorted(by_warehouse.items(), key=lambda kv: str(kv[0])), start=1
        )
    ]
