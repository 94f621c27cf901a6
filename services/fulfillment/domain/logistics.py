"""Logistics rules, pure: channels, shipping-fee templates, tracking-number formats and the
label's content rules (DOMAIN.md section 2). The tables are defaults a deployment replaces
through `LogisticsConfig`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from services.fulfillment.domain.label_rules import (
    LabelProblem,
    LabelRules,
    OrderTerms,
    content_problems,
)
from shared.events.fulfillment import Label
from shared.money import Money


@dataclass(frozen=True)
class Channel:
    code: str
    handover: str  # PICKUP, DROP_OFF, SELLER_OWN or SELF_DELIVERY
    cross_border: bool
    platform: bool  # the platform issues the tracking number
    tracked: bool = True  # a carrier tracks it (SELF_DELIVERY: the seller delivers, untracked)


CHANNELS: Mapping[str, Channel] = {
    c.code: c
    for c in (
        Channel("PLATFORM_PICKUP", "PICKUP", False, True),
        Channel("PLATFORM_DROP_OFF", "DROP_OFF", False, True),
        Channel("SELLER_OWN", "SELLER_OWN", False, False),
        Channel("SELF_DELIVERY", "SELF_DELIVERY", False, False, tracked=False),  # domestic only
        Channel("CROSS_BORDER_PICKUP", "PICKUP", True, True),
        Channel("CROSS_BORDER_DROP_OFF", "DROP_OFF", True, True),
        Channel("CROSS_BORDER_SELLER_OWN", "SELLER_OWN", True, False),
    )
}


def channel_for(handover: str, cross_border: bool) -> Channel:
    for channel in CHANNELS.values():
        if channel.handover == handover and channel.cross_border == cross_border:
            return channel
    raise LookupError(handover)


PLATFORM_CHANNELS = frozenset(c.code for c in CHANNELS.values() if c.platform)


@dataclass(frozen=True)
class ShippingOptionRule:
    """What the buyer's shipping option (chosen at checkout, e.g. EXPRESS) asks of the
    seller's shipment: the channels a package may ship with (None: every channel) and at most
    how many working days in transit (None: the destination's delivery time)."""

    channels: frozenset[str] | None = None
    transit_working_days: int | None = None


ANY_OPTION = ShippingOptionRule()  # an option not configured, or an order placed before


@dataclass(frozen=True)
class FeeTemplate:
    """First kilogram, then each started 500 g; billed on the greater of actual and volumetric
    weight (volume in cm3 / divisor)."""

    first_kg: int
    per_extra_500g: int
    volumetric_divisor: int = 6000


@dataclass(frozen=True)
class LogisticsConfig:
    # destination zone -> template, per channel kind (domestic or cross-border)
    domestic: Mapping[str, FeeTemplate] = field(
        default_factory=lambda: {
            "SAME_CITY": FeeTemplate(first_kg=150, per_extra_500g=50),
            "SAME_COUNTRY": FeeTemplate(first_kg=300, per_extra_500g=100),
        }
    )
    cross_border: FeeTemplate = FeeTemplate(
        first_kg=1500, per_extra_500g=500, volumetric_divisor=5000
    )
    carrier_formats: Mapping[str, str] = field(
        default_factory=lambda: {
            "DHL": r"^\d{10}$",
            "UPS": r"^1Z[0-9A-Z]{16}$",
            "FEDEX": r"^\d{12}(\d{3})?$",
            "USPS": r"^9[2-5]\d{20}$",
            "POST": r"^[A-Z]{2}\d{9}[A-Z]{2}$",  # UPU S10, national posts
            "GHN": r"^[A-Z0-9]{8,12}$",
            "JNT": r"^\d{12,15}$",
        }
    )
    label_rules: LabelRules = field(default_factory=LabelRules)  # what label texts may say
    # carriers whose DELIVERED reports must carry a signature or photo reference (`proof`)
    carriers_requiring_proof: frozenset[str] = frozenset()
    # The buyer's shipping option -> its rule; an option not listed ships any channel in the
    # destination's delivery time. EXPRESS: the platform's channels, 2 working days at most.
    shipping_options: Mapping[str, ShippingOptionRule] = field(
        default_factory=lambda: {
            "STANDARD": ANY_OPTION,
            "EXPRESS": ShippingOptionRule(channels=PLATFORM_CHANNELS, transit_working_days=2),
        }
    )

    def option_rule(self, shipping_option: str | None) -> ShippingOptionRule:
        return self.shipping_options.get(shipping_option or "", ANY_OPTION)

    def allowed_channels(self, shipping_option: str | None) -> list[str]:
        """The channel codes a package of an order with this option may ship with."""
        allowed = self.option_rule(shipping_option).channels
        return [code for code in CHANNELS if allowed is None or code in allowed]


def zone(origin_country: str, origin_city: str, country: str, city: str) -> str:
    if origin_country != country:
        return "CROSS_BORDER"
    return "SAME_CITY" if origin_city.strip().lower() == city.strip().lower() else "SAME_COUNTRY"


def shipping_fee(
    config: LogisticsConfig, zone_name: str, weight_g: int, volume_cm3: int, currency: str
) -> Money:
    template = config.cross_border if zone_name == "CROSS_BORDER" else config.domestic[zone_name]
    billed = max(weight_g, volume_cm3 * 1000 // template.volumetric_divisor)
    extra = max(0, -(-(billed - 1000) // 500))
    return Money(amount=template.first_kg + extra * template.per_extra_500g, currency=currency)


# --- tracking numbers -----------------------------------------------------------------------


def check_digit(digits: str) -> int:
    """Luhn (mod 10) check digit over the digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


def platform_tracking_number(prefix: str, sequence: int) -> str:
    """PREFIX + 10 digits + a check digit, e.g. SF00000000421."""
    digits = f"{sequence:010d}"
    return f"{prefix}{digits}{check_digit(digits)}"


def platform_tracking_valid(number: str, prefix: str) -> bool:
    match = re.fullmatch(re.escape(prefix) + r"(\d{10})(\d)", number)
    return bool(match) and check_digit(match.group(1)) == int(match.group(2))  # type: ignore[union-attr]


def carrier_tracking_valid(config: LogisticsConfig, carrier: str, number: str) -> bool:
    pattern = config.carrier_formats.get(carrier)
    return pattern is not None and re.fullmatch(pattern, number) is not None


# --- label rules ----------------------------------------------------------------------------


def label_problems(
    label: Label,
    *,
    sender_phones: Iterable[str] = (),
    rules: LabelRules = LabelRules(),
) -> list[LabelProblem]:
    """Everything wrong with a label; empty means it may be printed. What its texts may say is
    `label_rules.py`; `sender_phones` are the seller's own numbers (the recipient's is on the
    label). A note may name the parcel's items (their SKUs and titles) and order numbers."""
    problems: list[LabelProblem] = []
    required = {
        "recipient_name": label.recipient_name,
        "recipient_address": " ".join(label.recipient_address),
        "recipient_postal_code": label.recipient_postal_code,
        "order_number": label.order_number,
        "sender_name": label.sender_name,
        "sender_address": " ".join(label.sender_address),
    }
    if label.handover_mode != "SELF DELIVERY":  # the seller delivers: no carrier tracks it
        required["tracking_number"] = label.tracking_number or ""
    for name, value in required.items():
        if not value.strip():
            problems.append(LabelProblem(name, "is missing"))
    if label.cross_border and label.customs is None:
        problems.append(LabelProblem("customs", "a cross-border package needs customs data"))
    texts = {
        "recipient_name": label.recipient_name,
        "recipient_address": " / ".join(label.recipient_address),
        "sender_name": label.sender_name,
        "sender_address": " / ".join(label.sender_address),
        "note": label.note or "",
        "customs.description": label.customs.description if label.customs else "",
    }
    terms = OrderTerms(
        order_numbers=tuple(label.order_numbers)
        or tuple(o.strip() for o in label.order_number.split(",")),
        skus=tuple(dict.fromkeys(i.sku for i in label.items)),
        titles=tuple(dict.fromkeys(i.title for i in label.items if i.title.strip())),
    )
    own_phones = [label.recipient_phone, *sender_phones]
    return problems + content_problems(texts, own_phones=own_phones, terms=terms, rules=rules)
