"""Review before listing (issue 18): in a market configured to require it, a new listing waits
for an operator's approval, and orders cannot be made for it until then."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.order.domain.order_intake import PayOrder
from services.order.domain.product import (
    ChangeProduct,
    ListProduct,
    Product,
    ReviewProduct,
    product_aggregate,
)
from services.order.settings import OrderSettings
from shared.aggregate import DomainError, InvalidCommand, NotFound
from shared.events.order import (
    ProductApproved,
    ProductListed,
    ProductRejected,
    ProductSubmittedForReview,
)
from shared.money import Money
from tests.unit.order.builders import T0, USD, created, paid, run

REVIEWED = product_aggregate({"CN", "VN"})


def listed(market: str | None = "CN", aggregate=REVIEWED) -> Product:  # type: ignore[no-untyped-def]
    command = ListProduct(
        seller_id="s1",
        sku="A",
        title="Fan",
        price=Money(amount=1999, currency=USD),
        weight_g=250,
        now=T0,
        market=market,
    )
    return aggregate.fold(aggregate.decide(Product(), command))


def reviewed(state: Product, decision: str, reason: str | None = None) -> Product:
    command = ReviewProduct("s1", "A", decision, "op-1", reason, T0 + timedelta(hours=1))  # type: ignore[arg-type]
    return REVIEWED.fold(REVIEWED.decide(state, command), state)


def changed(state: Product, **fields: object) -> tuple[Product, list[object]]:
    events = REVIEWED.decide(state, ChangeProduct("s1", "A", T0 + timedelta(hours=2), **fields))  # type: ignore[arg-type]
    return REVIEWED.fold(events, state), list(events)


def test_a_new_listing_in_a_market_that_requires_review_is_pending_review() -> None:
    events = REVIEWED.decide(
        Product(),
        ListProduct("s1", "A", "Fan", Money(amount=1999, currency=USD), 250, T0, market="CN"),
    )
    assert [type(e) for e in events] == [ProductListed, ProductSubmittedForReview]
    state = REVIEWED.fold(events)
    assert state.review_status == "PENDING_REVIEW" and state.submitted_at == T0
    assert state.exists and not state.orderable


@pytest.mark.parametrize("market", [None, "US"])
def test_a_listing_elsewhere_or_without_a_market_needs_no_review(market: str | None) -> None:
    state = listed(market)
    assert state.review_status == "NOT_REQUIRED" and state.orderable


def test_by_default_no_market_requires_review() -> None:
    assert listed("CN", product_aggregate()).orderable
    assert OrderSettings().policy().listing_review_markets == frozenset()


def test_the_setting_takes_a_comma_separated_list_of_country_codes() -> None:
    settings = OrderSettings(listing_review_markets="cn, VN")  # type: ignore[arg-type]
    assert settings.policy().listing_review_markets == {"CN", "VN"}
    with pytest.raises(ValueError, match="country code"):
        OrderSettings(listing_review_markets="CHN")  # type: ignore[arg-type]


def test_an_order_for_a_listing_pending_review_is_refused_naming_the_sku() -> None:
    with pytest.raises(DomainError) as err:
        created(listings={"A": listed()})
    assert err.value.status == 409 and err.value.code == "product-not-approved"
    assert "SKU A" in err.value.detail and err.value.extra == {"sku": "A"}


def test_an_approved_listing_can_be_ordered() -> None:
    state = reviewed(listed(), "APPROVE")
    assert state.review_status == "APPROVED" and state.orderable
    assert created(listings={"A": state}).status == "UNPAID"


def test_a_rejected_listing_keeps_refusing_orders_and_its_seller_sees_the_reason() -> None:
    state = reviewed(listed(), "REJECT", "counterfeit brand")
    assert state.review_status == "REJECTED" and state.review_reason == "counterfeit brand"
    with pytest.raises(DomainError, match="REJECTED"):
        created(listings={"A": state})
    priced, _ = changed(state, price=Money(amount=999, currency=USD))
    assert priced.review_status == "PENDING_REVIEW" and not priced.orderable


def test_a_rejection_needs_a_reason() -> None:
    with pytest.raises(InvalidCommand) as err:
        reviewed(listed(), "REJECT", " ")
    assert err.value.code == "reason-required"


def test_only_a_listing_pending_review_is_reviewed() -> None:
    approved = reviewed(listed(), "APPROVE")
    with pytest.raises(DomainError) as err:
        reviewed(approved, "REJECT", "late")
    assert err.value.code == "not-pending-review"
    with pytest.raises(DomainError):
        reviewed(listed("US"), "APPROVE")
    with pytest.raises(NotFound):
        reviewed(Product(), "APPROVE")


def test_a_title_change_of_an_approved_listing_goes_to_review_again() -> None:
    state, events = changed(reviewed(listed(), "APPROVE"), title="Big fan")
    assert isinstance(events[-1], ProductSubmittedForReview) and events[-1].title == "Big fan"
    assert state.review_status == "PENDING_REVIEW" and state.review_reason is None


def test_price_weight_and_size_changes_of_an_approved_listing_need_no_review() -> None:
    state, events = changed(
        reviewed(listed(), "APPROVE", "ok"), price=Money(amount=1, currency=USD), weight_g=9
    )
    assert len(events) == 1 and state.review_status == "APPROVED" and state.orderable


def test_a_change_of_a_listing_pending_review_keeps_it_pending_once() -> None:
    state, events = changed(listed(), title="Big fan")
    assert len(events) == 1 and state.review_status == "PENDING_REVIEW"


def test_a_change_of_a_listing_that_needs_no_review_stays_orderable() -> None:
    state, events = changed(listed("US"), title="Big fan")
    assert len(events) == 1 and state.orderable


def test_the_review_events_carry_the_decision() -> None:
    pending = listed()
    approve = REVIEWED.decide(pending, ReviewProduct("s1", "A", "APPROVE", "op-1", None, T0))
    reject = REVIEWED.decide(pending, ReviewProduct("s1", "A", "REJECT", "op-1", "fake", T0))
    assert isinstance(approve[0], ProductApproved) and approve[0].reviewer_id == "op-1"
    assert isinstance(reject[0], ProductRejected) and reject[0].reason == "fake"


def test_a_listing_sent_back_to_review_after_the_order_holds_the_paid_order() -> None:
    order = created()
    assert order.total is not None
    pending, _ = changed(reviewed(listed(), "APPROVE"), title="Big fan")  # after the order
    state, _ = run(
        order,
        PayOrder(
            amount=order.total,
            transaction_id="tx",
            listings={"A": pending},
            now=T0 + timedelta(minutes=5),
        ),
    )
    assert state.review_passed is False
    assert [f.code for f in state.review_failures] == ["PRODUCT_NOT_APPROVED"]
    assert paid().review_passed  # an orderable listing passes
