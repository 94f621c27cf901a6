"""Logistics rules, pure: fees, tracking numbers, labels, and arranging shipment."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.fulfillment.domain import (
    FULFILLMENT,
    Fulfillment,
    MarkDispatchOverdue,
    PickupStatus,
    PlanPackages,
    RecordTracking,
    RequestFulfillment,
    SetDispatchDeadline,
    ShipPackage,
    SplitRules,
    Warehouse,
    decide_fulfillment,
)
from services.fulfillment.logistics import (
    LogisticsConfig,
    carrier_tracking_valid,
    label_problems,
    platform_tracking_number,
    platform_tracking_valid,
    shipping_fee,
    zone,
)
from shared.aggregate import DomainError, InvalidCommand, NotFound
from shared.events.common import Address
from shared.events.fulfillment import (
    Allocation,
    Contact,
    Customs,
    DispatchDeadlineChanged,
    DispatchOverdue,
    FulfillmentRequested,
    OrderLine,
    ReadyToShip,
    TrackingAnomalyRecorded,
)
from shared.money import Money

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
CONFIG = LogisticsConfig()
BUYER = Address(
    recipient_name="Lan Nguyen",
    phone="+84 912",
    line1="12 Hang Bac",
    city="Hanoi",
    postal_code="100000",
    country="VN",
)
WH_ADDRESS = Address(
    recipient_name="Kho",
    phone="+84 24",
    line1="1 Kho St",
    city="Hanoi",
    postal_code="100000",
    country="VN",
)
WAREHOUSE = Warehouse(
    uuid.UUID(int=7), "s1", "Shop VN Hanoi", WH_ADDRESS, Contact(name="Kho", phone="+84 24 1234")
)
PICKUP = PickupStatus("PICKUP", "SPX", "SPX")
DROP_OFF_ONLY = PickupStatus("DROP_OFF", "SPX", "SPX")


def planned(address: Address = BUYER) -> tuple[Fulfillment, uuid.UUID]:
    order_id = uuid.uuid4()
    request = FulfillmentRequested(
        order_id=order_id,
        seller_id="s1",
        buyer_id="b1",
        lines=[OrderLine(sku="BOOK", title="Book", quantity=2, weight_g=700)],
        shipping_address=address,
        currency="VND",
        placed_at=T0,
        dispatch_deadline=T0 + timedelta(hours=72),
        deliver_by=T0 + timedelta(days=9),
    )
    state = FULFILLMENT.fold(decide_fulfillment(Fulfillment(), RequestFulfillment(request)))
    allocation = [Allocation(warehouse_id=WAREHOUSE.warehouse_id, sku="BOOK", quantity=2)]  # type: ignore[arg-type]
    state = FULFILLMENT.fold(
        decide_fulfillment(state, PlanPackages(allocation, SplitRules())), state
    )
    return state, next(iter(state.packages))


def ship(state: Fulfillment, package_id: uuid.UUID, **overrides) -> ReadyToShip:  # type: ignore[no-untyped-def]
    values = dict(
        package_id=package_id,
        handover="PICKUP",
        carrier=None,
        tracking_number=None,
        customs=None,
        note=None,
        warehouse=WAREHOUSE,
        pickup=PICKUP,
        issued_tracking_number=platform_tracking_number("SPX", 42),
        config=CONFIG,
        now=T0 + timedelta(hours=5),
    )
    values.update(overrides)
    [event] = decide_fulfillment(state, ShipPackage(**values))
    assert isinstance(event, ReadyToShip)
    return event


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
        and event.label.sender_name == "Shop VN Hanoi"
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


# --- tracking, overdue and extensions -----------------------------------------------------


def shipped() -> tuple[Fulfillment, uuid.UUID]:
    state, package_id = planned()
    return FULFILLMENT.fold([ship(state, package_id)], state), package_id


def report(state: Fulfillment, package_id: uuid.UUID, status: str, hours: float):  # type: ignore[no-untyped-def]
    return decide_fulfillment(
        state, RecordTracking(package_id, status, T0 + timedelta(hours=hours))
    )


def test_tracking_follows_the_carrier_and_ignores_repeats_and_stale_reports() -> None:
    state, pid = shipped()
    for status, hour in (
        ("IN_TRANSIT", 10),
        ("OUT_FOR_DELIVERY", 30),
        ("DELIVERY_FAILED", 31),
        ("OUT_FOR_DELIVERY", 50),
    ):
        events = report(state, pid, status, hour)
        assert len(events) == 1
        state = FULFILLMENT.fold(events, state)
        assert state.packages[pid].status == status
    assert report(state, pid, "OUT_FOR_DELIVERY", 51) == []  # a repeat
    assert report(state, pid, "IN_TRANSIT", 20) == []  # older than what we know
    state = FULFILLMENT.fold(report(state, pid, "DELIVERED", 52), state)
    assert state.packages[pid].status == "DELIVERED"


def test_an_impossible_transition_is_recorded_not_applied() -> None:
    state, pid = shipped()
    state = FULFILLMENT.fold(report(state, pid, "IN_TRANSIT", 10), state)
    state = FULFILLMENT.fold(report(state, pid, "DELIVERED", 20), state)
    [anomaly] = report(state, pid, "IN_TRANSIT", 30)
    assert isinstance(anomaly, TrackingAnomalyRecorded)
    assert (anomaly.current_status, anomaly.reported_status) == ("DELIVERED", "IN_TRANSIT")
    assert FULFILLMENT.fold([anomaly], state).packages[pid].status == "DELIVERED"
    planned_state, planned_pid = planned()
    with pytest.raises(NotFound):  # no tracking number yet: the carrier cannot have it
        report(planned_state, planned_pid, "IN_TRANSIT", 1)


def test_dispatch_overdue_once_and_extensions_move_the_deadline() -> None:
    state, pid = planned()
    deadline = state.packages[pid].dispatch_deadline
    assert (
        decide_fulfillment(state, MarkDispatchOverdue(pid, deadline - timedelta(seconds=1))) == []
    )
    moved_to = deadline + timedelta(hours=72)
    [changed] = decide_fulfillment(state, SetDispatchDeadline(moved_to, "provider switch"))
    assert isinstance(
        changed, DispatchDeadlineChanged
    ) and changed.dispatch_deadline == deadline + timedelta(hours=72)
    extended = FULFILLMENT.fold([changed], state)
    assert (
        decide_fulfillment(extended, MarkDispatchOverdue(pid, deadline + timedelta(hours=1))) == []
    )
    [overdue] = decide_fulfillment(state, MarkDispatchOverdue(pid, deadline))
    assert isinstance(overdue, DispatchOverdue)
    late = FULFILLMENT.fold([overdue], state)
    assert decide_fulfillment(late, MarkDispatchOverdue(pid, deadline + timedelta(days=1))) == []
    ready = FULFILLMENT.fold([ship(state, pid)], state)
    assert decide_fulfillment(ready, MarkDispatchOverdue(pid, deadline)) == []


def test_a_deployment_replaces_the_fee_templates_and_carrier_formats(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from services.fulfillment.policy import FulfillmentSettings

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
