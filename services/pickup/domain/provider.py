"""A pickup provider: its name, the prefix of its tracking numbers, the cities it covers and
the hub that receives each region's parcels (where it names one), and the hotline and service
hours shown to its sellers. Configuring it again with the same values changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.aggregate import Aggregate, InvalidCommand
from shared.events import EventPayload
from shared.events.pickup import (
    HubAddress,
    ProviderConfigured,
    RegionHub,
    RegionZone,
    ServiceHours,
)


@dataclass(frozen=True)
class Provider:
    provider_code: str = ""
    name: str = ""
    tracking_prefix: str = ""
    coverage: tuple[tuple[str, str], ...] = ()  # (country, city) as configured
    hubs: tuple[RegionHub, ...] = ()  # the receiving hub of some of the coverage regions
    zones: tuple[RegionZone, ...] = ()  # the IANA time zone of some of the coverage regions
    hotline: str | None = None
    service_hours: ServiceHours | None = None

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
    hubs: Sequence[RegionHub] = ()  # each for a region of `coverage`
    zones: Sequence[RegionZone] = ()  # each for a region of `coverage`
    hotline: str | None = None
    service_hours: ServiceHours | None = None


def decide(state: Provider, command: ConfigureProvider) -> list[EventPayload]:
    match command:
        case ConfigureProvider():
            coverage = sorted({(c.upper(), city.strip()) for c, city in command.coverage})
            hubs = _checked_hubs(coverage, command.hubs)
            zones = _checked_zones(coverage, command.zones)
            unchanged = state.exists and (
                state.name,
                state.tracking_prefix,
                state.coverage,
                state.hubs,
                state.zones,
                state.hotline,
                state.service_hours,
            ) == (
                command.name,
                command.tracking_prefix,
                tuple(coverage),
                hubs,
                zones,
                command.hotline,
                command.service_hours,
            )
            if unchanged:
                return []
            return [
                ProviderConfigured(
                    provider_code=command.provider_code,
                    name=command.name,
                    tracking_prefix=command.tracking_prefix,
                    coverage=[{"country": c, "city": city} for c, city in coverage],
                    hubs=list(hubs),
                    zones=list(zones),
                    hotline=command.hotline,
                    service_hours=command.service_hours,
                )
            ]
    raise AssertionError(f"unhandled command {command!r}")


def _checked_hubs(
    coverage: Sequence[tuple[str, str]], hubs: Sequence[RegionHub]
) -> tuple[RegionHub, ...]:
    """The hubs in coverage order, their regions spelled as the coverage is; refuses a hub
    for a region not covered, two hubs for one region, a hub abroad, and one hub id with two
    addresses (one hub may serve several regions)."""
    by_region: dict[tuple[str, str], RegionHub] = {}
    addresses: dict[str, HubAddress] = {}
    for entry in hubs:
        region = (entry.country.upper(), entry.city.strip())
        if region not in coverage:
            raise InvalidCommand(
                "hub-not-covered", f"{region[1]} ({region[0]}) is not in the coverage"
            )
        if region in by_region and by_region[region].hub != entry.hub:
            raise InvalidCommand("hub-twice", f"{region[1]} ({region[0]}) has two hubs")
        if entry.hub.country != region[0]:
            raise InvalidCommand(
                "hub-abroad", f"the hub of {region[1]} must be in {region[0]}, not abroad"
            )
        if addresses.setdefault(entry.hub.hub_id, entry.hub) != entry.hub:
            raise InvalidCommand(
                "hub-id-reused", f"hub {entry.hub.hub_id} is given two different addresses"
            )
        by_region[region] = RegionHub(country=region[0], city=region[1], hub=entry.hub)
    return tuple(by_region[r] for r in coverage if r in by_region)


def _checked_zones(
    coverage: Sequence[tuple[str, str]], zones: Sequence[RegionZone]
) -> tuple[RegionZone, ...]:
    """The zones in coverage order, their regions spelled as the coverage is; refuses a zone
    for a region not covered, two zones for one region, and a name that is no IANA zone."""
    by_region: dict[tuple[str, str], RegionZone] = {}
    for entry in zones:
        region = (entry.country.upper(), entry.city.strip())
        if region not in coverage:
            raise InvalidCommand(
                "zone-not-covered", f"{region[1]} ({region[0]}) is not in the coverage"
            )
        try:
            ZoneInfo(entry.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidCommand(
                "unknown-time-zone", f"{entry.timezone!r} is not an IANA time zone"
            ) from None
        if region in by_region and by_region[region].timezone != entry.timezone:
            raise InvalidCommand("zone-twice", f"{region[1]} ({region[0]}) has two time zones")
        by_region[region] = RegionZone(country=region[0], city=region[1], timezone=entry.timezone)
    return tuple(by_region[r] for r in coverage if r in by_region)


def hub_for(provider: Provider, country: str, city: str) -> HubAddress | None:
    """The hub receiving the parcels of the configured region (country, city), if named."""
    return next((h.hub for h in provider.hubs if (h.country, h.city) == (country, city)), None)


def zone_for(provider: Provider, country: str, city: str) -> str | None:
    """The time zone of the configured region (country, city), if named."""
    return next(
        (z.timezone for z in provider.zones if (z.country, z.city) == (country, city)), None
    )


def evolve(state: Provider, event: EventPayload) -> Provider:
    match event:
        case ProviderConfigured():
            return Provider(
                event.provider_code,
                event.name,
                event.tracking_prefix,
                tuple((c["country"], c["city"]) for c in event.coverage),
                tuple(event.hubs),
                tuple(event.zones),
                event.hotline,
                event.service_hours,
            )
    return state


PROVIDER = Aggregate(name="provider", initial=Provider(), decide=decide, evolve=evolve)


def _zones(zone: str, *regions: tuple[str, str]) -> tuple[RegionZone, ...]:
    return tuple(RegionZone(country=c, city=city, timezone=zone) for c, city in regions)


DEFAULT_PROVIDERS: tuple[Provider, ...] = (
    Provider(
        "SPX",
        "SPX Express",
        "SPX",
        (("US", "Springfield"), ("VN", "Hanoi"), ("VN", "Ho Chi Minh City")),
        zones=_zones("America/Chicago", ("US", "Springfield"))
        + _zones("Asia/Ho_Chi_Minh", ("VN", "Hanoi"), ("VN", "Ho Chi Minh City")),
    ),
    Provider(
        "GHN",
        "Giao Hang Nhanh",
        "GHN",
        (("VN", "Da Nang"), ("VN", "Hue")),
        zones=_zones("Asia/Ho_Chi_Minh", ("VN", "Da Nang"), ("VN", "Hue")),
    ),
)
"""What a fresh system is configured with (operators change it with PUT)."""
