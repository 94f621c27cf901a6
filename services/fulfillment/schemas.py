"""HTTP bodies of the fulfillment service."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.fulfillment.domain.fulfillment import Fulfillment
from services.fulfillment.domain.logistics import LogisticsConfig
from services.fulfillment.domain.package import Package
from services.fulfillment.domain.seller_profile import SellerProfile
from services.fulfillment.domain.warehouse import Warehouse
from shared.events.common import Address, EmailAddress, Language
from shared.events.fulfillment import (
    BusinessAddress,
    CarrierStatus,
    Contact,
    Customs,
    Handover,
    SkuQuantity,
)
from shared.models import Body, Timestamp
from shared.money import Money

SKU_PATTERN = r"^[A-Za-z0-9._\-]{1,64}$"


class WarehouseIn(Body):
    name: str = Field(min_length=1, max_length=200)
    address: Address
    contact: Contact


class WarehouseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    warehouse_id: uuid.UUID
    seller_id: str
    name: str
    address: Address
    contact: Contact
    version: int

    @classmethod
    def of(cls, warehouse: Warehouse, version: int) -> WarehouseOut:
        return cls.model_validate({**vars(warehouse), "version": version})


class SellerProfileIn(Body):
    legal_name: str = Field(
        min_length=2,
        max_length=200,
        description="the registered full name (as on the business licence): the label's sender",
    )
    shop_name: str = Field(min_length=1, max_length=100)
    address: BusinessAddress = Field(description="the registered address, region required")
    contact: Contact
    email: EmailAddress | None = Field(
        None, description="where the seller's notifications go (new orders, requests)"
    )
    language: Language | None = Field(
        None, description="the notifications' language (zh or en; anything else gets en)"
    )


class SellerProfileOut(BaseModel):
    seller_id: str
    legal_name: str
    shop_name: str
    address: BusinessAddress
    contact: Contact
    email: str | None = None
    language: str | None = None
    version: int

    @classmethod
    def of(cls, profile: SellerProfile, version: int) -> SellerProfileOut:
        return cls.model_validate({**vars(profile), "version": version})


class StockIn(Body):
    on_hand: int = Field(ge=0, le=10_000_000)


class StockOut(BaseModel):
    warehouse_id: uuid.UUID
    sku: str
    on_hand: int
    reserved: int
    available: int


class SplitRulesIn(Body):
    max_weight_g: int | None = Field(None, gt=0, le=1_000_000)
    max_items: int | None = Field(None, gt=0, le=10_000)
    ship_alone_skus: list[str] = Field(default_factory=list, max_length=500)


class SplitRulesOut(SplitRulesIn):
    seller_id: str
    version: int


class SkuQuantityIn(Body):
    sku: str = Field(pattern=SKU_PATTERN)
    quantity: int = Field(gt=0, le=100_000)


class ManualPackageIn(Body):
    items: list[SkuQuantityIn] = Field(min_length=1, max_length=100)
    warehouse_id: uuid.UUID | None = None


class SplitIn(Body):
    packages: list[ManualPackageIn] = Field(min_length=1, max_length=100)


class CombineIn(Body):
    package_ids: list[uuid.UUID] = Field(min_length=2, max_length=50)


class ShipRequest(Body):
    handover: Handover
    carrier: str | None = Field(None, min_length=1, max_length=40)
    tracking_number: str | None = Field(None, min_length=4, max_length=40)
    customs: Customs | None = None
    note: str | None = Field(None, max_length=200, description="printed on the label")


class PackageOut(BaseModel):
    package_id: uuid.UUID
    order_id: uuid.UUID
    warehouse_id: uuid.UUID
    items: list[SkuQuantity]
    weight_g: int
    status: str
    dispatch_deadline: datetime
    handover: str | None = None
    channel: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_valid: bool | None = None
    shipping_fee: Money | None = None
    ready_at: datetime | None = None
    estimated_delivery_date: date | None = Field(
        None,
        description="once ready to ship: the day it is due at the latest, counted in working "
        "days of the destination's calendar from the day it was ready",
    )
    delivery_proof: str | None = Field(
        None, description="once delivered: the signature or photo reference given with it"
    )
    overdue: bool = False
    combined_orders: list[uuid.UUID] = Field(default_factory=list)
    replacement_for: uuid.UUID | None = Field(
        None, description="the after-sales exchange request this package replaces goods for"
    )
    shipping_option: str | None = Field(
        None, description="the shipping option the buyer chose for the order (e.g. EXPRESS)"
    )
    allowed_channels: list[str] = Field(
        default_factory=list,
        description="the channels the order's shipping option lets this package ship with",
    )

    @classmethod
    def of(cls, order: Fulfillment, package: Package, config: LogisticsConfig) -> PackageOut:
        return cls.model_validate(
            {
                **vars(package),
                "order_id": order.order_id,
                "shipping_option": order.shipping_option,
                "allowed_channels": config.allowed_channels(order.shipping_option),
            }
        )


class PackagesOut(BaseModel):
    order_id: uuid.UUID
    status: str
    deliver_by: datetime | None = Field(
        None, description="the order's deliver-by (the order service's, working days)"
    )
    shortfalls: list[dict[str, int | str]]
    packages: list[PackageOut]
    version: int

    @classmethod
    def of(cls, fulfillment: Fulfillment, version: int, config: LogisticsConfig) -> PackagesOut:
        assert fulfillment.order_id is not None
        return cls(
            order_id=fulfillment.order_id,
            status=fulfillment.status,
            deliver_by=fulfillment.deliver_by,
            shortfalls=[s.model_dump() for s in fulfillment.shortfalls],
            packages=[
                PackageOut.of(fulfillment, p, config)
                for p in sorted(fulfillment.packages.values(), key=lambda p: str(p.package_id))
            ],
            version=version,
        )


class CarrierEventIn(Body):
    tracking_number: str = Field(min_length=4, max_length=40)
    status: CarrierStatus
    occurred_at: Timestamp
    location: str | None = Field(None, max_length=200)
    proof: str | None = Field(None, max_length=500, description="signature or photo reference")


class SelfDeliveryIn(Body):
    proof: str = Field(
        min_length=1,
        max_length=500,
        pattern=r"\S",
        description="the recipient's signature or photo reference, kept for disputes",
    )
    delivered_at: Timestamp | None = Field(
        None,
        description="when it was handed to the buyer (between shipment and now); now if absent",
    )


class CarrierEventOut(BaseModel):
    package_id: uuid.UUID
    tracking_number: str
    status: str
    applied: bool
    anomaly: bool
