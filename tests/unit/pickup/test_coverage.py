"""Which provider covers a warehouse's address."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.pickup.domain.coverage import covering_provider
from tests.unit.pickup.given import GHN, SPX, address


@given(st.sampled_from(["ho chi minh city", "HO CHI MINH CITY", "  Ho  Chi Minh City "]))
def test_coverage_ignores_case_and_spacing(city: str) -> None:
    assert covering_provider([GHN, SPX], address(city)) == SPX


def test_uncovered_cities_and_countries() -> None:
    assert covering_provider([GHN, SPX], address("Hue")) is None
    assert covering_provider([GHN, SPX], address("Hanoi", "US")) is None
