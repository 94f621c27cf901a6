"""A seller's profile over HTTP, and what it prints: the label's sender is the seller's
registered full name at the shipping warehouse's complete address (region included), and the
order's invoice (JSON and PDF) lists the paid prices under the seller's legal name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pypdfium2
import pytest

from services.fulfillment.app import create_fulfillment_app
from services.order.app import create_order_app
from shared.clock import SimulatedClock
from tests.e2e.journeys import PROFILE, keep_profile, pay, planned_packages
from tests.e2e.test_fulfillment_flow import auth

SELLER_ID = "dg-xiaomei"
BUYER_ADDRESS = {
    "recipient_name": "李雷",
    "phone": "+86 20 1234 5678",
    "line1": "天河路100号",
    "city": "广州市",
    "region": "广东省",
    "postal_code": "510000",
    "country": "CN",
}
WAREHOUSE = {
    "name": "洪梅仓",
    "address": {
        "recipient_name": "仓管 陈",
        "phone": "+86 769 8888 0001",
        "line1": "洪梅镇仓库路8号",
        "city": "东莞市",
        "region": "广东省",
        "postal_code": "523000",
        "country": "CN",
    },
    "contact": {"name": "陈仓管", "phone": "+86 769 8888 0001"},
}
CUSHION, LAMP = 1990, 4500


@pytest.fixture
async def services(order_db, fulfillment_db, serve_services):
    clock = SimulatedClock(start=datetime(2026, 11, 2, 9, tzinfo=UTC))
    clients, settings = await serve_services(
        clock, (create_order_app, order_db), (create_fulfillment_app, fulfillment_db)
    )
    return tuple(clients), clock, settings[0].effective_jwt_secret


async def test_a_seller_keeps_its_own_profile_and_operators_may_read_it(services) -> None:
    (_, fulfillment), _, secret = services
    seller = auth(secret, "seller", SELLER_ID)
    other = auth(secret, "seller", "shop-other")
    operator = auth(secret, "operator", "op-1")
    path = f"/v1/sellers/{SELLER_ID}/profile"
    assert (await fulfillment.get(path, headers=seller)).status_code == 404  # none yet

    no_region = {**PROFILE, "address": {**PROFILE["address"], "region": None}}  # type: ignore[dict-item]
    refused = await fulfillment.put(path, headers=seller, json=no_region)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in refused.json()["errors"]] == ["body.address.region"]
    for bad in (
        {**PROFILE, "legal_name": ""},
        {**PROFILE, "contact": {"name": "王", "phone": "加微信"}},
        {**PROFILE, "address": {**PROFILE["address"], "country": "China"}},  # type: ignore[dict-item]
        {k: v for k, v in PROFILE.items() if k != "shop_name"},
    ):
        assert (await fulfillment.put(path, headers=seller, json=bad)).status_code == 422
    assert (await fulfillment.get(path, headers=seller)).status_code == 404  # nothing changed

    kept = await keep_profile(fulfillment, seller)
    assert kept == {**PROFILE, "address": {**PROFILE["address"], "line2": None}} | {
        "seller_id": SELLER_ID,
        "email": None,  # where notifications go: optional
        "language": None,
        "version": 1,
    }
    assert (await fulfillment.get(path, headers=seller)).json() == kept
    assert (await keep_profile(fulfillment, seller))["version"] == 1  # the same: nothing
    renamed = await keep_profile(fulfillment, seller, shop_name="小美家居旗舰店")
    assert renamed["shop_name"] == "小美家居旗舰店" and renamed["version"] == 2
    mailed = await keep_profile(
        fulfillment, seller, shop_name="小美家居旗舰店", email="xm@example.cn", language="zh-CN"
    )
    assert (mailed["email"], mailed["language"], mailed["version"]) == ("xm@example.cn", "zh-CN", 3)
    for bad_mail in ({"email": "not-an-address"}, {"language": "中文"}):
        assert (
            await fulfillment.put(path, headers=seller, json={**PROFILE, **bad_mail})
        ).status_code == 422

    assert (await fulfillment.get(path, headers=operator)).json() == mailed
    assert (await fulfillment.get(path, headers=other)).status_code == 404
    assert (await fulfillment.put(path, headers=other, json=PROFILE)).status_code == 404
    assert (await fulfillment.put(path, headers=operator, json=PROFILE)).status_code == 403
    buyer = auth(secret, "buyer", "buyer-1")
    assert (await fulfillment.get(path, headers=buyer)).status_code == 403
    assert (await fulfillment.get(path, headers=seller)).json()["version"] == 3


async def paid_order(services) -> tuple[dict, str]:  # type: ignore[no-untyped-def]
    """Cushions and a lamp in stock at the Dongguan warehouse; an order of 3 + 1 paid and
    planned: returns the order and its package id."""
    (orders, fulfillment), clock, secret = services
    seller = auth(secret, "seller", SELLER_ID)
    buyer = auth(secret, "buyer", "buyer-1")
    for sku, title, price in (("CUSHION", "靠垫", CUSHION), ("LAMP", "台灯", LAMP)):
        r = await orders.post(
            "/v1/products",
            headers=seller,
            json={
                "sku": sku,
                "title": title,
                "price": {"amount": price, "currency": "CNY"},
                "weight_g": 300,
            },
        )
        assert r.status_code == 201, r.text
    r = await fulfillment.post("/v1/warehouses", headers=seller, json=WAREHOUSE)
    warehouse_id = r.json()["warehouse_id"]
    for sku in ("CUSHION", "LAMP"):
        await fulfillment.put(
            f"/v1/warehouses/{warehouse_id}/stock/{sku}", headers=seller, json={"on_hand": 10}
        )
    r = await orders.post(
        "/v1/orders",
        headers=buyer,
        json={
            "seller_id": SELLER_ID,
            "items": [{"sku": "CUSHION", "quantity": 3}, {"sku": "LAMP", "quantity": 1}],
            "shipping_address": BUYER_ADDRESS,
            "payment_method": "CARD",
        },
    )
    assert r.status_code == 201, r.text
    order: dict = r.json()
    await pay(orders, buyer, order)
    clock.advance(timedelta(hours=1, seconds=1))  # the remorse window ends
    [package] = (await planned_packages(fulfillment, buyer, order["order_id"]))["packages"]
    return order, package["package_id"]


def documents(client: httpx.AsyncClient, pid: str, kind: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.get(f"/v1/packages/{pid}/documents", params={"type": kind}, headers=headers)


async def test_the_label_sender_is_the_sellers_legal_name_at_the_warehouse_with_its_region(
    services,
) -> None:
    (_, fulfillment), _, secret = services
    seller = auth(secret, "seller", SELLER_ID)
    order, pid = await paid_order(services)

    refused = await fulfillment.post(
        f"/v1/packages/{pid}/ship", headers=seller, json={"handover": "PICKUP"}
    )
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"].endswith("seller-profile-missing") and "legal_name" in problem["detail"]
    r = await fulfillment.get(f"/v1/orders/{order['order_id']}/packages", headers=seller)
    assert r.json()["packages"][0]["status"] == "PLANNED"  # nothing changed

    await keep_profile(fulfillment, seller)
    shipped = await fulfillment.post(
        f"/v1/packages/{pid}/ship", headers=seller, json={"handover": "PICKUP"}
    )
    assert shipped.status_code == 200, shipped.text
    label = await documents(
        fulfillment, pid, "SHIPPING_LABEL", {**seller, "Accept": "application/json"}
    )
    fields = label.json()
    assert fields["sender_name"] == "东莞市洪梅镇某某贸易有限公司"
    assert fields["sender_address"] == ["洪梅镇仓库路8号", "东莞市", "广东省"]
    assert fields["sender_region"] == "广东省" and fields["sender_postal_code"] == "523000"
    assert fields["recipient_address"] == ["天河路100号", "广州市", "广东省"]


async def test_the_invoice_lists_the_paid_prices_under_the_sellers_legal_name(services) -> None:
    (_, fulfillment), _, secret = services
    seller = auth(secret, "seller", SELLER_ID)
    buyer = auth(secret, "buyer", "buyer-1")
    order, pid = await paid_order(services)
    assert (await documents(fulfillment, pid, "INVOICE", seller)).status_code == 409  # no profile
    await keep_profile(fulfillment, seller)

    as_json = {**seller, "Accept": "application/json"}
    r = await documents(fulfillment, pid, "INVOICE", as_json)
    assert r.status_code == 200, r.text
    invoice = r.json()
    cny = lambda amount: {"amount": amount, "currency": "CNY"}  # noqa: E731
    assert [
        (line["sku"], line["title"], line["quantity"], line["unit_price"], line["line_total"])
        for line in invoice["lines"]
    ] == [
        ("CUSHION", "靠垫", 3, cny(CUSHION), cny(3 * CUSHION)),
        ("LAMP", "台灯", 1, cny(LAMP), cny(LAMP)),
    ]
    assert invoice["subtotal"] == order["subtotal"] == cny(3 * CUSHION + LAMP)
    assert invoice["shipping_fee"] == order["shipping_fee"]
    assert invoice["total"] == order["total"]  # what the buyer paid
    assert invoice["discounts"] == [] and invoice["taxes"] == [] and "no tax" in invoice["tax_note"]
    assert invoice["seller"]["name"] == "东莞市洪梅镇某某贸易有限公司"
    assert invoice["seller"]["address"] == ["洪梅镇某某路1号", "东莞市", "广东省"]
    assert invoice["shop_name"] == "小美家居" and invoice["bill_to"]["name"] == "李雷"
    assert invoice["invoice_number"].startswith("INV-") and invoice["invoice_date"] == "2026-11-02"
    assert invoice["order_id"] == order["order_id"]

    operator = auth(secret, "operator", "op-1")
    assert (await documents(fulfillment, pid, "INVOICE", {**buyer, **as_json})).json() == invoice
    assert (await documents(fulfillment, pid, "INVOICE", {**operator, **as_json})).json() == invoice
    other = auth(secret, "seller", "shop-other")
    assert (await documents(fulfillment, pid, "INVOICE", other)).status_code == 404
    assert (await documents(fulfillment, pid, "RECEIPT", seller)).status_code == 422

    pdf = await documents(fulfillment, pid, "INVOICE", seller)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    page = pypdfium2.PdfDocument(pdf.content)[0]
    width, height = page.get_size()
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)  # A4
    text = page.get_textpage().get_text_range()
    assert "INVOICE" in text and invoice["invoice_number"] in text and "CUSHION" in text
    assert str(3 * CUSHION + LAMP) in text and order["order_id"] in text
