"""Daily pickup: the window agreed at review (changed later by the provider) decides the run
a parcel joins; the provider's hotline and service hours are configured with it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from services.pickup.domain import provider, subscription
from services.pickup.domain.collection_runs import run_date
from services.pickup.domain.provider import PROVIDER, ConfigureProvider
from services.pickup.domain.subscription import (
    ChangePickupWindow,
    DeclineSubscription,
    ReviewSubscription,
)
from services.pickup.settings import PickupSettings
from shared.aggregate import DomainError
from shared.events.pickup import PickupWindow, PickupWindowChanged, ServiceHours
from tests.unit.pickup.given import T0, requested, run

AFTERNOON = PickupWindow(start=time(15), end=time(18))


def test_the_provider_agrees_a_daily_window_at_review_and_may_change_it_later() -> None:
    sid = requested().subscription_id
    assert sid is not None
    active = run(requested(), ReviewSubscription(sid, True, "d1", "每天下午取件", T0, AFTERNOON))
    assert active.pickup_window == AFTERNOON
    evening = PickupWindow(start=time(17), end=time(19, 30))
    [changed] = subscription.decide(active, ChangePickupWindow(sid, evening, "d1", T0))
    assert isinstance(changed, PickupWindowChanged) and changed.handover == "PICKUP"
    assert run(active, ChangePickupWindow(sid, evening, "d1", T0)).pickup_window == evening
    assert subscription.decide(active, ChangePickupWindow(sid, AFTERNOON, "d1", T0)) == []
    declined = run(active, DeclineSubscription(sid, T0))
    with pytest.raises(DomainError, match="DECLINED"):
        subscription.decide(declined, ChangePickupWindow(sid, evening, "d1", T0))
    with pytest.raises(DomainError, match="PENDING_REVIEW"):
        subscription.decide(requested(), ChangePickupWindow(sid, evening, "d1", T0))


def test_a_window_starts_before_it_ends() -> None:
    with pytest.raises(ValidationError):
        PickupWindow(start=time(18), end=time(15))
    with pytest.raises(ValidationError):
        ServiceHours(start=time(9), end=time(19), days=[1, 8])
    with pytest.raises(ValidationError):  # a wall-clock time has no offset
        PickupWindow.model_validate({"start": "15:00+07:00", "end": "18:00+07:00"})


def test_a_parcel_ready_after_noon_but_before_the_window_goes_the_same_day() -> None:
    hanoi = "Asia/Ho_Chi_Minh"
    ready = datetime(2026, 11, 2, 6, 30, tzinfo=UTC)  # 13:30 in Hanoi, after the old noon cut-off
    assert run_date(ready, AFTERNOON.start, hanoi) == date(2026, 11, 2)
    assert run_date(ready + timedelta(hours=2), AFTERNOON.start, hanoi) == date(2026, 11, 3)
    # a warehouse without an agreed window: the default one, which is no noon cut-off
    default = PickupSettings().default_pickup_window
    assert default.start > time(12) and run_date(ready, default.start, hanoi) == date(2026, 11, 2)
    assert not hasattr(PickupSettings(), "run_cutoff")


def test_a_providers_hotline_and_service_hours_are_configured_with_it() -> None:
    hours = ServiceHours(start=time(9), end=time(19))
    command = ConfigureProvider(
        "ZTO", "中通快递", "ZT", [("CN", "上海")], T0, hotline="95311", service_hours=hours
    )
    configured = PROVIDER.fold(provider.decide(PROVIDER.initial, command))
    assert (configured.hotline, configured.service_hours) == ("95311", hours)
    assert configured.service_hours.days == [1, 2, 3, 4, 5, 6, 7]  # every day
    assert provider.decide(configured, command) == []
    weekdays = ServiceHours(start=time(9), end=time(18), days=[1, 2, 3, 4, 5])
    [changed] = provider.decide(
        configured,
        ConfigureProvider(
            "ZTO", "中通快递", "ZT", [("CN", "上海")], T0, hotline="95311", service_hours=weekdays
        ),
    )
    assert changed.service_hours == weekdays  # type: ignore[attr-defined]
