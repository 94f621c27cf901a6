"""A collection run: one provider's pickup at one warehouse on one day, opened by the first
parcel that joins it; a driver is assigned, and the run is flagged once when nobody took it
within the deadline. At a switch's cutover the old provider's run is handed over (its waiting
parcels go to the new provider's run): nobody is chased for it any more."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from shared.aggregate import Aggregate, NotFound
from shared.events import EventPayload
from shared.events.pickup import (
    DriverAssigned,
    PickupTaskCreated,
    PickupTaskDriverOverdue,
    PickupTaskHandedOver,
)


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
    handed_over: bool = False


@dataclass(frozen=True)
class OpenTask:
    """A parcel ready at `ready_at` joins the run; the first opens it, as of `ready_at` (the
    driver deadline counts from then)."""

    task_id: uuid.UUID
    provider_code: str
    warehouse_id: uuid.UUID
    seller_id: str
    run_date: date
    ready_at: datetime
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


@dataclass(frozen=True)
class HandOver:
    to_provider: str
    switch_id: uuid.UUID
    now: datetime


TaskCommand = OpenTask | AssignDriver | FlagDriverOverdue | HandOver


def decide(state: Task, command: TaskCommand) -> list[EventPayload]:
    match command:
        case OpenTask():
            if state.task_id is not None:
                return []
            return [
                PickupTaskCreated(
                    task_id=command.task_id,
                    provider_code=command.provider_code,
                    warehouse_id=command.warehouse_id,
                    seller_id=command.seller_id,
                    run_date=command.run_date,
                    created_at=command.ready_at,
                )
            ]
        case AssignDriver():
            task_id, _, _ = _opened(state)
            if state.driver_id == command.driver_id:
                return []
            return [
                DriverAssigned(
                    task_id=task_id,
                    provider_code=state.provider_code,
                    driver_id=command.driver_id,
                    name=command.name,
                    phone=command.phone,
                    assigned_at=command.now,
                )
            ]
        case FlagDriverOverdue():
            task_id, warehouse_id, created_at = _opened(state)
            due = created_at + command.within
            if state.driver_id is not None or state.driver_overdue or state.handed_over:
                return []
            if command.now < due:
                return []
            return [
                PickupTaskDriverOverdue(
                    task_id=task_id,
                    provider_code=state.provider_code,
                    warehouse_id=warehouse_id,
                    due=due,
                )
            ]
        case HandOver():
            task_id, warehouse_id, _ = _opened(state)
            if state.handed_over or state.provider_code == command.to_provider:
                return []
            return [
                PickupTaskHandedOver(
                    task_id=task_id,
                    provider_code=state.provider_code,
                    warehouse_id=warehouse_id,
                    to_provider=command.to_provider,
                    switch_id=command.switch_id,
                    at=command.now,
                )
            ]
    raise AssertionError(f"unhandled command {command!r}")


def _opened(state: Task) -> tuple[uuid.UUID, uuid.UUID, datetime]:
    if state.task_id is None or state.warehouse_id is None or state.created_at is None:
        raise NotFound("task-not-found", "no such pickup task")
    return state.task_id, state.warehouse_id, state.created_at


def evolve(state: Task, event: EventPayload) -> Task:
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
        case PickupTaskHandedOver():
            return replace(state, handed_over=True)
    return state


TASK = Aggregate(
    name="task",
    initial=Task(),
    decide=decide,
    evolve=evolve,
    keys=lambda t: (None, t.seller_id or None),
)
