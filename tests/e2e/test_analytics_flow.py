"""The analytics service beside order, fulfillment and aftersales over the real broker:
orders taken through their journeys over HTTP show up in the order views and the seller's
metrics; the dashboard renders them in a real headless Chromium."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from services.aftersales.app import create_aftersales_app
from services.analytics.app import create_analytics_app
from services.fulfillment.app import create_fulfillment_app
from services.order.app import create_order_app
from shared.clock import SimulatedClock
from tests.conftest import eventually
from tests.e2e.journeys import Journey, planned_packages

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


@pytest.fixture
async def shop(order_db, fulfillment_db, aftersales_db, analytics_db, serve_services):
    """All services but pickup on one simulated clock, and a seller's day of orders: one
    delivered and reviewed 2 stars, one shipped after its dispatch deadline, one waiting past
    its deadline."""
    clock = SimulatedClock(start=datetime(2026, 11, 2, 9, tzinfo=UTC))
    clients, settings = await serve_services(
        clock,
        (create_order_app, order_db),
        (create_fulfillment_app, fulfillment_db),
        (create_aftersales_app, aftersales_db),
        (create_analytics_app, analytics_db),
    )
    j = Journey(*clients[:3], clock, settings[0].effective_jwt_secret, settings[1])
    analytics = clients[3]
    seller_id = "shop-dash"

    delivered, _ = await j.delivered_order(seller_id)

    async def reviewed() -> bool:
        r = await j.aftersales.post(
            "/v1/reviews",
            headers=j.buyer,
            json={"order_id": delivered["order_id"], "rating": 2, "text": "late"},
        )
        return r.status_code == 201

    await eventually(reviewed, within=30)
    late = await j.paid_order(seller_id)
    waiting = await j.paid_order(seller_id)
    j.clock.advance(timedelta(hours=1, seconds=1))
    plan = await planned_packages(j.fulfillment, j.buyer, late["order_id"])
    await planned_packages(j.fulfillment, j.buyer, waiting["order_id"])
    j.clock.advance(timedelta(hours=80))  # both are past their 72 h dispatch deadline now
    for package in plan["packages"]:
        r = await j.fulfillment.post(
            f"/v1/packages/{package['package_id']}/ship",
            headers=j.seller(seller_id),
            json={"handover": "PICKUP"},
        )
        assert r.status_code == 200 and r.json()["tracking_number"], r.text
    return j, analytics, seller_id, {"delivered": delivered, "late": late, "waiting": waiting}


async def metrics_when(analytics: httpx.AsyncClient, j: Journey, seller_id: str, check) -> dict:  # type: ignore[no-untyped-def]
    async def seen() -> dict | None:
        r = await analytics.get(
            f"/v1/sellers/{seller_id}/metrics",
            params={"granularity": "total"},
            headers=j.seller(seller_id),
        )
        body = r.json()
        return body if r.status_code == 200 and check(body["total"]) else None

    try:
        result: dict = await eventually(seen, within=45)
    except AssertionError:
        status = await analytics.get("/v1/projections/status", headers=j.operator)
        last = await analytics.get(f"/v1/sellers/{seller_id}/metrics", headers=j.operator)
        raise AssertionError(f"metrics not as expected: {last.text}\n{status.text}") from None
    return result


async def test_journeys_show_in_the_order_views_and_the_sellers_metrics(shop) -> None:  # type: ignore[no-untyped-def]
    j, analytics, seller_id, orders = shop
    seller = j.seller(seller_id)
    metrics = await metrics_when(
        analytics, j, seller_id, lambda t: t["late_dispatch_rate"]["denominator"] == 2
    )
    total = metrics["total"]
    assert total["orders"] == 3
    assert total["late_dispatch_rate"] == {"numerator": 1, "denominator": 2, "value": 0.5}
    assert total["valid_tracking_rate"]["value"] == 1.0
    assert total["negative_review_rate"] == {"numerator": 1, "denominator": 1, "value": 1.0}
    assert total["gmv"] == [
        {"amount": sum(o["total"]["amount"] for o in orders.values()), "currency": "VND"}
    ]
    assert "LDR" in metrics["definitions"]["late_dispatch_rate"]

    oid = orders["delivered"]["order_id"]
    view = (await analytics.get(f"/v1/order-views/{oid}", headers=j.buyer)).json()
    assert view["status"] == "DELIVERED" and view["review"]["rating"] == 2
    assert {t["stream_id"].split("/")[0] for t in view["timeline"]} >= {
        "order",
        "fulfillment",
        "aftersales",
    }
    assert view["packages"][0]["tracking"][-1]["status"] == "DELIVERED"

    async def needing_action() -> list[str] | None:
        r = await analytics.get("/v1/order-views", params={"needs_action": "true"}, headers=seller)
        ids = [v["order_id"] for v in r.json()["items"]]
        return ids if ids == [orders["waiting"]["order_id"]] else None

    await eventually(needing_action, within=30)  # the late one, shipped now, no longer does
    page = await analytics.get("/v1/order-views", params={"limit": 2}, headers=seller)
    rest = await analytics.get(
        "/v1/order-views", params={"limit": 2, "cursor": page.json()["next_cursor"]}, headers=seller
    )
    ids = [v["order_id"] for v in page.json()["items"] + rest.json()["items"]]
    assert sorted(ids) == sorted(o["order_id"] for o in orders.values())
    assert rest.json()["next_cursor"] is None


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium here (CI installs Debian's chromium)")
async def test_the_dashboard_renders_its_charts_in_a_real_browser(shop) -> None:  # type: ignore[no-untyped-def]
    from playwright.async_api import async_playwright

    j, analytics, seller_id, _ = shop
    await metrics_when(analytics, j, seller_id, lambda t: t["late_dispatch_rate"]["denominator"])
    token = j.seller(seller_id)["Authorization"].removeprefix("Bearer ")
    errors: list[str] = []
    OUTPUT.mkdir(exist_ok=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 1100})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.goto(f"{analytics.base_url}/dashboard/sellers/{seller_id}")
            await page.wait_for_url("**/dashboard/sign-in")  # not signed in yet
            await page.fill("#token", token)
            await page.click("button[type=submit]")
            await page.wait_for_selector("body[data-loaded='true']", timeout=20_000)
            cookies = await page.context.cookies()
            bars = await page.locator("#orders-chart rect.bar").count()
            line = await page.locator("#gmv-chart path.line").get_attribute("d")
            cards = await page.locator("#standing .card").count()
            ldr = await page.locator("[data-metric='late_dispatch_rate'] .value").inner_text()
            actions = await page.locator("#actions tbody a").count()
            await page.screenshot(path=str(OUTPUT / "dashboard.png"), full_page=True)
            await page.locator("#actions tbody a").first.click()
            await page.wait_for_selector("#timeline li", timeout=20_000)
            await page.screenshot(path=str(OUTPUT / "order-view.png"), full_page=True)
            timeline = await page.locator("#timeline li").count()
            await page.click("#sign-out")
            await page.wait_for_url("**/dashboard/sign-in")
            signed_out = await page.context.cookies()
            await page.goto(f"{analytics.base_url}/dashboard/sellers/{seller_id}")
            await page.wait_for_url("**/dashboard/sign-in")  # the session is gone
            operator = j.operator["Authorization"].removeprefix("Bearer ")
            await page.fill("#token", operator)
            await page.fill("#seller", "shop-none")
            await page.click("button[type=submit]")
            await page.wait_for_selector("body[data-loaded='true']", timeout=20_000)
            empty = await page.locator("#actions tbody").inner_text()
        finally:
            await browser.close()
    assert bars == 30 and line and line.count("L") == 29  # one per day of the last 30 days
    assert cards == 5 and ldr == "50.0 %"  # LDR, VTR, OTDR, SFCR, label defect rate
    assert actions == 1 and timeline > 5
    assert "nothing needs action" in empty  # a shop without orders renders too
    [session] = cookies  # the token itself is in no URL and no script-readable cookie
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert session["path"] == "/dashboard" and session["secure"]
    assert token not in session["value"]
    assert signed_out == []
    assert errors == []
    assert (OUTPUT / "dashboard.png").stat().st_size > 10_000
