"""Combined parcels (commands of the FULFILLMENT aggregate, see `fulfillment.py`): planned
packages of this order travel in one parcel with other orders' of the same buyer, address
and warehouse (the service checks that across the orders), and are taken apart again while
the parcel is still planned."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.fulfillment.domain.package import Package
from shared.aggregate import DomainError, NotFound
from shared.events import EventPayload
from shared.events.fulfillment import PackagesCombined, PackagesUncombined, SkuQuantity


@dataclass(frozen=True)
class Combine:
    """This order's `package_ids` join a parcel shared with `order_ids` (checked across the
    orders by the service: same buyer, address and warehouse)."""

    combined_package_id: uuid.UUID
    package_ids: Sequence[uuid.UUID]
    order_ids: Sequence[uuid.UUID]
    now: datetime


@dataclass(frozen=True)
class Uncombine:
    combined_package_id: uuid.UUID
    now: datetime


def combine(
    order_id: uuid.UUID, packages: Mapping[uuid.UUID, Package], command: Combine
) -> list[EventPayload]:
    for package_id in command.package_ids:
        package = packages.get(package_id)
        if package is None:
            raise NotFound("package-not-found", f"no package {package_id}")
        if package.status != "PLANNED":
            raise DomainError(
                "not-combinable", f"package {package_id} is {package.status}, not PLANNED"
            )
        if package.replacement_for is not None:
            raise DomainError("not-combinable", "an exchange's replacement ships alone")
    return [
        PackagesCombined(
            order_id=order_id,
            combined_package_id=command.combined_package_id,
            package_ids=list(command.package_ids),
            order_ids=list(command.order_ids),
        )
    ]


def uncombine(
    order_id: uuid.UUID, packages: Mapping[uuid.UUID, Package], command: Uncombine
) -> list[EventPayload]:
    combined = packages.get(command.combined_package_id)
    if combined is None or not combined.combined_orders:
        raise NotFound("package-not-found", "no such combined package")
    if combined.status != "PLANNED":
        raise DomainError("not-uncombinable", f"the package is {combined.status}")
    originals = [
        p.package_id for p in packages.values() if p.combined_into == command.combined_package_id
    ]
    return [
        PackagesUncombined(
            order_id=order_id,
            combined_package_id=command.combined_package_id,
            package_ids=originals,
        )
    ]


def combined_package(event: PackagesCombined, originals: Sequence[Package]) -> Package:
    """The parcel the `originals` travel in: their units, weight and volume, the earliest
    dispatch deadline."""
    items: dict[str, int] = defaultdict(int)
    for original in originals:
        for item in original.items:
            items[item.sku] += item.quantity
    return Package(
        package_id=event.combined_package_id,
        warehouse_id=originals[0].warehouse_id,
        items=tuple(SkuQuantity(sku=s, quantity=q) for s, q in sorted(items.items())),
        weight_g=sum(p.weight_g for p in originals),
        dispatch_deadline=min(p.dispatch_deadline for p in originals),
        volume_cm3=sum(p.volume_cm3 for p in originals),
        combined_orders=tuple(event.order_ids),
    )
