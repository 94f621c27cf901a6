"""One package of an order's fulfillment (part of the FULFILLMENT aggregate, see
`fulfillment.py`): its state, and the commands that concern it alone once it is planned:
overdue at its dispatch deadline, collected by the first mile, moved by its carrier's
reports. Shipping it (channel, fee, label) is `shipping.py`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from shared.aggregate import InvalidCommand, NotFound
from shared.events import EventPayload
from shared.events.fulfillment import (
    CARRIER_STATUSES,
    EVENT_BY_CARRIER_STATUS,
    CarrierStatus,
    Delivered,
    DispatchOverdue,
    Handover,
    Label,
    PackagePickedUp,
    PackageStatus,
    SkuQuantity,
    TrackingAnomalyRecorded,
)
from shared.money import Money


@dataclass(frozen=True)
class Package:
    package_id: uuid.UUID
    warehouse_id: uuid.UUID
    items: tuple[SkuQuantity, ...]
    weight_g: int
    dispatch_deadline: datetime
    status: PackageStatus = "PLANNED"
    volume_cm3: int = 0
    handover: Handover | None = None
    channel: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_valid: bool | None = None
    shipping_fee: Money | None = None
    label: Label | None = None
    ready_at: datetime | None = None
    estimated_delivery_date: date | None = None
    overdue: bool = False
    tracked_at: datetime | None = None
    combined_into: uuid.UUID | None = None
    combined_orders: tuple[uuid.UUID, ...] = ()
    replacement_for: uuid.UUID | None = None  # the exchange request (its own reservation)


@dataclass(frozen=True)
class MarkDispatchOverdue:
    package_id: uuid.UUID
    now: datetime


@dataclass(frozen=True)
class RecordCollection:
    """The pickup service says the first mile has the package."""

    package_id: uuid.UUID
    via: Literal["PICKUP", "DROP_OFF"]
    occurred_at: datetime
    now: datetime


@dataclass(frozen=True)
class RecordTracking:
    """A carrier's status report for one of the order's packages."""

    package_id: uuid.UUID
    status: CarrierStatus
    occurred_at: datetime
    now: datetime
    location: str | None = None
    proof: str | None = None


_ANY: frozenset[CarrierStatus] = frozenset(CARRIER_STATUSES)
# Which carrier status may follow which package status (none follows the others).
NEXT_STATUSES: Mapping[PackageStatus, frozenset[CarrierStatus]] = {
    "READY_TO_SHIP": _ANY - {"DELIVERY_FAILED", "DELIVERED"},
    "PICKED_UP": _ANY - {"DELIVERY_FAILED"},
    "IN_TRANSIT": _ANY,
    "OUT_FOR_DELIVERY": _ANY,
    "DELIVERY_FAILED": _ANY,
    "DAMAGED": _ANY - {"DELIVERY_FAILED", "DAMAGED"},
}


def dispatch_overdue(
    order_id: uuid.UUID, package: Package | None, command: MarkDispatchOverdue
) -> list[EventPayload]:
    """A package still planned at its dispatch deadline is overdue, once."""
    if (
        package is None
        or package.status != "PLANNED"
        or package.overdue
        or command.now < package.dispatch_deadline
    ):
        return []
    return [
        DispatchOverdue(
            order_id=order_id,
            package_id=package.package_id,
            dispatch_deadline=package.dispatch_deadline,
            detected_at=command.now,
        )
    ]


def collected(
    order_id: uuid.UUID, package: Package | None, command: RecordCollection
) -> list[EventPayload]:
    if package is None or package.status != "READY_TO_SHIP":
        return []  # a repeat, or the carrier's own reports came first
    assert package.tracking_number is not None and package.carrier is not None
    return [
        PackagePickedUp(
            order_id=order_id,
            package_id=package.package_id,
            tracking_number=package.tracking_number,
            carrier=package.carrier,
            occurred_at=command.occurred_at,
            via=command.via,
        )
    ]


def carrier_report(
    order_id: uuid.UUID, package: Package | None, command: RecordTracking
) -> list[EventPayload]:
    """Apply a carrier's report: a repeat or an older report is a no-op; one that cannot
    follow the current status is recorded for operators and not applied."""
    if package is None or package.tracking_number is None or package.carrier is None:
        raise NotFound("package-not-found", "no such package")
    if command.status not in EVENT_BY_CARRIER_STATUS:
        raise InvalidCommand(
            "unknown-status", f"status must be one of {', '.join(CARRIER_STATUSES)}"
        )
    stale = package.tracked_at is not None and command.occurred_at <= package.tracked_at
    if command.status == package.status or stale:
        return []
    common = {
        "order_id": order_id,
        "package_id": package.package_id,
        "tracking_number": package.tracking_number,
        "carrier": package.carrier,
        "occurred_at": command.occurred_at,
    }
    if command.status not in NEXT_STATUSES.get(package.status, frozenset()):
        return [
            TrackingAnomalyRecorded(
                **common, current_status=package.status, reported_status=command.status
            )
        ]
    event_type = EVENT_BY_CARRIER_STATUS[command.status]
    if event_type is Delivered:
        return [Delivered(**common, location=command.location, proof=command.proof)]
    return [event_type(**common, location=command.location)]
