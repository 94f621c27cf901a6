"""Which provider covers an address (the country exactly, the city ignoring case and
spacing), and in which time zone a region lies."""

from __future__ import annotations

from collections.abc import Sequence

from services.pickup.domain.provider import Provider, zone_for
from shared.events.common import Address


def city_key(city: str) -> str:
    """A city name as coverage compares it: spacing collapsed, case folded."""
    return " ".join(city.split()).casefold()


def covers(provider: Provider, country: str, city: str) -> bool:
    return any(c == country.upper() and city_key(x) == city_key(city) for c, x in provider.coverage)


def covering_provider(providers: Sequence[Provider], address: Address) -> Provider | None:
    """The provider whose coverage has the address's city (the first by code if several)."""
    covering = [p for p in providers if covers(p, address.country, address.city)]
    return min(covering, key=lambda p: p.provider_code) if covering else None


def region_zone(providers: Sequence[Provider], country: str, city: str, prefer: str) -> str | None:
    """The region's IANA time zone as the coverage names it: the `prefer`red provider's
    (the one switched to), else the first by code of the others that name one; None if
    none does."""
    ordered = sorted(providers, key=lambda p: (p.provider_code != prefer, p.provider_code))
    for provider in ordered:
        for c, configured in provider.coverage:
            if c == country.upper() and city_key(configured) == city_key(city):
                zone = zone_for(provider, c, configured)
                if zone:
                    return zone
    return None
