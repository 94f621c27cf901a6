"""The buyer's shipping option, chosen at checkout, restricts the channels a package may ship
with and caps its working days in transit (the estimated delivery date)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from services.fulfillment.domain.fulfillment import FULFILLMENT, RequestFulfillment
from services.fulfillment.domain.logistics import CHANNELS, LogisticsConfig, ShippingOptionRule
from services.fulfillment.settings import FulfillmentSettings
from shared.aggregate import DomainError
from shared.calendar import DeliveryCalendars
from shared.events.fulfillment import FulfillmentRequested, OrderLine
from tests.unit.fulfillment.scenarios import BUYER, DROP_OFF_ONLY, T0, planned, ship

OWN_CARRIER = dict(handover="SELLER_OWN", carrier="POST", tracking_number="RR123456789VN")


def test_an_express_order_refuses_the_sellers_own_carrier_naming_the_allowed_channels() -> None:
    state, package_id = planned(shipping_option="EXPRESS")
    with pytest.raises(DomainError) as refused:
        ship(state, package_id, **OWN_CARRIER)
    assert refused.value.status == 409 and refused.value.code == "channel-not-allowed"
    assert "PLATFORM_PICKUP" in refused.value.detail and "SELLER_OWN" in refused.value.detail
    assert refused.value.extra["allowed_channels"] == [
        "PLATFORM_PICKUP",
        "PLATFORM_DROP_OFF",
        "CROSS_BORDER_PICKUP",
        "CROSS_BORDER_DROP_OFF",
    ]


def test_an_express_order_ships_with_platform_pickup_or_drop_off() -> None:
    state, package_id = planned(shipping_option="EXPRESS")
    assert ship(state, package_id).channel == "PLATFORM_PICKUP"
    dropped = ship(state, package_id, handover="DROP_OFF", pickup=DROP_OFF_ONLY)
    assert dropped.channel == "PLATFORM_DROP_OFF"


def test_a_standard_order_and_an_order_placed_before_options_ship_with_any_channel() -> None:
    for option in ("STANDARD", None, "SOMETHING_NOT_CONFIGURED"):
        state, package_id = planned(shipping_option=option)
        assert ship(state, package_id, **OWN_CARRIER).channel == "SELLER_OWN"


def test_a_configured_option_allows_only_its_channels() -> None:
    config = LogisticsConfig(
        shipping_options={"EXPRESS": ShippingOptionRule(channels=frozenset({"PLATFORM_PICKUP"}))}
    )
    state, package_id = planned(shipping_option="EXPRESS")
    with pytest.raises(DomainError, match="allowed channels: PLATFORM_PICKUP"):
        ship(state, package_id, handover="DROP_OFF", pickup=DROP_OFF_ONLY, config=config)
    assert config.allowed_channels("EXPRESS") == ["PLATFORM_PICKUP"]
    assert config.allowed_channels("STANDARD") == list(CHANNELS)  # not listed: every channel


def test_express_is_estimated_two_working_days_after_ready_standard_five() -> None:
    # ready Monday 2 Nov 2026 14:00 UTC, to Hanoi (default calendar: Sat and Sun off)
    express, express_package = planned(shipping_option="EXPRESS")
    standard, standard_package = planned(shipping_option="STANDARD")
    assert ship(express, express_package).estimated_delivery_date == date(2026, 11, 4)
    assert ship(standard, standard_package).estimated_delivery_date == date(2026, 11, 9)


def test_an_option_never_makes_the_estimate_later_than_the_destinations_delivery_time() -> None:
    state, package_id = planned(shipping_option="EXPRESS")
    fast_market = DeliveryCalendars(working_days_by_country={"VN": 1})
    assert ship(state, package_id, delivery=fast_market).estimated_delivery_date == date(
        2026, 11, 3
    )


def test_the_fulfillment_keeps_the_orders_option_and_old_requests_read_without_one() -> None:
    state, _ = planned(shipping_option="EXPRESS")
    assert state.shipping_option == "EXPRESS"
    [request] = FULFILLMENT.decide(FULFILLMENT.initial, RequestFulfillment(requested_event(), T0))
    stored = request.model_dump(mode="json")
    del stored["shipping_option"]  # as stored before the option was carried
    old = FulfillmentRequested.model_validate(stored)
    assert old.shipping_option is None
    assert FULFILLMENT.fold([old]).shipping_option is None


def requested_event() -> FulfillmentRequested:
    return FulfillmentRequested(
        order_id=uuid.uuid4(),
        seller_id="s1",
        buyer_id="b1",
        lines=[OrderLine(sku="BOOK", quantity=1, weight_g=700)],
        shipping_address=BUYER,
        currency="VND",
        placed_at=T0,
        dispatch_deadline=T0 + timedelta(hours=72),
        deliver_by=T0 + timedelta(days=9),
        shipping_option="EXPRESS",
    )


def test_the_options_are_configured_by_setting_and_unknown_channels_are_refused() -> None:
    settings = FulfillmentSettings(
        shipping_options={"EXPRESS": {"channels": ["PLATFORM_PICKUP"], "transit_working_days": 1}}
    )
    options = settings.logistics().shipping_options
    assert options["EXPRESS"] == ShippingOptionRule(frozenset({"PLATFORM_PICKUP"}), 1)
    assert options["STANDARD"] == ShippingOptionRule()  # built-in, kept
    with pytest.raises(ValidationError, match="unknown channels"):
        FulfillmentSettings(shipping_options={"EXPRESS": {"channels": ["TELEPORT"]}})
