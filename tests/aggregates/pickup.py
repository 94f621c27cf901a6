"""The pickup service's aggregates with realistic histories (each made by deciding commands
on the state folded so far) and the reactions its app registers, for the shared aggregate
contract."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar, cast

from services.pickup.domain.collection_runs import task_id_for
from services.pickup.domain.extensions import EXTENSIONS, ExtendDispatch
from services.pickup.domain.parcel import (
    PARCEL,
    ArriveAtHub,
    AwaitParcel,
    Collect,
    FlagPickupOverdue,
    MoveToRun,
    ReceiveDropOff,
    RecordLabelDefect,
)
from services.pickup.domain.provider import PROVIDER, ConfigureProvider, Provider
from services.pickup.domain.subscription import (
    SUBSCRIPTION,
    ChangePickupWindow,
    DeclineSubscription,
    FlagReviewOverdue,
    FollowSwitch,
    ReportPushFailed,
    RequestSubscription,
    ReviewSubscription,
    Subscription,
)
from services.pickup.domain.switch import SWITCH, ApplySwitch, ScheduleSwitch, Switch
from services.pickup.domain.task import TASK, AssignDriver, FlagDriverOverdue, HandOver, OpenTask
from services.pickup.handlers import fulfillment_reactions, order_reactions
from services.pickup.service import PickupService
from shared.aggregate import Aggregate
from shared.consumer import Reaction
from shared.events import EventPayload
from shared.events.pickup import HubAddress, PickupWindow, RegionHub, ServiceHours
from shared.money import Money

S = TypeVar("S")
T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
WAREHOUSE = uuid.UUID(int=501)
ORDER = uuid.UUID(int=502)
HOUR = timedelta(hours=1)


def history(aggregate: Aggregate[S], steps: Sequence[Callable[[S], Any]]) -> list[EventPayload]:
    """The events of `steps` (each builds its command from the state so far), decided in turn."""
    assert aggregate.decide is not None
    state, events = aggregate.initial, []
    for step in steps:
        new = list(aggregate.decide(state, step(state)))
        state = aggregate.fold(new, state)
        events += new
    return events


SPX = Provider("SPX", "SPX Express", "SPX", (("VN", "Hanoi"),))
GHN = Provider("GHN", "Giao Hang Nhanh", "GHN", (("VN", "Hanoi"), ("VN", "Hue")))


HANOI_HUB = RegionHub(
    country="VN",
    city="Hanoi",
    hub=HubAddress(
        hub_id="HN-1",
        name="SPX Hanoi Hub",
        line1="1 Pham Hung",
        city="Hanoi",
        postal_code="100000",
        country="VN",
    ),
)


def configure(p: Provider, at: datetime) -> Callable[[Provider], ConfigureProvider]:
    return lambda _: ConfigureProvider(p.provider_code, p.name, p.tracking_prefix, p.coverage, at)


PROVIDER_HISTORY = history(
    PROVIDER,
    [
        configure(SPX, T0),
        configure(SPX, T0 + HOUR),  # the same again: nothing
        configure(Provider("SPX", "SPX Express", "SPX", (("VN", "Hanoi"), ("VN", "Hue"))), T0),
        configure(Provider("SPX", "SPX Express VN", "SPX", (("VN", "Hue"),)), T0 + 2 * HOUR),
        configure(Provider("SPX", "SPX Express VN", "SPXV", (("VN", " Hue "),)), T0 + 3 * HOUR),
        configure(Provider("SPX", "SPX", "SPXV", ()), T0 + 4 * HOUR),
        configure(SPX, T0 + 5 * HOUR),
        lambda _: ConfigureProvider(  # a hub for Hanoi
            "SPX", "SPX Express", "SPX", SPX.coverage, T0 + 6 * HOUR, [HANOI_HUB]
        ),
        lambda _: ConfigureProvider(  # the same again: nothing
            "SPX", "SPX Express", "SPX", SPX.coverage, T0 + 7 * HOUR, [HANOI_HUB]
        ),
        configure(SPX, T0 + 8 * HOUR),  # the hub taken away
        lambda _: ConfigureProvider(  # its hotline and service hours
            "SPX",
            "SPX Express",
            "SPX",
            SPX.coverage,
            T0 + 9 * HOUR,
            hotline="+84 1900 6868",
            service_hours=ServiceHours(start=time(9), end=time(19)),
        ),
    ],
)

SWITCH_ID = uuid.UUID(int=503)
WINDOW = PickupWindow(start=time(15), end=time(18))
LATER_WINDOW = PickupWindow(start=time(16), end=time(19))
CUTOVER = T0 + timedelta(days=2)
SWITCH_STEPS: list[Callable[[Switch], Any]] = [
    lambda _: ScheduleSwitch(SWITCH_ID, "vn", " Hanoi ", GHN, CUTOVER, "Asia/Ho_Chi_Minh", 72, T0),
    lambda _: ApplySwitch(CUTOVER - HOUR),  # not yet: nothing
    lambda _: ApplySwitch(CUTOVER + timedelta(minutes=1)),
    lambda _: ApplySwitch(CUTOVER + HOUR),  # applied already: nothing
]
SWITCH_HISTORY = history(SWITCH, SWITCH_STEPS)
TO_GHN = SWITCH.fold(SWITCH_HISTORY)


def _sid(state: Subscription) -> uuid.UUID:
    assert state.subscription_id is not None
    return state.subscription_id


def request(provider: Provider | None, at: datetime) -> Callable[[Subscription], Any]:
    return lambda _: RequestSubscription(WAREHOUSE, "shop-1", provider, timedelta(hours=24), at)


SUBSCRIPTION_HISTORY = history(
    SUBSCRIPTION,
    [
        request(SPX, T0),
        lambda s: FlagReviewOverdue(_sid(s), T0 + 23 * HOUR),  # not due: nothing
        lambda s: FlagReviewOverdue(_sid(s), T0 + 24 * HOUR),
        lambda s: ReviewSubscription(_sid(s), True, "drv-1", "ok", T0 + 25 * HOUR, WINDOW),
        lambda s: ChangePickupWindow(_sid(s), LATER_WINDOW, "drv-1", T0 + 26 * HOUR),
        lambda _: FollowSwitch(TO_GHN, CUTOVER + timedelta(minutes=1)),
        lambda s: FlagReviewOverdue(_sid(s), CUTOVER + 25 * HOUR),  # the new provider's review
        lambda s: ReviewSubscription(_sid(s), True, "drv-9", "批量审核", CUTOVER + 26 * HOUR),
        lambda s: DeclineSubscription(_sid(s), CUTOVER + 27 * HOUR),
        request(None, CUTOVER + 3 * HOUR),  # moved out of coverage
        request(GHN, CUTOVER + 4 * HOUR),  # and back
        lambda s: ReviewSubscription(_sid(s), False, "op", "no access road", CUTOVER + 5 * HOUR),
        request(GHN, CUTOVER + 6 * HOUR),
        lambda s: ReviewSubscription(_sid(s), True, "op", None, CUTOVER + 7 * HOUR),
        request(SPX, CUTOVER + 8 * HOUR),
        lambda s: ReviewSubscription(_sid(s), True, "op", None, CUTOVER + 9 * HOUR),
        lambda _: FollowSwitch(TO_GHN, CUTOVER + 10 * HOUR),
        lambda s: ReportPushFailed(_sid(s), "drv-9", "地址无法导入", CUTOVER + 11 * HOUR),
        request(GHN, CUTOVER + 12 * HOUR),  # the address saved again
    ],
)


def switch_of(n: int) -> Switch:
    return Switch(uuid.UUID(int=600 + n), "VN", "Hanoi", "GHN", "GHN", CUTOVER, "UTC", 24 * n)


EXTENSIONS_HISTORY = history(
    EXTENSIONS,
    [
        lambda _: ExtendDispatch(ORDER, "shop-1", switch_of(1), T0),
        lambda _: ExtendDispatch(ORDER, "shop-1", switch_of(1), T0 + HOUR),  # once: nothing
        lambda _: ExtendDispatch(ORDER, "shop-1", switch_of(2), T0 + 2 * HOUR),
        lambda _: ExtendDispatch(ORDER, "shop-1", switch_of(3), T0 + 3 * HOUR),
        lambda _: ExtendDispatch(ORDER, "shop-1", switch_of(4), T0 + 4 * HOUR),
        lambda _: ExtendDispatch(ORDER, "shop-1", switch_of(5), T0 + 5 * HOUR),
    ],
)

RUN_DAY = date(2026, 11, 2)
TASK_ID = task_id_for("SPX", WAREHOUSE, RUN_DAY)
GHN_TASK_ID = task_id_for("GHN", WAREHOUSE, RUN_DAY)


def awaited(package_id: uuid.UUID, handover: str) -> Callable[[Any], AwaitParcel]:
    task_id = TASK_ID if handover == "PICKUP" else None
    run_date = RUN_DAY if handover == "PICKUP" else None
    return lambda _: AwaitParcel(
        ORDER, package_id, "shop-1", WAREHOUSE, "SPX0000001", "SPX", handover, T0, task_id,
        run_date, T0 + timedelta(seconds=2),
    )  # fmt: skip


PICKUP_PARCEL_HISTORY = history(
    PARCEL,
    [
        awaited(uuid.UUID(int=701), "PICKUP"),
        awaited(uuid.UUID(int=701), "PICKUP"),  # told twice: nothing
        lambda _: FlagPickupOverdue(timedelta(hours=48), T0 + 47 * HOUR),  # not yet: nothing
        lambda _: FlagPickupOverdue(timedelta(hours=48), T0 + 48 * HOUR),
        lambda _: MoveToRun(GHN_TASK_ID, RUN_DAY, "GHN", SWITCH_ID, T0 + 49 * HOUR),  # cutover
        lambda _: MoveToRun(GHN_TASK_ID, RUN_DAY, "GHN", SWITCH_ID, T0 + 49 * HOUR),  # nothing
        lambda _: Collect("drv-2", "GHN", "GHN", T0 + 50 * HOUR),  # the region's new provider
        lambda _: Collect("drv-2", "GHN", "GHN", T0 + 50 * HOUR),  # a repeated scan: nothing
        lambda _: ArriveAtHub("HN-1", T0 + 53 * HOUR),
    ],
)
DROP_OFF_PARCEL_HISTORY = history(
    PARCEL,
    [
        awaited(uuid.UUID(int=702), "DROP_OFF"),
        lambda _: ReceiveDropOff("op-1", T0 + 5 * HOUR),
        lambda _: ArriveAtHub("HN-1", T0 + 9 * HOUR),
        lambda _: RecordLabelDefect(
            "UNREADABLE_LABEL",
            "条码无法扫描",
            "op-2",
            Money(amount=500, currency="CNY"),
            T0 + 10 * HOUR,
        ),
        lambda _: RecordLabelDefect(  # the same again: nothing
            "UNREADABLE_LABEL", None, "op-2", Money(amount=500, currency="CNY"), T0 + 11 * HOUR
        ),
    ],
)

TASK_HISTORY = history(
    TASK,
    [
        lambda _: OpenTask(TASK_ID, "SPX", WAREHOUSE, "shop-1", RUN_DAY, T0, T0),
        lambda _: OpenTask(TASK_ID, "SPX", WAREHOUSE, "shop-1", RUN_DAY, T0 + HOUR, T0 + HOUR),
        lambda _: FlagDriverOverdue(timedelta(hours=24), T0 + 24 * HOUR),
        lambda _: AssignDriver("drv-1", "Minh", "+84 90 123", T0 + 25 * HOUR),
        lambda _: AssignDriver("drv-1", "Minh", "+84 90 123", T0 + 25 * HOUR),  # same: nothing
        lambda _: AssignDriver("drv-3", "Lan", "+84 90 456", T0 + 26 * HOUR),
        lambda _: AssignDriver("drv-4", "Hoa", "+84 90 789", T0 + 27 * HOUR),
        lambda _: AssignDriver("drv-1", "Minh", "+84 90 123", T0 + 28 * HOUR),
    ],
)
HANDED_OVER_TASK_HISTORY = history(
    TASK,
    [
        lambda _: OpenTask(TASK_ID, "SPX", WAREHOUSE, "shop-1", RUN_DAY, T0, T0),
        lambda _: HandOver("GHN", SWITCH_ID, T0 + 2 * HOUR),
        lambda _: HandOver("GHN", SWITCH_ID, T0 + 3 * HOUR),  # again: nothing
        lambda _: FlagDriverOverdue(timedelta(hours=24), T0 + 24 * HOUR),  # not chased: nothing
    ],
)

HISTORIES: list[tuple[Aggregate[Any], list[EventPayload]]] = [
    (PROVIDER, PROVIDER_HISTORY),
    (SUBSCRIPTION, SUBSCRIPTION_HISTORY),
    (SWITCH, SWITCH_HISTORY),
    (EXTENSIONS, EXTENSIONS_HISTORY),
    (PARCEL, PICKUP_PARCEL_HISTORY),
    (PARCEL, DROP_OFF_PARCEL_HISTORY),
    (TASK, TASK_HISTORY),
    (TASK, HANDED_OVER_TASK_HISTORY),
]

_NO_SERVICE = cast(PickupService, None)  # the reactions are only inspected for their keys
REACTIONS: list[Mapping[type[EventPayload], Reaction]] = [
    fulfillment_reactions(_NO_SERVICE),
    order_reactions(_NO_SERVICE),
]
