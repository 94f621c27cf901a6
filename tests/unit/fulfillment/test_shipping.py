"""Arranging a package's shipment: channel, handover, carrier, fee and the checked label."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.fulfillment.domain.fulfillment import FULFILLMENT
from services.fulfillment.domain.logistics import label_problems, platform_tracking_valid
from services.fulfillment.domain.shipping import parcel_contents
from shared.aggregate import DomainError, InvalidCommand
from shared.events.fulfillment import Customs, OrderLine, SkuQuantity
from shared.money import Money
from tests.unit.fulfillment.scenarios import BUYER, DROP_OFF_ONLY, T0, planned, ship


def test_ship_with_pickup_issues_a_platform_label() -> None:
    state, package_id = planned()
    event = ship(state, package_id)
    assert (
        event.handover == "PICKUP" and event.channel == "PLATFORM_PICKUP" and event.carrier == "SPX"
    )
    assert event.tracking_valid and platform_tracking_valid(event.tracking_number, "SPX")
    assert event.label.handover_mode == "PICK UP"
    assert (
        event.label.recipient_name == "Lan Nguyen" and event.label.recipient_postal_code == "100000"
    )
    assert (
        event.label.order_number == str(state.order_id)
        and event.label.sender_name == "Shop VN Trading Company Limited"
    )
    assert event.shipping_fee == Money(amount=150 + 1 * 50, currency="VND")  # 1.4 kg, same city
    assert not event.late
    after = FULFILLMENT.fold([event], state)
    assert after.packages[package_id].status == "READY_TO_SHIP"
    with pytest.raises(DomainError):
        ship(after, package_id)


def test_handover_must_agree_with_the_warehouse_pickup_status() -> None:
    state, package_id = planned()
    with pytest.raises(DomainError, match="DROP_OFF"):
        ship(state, package_id, pickup=DROP_OFF_ONLY)
    with pytest.raises(DomainError, match="PICK UP"):
        ship(state, package_id, handover="DROP_OFF")
    assert (
        ship(state, package_id, handover="DROP_OFF", pickup=DROP_OFF_ONLY).label.handover_mode
        == "DROP OFF"
    )


def test_seller_own_carrier_needs_a_known_carrier_and_records_validity() -> None:
    state, package_id = planned()
    with pytest.raises(InvalidCommand):
        ship(state, package_id, handover="SELLER_OWN")
    with pytest.raises(InvalidCommand, match="carrier must be one of"):
        ship(state, package_id, handover="SELLER_OWN", carrier="ACME", tracking_number="X1234567")
    good = ship(
        state, package_id, handover="SELLER_OWN", carrier="POST", tracking_number="RR123456789VN"
    )
    assert good.tracking_valid and good.shipping_fee is None and good.channel == "SELLER_OWN"
    bad = ship(state, package_id, handover="SELLER_OWN", carrier="POST", tracking_number="123")
    assert bad.tracking_valid is False  # shipped, and counted against the valid-tracking rate
    with pytest.raises(InvalidCommand):
        ship(state, package_id, carrier="SPX")  # platform channels issue their own numbers


@pytest.mark.parametrize(
    ("note", "problem"),
    [
        ("Follow us www.myshop.com", "link"),
        ("Order again on Shopee!", "another platform"),
        ("Scan the QR for 10% off", "QR"),
        ("mail me: shop@example.org", "contact details"),
    ],
)
def test_labels_with_links_qr_codes_or_other_platforms_are_refused(note: str, problem: str) -> None:
    state, package_id = planned()
    with pytest.raises(InvalidCommand, match=f"note .*{problem}"):
        ship(state, package_id, note=note)


def test_a_label_without_a_postal_code_or_name_is_refused() -> None:
    state, package_id = planned()
    event = ship(state, package_id)
    broken = event.label.model_copy(update={"recipient_postal_code": " ", "recipient_name": ""})
    assert {p.field for p in label_problems(broken)} == {"recipient_postal_code", "recipient_name"}


def test_cross_border_needs_customs_data_and_its_own_channel() -> None:
    abroad = BUYER.model_copy(
        update={"country": "SG", "city": "Singapore", "postal_code": "018956"}
    )
    state, package_id = planned(abroad)
    with pytest.raises(InvalidCommand, match="customs"):
        ship(state, package_id)
    customs = Customs(
        declared_value=Money(amount=300000, currency="VND"), hs_code="490199", description="Books"
    )
    event = ship(state, package_id, customs=customs)
    assert event.channel == "CROSS_BORDER_PICKUP" and event.label.cross_border
    assert event.shipping_fee == Money(amount=1500 + 1 * 500, currency="VND")


def test_late_dispatch_is_recorded() -> None:
    state, package_id = planned()
    assert ship(state, package_id, now=T0 + timedelta(hours=73)).late


def test_the_label_lists_the_items_by_title_and_quantity_and_the_weight() -> None:
    state, package_id = planned()
    label = ship(state, package_id).label
    assert [(i.sku, i.title, i.quantity) for i in label.items] == [("BOOK", "Book", 2)]
    assert label.weight_g == 1400 and label.order_numbers == [str(state.order_id)]


def test_a_combined_parcel_lists_every_order_its_items_and_their_weight() -> None:
    first, first_id = planned()
    second, second_id = planned()
    contents = parcel_contents(
        [
            (first.packages[first_id], first.lines),
            (
                replace(second.packages[second_id], items=(SkuQuantity(sku="PEN", quantity=3),)),
                [OrderLine(sku="PEN", title="Bút bi", quantity=3, weight_g=10)],
            ),
        ]
    )
    assert [(i.sku, i.title, i.quantity) for i in contents.items] == [
        ("BOOK", "Book", 2),
        ("PEN", "Bút bi", 3),
    ]
    assert contents.weight_g == 1400 + second.packages[second_id].weight_g
    label = ship(first, first_id, parcel=contents).label
    assert label.items == list(contents.items) and label.weight_g == contents.weight_g
