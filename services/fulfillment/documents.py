"""Package documents as PDF (reportlab): the A6 shipping label with a Code 128 barcode of
the tracking number, and the packing slip listing the items.

Every script prints: the text is set in one embedded TrueType font that covers Chinese
(Simplified and Traditional), Latin and Vietnamese (see `fonts.py`), and long lines wrap
(`wrap`) instead of being cut; a label too long for one A6 page goes on to a second. Each
section of a document is one small block function, listed in the order it is printed."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reportlab.graphics.barcode import code128
from reportlab.lib.pagesizes import A6
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from services.fulfillment.fonts import FONT, register, width, wrap
from shared.events.fulfillment import Label, OrderLine, SkuQuantity

WIDTH, HEIGHT = A6
MARGIN = 6 * mm
LEADING = 1.25  # line height, times the font size


@dataclass
class Sheet:
    """A cursor down the pages of one document: each line is wrapped to the printable width,
    and a line that no longer fits starts a new page headed by `title`."""

    pdf: canvas.Canvas
    title: str
    y: float = HEIGHT - MARGIN
    pages: int = 1

    def line(self, text: str, size: float = 9, bold: bool = False, indent: float = 0) -> None:
        for part in wrap(text, WIDTH - 2 * MARGIN - indent, size):
            self.room(size * LEADING)
            self.y -= size * LEADING
            draw(self.pdf, MARGIN + indent, self.y + size * 0.2, part, size, bold)

    def heading(self, text: str) -> None:
        self.gap(1.5 * mm)
        self.line(text, size=7, bold=True)

    def gap(self, height: float) -> None:
        self.y -= height

    def room(self, height: float) -> None:
        """Go on to a new page unless `height` more fits on this one."""
        if self.y - height >= MARGIN:
            return
        self.pdf.showPage()
        self.pages += 1
        self.y = HEIGHT - MARGIN
        self.line(f"{self.title} ({self.pages})", size=7)
        self.gap(1 * mm)


def draw(
    pdf: canvas.Canvas, x: float, y: float, text: str, size: float, bold: bool = False
) -> None:
    """One line at (x, y); the font has a single weight, so bold is its outline stroked too."""
    pdf.saveState()
    obj = pdf.beginText(x, y)
    obj.setFont(FONT, size)
    if bold:
        pdf.setLineWidth(size * 0.03)
        obj.setTextRenderMode(2)  # fill, then stroke
    obj.textOut(text)
    pdf.drawText(obj)
    pdf.restoreState()


def _document(title: str, fill: Callable[[Sheet], None]) -> bytes:
    register()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A6)
    pdf.setTitle(title)
    fill(Sheet(pdf, title))
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


# --- the shipping label -----------------------------------------------------------------------


def shipping_label_pdf(label: Label) -> bytes:
    def fill(sheet: Sheet) -> None:
        for block in LABEL_BLOCKS:
            block(sheet, label)

    return _document(f"Shipping label {label.tracking_number}", fill)


def _handover(sheet: Sheet, label: Label) -> None:
    """The handover mark, large and boxed: who moves the parcel first (PICK UP / DROP OFF)."""
    size = 18
    top = sheet.y
    sheet.pdf.setLineWidth(1.2)
    sheet.pdf.rect(MARGIN, top - 11 * mm, 44 * mm, 11 * mm)
    draw(sheet.pdf, MARGIN + 2.5 * mm, top - 8 * mm, label.handover_mode, size, bold=True)
    carrier_x = WIDTH - MARGIN - width(label.carrier, 10)
    draw(sheet.pdf, carrier_x, top - 4 * mm, label.carrier, 10, bold=True)
    sheet.y = top - 11 * mm


def _barcode(sheet: Sheet, label: Label) -> None:
    barcode = code128.Code128(label.tracking_number, barWidth=0.33 * mm, barHeight=14 * mm)
    sheet.gap(17 * mm)
    barcode.drawOn(sheet.pdf, (WIDTH - barcode.width) / 2, sheet.y)
    sheet.gap(1 * mm)
    sheet.line(label.tracking_number, size=11, bold=True, indent=(WIDTH - 2 * MARGIN) / 4)


def _recipient(sheet: Sheet, label: Label) -> None:
    sheet.heading("TO 收件人")
    sheet.line(label.recipient_name, size=11, bold=True)
    sheet.line(label.recipient_phone)
    for line in label.recipient_address:
        sheet.line(line)
    sheet.line(f"{label.recipient_postal_code} {label.recipient_country}", bold=True)


def _sender(sheet: Sheet, label: Label) -> None:
    sheet.heading("FROM 寄件人")
    sheet.line(label.sender_name, size=8)
    for line in label.sender_address:
        sheet.line(line, size=8)
    sheet.line(f"{label.sender_postal_code} {label.sender_country}", size=8)


def _orders(sheet: Sheet, label: Label) -> None:
    """Every order the parcel serves: a combined parcel has several, one per line."""
    sheet.heading("ORDER 订单号")
    for number in label.order_numbers or [label.order_number]:
        sheet.line(number, size=8)


def _items(sheet: Sheet, label: Label) -> None:
    """What the carrier checks the parcel against: the items' names, quantities and weight."""
    sheet.heading("ITEMS 物品")
    for item in label.items:
        sheet.line(item_line(item.quantity, item.title, item.sku), size=8)
    sheet.line(f"Weight 重量 {label.weight_g} g", size=9, bold=True)


def _customs(sheet: Sheet, label: Label) -> None:
    if label.customs is None:
        return
    value = label.customs.declared_value
    sheet.heading("CUSTOMS 报关")
    sheet.line(f"HS {label.customs.hs_code}, {label.customs.description}", size=8)
    sheet.line(f"Declared value {value.amount} {value.currency} (minor units)", size=8)


def _note(sheet: Sheet, label: Label) -> None:
    if label.note:
        sheet.heading("NOTE 备注")
        sheet.line(label.note, size=8)


LABEL_BLOCKS: Sequence[Callable[[Sheet, Label], None]] = (
    _handover,
    _barcode,
    _recipient,
    _sender,
    _orders,
    _items,
    _customs,
    _note,
)


def item_line(quantity: int, title: str, sku: str) -> str:
    """`2 x Truyen Kieu (BOOK)`; the SKU alone when the listing had no title."""
    return f"{quantity} x {title} ({sku})" if title else f"{quantity} x {sku}"


# --- the packing slip ---------------------------------------------------------------------------


def packing_slip_pdf(
    order_id: uuid.UUID,
    package_id: uuid.UUID,
    items: Sequence[SkuQuantity],
    lines: Sequence[OrderLine],
) -> bytes:
    titles = {line.sku: line.title for line in lines}

    def fill(sheet: Sheet) -> None:
        sheet.line("PACKING SLIP 装箱单", size=13, bold=True)
        sheet.line(f"Order {order_id}", size=8)
        sheet.line(f"Package {package_id}", size=8)
        sheet.heading("ITEMS 物品")
        for item in items:
            sheet.line(item_line(item.quantity, titles.get(item.sku, ""), item.sku))

    return _document(f"Packing slip {package_id}", fill)
