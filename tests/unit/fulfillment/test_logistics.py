"""Logistics rules, pure: fees, tracking numbers, carrier formats, and a deployment's own
tables."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.fulfillment.domain.logistics import (
    LogisticsConfig,
    carrier_tracking_valid,
    platform_tracking_number,
    platform_tracking_valid,
    shipping_fee,
    zone,
)
from shared.money import Money
from tests.unit.fulfillment.scenarios import CONFIG


def test_fees_by_zone_and_weight() -> None:
    assert zone("VN", "Hanoi", "VN", "hanoi ") == "SAME_CITY"
    assert zone("VN", "Hanoi", "VN", "Hue") == "SAME_COUNTRY"
    assert zone("VN", "Hanoi", "SG", "Singapore") == "CROSS_BORDER"
    assert shipping_fee(CONFIG, "SAME_CITY", 1000, 0, "VND") == Money(amount=150, currency="VND")
    assert shipping_fee(CONFIG, "SAME_COUNTRY", 1001, 0, "VND").amount == 300 + 100
    assert shipping_fee(CONFIG, "SAME_COUNTRY", 2000, 0, "VND").amount == 300 + 2 * 100
    # a light but bulky parcel is billed on its volumetric weight: 30 000 cm3 / 6000 = 5 kg
    assert shipping_fee(CONFIG, "SAME_COUNTRY", 200, 30_000, "VND").amount == 300 + 8 * 100


@given(st.integers(0, 10**10 - 1))
def test_platform_tracking_numbers_validate_and_catch_a_typo(sequence: int) -> None:
    number = platform_tracking_number("WS", sequence)
    assert platform_tracking_valid(number, "WS")
    assert not platform_tracking_valid(number, "SPX")
    digit = int(number[5])
    typo = number[:5] + str((digit + 1) % 10) + number[6:]
    assert not platform_tracking_valid(typo, "WS")


def test_carrier_formats() -> None:
    assert carrier_tracking_valid(CONFIG, "UPS", "1Z999AA10123456784")
    assert not carrier_tracking_valid(CONFIG, "UPS", "12345")
    assert carrier_tracking_valid(CONFIG, "POST", "RR123456789VN")
    assert not carrier_tracking_valid(CONFIG, "NOBODY", "RR123456789VN")


def test_a_deployment_replaces_the_fee_templates_and_carrier_formats(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from services.fulfillment.settings import FulfillmentSettings

    path = tmp_path / "logistics.json"
    path.write_text(
        '{"domestic": {"SAME_CITY": {"first_kg": 15000, "per_extra_500g": 5000},'
        ' "SAME_COUNTRY": {"first_kg": 30000, "per_extra_500g": 10000}},'
        ' "carrier_formats": {"GHN": "^GHN\\\\d{6}$"}}'
    )
    config = FulfillmentSettings(logistics_file=path).logistics()
    assert shipping_fee(config, "SAME_CITY", 1500, 0, "VND").amount == 15000 + 5000
    assert config.cross_border == LogisticsConfig().cross_border
    assert carrier_tracking_valid(config, "GHN", "GHN123456")
    assert not carrier_tracking_valid(config, "UPS", "1Z999AA10123456784")
