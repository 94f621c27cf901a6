"""Events of the fulfillment service (topic shopflow.fulfillment.events)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal, get_args

from pydantic import ConfigDict, Field, model_validator

from shared.events import EventPayload, register
from shared.events.common import Address, EmailAddress, Language
from shared.models import Model
from shared.money import Money

SERVICE = "fulfillment"
FULFILLMENT_STREAM = "fulfillment"  # fulfillment/<order id>: an order's packages
STOCK_STREAM = "stock"  # stock/<seller id>
WAREHOUSE_STREAM = "warehouse"
SELLER_PROFILE_STREAM = "seller-profile"  # seller-profile/<seller id>

# Every status a package can have, in the order of its way (the vocabulary of the fulfillment
# service, the order service's package list and the analytics views).
PackageStatus = Literal[
    "PLANNED",
    "COMBINED",  # travels inside a combined parcel (its own package id)
    "UNCOMBINED",  # a combined parcel taken apart again
    "READY_TO_SHIP",
    "PICKED_UP",
    "IN_TRANSIT",
    "OUT_FOR_DELIVERY",
    "DELIVERY_FAILED",
    "DAMAGED",
    "DELIVERED",
    "LOST",
    "RETURNED_TO_SENDER",
    "CANCELLED",
    "REPLACED",
]
PACKAGE_STATUSES: tuple[PackageStatus, ...] = get_args(PackageStatus)
# What a carrier reports about a parcel in its hands.
CarrierStatus = Literal[
    "IN_TRANSIT",
    "OUT_FOR_DELIVERY",
    "DELIVERY_FAILED",
    "DELIVERED",
    "LOST",
    "DAMAGED",
    "RETURNED_TO_SENDER",
]
CARRIER_STATUSES: tuple[CarrierStatus, ...] = get_args(CarrierStatus)

# SELF_DELIVERY: the seller takes the parcel to the buyer itself (domestic only): no carrier
# tracking number, the seller records the delivery with a proof reference.
Handover = Literal["PICKUP", "DROP_OFF", "SELLER_OWN", "SELF_DELIVERY"]
SELF_DELIVERY_CARRIER = "SELLER"  # the carrier of a self-delivered parcel: the seller itself


class Contact(Model):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=3, max_length=40, pattern=r"^\+?[0-9 ()\-]{3,40}$")


class SkuQuantity(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")
    sku: str
    quantity: int = Field(gt=0)


class Allocation(Model):
    """Units of a SKU reserved in one warehouse."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    warehouse_id: uuid.UUID
    sku: str
    quantity: int = Field(gt=0)


class Shortfall(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")
    sku: str
    requested: int
    available: int


class PlannedPackage(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")
    package_id: uuid.UUID
    warehouse_id: uuid.UUID
    items: list[SkuQuantity]
    weight_g: int
    dispatch_deadline: datetime
    volume_cm3: int = 0


@register("WarehouseRegistered", service=SERVICE)
class WarehouseRegistered(EventPayload):
    warehouse_id: uuid.UUID
    seller_id: str
    name: str
    address: Address
    contact: Contact


@register("WarehouseAddressChanged", service=SERVICE)
class WarehouseAddressChanged(EventPayload):
    warehouse_id: uuid.UUID
    seller_id: str
    name: str
    address: Address
    contact: Contact


@register("WarehouseAddressResaved", service=SERVICE)
class WarehouseAddressResaved(EventPayload):
    """The seller saved the warehouse's address again, unchanged: what waits for a saved
    address may act again (the pickup service asks again after a failed push to a switch's
    new provider)."""

    warehouse_id: uuid.UUID
    seller_id: str
    address: Address


class BusinessAddress(Model):
    """A seller's registered address: the region (province) is required."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
    line1: str = Field(min_length=1, max_length=300)
    line2: str | None = Field(None, max_length=300)
    city: str = Field(min_length=1, max_length=120)
    region: str = Field(min_length=1, max_length=120, description="province, state or region")
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")


class SellerProfileFacts(EventPayload):
    """Who a seller is: the registered full (legal) name printed as the label's sender and
    on invoices, the shop's name, its registered address and a contact."""

    seller_id: str
    legal_name: str
    shop_name: str
    address: BusinessAddress
    contact: Contact
    # Where the seller's notifications go, and their language (issue 18; absent before).
    email: EmailAddress | None = None
    language: Language | None = None


@register("SellerProfileRegistered", service=SERVICE)
class SellerProfileRegistered(SellerProfileFacts):
    pass


@register("SellerProfileChanged", service=SERVICE)
class SellerProfileChanged(SellerProfileFacts):
    pass


@register("StockAdjusted", service=SERVICE)
class StockAdjusted(EventPayload):
    seller_id: str
    warehouse_id: uuid.UUID
    sku: str
    on_hand: int = Field(ge=0)
    previous: int
    reason: Literal["COUNT", "SHIPPED"] = "COUNT"
    order_id: uuid.UUID | None = None


class OrderLine(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")
    sku: str
    title: str = ""
    quantity: int = Field(gt=0)
    weight_g: int = Field(ge=0)
    volume_cm3: int = Field(0, ge=0, description="per unit, 0 when the listing has no dimensions")
    unit_price: Money | None = Field(
        None, description="the price paid per unit (absent on orders placed before it was kept)"
    )


@register("FulfillmentRequested", service=SERVICE)
class FulfillmentRequested(EventPayload):
    """A placed order reached fulfillment: what it needs to plan and ship, from OrderPlaced."""

    order_id: uuid.UUID
    seller_id: str
    buyer_id: str
    lines: list[OrderLine]
    shipping_address: Address
    currency: str
    placed_at: datetime
    dispatch_deadline: datetime
    deliver_by: datetime
    # What the buyer paid, for the invoice (absent on orders placed before they were kept).
    subtotal: Money | None = None
    shipping_fee: Money | None = None
    total: Money | None = None
    paid_at: datetime | None = None
    shipping_option: str | None = Field(
        None,
        description="the buyer's shipping option, which restricts the channels and sets the "
        "transit time (absent on orders placed before it was carried)",
    )


@register("StockReserved", service=SERVICE)
class StockReserved(EventPayload):
    seller_id: str
    order_id: uuid.UUID
    allocations: list[Allocation]


@register("StockShortage", service=SERVICE)
class StockShortage(EventPayload):
    """The seller's stock cannot cover the order: it waits for a restock or a cancellation."""

    seller_id: str
    order_id: uuid.UUID
    shortfalls: list[Shortfall]


@register("StockReleased", service=SERVICE)
class StockReleased(EventPayload):
    seller_id: str
    order_id: uuid.UUID
    allocations: list[Allocation]


@register("PackagesPlanned", service=SERVICE)
class PackagesPlanned(EventPayload):
    """The order's packages, complete: it replaces any earlier plan of packages not yet
    ready to ship (`replaced`)."""

    order_id: uuid.UUID
    seller_id: str
    buyer_id: str
    packages: list[PlannedPackage]
    replaced: list[uuid.UUID] = Field(default_factory=list)
    manual: bool = False


@register("ReplacementPlanned", service=SERVICE)
class ReplacementPlanned(EventPayload):
    """Packages of replacement goods for an after-sales exchange (aftersales'
    ExchangeShipped), reserved against the request (`request_id`) and shipped like any other;
    the order keeps its DELIVERED status."""

    order_id: uuid.UUID
    seller_id: str
    buyer_id: str
    request_id: uuid.UUID
    packages: list[PlannedPackage]


@register("ReplacementAwaitingStock", service=SERVICE)
class ReplacementAwaitingStock(EventPayload):
    """The seller's stock cannot cover an exchange yet: planned on the next restock."""

    order_id: uuid.UUID
    seller_id: str
    request_id: uuid.UUID
    items: list[SkuQuantity]
    shortfalls: list[Shortfall]


@register("PackagesCombined", service=SERVICE)
class PackagesCombined(EventPayload):
    """This order's `package_ids` travel in one parcel with other orders' of the same buyer,
    address and warehouse (`order_ids`, this one included)."""

    order_id: uuid.UUID
    combined_package_id: uuid.UUID
    package_ids: list[uuid.UUID]
    order_ids: list[uuid.UUID]


@register("PackagesUncombined", service=SERVICE)
class PackagesUncombined(EventPayload):
    order_id: uuid.UUID
    combined_package_id: uuid.UUID
    package_ids: list[uuid.UUID]


@register("PackagesCancelled", service=SERVICE)
class PackagesCancelled(EventPayload):
    order_id: uuid.UUID
    package_ids: list[uuid.UUID]
    reason: str


class Customs(Model):
    """Customs data a cross-border package carries on its documents."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
    declared_value: Money
    hs_code: str = Field(pattern=r"^\d{6,10}$", description="Harmonized System code")
    description: str = Field(min_length=1, max_length=200)


class LabelItem(Model):
    """A line of the parcel as the carrier checks it: what it is called and how many."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    sku: str
    title: str = ""  # labels issued before titles were printed carry none
    quantity: int = Field(gt=0)


class Label(Model):
    """What the shipping label says (DOMAIN.md section 2): checked before it is issued."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    order_number: str = Field(description="every order of the parcel, comma-separated")
    order_numbers: list[str] = Field(
        default_factory=list, description="every order of the parcel (a combined one has several)"
    )
    package_id: uuid.UUID
    tracking_number: str | None = Field(
        description="the carrier's; none on a SELF DELIVERY label (the package id names it)"
    )
    carrier: str
    handover_mode: Literal["PICK UP", "DROP OFF", "SELF DELIVERY"]
    recipient_name: str
    recipient_phone: str
    recipient_address: list[str]
    recipient_postal_code: str
    recipient_country: str
    sender_name: str
    sender_address: list[str]
    sender_postal_code: str
    sender_country: str
    sender_region: str | None = None  # the province of the shipping warehouse
    weight_g: int = Field(description="the whole parcel's")
    items: list[LabelItem]
    cross_border: bool
    customs: Customs | None = None
    note: str | None = None
    hub_address: list[str] | None = Field(
        None, description="PICK UP labels: the sorting hub the provider brings the parcel to"
    )

    @model_validator(mode="before")
    @classmethod
    def _both_order_fields(cls, data: Any) -> Any:
        """Labels stored before `order_numbers` existed had the joined `order_number` only;
        either one gives the other."""
        if isinstance(data, dict):
            if not data.get("order_numbers") and data.get("order_number"):
                numbers = [n.strip() for n in str(data["order_number"]).split(",")]
                data = {**data, "order_numbers": [n for n in numbers if n]}
            elif data.get("order_numbers") and not data.get("order_number"):
                data = {**data, "order_number": ", ".join(data["order_numbers"])}
        return data


@register("ReadyToShip", service=SERVICE)
class ReadyToShip(EventPayload):
    order_id: uuid.UUID
    package_id: uuid.UUID
    seller_id: str
    warehouse_id: uuid.UUID
    handover: Handover
    channel: str
    carrier: str
    tracking_number: str | None = Field(
        description="none for a SELF_DELIVERY package: no carrier tracks it"
    )
    tracking_valid: bool
    shipping_fee: Money | None
    dispatch_deadline: datetime
    ready_at: datetime
    late: bool
    label: Label
    estimated_delivery_date: date | None = Field(
        None,
        description="the day the parcel is due at the latest, in the destination's calendar: "
        "its delivery working days after the day it was ready (absent on packages shipped "
        "before estimates were given)",
    )


@register("DispatchDeadlineChanged", service=SERVICE)
class DispatchDeadlineChanged(EventPayload):
    """The order's packages not yet ready to ship get a new dispatch deadline."""

    order_id: uuid.UUID
    package_ids: list[uuid.UUID]
    dispatch_deadline: datetime
    reason: str


@register("ShippingAddressUpdated", service=SERVICE)
class ShippingAddressUpdated(EventPayload):
    order_id: uuid.UUID
    shipping_address: Address


@register("TrackingAnomalyRecorded", service=SERVICE)
class TrackingAnomalyRecorded(EventPayload):
    """A carrier status that cannot follow the package's current one: kept for operators,
    not applied."""

    order_id: uuid.UUID
    package_id: uuid.UUID
    tracking_number: str
    carrier: str
    current_status: str
    reported_status: str
    occurred_at: datetime


@register("DispatchOverdue", service=SERVICE)
class DispatchOverdue(EventPayload):
    order_id: uuid.UUID
    package_id: uuid.UUID
    dispatch_deadline: datetime
    detected_at: datetime


class TrackingEvent(EventPayload):
    """What every carrier status event carries."""

    order_id: uuid.UUID
    package_id: uuid.UUID
    tracking_number: str | None = Field(
        description="none when the seller recorded a SELF_DELIVERY package's delivery"
    )
    carrier: str
    occurred_at: datetime
    location: str | None = None


@register("InTransit", service=SERVICE)
class InTransit(TrackingEvent):
    pass


@register("OutForDelivery", service=SERVICE)
class OutForDelivery(TrackingEvent):
    pass


@register("DeliveryFailed", service=SERVICE)
class DeliveryFailed(TrackingEvent):
    pass


@register("Delivered", service=SERVICE)
class Delivered(TrackingEvent):
    """The parcel reached the buyer: the carrier's report, or the seller's record of its own
    SELF_DELIVERY. `proof` is the signature or photo reference (none: delivered without
    proof, which the order view shows for disputes)."""

    proof: str | None = None
    recorded_by: Literal["CARRIER", "SELLER"] = "CARRIER"


@register("PackageLost", service=SERVICE)
class PackageLost(TrackingEvent):
    pass


@register("PackageDamaged", service=SERVICE)
class PackageDamaged(TrackingEvent):
    pass


@register("PackagePickedUp", service=SERVICE)
class PackagePickedUp(TrackingEvent):
    """The first mile collected the package (a driver's scan, or a drop-off at the hub)."""

    via: str  # PICKUP or DROP_OFF


@register("ReturnedToSender", service=SERVICE)
class ReturnedToSender(TrackingEvent):
    pass


# The event a carrier's report of each status records (in the order of CARRIER_STATUSES).
EVENT_BY_CARRIER_STATUS: dict[CarrierStatus, type[TrackingEvent]] = {
    "IN_TRANSIT": InTransit,
    "OUT_FOR_DELIVERY": OutForDelivery,
    "DELIVERY_FAILED": DeliveryFailed,
    "DELIVERED": Delivered,
    "LOST": PackageLost,
    "DAMAGED": PackageDamaged,
    "RETURNED_TO_SENDER": ReturnedToSender,
}
# The package status each of these events leaves behind.
STATUS_BY_EVENT: dict[type[EventPayload], PackageStatus] = {
    ReadyToShip: "READY_TO_SHIP",
    PackagePickedUp: "PICKED_UP",
    **{model: status for status, model in EVENT_BY_CARRIER_STATUS.items()},
}
STATUS_BY_EVENT_TYPE: dict[str, PackageStatus] = {
    model.event_type: status for model, status in STATUS_BY_EVENT.items()
}
