"""Package documents as PDF (reportlab): the A6 shipping label with a Code 128 barcode of
the tracking number, the packing slip listing the items, and the order's invoice (A4)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence

from reportlab.graphics.barcode import code128
from reportlab.lib.pagesizes import A4, A6
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from services.fulfillment.domain.invoice import Invoice, InvoiceParty
from shared.events.fulfillment import Label, OrderLine, SkuQuantity
from shared.money import Money

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


def _block(pdf: canvas.Canvas, y: float, title: str, lines: Sequence[str]) -> float:
    pdf.setFont("Helvetica-Bold", 8)
    pdf.drawString(6 * mm, y, title)
    pdf.setFont("Helvetica", 9)
    for line in lines:
        y -= 4.2 * mm
        pdf.drawString(6 * mm, y, line[:60])
    return y


# --- the invoice (A4) -------------------------------------------------------------------------


def invoice_pdf(invoice: Invoice) -> bytes:
    """The order's invoice: issuer (registered full name and address), buyer, the lines with
    unit prices and line totals, shipping fee, discounts and taxes (or the notes that there
    are none), the total."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(f"Invoice {invoice.invoice_number}")
    font = _invoice_font()
    width, height = A4
    y = height - 20 * mm
    pdf.setFont(font, 16)
    pdf.drawString(15 * mm, y, "INVOICE 发票")
    pdf.setFont(font, 9)
    pdf.drawRightString(width - 15 * mm, y, f"No. {invoice.invoice_number}")
    pdf.drawRightString(width - 15 * mm, y - 5 * mm, f"Date {invoice.invoice_date.isoformat()}")
    pdf.drawRightString(width - 15 * mm, y - 10 * mm, f"Order {invoice.order_id}")
    y = _invoice_party(pdf, font, y - 18 * mm, "SELLER 销售方", invoice.seller, invoice.shop_name)
    y = _invoice_party(pdf, font, y - 6 * mm, "BILL TO 购买方", invoice.bill_to, None)
    y = _invoice_lines(pdf, font, y - 8 * mm, invoice)
    _invoice_totals(pdf, font, y - 4 * mm, invoice)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _invoice_font() -> str:
    """A font with Chinese glyphs (a CID font every PDF reader resolves, nothing embedded)."""
    name = "STSong-Light"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(name))
    return name


def _invoice_party(
    pdf: canvas.Canvas, font: str, y: float, title: str, party: InvoiceParty, shop: str | None
) -> float:
    pdf.setFont(font, 8)
    pdf.drawString(15 * mm, y, title)
    pdf.setFont(font, 10)
    lines = [party.name, *([shop] if shop else []), *party.address]
    lines.append(f"{party.postal_code} {party.country}")
    for line in lines:
        y -= 5 * mm
        pdf.drawString(15 * mm, y, line[:90])
    return y


def _money(value: Money) -> str:
    return f"{value.amount} {value.currency}"


def _invoice_lines(pdf: canvas.Canvas, font: str, y: float, invoice: Invoice) -> float:
    width = A4[0]
    columns = (("SKU", 15), ("Item", 50), ("Qty", 120), ("Unit price", 150))
    pdf.setFont(font, 8)
    for title, x in columns:
        pdf.drawString(x * mm, y, title)
    pdf.drawRightString(width - 15 * mm, y, "Line total")
    pdf.setFont(font, 9)
    for line in invoice.lines:
        y -= 5 * mm
        pdf.drawString(15 * mm, y, line.sku[:20])
        pdf.drawString(50 * mm, y, line.title[:36])
        pdf.drawString(120 * mm, y, str(line.quantity))
        pdf.drawString(150 * mm, y, _money(line.unit_price))
        pdf.drawRightString(width - 15 * mm, y, _money(line.line_total))
    return y


def _invoice_totals(pdf: canvas.Canvas, font: str, y: float, invoice: Invoice) -> float:
    width = A4[0]
    rows = [("Subtotal", _money(invoice.subtotal)), ("Shipping", _money(invoice.shipping_fee))]
    rows += [(f"Discount: {d.name}", f"-{_money(d.amount)}") for d in invoice.discounts]
    rows += [(f"Tax: {t.name}", _money(t.amount)) for t in invoice.taxes]
    rows.append(("Total (minor units)", _money(invoice.total)))
    pdf.setFont(font, 9)
    for title, value in rows:
        y -= 5 * mm
        pdf.drawString(120 * mm, y, title)
        pdf.drawRightString(width - 15 * mm, y, value)
    pdf.setFont(font, 8)
    for note in (invoice.discount_note, invoice.tax_note):
        if note:
            y -= 5 * mm
            pdf.drawString(15 * mm, y, note)
    return y
