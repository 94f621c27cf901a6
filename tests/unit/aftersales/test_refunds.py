"""What a refund pays back, pure: the shipping-fee rule and never more than was paid."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.aftersales.domain.ledger_state import Case, Ledger
from services.aftersales.domain.refunds import cancellation_refund, refund_amount, settlement
from shared.events.aftersales import OrderedItem, RequestedItem
from shared.money import Money

T0 = datetime(2026, 11, 10, 9, tzinfo=UTC)


def vnd(amount: int) -> Money:
    return Money(amount=amount, currency="VND")


def paid_order(shipped: bool, refunded: int = 0) -> Ledger:
    return Ledger(
        order_id=uuid.uuid4(),
        buyer_id="b1",
        seller_id="s1",
        items={
            "A": OrderedItem(sku="A", quantity=2, unit_price=vnd(1000)),
            "B": OrderedItem(sku="B", quantity=1, unit_price=vnd(500)),
        },
        shipping_fee=vnd(300),
        paid=vnd(2800),
        shipped=shipped,
        refunded=refunded,
    )


def items(**quantities: int) -> list[RequestedItem]:
    return [RequestedItem(sku=sku, quantity=q) for sku, q in quantities.items()]


def test_items_are_refunded_at_the_unit_price_paid_times_the_quantity() -> None:
    assert refund_amount(paid_order(shipped=True), items(A=1), "DAMAGED") == vnd(1000)
    assert refund_amount(paid_order(shipped=True), items(A=2), "DAMAGED") == vnd(2000)


def test_the_last_unit_refunds_shipping_for_the_sellers_fault_only_once_shipped() -> None:
    whole = items(A=2, B=1)
    assert refund_amount(paid_order(shipped=True), whole, "WRONG_ITEM") == vnd(2800)
    assert refund_amount(paid_order(shipped=True), whole, "NO_LONGER_NEEDED") == vnd(2500)


def test_before_shipping_the_last_unit_refunds_shipping_whatever_the_reason() -> None:
    whole = items(A=2, B=1)
    assert refund_amount(paid_order(shipped=False), whole, "NO_LONGER_NEEDED") == vnd(2800)


def test_a_refund_is_never_more_than_is_left_of_what_was_paid() -> None:
    state = paid_order(shipped=True, refunded=2600)
    assert refund_amount(state, items(A=1), "DAMAGED") == vnd(200)
    case = Case(
        request_id=uuid.uuid4(),
        type="REFUND_ONLY",
        items=tuple(items(A=1)),
        reason_code="DAMAGED",
        description=None,
        evidence_urls=(),
        requested_at=T0,
        answer_due=T0,
        refund_amount=vnd(1000),
    )
    assert settlement(state, case) == vnd(200)


def test_a_cancelled_order_gets_back_what_was_paid_and_not_refunded_yet() -> None:
    assert cancellation_refund(paid_order(shipped=False, refunded=500)) == vnd(2300)
    assert cancellation_refund(paid_order(shipped=False, refunded=2800)) is None
    assert cancellation_refund(Ledger()) is None
