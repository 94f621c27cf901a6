"""What the fulfillment domain tests share: a time, addresses, a warehouse, an order's
fulfillment requested and planned, and a package shipped by the rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.fulfillment.domain.fulfillment import (
    FULFILLMENT,
    Fulfillment,
    PlanPackages,
    RequestFulfillment,
    decide,
)
from services.fulfillment.domain.logistics import LogisticsConfig, platform_tracking_number
from services.fulfillment.domain.packing import SplitRules
from services.fulfillment.domain.seller_profile import SellerProfile
from services.fulfillment.domain.shipping import PickupStatus, ShipPackage
from services.fulfillment.domain.warehouse import Warehouse
from shared.events.common import Address
from shared.events.fulfillment import (
    Allocation,
    BusinessAddress,
    Contact,
    FulfillmentRequested,
    OrderLine,
    ReadyToShip,
    SkuQuantity,
)

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
W1, W2, W3 = (uuid.UUID(int=i) for i in (1, 2, 3))
ADDRESS = Address(
    recipient_name="A", phone="+1 555", line1="x", city="c", postal_code="12345", country="US"
)
CONFIG = LogisticsConfig()
BUYER = Address(
    recipient_name="Lan Nguyen",
    phone="+84 912",
    line1="12 Hang Bac",
    city="Hanoi",
    postal_code="100000",
    country="VN",
)
WH_ADDRESS = Address(
    recipient_name="Kho",
    phone="+84 24",
    line1="1 Kho St",
    city="Hanoi",
    postal_code="100000",
    country="VN",
)
WAREHOUSE = Warehouse(
    uuid.UUID(int=7), "s1", "Shop VN Hanoi", WH_ADDRESS, Contact(name="Kho", phone="+84 24 1234")
)
PROFILE = SellerProfile(
    "s1",
    "Shop VN Trading Company Limited",
    "Shop VN",
    BusinessAddress(
        line1="1 Kho St", city="Hanoi", region="Ha Noi", postal_code="100000", country="VN"
    ),
    Contact(name="Kho", phone="+84 24 1234"),
)
PICKUP = PickupStatus("PICKUP", "SPX", "SPX")
DROP_OFF_ONLY = PickupStatus("DROP_OFF", "SPX", "SPX")


def lines(**skus: int) -> list[SkuQuantity]:
    return [SkuQuantity(sku=s, quantity=q) for s, q in skus.items()]


def requested(order_id: uuid.UUID | None = None) -> Fulfillment:
    """An order of 3 A (400 g) and 1 B (100 g) to ADDRESS, placed at T0."""
    event = FulfillmentRequested(
        order_id=order_id or uuid.uuid4(),
        seller_id="s1",
        buyer_id="b1",
        lines=[
            OrderLine(sku="A", quantity=3, weight_g=400),
            OrderLine(sku="B", quantity=1, weight_g=100),
        ],
        shipping_address=ADDRESS,
        currency="USD",
        placed_at=T0,
        dispatch_deadline=T0 + timedelta(hours=72),
        deliver_by=T0 + timedelta(days=9),
    )
    return FULFILLMENT.fold(decide(Fulfillment(), RequestFulfillment(event, T0)))


def planned(
    address: Address = BUYER, shipping_option: str | None = None
) -> tuple[Fulfillment, uuid.UUID]:
    """An order of 2 books (700 g each) to `address`, planned in one package from WAREHOUSE
    (the buyer's `shipping_option` as the order carried it)."""
    order_id = uuid.uuid4()
    request = FulfillmentRequested(
        order_id=order_id,
        seller_id="s1",
        buyer_id="b1",
        lines=[OrderLine(sku="BOOK", title="Book", quantity=2, weight_g=700)],
        shipping_address=address,
        currency="VND",
        placed_at=T0,
        dispatch_deadline=T0 + timedelta(hours=72),
        deliver_by=T0 + timedelta(days=9),
        shipping_option=shipping_option,
    )
    state = FULFILLMENT.fold(decide(Fulfillment(), RequestFulfillment(request, T0)))
    allocation = [Allocation(warehouse_id=WAREHOUSE.warehouse_id, sku="BOOK", quantity=2)]  # type: ignore[arg-type]
    state = FULFILLMENT.fold(decide(state, PlanPackages(allocation, SplitRules(), T0)), state)
    return state, next(iter(state.packages))


def ship(state: Fulfillment, package_id: uuid.UUID, **overrides) -> ReadyToShip:  # type: ignore[no-untyped-def]
    """The ReadyToShip of shipping the package with pickup at T0 + 5 h (or `overrides`)."""
    values = dict(
        package_id=package_id,
        handover="PICKUP",
        carrier=None,
        tracking_number=None,
        customs=None,
        note=None,
        warehouse=WAREHOUSE,
        pickup=PICKUP,
        issued_tracking_number=platform_tracking_number("SPX", 42),
        config=CONFIG,
        now=T0 + timedelta(hours=5),
        profile=PROFILE,
    )
    values.update(overrides)
    [event] = decide(state, ShipPackage(**values))
    assert isinstance(event, ReadyToShip)
    return event


def shipped() -> tuple[Fulfillment, uuid.UUID]:
    state, package_id = planned()
    return FULFILLMENT.fold([ship(state, package_id)], state), package_id
