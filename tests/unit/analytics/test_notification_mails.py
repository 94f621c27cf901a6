"""Which events mail whom, and the mails' words in the recipient's language: the seller is
told of a new order to ship (with the dispatch deadline), a cancellation request and an
after-sales request (with the time to answer by); the buyer of the shipment (tracking and
estimated delivery), the delivery and each after-sales decision. Other events mail no one."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest

from services.analytics.notifications.handlers import reactions
from services.analytics.notifications.mails import MAILS, Mail, money_text
from services.analytics.notifications.templates import TEMPLATES, language_of, render
from shared.consumer import reactions_by_type
from shared.events import Envelope
from shared.events.aftersales import (
    AftersalesApproved,
    AftersalesRejected,
    AftersalesRequested,
    RequestedItem,
)
from shared.events.order import CancellationRequested
from shared.events.webhooks import WebhookEndpointDisabled
from shared.money import Money
from tests.stories import T0, Story

H = timedelta(hours=1)


def mails_of(envelope: Envelope) -> list[Mail]:
    event = envelope.decode()
    rule = MAILS.get(type(event))
    return rule(event, envelope) if rule else []


def journey() -> Story:
    return (
        Story(seller="shop-a")
        .created(T0, buyer_email="ann@example.com", buyer_language="en")
        .paid(T0 + H)
        .shipped(T0 + 3 * H, estimate=date(2026, 11, 9))
        .delivered(T0 + 40 * H)
    )


def test_a_journey_mails_the_seller_its_new_order_and_the_buyer_shipment_and_delivery() -> None:
    story = journey()
    sent = [(e.event_type, m.recipient, m.template) for e in story.envelopes for m in mails_of(e)]
    assert sent == [
        ("OrderPlaced", "seller", "new_order"),
        ("ReadyToShip", "buyer", "shipped"),
        ("Delivered", "buyer", "delivered"),
    ]


def test_the_new_order_mail_names_the_items_and_the_dispatch_deadline() -> None:
    placed = next(e for e in journey().envelopes if e.event_type == "OrderPlaced")
    (mail,) = mails_of(placed)
    assert mail.seller_id == "shop-a"
    assert mail.params["items"] == ["2 x A (A)"]
    assert mail.params["dispatch_deadline"] == "2026-11-05 01:00 UTC"  # paid 01:00 + 72 h
    assert mail.params["total"] == "10.00 USD"


def test_the_shipment_mail_carries_tracking_and_the_estimated_delivery() -> None:
    ready = next(e for e in journey().envelopes if e.event_type == "ReadyToShip")
    (mail,) = mails_of(ready)
    assert (mail.recipient, mail.order_id) == ("buyer", ready.order_id)
    assert mail.params["carrier"] == "SPX"
    assert mail.params["tracking_number"] == "SPX1"
    assert mail.params["estimated_delivery"] == "2026-11-09"


def test_a_self_delivered_order_mails_without_a_tracking_number() -> None:
    story = (
        Story(seller="shop-a")
        .created(T0, buyer_email="ann@example.com", buyer_language="en")
        .paid(T0 + H)
        .shipped(T0 + 3 * H, self_delivery=True)
        .self_delivered(T0 + 8 * H, proof="photo:door.jpg")
    )
    ready, delivered = (
        mails_of(next(e for e in story.envelopes if e.event_type == kind))[0]
        for kind in ("ReadyToShip", "Delivered")
    )
    assert (ready.params["carrier"], ready.params["tracking_number"]) == ("SELLER", "-")
    assert delivered.params["tracking_number"] == str(story.package_id)  # the parcel it names


def _envelope(story: Story, event) -> Envelope:  # type: ignore[no-untyped-def]
    story.add(f"aftersales/{story.order_id}", event, T0)
    return story.envelopes[-1]


def test_requests_waiting_for_the_seller_mail_it_with_their_deadline() -> None:
    story = Story(seller="shop-a")
    cancel = _envelope(
        story,
        CancellationRequested(
            order_id=story.order_id,
            requested_by="b1",
            reason_code="CHANGED_MIND",
            requested_at=T0,
            auto_approve_at=T0 + 48 * H,
        ),
    )
    request_id = uuid.uuid4()
    aftersales = _envelope(
        story,
        AftersalesRequested(
            order_id=story.order_id,
            request_id=request_id,
            buyer_id="b1",
            type="REFUND_ONLY",
            items=[RequestedItem(sku="A", quantity=1)],
            reason_code="DAMAGED",
            requested_at=T0,
            answer_due=T0 + 48 * H,
            refund_amount=Money(amount=90000, currency="VND"),
        ),
    )
    (c,) = mails_of(cancel)
    (a,) = mails_of(aftersales)
    assert (c.recipient, c.template, c.seller_id) == ("seller", "cancellation_requested", "shop-a")
    assert c.params["answer_by"] == "2026-11-04 00:00 UTC"
    assert (a.recipient, a.template) == ("seller", "aftersales_requested")
    assert a.params["answer_by"] == "2026-11-04 00:00 UTC"
    assert a.params["refund"] == "90000 VND"  # no minor units in dong


def test_each_after_sales_decision_mails_the_buyer() -> None:
    story = Story()
    request_id = uuid.uuid4()
    approved = _envelope(
        story,
        AftersalesApproved(
            order_id=story.order_id, request_id=request_id, auto=True, by="x", at=T0
        ),
    )
    rejected = _envelope(
        story,
        AftersalesRejected(
            order_id=story.order_id, request_id=request_id, reason="used", by="s", at=T0
        ),
    )
    assert [(m.recipient, m.template) for m in mails_of(approved)] == [
        ("buyer", "aftersales_approved")
    ]
    (mail,) = mails_of(rejected)
    assert (mail.recipient, mail.template, mail.params["reason"]) == (
        "buyer",
        "aftersales_rejected",
        "used",
    )


def test_events_nobody_waits_for_mail_no_one() -> None:
    story = Story().created(T0).paid(T0 + H).cancelled(T0 + 2 * H, seller_fault=False)
    quiet = [e.event_type for e in story.envelopes if not mails_of(e)]
    assert "OrderCreated" in quiet and "OrderCancelled" in quiet and "OrderPaid" in quiet


def test_every_reaction_is_keyed_by_a_registered_event() -> None:
    assert set(reactions_by_type(reactions())) >= {
        "OrderPlaced",
        "OrderCreated",
        "SellerProfileRegistered",
        "SellerProfileChanged",
    }


@pytest.mark.parametrize(
    ("tag", "language"),
    [("zh", "zh"), ("zh-CN", "zh"), ("ZH-hant", "zh"), ("en-GB", "en"), ("vi", "en"), (None, "en")],
)
def test_a_language_tag_picks_chinese_or_else_english(tag: str | None, language: str) -> None:
    assert language_of(tag) == language


def _params(template: str) -> dict[str, object]:
    names = set(
        re.findall(r"{(\w+)}", TEMPLATES["en"][template].subject + TEMPLATES["en"][template].body)
    )
    return {name: (["1 x Lamp (L1)"] if name == "items" else f"<{name}>") for name in names}


@pytest.mark.parametrize("template", sorted(TEMPLATES["en"]))
def test_every_template_exists_in_chinese_and_english_and_fills_every_field(template: str) -> None:
    assert set(TEMPLATES["zh"]) == set(TEMPLATES["en"])
    params = _params(template)
    for language in ("zh", "en"):
        subject, body = render(template, language, params)
        assert "{" not in subject + body and "\n" not in subject
        assert all(f"<{name}>" in subject + body for name in params if name != "items")
    zh_subject, zh_body = render(template, "zh-CN", params)
    assert re.search(r"[\u4e00-\u9fff]", zh_subject + zh_body)
    assert render(template, "fr", params) == render(template, "en", params)


def test_the_new_order_mail_in_chinese() -> None:
    subject, body = render(
        "new_order",
        "zh-CN",
        {
            "order_id": "o-1",
            "items": ["2 x 台灯 (L1)"],
            "total": "45.00 CNY",
            "dispatch_deadline": "2026-11-05 01:00 UTC",
        },
    )
    assert subject == "新订单 o-1 待发货"
    assert "  - 2 x 台灯 (L1)\n" in body
    assert "请在 2026-11-05 01:00 UTC 前交给承运商" in body


def test_money_reads_with_its_decimals() -> None:
    assert money_text(Money(amount=1990, currency="CNY")) == "19.90 CNY"
    assert money_text(Money(amount=90000, currency="VND")) == "90000 VND"


def test_a_disabled_webhook_endpoint_mails_its_seller() -> None:
    event = WebhookEndpointDisabled(
        webhook_id=uuid.UUID(int=7),
        seller_id="shop-1",
        url="https://erp.example.com/hooks",
        reason="failing for 24 h",
        disabled_at=T0,
    )
    [mail] = MAILS[WebhookEndpointDisabled](event, Story().created(T0).envelopes[0])
    assert (mail.recipient, mail.template, mail.order_id, mail.seller_id) == (
        "seller",
        "webhook_disabled",
        None,
        "shop-1",
    )
    subject, body = render(mail.template, "zh-CN", mail.params)
    assert "https://erp.example.com/hooks" in subject and "failing for 24 h" in body
