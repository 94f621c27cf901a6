"""Steps the end-to-end journeys share: pay an order, wait for its planned packages."""

from __future__ import annotations

import httpx

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
