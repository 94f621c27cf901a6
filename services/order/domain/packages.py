"""What the order makes of its packages' statuses (the fulfillment service's vocabulary):
how far along its way each status is, and the order status its packages give."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeGuard

from shared.events.fulfillment import PackageStatus
from shared.events.order import OrderStatus

# How far along the way a package status is. Reports from different topics may arrive out of
# order: a status of an earlier phase than the one known is ignored.
PHASE: Mapping[PackageStatus, int] = {
    "PLANNED": 0,
    "COMBINED": 0,  # travels inside a combined parcel (its own package id)
    "UNCOMBINED": 0,  # a combined parcel taken apart again
    "READY_TO_SHIP": 1,
    "PICKED_UP": 2,
    "IN_TRANSIT": 3,
    "OUT_FOR_DELIVERY": 3,
    "DELIVERY_FAILED": 3,
    "DAMAGED": 3,
    "DELIVERED": 4,
    "LOST": 4,
    "RETURNED_TO_SENDER": 4,
    "CANCELLED": 5,
    "REPLACED": 5,
}
# Not (or no longer) a parcel of the order's own: left out of its status.
INACTIVE: frozenset[PackageStatus] = frozenset({"CANCELLED", "REPLACED", "COMBINED", "UNCOMBINED"})
# In the carrier's hands, or at the end of its way.
LEFT: frozenset[PackageStatus] = frozenset(s for s, phase in PHASE.items() if 2 <= phase <= 4)


def is_package_status(value: str) -> TypeGuard[PackageStatus]:
    return value in PHASE


def supersedes(status: PackageStatus, known: PackageStatus | None) -> bool:
    """Whether a report of `status` moves a package last known as `known`: a new package, or
    a new status that is not of an earlier phase."""
    return known is None or (status != known and PHASE[status] >= PHASE[known])


def order_status(package_statuses: Iterable[PackageStatus]) -> OrderStatus:
    """The order's status while it is being fulfilled, from what its packages do."""
    active = [s for s in package_statuses if s not in INACTIVE]
    if not active:
        return "AWAITING_SHIPMENT"
    if all(s == "DELIVERED" for s in active):
        return "DELIVERED"
    if any(s in LEFT for s in active):
        return "IN_TRANSIT"
    if all(s == "READY_TO_SHIP" for s in active):
        return "AWAITING_COLLECTION"
    if any(s == "READY_TO_SHIP" for s in active):
        return "PARTIALLY_SHIPPING"
    return "AWAITING_SHIPMENT"
