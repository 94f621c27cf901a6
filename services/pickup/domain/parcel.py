"""A ready-to-ship package as the first mile sees it: awaited for the day's run (PICKUP) or
at the hub (DROP_OFF), collected by a driver of its collector or received at the hub, then
arrived at the hub; flagged once when it waits for collection longer than the SLA. At the hub
a label defect may be recorded on it, once: it is relabelled at the seller's cost.

The collector is the provider whose run the parcel is on: the one serving the warehouse when
the parcel was ready, whatever its label says (so the old provider's driver takes a new
provider's label printed before the takeover). At a switch's cutover a parcel still waiting
moves to the new provider's run (`MoveToRun`): the old labels are collected by the new
provider."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from shared.aggregate import Aggregate, DomainError, NotFound
from shared.events import EventPayload
from shared.events.pickup import (
    PARCEL_STATUS_BY_EVENT,
    ArrivedAtHub,
    DroppedOff,
    LabelDefectReason,
    LabelDefectRecorded,
    ParcelAwaited,
    ParcelMovedToRun,
    PickedUp,
    PickupOverdue,
    RelabelFeeCharged,
)
from shared.money import Money


@dataclass(frozen=True)
class Parcel:
    package_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    seller_id: str = ""
    warehouse_id: uuid.UUID | None = None
    tracking_number: str = ""
    provider_code: str = ""
    handover: str = ""
    ready_at: datetime | None = None
    task_id: uuid.UUID | None = None
    status: str = ""  # a ParcelStatus once awaited
    overdue: bool = False
    collected_by: str = ""  # the provider whose driver scanned it, once collected
    hub_id: str | None = None  # the hub it arrived at
    label_defect: LabelDefectReason | None = None  # recorded at the hub
    collector: str = ""  # the provider whose run it is on (not necessarily the label's)
    run_date: date | None = None


def collectors(parcel: Parcel, region_provider: str | None) -> set[str]:
    """The providers whose drivers may collect the waiting parcel: its run's, and the one
    serving the region now (a parcel that waited through a switch made before its run was
    recorded)."""
    return {p for p in (parcel.collector or parcel.provider_code, region_provider) if p}


def handled_by(parcel: Parcel, provider: str | None, region_provider: str | None) -> bool:
    """Whether drivers of `provider` may see and act on the parcel: once collected, only the
    collecting provider's; before, its collectors'. A driver that names no provider handles
    nothing."""
    if parcel.package_id is None or not provider:
        return False
    if parcel.collected_by:
        return provider == parcel.collected_by
    return provider in collectors(parcel, region_provider)


@dataclass(frozen=True)
class AwaitParcel:
    """Fulfillment says the package is ready to ship (PICKUP: on the run `task_id`); the
    first one told counts, a repeat changes nothing."""

    order_id: uuid.UUID
    package_id: uuid.UUID
    seller_id: str
    warehouse_id: uuid.UUID
    tracking_number: str
    provider_code: str
    handover: str
    ready_at: datetime
    task_id: uuid.UUID | None
    run_date: date | None
    now: datetime
    collector: str | None = None  # the run's provider; None: the label's


@dataclass(frozen=True)
class MoveToRun:
    """A switch's cutover: a parcel still waiting for pickup goes to the new provider's run."""

    task_id: uuid.UUID
    run_date: date
    collector: str
    switch_id: uuid.UUID
    now: datetime


@dataclass(frozen=True)
class Collect:
    """A driver's scan at the warehouse. `region_provider` serves the region now: see
    `collectors`."""

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


@dataclass(frozen=True)
class RecordLabelDefect:
    """The hub found the label wrong or unreadable: the parcel is relabelled and the seller
    pays `relabel_fee`. Recorded once; the same reason again changes nothing."""

    reason_code: LabelDefectReason
    note: str | None
    recorded_by: str
    relabel_fee: Money
    now: datetime


ParcelCommand = (
    AwaitParcel
    | Collect
    | ReceiveDropOff
    | ArriveAtHub
    | FlagPickupOverdue
    | RecordLabelDefect
    | MoveToRun
)


def decide(state: Parcel, command: ParcelCommand) -> list[EventPayload]:
    match command:
        case AwaitParcel():
            if state.package_id:
                return []
            return [
                ParcelAwaited(
                    order_id=command.order_id,
                    package_id=command.package_id,
                    seller_id=command.seller_id,
                    warehouse_id=command.warehouse_id,
                    tracking_number=command.tracking_number,
                    provider_code=command.provider_code,
                    at=command.ready_at,
                    handover=command.handover,
                    task_id=command.task_id,
                    run_date=command.run_date,
                    collector=command.collector or command.provider_code,
                )
            ]
        case MoveToRun():
            facts = _facts(state, command.now)
            if state.status != "AWAITING_PICKUP" or state.collector == command.collector:
                return []
            return [
                ParcelMovedToRun(
                    **facts,
                    task_id=command.task_id,
                    run_date=command.run_date,
                    collector=command.collector,
                    switch_id=command.switch_id,
                )
            ]
        case Collect():
            facts = _facts(state, command.now)
            if state.status == "PICKED_UP" and state.collected_by == command.driver_provider:
                return []  # a repeated scan
            if state.status != "AWAITING_PICKUP":
                raise DomainError("not-collectable", f"the package is {state.status}")
            allowed = collectors(state, command.region_provider)
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
            facts = _facts(state, command.now)
            if state.status == "DROPPED_OFF":
                return []
            if state.status != "AWAITING_DROP_OFF":
                raise DomainError("not-a-drop-off", f"the package is {state.status}")
            return [DroppedOff(**facts, received_by=command.received_by)]
        case ArriveAtHub():
            facts = _facts(state, command.now)
            if state.status == "AT_HUB":
                return []
            if state.status not in ("PICKED_UP", "DROPPED_OFF"):
                raise DomainError("not-collected", f"the package is {state.status}")
            return [ArrivedAtHub(**facts, hub_id=command.hub_id)]
        case RecordLabelDefect():
            facts = _facts(state, command.now)
            if state.label_defect == command.reason_code:
                return []  # a repeat
            if state.label_defect is not None:
                raise DomainError(
                    "label-defect-recorded",
                    f"a label defect ({state.label_defect}) is recorded on this parcel already",
                )
            if state.status != "AT_HUB" or state.hub_id is None:
                raise DomainError(
                    "not-at-hub",
                    f"a label defect is recorded at the hub; the parcel is {state.status}",
                )
            return [
                LabelDefectRecorded(
                    **facts,
                    hub_id=state.hub_id,
                    reason_code=command.reason_code,
                    note=command.note,
                    recorded_by=command.recorded_by,
                ),
                RelabelFeeCharged(
                    **facts, fee=command.relabel_fee, reason_code=command.reason_code
                ),
            ]
        case FlagPickupOverdue():
            facts = _facts(state, command.now)
            ready = state.ready_at
            if state.status != "AWAITING_PICKUP" or state.overdue or ready is None:
                return []
            if command.now < ready + command.sla:
                return []
            return [PickupOverdue(**facts, ready_at=ready)]
    raise AssertionError(f"unhandled command {command!r}")


def _facts(state: Parcel, now: datetime) -> dict[str, Any]:
    """What every event after the first repeats of the parcel; refuses an unknown one."""
    if state.package_id is None or state.order_id is None or state.warehouse_id is None:
        raise NotFound("package-not-found", "no ready-to-ship package with that id")
    return {
        "order_id": state.order_id,
        "package_id": state.package_id,
        "seller_id": state.seller_id,
        "warehouse_id": state.warehouse_id,
        "tracking_number": state.tracking_number,
        "provider_code": state.provider_code,
        "at": now,
    }


def evolve(state: Parcel, event: EventPayload) -> Parcel:
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
                collector=event.collector or event.provider_code,
                run_date=event.run_date,
            )
        case ParcelMovedToRun():
            return replace(
                state, task_id=event.task_id, collector=event.collector, run_date=event.run_date
            )
        case PickedUp():
            return replace(
                state, status=PARCEL_STATUS_BY_EVENT[PickedUp], collected_by=event.driver_provider
            )
        case ArrivedAtHub():
            return replace(state, status=PARCEL_STATUS_BY_EVENT[ArrivedAtHub], hub_id=event.hub_id)
        case DroppedOff():
            return replace(state, status=PARCEL_STATUS_BY_EVENT[DroppedOff])
        case LabelDefectRecorded():
            return replace(state, label_defect=event.reason_code)
        case PickupOverdue():
            return replace(state, overdue=True)
    return state


PARCEL = Aggregate(
    name="parcel",
    initial=Parcel(),
    decide=decide,
    evolve=evolve,
    keys=lambda p: (p.order_id, p.seller_id or None),
)
