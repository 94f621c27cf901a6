"""Steps the end-to-end journeys share: pay an order, wait for its planned packages, and a
whole journey to delivery as each actor would drive it over HTTP."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import jwt

from shared.auth import mint_token
from shared.clock import SimulatedClock
from shared.signatures import signed_headers
from tests.conftest import eventually


async def pay(orders: httpx.AsyncClient, buyer: dict[str, str], order: dict) -> None:
    r = await orders.post(
        f"/v1/orders/{order['order_id']}/payments",
        headers=buyer,
        json={"amount": order["total"], "transaction_id": f"tx-{order['order_id']}"},
    )
    assert r.status_code == 200, r.text


async def planned_packages(
    fulfillment: httpx.AsyncClient, headers: dict[str, str], order_id: str, within: float = 40
) -> dict:
    """The order's packages once fulfillment has planned them."""

    async def planned() -> dict | None:
        r = await fulfillment.get(f"/v1/orders/{order_id}/packages", headers=headers)
        return r.json() if r.status_code == 200 and r.json()["status"] == "PLANNED" else None

    result: dict = await eventually(planned, within=within)
    return result


PROFILE = {
    "legal_name": "东莞市洪梅镇某某贸易有限公司",
    "shop_name": "小美家居",
    "address": {
        "line1": "洪梅镇某某路1号",
        "city": "东莞市",
        "region": "广东省",
        "postal_code": "523000",
        "country": "CN",
    },
    "contact": {"name": "王小美", "phone": "+86 769 8888 0000"},
}


async def keep_profile(
    fulfillment: httpx.AsyncClient, seller: dict[str, str], **changes: object
) -> dict:
    """The seller (of the `seller` token) keeps its profile: no profile, no label."""
    token = seller["Authorization"].removeprefix("Bearer ")
    seller_id = jwt.decode(token, options={"verify_signature": False})["seller_id"]
    r = await fulfillment.put(
        f"/v1/sellers/{seller_id}/profile", headers=seller, json={**PROFILE, **changes}
    )
    assert r.status_code == 200, r.text
    body: dict = r.json()
    return body


ADDRESS = {
    "recipient_name": "Lan Nguyen",
    "phone": "+84 912 345 678",
    "line1": "12 Hang Bac",
    "city": "Hanoi",
    "postal_code": "100000",
    "country": "VN",
}
BOOK, PEN = 90000, 10000


async def lamp_shop(
    orders: httpx.AsyncClient,
    fulfillment: httpx.AsyncClient,
    seller: dict[str, str],
    on_hand: int = 5,
) -> str:
    """The seller lists a lamp (台灯, 90 000 VND) and stocks `on_hand` in a warehouse in
    Hanoi; the stock's URL, to restock."""
    r = await orders.post(
        "/v1/products",
        headers=seller,
        json={
            "sku": "LAMP",
            "title": "台灯",
            "price": {"amount": 90000, "currency": "VND"},
            "weight_g": 300,
        },
    )
    assert r.status_code == 201, r.text
    r = await fulfillment.post(
        "/v1/warehouses",
        headers=seller,
        json={
            "name": "Kho",
            "address": {**ADDRESS, "line1": "1 Kho St"},
            "contact": {"name": "Kho", "phone": "+84 24 1234"},
        },
    )
    assert r.status_code == 201, r.text
    warehouse_id = r.json()["warehouse_id"]
    stock_url = f"/v1/warehouses/{warehouse_id}/stock/LAMP"
    r = await fulfillment.put(stock_url, headers=seller, json={"on_hand": on_hand})
    assert r.status_code == 200, r.text
    return stock_url


async def lamp_order(
    orders: httpx.AsyncClient, buyer: dict[str, str], seller_id: str, **checkout: str
) -> dict:
    """The buyer orders one lamp of `seller_id`'s (with `checkout`'s extra fields) and pays."""
    r = await orders.post(
        "/v1/orders",
        headers=buyer,
        json={
            "seller_id": seller_id,
            "items": [{"sku": "LAMP", "quantity": 1}],
            "shipping_address": ADDRESS,
            "payment_method": "CARD",
            **checkout,
        },
    )
    assert r.status_code == 201, r.text
    order: dict = r.json()
    await pay(orders, buyer, order)
    return order


def auth(secret: str, role: str, sub: str, **claims: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(secret, sub=sub, role=role, **claims)}


class Journey:
    def __init__(self, orders, fulfillment, aftersales, clock, secret, settings) -> None:  # type: ignore[no-untyped-def]
        self.orders: httpx.AsyncClient = orders
        self.fulfillment: httpx.AsyncClient = fulfillment
        self.aftersales: httpx.AsyncClient = aftersales
        self.clock: SimulatedClock = clock
        self.secret: str = secret
        self.settings = settings
        self.buyer = auth(secret, "buyer", "buyer-1")
        self.operator = auth(secret, "operator", "op-1")

    def seller(self, seller_id: str) -> dict[str, str]:
        return auth(self.secret, "seller", f"{seller_id}-staff", seller_id=seller_id)

    async def paid_order(self, seller_id: str, books: int = 2, pens: int = 1) -> dict:
        """A product catalogue, a stocked warehouse and an order paid and planned."""
        seller = self.seller(seller_id)
        for sku, price in (("BOOK", BOOK), ("PEN", PEN)):
            r = await self.orders.post(
                "/v1/products",
                headers=seller,
                json={
                    "sku": sku,
                    "title": sku.title(),
                    "price": {"amount": price, "currency": "VND"},
                    "weight_g": 300,
                },
            )
            assert r.status_code in (201, 409), r.text  # 409: listed by an earlier order
        r = await self.fulfillment.post(
            "/v1/warehouses",
            headers=seller,
            json={
                "name": "Kho",
                "address": {**ADDRESS, "line1": "1 Kho St"},
                "contact": {"name": "Kho", "phone": "+84 24 1234"},
            },
        )
        warehouse_id = r.json()["warehouse_id"]
        await keep_profile(self.fulfillment, seller)
        for sku in ("BOOK", "PEN"):
            await self.fulfillment.put(
                f"/v1/warehouses/{warehouse_id}/stock/{sku}", headers=seller, json={"on_hand": 10}
            )
        items = [{"sku": "BOOK", "quantity": books}, {"sku": "PEN", "quantity": pens}]
        r = await self.orders.post(
            "/v1/orders",
            headers=self.buyer,
            json={
                "seller_id": seller_id,
                "items": items,
                "shipping_address": ADDRESS,
                "payment_method": "CARD",
            },
        )
        assert r.status_code == 201, r.text
        order: dict = r.json()
        await pay(self.orders, self.buyer, order)
        return order

    async def delivered_order(self, seller_id: str) -> tuple[dict, list[dict]]:
        """An order paid, shipped and delivered; returns it and its packages."""
        order = await self.paid_order(seller_id)
        self.clock.advance(timedelta(hours=1, seconds=1))  # the remorse window ends
        plan = await planned_packages(self.fulfillment, self.buyer, order["order_id"])
        seller = self.seller(seller_id)
        packages = []
        for package in plan["packages"]:
            r = await self.fulfillment.post(
                f"/v1/packages/{package['package_id']}/ship",
                headers=seller,
                json={"handover": "PICKUP"},
            )
            assert r.status_code == 200, r.text
            packages.append(r.json())
        for package in packages:
            await self.carrier(package["tracking_number"], "IN_TRANSIT", minutes=1)
            await self.carrier(package["tracking_number"], "DELIVERED", minutes=2)
        await self.order_state(order["order_id"], lambda o: o["status"] == "DELIVERED")
        return order, packages

    async def carrier(self, tracking_number: str, status: str, minutes: int) -> None:
        at = self.clock.now() + timedelta(minutes=minutes)
        body = {"tracking_number": tracking_number, "status": status, "occurred_at": at.isoformat()}
        raw = json.dumps(body).encode()
        headers = {
            **auth(self.secret, "carrier", "spx-bot", carrier="SPX"),
            "content-type": "application/json",
            **signed_headers(self.settings.carrier_secret("SPX"), raw, self.clock.now()),
        }
        r = await self.fulfillment.post("/v1/carrier-events", content=raw, headers=headers)
        assert r.status_code == 200 and r.json()["applied"], r.text

    async def order_state(self, order_id: str, check, within: float = 30) -> dict:  # type: ignore[no-untyped-def]
        async def seen() -> dict | None:
            body = (await self.orders.get(f"/v1/orders/{order_id}", headers=self.buyer)).json()
            return body if check(body) else None

        result: dict = await eventually(seen, within=within)
        return result

    async def open_request(self, order_id: str, **body: object) -> dict:
        """Open a request as soon as the aftersales service has heard of the delivery."""
        payload = {"order_id": order_id, "reason_code": "DAMAGED", **body}

        async def opened() -> dict | None:
            r = await self.aftersales.post(
                "/v1/aftersales/requests", headers=self.buyer, json=payload
            )
            assert r.status_code in (201, 404, 409), r.text  # 404/409: not heard of it yet
            return r.json() if r.status_code == 201 else None

        result: dict = await eventually(opened, within=30)
        return result

    async def post(
        self, request_id: str, action: str, headers: dict[str, str], body: dict | None = None
    ) -> httpx.Response:
        return await self.aftersales.post(
            f"/v1/aftersales/requests/{request_id}/{action}", headers=headers, json=body or {}
        )

    async def request_state(self, request_id: str, status: str) -> dict:
        async def seen() -> dict | None:
            r = await self.aftersales.get(
                f"/v1/aftersales/requests/{request_id}", headers=self.buyer
            )
            return r.json() if r.json()["status"] == status else None

        result: dict = await eventually(seen, within=30)
        return result
