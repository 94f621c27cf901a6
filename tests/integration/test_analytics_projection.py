"""The analytics projection over the real broker and PostgreSQL: events of every topic fed in
shuffled orders give identical views and metrics; a rebuild from the topics' beginning gives
the same digest; the wrong caller is refused."""

from __future__ import annotations

import random
from datetime import timedelta

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from services.analytics.app import create_analytics_app
from shared.auth import mint_token
from shared.clock import SimulatedClock
from shared.events import Envelope
from tests.conftest import eventually, fresh_database, make_settings
from tests.stories import T0, Story

H = timedelta(hours=1)


def stories() -> list[Story]:
    return [
        Story(seller="shop-a")
        .created(T0)
        .paid(T0 + H)
        .shipped(T0 + 3 * H)
        .collected(T0 + 10 * H)
        .at_hub(T0 + 12 * H)
        .label_defect(T0 + 13 * H)
        .delivered(T0 + 40 * H)
        .aftersales(T0 + 50 * H, rating=2, refund=300),
        Story(seller="shop-a").created(T0 + H).paid(T0 + 2 * H).shipped(T0 + 80 * H, late=True),
        Story(seller="shop-a").created(T0 + H).paid(T0 + 2 * H).cancelled(T0 + 5 * H, True),
        Story(seller="shop-b")
        .created(T0)
        .paid(T0 + H)
        .shipped(T0 + 2 * H, valid=False)
        .collected(T0 + 3 * H)
        .at_hub(T0 + 4 * H),
    ]


async def publish(settings, envelopes: list[Envelope]) -> None:  # type: ignore[no-untyped-def]
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers())
    await producer.start()
    try:
        for e in envelopes:
            await producer.send_and_wait(
                settings.topic(e.producer), e.model_dump_json().encode(), key=e.key.encode()
            )
    finally:
        await producer.stop()


def auth(settings, role: str, sub: str, **claims: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    token = mint_token(settings.effective_jwt_secret, sub=sub, role=role, **claims)
    return {"Authorization": f"Bearer {token}"}


async def projected(infra, serve_app, envelopes: list[Envelope]):  # type: ignore[no-untyped-def]
    """An analytics service fed these events in this order, once it applied them all."""
    settings = make_settings(infra, await fresh_database(infra, "analytics"))
    clock = SimulatedClock(start=T0 + timedelta(days=20))
    server = await serve_app(create_analytics_app(settings, clock))
    client = httpx.AsyncClient(base_url=server.base_url, timeout=20)
    operator = auth(settings, "operator", "op")

    async def applied() -> dict | None:
        await client.get("/v1/projections/status", headers=operator)  # joins the group first
        body = (await client.get("/v1/projections/status", headers=operator)).json()
        return body if body["events_applied"] == len(envelopes) else None

    await eventually(lambda: client.get("/healthz"), within=10)
    await publish(settings, envelopes)
    await eventually(applied, within=60)
    return client, settings


async def snapshot(client: httpx.AsyncClient, settings, all_stories: list[Story]) -> dict:  # type: ignore[no-untyped-def]
    operator = auth(settings, "operator", "op")
    views = {
        str(s.order_id): (
            await client.get(f"/v1/order-views/{s.order_id}", headers=operator)
        ).json()
        for s in all_stories
    }
    metrics = {
        seller: (
            await client.get(
                f"/v1/sellers/{seller}/metrics",
                params={"from": T0.isoformat(), "to": (T0 + timedelta(days=14)).isoformat()},
                headers=operator,
            )
        ).json()
        for seller in ("shop-a", "shop-b")
    }
    return {"views": views, "metrics": metrics}


async def test_shuffled_topics_give_identical_views_and_metrics_and_rebuild_matches(
    infra, serve_app
) -> None:  # type: ignore[no-untyped-def]
    all_stories = stories()
    envelopes = [e for s in all_stories for e in s.envelopes]
    shuffled = list(envelopes)
    random.Random(7).shuffle(shuffled)

    first, settings = await projected(infra, serve_app, envelopes)
    second, other_settings = await projected(infra, serve_app, shuffled)
    try:
        a = await snapshot(first, settings, all_stories)
        b = await snapshot(second, other_settings, all_stories)
        assert a == b
        view = a["views"][str(all_stories[0].order_id)]
        assert view["status"] == "DELIVERED" and view["held"] == 0
        total = a["metrics"]["shop-a"]["total"]
        assert total["orders"] == 3
        assert total["late_dispatch_rate"]["numerator"] == 1
        assert total["late_dispatch_rate"]["denominator"] == 2
        assert total["seller_fault_cancellation_rate"]["numerator"] == 1
        assert total["negative_review_rate"] == {"numerator": 1, "denominator": 1, "value": 1.0}
        assert a["metrics"]["shop-b"]["total"]["valid_tracking_rate"]["value"] == 0.0
        assert total["label_defect_rate"] == {"numerator": 1, "denominator": 1, "value": 1.0}
        assert a["metrics"]["shop-b"]["total"]["label_defect_rate"]["numerator"] == 0
        assert a["metrics"]["shop-b"]["total"]["label_defect_rate"]["denominator"] == 1

        operator = auth(settings, "operator", "op")
        before = (await first.get("/v1/projections/digest", headers=operator)).json()
        started = await first.post("/v1/projections/rebuild", headers=operator)
        assert started.status_code == 202 and started.json()["generation"] == 2
        again = await first.post("/v1/projections/rebuild", headers=operator)
        assert again.status_code in (202, 409)  # 409 while the first one runs

        async def switched() -> dict | None:
            body = (await first.get("/v1/projections/digest", headers=operator)).json()
            return body if body["generation"] >= 2 else None

        after = await eventually(switched, within=60)
        assert after["digest"] == before["digest"] and after["orders"] == len(all_stories)
        assert await snapshot(first, settings, all_stories) == a
    finally:
        await first.aclose()
        await second.aclose()


async def test_callers_see_only_their_own(infra, serve_app) -> None:  # type: ignore[no-untyped-def]
    story = Story(seller="shop-a").created(T0).paid(T0 + H)
    client, settings = await projected(infra, serve_app, story.envelopes)
    path = f"/v1/order-views/{story.order_id}"
    try:
        assert (await client.get(path)).status_code == 401
        assert (await client.get(path, headers=auth(settings, "buyer", "b1"))).status_code == 200
        assert (await client.get(path, headers=auth(settings, "buyer", "b2"))).status_code == 404
        other = auth(settings, "seller", "x", seller_id="shop-b")
        own = auth(settings, "seller", "y", seller_id="shop-a")
        assert (await client.get(path, headers=other)).status_code == 404
        assert (await client.get(path, headers=own)).status_code == 200
        assert (await client.get("/v1/sellers/shop-a/metrics", headers=other)).status_code == 404
        assert (await client.get("/v1/sellers/shop-a/metrics", headers=own)).status_code == 200
        listed = await client.get("/v1/order-views", headers=other)
        assert listed.status_code == 200 and listed.json()["items"] == []
        mine = await client.get("/v1/order-views", headers=own)
        assert [v["order_id"] for v in mine.json()["items"]] == [str(story.order_id)]
        foreign = await client.get("/v1/order-views", params={"seller_id": "shop-a"}, headers=other)
        assert foreign.status_code == 404
        buyer = auth(settings, "buyer", "b1")
        assert (await client.get("/v1/order-views", headers=buyer)).status_code == 403
        for method, url in (
            ("GET", "/v1/projections/status"),
            ("POST", "/v1/projections/rebuild"),
            ("GET", "/v1/projections/digest"),
        ):
            assert (await client.request(method, url, headers=own)).status_code == 403
        signed_in = await client.post("/dashboard/session", headers=other)
        cookie = signed_in.headers["set-cookie"].split(";")[0]
        page = await client.get("/dashboard/sellers/shop-a", headers={"Cookie": cookie})
        assert page.status_code == 404
        assert (await client.get("/dashboard/sellers/shop-a")).status_code == 303  # sign in
    finally:
        await client.aclose()


@pytest.mark.parametrize("bad", ["not-a-cursor", "eyJ4Ijp9"])
async def test_a_cursor_we_did_not_issue_is_a_422(infra, serve_app, bad: str) -> None:  # type: ignore[no-untyped-def]
    client, settings = await projected(infra, serve_app, [])
    try:
        r = await client.get(
            "/v1/order-views", params={"cursor": bad}, headers=auth(settings, "operator", "op")
        )
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem")
    finally:
        await client.aclose()
