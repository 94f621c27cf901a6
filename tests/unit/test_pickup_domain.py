"""Pickup rules, pure: coverage and the subscription's life."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.pickup.domain import (
    PROVIDER,
    SUBSCRIPTION,
    ConfigureProvider,
    DeclineSubscription,
    FlagReviewOverdue,
    RequestSubscription,
    ReviewSubscription,
    Subscription,
    covering_provider,
    decide_provider,
    decide_subscription,
)
from shared.aggregate import DomainError
from shared.events.common import Address
from shared.events.pickup import PickupSubscriptionNotCovered, PickupSubscriptionReviewOverdue

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
WH = uuid.UUID(int=5)
SPX = PROVIDER.fold(
    decide_provider(
        PROVIDER.initial, ConfigureProvider("SPX", "SPX", "SPX", [("VN", "Ho Chi Minh City")])
    )
)
GHN = PROVIDER.fold(
    decide_provider(PROVIDER.initial, ConfigureProvider("GHN", "GHN", "GHN", [("VN", "Hanoi")]))
)


def address(city: str, country: str = "VN") -> Address:
    return Address(
        recipient_name="W",
        phone="+84 1",
        line1="1 St",
        city=city,
        postal_code="100000",
        country=country,
    )


@given(st.sampled_from(["ho chi minh city", "HO CHI MINH CITY", "  Ho  Chi Minh City "]))
def test_coverage_ignores_case_and_spacing(city: str) -> None:
    assert covering_provider([GHN, SPX], address(city)) == SPX


def test_uncovered_cities_and_countries() -> None:
    assert covering_provider([GHN, SPX], address("Hue")) is None
    assert covering_provider([GHN, SPX], address("Hanoi", "US")) is None


def run(state: Subscription, command) -> Subscription:  # type: ignore[no-untyped-def]
    return SUBSCRIPTION.fold(decide_subscription(state, command), state)


def requested(provider=SPX) -> Subscription:  # type: ignore[no-untyped-def]
    return run(Subscription(), RequestSubscription(WH, "s1", provider, timedelta(hours=24), T0))


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
    [event] = decide_subscription(
        Subscription(), RequestSubscription(WH, "s1", None, timedelta(hours=24), T0)
    )
    assert isinstance(event, PickupSubscriptionNotCovered) and event.handover == "DROP_OFF"


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
    assert decide_subscription(state, FlagReviewOverdue(sid, T0 + timedelta(hours=23))) == []
    [flag] = decide_subscription(state, FlagReviewOverdue(sid, T0 + timedelta(hours=24)))
    assert isinstance(flag, PickupSubscriptionReviewOverdue)
    flagged = run(state, FlagReviewOverdue(sid, T0 + timedelta(hours=24)))
    assert (
        flagged.review_overdue
        and decide_subscription(flagged, FlagReviewOverdue(sid, T0 + timedelta(days=2))) == []
    )
    reviewed = run(state, ReviewSubscription(sid, True, "d", None, T0 + timedelta(hours=1)))
    assert decide_subscription(reviewed, FlagReviewOverdue(sid, T0 + timedelta(days=2))) == []
