"""The platform's automatic review of a paid order: the listings still hold, the buyer and the
address are complete, the payment matches, and no configurable risk rule is hit. Any failure
keeps the order ON_HOLD for an operator."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.order.domain.addresses import (
    missing_fields,
    normalized_postal_code,
    postal_code_valid,
)
from services.order.domain.order_state import Order
from services.order.domain.product import Product
from shared.events.order import ReviewFailure


@dataclass(frozen=True)
class RiskRules:
    """Configurable risk rules; any hit keeps a paid order ON_HOLD for an operator."""

    max_order_total: int | None = 5_000_000
    max_units_per_sku: int | None = 50
    blocked_postal_codes: frozenset[str] = frozenset()
    blocked_buyers: frozenset[str] = frozenset()


def review_order(
    order: Order, listings: Mapping[str, Product], rules: RiskRules
) -> list[ReviewFailure]:
    """The review of a paid order; an empty list means it passed."""
    failures: list[ReviewFailure] = []

    def fail(code: str, detail: str) -> None:
        failures.append(ReviewFailure(code=code, detail=detail))

    for item in order.items:
        listing = listings.get(item.sku)
        if listing is None or listing.price is None:
            fail("PRODUCT_UNAVAILABLE", f"SKU {item.sku} is no longer listed")
        elif not listing.orderable:
            fail(
                "PRODUCT_NOT_APPROVED",
                f"SKU {item.sku}'s listing is {listing.review_status} since the order was made",
            )
        elif listing.price != item.unit_price:
            fail(
                "PRICE_CHANGED",
                f"SKU {item.sku} is listed at {listing.price.amount} now, "
                f"ordered at {item.unit_price.amount}",
            )
        if rules.max_units_per_sku is not None and item.quantity > rules.max_units_per_sku:
            fail(
                "RISK_QUANTITY",
                f"{item.quantity} units of {item.sku} exceed {rules.max_units_per_sku}",
            )
    if not order.buyer_id.strip():
        fail("BUYER_DATA", "the buyer is unknown")
    elif order.buyer_id in rules.blocked_buyers:
        fail("RISK_BUYER_BLOCKED", "the buyer is on the block list")
    address = order.shipping_address
    if address is None:
        fail("ADDRESS_INCOMPLETE", "no shipping address")
    else:
        missing = missing_fields(address)
        if missing:
            fail("ADDRESS_INCOMPLETE", f"missing {', '.join(missing)}")
        elif not postal_code_valid(address.country, address.postal_code):
            fail(
                "ADDRESS_INCOMPLETE",
                f"postal code {address.postal_code!r} is not valid for {address.country}",
            )
        if normalized_postal_code(address.postal_code) in rules.blocked_postal_codes:
            fail("RISK_BLOCKED_AREA", f"postal code {address.postal_code} is blocked")
    if order.paid_amount != order.total:
        fail("PAYMENT_MISMATCH", "the payment does not match the total")
    if (
        rules.max_order_total is not None
        and order.total is not None
        and order.total.amount > rules.max_order_total
    ):
        fail("RISK_HIGH_VALUE", f"total {order.total.amount} exceeds {rules.max_order_total}")
    return failures
