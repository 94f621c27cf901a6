"""Working days in a market's calendar (shared/calendar.py): the rules delivery dates count by."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.calendar import CHINA_2026, DeliveryCalendars, WorkingCalendar, dates

US = WorkingCalendar(time_zone="America/Chicago", holidays=dates(["2026-11-11", "2026-11-26"]))
CALENDARS = DeliveryCalendars(calendars={"CN": CHINA_2026, "US": US}, working_days=5)

days = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))
calendars = st.sampled_from([CHINA_2026, US, WorkingCalendar()])


def test_saturday_and_sunday_are_not_working_days() -> None:
    assert not US.is_working_day(date(2026, 11, 7))  # Saturday
    assert not US.is_working_day(date(2026, 11, 8))  # Sunday
    assert US.is_working_day(date(2026, 11, 9))


def test_a_holiday_is_not_a_working_day() -> None:
    assert not US.is_working_day(date(2026, 11, 11))  # a Wednesday, Veterans Day


def test_chinese_national_day_1_to_7_october_2026_is_off_and_10_october_is_worked() -> None:
    assert not any(CHINA_2026.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert CHINA_2026.is_working_day(date(2026, 10, 10))  # a Saturday, made up for the holiday
    assert CHINA_2026.is_working_day(date(2026, 9, 20))  # a Sunday, likewise


def test_five_working_days_after_a_thursday_end_the_next_thursday() -> None:
    assert WorkingCalendar().add_working_days(date(2026, 11, 5), 5) == date(2026, 11, 12)


def test_a_holiday_pushes_the_count_one_working_day_on() -> None:
    assert US.add_working_days(date(2026, 11, 5), 5) == date(2026, 11, 13)


def test_counting_from_a_weekend_starts_on_monday() -> None:
    assert US.add_working_days(date(2026, 11, 8), 1) == date(2026, 11, 9)


def test_a_parcel_due_over_national_day_waits_for_the_holiday_to_end() -> None:
    # 30 Sep (Wed) + 2 working days: 1-7 Oct off, 8 Oct (Thu), 9 Oct (Fri).
    assert CHINA_2026.add_working_days(date(2026, 9, 30), 2) == date(2026, 10, 9)
    # + 3: the make-up Saturday 10 Oct counts.
    assert CHINA_2026.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)


def test_zero_working_days_is_the_day_itself_or_the_next_working_day() -> None:
    assert US.add_working_days(date(2026, 11, 9), 0) == date(2026, 11, 9)
    assert US.add_working_days(date(2026, 11, 7), 0) == date(2026, 11, 9)


def test_the_local_day_is_the_destinations_not_utc() -> None:
    # 1 Oct 2026 20:00 UTC is already 2 Oct in Beijing, still 1 Oct in Chicago.
    instant = datetime(2026, 10, 1, 20, tzinfo=UTC)
    assert CHINA_2026.local_date(instant) == date(2026, 10, 2)
    assert US.local_date(instant) == date(2026, 10, 1)


def test_deliver_by_is_the_end_of_the_due_day_in_the_destinations_time_zone() -> None:
    deadline = datetime(2026, 11, 5, 6, 36, tzinfo=UTC)  # Thursday 00:36 in Chicago
    due = CALENDARS.deliver_by("US", deadline)
    assert CALENDARS.delivery_date("US", deadline) == date(2026, 11, 13)  # 11 Nov is a holiday
    assert due == datetime(2026, 11, 14, 5, 59, 59, 999999, tzinfo=UTC)  # CST is UTC-6


def test_an_order_due_for_dispatch_before_national_day_is_delivered_by_14_october() -> None:
    deadline = datetime(2026, 9, 29, 10, tzinfo=UTC)  # Tuesday 18:00 in Beijing
    # 30 Sep, then 8, 9, 10 (the make-up Saturday), 12 Oct
    assert CALENDARS.delivery_date("cn", deadline) == date(2026, 10, 12)
    assert CALENDARS.deliver_by("CN", deadline) == datetime(
        2026, 10, 12, 15, 59, 59, 999999, tzinfo=UTC
    )


def test_the_working_days_are_configurable_per_country() -> None:
    calendars = DeliveryCalendars(
        calendars={"US": US}, working_days=5, working_days_by_country={"US": 2}
    )
    assert calendars.delivery_date("US", datetime(2026, 11, 5, 18, tzinfo=UTC)) == date(2026, 11, 9)
    assert calendars.delivery_working_days("FR") == 5


def test_a_country_without_a_calendar_uses_the_default() -> None:
    assert CALENDARS.calendar("FR") == WorkingCalendar()


def test_a_calendar_without_working_days_is_refused_not_looped() -> None:
    with pytest.raises(ValueError):
        WorkingCalendar(weekend=frozenset(range(7))).add_working_days(date(2026, 1, 1), 1)


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(Exception):  # noqa: B017 - zoneinfo's error class varies
        WorkingCalendar(time_zone="Mars/Olympus")


@given(calendars, days, st.integers(0, 30))
def test_adding_working_days_never_lands_on_a_day_off(
    calendar: WorkingCalendar, day: date, n: int
) -> None:
    assert calendar.is_working_day(calendar.add_working_days(day, n))


@given(calendars, days, st.integers(1, 30))
def test_adding_n_working_days_passes_exactly_n_working_days(
    calendar: WorkingCalendar, day: date, n: int
) -> None:
    due = calendar.add_working_days(day, n)
    between = [day + timedelta(days=i) for i in range(1, (due - day).days + 1)]
    assert sum(calendar.is_working_day(d) for d in between) == n


@given(calendars, days, days, st.integers(0, 30), st.integers(0, 30))
def test_adding_working_days_is_monotonic(
    calendar: WorkingCalendar, a: date, b: date, m: int, n: int
) -> None:
    (a, b), (m, n) = sorted((a, b)), sorted((m, n))
    assert calendar.add_working_days(a, m) <= calendar.add_working_days(b, n)


@given(calendars, st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 1)))
def test_the_end_of_the_local_day_is_on_that_day_and_after_every_instant_of_it(
    calendar: WorkingCalendar, naive: datetime
) -> None:
    instant = naive.replace(tzinfo=UTC)
    day = calendar.local_date(instant)
    end = calendar.end_of_day(day)
    assert calendar.local_date(end) == day and end >= instant
    assert calendar.local_date(end + timedelta(microseconds=1)) == day + timedelta(days=1)
