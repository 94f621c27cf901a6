"""A pickup provider: its name, the prefix of its tracking numbers and the cities it covers.
Configuring it again with the same values changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.aggregate import Aggregate
from shared.events import EventPayload
from shared.events.pickup import ProviderConfigured


@dataclass(frozen=True)
class Provider:
    provider_code: str = ""
    name: str = ""
    tracking_prefix: str = ""
    coverage: tuple[tuple[str, str], ...] = ()  # (country, city) as configured

    @property
    def exists(self) -> bool:
        return bool(self.provider_code)


@dataclass(frozen=True)
class ConfigureProvider:
    provider_code: str
    name: str
    tracking_prefix: str
    coverage: Sequence[tuple[str, str]]
    now: datetime


def decide(state: Provider, command: ConfigureProvider) -> list[EventPayload]:
    match command:
        case ConfigureProvider():
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
    raise AssertionError(f"unhandled command {command!r}")


def evolve(state: Provider, event: EventPayload) -> Provider:
    match event:
        case ProviderConfigured():
            return Provider(
                event.provider_code,
                event.name,
                event.tracking_prefix,
                tuple((c["country"], c["city"]) for c in event.coverage),
            )
    return state


PROVIDER = Aggregate(name="provider", initial=Provider(), decide=decide, evolve=evolve)

DEFAULT_PROVIDERS: tuple[Provider, ...] = (
    Provider(
        "SPX",
        "SPX Express",
        "SPX",
        (("US", "Springfield"), ("VN", "Hanoi"), ("VN", "Ho Chi Minh City")),
    ),
    Provider("GHN", "Giao Hang Nhanh", "GHN", (("VN", "Da Nang"), ("VN", "Hue"))),
)
"""What a fresh system is configured with (operators change it with PUT)."""
