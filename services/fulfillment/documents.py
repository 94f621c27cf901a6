"""Package documents as PDF (reportlab): the A6 shipping label with a Code 128 barcode of
the tracking number, the packing slip listing the items, and the order's invoice (A4).

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
from reportlab.lib.pagesizes import A4, A6
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from services.fulfillment.domain.invoice import Invoice, InvoiceParty
from services.fulfillment.fonts import FONT, register, width, wrap
from shared.events.fulfillment import Label, LabelItem
from shared.money import Money

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
    page_width: float = WIDTH
    page_height: float = HEIGHT

    def line(self, text: str, size: float = 9, bold: bool = False, indent: float = 0) -> None:
        for part in wrap(text, self.page_width - 2 * MARGIN - indent, size):
            self.room(size * LEADING)
            self.y -= size * LEADING
            draw(self.pdf, MARGIN + indent, self.y + size * 0.2, part, size, bold)

    def row(self, cells: Sequence[tuple[float, str]], right: str, size: float = 9) -> None:
        """One table row: each (x, text) cell wraps within its column (up to the next cell's
        x, or the right-aligned last column), `right` is drawn flush right."""
        right_width = width(right, size) + 4 * mm
        edges = [x for x, _ in cells[1:]] + [self.page_width - MARGIN - right_width]
        wrapped = [
            wrap(text, edge - x - 2 * mm, size)
            for (x, text), edge in zip(cells, edges, strict=True)
        ]
        for i in range(max(len(parts) for parts in wrapped)):
            self.room(size * LEADING)
            self.y -= size * LEADING
            for (x, _), parts in zip(cells, wrapped, strict=True):
                if i < len(parts):
                    draw(self.pdf, x, self.y + size * 0.2, parts[i], size)
            if i == 0:
                draw(
                    self.pdf,
                    self.page_width - MARGIN - width(right, size),
                    self.y + size * 0.2,
                    right,
                    size,
                )

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
        self.y = self.page_height - MARGIN
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


def _document(
    title: str, fill: Callable[[Sheet], None], pagesize: tuple[float, float] = A6
) -> bytes:
    register()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=pagesize)
    pdf.setTitle(title)
    page_width, page_height = pagesize
    fill(Sheet(pdf, title, page_height - MARGIN, 1, page_width, page_height))
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


# --- the shipping label -----------------------------------------------------------------------


def shipping_label_pdf(label: Label) -> bytes:
    def fill(sheet: Sheet) -> None:
        for block in LABEL_BLOCKS:
            block(sheet, label)

    return _document(f"Shipping label {label.tracking_number or label.package_id}", fill)


def _handover(sheet: Sheet, label: Label) -> None:
    """The handover mark, large and boxed: who moves the parcel first (PICK UP / DROP OFF,
    or SELF DELIVERY: the seller itself, to the buyer)."""
    mark: str = label.handover_mode
    size = 18
    if mark == "SELF DELIVERY":
        mark, size = "SELF DELIVERY 商家自送", 12
    top = sheet.y
    sheet.pdf.setLineWidth(1.2)
    box = max(44 * mm, width(mark, size) + 5 * mm)
    sheet.pdf.rect(MARGIN, top - 11 * mm, box, 11 * mm)
    draw(sheet.pdf, MARGIN + 2.5 * mm, top - 8 * mm, mark, size, bold=True)
    carrier_x = WIDTH - MARGIN - width(label.carrier, 10)
    draw(sheet.pdf, carrier_x, top - 4 * mm, label.carrier, 10, bold=True)
    sheet.y = top - 11 * mm


def _barcode(sheet: Sheet, label: Label) -> None:
    """The carrier's tracking number; a self-delivered parcel has none: its package id."""
    if label.tracking_number is None:
        package = str(label.package_id)
        barcode = code128.Code128(package, barWidth=0.2 * mm, barHeight=12 * mm)
        sheet.gap(15 * mm)
        barcode.drawOn(sheet.pdf, (WIDTH - barcode.width) / 2, sheet.y)
        sheet.gap(1 * mm)
        sheet.line(f"PACKAGE 包裹 {package}", size=7, bold=True)
        return
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


def _hub(sheet: Sheet, label: Label) -> None:
    """A first-mile label's receiving hub, below the sender; nothing without one."""
    if not label.hub_address:
        return
    sheet.heading("HUB 收货中转站")
    for line in label.hub_address:
        sheet.line(line, size=8)


LABEL_BLOCKS: Sequence[Callable[[Sheet, Label], None]] = (
    _handover,
    _barcode,
    _recipient,
    _sender,
    _hub,
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
    order_ids: Sequence[uuid.UUID], package_id: uuid.UUID, items: Sequence[LabelItem]
) -> bytes:
    """What the parcel holds: every order it serves (a combined parcel has several) and every
    item with its title and quantity."""

    def fill(sheet: Sheet) -> None:
        sheet.line("PACKING SLIP 装箱单", size=13, bold=True)
        for order_id in order_ids:
            sheet.line(f"Order {order_id}", size=8)
        sheet.line(f"Package {package_id}", size=8)
        sheet.heading("ITEMS 物品")
        for item in items:
            sheet.line(item_line(item.quantity, item.title, item.sku))

    return _document(f"Packing slip {package_id}", fill)


# --- the invoice (A4) -------------------------------------------------------------------------


def invoice_pdf(invoice: Invoice) -> bytes:
    """The order's invoice: issuer (registered full name and address), buyer, the lines with
    unit prices and line totals, shipping fee, discounts and taxes (or the notes that there
    are none), the total."""

    def fill(sheet: Sheet) -> None:
        sheet.line("INVOICE 发票", size=16, bold=True)
        sheet.line(f"No. {invoice.invoice_number}")
        sheet.line(f"Date {invoice.invoice_date.isoformat()}")
        sheet.line(f"Order {invoice.order_id}")
        _invoice_party(sheet, "SELLER 销售方", invoice.seller, invoice.shop_name)
        _invoice_party(sheet, "BILL TO 购买方", invoice.bill_to, None)
        sheet.heading("ITEMS 商品")
        columns = (MARGIN, 45 * mm, 125 * mm, 145 * mm)
        sheet.row(
            list(zip(columns, ("SKU", "Item 品名", "Qty", "Unit price"), strict=True)),
            "Line total",
            size=8,
        )
        for line in invoice.lines:
            cells = (line.sku, line.title, str(line.quantity), _money(line.unit_price))
            sheet.row(list(zip(columns, cells, strict=True)), _money(line.line_total))
        sheet.gap(2 * mm)
        rows = [("Subtotal 小计", invoice.subtotal), ("Shipping 运费", invoice.shipping_fee)]
        for title, value in rows:
            sheet.row([(125 * mm, title)], _money(value))
        for discount in invoice.discounts:
            sheet.row([(125 * mm, f"Discount: {discount.name}")], f"-{_money(discount.amount)}")
        for tax in invoice.taxes:
            sheet.row([(125 * mm, f"Tax: {tax.name}")], _money(tax.amount))
        sheet.row([(125 * mm, "Total 合计 (minor units)")], _money(invoice.total))
        for note in (invoice.discount_note, invoice.tax_note):
            if note:
                sheet.line(note, size=8)

    return _document(f"Invoice {invoice.invoice_number}", fill, pagesize=A4)


def _invoice_party(sheet: Sheet, title: str, party: InvoiceParty, shop: str | None) -> None:
    sheet.heading(title)
    sheet.line(party.name, size=10, bold=True)
    if shop:
        sheet.line(shop)
    for line in party.address:
        sheet.line(line)
    sheet.line(f"{party.postal_code} {party.country}")


def _money(value: Money) -> str:
    return f"{value.amount} {value.currency}"
