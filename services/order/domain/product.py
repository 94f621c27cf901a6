"""A seller's listing of one SKU: listed once, then changed (title, price, weight, size).
Stream `product/<seller id>/<sku>`.

Review before listing (issue 18): a listing may name the market (country) it sells in. In a
market that requires review (`product_aggregate(review_markets)`) a new listing is
PENDING_REVIEW until an operator approves or rejects it, and buyers cannot order it until
approved. A change needs review again when the listing was rejected (any change: that is
how its seller answers the rejection) or when its title changes in such a market; price,
weight and size changes of an approved listing do not. The market is set when the SKU is
listed and does not change."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, replace
from datetime import datetime

from shared.aggregate import Aggregate, DomainError, InvalidCommand, NotFound
from shared.events import EventPayload
from shared.events.common import Dimensions
from shared.events.order import (
    PRODUCT_STREAM,
    ListingReviewStatus,
    ProductApproved,
    ProductChanged,
    ProductListed,
    ProductRejected,
    ProductSubmittedForReview,
    ReviewDecision,
)
from shared.money import Money

ORDERABLE: frozenset[ListingReviewStatus] = frozenset({"NOT_REQUIRED", "APPROVED"})


@dataclass(frozen=True)
class Product:
    seller_id: str = ""
    sku: str = ""
    title: str = ""
    price: Money | None = None
    weight_g: int = 0
    dimensions: Dimensions | None = None
    market: str | None = None
    review_status: ListingReviewStatus = "NOT_REQUIRED"
    review_reason: str | None = None  # the operator's, with the last decision
    submitted_at: datetime | None = None  # last sent to review
    reviewed_at: datetime | None = None

    @property
    def exists(self) -> bool:
        return self.price is not None

    @property
    def orderable(self) -> bool:
        """Listed, and approved where its market requires review."""
        return self.exists and self.review_status in ORDERABLE


@dataclass(frozen=True)
class ListProduct:
    seller_id: str
    sku: str
    title: str
    price: Money
    weight_g: int
    now: datetime
    dimensions: Dimensions | None = None
    market: str | None = None  # ISO country code; None: no market, no review


@dataclass(frozen=True)
class ChangeProduct:
    """Changes the fields given (None: unchanged) of the seller's listing of the SKU."""

    seller_id: str
    sku: str
    now: datetime
    title: str | None = None
    price: Money | None = None
    weight_g: int | None = None
    dimensions: Dimensions | None = None


@dataclass(frozen=True)
class ReviewProduct:
    """An operator's decision on a listing pending review; a rejection needs a reason."""

    seller_id: str
    sku: str
    decision: ReviewDecision
    reviewer_id: str
    reason: str | None
    now: datetime


ProductCommand = ListProduct | ChangeProduct | ReviewProduct


def decide(
    state: Product, command: ProductCommand, review_markets: Set[str] = frozenset()
) -> list[EventPayload]:
    """`review_markets`: the markets (country codes) where listings need an operator's review."""
    match command:
        case ListProduct() if state.exists:
            raise DomainError("product-exists", f"SKU {command.sku} is listed already; PUT it")
        case ListProduct():
            listed = ProductListed(
                seller_id=command.seller_id,
                sku=command.sku,
                title=command.title,
                price=command.price,
                weight_g=command.weight_g,
                dimensions=command.dimensions,
                market=command.market,
            )
            if command.market is None or command.market not in review_markets:
                return [listed]
            return [listed, _submitted(listed, command.market, command.now)]
        case ChangeProduct():
            if state.price is None:
                raise NotFound("product-not-found", f"SKU {command.sku} is not listed")
            changed = ProductChanged(
                seller_id=state.seller_id,
                sku=state.sku,
                title=command.title if command.title is not None else state.title,
                price=command.price if command.price is not None else state.price,
                weight_g=command.weight_g if command.weight_g is not None else state.weight_g,
                dimensions=command.dimensions or state.dimensions,
            )
            if state.market is None or not _needs_review_again(
                state, changed.title != state.title, review_markets
            ):
                return [changed]
            return [changed, _submitted(changed, state.market, command.now)]
        case ReviewProduct():
            return _review(state, command)


def _needs_review_again(state: Product, title_changed: bool, review_markets: Set[str]) -> bool:
    if state.review_status == "REJECTED":
        return True  # the seller's answer to the rejection, for an operator to look at
    if state.review_status == "PENDING_REVIEW":
        return False  # still waiting: the reviewer sees the listing as it is now
    return title_changed and state.market in review_markets


def _submitted(
    listing: ProductListed | ProductChanged, market: str, now: datetime
) -> ProductSubmittedForReview:
    return ProductSubmittedForReview(
        seller_id=listing.seller_id,
        sku=listing.sku,
        market=market,
        title=listing.title,
        submitted_at=now,
    )


def _review(state: Product, command: ReviewProduct) -> list[EventPayload]:
    if not state.exists:
        raise NotFound(
            "product-not-found", f"seller {command.seller_id} does not list SKU {command.sku}"
        )
    if state.review_status != "PENDING_REVIEW":
        raise DomainError(
            "not-pending-review",
            f"SKU {command.sku} is {state.review_status}, not PENDING_REVIEW",
        )
    if command.decision == "APPROVE":
        return [
            ProductApproved(
                seller_id=state.seller_id,
                sku=state.sku,
                reviewer_id=command.reviewer_id,
                reason=command.reason,
                reviewed_at=command.now,
            )
        ]
    if not command.reason or not command.reason.strip():
        raise InvalidCommand("reason-required", "a rejection needs a reason for the seller")
    return [
        ProductRejected(
            seller_id=state.seller_id,
            sku=state.sku,
            reviewer_id=command.reviewer_id,
            reason=command.reason,
            reviewed_at=command.now,
        )
    ]


def evolve(state: Product, event: EventPayload) -> Product:
    match event:
        case ProductListed():
            return Product(
                seller_id=event.seller_id,
                sku=event.sku,
                title=event.title,
                price=event.price,
                weight_g=event.weight_g,
                dimensions=event.dimensions,
                market=event.market,
            )
        case ProductChanged():
            return replace(
                state,
                seller_id=event.seller_id,
                sku=event.sku,
                title=event.title,
                price=event.price,
                weight_g=event.weight_g,
                dimensions=event.dimensions,
            )
        case ProductSubmittedForReview():
            return replace(
                state,
                review_status="PENDING_REVIEW",
                review_reason=None,
                submitted_at=event.submitted_at,
                reviewed_at=None,
            )
        case ProductApproved():
            return replace(
                state,
                review_status="APPROVED",
                review_reason=event.reason,
                reviewed_at=event.reviewed_at,
            )
        case ProductRejected():
            return replace(
                state,
                review_status="REJECTED",
                review_reason=event.reason,
                reviewed_at=event.reviewed_at,
            )
    return state


def product_aggregate(review_markets: Set[str] = frozenset()) -> Aggregate[Product]:
    """The product aggregate; listings in `review_markets` wait for an operator's review."""
    markets = frozenset(review_markets)
    return Aggregate(
        name=PRODUCT_STREAM,
        initial=Product(),
        decide=lambda state, command: decide(state, command, markets),
        evolve=evolve,
        keys=lambda product: (None, product.seller_id),
    )


PRODUCT = product_aggregate()  # no market requires review
