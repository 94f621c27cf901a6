"""HTTP bodies of the order service (pydantic v2)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.order.domain.order_state import Order
from services.order.domain.product import Product
from shared.events.common import Address, Dimensions, EmailAddress, Language, LineItem
from shared.events.fulfillment import Shortfall
from shared.events.order import (
    ListingReviewStatus,
    OrderStatus,
    Programme,
    ReviewDecision,
    ReviewFailure,
)
from shared.models import Body
from shared.money import Money

SKU_PATTERN = r"^[A-Za-z0-9._\-]{1,64}$"
SKU = Field(pattern=SKU_PATTERN)
Text = Field(min_length=1, max_length=500)


MARKET_PATTERN = r"^[A-Z]{2}$"


class ProductIn(Body):
    sku: str = SKU
    title: str = Field(min_length=1, max_length=300)
    price: Money
    weight_g: int = Field(ge=0, le=1_000_000)
    dimensions: Dimensions | None = None
    market: str | None = Field(
        None,
        pattern=MARKET_PATTERN,
        description="the country the listing sells in (ISO 3166-1 alpha-2; fixed once "
        "listed); in a market that requires review (SHOPFLOW_ORDER_LISTING_REVIEW_MARKETS) the "
        "listing waits for an operator's approval before it can be ordered",
    )


class ProductChangeIn(Body):
    title: str | None = Field(None, min_length=1, max_length=300)
    price: Money | None = None
    weight_g: int | None = Field(None, ge=0, le=1_000_000)
    dimensions: Dimensions | None = None


class ListingReviewOut(BaseModel):
    status: ListingReviewStatus = Field(
        description="NOT_REQUIRED, or PENDING_REVIEW until an operator APPROVED or REJECTED it; "
        "only NOT_REQUIRED and APPROVED listings can be ordered"
    )
    reason: str | None = Field(description="the operator's reason with the last decision")
    submitted_at: datetime | None
    reviewed_at: datetime | None


class ProductOut(BaseModel):
    seller_id: str
    sku: str
    title: str
    price: Money
    weight_g: int
    dimensions: Dimensions | None
    market: str | None = None
    review: ListingReviewOut | None = Field(
        None, description="the listing's review: shown to its seller and to operators only"
    )
    version: int

    @classmethod
    def of(cls, product: Product, version: int, with_review: bool = True) -> ProductOut:
        assert product.price is not None
        review = ListingReviewOut(
            status=product.review_status,
            reason=product.review_reason,
            submitted_at=product.submitted_at,
            reviewed_at=product.reviewed_at,
        )
        return cls(
            seller_id=product.seller_id,
            sku=product.sku,
            title=product.title,
            price=product.price,
            weight_g=product.weight_g,
            dimensions=product.dimensions,
            market=product.market,
            review=review if with_review else None,
            version=version,
        )


class ProductReviewIn(Body):
    decision: ReviewDecision
    reason: str | None = Field(
        None, min_length=1, max_length=2000, description="required to REJECT: the seller sees it"
    )


class ProductPage(BaseModel):
    items: list[ProductOut]
    next_cursor: str | None


class OrderLineIn(Body):
    sku: str = SKU
    quantity: int = Field(gt=0, le=10_000)


class OrderIn(Body):
    seller_id: str = Field(min_length=1, max_length=100)
    items: list[OrderLineIn] = Field(min_length=1, max_length=50)
    shipping_address: Address
    shipping_option: str = Field("STANDARD", max_length=40)
    payment_method: str = Field(min_length=1, max_length=40)
    buyer_email: EmailAddress | None = Field(
        None, description="where the buyer's notifications about this order go (optional)"
    )
    buyer_language: Language | None = Field(
        None, description="their language (zh or en; anything else gets en)"
    )


class PaymentIn(Body):
    amount: Money
    transaction_id: str = Field(min_length=1, max_length=200)


class ReviewIn(Body):
    decision: ReviewDecision
    note: str | None = Field(None, max_length=2000)


class CancelIn(Body):
    reason_code: str = Field(pattern=r"^[A-Z_]{2,50}$")
    note: str | None = Field(None, max_length=2000)


class RejectIn(Body):
    reason: str = Text


class CancellationRequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    status: str
    requested_by: str
    reason_code: str
    note: str | None
    requested_at: datetime
    auto_approve_at: datetime
    rejection_reason: str | None


class CancellationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    cancelled_by: str
    reason_code: str
    seller_fault: bool
    cancelled_at: datetime
    refund_due: Money | None


class StockShortageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    since: datetime = Field(description="waiting for stock since")
    cancel_at: datetime = Field(
        description="cancelled at the seller's fault (OUT_OF_STOCK) if still short then"
    )
    shortfalls: list[Shortfall]


class OrderOut(BaseModel):
    order_id: uuid.UUID
    seller_id: str
    buyer_id: str
    status: OrderStatus
    items: list[LineItem]
    subtotal: Money
    shipping_fee: Money
    total: Money
    shipping_address: Address
    shipping_option: str
    payment_method: str
    created_at: datetime
    pay_by: datetime | None
    paid_at: datetime | None
    remorse_until: datetime | None
    review_passed: bool | None
    review_failures: list[ReviewFailure]
    programme: Programme = Field(description="the seller's programme when it was made")
    placed_at: datetime | None
    dispatch_deadline: datetime | None
    deliver_by: datetime | None
    cancellation_request: CancellationRequestOut | None
    cancellation: CancellationOut | None
    completed_at: datetime | None
    open_aftersales_cases: int = Field(description="after-sales requests not closed yet")
    refunded: Money | None = Field(description="refunded so far (aftersales), if anything")
    fully_refunded: bool
    awaiting_stock: bool = Field(
        description="placed, and waiting for the seller's stock (status AWAITING_SHIPMENT)"
    )
    stock_shortage: StockShortageOut | None = Field(description="while awaiting stock")
    version: int

    @classmethod
    def of(cls, order: Order, version: int) -> OrderOut:
        fields = {
            **vars(order),
            "open_aftersales_cases": order.open_aftersales_cases,
            "awaiting_stock": order.awaiting_stock is not None,
            "stock_shortage": order.awaiting_stock,
            "version": version,
        }
        return cls.model_validate(fields, from_attributes=True)


class ProgrammeIn(Body):
    programme: Programme


class ProgrammeOut(BaseModel):
    seller_id: str
    programme: Programme = Field(description="LOCAL until the seller is enrolled in another")
    set_at: datetime | None
    version: int
