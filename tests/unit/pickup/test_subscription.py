"""A warehouse's pickup subscription: requested, reviewed, declined, flagged, switched."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.pickup.domain.subscription import (
    SUBSCRIPTION,
    DeclineSubscription,
    FlagReviewOverdue,
    FollowSwitch,
    RequestSubscription,
    ReviewSubscription,
    Subscription,
    decide,
)
from shared.aggregate import DomainError
from shared.events.pickup import PickupSubscriptionNotCovered, PickupSubscriptionReviewOverdue
from tests.unit.pickup.given import GHN, T0, WH, requested, run, scheduled_switch


def test_a_covered_warehouse_waits_for_review_then_picks_up() -> None:
    state = requested()
    assert (state.status, state.handover, state.provider_code) == (
        "PENDING_REVIEW",
        "DROP_OFF",
        "SPX",
    )
    assert state.review_due == T0 + timedelta(hours=24)
    active = run(state, ReviewSubscription(state.subscription_id, True, "d1", None, T0))  # type: ignore[arg-type]
    assert (active.status, active.handover) == ("ACTIVE", "PICKUP")
    with pytest.raises(DomainError):
        run(active, ReviewSubscription(state.subscription_id, False, "d1", None, T0))  # type: ignore[arg-type]
    declined = run(active, DeclineSubscription(state.subscription_id, T0))  # type: ignore[arg-type]
    assert (declined.status, declined.handover) == ("DECLINED", "DROP_OFF")


def test_an_uncovered_warehouse_ships_by_drop_off() -> None:
    [event] = decide(Subscription(), RequestSubscription(WH, "s1", None, timedelta(hours=24), T0))
    assert isinstance(event, PickupSubscriptionNotCovered) and event.handover == "DROP_OFF"


def test_the_nth_request_of_a_warehouse_has_the_subscription_id_already_stored() -> None:
    first = requested()
    assert first.subscription_id == uuid.uuid5(WH, "subscription-1")
    second = run(first, RequestSubscription(WH, "s1", None, timedelta(hours=24), T0))
    assert second.subscription_id == uuid.uuid5(WH, "subscription-2")


def test_an_address_change_replaces_the_request() -> None:
    first = requested()
    second = run(
        first, RequestSubscription(WH, "s1", GHN, timedelta(hours=24), T0 + timedelta(days=1))
    )
    assert second.subscription_id != first.subscription_id and second.provider_code == "GHN"
    with pytest.raises(DomainError, match="replaced"):
        run(second, ReviewSubscription(first.subscription_id, True, "d", None, T0))  # type: ignore[arg-type]


def test_an_unreviewed_request_is_flagged_once_when_due() -> None:
    state = requested()
    sid = state.subscription_id
    assert sid is not None
    assert decide(state, FlagReviewOverdue(sid, T0 + timedelta(hours=23))) == []
    [flag] = decide(state, FlagReviewOverdue(sid, T0 + timedelta(hours=24)))
    assert isinstance(flag, PickupSubscriptionReviewOverdue)
    flagged = run(state, FlagReviewOverdue(sid, T0 + timedelta(hours=24)))
    assert (
        flagged.review_overdue
        and decide(flagged, FlagReviewOverdue(sid, T0 + timedelta(days=2))) == []
    )
    reviewed = run(state, ReviewSubscription(sid, True, "d", None, T0 + timedelta(hours=1)))
    assert decide(reviewed, FlagReviewOverdue(sid, T0 + timedelta(days=2))) == []


def test_a_switch_moves_active_and_pending_subscriptions_only() -> None:
    active = run(requested(), ReviewSubscription(requested().subscription_id, True, "d", None, T0))  # type: ignore[arg-type]
    [moved] = decide(active, FollowSwitch(scheduled_switch(), T0))
    assert (moved.provider_code, moved.tracking_prefix, moved.handover) == ("WS", "WS", "PICKUP")  # type: ignore[attr-defined]
    declined = run(active, DeclineSubscription(active.subscription_id, T0))  # type: ignore[arg-type]
    assert decide(declined, FollowSwitch(scheduled_switch(), T0)) == []
    assert decide(SUBSCRIPTION.fold([moved], active), FollowSwitch(scheduled_switch(), T0)) == []
