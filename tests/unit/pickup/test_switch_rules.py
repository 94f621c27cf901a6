"""Issue 17's switch rules: a region's cutover and calendar days are in its own time zone,
which its providers' coverage names (a region without one is refused); an order is extended
once, by the largest extension of the switches whose window it is in, never shorter."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.pickup.domain import extensions, provider, switch
from services.pickup.domain.coverage import region_zone
from services.pickup.domain.cutover import in_switch_window
from services.pickup.domain.extensions import EXTENSIONS, ExtendDispatch, OrderExtensions
from services.pickup.domain.provider import PROVIDER, ConfigureProvider, zone_for
from services.pickup.domain.switch import SWITCH, ScheduleSwitch, Switch
from shared.aggregate import InvalidCommand
from shared.events import REGISTRY
from shared.events.pickup import ProviderConfigured, RegionZone
from tests.unit.pickup.given import T0, configured

BEIJING = ZoneInfo("Asia/Shanghai")
CUTOVER = datetime(2026, 9, 19, 0, 0, tzinfo=BEIJING)  # 16:00 UTC on the 18th


def with_zones(code: str, *zones: tuple[str, str, str]) -> provider.Provider:
    command = ConfigureProvider(
        code,
        code,
        code,
        [(c, city) for c, city, _ in zones],
        T0,
        zones=[RegionZone(country=c, city=city, timezone=z) for c, city, z in zones],
    )
    return PROVIDER.fold(provider.decide(PROVIDER.initial, command))


def test_dongguan_switches_at_midnight_beijing_time_orders_of_the_18th_and_19th_count() -> None:
    assert in_switch_window(datetime(2026, 9, 18, 10, tzinfo=BEIJING), CUTOVER, "Asia/Shanghai")
    assert in_switch_window(datetime(2026, 9, 18, 0, 0, tzinfo=BEIJING), CUTOVER, "Asia/Shanghai")
    assert in_switch_window(datetime(2026, 9, 19, 23, 59, tzinfo=BEIJING), CUTOVER, "Asia/Shanghai")
    assert not in_switch_window(
        datetime(2026, 9, 17, 23, 59, tzinfo=BEIJING), CUTOVER, "Asia/Shanghai"
    )
    assert not in_switch_window(
        datetime(2026, 9, 20, 0, 0, tzinfo=BEIJING), CUTOVER, "Asia/Shanghai"
    )
    # read as UTC the cutover would fall on the 18th, and an order of the 19th (Beijing) missed
    assert not in_switch_window(datetime(2026, 9, 19, 20, tzinfo=BEIJING), CUTOVER, "UTC")


def test_the_region_zone_comes_from_the_coverage_the_new_providers_first() -> None:
    old = with_zones("SF", ("CN", "Dongguan", "Asia/Shanghai"))
    new = configured("WS", [("CN", "Dongguan")])  # covers it, names no zone
    assert zone_for(old, "CN", "Dongguan") == "Asia/Shanghai"
    assert region_zone([old, new], "cn", " dongguan ", prefer="WS") == "Asia/Shanghai"
    other = with_zones("WS", ("CN", "Dongguan", "Asia/Urumqi"))
    assert region_zone([old, other], "CN", "Dongguan", prefer="WS") == "Asia/Urumqi"
    assert region_zone([new], "CN", "Dongguan", prefer="WS") is None


def test_a_switch_in_a_region_without_a_zone_is_refused_not_read_as_utc() -> None:
    command = ScheduleSwitch(
        uuid.UUID(int=1), "CN", "Dongguan", configured("WS", []), CUTOVER, None, 72, T0
    )
    with pytest.raises(InvalidCommand) as refused:
        switch.decide(Switch(), command)
    assert refused.value.code == "region-without-time-zone"


def test_a_coverage_zone_must_be_an_iana_zone_of_a_covered_region() -> None:
    for zones in (
        [RegionZone(country="CN", city="Dongguan", timezone="Mars/Olympus")],
        [RegionZone(country="CN", city="Shenzhen", timezone="Asia/Shanghai")],
    ):
        command = ConfigureProvider("WS", "WS", "WS", [("CN", "Dongguan")], T0, zones=zones)
        with pytest.raises(InvalidCommand):
            provider.decide(PROVIDER.initial, command)


def test_a_provider_configured_before_zones_loads_with_none() -> None:
    old = {"provider_code": "WS", "name": "WS", "tracking_prefix": "WS", "coverage": [], "hubs": []}
    event = REGISTRY.decode("ProviderConfigured", 1, old)
    assert isinstance(event, ProviderConfigured) and event.zones == []


def scheduled(switch_id: int, hours: int) -> Switch:
    command = ScheduleSwitch(
        uuid.UUID(int=switch_id),
        "CN",
        "Dongguan",
        configured("WS", []),
        CUTOVER,
        "Asia/Shanghai",
        hours,
        T0,
    )
    return SWITCH.fold(switch.decide(Switch(), command))


@given(
    looks=st.lists(
        st.tuples(st.integers(1, 4), st.sampled_from([0, 24, 72, 96])), min_size=1, max_size=10
    )
)
def test_an_extension_never_shortens_a_deadline_and_applies_once_per_order(
    looks: list[tuple[int, int]],
) -> None:
    """However often, and for however many switches, the order's window is looked at, it
    gains the largest extension among them, once; no step takes time away."""
    order = uuid.uuid4()
    state = OrderExtensions()
    hours_of: dict[int, int] = {}
    total = 0
    for switch_id, hours in looks:
        hours = hours_of.setdefault(switch_id, hours)  # a switch has one extension
        events = extensions.decide(
            state, ExtendDispatch(order, "s1", scheduled(switch_id, hours), T0)
        )
        for event in events:
            assert event.extended_by_hours > 0  # type: ignore[attr-defined]
            total += event.extended_by_hours  # type: ignore[attr-defined]
        state = EXTENSIONS.fold(events, state)
        again = extensions.decide(
            state, ExtendDispatch(order, "s1", scheduled(switch_id, hours), T0)
        )
        assert again == []  # the same switch again: nothing
    assert total == max(hours_of.values())
