"""HTTP bodies of the aftersales service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from services.aftersales.domain.complaint import Complaint
from services.aftersales.domain.ledger_state import Case, Ledger
from services.aftersales.domain.requests import AftersalesPolicy
from services.aftersales.domain.return_policy import ReturnPolicy
from shared.events.aftersales import (
    MAX_REVIEW_PHOTOS,
    ComplaintType,
    Condition,
    ReasonCode,
    RequestedItem,
    RequestType,
)
from shared.models import Body
from shared.money import Money

SKU = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class ItemIn(Body):
    sku: str = Field(pattern=SKU)
    quantity: int = Field(ge=1, le=10_000)


class RequestIn(Body):
    order_id: uuid.UUID
    type: RequestType
    items: list[ItemIn] = Field(min_length=1, max_length=100)
    reason_code: ReasonCode
    description: str | None = Field(None, max_length=2000)
    evidence_urls: list[Annotated[str, Field(pattern=r"^https?://[^\s]{1,2000}$")]] = Field(
        default_factory=list,
        max_length=20,
        description="links to photos or videos, kept with the case",
    )


class RejectIn(Body):
    reason: str = Field(min_length=1, max_length=1000)


class DecideIn(Body):
    approve: bool
    reason: str | None = Field(None, max_length=1000, description="required to reject")


class ReturnShipmentIn(Body):
    carrier: str = Field(min_length=1, max_length=60)
    tracking_number: str = Field(pattern=r"^[A-Za-z0-9-]{4,40}$")


class ReceiveIn(Body):
    condition: Condition


class ReturnShipmentOut(BaseModel):
    carrier: str
    tracking_number: str


class RequestOut(BaseModel):
    request_id: uuid.UUID
    order_id: uuid.UUID
    buyer_id: str
    seller_id: str
    type: str
    status: str = Field(
        description="REQUESTED, APPROVED, REJECTED, ESCALATED, RETURN_IN_TRANSIT, "
        "RETURN_RECEIVED, REFUNDED, EXCHANGED, REPAIRED, CLOSED"
    )
    items: list[RequestedItem]
    reason_code: str
    description: str | None
    evidence_urls: list[str]
    requested_at: datetime
    answer_due: datetime
    auto_approved: bool | None = Field(description="approved because the seller did not answer")
    rejection_reason: str | None
    escalated: bool
    return_shipment: ReturnShipmentOut | None
    condition: str | None
    refund_amount: Money = Field(description="what the request refunds once settled")
    refunded: Money | None
    outcome: str | None
    updated_at: datetime | None
    version: int

    @classmethod
    def of(cls, ledger: Ledger, case: Case, version: int) -> RequestOut:
        shipment = (
            ReturnShipmentOut(
                carrier=case.return_carrier, tracking_number=case.return_tracking_number
            )
            if case.return_carrier and case.return_tracking_number
            else None
        )
        return cls.model_validate(
            {
                **vars(case),
                "order_id": ledger.order_id,
                "buyer_id": ledger.buyer_id,
                "seller_id": ledger.seller_id,
                "items": list(case.items),
                "evidence_urls": list(case.evidence_urls),
                "auto_approved": case.approved_auto,
                "return_shipment": shipment,
                "version": version,
            }
        )


class RequestPage(BaseModel):
    items: list[RequestOut]
    next_cursor: str | None


class ComplaintIn(Body):
    package_id: uuid.UUID
    carrier: str = Field(min_length=1, max_length=60)
    type: ComplaintType
    description: str = Field(min_length=1, max_length=2000)


class ResolveIn(Body):
    resolution: str = Field(min_length=1, max_length=2000)


class ComplaintOut(BaseModel):
    complaint_id: uuid.UUID
    seller_id: str
    package_id: uuid.UUID
    carrier: str
    type: str
    description: str
    status: str = Field(description="OPEN or RESOLVED")
    filed_at: datetime
    resolution: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    version: int

    @classmethod
    def of(cls, complaint: Complaint, version: int) -> ComplaintOut:
        return cls.model_validate({**vars(complaint), "version": version})


class ComplaintPage(BaseModel):
    items: list[ComplaintOut]
    next_cursor: str | None


Stars = Annotated[int, Field(ge=1, le=5)]
PhotoRef = Annotated[str, Field(pattern=r"^https?://[^\s]{1,500}$")]


class ReviewIn(Body):
    # the schema says it too: one of the two is required
    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": ["rating"]}, {"required": ["product_rating"]}]}
    )

    order_id: uuid.UUID
    rating: Stars | SkipJsonSchema[None] = Field(
        None, description="the overall (product) rating; give it or `product_rating`"
    )
    product_rating: Stars | SkipJsonSchema[None] = Field(None, description="the same as `rating`")
    seller_service_rating: Stars | None = None
    logistics_rating: Stars | None = Field(
        None, description="the delivery; operators see it per carrier"
    )
    text: str | None = Field(None, max_length=2000)
    photos: list[PhotoRef] = Field(
        default_factory=list, max_length=MAX_REVIEW_PHOTOS, description="links to photos"
    )

    @model_validator(mode="after")
    def _one_overall_rating(self) -> ReviewIn:
        if self.rating is None and self.product_rating is None:
            raise ValueError("give `rating` (or `product_rating`)")
        if None not in (self.rating, self.product_rating) and self.rating != self.product_rating:
            raise ValueError("`rating` and `product_rating` are the same rating: they differ")
        return self

    @property
    def overall(self) -> int:
        overall = self.rating if self.rating is not None else self.product_rating
        assert overall is not None
        return overall


class ReviewOut(BaseModel):
    order_id: uuid.UUID
    buyer_id: str
    seller_id: str
    rating: int = Field(description="the overall (product) rating")
    product_rating: int
    seller_service_rating: int | None
    logistics_rating: int | None
    text: str | None
    photos: list[str]
    posted_at: datetime
    version: int

    @classmethod
    def of(cls, ledger: Ledger, version: int) -> ReviewOut:
        review = ledger.review
        assert review is not None
        return cls(
            order_id=ledger.order_id,
            buyer_id=ledger.buyer_id,
            seller_id=ledger.seller_id,
            rating=review.rating,
            product_rating=review.rating,
            seller_service_rating=review.seller_service_rating,
            logistics_rating=review.logistics_rating,
            text=review.text,
            photos=list(review.photos),
            posted_at=review.at,
            version=version,
        )


class ReturnPolicyIn(Body):
    return_window_days: int = Field(
        ge=1, le=365, description="days after delivery; within the marketplace's bounds"
    )
    accepts_change_of_mind: bool = Field(description="requests for NO_LONGER_NEEDED")
    offers_repair: bool = Field(description="REPAIR requests")


class ReturnPolicyOut(BaseModel):
    seller_id: str
    return_window_days: int
    accepts_change_of_mind: bool
    offers_repair: bool
    is_default: bool = Field(description="never set: the marketplace's defaults")
    min_return_window_days: int
    max_return_window_days: int
    version: int

    @classmethod
    def of(
        cls, seller_id: str, state: ReturnPolicy, policy: AftersalesPolicy, version: int
    ) -> ReturnPolicyOut:
        terms = state.terms(policy)
        return cls(
            seller_id=seller_id,
            return_window_days=terms.window.days,
            accepts_change_of_mind=terms.change_of_mind,
            offers_repair=terms.repair,
            is_default=not state.exists,
            min_return_window_days=policy.min_return_window.days,
            max_return_window_days=policy.max_return_window.days,
            version=version,
        )
