"""HTTP bodies of the pickup service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.pickup.domain.parcel import Parcel
from services.pickup.domain.provider import Provider, hub_for, zone_for
from services.pickup.domain.subscription import Subscription
from shared.events.pickup import HubAddress, LabelDefectReason, PickupWindow, ServiceHours
from shared.models import Body, Timestamp


class Area(Body):
    country: str = Field(pattern=r"^[A-Z]{2}$")
    city: str = Field(min_length=1, max_length=120)
    hub: HubAddress | None = Field(
        None, description="the sorting hub receiving this region's parcels (printed on labels)"
    )
    timezone: str | None = Field(
        None,
        max_length=64,
        description="the region's IANA time zone (Dongguan: Asia/Shanghai): its provider "
        "switches' cutovers and calendar days are counted there; a region without one "
        "cannot be switched",
    )


PHONE = r"^\+?[0-9 ()\-]{3,40}$"


class ProviderIn(Body):
    name: str = Field(min_length=1, max_length=200)
    tracking_prefix: str = Field(pattern=r"^[A-Z]{2,5}$")
    coverage: list[Area] = Field(max_length=5000)
    hotline: str | None = Field(None, pattern=PHONE, description="shown to its sellers")
    service_hours: ServiceHours | None = Field(
        None, description="when its hotline and drivers work (e.g. every day 09:00-19:00)"
    )


class ProviderOut(BaseModel):
    provider_code: str
    name: str
    tracking_prefix: str
    coverage: list[Area]
    hotline: str | None = None
    service_hours: ServiceHours | None = None

    @classmethod
    def of(cls, provider: Provider, names: dict[tuple[str, str], str] | None = None) -> ProviderOut:
        return cls(
            provider_code=provider.provider_code,
            name=provider.name,
            tracking_prefix=provider.tracking_prefix,
            coverage=[
                Area(
                    country=c,
                    city=(names or {}).get((c, city), city),
                    hub=hub_for(provider, c, city),
                    timezone=zone_for(provider, c, city),
                )
                for c, city in provider.coverage
            ],
            hotline=provider.hotline,
            service_hours=provider.service_hours,
        )


class ProviderContact(BaseModel):
    """Who collects from the warehouse, as its seller is shown it."""

    provider_code: str
    name: str
    hotline: str | None
    service_hours: ServiceHours | None


class SubscriptionOut(BaseModel):
    subscription_id: uuid.UUID
    warehouse_id: uuid.UUID
    status: str
    provider_code: str | None
    tracking_prefix: str | None
    handover: str
    review_due: datetime | None
    review_overdue: bool
    review_pending: bool = Field(
        description="its provider has yet to review it (a new request, or a switch's move)"
    )
    push_failed: bool = Field(
        description="a switch's new provider could not take the address in: save it again"
    )
    pickup_window: PickupWindow | None = Field(description="the daily window agreed at review")
    provider: ProviderContact | None = Field(
        None, description="the provider's name, hotline and service hours"
    )
    version: int

    @classmethod
    def of(
        cls, subscription: Subscription, version: int, provider: Provider | None = None
    ) -> SubscriptionOut:
        contact = (
            ProviderContact(
                provider_code=provider.provider_code,
                name=provider.name,
                hotline=provider.hotline,
                service_hours=provider.service_hours,
            )
            if provider is not None and provider.exists
            else None
        )
        return cls.model_validate(
            {
                **vars(subscription),
                "handover": subscription.handover,
                "review_pending": subscription.review_pending,
                "provider": contact,
                "version": version,
            }
        )


class ReviewIn(Body):
    approve: bool
    note: str | None = Field(None, max_length=2000)
    pickup_window: PickupWindow | None = Field(
        None, description="approving: the daily pickup window agreed with the seller"
    )


class BatchReviewItem(Body):
    subscription_id: uuid.UUID
    decision: Literal["APPROVE", "REJECT", "PUSH_FAILED"]
    note: str | None = Field(None, max_length=2000)
    pickup_window: PickupWindow | None = None


class BatchReviewIn(Body):
    items: list[BatchReviewItem] = Field(min_length=1, max_length=500)


class SwitchIn(Body):
    country: str = Field(pattern=r"^[A-Z]{2}$")
    city: str = Field(min_length=1, max_length=120)
    to_provider: str = Field(pattern=r"^[A-Z0-9_]{2,20}$")
    cutover_at: Timestamp
    sla_extension_hours: int = Field(72, ge=0, le=24 * 30)


class SwitchOut(BaseModel):
    switch_id: uuid.UUID
    country: str
    city: str
    to_provider: str
    tracking_prefix: str
    cutover_at: datetime
    timezone: str = Field(description="the region's, from the providers' coverage")
    sla_extension_hours: int
    applied: bool


class DriverIn(Body):
    driver_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(pattern=PHONE)


class HubIn(Body):
    hub_id: str = Field(min_length=1, max_length=100)


class LabelDefectIn(Body):
    reason_code: LabelDefectReason
    note: str | None = Field(None, max_length=2000)


class ParcelOut(BaseModel):
    package_id: uuid.UUID
    order_id: uuid.UUID
    tracking_number: str
    provider_code: str
    handover: str
    task_id: uuid.UUID | None
    status: str
    overdue: bool
    hub_id: str | None = None
    label_defect: LabelDefectReason | None = None

    @classmethod
    def of(cls, parcel: Parcel) -> ParcelOut:
        return cls.model_validate(vars(parcel))
