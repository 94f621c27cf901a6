"""Package documents as PDF (reportlab): the A6 shipping label with a Code 128 barcode of
the tracking number, and the packing slip listing the items."""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence

from reportlab.graphics.barcode import code128
from reportlab.lib.pagesizes import A6
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from shared.events.fulfillment import Label, OrderLine, SkuQuantity

WIDTH, HEIGHT = A6


def shipping_label_pdf(label: Label) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A6)
    pdf.setTitle(f"Shipping label {label.tracking_number}")
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(6 * mm, HEIGHT - 12 * mm, label.handover_mode)
    pdf.setFont("Helvetica", 9)
    pdf.drawRightString(WIDTH - 6 * mm, HEIGHT - 12 * mm, label.carrier)
    barcode = code128.Code128(label.tracking_number, barWidth=0.33 * mm, barHeight=16 * mm)
    barcode.drawOn(pdf, (WIDTH - barcode.width) / 2, HEIGHT - 34 * mm)
    pdf.setFont("Helvetica-Bold", 11)
    pdf.drawCentredString(WIDTH / 2, HEIGHT - 39 * mm, label.tracking_number)
    y = _block(
        pdf,
        HEIGHT - 47 * mm,
        "TO",
        [
            label.recipient_name,
            label.recipient_phone,
            *label.recipient_address,
            f"{label.recipient_postal_code} {label.recipient_country}",
        ],
    )
    y = _block(
        pdf,
        y - 7 * mm,
        "FROM",
        [
            label.sender_name,
            *label.sender_address,
            f"{label.sender_postal_code} {label.sender_country}",
        ],
    )
    y = hub_block(pdf, y, label)
    lines = [f"Order {label.order_number}", f"Weight {label.weight_g} g"]
    if label.customs is not None:
        value = label.customs.declared_value
        lines += [
            f"Customs: HS {label.customs.hs_code}, {label.customs.description}",
            f"Declared value {value.amount} {value.currency} (minor units)",
        ]
    if label.note:
        lines.append(label.note)
    _block(pdf, y - 7 * mm, "ORDER", lines)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def packing_slip_pdf(
    order_id: uuid.UUID,
    package_id: uuid.UUID,
    items: Sequence[SkuQuantity],
    lines: Sequence[OrderLine],
) -> bytes:
    titles = {line.sku: line.title for line in lines}
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A6)
    pdf.setTitle(f"Packing slip {package_id}")
    pdf.setFont("Helvetica-Bold", 13)
    pdf.drawString(6 * mm, HEIGHT - 12 * mm, "PACKING SLIP")
    pdf.setFont("Helvetica", 8)
    pdf.drawString(6 * mm, HEIGHT - 18 * mm, f"Order {order_id}")
    pdf.drawString(6 * mm, HEIGHT - 22 * mm, f"Package {package_id}")
    y = HEIGHT - 32 * mm
    pdf.setFont("Helvetica-Bold", 9)
    pdf.drawString(6 * mm, y, "SKU")
    pdf.drawString(40 * mm, y, "Item")
    pdf.drawRightString(WIDTH - 6 * mm, y, "Qty")
    pdf.setFont("Helvetica", 9)
    for item in items:
        y -= 5 * mm
        pdf.drawString(6 * mm, y, item.sku)
        pdf.drawString(40 * mm, y, titles.get(item.sku, "")[:40])
        pdf.drawRightString(WIDTH - 6 * mm, y, str(item.quantity))
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def hub_block(pdf: canvas.Canvas, y: float, label: Label) -> float:
    """A first-mile label's receiving hub ("HUB"), below the sender; nothing without one."""
    if not label.hub_address:
        return y
    return _block(pdf, y - 7 * mm, "HUB", label.hub_address)


def _block(pdf: canvas.Canvas, y: float, title: str, lines: Sequence[str]) -> float:
    pdf.setFont("Helvetica-Bold", 8)
    pdf.drawString(6 * mm, y, title)
    pdf.setFont("Helvetica", 9)
    for line in lines:
        y -= 4.2 * mm
        pdf.drawString(6 * mm, y, line[:60])
    return y
