"""Arranging a package's shipment (a command of the FULFILLMENT aggregate, see
`fulfillment.py`): the handover must agree with the warehouse's pickup status; the channel
follows from the handover and the border; platform channels issue the carrier and tracking
number and charge the fee template, a seller's own carrier brings its own, a seller's
self-delivery (domestic) has neither, the seller records its delivery; the label is checked
before the package is ready to ship. The tables are `logistics.py`."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.fulfillment.domain.logistics import (
    CHANNELS,
    LogisticsConfig,
    carrier_tracking_valid,
    channel_for,
    label_problems,
    shipping_fee,
    zone,
)
from services.fulfillment.domain.package import Package
from services.fulfillment.domain.seller_profile import SellerProfile
from services.fulfillment.domain.warehouse import Warehouse
from shared.aggregate import DomainError, InvalidCommand
from shared.calendar import DEFAULT_DELIVERY, DeliveryCalendars
from shared.events.common import Address
from shared.events.fulfillment import (
    SELF_DELIVERY_CARRIER,
    Customs,
    Handover,
    Label,
    LabelItem,
    OrderLine,
    ReadyToShip,
)
from shared.events.pickup import HubAddress
from shared.money import Money

# What a label says of its handover (DOMAIN.md section 2); a seller's own carrier: DROP OFF.
HANDOVER_MODES: dict[str, Literal["PICK UP", "DROP OFF", "SELF DELIVERY"]] = {
    "PICKUP": "PICK UP",
    "DROP_OFF": "DROP OFF",
    "SELF_DELIVERY": "SELF DELIVERY",
}


@dataclass(frozen=True)
class PickupStatus:
    """Who collects from a warehouse, as the pickup service last said."""

    handover: str  # PICKUP when a pickup subscription is active, else DROP_OFF
    provider_code: str
    tracking_prefix: str


@dataclass(frozen=True)
class ParcelContents:
    """What the parcel holds, as its label lists it: every item with its title, the weight."""

    items: tuple[LabelItem, ...]
    weight_g: int


def parcel_contents(parts: Sequence[tuple[Package, Sequence[OrderLine]]]) -> ParcelContents:
    """The contents of a parcel made of each order's `Package` (one, or one per order of a
    combined parcel), titled from that order's lines."""
    quantities: dict[str, int] = defaultdict(int)
    titles: dict[str, str] = {}
    for package, lines in parts:
        for item in package.items:
            quantities[item.sku] += item.quantity
        titles |= {line.sku: line.title for line in lines if line.title}
    items = tuple(
        LabelItem(sku=sku, title=titles.get(sku, ""), quantity=quantity)
        for sku, quantity in sorted(quantities.items())
    )
    return ParcelContents(items=items, weight_g=sum(p.weight_g for p, _ in parts))


@dataclass(frozen=True)
class ShipPackage:
    """Arrange shipment: the package becomes ready to ship with a checked label."""

    package_id: uuid.UUID
    handover: Handover
    carrier: str | None
    tracking_number: str | None
    customs: Customs | None
    note: str | None
    warehouse: Warehouse
    pickup: PickupStatus
    issued_tracking_number: str
    config: LogisticsConfig
    now: datetime
    # a combined parcel's contents across all its orders, gathered by the service; a single
    # order's package is described from the order's own lines
    parcel: ParcelContents | None = None
    profile: SellerProfile | None = None  # the seller's: its legal name is the label's sender
    receiving_hub: HubAddress | None = None  # the provider's hub for the warehouse's region
    delivery: DeliveryCalendars = DEFAULT_DELIVERY  # the destinations' calendars: the estimate


def first_mile_hub(cmd: ShipPackage) -> list[str] | None:
    """What a first-mile (PICK UP) label says of the hub its provider brings it to: the
    receiving hub of the warehouse's region where the provider names one."""
    if cmd.handover != "PICKUP" or cmd.receiving_hub is None:
        return None
    return cmd.receiving_hub.label_lines()


def ready_to_ship(
    order_id: uuid.UUID,
    seller_id: str,
    address: Address,
    currency: str,
    package: Package,
    cmd: ShipPackage,
    contents: ParcelContents,
    shipping_option: str | None = None,
) -> ReadyToShip:
    """Ship a planned `package` of the order to `address`, its fee in `currency`; the label
    lists the parcel's `contents`. The buyer's `shipping_option` restricts the channels it
    may ship with. It is estimated to arrive the destination's delivery working days after
    today (the rule deliver-by counts from the dispatch deadline), or the option's transit
    days where fewer."""
    warehouse = cmd.warehouse
    assert warehouse.address is not None
    profile = sending_seller(cmd.profile, seller_id)
    cross_border = warehouse.address.country != address.country
    if cmd.handover == "PICKUP" and cmd.pickup.handover != "PICKUP":
        raise DomainError(
            "pickup-not-active", "pickup is not active for this warehouse: ship with DROP_OFF"
        )
    if cmd.handover == "DROP_OFF" and cmd.pickup.handover == "PICKUP":
        raise DomainError(
            "pickup-active", "pickup is active for this warehouse: the label must say PICK UP"
        )
    if cmd.handover == "SELF_DELIVERY" and cross_border:
        raise InvalidCommand(
            "self-delivery-domestic-only", "SELF_DELIVERY is for domestic packages only"
        )
    channel = channel_for(cmd.handover, cross_border)
    option = cmd.config.option_rule(shipping_option)
    if option.channels is not None and channel.code not in option.channels:
        allowed = cmd.config.allowed_channels(shipping_option)
        here = [CHANNELS[c].handover for c in allowed if CHANNELS[c].cross_border == cross_border]
        raise DomainError(
            "channel-not-allowed",
            f"the buyer chose {shipping_option} shipping, which does not ship with "
            f"{channel.code}; allowed channels: {', '.join(allowed) or 'none'}"
            + (f" (handover {' or '.join(dict.fromkeys(here))})" if here else ""),
            shipping_option=shipping_option,
            allowed_channels=allowed,
        )
    fee: Money | None = None
    tracking: str | None
    if not channel.tracked:
        if cmd.carrier or cmd.tracking_number:
            raise InvalidCommand(
                "self-delivery-untracked",
                "SELF_DELIVERY has no carrier and no tracking number: the seller records the "
                "delivery with a proof reference",
            )
        carrier, tracking, valid = SELF_DELIVERY_CARRIER, None, False
    elif channel.platform:
        if cmd.carrier or cmd.tracking_number:
            raise InvalidCommand(
                "platform-tracking", "platform channels issue the carrier and tracking number"
            )
        carrier, tracking, valid = cmd.pickup.provider_code, cmd.issued_tracking_number, True
        zone_name = zone(
            warehouse.address.country, warehouse.address.city, address.country, address.city
        )
        fee = shipping_fee(cmd.config, zone_name, package.weight_g, package.volume_cm3, currency)
    else:
        if not cmd.carrier or not cmd.tracking_number:
            raise InvalidCommand(
                "tracking-required", "SELLER_OWN needs carrier and tracking_number"
            )
        if cmd.carrier not in cmd.config.carrier_formats:
            known = ", ".join(sorted(cmd.config.carrier_formats))
            raise InvalidCommand("unknown-carrier", f"carrier must be one of {known}")
        carrier, tracking = cmd.carrier, cmd.tracking_number
        valid = carrier_tracking_valid(cmd.config, carrier, tracking)
    order_numbers = [str(o) for o in package.combined_orders or (order_id,)]
    label = Label(
        order_number=", ".join(order_numbers),
        order_numbers=order_numbers,
        package_id=package.package_id,
        tracking_number=tracking,
        carrier=carrier,
        handover_mode=HANDOVER_MODES.get(cmd.handover, "DROP OFF"),
        recipient_name=address.recipient_name,
        recipient_phone=address.phone,
        recipient_address=[
            x for x in (address.line1, address.line2, address.city, address.region) if x
        ],
        recipient_postal_code=address.postal_code,
        recipient_country=address.country,
        sender_name=profile.legal_name,
        sender_address=sender_address(warehouse.address),
        sender_postal_code=warehouse.address.postal_code,
        sender_country=warehouse.address.country,
        sender_region=warehouse.address.region,
        weight_g=contents.weight_g,
        items=list(contents.items),
        cross_border=cross_border,
        customs=cmd.customs,
        note=cmd.note,
        hub_address=first_mile_hub(cmd),
    )
    sender_phones = [warehouse.address.phone, warehouse.contact.phone if warehouse.contact else ""]
    problems = label_problems(label, sender_phones=sender_phones, rules=cmd.config.label_rules)
    if problems:
        raise InvalidCommand(
            "label-refused",
            "the label fails the platform's rules: " + "; ".join(p.describe() for p in problems),
            errors=[
                {"field": p.field, "rule": p.rule or "required", "matched": p.matched}
                | {"message": p.problem}
                for p in problems
            ],
        )
    return ReadyToShip(
        order_id=order_id,
        package_id=package.package_id,
        seller_id=seller_id,
        warehouse_id=package.warehouse_id,
        handover=cmd.handover,
        channel=channel.code,
        carrier=carrier,
        tracking_number=tracking,
        tracking_valid=valid,
        shipping_fee=fee,
        dispatch_deadline=package.dispatch_deadline,
        ready_at=cmd.now,
        late=cmd.now > package.dispatch_deadline,
        label=label,
        estimated_delivery_date=cmd.delivery.delivery_date(
            address.country, cmd.now, at_most=option.transit_working_days
        ),
    )


def sending_seller(profile: SellerProfile | None, seller_id: str) -> SellerProfile:
    """The label's sender is the seller under its registered full name: no profile, no label."""
    if profile is None or not profile.exists or profile.seller_id != seller_id:
        raise DomainError(
            "seller-profile-missing",
            f"seller {seller_id} has no profile: the label's sender is the seller's registered "
            "full name (legal_name); PUT /v1/sellers/{seller_id}/profile with legal_name, "
            "shop_name, address (region included) and contact first",
        )
    return profile


def sender_address(address: Address) -> list[str]:
    """The shipping warehouse's complete address: street, city and region (province)."""
    return [x for x in (address.line1, address.line2, address.city, address.region) if x]
