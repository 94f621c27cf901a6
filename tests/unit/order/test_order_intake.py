"""The order's way in, pure: creation and money, payment, the automatic and the operator's
review, placement, the address change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.order.domain.addresses import postal_code_valid
from services.order.domain.fees import ShippingOption, shipping_fee
from services.order.domain.order_delivery import ConfirmReceipt
from services.order.domain.order_intake import (
    ChangeShippingAddress,
    EndRemorseWindow,
    PayOrder,
    ReviewOrder,
)
from services.order.domain.order_policy import OrderPolicy
from services.order.domain.order_state import Order
from services.order.domain.product import Product
from services.order.domain.risk import RiskRules
from shared.aggregate import DomainError, InvalidCommand, NotFound
from shared.events.order import OrderCancelled, OrderPlaced, OrderPutOnHold, OrderStatusChanged
from shared.money import Money
from tests.unit.order.builders import (
    ADDRESS,
    POLICY,
    T0,
    USD,
    created,
    decide,
    listing,
    paid,
    placed,
    run,
)

# --- creation and money -------------------------------------------------------------------


def test_creation_takes_prices_from_the_listing_and_totals_in_minor_units() -> None:
    state = created(
        lines=(("A", 2), ("B", 1)),
        listings={"A": listing("A", 1999, 250), "B": listing("B", 500, 900)},
    )
    assert state.status == "UNPAID"
    assert state.subtotal == Money(amount=2 * 1999 + 500, currency=USD)
    # 1.4 kg: base fee for the first kg + one started extra kg
    assert state.shipping_fee == Money(amount=300 + 100, currency=USD)
    assert state.total == Money(amount=4498 + 400, currency=USD)
    assert state.pay_by == T0 + POLICY.unpaid_timeout


@pytest.mark.parametrize(
    ("lines", "listings", "code"),
    [
        ((), {}, "no-items"),
        ((("A", 1), ("A", 2)), {"A": listing("A")}, "duplicate-sku"),
        ((("Z", 1),), {"A": listing("A")}, "unknown-sku"),
        ((("A", 1),), {"A": listing("A", seller="other")}, "unknown-sku"),
        (
            (("A", 1), ("B", 1)),
            {
                "A": listing("A"),
                "B": Product(
                    seller_id="s1", sku="B", title="B", price=Money(amount=1, currency="EUR")
                ),
            },
            "mixed-currencies",
        ),
    ],
)
def test_invalid_orders_are_refused(lines, listings, code) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidCommand) as err:
        created(lines=lines, listings=listings)
    assert err.value.code == code


@given(weight=st.integers(min_value=0, max_value=100_000))
def test_shipping_fee_grows_by_started_kilogram(weight: int) -> None:
    option = ShippingOption(base_fee=300, per_extra_kg=100)
    fee = shipping_fee(option, weight, USD).amount
    assert fee >= 300
    assert fee == 300 + max(0, (weight + 999) // 1000 - 1) * 100
    assert shipping_fee(option, weight + 1000, USD).amount - fee == (100 if weight > 0 else 0)


@settings(max_examples=60)
@given(
    lines=st.dictionaries(
        st.from_regex(r"[A-Z]{1,4}", fullmatch=True),
        st.tuples(st.integers(1, 20), st.integers(0, 500_000), st.integers(0, 5000)),
        min_size=1,
        max_size=6,
    )
)
def test_total_is_always_items_plus_fee(lines) -> None:  # type: ignore[no-untyped-def]
    listings = {sku: listing(sku, price, weight) for sku, (_, price, weight) in lines.items()}
    state = created(lines=[(sku, q) for sku, (q, _, _) in lines.items()], listings=listings)
    assert state.subtotal and state.shipping_fee and state.total
    assert state.subtotal.amount == sum(q * p for q, p, _ in lines.values())
    assert state.total.amount == state.subtotal.amount + state.shipping_fee.amount


# --- payment and review -------------------------------------------------------------------


def test_payment_must_match_the_total() -> None:
    state = created()
    assert state.total
    wrong = Money(amount=state.total.amount - 1, currency=USD)
    with pytest.raises(InvalidCommand) as err:
        run(state, PayOrder(amount=wrong, transaction_id="t", listings={"A": listing()}, now=T0))
    assert err.value.code == "amount-mismatch"
    other_currency = Money(amount=state.total.amount, currency="EUR")
    with pytest.raises(InvalidCommand):
        run(
            state,
            PayOrder(amount=other_currency, transaction_id="t", listings={"A": listing()}, now=T0),
        )


def test_payment_after_the_window_is_refused() -> None:
    state = created()
    with pytest.raises(DomainError) as err:
        paid(state, at=T0 + POLICY.unpaid_timeout)
    assert err.value.code == "payment-window-closed"


def test_paid_order_is_on_hold_for_the_remorse_window_then_placed() -> None:
    state = paid()
    assert state.status == "ON_HOLD" and state.review_passed is True
    assert state.remorse_until == T0 + timedelta(minutes=5) + POLICY.remorse_window
    early, events = run(state, EndRemorseWindow(now=state.remorse_until - timedelta(seconds=1)))
    assert events == [] and early.status == "ON_HOLD"
    final, events = run(state, EndRemorseWindow(now=state.remorse_until))
    assert final.status == "AWAITING_SHIPMENT"
    placed_event = next(e for e in events if isinstance(e, OrderPlaced))
    assert placed_event.dispatch_deadline == T0 + timedelta(hours=72)  # from its creation
    # deliver-by: working days after it (tests/unit/order/test_deliver_by.py)
    assert placed_event.deliver_by > placed_event.dispatch_deadline + timedelta(days=5)
    assert placed_event.items and placed_event.items[0].weight_g == 250
    assert (
        next(e for e in events if isinstance(e, OrderStatusChanged)).to_status
        == "AWAITING_SHIPMENT"
    )


def test_changed_listing_price_fails_the_review_and_keeps_the_order_on_hold() -> None:
    state = paid(listings={"A": listing("A", price=2500)})
    assert state.review_passed is False
    assert [f.code for f in state.review_failures] == ["PRICE_CHANGED"]
    assert state.remorse_until
    held, events = run(state, EndRemorseWindow(now=state.remorse_until + timedelta(days=1)))
    assert events == [] and held.status == "ON_HOLD"
    approved, events = run(
        held,
        ReviewOrder(
            decision="APPROVE",
            reviewer_id="op",
            note=None,
            now=state.remorse_until + timedelta(days=1),
        ),
    )
    assert approved.status == "AWAITING_SHIPMENT"


def test_operator_rejection_cancels_without_seller_fault() -> None:
    state = paid(listings={})
    assert [f.code for f in state.review_failures] == ["PRODUCT_UNAVAILABLE"]
    rejected, events = run(
        state,
        ReviewOrder(decision="REJECT", reviewer_id="op", note="fraud", now=T0 + timedelta(hours=2)),
    )
    cancelled = next(e for e in events if isinstance(e, OrderCancelled))
    assert rejected.status == "CANCELLED" and not cancelled.seller_fault
    assert cancelled.refund_due == state.total


def test_operator_approval_during_the_window_places_when_it_ends() -> None:
    state = paid(listings={})
    approved, events = run(
        state,
        ReviewOrder(
            decision="APPROVE", reviewer_id="op", note=None, now=T0 + timedelta(minutes=10)
        ),
    )
    assert approved.status == "ON_HOLD" and not any(isinstance(e, OrderPlaced) for e in events)
    assert approved.remorse_until
    final, _ = run(approved, EndRemorseWindow(now=approved.remorse_until))
    assert final.status == "AWAITING_SHIPMENT"
    with pytest.raises(DomainError):
        run(final, ReviewOrder(decision="APPROVE", reviewer_id="op", note=None, now=T0))


@pytest.mark.parametrize(
    ("rules", "address", "quantity", "code"),
    [
        (RiskRules(max_order_total=1000), ADDRESS, 1, "RISK_HIGH_VALUE"),
        (RiskRules(max_units_per_sku=3), ADDRESS, 4, "RISK_QUANTITY"),
        (RiskRules(blocked_postal_codes=frozenset({"12345"})), ADDRESS, 1, "RISK_BLOCKED_AREA"),
        (RiskRules(blocked_buyers=frozenset({"b1"})), ADDRESS, 1, "RISK_BUYER_BLOCKED"),
        (RiskRules(), ADDRESS.model_copy(update={"postal_code": "ABC"}), 1, "ADDRESS_INCOMPLETE"),
    ],
)
def test_risk_rules_and_address_checks_hold_the_order(rules, address, quantity, code) -> None:  # type: ignore[no-untyped-def]
    policy = OrderPolicy(risk=rules)
    state = created(lines=(("A", quantity),), address=address)
    assert state.total
    events = decide(
        state,
        PayOrder(amount=state.total, transaction_id="t", listings={"A": listing()}, now=T0),
        policy,
    )
    hold = next(e for e in events if isinstance(e, OrderPutOnHold))
    assert not hold.review_passed
    assert code in [f.code for f in hold.review_failures]


@pytest.mark.parametrize(
    ("country", "code", "valid"),
    [
        ("US", "12345", True),
        ("US", "12345-6789", True),
        ("US", "1234", False),
        ("GB", "SW1A 1AA", True),
        ("VN", "700000", True),
        ("DE", "1234", False),
        ("ZZ", "X1-9", True),
        ("ZZ", "!", False),
    ],
)
def test_postal_codes(country: str, code: str, valid: bool) -> None:
    assert postal_code_valid(country, code) is valid


def test_address_change_before_shipment() -> None:
    new = ADDRESS.model_copy(update={"line1": "2 Elm St"})
    state, events = run(placed(), ChangeShippingAddress(shipping_address=new, now=T0))
    assert state.shipping_address == new and len(events) == 1
    assert decide(state, ChangeShippingAddress(shipping_address=new, now=T0)) == []


def test_commands_on_a_missing_order_are_not_found() -> None:
    with pytest.raises(NotFound):
        run(Order(), ConfirmReceipt(now=T0))
