"""A seller's return policy and detailed reviews over HTTP, with order, fulfillment, aftersales
and analytics on the real broker and PostgreSQL: a seller that takes no change-of-mind returns
and offers repair; a repair from request to REPAIRED; a review with three ratings and photos
that feeds the operators' per-carrier logistics rating, the same after a rebuild."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from services.aftersales.app import create_aftersales_app
from services.analytics.app import create_analytics_app
from services.fulfillment.app import create_fulfillment_app
from services.order.app import create_order_app
from shared.clock import SimulatedClock
from tests.conftest import eventually
from tests.e2e.journeys import Journey, auth


@pytest.fixture
async def shop(order_db, fulfillment_db, aftersales_db, analytics_db, serve_services):  # type: ignore[no-untyped-def]
    clock = SimulatedClock(start=datetime(2026, 11, 2, 9, tzinfo=UTC))
    clients, settings = await serve_services(
        clock,
        (create_order_app, order_db),
        (create_fulfillment_app, fulfillment_db),
        (create_aftersales_app, aftersales_db),
        (create_analytics_app, analytics_db),
    )
    j = Journey(*clients[:3], clock, settings[0].effective_jwt_secret, settings[1])
    return j, clients[3]


async def test_a_seller_without_change_of_mind_returns_and_with_repair_repairs_to_the_end(
    shop: tuple[Journey, httpx.AsyncClient],
) -> None:
    j, _ = shop
    seller_id = "shop-repair"
    seller = j.seller(seller_id)
    path = f"/v1/sellers/{seller_id}/return-policy"

    default = await j.aftersales.get(path, headers=seller)
    assert default.status_code == 200, default.text
    assert default.json() == {
        "seller_id": seller_id,
        "return_window_days": 15,
        "accepts_change_of_mind": True,
        "offers_repair": False,
        "is_default": True,
        "min_return_window_days": 7,
        "max_return_window_days": 90,
        "version": 0,
    }
    policy = {"return_window_days": 30, "accepts_change_of_mind": False, "offers_repair": True}
    r = await j.aftersales.put(path, headers=seller, json=policy)
    assert r.status_code == 200 and r.json()["version"] == 1, r.text
    assert (await j.aftersales.put(path, headers=seller, json=policy)).json()["version"] == 1
    too_short = await j.aftersales.put(
        path, headers=seller, json={**policy, "return_window_days": 3}
    )
    assert too_short.status_code == 422 and "between 7 and 90" in too_short.json()["detail"]

    # another seller neither reads nor sets it; a buyer may not; an operator reads it
    other = j.seller("shop-other")
    assert (await j.aftersales.get(path, headers=other)).status_code == 404
    taken = await j.aftersales.put(path, headers=other, json={**policy, "offers_repair": False})
    assert taken.status_code == 404
    assert (await j.aftersales.get(path, headers=j.buyer)).status_code == 403
    assert (await j.aftersales.put(path, headers=j.buyer, json=policy)).status_code == 403
    kept = await j.aftersales.get(path, headers=j.operator)
    assert kept.json() == {
        **policy,
        "seller_id": seller_id,
        "is_default": False,
        "min_return_window_days": 7,
        "max_return_window_days": 90,
        "version": 1,
    }

    order, _ = await j.delivered_order(seller_id)
    oid = order["order_id"]
    repair = await j.open_request(
        oid, type="REPAIR", reason_code="QUALITY_PROBLEM", items=[{"sku": "BOOK", "quantity": 1}]
    )
    rid = repair["request_id"]
    assert repair["status"] == "REQUESTED" and repair["refund_amount"]["amount"] == 0

    change_of_mind = await j.aftersales.post(
        "/v1/aftersales/requests",
        headers=j.buyer,
        json={
            "order_id": oid,
            "type": "RETURN_AND_REFUND",
            "items": [{"sku": "PEN", "quantity": 1}],
            "reason_code": "NO_LONGER_NEEDED",
        },
    )
    assert change_of_mind.status_code == 409, change_of_mind.text
    assert change_of_mind.json()["type"].endswith("change-of-mind-not-accepted")

    assert (await j.post(rid, "approve", seller)).json()["status"] == "APPROVED"
    shipped = await j.post(
        rid, "return-shipment", j.buyer, {"carrier": "VNPOST", "tracking_number": "RR4455"}
    )
    assert shipped.json()["status"] == "RETURN_IN_TRANSIT"
    repaired = await j.post(rid, "receive", seller, {"condition": "AS_EXPECTED"})
    assert repaired.status_code == 200, repaired.text
    body = repaired.json()
    assert (body["status"], body["outcome"], body["refunded"]) == ("REPAIRED", "REPAIRED", None)
    done = await j.order_state(oid, lambda o: o["open_aftersales_cases"] == 0)
    assert done["refunded"] is None  # a repair pays nothing back
    listed = await j.aftersales.get(
        "/v1/aftersales/requests", params={"order_id": oid}, headers=seller
    )
    assert [(r["type"], r["status"]) for r in listed.json()["items"]] == [("REPAIR", "REPAIRED")]


async def test_a_review_with_three_ratings_and_photos_feeds_the_operators_carrier_rating(
    shop: tuple[Journey, httpx.AsyncClient],
) -> None:
    j, analytics = shop
    seller_id = "shop-rated"
    order, packages = await j.delivered_order(seller_id)
    oid = order["order_id"]
    carrier = packages[0]["carrier"]
    photos = [f"https://img.example/{oid}/{n}.jpg" for n in range(3)]
    review = {
        "order_id": oid,
        "product_rating": 5,
        "seller_service_rating": 4,
        "logistics_rating": 2,
        "text": "good book, slow parcel",
        "photos": photos,
    }
    for bad in (
        {**review, "rating": 4},  # the overall rating is the product rating: not two of them
        {**review, "photos": photos * 4},  # at most 9
        {**review, "logistics_rating": 6},
        {key: value for key, value in review.items() if key != "product_rating"},
    ):
        r = await j.aftersales.post("/v1/reviews", headers=j.buyer, json=bad)
        assert r.status_code == 422, (bad, r.text)

    async def posted() -> httpx.Response | None:
        r = await j.aftersales.post("/v1/reviews", headers=j.buyer, json=review)
        return r if r.status_code == 201 else None

    body = (await eventually(posted, within=30)).json()
    assert (body["rating"], body["product_rating"], body["seller_service_rating"]) == (5, 5, 4)
    assert body["logistics_rating"] == 2 and body["photos"] == photos

    period = {"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}

    async def rated() -> dict | None:
        r = await analytics.get("/v1/carrier-ratings", params=period, headers=j.operator)
        assert r.status_code == 200, r.text
        return r.json() if r.json()["carriers"] else None

    ratings = await eventually(rated, within=60)
    assert ratings["carriers"] == [{"carrier": carrier, "count": 1, "sum": 2, "average": 2.0}]
    for stranger in (j.seller(seller_id), j.buyer, auth(j.secret, "carrier", "c", carrier=carrier)):
        r = await analytics.get("/v1/carrier-ratings", params=period, headers=stranger)
        assert r.status_code == 403
    assert (await analytics.get("/v1/carrier-ratings", params=period)).status_code == 401

    # the seller's metrics count the overall (product) rating, not the delivery's
    async def metrics() -> dict | None:
        r = await analytics.get(
            f"/v1/sellers/{seller_id}/metrics",
            params={**period, "granularity": "total"},
            headers=j.seller(seller_id),
        )
        total: dict = r.json()["total"]
        return total if total["average_rating"]["count"] else None

    total = await eventually(metrics, within=60)
    assert total["average_rating"]["sum"] == 5 and total["negative_review_rate"]["numerator"] == 0

    # a rebuild from the topics gives the same ratings
    started = await analytics.post("/v1/projections/rebuild", headers=j.operator)
    assert started.status_code == 202, started.text
    generation = started.json()["generation"]

    async def switched() -> bool:
        r = await analytics.get("/v1/projections/digest", headers=j.operator)
        return r.json()["generation"] >= generation

    await eventually(switched, within=120)
    again = await analytics.get("/v1/carrier-ratings", params=period, headers=j.operator)
    assert again.json() == ratings
