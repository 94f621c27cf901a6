"""A package ready to ship is estimated to arrive its destination's delivery working days
after the day it was ready, in the destination's calendar (time zone, weekend, holidays)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.fulfillment.domain.fulfillment import FULFILLMENT
from shared.calendar import CHINA_2026, DeliveryCalendars, WorkingCalendar, dates
from shared.events.fulfillment import Customs, ReadyToShip
from shared.money import Money
from tests.unit.fulfillment.scenarios import BUYER, planned, ship

VN = WorkingCalendar(time_zone="Asia/Ho_Chi_Minh", holidays=dates(["2026-11-11"]))
DELIVERY = DeliveryCalendars(calendars={"VN": VN, "CN": CHINA_2026}, working_days=5)


def test_a_package_ready_on_monday_is_estimated_for_the_next_monday() -> None:
    state, package_id = planned()  # to Hanoi; the default calendar: UTC, Sat and Sun off
    event = ship(state, package_id)  # Monday 2 Nov 2026 14:00 UTC
    assert event.estimated_delivery_date == date(2026, 11, 9)
    after = FULFILLMENT.fold([event], state)
    assert after.packages[package_id].estimated_delivery_date == date(2026, 11, 9)


def test_the_estimate_skips_the_destinations_holidays_and_starts_on_its_local_day() -> None:
    state, package_id = planned()
    # Friday 6 Nov 18:00 UTC is already Saturday 7 Nov in Hanoi: Mon 9, Tue 10, (11 off),
    # Thu 12, Fri 13, Mon 16.
    event = ship(state, package_id, now=datetime(2026, 11, 6, 18, tzinfo=UTC), delivery=DELIVERY)
    assert event.estimated_delivery_date == date(2026, 11, 16)


def test_a_parcel_to_china_ready_on_30_september_is_estimated_after_national_day() -> None:
    state, package_id = planned(BUYER.model_copy(update={"country": "CN"}))
    event = ship(
        state,
        package_id,
        now=datetime(2026, 9, 30, 2, tzinfo=UTC),  # 10:00 in Beijing
        delivery=DeliveryCalendars(calendars={"CN": CHINA_2026}, working_days_by_country={"CN": 2}),
        customs=Customs(
            declared_value=Money(amount=300000, currency="VND"),
            hs_code="490199",
            description="Books",
        ),
    )
    assert event.estimated_delivery_date == date(2026, 10, 9)  # 1-7 Oct off: 8, 9 Oct


def test_a_ready_to_ship_stored_before_estimates_reads_without_one() -> None:
    state, package_id = planned()
    stored = ship(state, package_id).model_dump(mode="json")
    del stored["estimated_delivery_date"]
    old = ReadyToShip.model_validate(stored)
    assert old.estimated_delivery_date is None
    assert FULFILLMENT.fold([old], state).packages[package_id].estimated_delivery_date is None
