"""An order's fulfillment: the order as fulfillment sees it and its packages, from the
request through the stock shortage or the plan (automatic, or the seller's own split),
combined parcels, exchanges' replacement packages, to cancellation. Stream
`fulfillment/<order id>`. Rules: DOMAIN.md section 2.

Which units go in which package is `packing.py`. Some commands are decided in a module of
their concept: on one package in `package.py` (overdue, collection, carrier reports) and
`shipping.py` (ready to ship), combined parcels in `combining.py`, an exchange's
replacement goods in `replacement.py`; every event is folded here, in `evolve`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from services.fulfillment.domain.combining import (
    Combine,
    Uncombine,
    combine,
    combined_package,
    uncombine,
)
from services.fulfillment.domain.package import (
    MarkDispatchOverdue,
    Package,
    RecordCollection,
    RecordSelfDelivery,
    RecordTracking,
    carrier_report,
    collected,
    dispatch_overdue,
    self_delivered,
)
from services.fulfillment.domain.packing import (
    ManualPackage,
    SplitRules,
    manual_packages,
    planned_packages,
)
from services.fulfillment.domain.replacement import PlanReplacement, Replacement, plan_replacement
from services.fulfillment.domain.shipping import ShipPackage, parcel_contents, ready_to_ship
from shared.aggregate import Aggregate, DomainError, NotFound
from shared.events import EventPayload
from shared.events.common import Address
from shared.events.fulfillment import (
    FULFILLMENT_STREAM,
    STATUS_BY_EVENT,
    Allocation,
    Delivered,
    DispatchDeadlineChanged,
    DispatchOverdue,
    FulfillmentRequested,
    OrderLine,
    PackagesCancelled,
    PackagesCombined,
    PackagesPlanned,
    PackagesUncombined,
    PlannedPackage,
    ReadyToShip,
    ReplacementAwaitingStock,
    ReplacementPlanned,
    ShippingAddressUpdated,
    Shortfall,
    StockShortage,
    TrackingEvent,
)
from shared.money import Money

FulfillmentStatus = Literal["NEW", "AWAITING_STOCK", "PLANNED", "CANCELLED"]


@dataclass(frozen=True)
class Fulfillment:
    order_id: uuid.UUID | None = None
    seller_id: str = ""
    buyer_id: str = ""
    lines: tuple[OrderLine, ...] = ()
    shipping_address: Address | None = None
    currency: str = ""
    placed_at: datetime | None = None
    dispatch_deadline: datetime | None = None
    deliver_by: datetime | None = None
    shipping_option: str | None = None  # the buyer's, at checkout (None: placed before it came)
    status: FulfillmentStatus = "NEW"
    shortfalls: tuple[Shortfall, ...] = ()
    packages: Mapping[uuid.UUID, Package] = field(default_factory=dict)
    plans: int = 0
    replacements: Mapping[uuid.UUID, Replacement] = field(default_factory=dict)
    # what the buyer paid, as the order recorded it (the invoice's figures)
    subtotal: Money | None = None
    shipping_fee: Money | None = None
    total: Money | None = None
    paid_at: datetime | None = None

    @property
    def exists(self) -> bool:
        return self.order_id is not None


@dataclass(frozen=True)
class RequestFulfillment:
    """A placed order reaches fulfillment (`event` is what it records, from OrderPlaced)."""

    event: FulfillmentRequested
    now: datetime


@dataclass(frozen=True)
class RecordShortage:
    shortfalls: Sequence[Shortfall]
    now: datetime


@dataclass(frozen=True)
class PlanPackages:
    """Plan the packages of the units reserved for the order, by the seller's split rules."""

    allocations: Sequence[Allocation]
    rules: SplitRules
    now: datetime


@dataclass(frozen=True)
class CancelFulfillment:
    reason: str
    now: datetime


@dataclass(frozen=True)
class SplitManually:
    """The seller's own split of the packages not yet ready to ship."""

    packages: Sequence[ManualPackage]
    now: datetime


@dataclass(frozen=True)
class SetDispatchDeadline:
    """The order's dispatch deadline moved (the order service decides it)."""

    dispatch_deadline: datetime
    reason: str
    now: datetime


@dataclass(frozen=True)
class UpdateShippingAddress:
    shipping_address: Address
    now: datetime


Command = (
    RequestFulfillment
    | RecordShortage
    | PlanPackages
    | PlanReplacement
    | CancelFulfillment
    | SplitManually
    | Combine
    | Uncombine
    | SetDispatchDeadline
    | UpdateShippingAddress
    | ShipPackage
    | MarkDispatchOverdue
    | RecordCollection
    | RecordTracking
    | RecordSelfDelivery
)


def decide(state: Fulfillment, command: Command) -> list[EventPayload]:
    if isinstance(command, RequestFulfillment):
        return [] if state.exists else [command.event]
    if state.order_id is None or state.dispatch_deadline is None:  # both set once requested
        raise NotFound("order-not-found", "no fulfillment for this order")
    order_id = state.order_id
    match command:
        case RecordShortage():
            if state.status not in ("NEW", "AWAITING_STOCK"):
                return []
            if state.status == "AWAITING_STOCK" and tuple(command.shortfalls) == state.shortfalls:
                return []
            shortfalls = list(command.shortfalls)
            return [
                StockShortage(seller_id=state.seller_id, order_id=order_id, shortfalls=shortfalls)
            ]
        case PlanPackages():
            if state.status not in ("NEW", "AWAITING_STOCK"):
                return []
            packages = planned_packages(
                order_id,
                state.plans + 1,
                state.lines,
                command.allocations,
                command.rules,
                state.dispatch_deadline,
            )
            return [_planned(state, order_id, packages)]
        case SplitManually():
            if state.status != "PLANNED":
                raise DomainError("not-splittable", f"the order's fulfillment is {state.status}")
            open_packages = _open(state)
            if not open_packages:
                raise DomainError(
                    "nothing-to-split", "every package is ready to ship, combined or cancelled"
                )
            packages = manual_packages(
                order_id,
                state.plans + 1,
                state.lines,
                open_packages,
                command.packages,
                state.dispatch_deadline,
            )
            replaced = [p.package_id for p in open_packages]
            return [_planned(state, order_id, packages, replaced=replaced, manual=True)]
        case PlanReplacement():
            return plan_replacement(
                command,
                state.replacements.get(command.request_id),
                order_id=order_id,
                seller_id=state.seller_id,
                buyer_id=state.buyer_id,
                lines=state.lines,
            )
        case CancelFulfillment():
            if state.status == "CANCELLED":
                return []
            waiting = [p.package_id for p in state.packages.values() if p.status == "PLANNED"]
            return [
                PackagesCancelled(order_id=order_id, package_ids=waiting, reason=command.reason)
            ]
        case Combine():
            return combine(order_id, state.packages, command)
        case Uncombine():
            return uncombine(order_id, state.packages, command)
        case SetDispatchDeadline():
            waiting = [p.package_id for p in state.packages.values() if p.status == "PLANNED"]
            if state.status == "CANCELLED" or command.dispatch_deadline == state.dispatch_deadline:
                return []
            return [
                DispatchDeadlineChanged(
                    order_id=order_id,
                    package_ids=waiting,
                    dispatch_deadline=command.dispatch_deadline,
                    reason=command.reason,
                )
            ]
        case UpdateShippingAddress():
            if command.shipping_address == state.shipping_address:
                return []
            if any(p.status not in ("PLANNED", "CANCELLED") for p in state.packages.values()):
                raise DomainError("address-locked", "a package is ready to ship already")
            address = command.shipping_address
            return [ShippingAddressUpdated(order_id=order_id, shipping_address=address)]
        case ShipPackage():
            package = state.packages.get(command.package_id)
            if package is None:
                raise NotFound("package-not-found", "no such package")
            if state.status == "CANCELLED" or package.status != "PLANNED":
                raise DomainError("not-shippable", f"the package is {package.status}, not PLANNED")
            assert state.shipping_address is not None
            contents = command.parcel or parcel_contents([(package, state.lines)])
            ready = ready_to_ship(
                order_id,
                state.seller_id,
                state.shipping_address,
                state.currency,
                package,
                command,
                contents,
                state.shipping_option,
            )
            return [ready]
        case MarkDispatchOverdue():
            return dispatch_overdue(order_id, state.packages.get(command.package_id), command)
        case RecordCollection():
            return collected(order_id, state.packages.get(command.package_id), command)
        case RecordTracking():
            return carrier_report(order_id, state.packages.get(command.package_id), command)
        case RecordSelfDelivery():
            return self_delivered(order_id, state.packages.get(command.package_id), command)


def _open(state: Fulfillment) -> list[Package]:
    """The packages a manual split may change: planned, not combined, not a replacement."""
    return [
        p
        for p in state.packages.values()
        if p.status == "PLANNED" and not p.combined_orders and p.replacement_for is None
    ]


def _planned(
    state: Fulfillment,
    order_id: uuid.UUID,
    packages: list[PlannedPackage],
    replaced: list[uuid.UUID] | None = None,
    manual: bool = False,
) -> PackagesPlanned:
    return PackagesPlanned(
        order_id=order_id,
        seller_id=state.seller_id,
        buyer_id=state.buyer_id,
        packages=packages,
        replaced=replaced or [],
        manual=manual,
    )


def _package(planned: PlannedPackage, replacement_for: uuid.UUID | None = None) -> Package:
    return Package(
        planned.package_id,
        planned.warehouse_id,
        tuple(planned.items),
        planned.weight_g,
        planned.dispatch_deadline,
        volume_cm3=planned.volume_cm3,
        replacement_for=replacement_for,
    )


def evolve(state: Fulfillment, event: EventPayload) -> Fulfillment:
    match event:
        case FulfillmentRequested():
            return Fulfillment(
                order_id=event.order_id,
                seller_id=event.seller_id,
                buyer_id=event.buyer_id,
                lines=tuple(event.lines),
                shipping_address=event.shipping_address,
                currency=event.currency,
                placed_at=event.placed_at,
                dispatch_deadline=event.dispatch_deadline,
                deliver_by=event.deliver_by,
                shipping_option=event.shipping_option,
                subtotal=event.subtotal,
                shipping_fee=event.shipping_fee,
                total=event.total,
                paid_at=event.paid_at,
            )
        case StockShortage():
            return replace(state, status="AWAITING_STOCK", shortfalls=tuple(event.shortfalls))
        case ReplacementAwaitingStock():
            waiting = Replacement(tuple(event.items), "AWAITING_STOCK")
            return replace(state, replacements={**state.replacements, event.request_id: waiting})
        case ReplacementPlanned():
            planned = Replacement(tuple(i for p in event.packages for i in p.items), "PLANNED")
            added = {p.package_id: _package(p, event.request_id) for p in event.packages}
            return replace(
                state,
                packages={**state.packages, **added},
                replacements={**state.replacements, event.request_id: planned},
            )
        case PackagesPlanned():
            kept = {k: v for k, v in state.packages.items() if k not in event.replaced}
            added = {p.package_id: _package(p) for p in event.packages}
            return replace(
                state,
                status="PLANNED",
                packages={**kept, **added},
                plans=state.plans + 1,
                shortfalls=(),
            )
        case ReadyToShip():
            ready = replace(
                state.packages[event.package_id],
                status=STATUS_BY_EVENT[ReadyToShip],
                handover=event.handover,
                channel=event.channel,
                carrier=event.carrier,
                tracking_number=event.tracking_number,
                tracking_valid=event.tracking_valid,
                shipping_fee=event.shipping_fee,
                label=event.label,
                ready_at=event.ready_at,
                estimated_delivery_date=event.estimated_delivery_date,
            )
            return replace(state, packages={**state.packages, event.package_id: ready})
        case DispatchOverdue():
            overdue = replace(state.packages[event.package_id], overdue=True)
            return replace(state, packages={**state.packages, event.package_id: overdue})
        case DispatchDeadlineChanged():
            packages = {
                k: replace(v, dispatch_deadline=event.dispatch_deadline, overdue=False)
                if k in event.package_ids
                else v
                for k, v in state.packages.items()
            }
            return replace(state, dispatch_deadline=event.dispatch_deadline, packages=packages)
        case ShippingAddressUpdated():
            return replace(state, shipping_address=event.shipping_address)
        case TrackingEvent():
            tracked = replace(
                state.packages[event.package_id],
                status=STATUS_BY_EVENT[type(event)],
                tracked_at=event.occurred_at,
            )
            if isinstance(event, Delivered):
                tracked = replace(tracked, delivery_proof=event.proof)
            return replace(state, packages={**state.packages, event.package_id: tracked})
        case PackagesCombined():
            combined = combined_package(event, [state.packages[i] for i in event.package_ids])
            packages = {
                k: replace(v, status="COMBINED", combined_into=event.combined_package_id)
                if k in event.package_ids
                else v
                for k, v in state.packages.items()
            }
            return replace(state, packages={**packages, combined.package_id: combined})
        case PackagesUncombined():
            packages = {
                k: replace(v, status="PLANNED", combined_into=None) if k in event.package_ids else v
                for k, v in state.packages.items()
                if k != event.combined_package_id
            }
            return replace(state, packages=packages)
        case PackagesCancelled():
            packages = {
                k: replace(v, status="CANCELLED") if k in event.package_ids else v
                for k, v in state.packages.items()
            }
            return replace(state, status="CANCELLED", packages=packages)
    return state


FULFILLMENT = Aggregate(
    name=FULFILLMENT_STREAM,
    initial=Fulfillment(),
    decide=decide,
    evolve=evolve,
    keys=lambda f: (f.order_id, f.seller_id or None),
)
