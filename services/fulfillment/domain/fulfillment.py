"""An order's fulfillment: the order as fulfillment sees it and its packages, from the
request through the stock shortage or the plan (automatic, or the seller's own split),
combined parcels, exchanges' replacement packages, to cancellation. Stream
`fulfillment/<order id>`. Rules: DOMAIN.md section 2.

Which units go in which package is `packing.py`; the commands on one package are
`package.py` (overdue, collection, carrier reports) and `shipping.py` (ready to ship)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from services.fulfillment.domain import package as one_package
from services.fulfillment.domain.package import (
    MarkDispatchOverdue,
    Package,
    RecordCollection,
    RecordTracking,
)
from services.fulfillment.domain.packing import (
    ManualPackage,
    SplitRules,
    manual_packages,
    planned_packages,
    replacement_packages,
)
from services.fulfillment.domain.shipping import ShipPackage, ready_to_ship
from shared.aggregate import Aggregate, DomainError, NotFound
from shared.events import EventPayload
from shared.events.common import Address
from shared.events.fulfillment import (
    FULFILLMENT_STREAM,
    STATUS_BY_EVENT,
    Allocation,
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
    SkuQuantity,
    StockShortage,
    TrackingEvent,
)

FulfillmentStatus = Literal["NEW", "AWAITING_STOCK", "PLANNED", "CANCELLED"]


@dataclass(frozen=True)
class Replacement:
    """An after-sales exchange's replacement goods."""

    items: tuple[SkuQuantity, ...]
    status: Literal["AWAITING_STOCK", "PLANNED"]


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
    status: FulfillmentStatus = "NEW"
    shortfalls: tuple[Shortfall, ...] = ()
    packages: Mapping[uuid.UUID, Package] = field(default_factory=dict)
    plans: int = 0
    replacements: Mapping[uuid.UUID, Replacement] = field(default_factory=dict)

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
class PlanReplacement:
    """Replacement goods for an exchange: planned from the stock reserved for the request
    (`allocations`), or waiting for stock (`shortfalls`)."""

    request_id: uuid.UUID
    items: Sequence[SkuQuantity]
    allocations: Sequence[Allocation]
    shortfalls: Sequence[Shortfall]
    dispatch_deadline: datetime
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
)


def decide(state: Fulfillment, command: Command) -> list[EventPayload]:
    if isinstance(command, RequestFulfillment):
        return [] if state.exists else [command.event]
    if state.order_id is None or state.dispatch_deadline is None:  # (requested: neither is)
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
            return _plan_replacement(state, order_id, command)
        case CancelFulfillment():
            if state.status == "CANCELLED":
                return []
            waiting = [p.package_id for p in state.packages.values() if p.status == "PLANNED"]
            return [
                PackagesCancelled(order_id=order_id, package_ids=waiting, reason=command.reason)
            ]
        case Combine():
            for package_id in command.package_ids:
                package = state.packages.get(package_id)
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
        case Uncombine():
            combined = state.packages.get(command.combined_package_id)
            if combined is None or not combined.combined_orders:
                raise NotFound("package-not-found", "no such combined package")
            if combined.status != "PLANNED":
                raise DomainError("not-uncombinable", f"the package is {combined.status}")
            originals = [
                p.package_id
                for p in state.packages.values()
                if p.combined_into == command.combined_package_id
            ]
            return [
                PackagesUncombined(
                    order_id=order_id,
                    combined_package_id=command.combined_package_id,
                    package_ids=originals,
                )
            ]
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
            ready = ready_to_ship(
                order_id, state.seller_id, state.shipping_address, state.currency, package, command
            )
            return [ready]
        case MarkDispatchOverdue():
            return one_package.overdue(order_id, state.packages.get(command.package_id), command)
        case RecordCollection():
            package = state.packages.get(command.package_id)
            return one_package.collection(order_id, package, command)
        case RecordTracking():
            package = state.packages.get(command.package_id)
            return one_package.carrier_report(order_id, package, command)


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


def _plan_replacement(
    state: Fulfillment, order_id: uuid.UUID, command: PlanReplacement
) -> list[EventPayload]:
    known = state.replacements.get(command.request_id)
    if known is not None and known.status == "PLANNED":
        return []
    if not command.allocations:
        if known is not None:
            return []  # still waiting for stock
        return [
            ReplacementAwaitingStock(
                order_id=order_id,
                seller_id=state.seller_id,
                request_id=command.request_id,
                items=list(command.items),
                shortfalls=list(command.shortfalls),
            )
        ]
    packages = replacement_packages(
        command.request_id, state.lines, command.allocations, command.dispatch_deadline
    )
    return [
        ReplacementPlanned(
            order_id=order_id,
            seller_id=state.seller_id,
            buyer_id=state.buyer_id,
            request_id=command.request_id,
            packages=packages,
        )
    ]


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
            return replace(state, packages={**state.packages, event.package_id: tracked})
        case PackagesCombined():
            originals = [state.packages[i] for i in event.package_ids]
            items: dict[str, int] = defaultdict(int)
            for original in originals:
                for item in original.items:
                    items[item.sku] += item.quantity
            combined = Package(
                package_id=event.combined_package_id,
                warehouse_id=originals[0].warehouse_id,
                items=tuple(SkuQuantity(sku=s, quantity=q) for s, q in sorted(items.items())),
                weight_g=sum(p.weight_g for p in originals),
                dispatch_deadline=min(p.dispatch_deadline for p in originals),
                volume_cm3=sum(p.volume_cm3 for p in originals),
                combined_orders=tuple(event.order_ids),
            )
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
