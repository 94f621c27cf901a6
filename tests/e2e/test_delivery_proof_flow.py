"""Self-delivery and proof of delivery over HTTP, with the real broker: a SELF_DELIVERY
package goes from arranged to delivered by its seller's proof and the order view shows it; a
carrier configured to require proof gets 422 without one and 200 with it; a carrier that does
not require it delivers without, and the order view marks the package for disputes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.analytics.app import create_analytics_app
from services.fulfillment.app import create_fulfillment_app
from services.fulfillment.settings import FulfillmentSettings
from services.order.app import create_order_app
from shared.clock import SimulatedClock
from shared.settings import Settings
from shared.signatures import signed_headers
from tests.conftest import eventually
from tests.e2e.journeys import Journey, auth, planned_packages


def fulfillment_requiring_proof_from_dhl(settings: Settings, clock: SimulatedClock):  # type: ignore[no-untyped-def]
    own = FulfillmentSettings(carriers_requiring_proof=frozenset({"DHL"}))
    return create_fulfillment_app(settings, clock, own)


@pytest.fixture
async def shop(order_db, fulfillment_db, analytics_db, serve_services):  # type: ignore[no-untyped-def]
    clock = SimulatedClock(start=datetime(2026, 11, 2, 9, tzinfo=UTC))
    clients, settings = await serve_services(
        clock,
        (create_order_app, order_db),
        (fulfillment_requiring_proof_from_dhl, fulfillment_db),
        (create_analytics_app, analytics_db),
    )
    orders, fulfillment, analytics = clients
    j = Journey(orders, fulfillment, None, clock, settings[0].effective_jwt_secret, settings[1])
    return j, analytics


async def one_package(j: Journey, seller_id: str) -> tuple[dict, str]:
    """An order paid and planned in one package; the order and the package's id."""
    order = await j.paid_order(seller_id, books=1, pens=1)
    j.clock.advance(timedelta(hours=1, seconds=1))  # the remorse window ends
    plan = await planned_packages(j.fulfillment, j.buyer, order["order_id"])
    [package] = plan["packages"]
    return order, package["package_id"]


async def report(j: Journey, carrier: str, tracking_number: str, status: str, **body: str):  # type: ignore[no-untyped-def]
    at = j.clock.now() + timedelta(minutes=1)
    payload = {"tracking_number": tracking_number, "status": status, "occurred_at": at.isoformat()}
    raw = json.dumps({**payload, **body}).encode()
    headers = {
        **auth(j.secret, "carrier", f"{carrier.lower()}-bot", carrier=carrier),
        "content-type": "application/json",
        **signed_headers(j.settings.carrier_secret(carrier), raw, j.clock.now()),
    }
    j.clock.advance(timedelta(minutes=2))
    return await j.fulfillment.post("/v1/carrier-events", content=raw, headers=headers)


async def view_package(analytics: httpx.AsyncClient, j: Journey, order_id: str, check) -> dict:  # type: ignore[no-untyped-def]
    async def seen() -> dict | None:
        r = await analytics.get(f"/v1/order-views/{order_id}", headers=j.buyer)
        if r.status_code != 200:
            return None
        [package] = r.json()["packages"]
        return r.json() if check(r.json(), package) else None

    found: dict = await eventually(seen, within=45)
    return found


async def test_a_self_delivered_package_is_delivered_by_its_sellers_proof(shop) -> None:  # type: ignore[no-untyped-def]
    j, analytics = shop
    order, package_id = await one_package(j, "shop-self")
    seller, stranger = j.seller("shop-self"), j.seller("shop-other")
    delivery = f"/v1/packages/{package_id}/delivery"

    r = await j.fulfillment.post(delivery, headers=seller, json={"proof": "photo:door.jpg"})
    assert r.status_code == 409 and r.json()["type"].endswith("/not-shipped"), r.text
    ship = f"/v1/packages/{package_id}/ship"
    with_number = {"handover": "SELF_DELIVERY", "tracking_number": "RR123456789VN"}
    r = await j.fulfillment.post(ship, headers=seller, json=with_number)
    assert r.status_code == 422 and r.json()["type"].endswith("/self-delivery-untracked"), r.text
    r = await j.fulfillment.post(ship, headers=seller, json={"handover": "SELF_DELIVERY"})
    assert r.status_code == 200, r.text
    shipped = r.json()
    assert (shipped["status"], shipped["channel"], shipped["tracking_number"]) == (
        "READY_TO_SHIP",
        "SELF_DELIVERY",
        None,
    )
    label = await j.fulfillment.get(
        f"/v1/packages/{package_id}/documents",
        headers={**seller, "accept": "application/json"},
    )
    assert label.json()["handover_mode"] == "SELF DELIVERY", label.text
    pdf = await j.fulfillment.get(f"/v1/packages/{package_id}/documents", headers=seller)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    r = await j.fulfillment.post(delivery, headers=stranger, json={"proof": "photo:door.jpg"})
    assert r.status_code == 404, r.text  # another seller's package
    r = await j.fulfillment.post(delivery, headers=seller, json={"proof": "  "})
    assert r.status_code == 422, r.text
    r = await j.fulfillment.post(delivery, headers=seller, json={"proof": "x" * 501})
    assert r.status_code == 422, r.text
    r = await j.fulfillment.post(delivery, headers=seller, json={"proof": "photo:door.jpg"})
    assert r.status_code == 200 and r.json()["status"] == "DELIVERED", r.text
    assert r.json()["delivery_proof"] == "photo:door.jpg"
    again = await j.fulfillment.post(delivery, headers=seller, json={"proof": "photo:other.jpg"})
    assert again.status_code == 200 and again.json()["delivery_proof"] == "photo:door.jpg"

    await j.order_state(order["order_id"], lambda o: o["status"] == "DELIVERED")
    view = await view_package(
        analytics, j, order["order_id"], lambda v, p: v["status"] == "DELIVERED"
    )
    [package] = view["packages"]
    assert package["status"] == "DELIVERED" and package["handover"] == "SELF_DELIVERY"
    assert package["delivery_proof"] == "photo:door.jpg"
    assert package["delivery_recorded_by"] == "SELLER"
    assert package["delivered_without_proof"] is False


async def test_proof_of_delivery_is_required_where_configured_and_marked_where_missing(
    shop,
) -> None:  # type: ignore[no-untyped-def]
    j, analytics = shop
    seller = j.seller("shop-carriers")
    dhl_order, dhl_package = await one_package(j, "shop-carriers")
    post_order, post_package = await one_package(j, "shop-carriers")
    for package_id, carrier, number in (
        (dhl_package, "DHL", "1234567890"),
        (post_package, "POST", "RR123456789VN"),
    ):
        r = await j.fulfillment.post(
            f"/v1/packages/{package_id}/ship",
            headers=seller,
            json={"handover": "SELLER_OWN", "carrier": carrier, "tracking_number": number},
        )
        assert r.status_code == 200, r.text
        r = await report(j, carrier, number, "IN_TRANSIT")
        assert r.status_code == 200 and r.json()["applied"], r.text

    # a carrier's package is its carrier's to report
    r = await j.fulfillment.post(
        f"/v1/packages/{dhl_package}/delivery", headers=seller, json={"proof": "sig"}
    )
    assert r.status_code == 409 and r.json()["type"].endswith("/not-self-delivery"), r.text

    r = await report(j, "DHL", "1234567890", "DELIVERED")
    assert r.status_code == 422 and r.json()["type"].endswith("/proof-required"), r.text
    packages = await j.fulfillment.get(
        f"/v1/orders/{dhl_order['order_id']}/packages", headers=seller
    )
    assert packages.json()["packages"][0]["status"] == "IN_TRANSIT"  # nothing changed
    r = await report(j, "DHL", "1234567890", "DELIVERED", proof="sig:4711")
    assert r.status_code == 200 and r.json()["status"] == "DELIVERED", r.text

    r = await report(j, "POST", "RR123456789VN", "DELIVERED")  # POST does not require proof
    assert r.status_code == 200 and r.json()["status"] == "DELIVERED", r.text

    await view_package(
        analytics,
        j,
        dhl_order["order_id"],
        lambda v, p: (
            p["status"] == "DELIVERED"
            and p["delivery_proof"] == "sig:4711"
            and p["delivered_without_proof"] is False
        ),
    )
    await view_package(
        analytics,
        j,
        post_order["order_id"],
        lambda v, p: (
            p["status"] == "DELIVERED"
            and p["delivery_proof"] is None
            and p["delivered_without_proof"] is True
            and p["delivery_recorded_by"] == "CARRIER"
        ),
    )
