"""Events of the pickup service (topic shopflow.pickup.events) that other services use.

The pickup service itself arrives with issue 4; the models its consumers rely on are
defined here first so the contract is fixed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any, Literal, get_args

from pydantic import ConfigDict, Field, model_validator

from shared.events import REGISTRY, EventPayload, register
from shared.models import Model
from shared.money import Money

SERVICE = "pickup"

# Where a ready-to-ship package is on the first mile (the pickup service's parcels).
ParcelStatus = Literal["AWAITING_PICKUP", "AWAITING_DROP_OFF", "PICKED_UP", "DROPPED_OFF", "AT_HUB"]
PARCEL_STATUSES: tuple[ParcelStatus, ...] = get_args(ParcelStatus)


@register("DispatchDeadlineExtended", service=SERVICE)
class DispatchDeadlineExtended(EventPayload):
    """An order of one of the region's pickup sellers, created around a provider switch,
    gets more time to dispatch; an order in the window of several switches gets the largest
    extension once (a later, larger one tops it up), never more."""

    order_id: uuid.UUID
    seller_id: str
    extended_by_hours: int
    reason: str
    extended_at: datetime
    switch_id: uuid.UUID | None = None


class HubAddress(Model):
    """A provider's sorting hub: where its first-mile parcels of a region are brought."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
    hub_id: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,40}$")
    name: str = Field(min_length=1, max_length=200)
    line1: str = Field(min_length=1, max_length=300)
    line2: str | None = Field(None, max_length=300)
    city: str = Field(min_length=1, max_length=120)
    region: str | None = Field(None, max_length=120)
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")

    def label_lines(self) -> list[str]:
        """The hub as a label prints it: name, street, city and region, postal code."""
        return [
            x
            for x in (
                self.name,
                self.line1,
                self.line2,
                " ".join(x for x in (self.region, self.city) if x),
                f"{self.postal_code} {self.country}",
            )
            if x
        ]


class RegionHub(Model):
    """The hub that receives a coverage region's parcels (`city` as configured)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    country: str
    city: str
    hub: HubAddress


class RegionZone(Model):
    """The IANA time zone of a coverage region (`city` as configured): its cutovers and
    calendar days are counted there (Dongguan: Asia/Shanghai)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    country: str
    city: str
    timezone: str


class DailyHours(Model):
    """A daily span of local time, `start` before `end` (e.g. 09:00-19:00)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    start: time = Field(description="local time, HH:MM")
    end: time = Field(description="local time, HH:MM; after `start`")

    @model_validator(mode="after")
    def _ordered(self) -> DailyHours:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("times are local wall-clock times, without an offset")
        if not self.start < self.end:
            raise ValueError("start must be before end")
        return self

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


class ServiceHours(DailyHours):
    """When a provider's hotline and drivers work: these hours on these ISO weekdays
    (1 = Monday; every day unless told)."""

    days: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5, 6, 7], min_length=1)

    @model_validator(mode="after")
    def _days(self) -> ServiceHours:
        if any(d not in range(1, 8) for d in self.days) or len(set(self.days)) != len(self.days):
            raise ValueError("days are distinct ISO weekdays 1-7")
        return self


@register("ProviderConfigured", service=SERVICE, version=2)
class ProviderConfigured(EventPayload):
    """A provider's whole configuration; `hubs` (added with issue 16, absent from older
    events: no hubs) names the receiving hub of some of its coverage regions. Version 2
    (issue 17; a version 1 event named none of them) adds `zones`, the time zone of some of
    them, and the `hotline` and `service_hours` the seller is shown."""

    provider_code: str
    name: str
    tracking_prefix: str
    coverage: list[dict[str, str]]  # [{"country": "VN", "city": "Hanoi"}]
    hubs: list[RegionHub] = Field(default_factory=list)
    zones: list[RegionZone] = Field(default_factory=list)
    hotline: str | None = None
    service_hours: ServiceHours | None = None


@REGISTRY.upcaster("ProviderConfigured", from_version=1)
def _provider_configured_v1(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "zones": [], "hotline": None, "service_hours": None}


class SubscriptionEvent(EventPayload):
    """What every pickup-subscription event says of the warehouse, so a consumer can keep
    "who collects here, with which prefix" from any one of them."""

    warehouse_id: uuid.UUID
    seller_id: str
    subscription_id: uuid.UUID
    status: str  # PENDING_REVIEW, ACTIVE, REJECTED, DECLINED, NOT_COVERED
    handover: str  # PICKUP only while ACTIVE, else DROP_OFF
    provider_code: str | None
    tracking_prefix: str | None
    at: datetime


@register("PickupSubscriptionRequested", service=SERVICE)
class PickupSubscriptionRequested(SubscriptionEvent):
    review_due: datetime


@register("PickupSubscriptionNotCovered", service=SERVICE)
class PickupSubscriptionNotCovered(SubscriptionEvent):
    pass


class PickupWindow(DailyHours):
    """The daily pickup window agreed for a warehouse: a driver comes between `start` and
    `end` (the region's local time); a parcel ready before `start` goes the same day."""


@register("PickupSubscriptionApproved", service=SERVICE, version=2)
class PickupSubscriptionApproved(SubscriptionEvent):
    """The provider approved the request (or, after a switch, took the warehouse over).
    Version 2 (issue 17): the daily `pickup_window` agreed at review (None: none agreed)."""

    reviewer_id: str
    note: str | None = None
    pickup_window: PickupWindow | None = None


@REGISTRY.upcaster("PickupSubscriptionApproved", from_version=1)
def _approved_v1(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "pickup_window": None}


@register("PickupWindowChanged", service=SERVICE)
class PickupWindowChanged(SubscriptionEvent):
    """The provider changed the warehouse's daily pickup window."""

    pickup_window: PickupWindow
    changed_by: str


@register("PickupSubscriptionPushFailed", service=SERVICE)
class PickupSubscriptionPushFailed(SubscriptionEvent):
    """A switch's new provider could not take the pushed address in (status REJECTED,
    drop-off): re-saving the warehouse address requests pickup again."""

    reported_by: str
    note: str | None = None


@register("PickupSubscriptionRejected", service=SERVICE)
class PickupSubscriptionRejected(SubscriptionEvent):
    reviewer_id: str
    note: str | None = None


@register("PickupSubscriptionDeclined", service=SERVICE)
class PickupSubscriptionDeclined(SubscriptionEvent):
    pass


@register("PickupSubscriptionReviewOverdue", service=SERVICE)
class PickupSubscriptionReviewOverdue(SubscriptionEvent):
    """The provider has not reviewed the request within its deadline: chase it."""

    review_due: datetime


@register("ProviderSwitchScheduled", service=SERVICE)
class ProviderSwitchScheduled(EventPayload):
    """A region moves to another pickup provider at `cutover_at`; its pickup sellers' orders
    created on the day before and the day of the cutover get more time. `timezone` is the
    region's own (from the providers' coverage since issue 17; an operator gave it before)."""

    switch_id: uuid.UUID
    country: str
    city: str
    to_provider: str
    tracking_prefix: str
    cutover_at: datetime
    timezone: str
    sla_extension_hours: int


@register("ProviderSwitchApplied", service=SERVICE)
class ProviderSwitchApplied(EventPayload):
    switch_id: uuid.UUID
    applied_at: datetime


@register("PickupSubscriptionProviderSwitched", service=SERVICE, version=2)
class PickupSubscriptionProviderSwitched(SubscriptionEvent):
    """A provider switch moved this warehouse's subscription to the region's new provider.
    Version 2 (issue 17): the new provider reviews it by `review_due` (None in older events:
    no review asked); an ACTIVE one keeps picking up meanwhile."""

    switch_id: uuid.UUID
    review_due: datetime | None = None


@REGISTRY.upcaster("PickupSubscriptionProviderSwitched", from_version=1)
def _switched_v1(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "review_due": None}


class ParcelEvent(EventPayload):
    order_id: uuid.UUID
    package_id: uuid.UUID
    seller_id: str
    warehouse_id: uuid.UUID
    tracking_number: str
    provider_code: str
    at: datetime


@register("PickupTaskCreated", service=SERVICE)
class PickupTaskCreated(EventPayload):
    """The day's collection run of one provider at one warehouse."""

    task_id: uuid.UUID
    provider_code: str
    warehouse_id: uuid.UUID
    seller_id: str
    run_date: date
    created_at: datetime


@register("ParcelAwaited", service=SERVICE, version=2)
class ParcelAwaited(ParcelEvent):
    """A ready-to-ship package the first mile now waits for: collected on the run of
    `task_id` (PICKUP), or brought to the hub by the seller (DROP_OFF, no task). Version 2
    (issue 17): `collector`, the provider whose run it joined (the one serving the
    warehouse, whatever the label says); older events: the label's `provider_code`."""

    handover: str
    task_id: uuid.UUID | None
    run_date: date | None
    collector: str | None = None


@REGISTRY.upcaster("ParcelAwaited", from_version=1)
def _awaited_v1(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "collector": data.get("provider_code")}


@register("ParcelMovedToRun", service=SERVICE)
class ParcelMovedToRun(ParcelEvent):
    """At a switch's cutover a parcel still awaiting pickup moved to the new provider's
    run (`collector` collects it now, whatever its label says)."""

    task_id: uuid.UUID
    run_date: date
    collector: str
    switch_id: uuid.UUID


@register("PickupTaskHandedOver", service=SERVICE)
class PickupTaskHandedOver(EventPayload):
    """At a switch's cutover the old provider's run at the warehouse was handed over: its
    waiting parcels went to `to_provider`'s run, and no driver is chased for it."""

    task_id: uuid.UUID
    provider_code: str
    warehouse_id: uuid.UUID
    to_provider: str
    switch_id: uuid.UUID
    at: datetime


@register("DriverAssigned", service=SERVICE)
class DriverAssigned(EventPayload):
    task_id: uuid.UUID
    provider_code: str
    driver_id: str
    name: str
    phone: str
    assigned_at: datetime


@register("PickupTaskDriverOverdue", service=SERVICE)
class PickupTaskDriverOverdue(EventPayload):
    """No driver took the run within its deadline: chase the provider."""

    task_id: uuid.UUID
    provider_code: str
    warehouse_id: uuid.UUID
    due: datetime


@register("PickedUp", service=SERVICE)
class PickedUp(ParcelEvent):
    driver_id: str
    driver_provider: str


@register("DroppedOff", service=SERVICE)
class DroppedOff(ParcelEvent):
    received_by: str


@register("ArrivedAtHub", service=SERVICE)
class ArrivedAtHub(ParcelEvent):
    hub_id: str


LabelDefectReason = Literal["WRONG_LABEL", "UNREADABLE_LABEL", "ITEMS_MISMATCH", "WEIGHT_MISMATCH"]
LABEL_DEFECT_REASONS: tuple[LabelDefectReason, ...] = get_args(LabelDefectReason)


@register("LabelDefectRecorded", service=SERVICE)
class LabelDefectRecorded(ParcelEvent):
    """The hub found the parcel's label wrong or unreadable (or not matching the contents):
    it is relabelled at the seller's cost (`RelabelFeeCharged`)."""

    hub_id: str
    reason_code: LabelDefectReason
    note: str | None = None
    recorded_by: str


@register("RelabelFeeCharged", service=SERVICE)
class RelabelFeeCharged(ParcelEvent):
    """The seller is charged for relabelling a parcel whose label defect the hub recorded."""

    fee: Money
    reason_code: LabelDefectReason


@register("PickupOverdue", service=SERVICE)
class PickupOverdue(ParcelEvent):
    """Ready to ship for longer than the collection SLA (48 h) and still not collected."""

    ready_at: datetime


PARCEL_STATUS_BY_EVENT: Mapping[type[ParcelEvent], ParcelStatus] = {
    PickedUp: "PICKED_UP",
    DroppedOff: "DROPPED_OFF",
    ArrivedAtHub: "AT_HUB",
}
"""The status a parcel has after each of these events."""
