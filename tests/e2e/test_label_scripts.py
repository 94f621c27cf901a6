"""A Chinese seller ships a combined parcel to a Chinese buyer: the label PDF the fulfillment
service serves prints every required field in full, in glyphs the embedded font has (issue
16: Helvetica printed garbage for Chinese, lines were cut at 60 characters and a combined
parcel's second order number was lost)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pypdfium2
import pytest

from services.fulfillment.app import create_fulfillment_app
from services.fulfillment.fonts import missing_glyphs
from services.order.app import create_order_app
from shared.auth import mint_token
from shared.clock import SimulatedClock
from tests.e2e.journeys import keep_profile, pay, planned_packages

BUYER_ADDRESS = {
    "recipient_name": "张三",
    "phone": "+86 138 0013 8000",
    "line1": "洪梅镇洪屋涡村工业区三路18号金鳌大厦六楼东侧仓库收货处",
    "city": "东莞市",
    "region": "广东省",
    "postal_code": "523160",
    "country": "CN",
}
SELLER_ADDRESS = {
    "recipient_name": "李四",
    "phone": "+86 755 2345 6789",
    "line1": "西乡街道宝源路1号 臺灣商品倉庫",
    "city": "深圳市",
    "region": "广东省",
    "postal_code": "518102",
    "country": "CN",
}
SELLER_LEGAL_NAME = "深圳市宝安区优品电子商行有限公司"
PRODUCTS = {"EAR-1": ("蓝牙耳机 无线降噪", 300), "CASE-2": ("手机壳 透明防摔", 80)}


@pytest.fixture
async def services(order_db, fulfillment_db, serve_services):  # type: ignore[no-untyped-def]
    clock = SimulatedClock(start=datetime(2026, 11, 2, 9, tzinfo=UTC))
    clients, settings = await serve_services(
        clock, (create_order_app, order_db), (create_fulfillment_app, fulfillment_db)
    )
    return tuple(clients), clock, settings[0].effective_jwt_secret


def bearer(secret: str, role: str, sub: str, **claims: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(secret, sub=sub, role=role, **claims)}


def squeezed(text: str) -> str:
    """Without whitespace: a wrapped line reads as the unwrapped one."""
    return "".join(text.split())


async def test_a_combined_parcel_to_zhang_san_prints_every_field_in_chinese(services) -> None:  # type: ignore[no-untyped-def]
    (orders, fulfillment), clock, secret = services
    seller = bearer(secret, "seller", "shop-cn", seller_id="shop-cn")
    buyer = bearer(secret, "buyer", "buyer-cn")
    for sku, (title, weight) in PRODUCTS.items():
        r = await orders.post(
            "/v1/products",
            headers=seller,
            json={
                "sku": sku,
                "title": title,
                "price": {"amount": 9900, "currency": "CNY"},
                "weight_g": weight,
            },
        )
        assert r.status_code == 201, r.text
    r = await fulfillment.post(
        "/v1/warehouses",
        headers=seller,
        json={
            "name": "深圳市宝安区优品电子商行",
            "address": SELLER_ADDRESS,
            "contact": {"name": "李四", "phone": "+86 755 2345 6789"},
        },
    )
    assert r.status_code == 201, r.text
    warehouse_id = r.json()["warehouse_id"]
    await keep_profile(fulfillment, seller, legal_name=SELLER_LEGAL_NAME)
    for sku in PRODUCTS:
        await fulfillment.put(
            f"/v1/warehouses/{warehouse_id}/stock/{sku}", headers=seller, json={"on_hand": 10}
        )

    placed = []
    for sku, quantity in (("EAR-1", 2), ("CASE-2", 3)):
        r = await orders.post(
            "/v1/orders",
            headers=buyer,
            json={
                "seller_id": "shop-cn",
                "items": [{"sku": sku, "quantity": quantity}],
                "shipping_address": BUYER_ADDRESS,
                "payment_method": "CARD",
            },
        )
        assert r.status_code == 201, r.text
        await pay(orders, buyer, r.json())
        placed.append(r.json())
    clock.advance(timedelta(hours=1, seconds=1))  # past the remorse window
    packages = [
        (await planned_packages(fulfillment, buyer, o["order_id"]))["packages"][0]["package_id"]
        for o in placed
    ]
    combined = await fulfillment.post(
        "/v1/packages/combine", headers=seller, json={"package_ids": packages}
    )
    assert combined.status_code == 201, combined.text
    parcel = combined.json()["package_id"]
    shipped = await fulfillment.post(
        f"/v1/packages/{parcel}/ship", headers=seller, json={"handover": "PICKUP"}
    )
    assert shipped.status_code == 200, shipped.text

    fields = (
        await fulfillment.get(
            f"/v1/packages/{parcel}/documents", headers={**buyer, "Accept": "application/json"}
        )
    ).json()
    assert sorted(fields["order_numbers"]) == sorted(o["order_id"] for o in placed)
    assert {(i["title"], i["quantity"]) for i in fields["items"]} == {
        ("蓝牙耳机 无线降噪", 2),
        ("手机壳 透明防摔", 3),
    }
    assert fields["weight_g"] == 2 * 300 + 3 * 80  # the whole parcel, both orders

    pdf = await fulfillment.get(
        f"/v1/packages/{parcel}/documents", params={"type": "SHIPPING_LABEL"}, headers=seller
    )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    document = pypdfium2.PdfDocument(pdf.content)
    text = "".join(page.get_textpage().get_text_range() for page in document)
    flat = squeezed(text)
    required = [
        "张三",  # the buyer
        *(BUYER_ADDRESS[k] for k in ("line1", "city", "region", "postal_code")),
        *(o["order_id"] for o in placed),  # every order of the combined parcel
        SELLER_LEGAL_NAME,  # the sender is the seller's registered full name
        *(SELLER_ADDRESS[k] for k in ("line1", "city", "region", "postal_code")),
        "2 x 蓝牙耳机 无线降噪 (EAR-1)",
        "3 x 手机壳 透明防摔 (CASE-2)",
        "840 g",
        "PICK UP",
        shipped.json()["tracking_number"],
    ]
    assert [field for field in required if squeezed(field) not in flat] == []
    assert missing_glyphs(text) == set()  # no box for a glyph the font lacks
    assert len(document) == 1  # it all fits on the A6 page

    slip = await fulfillment.get(
        f"/v1/packages/{parcel}/documents", params={"type": "PACKING_SLIP"}, headers=seller
    )
    slip_text = pypdfium2.PdfDocument(slip.content)[0].get_textpage().get_text_range()
    assert "PACKING SLIP" in slip_text and missing_glyphs(slip_text) == set()
    on_slip = [*(o["order_id"] for o in placed), "2 x 蓝牙耳机 无线降噪 (EAR-1)"]
    on_slip.append("3 x 手机壳 透明防摔 (CASE-2)")  # the whole parcel, both orders' items
    assert [field for field in on_slip if squeezed(field) not in squeezed(slip_text)] == []
