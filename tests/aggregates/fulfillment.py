"""The fulfillment service's aggregates with realistic histories (each made by deciding
commands on the state folded so far) and the reactions its app registers, for the shared
aggregate contract."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from services.fulfillment.domain.combining import Combine, Uncombine
from services.fulfillment.domain.fulfillment import (
    FULFILLMENT,
    CancelFulfillment,
    Fulfillment,
    PlanPackages,
    RecordShortage,
    RequestFulfillment,
    SetDispatchDeadline,
    SplitManually,
    UpdateShippingAddress,
)
from services.fulfillment.domain.logistics import LogisticsConfig, platform_tracking_number
from services.fulfillment.domain.package import (
    MarkDispatchOverdue,
    RecordCollection,
    RecordTracking,
)
from services.fulfillment.domain.packing import ManualPackage, SplitRules
from services.fulfillment.domain.replacement import PlanReplacement
from services.fulfillment.domain.seller_profile import SELLER_PROFILE, KeepProfile, SellerProfile
from services.fulfillment.domain.shipping import PickupStatus, ShipPackage
from services.fulfillment.domain.stock import (
    STOCK,
    AdjustStock,
    ConsumeShipped,
    ReleaseStock,
    ReserveStock,
)
from services.fulfillment.domain.warehouse import (
    WAREHOUSE,
    ChangeWarehouseAddress,
    RegisterWarehouse,
    Warehouse,
)
from services.fulfillment.handlers import (
    aftersales_reactions,
    order_reactions,
    pickup_reactions,
)
from services.fulfillment.service import FulfillmentService
from shared.aggregate import Aggregate
from shared.consumer import Reaction
from shared.events import EventPayload
from shared.events.common import Address
from shared.events.fulfillment import (
    Allocation,
    BusinessAddress,
    CarrierStatus,
    Contact,
    FulfillmentRequested,
    OrderLine,
    Shortfall,
    SkuQuantity,
)

S = TypeVar("S")
T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)
W1, W2 = uuid.UUID(int=601), uuid.UUID(int=602)
ORDER, OTHER_ORDER, CANCELLED_ORDER = (uuid.UUID(int=i) for i in (603, 604, 605))
EXCHANGE = uuid.UUID(int=606)
COMBINED = uuid.UUID(int=607)


def history(aggregate: Aggregate[S], steps: Sequence[Callable[[S], Any]]) -> list[EventPayload]:
    """The events of `steps` (each builds its command from the state so far), decided in turn."""
    assert aggregate.decide is not None
    state, events = aggregate.initial, []
    for step in steps:
        new = list(aggregate.decide(state, step(state)))
        state = aggregate.fold(new, state)
        events += new
    return events


def address(line1: str, city: str = "Hanoi", country: str = "VN") -> Address:
    return Address(
        recipient_name="Lan Nguyen",
        phone="+84 912",
        line1=line1,
        city=city,
        postal_code="100000",
        country=country,
    )


# --- a warehouse ------------------------------------------------------------------------------

CONTACT = Contact(name="Kho", phone="+84 24 1234")
WAREHOUSE_HISTORY = history(
    WAREHOUSE,
    [
        lambda _: RegisterWarehouse(W1, "s1", "Shop VN Hanoi", address("1 Kho St"), CONTACT, T0),
        lambda _: ChangeWarehouseAddress(address("1 Kho St"), T0 + HOUR),  # the same: re-saved
        lambda _: ChangeWarehouseAddress(address("2 Kho St"), T0 + 2 * HOUR),
        lambda _: ChangeWarehouseAddress(address("3 Kho St", "Hue"), T0 + 3 * HOUR),
        lambda _: ChangeWarehouseAddress(address("4 Kho St", "Hue"), T0 + 4 * HOUR),
        lambda _: ChangeWarehouseAddress(address("1 Kho St"), T0 + 5 * HOUR),
    ],
)
SHIPPED_FROM: Warehouse = WAREHOUSE.fold(WAREHOUSE_HISTORY)

# --- a seller's profile -----------------------------------------------------------------------

DONGGUAN = BusinessAddress(
    line1="洪梅镇某某路1号", city="东莞市", region="广东省", postal_code="523000", country="CN"
)


def keep(legal_name: str, shop_name: str, hours: int) -> Callable[[SellerProfile], KeepProfile]:
    return lambda _: KeepProfile("s1", legal_name, shop_name, DONGGUAN, CONTACT, T0 + hours * HOUR)


PROFILE_HISTORY = history(
    SELLER_PROFILE,
    [
        keep("东莞市洪梅镇某某贸易有限公司", "小美家居", 0),
        keep("东莞市洪梅镇某某贸易有限公司", "小美家居", 1),  # the same: nothing
        keep("东莞市洪梅镇某某贸易有限公司", "小美家居旗舰店", 2),
    ],
)
SELLER: SellerProfile = SELLER_PROFILE.fold(PROFILE_HISTORY)

# --- a seller's stock ---------------------------------------------------------------------------


def units(**skus: int) -> list[SkuQuantity]:
    return [SkuQuantity(sku=s, quantity=q) for s, q in skus.items()]


STOCK_HISTORY = history(
    STOCK,
    [
        lambda _: AdjustStock("s1", W1, "A", 5, T0),
        lambda _: AdjustStock("s1", W1, "B", 1, T0),
        lambda _: AdjustStock("s1", W2, "A", 2, T0),
        lambda _: ReserveStock("s1", ORDER, units(A=3, B=1), T0 + HOUR),
        lambda _: ReserveStock("s1", OTHER_ORDER, units(A=3), T0 + HOUR),  # across warehouses
        lambda _: ReserveStock("s1", CANCELLED_ORDER, units(A=5), T0 + HOUR),  # short: nothing
        lambda _: ReleaseStock(OTHER_ORDER, T0 + 2 * HOUR),
        lambda _: ConsumeShipped(ORDER, W1, units(A=3, B=1), T0 + 3 * HOUR),
        lambda _: AdjustStock("s1", W2, "A", 6, T0 + 4 * HOUR),
        lambda _: ReserveStock("s1", EXCHANGE, units(A=1), T0 + 5 * HOUR),
        lambda s: ConsumeShipped(
            EXCHANGE, s.reservations[EXCHANGE][0].warehouse_id, units(A=1), T0 + 6 * HOUR
        ),
        lambda _: ReserveStock("s1", CANCELLED_ORDER, units(A=2), T0 + 7 * HOUR),
        lambda _: ReleaseStock(CANCELLED_ORDER, T0 + 8 * HOUR),
    ],
)

# --- an order's fulfillment -----------------------------------------------------------------


def requested(order_id: uuid.UUID, **skus: int) -> RequestFulfillment:
    return RequestFulfillment(
        FulfillmentRequested(
            order_id=order_id,
            seller_id="s1",
            buyer_id="b1",
            lines=[
                OrderLine(sku=sku, title=sku, quantity=q, weight_g=700, volume_cm3=1000)
                for sku, q in skus.items()
            ],
            shipping_address=address("12 Hang Bac"),
            currency="VND",
            placed_at=T0,
            dispatch_deadline=T0 + 72 * HOUR,
            deliver_by=T0 + 9 * 24 * HOUR,
        ),
        T0,
    )


def planned(state: Fulfillment, n: int = 0) -> uuid.UUID:
    """The id of the n-th package still planned (in id order)."""
    ids = sorted((p.package_id for p in state.packages.values() if p.status == "PLANNED"), key=str)
    return ids[n]


def ship(at: datetime, replacement: bool = False) -> Callable[[Fulfillment], ShipPackage]:
    def command(state: Fulfillment) -> ShipPackage:
        [package_id] = [
            p.package_id
            for p in state.packages.values()
            if p.status == "PLANNED" and (p.replacement_for is not None) == replacement
        ][:1]
        return ShipPackage(
            package_id=package_id,
            handover="PICKUP",
            carrier=None,
            tracking_number=None,
            customs=None,
            note=None,
            warehouse=SHIPPED_FROM,
            pickup=PickupStatus("PICKUP", "SPX", "SPX"),
            issued_tracking_number=platform_tracking_number("SPX", int(at.timestamp())),
            config=LogisticsConfig(),
            now=at,
            profile=SELLER,
        )

    return command


def report(status: CarrierStatus, hours: int) -> Callable[[Fulfillment], RecordTracking]:
    """The carrier's report on the package it last took."""

    def command(state: Fulfillment) -> RecordTracking:
        latest = max(
            (p for p in state.packages.values() if p.ready_at is not None),
            key=lambda p: p.ready_at or T0,
        )
        return RecordTracking(latest.package_id, status, T0 + hours * HOUR, T0 + hours * HOUR)

    return command


ON_W1 = [
    Allocation(warehouse_id=W1, sku="A", quantity=3),
    Allocation(warehouse_id=W1, sku="B", quantity=1),
]
DELIVERED_HISTORY = history(
    FULFILLMENT,
    [
        lambda _: requested(ORDER, A=3, B=1),
        lambda _: RecordShortage([Shortfall(sku="A", requested=3, available=1)], T0),
        lambda _: PlanPackages(ON_W1, SplitRules(max_items=2), T0 + HOUR),
        lambda _: UpdateShippingAddress(address("14 Hang Bac"), T0 + HOUR),
        lambda _: SplitManually(
            [ManualPackage(units(A=2)), ManualPackage(units(A=1, B=1), W1)], T0 + 2 * HOUR
        ),
        lambda _: SetDispatchDeadline(T0 + 96 * HOUR, "provider switch", T0 + 3 * HOUR),
        lambda s: MarkDispatchOverdue(planned(s), T0 + 97 * HOUR),
        ship(T0 + 98 * HOUR),
        lambda s: RecordCollection(
            next(p.package_id for p in s.packages.values() if p.status == "READY_TO_SHIP"),
            "PICKUP",
            T0 + 99 * HOUR,
            T0 + 99 * HOUR,
        ),
        report("IN_TRANSIT", 100),
        report("OUT_FOR_DELIVERY", 110),
        report("DELIVERY_FAILED", 111),
        report("OUT_FOR_DELIVERY", 130),
        report("DELIVERED", 131),
        report("IN_TRANSIT", 132),  # cannot follow DELIVERED: an anomaly
        ship(T0 + 133 * HOUR),
        report("DAMAGED", 140),
        report("RETURNED_TO_SENDER", 150),
        lambda _: PlanReplacement(
            EXCHANGE,
            units(A=1),
            [],
            [Shortfall(sku="A", requested=1, available=0)],
            T0 + 300 * HOUR,
            T0 + 200 * HOUR,
        ),
        lambda _: PlanReplacement(
            EXCHANGE,
            units(A=1),
            [Allocation(warehouse_id=W1, sku="A", quantity=1)],
            [],
            T0 + 300 * HOUR,
            T0 + 210 * HOUR,
        ),
        ship(T0 + 220 * HOUR, replacement=True),
        report("IN_TRANSIT", 230),
        report("LOST", 260),
    ],
)
CANCELLED_HISTORY = history(
    FULFILLMENT,
    [
        lambda _: requested(CANCELLED_ORDER, A=2),
        lambda _: PlanPackages(
            [Allocation(warehouse_id=W1, sku="A", quantity=2)], SplitRules(max_items=1), T0
        ),
        lambda s: Combine(
            COMBINED, [planned(s, 0), planned(s, 1)], [CANCELLED_ORDER, OTHER_ORDER], T0 + HOUR
        ),
        lambda _: Uncombine(COMBINED, T0 + 2 * HOUR),
        lambda _: SetDispatchDeadline(T0 + 80 * HOUR, "seller asked", T0 + 3 * HOUR),
        lambda _: CancelFulfillment("order cancelled (BUYER_CHANGED_MIND)", T0 + 4 * HOUR),
    ],
)

HISTORIES: list[tuple[Aggregate[Any], list[EventPayload]]] = [
    (WAREHOUSE, WAREHOUSE_HISTORY),
    (SELLER_PROFILE, PROFILE_HISTORY),
    (STOCK, STOCK_HISTORY),
    (FULFILLMENT, DELIVERED_HISTORY),
    (FULFILLMENT, CANCELLED_HISTORY),
]

_NO_SERVICE = cast(FulfillmentService, None)  # only the reaction tables' keys are inspected
REACTIONS: list[Mapping[type[EventPayload], Reaction]] = [
    order_reactions(_NO_SERVICE),
    pickup_reactions(_NO_SERVICE),
    aftersales_reactions(_NO_SERVICE),
]
