"""Across a provider switch's cutover: the parcels waiting on the old provider's runs move to
the new provider's, the old runs are not chased, a new provider's label printed before the
takeover goes with the old provider's driver, and the new provider reviews what was moved."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest

from services.fulfillment.domain import warehouse
from services.fulfillment.domain.warehouse import (
    WAREHOUSE,
    ChangeWarehouseAddress,
    RegisterWarehouse,
)
from services.pickup.domain import subscription
from services.pickup.domain.collection_runs import moved_run_date, run_date, task_id_for
from services.pickup.domain.parcel import (
    PARCEL,
    AwaitParcel,
    Collect,
    MoveToRun,
    Parcel,
    decide,
    handled_by,
)
from services.pickup.domain.subscription import (
    FlagReviewOverdue,
    FollowSwitch,
    ReportPushFailed,
    RequestSubscription,
    ReviewSubscription,
)
from services.pickup.domain.task import TASK, FlagDriverOverdue, HandOver, OpenTask
from shared.aggregate import DomainError
from shared.events import REGISTRY
from shared.events.common import Address
from shared.events.fulfillment import Contact, WarehouseAddressResaved
from shared.events.pickup import (
    ParcelMovedToRun,
    PickupSubscriptionPushFailed,
    PickupSubscriptionReviewOverdue,
    PickupTaskHandedOver,
    PickupWindow,
)
from tests.unit.pickup.given import GHN, SPX, T0, WH, requested, run, scheduled_switch

BEIJING = "Asia/Shanghai"
SWITCH = uuid.UUID(int=9)


def waiting(label: str, collector: str) -> Parcel:
    """A parcel labelled by `label`, ready on `collector`'s run at the warehouse."""
    day = date(2026, 11, 2)
    command = AwaitParcel(
        uuid.uuid4(), uuid.uuid4(), "s1", WH, f"{label}0000001", label, "PICKUP", T0,
        task_id_for(collector, WH, day), day, T0, collector=collector,
    )  # fmt: skip
    return PARCEL.fold(decide(Parcel(), command))


def test_a_parcel_waiting_on_the_old_providers_run_moves_to_the_new_ones_at_the_cutover() -> None:
    parcel = waiting("SPX", "SPX")
    new_run = task_id_for("GHN", WH, date(2026, 11, 3))
    [moved] = decide(parcel, MoveToRun(new_run, date(2026, 11, 3), "GHN", SWITCH, T0))
    assert isinstance(moved, ParcelMovedToRun) and moved.tracking_number == "SPX0000001"
    after = PARCEL.fold([moved], parcel)
    assert (after.task_id, after.collector) == (new_run, "GHN")
    # the old label is collected by the new provider; the old provider's driver is refused
    assert handled_by(after, "GHN", "GHN") and not handled_by(after, "SPX", "GHN")
    with pytest.raises(DomainError, match="collected by GHN"):
        decide(after, Collect("d-spx", "SPX", "GHN", T0))
    assert decide(after, Collect("d-ghn", "GHN", "GHN", T0))
    assert decide(after, MoveToRun(new_run, date(2026, 11, 3), "GHN", SWITCH, T0)) == []
    picked = PARCEL.fold(decide(after, Collect("d-ghn", "GHN", "GHN", T0)), after)
    assert decide(picked, MoveToRun(new_run, date(2026, 11, 3), "WS", SWITCH, T0)) == []


def test_a_new_providers_label_printed_before_the_takeover_goes_with_the_old_driver() -> None:
    parcel = waiting("GHN", "SPX")  # fulfillment printed GHN, SPX still serves the warehouse
    assert parcel.task_id == task_id_for("SPX", WH, date(2026, 11, 2))  # on SPX's run
    assert handled_by(parcel, "SPX", "SPX")
    [picked] = decide(parcel, Collect("d-spx", "SPX", "SPX", T0))
    assert picked.driver_provider == "SPX"  # type: ignore[attr-defined]


def test_the_old_run_handed_over_at_the_cutover_is_not_chased_for_a_driver() -> None:
    day = date(2026, 11, 2)
    task_id = task_id_for("SPX", WH, day)
    task = TASK.fold([*TASK.decide(TASK.initial, OpenTask(task_id, "SPX", WH, "s1", day, T0, T0))])  # type: ignore[misc]
    [handed] = TASK.decide(task, HandOver("GHN", SWITCH, T0 + timedelta(hours=2)))  # type: ignore[misc]
    assert isinstance(handed, PickupTaskHandedOver) and handed.to_provider == "GHN"
    after = TASK.fold([handed], task)
    assert TASK.decide(after, FlagDriverOverdue(timedelta(hours=24), T0 + timedelta(days=2))) == []  # type: ignore[misc]
    assert TASK.decide(after, HandOver("GHN", SWITCH, T0)) == []  # type: ignore[misc]


def test_a_moved_parcel_goes_on_the_new_providers_run_of_the_cutover_day() -> None:
    window = time(15, 0)
    cutover = datetime(2026, 9, 18, 16, 0, tzinfo=UTC)  # 19 Sep 00:00 Beijing time
    # due on the 18th's run (Beijing), it waits through the cutover: the 19th's run
    assert moved_run_date(date(2026, 9, 18), cutover, window, BEIJING) == date(2026, 9, 19)
    # due later than the cutover's day: it keeps that day
    assert moved_run_date(date(2026, 9, 20), cutover, window, BEIJING) == date(2026, 9, 20)
    # a cutover after the day's window began: the next day's run
    late = datetime(2026, 9, 19, 8, 0, tzinfo=UTC)  # 16:00 Beijing
    assert moved_run_date(date(2026, 9, 19), late, window, BEIJING) == date(2026, 9, 20)
    assert run_date(cutover, window, BEIJING) == date(2026, 9, 19)


def test_the_new_provider_reviews_a_moved_subscription_within_24_hours() -> None:
    sid = requested().subscription_id
    assert sid is not None
    window = PickupWindow(start=time(15), end=time(18))
    active = run(requested(), ReviewSubscription(sid, True, "d-spx", None, T0, window))
    to_ws = scheduled_switch("WS")
    moved = run(active, FollowSwitch(to_ws, T0 + timedelta(days=2), timedelta(hours=24)))
    assert (moved.provider_code, moved.status, moved.handover) == ("WS", "ACTIVE", "PICKUP")
    assert moved.review_pending and moved.review_due == T0 + timedelta(days=3)
    assert moved.pickup_window == window  # kept until the new provider agrees another
    due = T0 + timedelta(days=3)
    assert subscription.decide(moved, FlagReviewOverdue(sid, due - timedelta(minutes=1))) == []
    [flag] = subscription.decide(moved, FlagReviewOverdue(sid, due))
    assert isinstance(flag, PickupSubscriptionReviewOverdue) and flag.provider_code == "WS"
    later = PickupWindow(start=time(16, 30), end=time(19))
    approved = run(moved, ReviewSubscription(sid, True, "d-ws", "批量审核", due, later))
    assert not approved.review_pending and approved.pickup_window == later
    with pytest.raises(DomainError, match="only a subscription"):
        subscription.decide(approved, ReportPushFailed(sid, "d-ws", None, due))


def test_a_failed_push_ships_drop_off_until_the_address_is_saved_again() -> None:
    sid = requested().subscription_id
    assert sid is not None
    active = run(requested(), ReviewSubscription(sid, True, "d-spx", None, T0))
    moved = run(active, FollowSwitch(scheduled_switch("GHN"), T0 + timedelta(days=2)))
    [failed] = subscription.decide(moved, ReportPushFailed(sid, "d-ghn", "地址无法导入", T0))
    assert isinstance(failed, PickupSubscriptionPushFailed)
    state = run(moved, ReportPushFailed(sid, "d-ghn", "地址无法导入", T0))
    assert (state.status, state.handover, state.push_failed) == ("REJECTED", "DROP_OFF", True)
    assert subscription.decide(state, ReportPushFailed(sid, "d-ghn", None, T0)) == []  # repeat
    # the seller saves the same address again: asked again, since the push failed ...
    resave = RequestSubscription(WH, "s1", GHN, timedelta(hours=24), T0, True)
    assert subscription.decide(moved, resave) == []  # ... but not while the push is fine
    again = run(state, resave)
    assert (again.status, again.provider_code, again.push_failed) == (
        "PENDING_REVIEW",
        "GHN",
        False,
    )
    assert again.subscription_id != sid and SPX.provider_code == "SPX"


def test_saving_a_warehouse_address_again_unchanged_is_told() -> None:
    address = Address(
        recipient_name="王芳", phone="+86 138 0013 8000", line1="朝阳路 18 号", city="北京",
        postal_code="100020", country="CN",
    )  # fmt: skip
    contact = Contact(name="王芳", phone="+86 138 0013 8000")
    registered = warehouse.decide(
        warehouse.Warehouse(), RegisterWarehouse(WH, "s1", "北京仓", address, contact, T0)
    )
    state = WAREHOUSE.fold(registered)
    [resaved] = warehouse.decide(state, ChangeWarehouseAddress(address, T0))
    assert isinstance(resaved, WarehouseAddressResaved) and resaved.address == address


def test_older_events_read_as_before() -> None:
    """The upcasters: a v1 ParcelAwaited's collector is its label's provider; a v1 switch
    of a subscription asks no review; a v1 approval agreed no window; a v1 provider has no
    hotline or service hours."""
    awaited = REGISTRY.decode(
        "ParcelAwaited",
        1,
        {
            "order_id": str(uuid.uuid4()), "package_id": str(uuid.uuid4()), "seller_id": "s1",
            "warehouse_id": str(WH), "tracking_number": "SPX1", "provider_code": "SPX",
            "at": T0.isoformat(), "handover": "PICKUP", "task_id": str(uuid.uuid4()),
            "run_date": "2026-11-02",
        },
    )  # fmt: skip
    assert awaited.collector == "SPX"  # type: ignore[attr-defined]
    common = {
        "warehouse_id": str(WH), "seller_id": "s1", "subscription_id": str(uuid.uuid4()),
        "status": "ACTIVE", "handover": "PICKUP", "provider_code": "GHN",
        "tracking_prefix": "GHN", "at": T0.isoformat(),
    }  # fmt: skip
    switched = REGISTRY.decode(
        "PickupSubscriptionProviderSwitched", 1, {**common, "switch_id": str(SWITCH)}
    )
    assert switched.review_due is None  # type: ignore[attr-defined]
    assert not subscription.evolve(requested(), switched).takeover_review
    approved = REGISTRY.decode("PickupSubscriptionApproved", 1, {**common, "reviewer_id": "d"})
    assert approved.pickup_window is None  # type: ignore[attr-defined]
    provider = REGISTRY.decode(
        "ProviderConfigured",
        1,
        {"provider_code": "GHN", "name": "GHN", "tracking_prefix": "GHN", "coverage": []},
    )
    assert (provider.hotline, provider.service_hours) == (None, None)  # type: ignore[attr-defined]
