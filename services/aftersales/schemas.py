"""HTTP bodies of the aftersales service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from services.aftersales.domain.complaint import Complaint
from services.aftersales.domain.ledger_state import Case, Ledger
from shared.events.aftersales import (
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
        "RETURN_RECEIVED, REFUNDED, EXCHANGED, CLOSED"
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


class ReviewIn(Body):
    order_id: uuid.UUID
    rating: int = Field(ge=1, le=5)
    text: str | None = Field(None, max_length=2000)


class ReviewOut(BaseModel):
    order_id: uuid.UUID
    buyer_id: str
    seller_id: str
    rating: int
    text: str | None
    posted_at: datetime
    version: int

    @classmethod
    def of(cls, ledger: Ledger, version: int) -> ReviewOut:
        assert ledger.review is not None
        return cls(
            order_id=ledger.order_id,
            buyer_id=ledger.buyer_id,
            seller_id=ledger.seller_id,
            rating=ledger.review.rating,
            text=ledger.review.text,
            posted_at=ledger.review.at,
            version=version,
        )
