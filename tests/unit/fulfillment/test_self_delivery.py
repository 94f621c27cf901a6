"""Self-delivery (the seller takes the parcel to the buyer itself, domestic only) and proof
of delivery: a carrier configured to require proof must send it with DELIVERED."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.fulfillment import documents
from services.fulfillment.domain.fulfillment import FULFILLMENT, decide
from services.fulfillment.domain.logistics import label_problems
from services.fulfillment.domain.package import RecordCollection, RecordSelfDelivery, RecordTracking
from shared.aggregate import DomainError, InvalidCommand, NotFound
from shared.events.fulfillment import Customs, Delivered
from shared.money import Money
from tests.unit.fulfillment.scenarios import BUYER, DROP_OFF_ONLY, T0, planned, ship, shipped
from tests.unit.fulfillment.test_documents import pdf_text

NOW = T0 + timedelta(hours=30)


def self_delivering():  # type: ignore[no-untyped-def]
    state, package_id = planned()
    event = ship(state, package_id, handover="SELF_DELIVERY")
    return FULFILLMENT.fold([event], state), package_id, event


def deliver(state, package_id, proof="photo:IMG_0042.jpg", at=NOW - timedelta(hours=1)):  # type: ignore[no-untyped-def]
    return decide(state, RecordSelfDelivery(package_id, proof, at, NOW))


def test_a_self_delivered_package_ships_without_carrier_tracking_number_or_fee() -> None:
    state, package_id, event = self_delivering()
    assert (event.channel, event.handover, event.carrier) == (
        "SELF_DELIVERY",
        "SELF_DELIVERY",
        "SELLER",
    )
    assert event.tracking_number is None and event.shipping_fee is None
    assert event.tracking_valid is False  # no tracking number (the metric leaves it out)
    assert state.packages[package_id].status == "READY_TO_SHIP"
    # whatever the warehouse's pickup status: nobody collects it
    other, other_id = planned()
    assert ship(other, other_id, handover="SELF_DELIVERY", pickup=DROP_OFF_ONLY).label


def test_self_delivery_refuses_a_carrier_or_tracking_number() -> None:
    state, package_id = planned()
    with pytest.raises(InvalidCommand, match="no carrier and no tracking number"):
        ship(state, package_id, handover="SELF_DELIVERY", tracking_number="RR123456789VN")
    with pytest.raises(InvalidCommand, match="no carrier and no tracking number"):
        ship(state, package_id, handover="SELF_DELIVERY", carrier="POST")


def test_self_delivery_is_domestic_only() -> None:
    abroad = BUYER.model_copy(update={"country": "SG", "city": "Singapore"})
    state, package_id = planned(abroad)
    customs = Customs(
        declared_value=Money(amount=300000, currency="VND"), hs_code="490199", description="Books"
    )
    with pytest.raises(InvalidCommand, match="domestic"):
        ship(state, package_id, handover="SELF_DELIVERY", customs=customs)


def test_a_self_delivery_label_says_self_delivery_and_needs_no_tracking_number() -> None:
    _, _, event = self_delivering()
    assert event.label.handover_mode == "SELF DELIVERY" and event.label.tracking_number is None
    assert label_problems(event.label) == []
    carrier_label = event.label.model_copy(update={"handover_mode": "DROP OFF"})
    assert [p.field for p in label_problems(carrier_label)] == ["tracking_number"]
    chinese = event.label.model_copy(update={"recipient_name": "张三"})
    [text] = pdf_text(documents.shipping_label_pdf(chinese))
    assert "SELF DELIVERY" in text and "商家自送" in text and "张三" in text
    assert str(event.label.package_id) in text


def test_the_seller_records_its_self_delivery_with_proof_and_the_package_is_delivered() -> None:
    state, package_id, _ = self_delivering()
    [delivered] = deliver(state, package_id)
    assert isinstance(delivered, Delivered)
    assert (delivered.proof, delivered.recorded_by, delivered.tracking_number) == (
        "photo:IMG_0042.jpg",
        "SELLER",
        None,
    )
    assert delivered.occurred_at == NOW - timedelta(hours=1)
    after = FULFILLMENT.fold([delivered], state)
    assert after.packages[package_id].status == "DELIVERED"
    assert after.packages[package_id].delivery_proof == "photo:IMG_0042.jpg"
    assert deliver(after, package_id) == []  # a repeat changes nothing


def test_a_self_delivery_is_recorded_only_once_shipped_and_at_a_possible_time() -> None:
    state, package_id = planned()
    with pytest.raises(DomainError, match="PLANNED: arrange its shipment first") as refused:
        deliver(state, package_id)
    assert refused.value.status == 409
    shipped_state, package_id, _ = self_delivering()
    with pytest.raises(InvalidCommand, match="between shipment and now"):
        deliver(shipped_state, package_id, at=NOW + timedelta(minutes=1))
    with pytest.raises(InvalidCommand, match="between shipment and now"):
        deliver(shipped_state, package_id, at=T0)  # before it was ready (T0 + 5 h)
    with pytest.raises(NotFound):
        deliver(shipped_state, planned()[1])


def test_only_a_self_delivery_package_is_delivered_by_its_seller() -> None:
    state, package_id = shipped()  # a platform pickup: its carrier reports
    with pytest.raises(DomainError, match="SELF_DELIVERY") as refused:
        deliver(state, package_id)
    assert refused.value.status == 409


def test_carriers_have_no_say_on_a_self_delivered_package() -> None:
    state, package_id, _ = self_delivering()
    with pytest.raises(NotFound):
        decide(state, RecordTracking(package_id, "DELIVERED", NOW, NOW, proof="sig"))
    assert decide(state, RecordCollection(package_id, "DROP_OFF", NOW, NOW)) == []


def in_transit():  # type: ignore[no-untyped-def]
    state, package_id = shipped()
    moved = decide(state, RecordTracking(package_id, "IN_TRANSIT", T0 + timedelta(hours=10), T0))
    return FULFILLMENT.fold(moved, state), package_id


def test_a_carrier_requiring_proof_must_send_it_with_delivered() -> None:
    state, package_id = in_transit()
    without = RecordTracking(package_id, "DELIVERED", NOW, NOW, proof_required=True)
    with pytest.raises(InvalidCommand, match="proof") as refused:
        decide(state, without)
    assert refused.value.status == 422
    blank = RecordTracking(package_id, "DELIVERED", NOW, NOW, proof="  ", proof_required=True)
    with pytest.raises(InvalidCommand):
        decide(state, blank)
    # its other statuses need none
    out = RecordTracking(package_id, "OUT_FOR_DELIVERY", NOW, NOW, proof_required=True)
    assert decide(state, out)
    signed = RecordTracking(
        package_id, "DELIVERED", NOW, NOW, proof="sig:4711", proof_required=True
    )
    [delivered] = decide(state, signed)
    assert isinstance(delivered, Delivered) and delivered.proof == "sig:4711"
    assert delivered.recorded_by == "CARRIER"


def test_a_carrier_not_requiring_proof_delivers_without_it() -> None:
    state, package_id = in_transit()
    [delivered] = decide(state, RecordTracking(package_id, "DELIVERED", NOW, NOW))
    assert isinstance(delivered, Delivered) and delivered.proof is None
    [blank] = decide(state, RecordTracking(package_id, "DELIVERED", NOW, NOW, proof=" "))
    assert isinstance(blank, Delivered) and blank.proof is None  # a blank proof is none
