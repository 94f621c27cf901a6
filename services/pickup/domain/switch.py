"""A provider switch: a region (country, city) moves to another pickup provider at the
cutover; its pickup sellers' orders created on the day before and the day of the cutover, as
the region's own calendar counts days, get `sla_extension_hours` more to dispatch. The
region's time zone comes from the providers' coverage; a region without one is refused."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from services.pickup.domain.provider import Provider
from shared.aggregate import Aggregate, DomainError, InvalidCommand, NotFound
from shared.events import EventPayload
from shared.events.pickup import ProviderSwitchApplied, ProviderSwitchScheduled


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
    to_provider: Provider  # Provider() if there is no such provider
    cutover_at: datetime
    timezone: str | None  # the region's, from the coverage (None: no provider names one)
    sla_extension_hours: int
    now: datetime


@dataclass(frozen=True)
class ApplySwitch:
    """The cutover's deadline fired: the switch applies if its time has come."""

    now: datetime


SwitchCommand = ScheduleSwitch | ApplySwitch


def decide(state: Switch, command: SwitchCommand) -> list[EventPayload]:
    match command:
        case ScheduleSwitch():
            if state.switch_id is not None:
                raise DomainError("switch-exists", "this switch is scheduled already")
            if not command.to_provider.exists:
                raise NotFound("provider-not-found", "no such provider to switch to")
            if not command.timezone:
                raise InvalidCommand(
                    "region-without-time-zone",
                    f"no provider's coverage gives {command.city} ({command.country.upper()}) "
                    "a time zone: configure one (coverage[].timezone) before switching it",
                )
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
    raise AssertionError(f"unhandled command {command!r}")


def evolve(state: Switch, event: EventPayload) -> Switch:
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


SWITCH = Aggregate(name="switch", initial=Switch(), decide=decide, evolve=evolve)
