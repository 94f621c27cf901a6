"""One package of an order's fulfillment (part of the FULFILLMENT aggregate, see
`fulfillment.py`): its state, and the commands that concern it alone once it is planned:
overdue at its dispatch deadline, collected by the first mile, moved by its carrier's
reports (or, self-delivered, by its seller's record of the delivery). Shipping it
(channel, fee, label) is `shipping.py`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from shared.aggregate import DomainError, InvalidCommand, NotFound
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
    delivery_proof: str | None = None  # the signature or photo reference given when delivered
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
    proof_required: bool = False  # the carrier is configured to require proof of delivery


@dataclass(frozen=True)
class RecordSelfDelivery:
    """The seller delivered its own SELF_DELIVERY package, with a proof reference (a
    signature or photo reference of its own)."""

    package_id: uuid.UUID
    proof: str
    delivered_at: datetime
    now: datetime


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
    if package is None or package.status != "READY_TO_SHIP" or package.tracking_number is None:
        return []  # a repeat, the carrier's own reports came first, or nobody collects it
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
    proof = (command.proof or "").strip() or None  # a blank proof is none
    if command.status == "DELIVERED" and command.proof_required and proof is None:
        raise InvalidCommand(
            "proof-required",
            f"{package.carrier} must send the recipient's signature or photo reference "
            "(proof) with DELIVERED",
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
        return [Delivered(**common, location=command.location, proof=proof)]
    return [event_type(**common, location=command.location)]


def self_delivered(
    order_id: uuid.UUID, package: Package | None, command: RecordSelfDelivery
) -> list[EventPayload]:
    """The seller's record of a SELF_DELIVERY package's delivery, once shipped; a repeat is
    a no-op. The same `Delivered` a carrier's report gives, marked as the seller's."""
    if package is None:
        raise NotFound("package-not-found", "no such package")
    if package.handover is None:  # its shipment is not arranged yet
        raise DomainError(
            "not-shipped", f"the package is {package.status}: arrange its shipment first"
        )
    if package.handover != "SELF_DELIVERY":
        raise DomainError(
            "not-self-delivery",
            "only a SELF_DELIVERY package's seller records its delivery; its carrier reports "
            "the others",
        )
    if package.status == "DELIVERED":
        return []
    if package.status != "READY_TO_SHIP":
        raise DomainError(
            "not-shipped", f"the package is {package.status}: arrange its shipment first"
        )
    if command.delivered_at > command.now or (
        package.ready_at is not None and command.delivered_at < package.ready_at
    ):
        raise InvalidCommand(
            "delivered-at-out-of-range", "delivered_at must be between shipment and now"
        )
    assert package.carrier is not None
    return [
        Delivered(
            order_id=order_id,
            package_id=package.package_id,
            tracking_number=None,
            carrier=package.carrier,
            occurred_at=command.delivered_at,
            proof=command.proof,
            recorded_by="SELLER",
        )
    ]
