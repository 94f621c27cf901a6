"""The invoice of an order, pure: what the buyer paid (unit prices, quantities, line totals,
shipping fee, discounts, taxes) as the order recorded it, issued by the seller under its
registered full name and address. Its figures must add up to the order's recorded subtotal and
total, or it is not issued. The order model has neither discounts nor taxes: an invoice lists
none and says so."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import ConfigDict

from services.fulfillment.domain.fulfillment import Fulfillment
from services.fulfillment.domain.seller_profile import SellerProfile
from shared.aggregate import DomainError
from shared.models import Model
from shared.money import Money

NO_TAX_NOTE = "no tax charged: the order records no taxes, the prices are the amounts paid"
NO_DISCOUNT_NOTE = "no discounts: the order records none"


class InvoiceLine(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")
    sku: str
    title: str
    quantity: int
    unit_price: Money
    line_total: Money


class Adjustment(Model):
    """A discount (subtracted) or a tax (added), named."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    amount: Money


class InvoiceParty(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    address: list[str]
    postal_code: str
    country: str


class Invoice(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")
    invoice_number: str
    invoice_date: date
    order_id: uuid.UUID
    currency: str
    seller: InvoiceParty  # the registered full name and registered address
    shop_name: str
    bill_to: InvoiceParty
    lines: list[InvoiceLine]
    subtotal: Money
    shipping_fee: Money
    discounts: list[Adjustment]
    discount_note: str | None
    taxes: list[Adjustment]
    tax_note: str | None
    total: Money


def invoice_number(order_id: uuid.UUID) -> str:
    """One invoice per order, numbered after it: the same from each of its packages."""
    return f"INV-{order_id.hex[:16].upper()}"


def invoice(order: Fulfillment, profile: SellerProfile) -> Invoice:
    """The order's invoice, or a DomainError naming why there is none."""
    if not profile.exists or profile.address is None:
        raise DomainError(
            "seller-profile-missing",
            f"seller {order.seller_id} has no profile: an invoice names the seller's registered "
            "full name (legal_name) and address; PUT /v1/sellers/{seller_id}/profile first",
        )
    if order.status == "CANCELLED":
        raise DomainError("order-cancelled", "a cancelled order has no invoice")
    paid = (order.subtotal, order.shipping_fee, order.total, order.paid_at)
    if order.order_id is None or order.shipping_address is None or None in paid:
        raise DomainError(
            "invoice-unavailable",
            "this order reached fulfillment before its paid prices were recorded",
        )
    assert order.subtotal and order.shipping_fee and order.total and order.paid_at
    lines = [_line(line.sku, line.title, line.quantity, line.unit_price) for line in order.lines]
    currency = order.total.currency
    subtotal = sum((line.line_total for line in lines), Money.zero(currency))
    total = subtotal + order.shipping_fee  # less discounts, plus taxes: neither is recorded
    if subtotal != order.subtotal or total != order.total:
        raise DomainError(
            "invoice-mismatch",
            f"the lines and fee add up to {total.amount} {total.currency}, the order recorded "
            f"{order.total.amount} {order.total.currency}",
        )
    address = profile.address
    shipping = order.shipping_address
    return Invoice(
        invoice_number=invoice_number(order.order_id),
        invoice_date=order.paid_at.date(),
        order_id=order.order_id,
        currency=currency,
        seller=InvoiceParty(
            name=profile.legal_name,
            address=[x for x in (address.line1, address.line2, address.city, address.region) if x],
            postal_code=address.postal_code,
            country=address.country,
        ),
        shop_name=profile.shop_name,
        bill_to=InvoiceParty(
            name=shipping.recipient_name,
            address=[
                x for x in (shipping.line1, shipping.line2, shipping.city, shipping.region) if x
            ],
            postal_code=shipping.postal_code,
            country=shipping.country,
        ),
        lines=lines,
        subtotal=subtotal,
        shipping_fee=order.shipping_fee,
        discounts=[],
        discount_note=NO_DISCOUNT_NOTE,
        taxes=[],
        tax_note=NO_TAX_NOTE,
        total=total,
    )


def _line(sku: str, title: str, quantity: int, unit_price: Money | None) -> InvoiceLine:
    if unit_price is None:
        raise DomainError(
            "invoice-unavailable", f"the paid unit price of {sku} was not recorded for this order"
        )
    return InvoiceLine(
        sku=sku,
        title=title,
        quantity=quantity,
        unit_price=unit_price,
        line_total=unit_price.times(quantity),
    )
