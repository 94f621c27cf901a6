"""Which provider covers an address: the country exactly, the city ignoring case and spacing."""

from __future__ import annotations

from collections.abc import Sequence

from services.pickup.domain.provider import Provider
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
