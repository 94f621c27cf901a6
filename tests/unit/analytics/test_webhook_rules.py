"""The webhooks' pure rules: signing, the back-off schedule, endpoint URLs and addresses,
and which events go to whom."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.analytics.webhooks.rules import (
    KIND_OF,
    KINDS,
    Backoff,
    RefusedUrl,
    Subscription,
    body,
    check_addresses,
    delivery_headers,
    parse_url,
    recipients,
)
from services.analytics.webhooks.settings import WebhookSettings
from shared.events import REGISTRY, Envelope
from shared.signatures import HEADER, TIMESTAMP_HEADER, sign, verify

AT = datetime(2026, 12, 1, 9, tzinfo=UTC)
ORDER = uuid.UUID("00000000-0000-0000-0000-0000000000aa")


def _envelope(event_type: str = "OrderStatusChanged", seller_id: str | None = "shop-a") -> Envelope:
    return Envelope(
        event_id=uuid.uuid4(),
        event_type=event_type,
        schema_version=1,
        occurred_at=AT,
        producer="order",
        stream_id=f"order/{ORDER}",
        stream_version=3,
        order_id=ORDER,
        seller_id=seller_id,
        payload={"order_id": str(ORDER), "from_status": "UNPAID", "to_status": "ON_HOLD"},
    )


# -- signing -----------------------------------------------------------------------------------


def test_a_delivery_is_signed_over_its_timestamp_and_body_with_the_endpoints_secret() -> None:
    raw = body("order.status_changed", _envelope(), "shop-a").encode()
    event_id, delivery_id = uuid.uuid4(), uuid.uuid4()
    headers = delivery_headers("whsec_x", raw, AT, event_id, delivery_id, "order.status_changed")
    assert headers[TIMESTAMP_HEADER] == str(int(AT.timestamp()))
    assert headers[HEADER] == sign("whsec_x", raw, int(AT.timestamp()))
    assert headers["X-Shopflow-Event-Id"] == str(event_id)
    assert headers["X-Shopflow-Delivery-Id"] == str(delivery_id)
    assert verify(
        "whsec_x", raw, headers[TIMESTAMP_HEADER], headers[HEADER], now=AT, tolerance_s=300
    )
    assert not verify(
        "whsec_other", raw, headers[TIMESTAMP_HEADER], headers[HEADER], now=AT, tolerance_s=300
    )


def test_a_retry_is_signed_afresh_at_its_own_time() -> None:
    raw = b"{}"
    first = delivery_headers("s", raw, AT, uuid.uuid4(), uuid.uuid4(), "refund.issued")
    later = delivery_headers("s", raw, AT + timedelta(hours=3), uuid.uuid4(), uuid.uuid4(), "k")
    assert first[TIMESTAMP_HEADER] != later[TIMESTAMP_HEADER]
    assert verify(
        "s",
        raw,
        later[TIMESTAMP_HEADER],
        later[HEADER],
        now=AT + timedelta(hours=3),
        tolerance_s=300,
    )


def test_the_body_carries_the_event_id_kind_order_seller_and_payload() -> None:
    envelope = _envelope()
    doc = json.loads(body("order.status_changed", envelope, "shop-a"))
    assert doc == {
        "event_id": str(envelope.event_id),
        "kind": "order.status_changed",
        "event_type": "OrderStatusChanged",
        "occurred_at": AT.isoformat(),
        "order_id": str(ORDER),
        "seller_id": "shop-a",
        "data": envelope.payload,
    }


# -- back-off ----------------------------------------------------------------------------------


def test_the_default_schedule_doubles_from_30_s_to_an_hour_and_gives_up_after_a_day() -> None:
    backoff = WebhookSettings().backoff
    waits = backoff.schedule()
    assert waits[:8] == [timedelta(seconds=30 * 2**n) for n in range(7)] + [timedelta(hours=1)]
    assert sum(waits, timedelta(0)) <= timedelta(hours=24)
    assert sum(waits, timedelta(0)) + timedelta(hours=1) > timedelta(hours=24)
    assert len(waits) == 29  # 7 doubling waits (63.5 min), then 22 hourly ones


def test_a_failure_after_the_day_is_over_is_given_up() -> None:
    backoff = Backoff(timedelta(seconds=30), timedelta(hours=1), timedelta(hours=24))
    first = AT
    assert backoff.next_attempt(1, first, first) == first + timedelta(seconds=30)
    assert backoff.next_attempt(20, first, first + timedelta(hours=22)) == first + timedelta(
        hours=23
    )
    assert backoff.next_attempt(21, first, first + timedelta(hours=23, minutes=30)) is None


# -- URLs and addresses ------------------------------------------------------------------------


def test_an_https_url_is_taken_apart_for_delivery() -> None:
    target = parse_url("https://Hooks.Example.com:8443/in?shop=a", development=False)
    assert (target.scheme, target.host, target.port, target.path) == (
        "https",
        "hooks.example.com",
        8443,
        "/in?shop=a",
    )
    assert parse_url("https://hooks.example.com", development=False).port == 443


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/in",  # not https outside development
        "ftp://hooks.example.com/in",
        "https:///in",
        "https://user:pw@hooks.example.com/in",
        "https://hooks.example.com/in#frag",
        "https://hooks.example.com:99999/in",
        "https://hooks.example.com/ in",
        "not a url",
        "",
    ],
)
def test_a_url_that_is_not_a_plain_https_endpoint_is_refused(url: str) -> None:
    with pytest.raises(RefusedUrl):
        parse_url(url, development=False)


def test_development_allows_http() -> None:
    assert parse_url("http://127.0.0.1:9000/hook", development=True).port == 9000
    with pytest.raises(RefusedUrl):
        parse_url("ftp://127.0.0.1/hook", development=True)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # the cloud metadata service
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",  # an IPv4-mapped loopback
        "::",
    ],
)
def test_a_non_public_address_is_refused_outside_development(address: str) -> None:
    with pytest.raises(RefusedUrl):
        check_addresses([address], development=False)
    assert check_addresses([address], development=True) == [address]


def test_one_private_address_among_public_ones_refuses_the_host() -> None:
    assert check_addresses(["93.184.216.34", "2606:2800:220:1::"], development=False)
    with pytest.raises(RefusedUrl):
        check_addresses(["93.184.216.34", "10.0.0.5"], development=False)
    with pytest.raises(RefusedUrl):
        check_addresses([], development=False)


# -- who gets what -----------------------------------------------------------------------------


def _sub(seller: str, *kinds: str) -> Subscription:
    return Subscription(uuid.uuid4(), seller, frozenset(kinds))


def test_an_event_goes_to_its_sellers_endpoints_of_its_kind_only() -> None:
    mine = _sub("shop-a", "order.status_changed", "refund.issued")
    mine_other_kind = _sub("shop-a", "tracking.updated")
    theirs = _sub("shop-b", "order.status_changed")
    endpoints = [mine, mine_other_kind, theirs]
    assert recipients("order.status_changed", "shop-a", endpoints) == [mine.webhook_id]
    assert recipients("order.status_changed", "shop-b", endpoints) == [theirs.webhook_id]
    assert recipients("order.status_changed", "shop-c", endpoints) == []
    assert recipients("order.status_changed", None, endpoints) == []


def test_every_kind_has_events_and_every_event_is_registered() -> None:
    assert set(KIND_OF.values()) == set(KINDS)
    for model in KIND_OF:
        assert REGISTRY.model(model.event_type) is model
