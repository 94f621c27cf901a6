"""Provider switches: the window of orders a switch extends, once per order and switch."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.pickup.domain import extensions, switch
from services.pickup.domain.cutover import in_switch_window
from services.pickup.domain.extensions import EXTENSIONS, ExtendDispatch, OrderExtensions
from services.pickup.domain.switch import ApplySwitch, ScheduleSwitch
from shared.aggregate import DomainError
from tests.unit.pickup.given import SPX, T0, scheduled_switch

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


def test_an_order_is_extended_once_per_switch() -> None:
    order = uuid.uuid4()
    s = scheduled_switch()
    [event] = extensions.decide(OrderExtensions(), ExtendDispatch(order, "s1", s, T0))
    assert event.extended_by_hours == 72  # type: ignore[attr-defined]
    assert extensions.decide(EXTENSIONS.fold([event]), ExtendDispatch(order, "s1", s, T0)) == []
    with pytest.raises(DomainError):
        switch.decide(s, ScheduleSwitch(uuid.UUID(int=9), "VN", "Hanoi", SPX, T0, "UTC", 72, T0))
    assert switch.decide(s, ApplySwitch(T0)) == []  # before the cutover
    assert len(switch.decide(s, ApplySwitch(T0 + timedelta(days=2)))) == 1
