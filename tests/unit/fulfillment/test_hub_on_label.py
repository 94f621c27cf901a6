"""A first-mile (PICK UP) label names the hub its provider brings the parcel to (issue 16)."""

from __future__ import annotations

import pypdfium2

from services.fulfillment.documents import shipping_label_pdf
from shared.events.pickup import HubAddress
from tests.unit.fulfillment.scenarios import DROP_OFF_ONLY, planned, ship

HUB = HubAddress(
    hub_id="HN-1",
    name="SPX Hanoi Hub",
    line1="1 Pham Hung",
    city="Hanoi",
    postal_code="100000",
    country="VN",
)


def label_text(pdf: bytes) -> str:
    return "".join(page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(pdf))


def test_a_pick_up_label_shows_the_receiving_hub() -> None:
    state, package_id = planned()
    label = ship(state, package_id, receiving_hub=HUB).label
    assert label.handover_mode == "PICK UP"
    assert label.hub_address == ["SPX Hanoi Hub", "1 Pham Hung", "Hanoi", "100000 VN"]
    text = label_text(shipping_label_pdf(label))
    hub = text[text.index("HUB 收货中转站") :]
    for line in label.hub_address:
        assert line in hub


def test_a_label_without_a_hub_or_dropped_off_names_none() -> None:
    state, package_id = planned()
    assert ship(state, package_id).label.hub_address is None
    dropped = ship(
        state, package_id, handover="DROP_OFF", pickup=DROP_OFF_ONLY, receiving_hub=HUB
    ).label
    assert dropped.hub_address is None
    assert "HUB" not in label_text(shipping_label_pdf(dropped))
