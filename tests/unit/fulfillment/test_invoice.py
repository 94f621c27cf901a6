"""An order's invoice: the paid unit prices times the quantities are the line totals, they
add up to the order's subtotal, the shipping fee to its total; no discounts or taxes (the
order records none, and the invoice says so); the seller's registered name and address."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta

import pytest

from services.fulfillment.domain.fulfillment import (
    FULFILLMENT,
    CancelFulfillment,
    Fulfillment,
    RequestFulfillment,
    decide,
)
from services.fulfillment.domain.invoice import NO_TAX_NOTE, invoice, invoice_number
from services.fulfillment.domain.seller_profile import SellerProfile
from shared.aggregate import DomainError
from shared.events.common import Address
from shared.events.fulfillment import FulfillmentRequested, OrderLine
from shared.money import Money
from tests.unit.fulfillment.scenarios import T0
from tests.unit.fulfillment.test_seller_profile import CONTACT, DONGGUAN, LEGAL_NAME

PROFILE = SellerProfile("s1", LEGAL_NAME, "小美家居", DONGGUAN, CONTACT)
BUYER = Address(
    recipient_name="李雷",
    phone="+86 20 1234 5678",
    line1="天河路100号",
    city="广州市",
    region="广东省",
    postal_code="510000",
    country="CN",
)


def cny(amount: int) -> Money:
    return Money(amount=amount, currency="CNY")


def paid_order(
    subtotal: int = 3 * 1990 + 4500, total: int = 3 * 1990 + 4500 + 800, prices: bool = True
) -> Fulfillment:
    """3 cushions at 19.90 and a lamp at 45.00, 8.00 shipping, paid on 2 Nov 2026."""
    event = FulfillmentRequested(
        order_id=uuid.UUID(int=42),
        seller_id="s1",
        buyer_id="b1",
        lines=[
            OrderLine(
                sku="CUSHION",
                title="靠垫",
                quantity=3,
                weight_g=300,
                unit_price=cny(1990) if prices else None,
            ),
            OrderLine(
                sku="LAMP",
                title="台灯",
                quantity=1,
                weight_g=900,
                unit_price=cny(4500) if prices else None,
            ),
        ],
        shipping_address=BUYER,
        currency="CNY",
        placed_at=T0,
        dispatch_deadline=T0 + timedelta(hours=72),
        deliver_by=T0 + timedelta(days=9),
        subtotal=cny(subtotal),
        shipping_fee=cny(800),
        total=cny(total),
        paid_at=T0 - timedelta(minutes=30),
    )
    return FULFILLMENT.fold(decide(Fulfillment(), RequestFulfillment(event, T0)))


def test_line_totals_add_up_to_the_subtotal_and_with_shipping_to_the_total() -> None:
    issued = invoice(paid_order(), PROFILE)
    assert [
        (line.sku, line.quantity, line.unit_price, line.line_total) for line in issued.lines
    ] == [
        ("CUSHION", 3, cny(1990), cny(5970)),
        ("LAMP", 1, cny(4500), cny(4500)),
    ]
    assert issued.subtotal == cny(10470) and issued.shipping_fee == cny(800)
    assert issued.total == cny(11270)
    assert issued.discounts == [] and issued.taxes == [] and issued.tax_note == NO_TAX_NOTE


def test_the_invoice_names_the_seller_by_its_legal_name_and_is_numbered_after_the_order() -> None:
    issued = invoice(paid_order(), PROFILE)
    assert issued.seller.name == LEGAL_NAME and issued.shop_name == "小美家居"
    assert issued.seller.address == ["洪梅镇某某路1号", "东莞市", "广东省"]
    assert issued.bill_to.name == "李雷" and issued.bill_to.postal_code == "510000"
    assert issued.invoice_number == invoice_number(uuid.UUID(int=42)) == "INV-0000000000000000"
    assert issued.invoice_date == date(2026, 11, 2)  # the day it was paid


def test_figures_that_do_not_add_up_are_not_invoiced() -> None:
    with pytest.raises(DomainError, match="add up") as refused:
        invoice(paid_order(total=11000), PROFILE)
    assert refused.value.code == "invoice-mismatch"
    with pytest.raises(DomainError, match="add up"):
        invoice(paid_order(subtotal=10000), PROFILE)


def test_no_invoice_without_a_profile_without_prices_or_for_a_cancelled_order() -> None:
    with pytest.raises(DomainError) as refused:
        invoice(paid_order(), SellerProfile())
    assert refused.value.code == "seller-profile-missing"
    with pytest.raises(DomainError) as refused:
        invoice(paid_order(prices=False), PROFILE)
    assert refused.value.code == "invoice-unavailable"
    with pytest.raises(DomainError) as refused:
        invoice(replace(paid_order(), paid_at=None), PROFILE)  # placed before prices were kept
    assert refused.value.code == "invoice-unavailable"
    order = paid_order()
    cancelled = FULFILLMENT.fold(decide(order, CancelFulfillment("buyer", T0)), order)
    with pytest.raises(DomainError) as refused:
        invoice(cancelled, PROFILE)
    assert refused.value.code == "order-cancelled"
