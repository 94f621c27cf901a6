"""Deliver-by counts working days of the destination's calendar (its time zone, weekend and
holidays) after the dispatch deadline: 5 by default, configurable per country."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from services.order.domain.order import ORDER
from services.order.domain.order_delivery import ExtendDispatch
from services.order.domain.order_intake import EndRemorseWindow
from services.order.domain.order_policy import OrderPolicy
from services.order.domain.order_state import Order
from shared.calendar import CHINA_2026, DeliveryCalendars, WorkingCalendar, dates
from shared.events.order import DispatchDeadlineMoved, OrderPlaced
from tests.unit.order.builders import ADDRESS, POLICY, created, decide, paid

END_OF_DAY = (23, 59, 59, 999999)


def placed_event(state: Order, policy: OrderPolicy = POLICY) -> tuple[Order, OrderPlaced]:
    assert state.remorse_until
    events = decide(state, EndRemorseWindow(now=state.remorse_until), policy)
    return ORDER.fold(events, state), next(e for e in events if isinstance(e, OrderPlaced))


def order_to(country: str, at: datetime) -> Order:
    """An order to `country` created at `at`, paid five minutes later."""
    return paid(created(address=ADDRESS.model_copy(update={"country": country}), at=at), at=at)


def test_an_order_due_for_dispatch_on_thursday_is_delivered_by_the_end_of_next_thursday() -> None:
    # Created Monday 2 Nov 2026 09:00 UTC: due for dispatch on Thursday 5 Nov; 5 working days
    # (Fri, Mon, Tue, Wed, Thu) in the default calendar (UTC, Saturday and Sunday off).
    _, event = placed_event(paid())
    assert event.dispatch_deadline.date() == datetime(2026, 11, 5).date()
    assert event.deliver_by == datetime(2026, 11, 12, *END_OF_DAY, tzinfo=UTC)


def test_a_holiday_of_the_destination_moves_deliver_by_a_working_day_on() -> None:
    us = WorkingCalendar(time_zone="America/Chicago", holidays=dates(["2026-11-11"]))
    policy = replace(POLICY, delivery=DeliveryCalendars(calendars={"US": us}))
    _, event = placed_event(paid(), policy)
    # Thursday 5 Nov in Chicago; 11 Nov is off: Fri 6, Mon 9, Tue 10, Thu 12, Fri 13, the end
    # of which is 06:00 UTC the next morning (CST, UTC-6).
    assert event.deliver_by == datetime(2026, 11, 14, 5, 59, 59, 999999, tzinfo=UTC)


def test_an_order_to_china_due_before_national_day_is_delivered_by_12_october() -> None:
    # Created Saturday 26 Sep 2026 06:00 UTC (14:00 Beijing): due for dispatch on Tuesday
    # 29 Sep; then 30 Sep, (1-7 Oct off), 8 Oct, 9 Oct, Saturday 10 Oct (made up), 12 Oct.
    _, event = placed_event(order_to("CN", datetime(2026, 9, 26, 6, tzinfo=UTC)))
    assert event.deliver_by == datetime(2026, 10, 12, 15, 59, 59, 999999, tzinfo=UTC)


def test_the_number_of_working_days_is_set_per_destination() -> None:
    delivery = DeliveryCalendars(working_days=5, working_days_by_country={"US": 2})
    _, event = placed_event(paid(), replace(POLICY, delivery=delivery))
    assert event.deliver_by == datetime(2026, 11, 9, *END_OF_DAY, tzinfo=UTC)  # Fri, Mon


def test_an_extension_after_placement_counts_deliver_by_again_from_the_new_deadline() -> None:
    state, event = placed_event(paid())
    events = decide(state, ExtendDispatch(72, "switch", event.placed_at))
    moved = next(e for e in events if isinstance(e, DispatchDeadlineMoved))
    # Thursday + 72 h is Sunday 8 Nov: Mon 9 .. Fri 13 (not Thursday's deliver-by + 72 h).
    assert moved.dispatch_deadline == event.dispatch_deadline + timedelta(hours=72)
    assert moved.deliver_by == datetime(2026, 11, 13, *END_OF_DAY, tzinfo=UTC)
    assert ORDER.fold(events, state).deliver_by == moved.deliver_by


def test_the_default_policy_knows_chinas_calendar() -> None:
    assert POLICY.delivery.calendar("CN") == CHINA_2026
