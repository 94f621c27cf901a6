"""A provider names the sorting hub that receives each coverage region's parcels (issue 16):
validated against its coverage, and configured again unchanged, nothing happens."""

from __future__ import annotations

import pytest

from services.pickup.domain.provider import PROVIDER, ConfigureProvider, decide, hub_for
from shared.aggregate import InvalidCommand
from shared.events import REGISTRY
from shared.events.pickup import HubAddress, ProviderConfigured, RegionHub
from tests.unit.pickup.given import T0

DONGGUAN_HUB = HubAddress(
    hub_id="DG-HM-1",
    name="东莞洪梅分拣中心",
    line1="洪梅镇望沙路88号",
    city="东莞市",
    region="广东省",
    postal_code="523160",
    country="CN",
)
COVERAGE = [("CN", "东莞市"), ("CN", "佛山市"), ("CN", "广州市")]


def configure(*hubs: RegionHub, coverage: list[tuple[str, str]] = COVERAGE) -> ConfigureProvider:
    return ConfigureProvider("ZTO", "中通快递", "ZT", coverage, T0, list(hubs))


def test_a_region_hub_is_configured_and_printed_as_label_lines() -> None:
    [event] = decide(
        PROVIDER.initial, configure(RegionHub(country="CN", city="东莞市", hub=DONGGUAN_HUB))
    )
    assert isinstance(event, ProviderConfigured)
    provider = PROVIDER.fold([event])
    assert hub_for(provider, "CN", "东莞市") == DONGGUAN_HUB
    assert hub_for(provider, "CN", "广州市") is None  # a region without a hub
    assert DONGGUAN_HUB.label_lines() == [
        "东莞洪梅分拣中心",
        "洪梅镇望沙路88号",
        "广东省 东莞市",
        "523160 CN",
    ]


def test_one_hub_may_serve_several_regions_and_the_same_configuration_changes_nothing() -> None:
    both = [
        RegionHub(country="CN", city=" 佛山市 ", hub=DONGGUAN_HUB),
        RegionHub(country="CN", city="东莞市", hub=DONGGUAN_HUB),
    ]
    provider = PROVIDER.fold(decide(PROVIDER.initial, configure(*both)))
    assert [h.city for h in provider.hubs] == ["东莞市", "佛山市"]  # coverage order and spelling
    assert decide(provider, configure(*reversed(both))) == []
    [removed] = decide(provider, configure())
    assert PROVIDER.fold([removed], provider).hubs == ()


@pytest.mark.parametrize(
    ("hubs", "code"),
    [
        ([RegionHub(country="CN", city="深圳市", hub=DONGGUAN_HUB)], "hub-not-covered"),
        (
            [
                RegionHub(country="CN", city="东莞市", hub=DONGGUAN_HUB),
                RegionHub(
                    country="CN", city="东莞市", hub=DONGGUAN_HUB.model_copy(update={"hub_id": "X"})
                ),
            ],
            "hub-twice",
        ),
        (
            [
                RegionHub(
                    country="CN",
                    city="东莞市",
                    hub=DONGGUAN_HUB.model_copy(update={"country": "VN"}),
                )
            ],
            "hub-abroad",
        ),
        (
            [
                RegionHub(country="CN", city="东莞市", hub=DONGGUAN_HUB),
                RegionHub(
                    country="CN",
                    city="广州市",
                    hub=DONGGUAN_HUB.model_copy(update={"line1": "另一条路1号"}),
                ),
            ],
            "hub-id-reused",
        ),
    ],
)
def test_a_hub_outside_the_coverage_twice_abroad_or_with_two_addresses_is_refused(
    hubs: list[RegionHub], code: str
) -> None:
    with pytest.raises(InvalidCommand) as refused:
        decide(PROVIDER.initial, configure(*hubs))
    assert refused.value.code == code


def test_a_provider_configured_before_hubs_existed_loads_with_none() -> None:
    old = {"provider_code": "SPX", "name": "SPX", "tracking_prefix": "SPX",
           "coverage": [{"country": "VN", "city": "Hanoi"}]}  # fmt: skip
    event = REGISTRY.decode("ProviderConfigured", 1, old)
    assert isinstance(event, ProviderConfigured) and event.hubs == []
    assert PROVIDER.fold([event]).hubs == ()
