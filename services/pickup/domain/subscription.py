"""A warehouse's pickup subscription: its address asks the covering provider, whose drivers
(or an operator) review the request; the seller may decline; a provider switch moves it. Only
an ACTIVE subscription hands over by PICKUP, every other ships by DROP_OFF. A new request
(the address changed) replaces the previous one under a new subscription id.

At review the provider agrees the warehouse's daily pickup window (it may change it later).
A switch moves an ACTIVE or PENDING_REVIEW subscription to the new provider, which reviews it
in turn by its own `review_due` (an ACTIVE one keeps picking up meanwhile) or reports that the
push of the address failed: then the warehouse ships by drop-off until its address is saved
again."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from services.pickup.domain.provider import Provider
from services.pickup.domain.switch import Switch
from shared.aggregate import Aggregate, DomainError, NotFound
from shared.events import EventPayload
from shared.events.pickup import (
    PickupSubscriptionApproved,
    PickupSubscriptionDeclined,
    PickupSubscriptionNotCovered,
    PickupSubscriptionProviderSwitched,
    PickupSubscriptionPushFailed,
    PickupSubscriptionRejected,
    PickupSubscriptionRequested,
    PickupSubscriptionReviewOverdue,
    PickupWindow,
    PickupWindowChanged,
    SubscriptionEvent,
)


@dataclass(frozen=True)
class Subscription:
    warehouse_id: uuid.UUID | None = None
    seller_id: str = ""
    subscription_id: uuid.UUID | None = None
    status: str = ""  # PENDING_REVIEW, ACTIVE, REJECTED, DECLINED, NOT_COVERED
    provider_code: str | None = None
    tracking_prefix: str | None = None
    review_due: datetime | None = None
    review_overdue: bool = False
    requests: int = 0
    pickup_window: PickupWindow | None = None  # agreed at review
    takeover_review: bool = False  # moved by a switch, the new provider has not reviewed it
    push_failed: bool = False  # the new provider could not take the pushed address in

    @property
    def handover(self) -> str:
        return "PICKUP" if self.status == "ACTIVE" else "DROP_OFF"

    @property
    def review_pending(self) -> bool:
        """Whether its provider has yet to review it (a new request, or a switch's move)."""
        return self.status == "PENDING_REVIEW" or self.takeover_review


@dataclass(frozen=True)
class RequestSubscription:
    """The warehouse's address is new or changed: ask the covering provider, if any."""

    warehouse_id: uuid.UUID
    seller_id: str
    provider: Provider | None
    review_within: timedelta
    now: datetime
    only_after_failed_push: bool = False  # the address was saved again unchanged


@dataclass(frozen=True)
class ReviewSubscription:
    """The provider reviews a new request or a switch's move; approving, it agrees the daily
    `pickup_window` (None: keep the one agreed before, if any)."""

    subscription_id: uuid.UUID
    approve: bool
    reviewer_id: str
    note: str | None
    now: datetime
    pickup_window: PickupWindow | None = None


@dataclass(frozen=True)
class ChangePickupWindow:
    subscription_id: uuid.UUID
    pickup_window: PickupWindow
    changed_by: str
    now: datetime


@dataclass(frozen=True)
class ReportPushFailed:
    """The switch's new provider could not take the pushed address in."""

    subscription_id: uuid.UUID
    reported_by: str
    note: str | None
    now: datetime


@dataclass(frozen=True)
class DeclineSubscription:
    subscription_id: uuid.UUID
    now: datetime


@dataclass(frozen=True)
class FlagReviewOverdue:
    subscription_id: uuid.UUID
    now: datetime


@dataclass(frozen=True)
class FollowSwitch:
    """The region's switch applied: an ACTIVE or PENDING_REVIEW subscription moves to its
    provider; DECLINED/REJECTED ones stay drop-off."""

    switch: Switch
    now: datetime
    review_within: timedelta = timedelta(hours=24)  # the new provider's review


SubscriptionCommand = (
    RequestSubscription
    | ReviewSubscription
    | DeclineSubscription
    | FlagReviewOverdue
    | FollowSwitch
    | ChangePickupWindow
    | ReportPushFailed
)


def decide(state: Subscription, command: SubscriptionCommand) -> list[EventPayload]:
    match command:
        case RequestSubscription(only_after_failed_push=True) if not state.push_failed:
            return []
        case RequestSubscription():
            return _request(state, command)
        case ReviewSubscription():
            current = _current(state, command.subscription_id, command.now)
            if not state.review_pending:
                raise DomainError("not-pending", f"the subscription is {state.status}")
            if command.approve:
                return [
                    PickupSubscriptionApproved(
                        **current,
                        status="ACTIVE",
                        handover="PICKUP",
                        reviewer_id=command.reviewer_id,
                        note=command.note,
                        pickup_window=command.pickup_window or state.pickup_window,
                    )
                ]
            return [
                PickupSubscriptionRejected(
                    **current,
                    status="REJECTED",
                    handover="DROP_OFF",
                    reviewer_id=command.reviewer_id,
                    note=command.note,
                )
            ]
        case DeclineSubscription():
            current = _current(state, command.subscription_id, command.now)
            if state.status not in ("PENDING_REVIEW", "ACTIVE"):
                raise DomainError("not-declinable", f"the subscription is {state.status}")
            return [PickupSubscriptionDeclined(**current, status="DECLINED", handover="DROP_OFF")]
        case FlagReviewOverdue():
            current = _current(state, command.subscription_id, command.now)
            due = state.review_due
            if not state.review_pending or state.review_overdue or due is None:
                return []
            if command.now < due:
                return []
            return [
                PickupSubscriptionReviewOverdue(
                    **current, status=state.status, handover=state.handover, review_due=due
                )
            ]
        case FollowSwitch():
            return _follow(state, command)
        case ChangePickupWindow():
            current = _current(state, command.subscription_id, command.now)
            if state.status != "ACTIVE":
                raise DomainError("not-active", f"the subscription is {state.status}")
            if state.pickup_window == command.pickup_window:
                return []
            return [
                PickupWindowChanged(
                    **current,
                    status=state.status,
                    handover=state.handover,
                    pickup_window=command.pickup_window,
                    changed_by=command.changed_by,
                )
            ]
        case ReportPushFailed():
            current = _current(state, command.subscription_id, command.now)
            if state.push_failed:
                return []
            if not state.takeover_review:
                raise DomainError(
                    "not-pushed", "only a subscription a switch moved is pushed to a provider"
                )
            return [
                PickupSubscriptionPushFailed(
                    **current,
                    status="REJECTED",
                    handover="DROP_OFF",
                    reported_by=command.reported_by,
                    note=command.note,
                )
            ]
    raise AssertionError(f"unhandled command {command!r}")


def _request(state: Subscription, command: RequestSubscription) -> list[EventPayload]:
    subscription_id = uuid.uuid5(command.warehouse_id, f"subscription-{state.requests + 1}")
    common: dict[str, Any] = {
        "warehouse_id": command.warehouse_id,
        "seller_id": command.seller_id,
        "subscription_id": subscription_id,
        "handover": "DROP_OFF",
        "at": command.now,
    }
    if command.provider is None:
        return [
            PickupSubscriptionNotCovered(
                **common, status="NOT_COVERED", provider_code=None, tracking_prefix=None
            )
        ]
    return [
        PickupSubscriptionRequested(
            **common,
            status="PENDING_REVIEW",
            provider_code=command.provider.provider_code,
            tracking_prefix=command.provider.tracking_prefix,
            review_due=command.now + command.review_within,
        )
    ]


def _current(state: Subscription, subscription_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    """What every later event repeats of the current request; refuses an unknown or replaced
    one."""
    if state.subscription_id is None or state.warehouse_id is None:
        raise NotFound("subscription-not-found", "no such pickup subscription")
    if subscription_id != state.subscription_id:
        raise DomainError(
            "subscription-replaced", "this request was replaced by a newer one for the warehouse"
        )
    return {
        "warehouse_id": state.warehouse_id,
        "seller_id": state.seller_id,
        "subscription_id": state.subscription_id,
        "provider_code": state.provider_code,
        "tracking_prefix": state.tracking_prefix,
        "at": now,
    }


def _follow(state: Subscription, command: FollowSwitch) -> list[EventPayload]:
    switch, now = command.switch, command.now
    if (
        state.subscription_id is None
        or state.warehouse_id is None
        or switch.switch_id is None
        or state.status not in ("ACTIVE", "PENDING_REVIEW")
        or state.provider_code == switch.to_provider
    ):
        return []
    return [
        PickupSubscriptionProviderSwitched(
            warehouse_id=state.warehouse_id,
            seller_id=state.seller_id,
            subscription_id=state.subscription_id,
            status=state.status,
            handover=state.handover,
            provider_code=switch.to_provider,
            tracking_prefix=switch.tracking_prefix,
            at=now,
            switch_id=switch.switch_id,
            review_due=now + command.review_within,
        )
    ]


def evolve(state: Subscription, event: EventPayload) -> Subscription:
    match event:
        case PickupSubscriptionReviewOverdue():
            return replace(state, review_overdue=True)
        case PickupSubscriptionRequested() | PickupSubscriptionNotCovered():
            return replace(
                _holds(state, event),
                review_due=getattr(event, "review_due", None),
                review_overdue=False,
                requests=state.requests + 1,
                pickup_window=None,
                takeover_review=False,
                push_failed=False,
            )
        case PickupSubscriptionProviderSwitched():
            return replace(
                _holds(state, event),
                review_due=event.review_due or state.review_due,
                review_overdue=False if event.review_due else state.review_overdue,
                takeover_review=event.review_due is not None,
            )
        case PickupSubscriptionApproved():
            return replace(
                _holds(state, event),
                pickup_window=event.pickup_window or state.pickup_window,
                takeover_review=False,
            )
        case PickupWindowChanged():
            return replace(_holds(state, event), pickup_window=event.pickup_window)
        case PickupSubscriptionPushFailed():
            return replace(_holds(state, event), takeover_review=False, push_failed=True)
        case PickupSubscriptionRejected() | PickupSubscriptionDeclined():
            return replace(_holds(state, event), takeover_review=False)
    return state


def _holds(state: Subscription, event: SubscriptionEvent) -> Subscription:
    """What every subscription event says of the warehouse's current request."""
    return replace(
        state,
        warehouse_id=event.warehouse_id,
        seller_id=event.seller_id,
        subscription_id=event.subscription_id,
        status=event.status,
        provider_code=event.provider_code,
        tracking_prefix=event.tracking_prefix,
    )


SUBSCRIPTION = Aggregate(
    name="subscription",
    initial=Subscription(),
    decide=decide,
    evolve=evolve,
    keys=lambda s: (None, s.seller_id or None),
)
