"""A first-mile (PICK UP) label names the hub its provider brings the parcel to (issue 16)."""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib.pagesizes import A6
from reportlab.pdfgen import canvas

from services.fulfillment.documents import hub_block, shipping_label_pdf
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


class Recording(canvas.Canvas):
    """A canvas that keeps the strings drawn on it (whatever the font)."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), pagesize=A6)
        self.drawn: list[str] = []

    def drawString(self, x: float, y: float, text: str, *args: Any, **kwargs: Any) -> None:
        self.drawn.append(text)
        super().drawString(x, y, text, *args, **kwargs)


def test_a_pick_up_label_shows_the_receiving_hub() -> None:
    state, package_id = planned()
    label = ship(state, package_id, receiving_hub=HUB).label
    assert label.handover_mode == "PICK UP"
    assert label.hub_address == ["SPX Hanoi Hub", "1 Pham Hung", "Hanoi", "100000 VN"]
    pdf = Recording()
    assert hub_block(pdf, 200, label) < 200
    assert pdf.drawn == ["HUB", "SPX Hanoi Hub", "1 Pham Hung", "Hanoi", "100000 VN"]
    assert shipping_label_pdf(label).startswith(b"%PDF")


def test_a_label_without_a_hub_or_dropped_off_names_none() -> None:
    state, package_id = planned()
    assert ship(state, package_id).label.hub_address is None
    dropped = ship(
        state, package_id, handover="DROP_OFF", pickup=DROP_OFF_ONLY, receiving_hub=HUB
    ).label
    assert dropped.hub_address is None
    pdf = Recording()
    assert hub_block(pdf, 200, dropped) == 200 and pdf.drawn == []
