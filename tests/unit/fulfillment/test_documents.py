"""Every script prints on the documents: the embedded font covers Chinese, Vietnamese and
Latin, lines wrap instead of being cut, a long label goes on to a second page, and a
combined parcel's label names every order."""

from __future__ import annotations

import uuid
from typing import Any

import pypdfium2
import pytest

from services.fulfillment import documents
from services.fulfillment.fonts import missing_glyphs, width, wrap
from shared.events.fulfillment import Label, LabelItem

CHINESE = [
    "张三",
    "广东省东莞市洪梅镇洪屋涡村工业区三路18号",
    "深圳市宝安区优品电子商行",
    "臺灣臺北市中正區重慶南路一段122號",  # Traditional
    "蓝牙耳机（无线降噪）、充电线，数量：2。",  # noqa: RUF001  full-width punctuation
]
VIETNAMESE = [
    "Nguyễn Văn Ánh, Phường Bến Nghé",
    "Quận 1, Thành phố Hồ Chí Minh",
    "Đường Lê Lợi, Huế, Đà Nẵng, Cần Thơ, Thủy, Ưng, Ợ, ỹ",
]
LATIN = ["Ann Lee, 1 Main St, Springfield", "Müller Straße 5, Zürich; Ø Ångström, Œuvre €12"]
ORDER_A, ORDER_B = (str(uuid.UUID(int=n)) for n in (0xA1, 0xB2))


def a_label(**fields: Any) -> Label:
    values: dict[str, Any] = dict(
        order_number=f"{ORDER_A}, {ORDER_B}",
        order_numbers=[ORDER_A, ORDER_B],
        package_id=uuid.UUID(int=7),
        tracking_number="SPX00000000421",
        carrier="SPX",
        handover_mode="DROP OFF",
        recipient_name="张三",
        recipient_phone="+86 138 0013 8000",
        recipient_address=["广东省东莞市洪梅镇洪屋涡村工业区三路18号金鳌大厦六楼东侧仓库收货处"],
        recipient_postal_code="523160",
        recipient_country="CN",
        sender_name="深圳市宝安区优品电子商行",
        sender_address=["深圳市宝安区西乡街道宝源路1号"],
        sender_postal_code="518102",
        sender_country="CN",
        weight_g=1400,
        items=[{"sku": "EAR-1", "title": "蓝牙耳机", "quantity": 2}],
        cross_border=False,
    )
    values.update(fields)
    return Label.model_validate(values)


def pdf_text(pdf: bytes) -> list[str]:
    return [page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(pdf)]


def squeezed(text: str) -> str:
    """Without any whitespace: a wrapped line reads as the unwrapped one."""
    return "".join(text.split())


@pytest.mark.parametrize("text", CHINESE + VIETNAMESE + LATIN)
def test_the_font_has_a_glyph_for_every_character(text: str) -> None:
    assert missing_glyphs(text) == set()


def test_a_missing_glyph_is_noticed() -> None:
    assert missing_glyphs("张三 \U0001f4e6") == {"\U0001f4e6"}  # no emoji in the font


def test_chinese_wraps_between_characters_within_the_width() -> None:
    text = "广东省东莞市洪梅镇洪屋涡村工业区三路18号金鳌大厦六楼东侧仓库收货处"
    lines = wrap(text, 100, 9)
    assert len(lines) > 1 and "".join(lines) == text
    assert all(width(line, 9) <= 100 for line in lines)


def test_latin_and_vietnamese_wrap_at_spaces() -> None:
    text = "Nguyễn Văn Ánh, 12 Đường Lê Lợi, Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh"
    lines = wrap(text, 120, 9)
    assert len(lines) > 1 and " ".join(lines) == text
    assert all(width(line, 9) <= 120 for line in lines)
    words = set(text.split())
    assert all(set(line.split()) <= words for line in lines)  # no word is split


def test_a_word_longer_than_a_line_is_split_between_its_characters() -> None:
    word = "x" * 80
    lines = wrap(f"see {word}", 60, 9)
    assert "".join(lines) == f"see{word}" and all(width(line, 9) <= 60 for line in lines)


def test_mixed_text_and_short_text() -> None:
    assert wrap("", 100, 9) == [""]
    assert wrap("张三 Ann", 100, 9) == ["张三 Ann"]
    lines = wrap("收件人 Zhang San 广东省东莞市 Hongmei Town 洪梅镇", 80, 9)
    assert squeezed("".join(lines)) == squeezed("收件人 Zhang San 广东省东莞市 Hongmei Town 洪梅镇")


def test_a_chinese_label_prints_every_field_in_full() -> None:
    label = a_label()
    [text] = pdf_text(documents.shipping_label_pdf(label))
    flat = squeezed(text)
    for expected in (
        "DROP OFF",
        "张三",
        "广东省东莞市洪梅镇洪屋涡村工业区三路18号金鳌大厦六楼东侧仓库收货处",  # wider than a line
        "523160",
        ORDER_A,
        ORDER_B,  # a combined parcel: the second order number is on it too
        "深圳市宝安区优品电子商行",
        "深圳市宝安区西乡街道宝源路1号",
        "2x蓝牙耳机(EAR-1)",
        "1400g",
    ):
        assert squeezed(expected) in flat, expected
    assert missing_glyphs(text) == set()


def test_the_font_is_embedded_as_a_subset() -> None:
    pdf = documents.shipping_label_pdf(a_label())
    assert b"/FontFile2" in pdf and b"WenQuanYi" in pdf
    assert len(pdf) < 200_000  # a subset, not the 5 MB collection


def test_a_long_vietnamese_address_is_not_cut() -> None:
    address = (
        "Tầng 12, Tòa nhà Bitexco Financial Tower, số 2 Đường Hải Triều, "
        "Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh"
    )
    label = a_label(recipient_name="Nguyễn Văn Ánh", recipient_address=[address])
    flat = squeezed("".join(pdf_text(documents.shipping_label_pdf(label))))
    assert squeezed(address) in flat and "NguyễnVănÁnh" in flat


def test_a_label_too_long_for_one_page_goes_on_to_a_second() -> None:
    items = [{"sku": f"SKU-{n}", "title": f"商品 item {n}", "quantity": 1} for n in range(30)]
    pages = pdf_text(documents.shipping_label_pdf(a_label(items=items)))
    assert len(pages) == 2
    flat = squeezed("".join(pages))
    assert all(f"1x商品item{n}(SKU-{n})" in flat for n in range(30))
    assert len(pdf_text(documents.shipping_label_pdf(a_label()))) == 1  # only when it must


def test_the_packing_slip_prints_chinese_titles_in_full() -> None:
    title = "蓝牙耳机 无线降噪 长续航版本 附赠充电线与收纳盒 黑色 标准套装"
    orders = [uuid.UUID(int=1), uuid.UUID(int=3)]  # a combined parcel's
    slip = documents.packing_slip_pdf(
        orders,
        uuid.UUID(int=2),
        [LabelItem(sku="EAR-1", title=title, quantity=2), LabelItem(sku="CASE-2", quantity=1)],
    )
    [text] = pdf_text(slip)
    flat = squeezed(text)
    assert squeezed(f"2 x {title} (EAR-1)") in flat and "1x(CASE-2)" not in flat
    assert squeezed("1 x CASE-2") in flat and missing_glyphs(text) == set()
    assert all(str(order) in text for order in orders)


def test_a_label_stored_before_order_numbers_reads_them_from_order_number() -> None:
    stored = a_label().model_dump(mode="json")
    del stored["order_numbers"]
    stored["items"] = [{"sku": "EAR-1", "quantity": 2}]  # and its items had no titles
    old = Label.model_validate(stored)
    assert old.order_numbers == [ORDER_A, ORDER_B] and old.items[0].title == ""
    only_list = a_label().model_dump(mode="json")
    del only_list["order_number"]
    assert Label.model_validate(only_list).order_number == f"{ORDER_A}, {ORDER_B}"
