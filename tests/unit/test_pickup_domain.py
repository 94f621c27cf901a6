"""Pickup rules, pure: coverage and the subscription's life."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.pickup.domain import (
    EXTENSIONS,
    PARCEL,
    PROVIDER,
    SUBSCRIPTION,
    SWITCH,
    ApplySwitch,
    ArriveAtHub,
    Collect,
    ConfigureProvider,
    DeclineSubscription,
    FlagPickupOverdue,
    FlagReviewOverdue,
    OrderExtensions,
    Parcel,
    ReceiveDropOff,
    RequestSubscription,
    ReviewSubscription,
    ScheduleSwitch,
    Subscription,
    Switch,
    covering_provider,
    decide_parcel,
    decide_provider,
    decide_subscription,
    decide_switch,
    extend_order,
    in_switch_window,
    move_subscription,
    run_date,
    task_id_for,
)
from shared.aggregate import DomainError, NotFound
from shared.events.common import Address
from shared.events.pickup import (
    ParcelAwaited,
    PickedUp,
    PickupOverdue,
    PickupSubscriptionNotCovered,
    PickupSubscriptionReviewOverdue,
)

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


# --- provider switches ----------------------------------------------------------------------

ZONES = [
    "UTC",
    "Asia/Ho_Chi_Minh",
    "America/Los_Angeles",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
]


@given(
    cutover=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
    ),
    offset_hours=st.floats(min_value=-96, max_value=96),
    zone=st.sampled_from(ZONES),
)
def test_the_switch_window_is_the_day_before_and_the_day_of_the_cutover_in_local_time(
    cutover: datetime, offset_hours: float, zone: str
) -> None:
    created = cutover + timedelta(hours=offset_hours)
    local = ZoneInfo(zone)
    days_before = (cutover.astimezone(local).date() - created.astimezone(local).date()).days
    assert in_switch_window(created, cutover, zone) is (days_before in (0, 1))


def test_the_window_follows_the_regions_calendar_not_utc() -> None:
    cutover = datetime(2026, 11, 10, 1, 0, tzinfo=UTC)  # 08:00 on the 10th in Ho Chi Minh City
    two_days_before_local = datetime(2026, 11, 8, 16, 30, tzinfo=UTC)  # 23:30 on the 8th there
    assert not in_switch_window(two_days_before_local, cutover, "Asia/Ho_Chi_Minh")
    assert in_switch_window(two_days_before_local + timedelta(hours=1), cutover, "Asia/Ho_Chi_Minh")
    assert not in_switch_window(two_days_before_local, cutover, "UTC")  # the 8th, UTC too
    assert in_switch_window(two_days_before_local, cutover, "America/Los_Angeles")


def switch(to: str = "WS") -> Switch:
    scheduled = decide_switch(
        Switch(),
        ScheduleSwitch(
            uuid.UUID(int=9),
            "VN",
            "Hanoi",
            PROVIDER.fold(decide_provider(PROVIDER.initial, ConfigureProvider(to, to, to, []))),
            T0 + timedelta(days=2),
            "UTC",
            72,
            T0,
        ),
    )
    return SWITCH.fold(scheduled)


def test_a_switch_moves_active_and_pending_subscriptions_only() -> None:
    active = run(requested(), ReviewSubscription(requested().subscription_id, True, "d", None, T0))  # type: ignore[arg-type]
    [moved] = move_subscription(active, switch(), T0)
    assert (moved.provider_code, moved.tracking_prefix, moved.handover) == ("WS", "WS", "PICKUP")
    declined = run(active, DeclineSubscription(active.subscription_id, T0))  # type: ignore[arg-type]
    assert move_subscription(declined, switch(), T0) == []
    assert move_subscription(SUBSCRIPTION.fold([moved], active), switch(), T0) == []


def test_an_order_is_extended_once_per_switch() -> None:
    order = uuid.uuid4()
    s = switch()
    [event] = extend_order(OrderExtensions(), order, "s1", s, T0)
    assert event.extended_by_hours == 72
    assert extend_order(EXTENSIONS.fold([event]), order, "s1", s, T0) == []
    with pytest.raises(DomainError):
        decide_switch(s, ScheduleSwitch(uuid.UUID(int=9), "VN", "Hanoi", SPX, T0, "UTC", 72, T0))
    assert decide_switch(s, ApplySwitch(T0)) == []  # before the cutover
    assert len(decide_switch(s, ApplySwitch(T0 + timedelta(days=2)))) == 1


# --- collection runs ------------------------------------------------------------------------


def test_runs_by_cutoff_in_the_regions_calendar_weekends_included() -> None:
    noon = time(12, 0)
    saturday_morning = datetime(2026, 11, 7, 3, 0, tzinfo=UTC)  # 10:00 Saturday in Hanoi
    assert run_date(saturday_morning, noon, "Asia/Ho_Chi_Minh") == date(2026, 11, 7)
    assert run_date(saturday_morning + timedelta(hours=3), noon, "Asia/Ho_Chi_Minh") == date(
        2026, 11, 8
    )
    assert task_id_for("WS", WH, date(2026, 11, 7)) == task_id_for("WS", WH, date(2026, 11, 7))
    assert task_id_for("WS", WH, date(2026, 11, 7)) != task_id_for("GHN", WH, date(2026, 11, 7))


def awaited(handover: str = "PICKUP") -> Parcel:
    event = ParcelAwaited(
        order_id=uuid.uuid4(),
        package_id=uuid.uuid4(),
        seller_id="s1",
        warehouse_id=WH,
        tracking_number="WS00000000018",
        provider_code="WS",
        at=T0,
        handover=handover,
        task_id=uuid.uuid4() if handover == "PICKUP" else None,
        run_date=None,
    )
    return PARCEL.fold([event])


def test_a_scan_by_the_labels_provider_or_the_regions_new_one() -> None:
    parcel = awaited()
    [picked] = decide_parcel(parcel, Collect("d1", "WS", "WS", T0))
    assert isinstance(picked, PickedUp)
    after = PARCEL.fold([picked], parcel)
    assert decide_parcel(after, Collect("d1", "WS", "WS", T0)) == []  # a repeated scan
    with pytest.raises(DomainError, match="collected by WS"):
        decide_parcel(parcel, Collect("d2", "GHN", "WS", T0))
    assert decide_parcel(parcel, Collect("d2", "GHN", "GHN", T0))  # labelled before a switch to GHN
    with pytest.raises(NotFound):
        decide_parcel(Parcel(), Collect("d1", "WS", "WS", T0))
    with pytest.raises(DomainError):
        decide_parcel(awaited("DROP_OFF"), Collect("d1", "WS", "WS", T0))


def test_hub_arrival_follows_collection_and_overdue_is_flagged_after_48_hours() -> None:
    parcel = awaited()
    with pytest.raises(DomainError):
        decide_parcel(parcel, ArriveAtHub("HUB-1", T0))
    assert (
        decide_parcel(parcel, FlagPickupOverdue(timedelta(hours=48), T0 + timedelta(hours=47)))
        == []
    )
    [late] = decide_parcel(parcel, FlagPickupOverdue(timedelta(hours=48), T0 + timedelta(hours=48)))
    assert isinstance(late, PickupOverdue)
    dropped = awaited("DROP_OFF")
    received = PARCEL.fold(decide_parcel(dropped, ReceiveDropOff("op", T0)), dropped)
    assert received.status == "DROPPED_OFF"
    assert (
        PARCEL.fold(decide_parcel(received, ArriveAtHub("HUB-1", T0)), received).status == "AT_HUB"
    )
