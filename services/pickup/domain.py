"""The pickup service's aggregates, pure: providers with their coverage, and each
warehouse's pickup subscription. Rules: DOMAIN.md section 3."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.aggregate import Aggregate, DomainError, NotFound
from shared.events import EventPayload
from shared.events.common import Address
from shared.events.pickup import (
    ArrivedAtHub,
    DispatchDeadlineExtended,
    DriverAssigned,
    DroppedOff,
    ParcelAwaited,
    PickedUp,
    PickupOverdue,
    PickupSubscriptionApproved,
    PickupSubscriptionDeclined,
    PickupSubscriptionNotCovered,
    PickupSubscriptionProviderSwitched,
    PickupSubscriptionRejected,
    PickupSubscriptionRequested,
    PickupSubscriptionReviewOverdue,
    PickupTaskCreated,
    PickupTaskDriverOverdue,
    ProviderConfigured,
    ProviderSwitchApplied,
    ProviderSwitchScheduled,
    SubscriptionEvent,
)

# --- providers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    provider_code: str = ""
    name: str = ""
    tracking_prefix: str = ""
    coverage: tuple[tuple[str, str], ...] = ()  # (country, city) as configured

    @property
    def exists(self) -> bool:
        return bool(self.provider_code)

    def covers(self, country: str, city: str) -> bool:
        return any(c == country.upper() and _city(x) == _city(city) for c, x in self.coverage)


def _city(city: str) -> str:
    return " ".join(city.split()).casefold()


@dataclass(frozen=True)
class ConfigureProvider:
    provider_code: str
    name: str
    tracking_prefix: str
    coverage: Sequence[tuple[str, str]]


def decide_provider(state: Provider, command: ConfigureProvider) -> list[EventPayload]:
    coverage = sorted({(c.upper(), city.strip()) for c, city in command.coverage})
    unchanged = state.exists and (
        state.name,
        state.tracking_prefix,
        state.coverage,
    ) == (command.name, command.tracking_prefix, tuple(coverage))
    if unchanged:
        return []
    return [
        ProviderConfigured(
            provider_code=command.provider_code,
            name=command.name,
            tracking_prefix=command.tracking_prefix,
            coverage=[{"country": c, "city": city} for c, city in coverage],
        )
    ]


def evolve_provider(state: Provider, event: EventPayload) -> Provider:
    if isinstance(event, ProviderConfigured):
        return Provider(
            event.provider_code,
            event.name,
            event.tracking_prefix,
            tuple((c["country"], c["city"]) for c in event.coverage),
        )
    return state


PROVIDER = Aggregate(initial=Provider(), evolve=evolve_provider)


def provider_stream(code: str) -> str:
    return f"provider/{code}"


def covering_provider(providers: Sequence[Provider], address: Address) -> Provider | None:
    """The provider whose coverage has the address's city (the first by code if several)."""
    covering = [p for p in providers if p.covers(address.country, address.city)]
    return min(covering, key=lambda p: p.provider_code) if covering else None


# --- subscriptions --------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscription:
    warehouse_id: uuid.UUID | None = None
    seller_id: str = ""
    subscription_id: uuid.UUID | None = None
    status: str = ""
    provider_code: str | None = None
    tracking_prefix: str | None = None
    review_due: datetime | None = None
    review_overdue: bool = False
    requests: int = 0

    @property
    def handover(self) -> str:
        return "PICKUP" if self.status == "ACTIVE" else "DROP_OFF"


@dataclass(frozen=True)
class RequestSubscription:
    """The warehouse's address is new or changed: ask the covering provider, if any."""

    warehouse_id: uuid.UUID
    seller_id: str
    provider: Provider | None
    review_within: timedelta
    now: datetime


@dataclass(frozen=True)
class ReviewSubscription:
    subscription_id: uuid.UUID
    approve: bool
    reviewer_id: str
    note: str | None
    now: datetime


@dataclass(frozen=True)
class DeclineSubscription:
    subscription_id: uuid.UUID
    now: datetime


@dataclass(frozen=True)
class FlagReviewOverdue:
    subscription_id: uuid.UUID
    now: datetime


SubscriptionCommand = (
    RequestSubscription | ReviewSubscription | DeclineSubscription | FlagReviewOverdue
)


def decide_subscription(state: Subscription, command: SubscriptionCommand) -> list[EventPayload]:
    if isinstance(command, RequestSubscription):
        subscription_id = uuid.uuid5(command.warehouse_id, f"subscription-{state.requests + 1}")
        common = {
            "warehouse_id": command.warehouse_id,
            "seller_id": command.seller_id,
            "subscription_id": subscription_id,
            "handover": "DROP_OFF",
            "at": command.now,
        }
        if command.provider is None:
            return [
                PickupSubscriptionNotCovered(
                    **common, status="NOT_COVERED", provider_code=None, tracking_prefix=None
                )
            ]
        return [
            PickupSubscriptionRequested(
                **common,
                status="PENDING_REVIEW",
                provider_code=command.provider.provider_code,
                tracking_prefix=command.provider.tracking_prefix,
                review_due=command.now + command.review_within,
            )
        ]
    if state.subscription_id is None or state.warehouse_id is None:
        raise NotFound("subscription-not-found", "no such pickup subscription")
    if command.subscription_id != state.subscription_id:
        raise DomainError(
            "subscription-replaced", "this request was replaced by a newer one for the warehouse"
        )
    current = {
        "warehouse_id": state.warehouse_id,
        "seller_id": state.seller_id,
        "subscription_id": state.subscription_id,
        "provider_code": state.provider_code,
        "tracking_prefix": state.tracking_prefix,
        "at": command.now,
    }
    match command:
        case ReviewSubscription():
            if state.status != "PENDING_REVIEW":
                raise DomainError("not-pending", f"the subscription is {state.status}")
            if command.approve:
                return [
                    PickupSubscriptionApproved(
                        **current,
                        status="ACTIVE",
                        handover="PICKUP",
                        reviewer_id=command.reviewer_id,
                        note=command.note,
                    )
                ]
            return [
                PickupSubscriptionRejected(
                    **current,
                    status="REJECTED",
                    handover="DROP_OFF",
                    reviewer_id=command.reviewer_id,
                    note=command.note,
                )
            ]
        case DeclineSubscription():
            if state.status not in ("PENDING_REVIEW", "ACTIVE"):
                raise DomainError("not-declinable", f"the subscription is {state.status}")
            return [PickupSubscriptionDeclined(**current, status="DECLINED", handover="DROP_OFF")]
        case FlagReviewOverdue():
            due = state.review_due
            if state.status != "PENDING_REVIEW" or state.review_overdue or due is None:
                return []
            if command.now < due:
                return []
            return [
                PickupSubscriptionReviewOverdue(
                    **current, status=state.status, handover="DROP_OFF", review_due=due
                )
            ]
    raise AssertionError(f"unhandled command {command!r}")


def evolve_subscription(state: Subscription, event: EventPayload) -> Subscription:
    if isinstance(event, PickupSubscriptionReviewOverdue):
        return replace(state, review_overdue=True)
    if isinstance(event, SubscriptionEvent):
        requested = isinstance(event, PickupSubscriptionRequested | PickupSubscriptionNotCovered)
        return replace(
            state,
            warehouse_id=event.warehouse_id,
            seller_id=event.seller_id,
            subscription_id=event.subscription_id,
            status=event.status,
            provider_code=event.provider_code,
            tracking_prefix=event.tracking_prefix,
            review_due=event.review_due
            if isinstance(event, PickupSubscriptionRequested)
            else state.review_due,
            review_overdue=False if requested else state.review_overdue,
            requests=state.requests + 1 if requested else state.requests,
        )
    return state


SUBSCRIPTION = Aggregate(
    initial=Subscription(),
    evolve=evolve_subscription,
    keys=lambda s: (None, s.seller_id or None),
)


def subscription_stream(warehouse_id: uuid.UUID) -> str:
    return f"subscription/{warehouse_id}"


DEFAULT_PROVIDERS: Mapping[str, ConfigureProvider] = {
    "SPX": ConfigureProvider(
        "SPX",
        "SPX Express",
        "SPX",
        [("US", "Springfield"), ("VN", "Hanoi"), ("VN", "Ho Chi Minh City")],
    ),
    "GHN": ConfigureProvider("GHN", "Giao Hang Nhanh", "GHN", [("VN", "Da Nang"), ("VN", "Hue")]),
}


# --- provider switches ----------------------------------------------------------------------


def in_switch_window(created_at: datetime, cutover_at: datetime, timezone: str) -> bool:
    """Was the order created on the day before or the day of the cutover, as the region's
    calendar counts days?"""
    zone = ZoneInfo(timezone)
    cutover_day = cutover_at.astimezone(zone).date()
    created_day = created_at.astimezone(zone).date()
    return cutover_day - timedelta(days=1) <= created_day <= cutover_day


@dataclass(frozen=True)
class Switch:
    switch_id: uuid.UUID | None = None
    country: str = ""
    city: str = ""
    to_provider: str = ""
    tracking_prefix: str = ""
    cutover_at: datetime | None = None
    timezone: str = "UTC"
    sla_extension_hours: int = 72
    applied: bool = False


@dataclass(frozen=True)
class ScheduleSwitch:
    switch_id: uuid.UUID
    country: str
    city: str
    to_provider: Provider
    cutover_at: datetime
    timezone: str
    sla_extension_hours: int
    now: datetime


@dataclass(frozen=True)
class ApplySwitch:
    now: datetime


def decide_switch(state: Switch, command: ScheduleSwitch | ApplySwitch) -> list[EventPayload]:
    match command:
        case ScheduleSwitch():
            if state.switch_id is not None:
                raise DomainError("switch-exists", "this switch is scheduled already")
            if not command.to_provider.exists:
                raise NotFound("provider-not-found", "no such provider to switch to")
            return [
                ProviderSwitchScheduled(
                    switch_id=command.switch_id,
                    country=command.country.upper(),
                    city=command.city.strip(),
                    to_provider=command.to_provider.provider_code,
                    tracking_prefix=command.to_provider.tracking_prefix,
                    cutover_at=command.cutover_at,
                    timezone=command.timezone,
                    sla_extension_hours=command.sla_extension_hours,
                )
            ]
        case ApplySwitch():
            if state.switch_id is None or state.applied or state.cutover_at is None:
                return []
            if command.now < state.cutover_at:
                return []
            return [ProviderSwitchApplied(switch_id=state.switch_id, applied_at=command.now)]


def evolve_switch(state: Switch, event: EventPayload) -> Switch:
    match event:
        case ProviderSwitchScheduled():
            return Switch(
                event.switch_id,
                event.country,
                event.city,
                event.to_provider,
                event.tracking_prefix,
                event.cutover_at,
                event.timezone,
                event.sla_extension_hours,
            )
        case ProviderSwitchApplied():
            return replace(state, applied=True)
    return state


SWITCH = Aggregate(initial=Switch(), evolve=evolve_switch)


def switch_stream(switch_id: uuid.UUID) -> str:
    return f"switch/{switch_id}"


def move_subscription(state: Subscription, switch: Switch, now: datetime) -> list[EventPayload]:
    """The region's warehouses follow the switch; DECLINED/REJECTED ones stay drop-off."""
    if (
        state.subscription_id is None
        or state.warehouse_id is None
        or switch.switch_id is None
        or state.status not in ("ACTIVE", "PENDING_REVIEW")
        or state.provider_code == switch.to_provider
    ):
        return []
    status = state.status
    return [
        PickupSubscriptionProviderSwitched(
            warehouse_id=state.warehouse_id,
            seller_id=state.seller_id,
            subscription_id=state.subscription_id,
            status=status,
            handover=state.handover,
            provider_code=switch.to_provider,
            tracking_prefix=switch.tracking_prefix,
            at=now,
            switch_id=switch.switch_id,
        )
    ]


@dataclass(frozen=True)
class OrderExtensions:
    """The switches whose extension an order has had (one stream per order)."""

    switches: frozenset[uuid.UUID] = frozenset()


def extend_order(
    state: OrderExtensions,
    order_id: uuid.UUID,
    seller_id: str,
    switch: Switch,
    now: datetime,
) -> list[EventPayload]:
    if switch.switch_id is None or switch.switch_id in state.switches:
        return []
    return [
        DispatchDeadlineExtended(
            order_id=order_id,
            seller_id=seller_id,
            extended_by_hours=switch.sla_extension_hours,
            reason=f"pickup provider switch in {switch.city}, {switch.country}",
            extended_at=now,
            switch_id=switch.switch_id,
        )
    ]


def evolve_extensions(state: OrderExtensions, event: EventPayload) -> OrderExtensions:
    if isinstance(event, DispatchDeadlineExtended) and event.switch_id is not None:
        return OrderExtensions(state.switches | {event.switch_id})
    return state


EXTENSIONS = Aggregate(initial=OrderExtensions(), evolve=evolve_extensions)


def extensions_stream(order_id: uuid.UUID) -> str:
    return f"extensions/{order_id}"


# --- collection runs ------------------------------------------------------------------------


def run_date(ready_at: datetime, cutoff: time, timezone: str) -> date:
    """The run a parcel joins: today's if it was ready before the cut-off, else tomorrow's
    (weekends included), on the region's calendar."""
    local = ready_at.astimezone(ZoneInfo(timezone))
    return local.date() if local.time() < cutoff else local.date() + timedelta(days=1)


def task_id_for(provider_code: str, warehouse_id: uuid.UUID, day: date) -> uuid.UUID:
    return uuid.uuid5(warehouse_id, f"task/{provider_code}/{day.isoformat()}")


@dataclass(frozen=True)
class Parcel:
    """A ready-to-ship package as the first mile sees it."""

    package_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    seller_id: str = ""
    warehouse_id: uuid.UUID | None = None
    tracking_number: str = ""
    provider_code: str = ""
    handover: str = ""
    ready_at: datetime | None = None
    task_id: uuid.UUID | None = None
    status: str = ""  # AWAITING_PICKUP, AWAITING_DROP_OFF, PICKED_UP, DROPPED_OFF, AT_HUB
    overdue: bool = False


@dataclass(frozen=True)
class Collect:
    """A driver's scan at the warehouse. `region_provider` serves the region now: after a
    switch either provider's driver may take a parcel labelled before it."""

    driver_id: str
    driver_provider: str
    region_provider: str | None
    now: datetime


@dataclass(frozen=True)
class ReceiveDropOff:
    received_by: str
    now: datetime


@dataclass(frozen=True)
class ArriveAtHub:
    hub_id: str
    now: datetime


@dataclass(frozen=True)
class FlagPickupOverdue:
    sla: timedelta
    now: datetime


ParcelCommand = Collect | ReceiveDropOff | ArriveAtHub | FlagPickupOverdue


def decide_parcel(state: Parcel, command: ParcelCommand) -> list[EventPayload]:
    if state.package_id is None or state.order_id is None or state.warehouse_id is None:
        raise NotFound("package-not-found", "no ready-to-ship package with that id")
    facts = {
        "order_id": state.order_id,
        "package_id": state.package_id,
        "seller_id": state.seller_id,
        "warehouse_id": state.warehouse_id,
        "tracking_number": state.tracking_number,
        "provider_code": state.provider_code,
        "at": command.now,
    }
    match command:
        case Collect():
            if state.status == "PICKED_UP":
                return []  # a repeated scan
            if state.status != "AWAITING_PICKUP":
                raise DomainError("not-collectable", f"the package is {state.status}")
            allowed = {state.provider_code}
            if command.region_provider:
                allowed.add(command.region_provider)
            if command.driver_provider not in allowed:
                raise DomainError(
                    "wrong-provider", f"this package is collected by {', '.join(sorted(allowed))}"
                )
            return [
                PickedUp(
                    **facts, driver_id=command.driver_id, driver_provider=command.driver_provider
                )
            ]
        case ReceiveDropOff():
            if state.status == "DROPPED_OFF":
                return []
            if state.status != "AWAITING_DROP_OFF":
                raise DomainError("not-a-drop-off", f"the package is {state.status}")
            return [DroppedOff(**facts, received_by=command.received_by)]
        case ArriveAtHub():
            if state.status == "AT_HUB":
                return []
            if state.status not in ("PICKED_UP", "DROPPED_OFF"):
                raise DomainError("not-collected", f"the package is {state.status}")
            return [ArrivedAtHub(**facts, hub_id=command.hub_id)]
        case FlagPickupOverdue():
            ready = state.ready_at
            if state.status != "AWAITING_PICKUP" or state.overdue or ready is None:
                return []
            if command.now < ready + command.sla:
                return []
            return [PickupOverdue(**facts, ready_at=ready)]
    raise AssertionError(f"unhandled command {command!r}")


def evolve_parcel(state: Parcel, event: EventPayload) -> Parcel:
    match event:
        case ParcelAwaited():
            return Parcel(
                event.package_id,
                event.order_id,
                event.seller_id,
                event.warehouse_id,
                event.tracking_number,
                event.provider_code,
                event.handover,
                event.at,
                event.task_id,
                "AWAITING_PICKUP" if event.handover == "PICKUP" else "AWAITING_DROP_OFF",
            )
        case PickedUp():
            return replace(state, status="PICKED_UP")
        case DroppedOff():
            return replace(state, status="DROPPED_OFF")
        case ArrivedAtHub():
            return replace(state, status="AT_HUB")
        case PickupOverdue():
            return replace(state, overdue=True)
    return state


PARCEL = Aggregate(
    initial=Parcel(), evolve=evolve_parcel, keys=lambda p: (p.order_id, p.seller_id or None)
)


def parcel_stream(package_id: uuid.UUID) -> str:
    return f"parcel/{package_id}"


@dataclass(frozen=True)
class Task:
    task_id: uuid.UUID | None = None
    provider_code: str = ""
    warehouse_id: uuid.UUID | None = None
    seller_id: str = ""
    run_date: date | None = None
    created_at: datetime | None = None
    driver_id: str | None = None
    driver_overdue: bool = False


@dataclass(frozen=True)
class OpenTask:
    task_id: uuid.UUID
    provider_code: str
    warehouse_id: uuid.UUID
    seller_id: str
    run_date: date
    now: datetime


@dataclass(frozen=True)
class AssignDriver:
    driver_id: str
    name: str
    phone: str
    now: datetime


@dataclass(frozen=True)
class FlagDriverOverdue:
    within: timedelta
    now: datetime


def decide_task(
    state: Task, command: OpenTask | AssignDriver | FlagDriverOverdue
) -> list[EventPayload]:
    if isinstance(command, OpenTask):
        if state.task_id is not None:
            return []
        return [
            PickupTaskCreated(
                task_id=command.task_id,
                provider_code=command.provider_code,
                warehouse_id=command.warehouse_id,
                seller_id=command.seller_id,
                run_date=command.run_date,
                created_at=command.now,
            )
        ]
    if state.task_id is None or state.warehouse_id is None or state.created_at is None:
        raise NotFound("task-not-found", "no such pickup task")
    match command:
        case AssignDriver():
            if state.driver_id == command.driver_id:
                return []
            return [
                DriverAssigned(
                    task_id=state.task_id,
                    provider_code=state.provider_code,
                    driver_id=command.driver_id,
                    name=command.name,
                    phone=command.phone,
                    assigned_at=command.now,
                )
            ]
        case FlagDriverOverdue():
            due = state.created_at + command.within
            if state.driver_id is not None or state.driver_overdue or command.now < due:
                return []
            return [
                PickupTaskDriverOverdue(
                    task_id=state.task_id,
                    provider_code=state.provider_code,
                    warehouse_id=state.warehouse_id,
                    due=due,
                )
            ]
    raise AssertionError(f"unhandled command {command!r}")


def evolve_task(state: Task, event: EventPayload) -> Task:
    match event:
        case PickupTaskCreated():
            return Task(
                event.task_id,
                event.provider_code,
                event.warehouse_id,
                event.seller_id,
                event.run_date,
                event.created_at,
            )
        case DriverAssigned():
            return replace(state, driver_id=event.driver_id)
        case PickupTaskDriverOverdue():
            return replace(state, driver_overdue=True)
    return state


TASK = Aggregate(initial=Task(), evolve=evolve_task, keys=lambda t: (None, t.seller_id or None))


def task_stream(task_id: uuid.UUID) -> str:
    return f"task/{task_id}"
