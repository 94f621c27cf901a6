"""The order aggregate's rules, pure (no database, no clock)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.order.domain import (
    ORDER,
    PRODUCT,
    ApproveCancellation,
    AutoComplete,
    CancelForMissedDispatch,
    CancelOrder,
    CancelUnpaid,
    ChangeProduct,
    ChangeShippingAddress,
    ConfirmReceipt,
    CreateOrder,
    EndRemorseWindow,
    ExtendDispatch,
    ListProduct,
    Order,
    OrderLine,
    OrderPolicy,
    PayOrder,
    Product,
    RecordAftersalesCase,
    RecordPackageStatus,
    RecordRefund,
    RejectCancellation,
    ReviewOrder,
    RiskRules,
    ShippingOption,
    decide_order,
    decide_product,
    postal_code_valid,
    shipping_fee,
)
from shared.aggregate import DomainError, InvalidCommand, NotFound
from shared.events.common import Address
from shared.events.order import (
    CancellationRequested,
    OrderCancelled,
    OrderCompleted,
    OrderPlaced,
    OrderPutOnHold,
    OrderStatusChanged,
)
from shared.money import Money

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
POLICY = OrderPolicy()
USD = "USD"
ADDRESS = Address(
    recipient_name="Ann Lee",
    phone="+1 555 0100",
    line1="1 Main St",
    city="Springfield",
    postal_code="12345",
    country="US",
)


def listing(sku: str = "A", price: int = 1999, weight: int = 250, seller: str = "s1") -> Product:
    return Product(
        seller_id=seller,
        sku=sku,
        title=sku,
        price=Money(amount=price, currency=USD),
        weight_g=weight,
    )


def run(state: Order, command) -> tuple[Order, list]:  # type: ignore[no-untyped-def]
    events = decide_order(state, command, POLICY)
    return ORDER.fold(events, state), events


def created(lines=(("A", 2),), listings=None, address=ADDRESS, at=T0) -> Order:  # type: ignore[no-untyped-def]
    listings = listings or {sku: listing(sku) for sku, _ in lines}
    state, _ = run(
        Order(),
        CreateOrder(
            order_id=uuid.uuid4(),
            buyer_id="b1",
            seller_id="s1",
            lines=[OrderLine(s, q) for s, q in lines],
            listings=listings,
            shipping_address=address,
            shipping_option="STANDARD",
            payment_method="CARD",
            now=at,
        ),
    )
    return state


def paid(
    state: Order | None = None, at: datetime = T0 + timedelta(minutes=5), listings=None
) -> Order:  # type: ignore[no-untyped-def]
    state = state or created()
    assert state.total is not None
    if listings is None:
        listings = {i.sku: listing(i.sku, i.unit_price.amount, i.weight_g) for i in state.items}
    state, _ = run(
        state, PayOrder(amount=state.total, transaction_id="tx", listings=listings, now=at)
    )
    return state


def placed() -> Order:
    state = paid()
    assert state.remorse_until
    state, events = run(state, EndRemorseWindow(now=state.remorse_until))
    assert any(isinstance(e, OrderPlaced) for e in events)
    return state


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
    assert placed_event.dispatch_deadline == state.remorse_until + timedelta(hours=72)
    assert placed_event.deliver_by == placed_event.dispatch_deadline + timedelta(days=6)
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
    events = decide_order(
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


# --- cancellation -------------------------------------------------------------------------


def test_buyer_cancels_unpaid_and_within_remorse_at_once() -> None:
    unpaid, events = run(
        created(),
        CancelOrder(actor="buyer", actor_id="b1", reason_code="CHANGED_MIND", note=None, now=T0),
    )
    assert unpaid.status == "CANCELLED"
    cancelled = next(e for e in events if isinstance(e, OrderCancelled))
    assert not cancelled.was_paid and cancelled.refund_due is None
    state = paid()
    in_window, events = run(
        state,
        CancelOrder(
            actor="buyer",
            actor_id="b1",
            reason_code="CHANGED_MIND",
            note=None,
            now=T0 + timedelta(minutes=6),
        ),
    )
    assert in_window.status == "CANCELLED"
    assert next(e for e in events if isinstance(e, OrderCancelled)).refund_due == state.total


def test_buyer_cancellation_after_placement_is_a_request_the_seller_answers() -> None:
    state = placed()
    now = T0 + timedelta(hours=3)
    requested, events = run(
        state,
        CancelOrder(actor="buyer", actor_id="b1", reason_code="CHANGED_MIND", note="oops", now=now),
    )
    assert requested.status == "AWAITING_SHIPMENT"
    request = next(e for e in events if isinstance(e, CancellationRequested))
    assert request.auto_approve_at == now + POLICY.cancellation_auto_approve
    with pytest.raises(DomainError):
        run(
            requested,
            CancelOrder(
                actor="buyer", actor_id="b1", reason_code="CHANGED_MIND", note=None, now=now
            ),
        )
    rejected, _ = run(
        requested, RejectCancellation(actor_id="s1", reason="already packed", now=now)
    )
    assert rejected.cancellation_request and rejected.cancellation_request.status == "REJECTED"
    # an auto-approval firing after a rejection does nothing
    assert (
        decide_order(
            rejected, ApproveCancellation(actor_id="system", now=request.auto_approve_at, auto=True)
        )
        == []
    )
    with pytest.raises(InvalidCommand):
        run(requested, RejectCancellation(actor_id="s1", reason="  ", now=now))
    approved, events = run(requested, ApproveCancellation(actor_id="s1", now=now))
    cancelled = next(e for e in events if isinstance(e, OrderCancelled))
    assert (
        approved.status == "CANCELLED"
        and cancelled.cancelled_by == "buyer"
        and not cancelled.seller_fault
    )


def test_unanswered_request_is_approved_automatically_only_when_due() -> None:
    state = placed()
    requested, events = run(
        state,
        CancelOrder(
            actor="buyer",
            actor_id="b1",
            reason_code="OTHER",
            note=None,
            now=T0 + timedelta(hours=2),
        ),
    )
    due = next(e for e in events if isinstance(e, CancellationRequested)).auto_approve_at
    assert (
        decide_order(
            requested,
            ApproveCancellation(actor_id="system", now=due - timedelta(seconds=1), auto=True),
        )
        == []
    )
    auto, _ = run(requested, ApproveCancellation(actor_id="system", now=due, auto=True))
    assert auto.status == "CANCELLED"


@pytest.mark.parametrize(
    ("reason", "fault"),
    [("OUT_OF_STOCK", True), ("PRICING_ERROR", True), ("BUYER_REQUESTED", False)],
)
def test_seller_cancellation_reason_decides_seller_fault(reason: str, fault: bool) -> None:
    _, events = run(
        placed(),
        CancelOrder(
            actor="seller",
            actor_id="s1",
            reason_code=reason,
            note=None,
            now=T0 + timedelta(hours=3),
        ),
    )
    assert next(e for e in events if isinstance(e, OrderCancelled)).seller_fault is fault


def test_unknown_reason_codes_are_refused() -> None:
    with pytest.raises(InvalidCommand):
        run(
            placed(),
            CancelOrder(
                actor="seller", actor_id="s1", reason_code="CHANGED_MIND", note=None, now=T0
            ),
        )
    with pytest.raises(InvalidCommand):
        run(
            created(),
            CancelOrder(
                actor="buyer", actor_id="b1", reason_code="OUT_OF_STOCK", note=None, now=T0
            ),
        )


def test_unpaid_timeout_cancels_only_unpaid_orders_when_due() -> None:
    state = created()
    assert decide_order(state, CancelUnpaid(now=T0 + timedelta(minutes=29))) == []
    timed_out, events = run(state, CancelUnpaid(now=T0 + timedelta(minutes=30)))
    assert timed_out.status == "CANCELLED"
    assert next(e for e in events if isinstance(e, OrderCancelled)).reason_code == "UNPAID_TIMEOUT"
    assert decide_order(paid(), CancelUnpaid(now=T0 + timedelta(hours=5))) == []


def test_later_statuses_refuse_cancellation_and_address_changes() -> None:
    from dataclasses import replace

    for status in (
        "AWAITING_COLLECTION",
        "PARTIALLY_SHIPPING",
        "IN_TRANSIT",
        "DELIVERED",
        "COMPLETED",
    ):
        state = replace(placed(), status=status)
        with pytest.raises(DomainError) as err:
            run(
                state,
                CancelOrder(actor="buyer", actor_id="b1", reason_code="OTHER", note=None, now=T0),
            )
        assert err.value.status == 409
        with pytest.raises(DomainError):
            run(
                state,
                ChangeShippingAddress(
                    shipping_address=ADDRESS.model_copy(update={"line1": "2 Elm"}), now=T0
                ),
            )


def test_confirm_receipt_only_after_delivery() -> None:
    from dataclasses import replace

    with pytest.raises(DomainError):
        run(placed(), ConfirmReceipt(now=T0))
    done, _ = run(replace(placed(), status="DELIVERED"), ConfirmReceipt(now=T0))
    assert done.status == "COMPLETED"


def test_address_change_before_shipment() -> None:
    new = ADDRESS.model_copy(update={"line1": "2 Elm St"})
    state, events = run(placed(), ChangeShippingAddress(shipping_address=new, now=T0))
    assert state.shipping_address == new and len(events) == 1
    assert decide_order(state, ChangeShippingAddress(shipping_address=new, now=T0)) == []


def test_commands_on_a_missing_order_are_not_found() -> None:
    with pytest.raises(NotFound):
        run(Order(), ConfirmReceipt(now=T0))


# --- properties over command sequences ------------------------------------------------------

ACTIONS = st.lists(
    st.sampled_from(
        [
            "pay",
            "end_window",
            "buyer_cancel",
            "seller_cancel",
            "approve",
            "reject",
            "timeout",
            "review_ok",
            "confirm",
        ]
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(actions=ACTIONS, step_minutes=st.integers(1, 2000))
def test_any_command_sequence_keeps_the_invariants(actions: list[str], step_minutes: int) -> None:
    """Whatever happens: a cancelled order stays cancelled, money never changes after
    creation, a refund is due exactly when a paid order is cancelled, and every status move
    is announced by OrderStatusChanged."""
    state = created()
    total = state.total
    now = T0
    for action in actions:
        now += timedelta(minutes=step_minutes)
        assert state.total
        command = {
            "pay": PayOrder(
                amount=state.total, transaction_id="t", listings={"A": listing()}, now=now
            ),
            "end_window": EndRemorseWindow(now=now),
            "buyer_cancel": CancelOrder(
                actor="buyer", actor_id="b1", reason_code="OTHER", note=None, now=now
            ),
            "seller_cancel": CancelOrder(
                actor="seller", actor_id="s1", reason_code="OUT_OF_STOCK", note=None, now=now
            ),
            "approve": ApproveCancellation(actor_id="s1", now=now),
            "reject": RejectCancellation(actor_id="s1", reason="no", now=now),
            "timeout": CancelUnpaid(now=now),
            "review_ok": ReviewOrder(decision="APPROVE", reviewer_id="op", note=None, now=now),
            "confirm": ConfirmReceipt(now=now),
        }[action]
        before = state
        try:
            events = decide_order(state, command)
        except DomainError:
            continue
        state = ORDER.fold(events, state)
        if before.status == "CANCELLED":
            assert events == []
        if state.status != before.status:
            assert (
                isinstance(events[-1], OrderStatusChanged) and events[-1].to_status == state.status
            )
        for event in events:
            if isinstance(event, OrderCancelled):
                assert (event.refund_due is not None) == (before.paid_at is not None)
        assert state.total == total


def test_products_list_once_and_change() -> None:
    command = ListProduct(
        seller_id="s1", sku="A", title="T", price=Money(amount=1, currency=USD), weight_g=1
    )
    state = PRODUCT.fold(decide_product(Product(), command))
    assert state.exists
    with pytest.raises(DomainError):
        decide_product(state, command)
    changed = PRODUCT.fold(
        decide_product(state, ChangeProduct(price=Money(amount=2, currency=USD))), state
    )
    assert changed.price == Money(amount=2, currency=USD) and changed.title == "T"
    with pytest.raises(NotFound):
        decide_product(Product(seller_id="s1", sku="B"), ChangeProduct(title="x"))


# --- following the packages ---------------------------------------------------------------


def progress(state: Order, package: uuid.UUID, status: str, hours: float = 1) -> Order:
    events = decide_order(state, RecordPackageStatus(package, status, T0 + timedelta(hours=hours)))
    return ORDER.fold(events, state)


def test_the_status_follows_the_packages() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    state = progress(progress(placed(), a, "PLANNED"), b, "PLANNED")
    assert state.status == "AWAITING_SHIPMENT"
    state = progress(state, a, "READY_TO_SHIP")
    assert state.status == "PARTIALLY_SHIPPING"
    state = progress(state, b, "READY_TO_SHIP")
    assert state.status == "AWAITING_COLLECTION"
    state = progress(state, a, "IN_TRANSIT")
    assert state.status == "IN_TRANSIT"
    state = progress(state, a, "READY_TO_SHIP")  # a late report of an earlier phase
    assert state.packages[a] == "IN_TRANSIT"
    state = progress(state, a, "DELIVERED", hours=10)
    assert state.status == "IN_TRANSIT"
    state = progress(state, b, "DELIVERED", hours=12)
    assert state.status == "DELIVERED" and state.delivered_at == T0 + timedelta(hours=12)


def test_automatic_completion_waits_its_days_and_for_open_cases() -> None:
    from dataclasses import replace

    package = uuid.uuid4()
    state = progress(progress(placed(), package, "PLANNED"), package, "DELIVERED", hours=5)
    due = T0 + timedelta(hours=5) + POLICY.auto_complete_after
    assert decide_order(state, AutoComplete(now=due - timedelta(minutes=1))) == []
    assert (
        decide_order(replace(state, open_cases=frozenset({uuid.uuid4()})), AutoComplete(now=due))
        == []
    )
    done, events = run(state, AutoComplete(now=due))
    assert done.status == "COMPLETED" and isinstance(events[0], OrderCompleted) and events[0].auto


def test_aftersales_cases_hold_completion_and_refunds_are_recorded_once() -> None:
    package, case = uuid.uuid4(), uuid.uuid4()
    state = progress(progress(placed(), package, "PLANNED"), package, "DELIVERED", hours=5)
    state, _ = run(state, RecordAftersalesCase(case, True, T0))
    assert state.open_aftersales_cases == 1
    assert decide_order(state, RecordAftersalesCase(case, True, T0)) == []  # a repeat
    due = T0 + timedelta(hours=5) + POLICY.auto_complete_after
    assert decide_order(state, AutoComplete(now=due)) == []
    state, _ = run(state, RecordAftersalesCase(case, False, T0))
    assert state.open_aftersales_cases == 0
    assert decide_order(state, RecordAftersalesCase(case, False, T0)) == []

    assert state.paid_amount is not None
    part = Money(amount=100, currency=state.paid_amount.currency)
    state, events = run(state, RecordRefund(case, part, T0))
    assert not events[0].fully_refunded and state.refunded == part
    assert decide_order(state, RecordRefund(case, part, T0)) == []  # the same refund again
    rest = Money(amount=state.paid_amount.amount - 100, currency=part.currency)
    state, events = run(state, RecordRefund(uuid.uuid4(), rest, T0))
    assert events[0].fully_refunded and state.fully_refunded
    assert state.status == "DELIVERED"  # the refund is shown on the order, not a new status


def test_a_replacement_package_after_delivery_leaves_the_order_delivered() -> None:
    package = uuid.uuid4()
    state = progress(progress(placed(), package, "PLANNED"), package, "DELIVERED", hours=5)
    assert decide_order(state, RecordPackageStatus(uuid.uuid4(), "READY_TO_SHIP", T0)) == []


def test_missed_dispatch_cancels_at_the_sellers_fault_only_when_nothing_is_ready() -> None:
    state = placed()
    assert state.dispatch_deadline
    due = state.dispatch_deadline + POLICY.missed_dispatch_cancel_after
    assert decide_order(state, CancelForMissedDispatch(now=due - timedelta(seconds=1))) == []
    cancelled, events = run(state, CancelForMissedDispatch(now=due))
    event = next(e for e in events if isinstance(e, OrderCancelled))
    assert (
        cancelled.status == "CANCELLED"
        and event.seller_fault
        and event.reason_code == "MISSED_DISPATCH_DEADLINE"
    )
    package = uuid.uuid4()
    ready = progress(progress(state, package, "PLANNED"), package, "READY_TO_SHIP")
    assert decide_order(ready, CancelForMissedDispatch(now=due)) == []


def test_an_extension_before_placement_is_included_in_the_deadline_and_moves_it_after() -> None:
    early = paid()
    early = ORDER.fold(decide_order(early, ExtendDispatch(72, "switch", T0)), early)
    assert early.remorse_until
    placed_state, events = run(early, EndRemorseWindow(now=early.remorse_until))
    placed_event = next(e for e in events if isinstance(e, OrderPlaced))
    assert placed_event.dispatch_deadline == early.remorse_until + timedelta(hours=72 + 72)
    later, _ = run(placed_state, ExtendDispatch(24, "switch", T0))
    assert later.dispatch_deadline == placed_event.dispatch_deadline + timedelta(hours=24)
    assert later.deliver_by == placed_event.deliver_by + timedelta(hours=24)
