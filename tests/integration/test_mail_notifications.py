"""Email over a real SMTP server (aiosmtpd, started here on 127.0.0.1) and the real
PostgreSQL: the notification consumer writes one pending mail per (event, recipient) in its
inbox transaction, and the sender delivers it in the recipient's language; a server that is
down is retried until it is back; a replayed event, even past the inbox, mails no one twice;
a mail waits for a recipient seen later on another topic, and is dropped for one who gave no
address."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from services.analytics.notifications import outbox
from services.analytics.notifications.handlers import reactions
from services.analytics.notifications.sender import MailSender
from services.analytics.notifications.settings import MailSettings
from shared import embedded
from shared.consumer import ConsumerRunner
from shared.db import Database
from shared.events import Envelope, EventPayload
from shared.events.fulfillment import BusinessAddress, Contact, SellerProfileRegistered
from shared.mailbox import Mailbox, kept, read, text_of
from tests.conftest import eventually, make_settings
from tests.stories import T0, Story

H = timedelta(hours=1)
SELLER = "shop-mail"


def profile(seller_id: str, email: str | None, language: str | None) -> Envelope:
    event: EventPayload = SellerProfileRegistered(
        seller_id=seller_id,
        legal_name="东莞市某某贸易有限公司",
        shop_name="小美家居",
        address=BusinessAddress(
            line1="洪梅镇1号", city="东莞市", region="广东省", postal_code="523000", country="CN"
        ),
        contact=Contact(name="王小美", phone="+86 769 8888 0000"),
        email=email,
        language=language,
    )
    return Envelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        schema_version=event.schema_version,
        occurred_at=T0,
        producer="fulfillment",
        stream_id=f"seller-profile/{seller_id}",
        stream_version=1,
        seller_id=seller_id,
        payload=event.model_dump(mode="json"),
    )


@pytest.fixture
def mail_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="sf-mail-") as folder:
        yield Path(folder)


@pytest.fixture
def smtp_port() -> int:
    return embedded.free_port()


@pytest.fixture
async def notifications(infra, analytics_db, smtp_port):  # type: ignore[no-untyped-def]
    db = Database(analytics_db)
    settings = make_settings(infra, analytics_db)
    runner = ConsumerRunner(db, settings, "g-notifications", [], reactions())
    mail = MailSettings(
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        retry_first_s=0.05,
        retry_max_s=0.2,
        address_wait_s=3600,
    )
    yield db, runner, MailSender(db, mail)
    await db.close()


async def rows(db: Database) -> list[dict]:
    async with db.connect() as conn:
        return await outbox.mails(conn)


async def test_a_new_order_reaches_the_sellers_mailbox_in_its_language(
    notifications, mail_dir, smtp_port
) -> None:
    db, runner, sender = notifications
    story = Story(seller=SELLER).created(T0).paid(T0 + H)
    await runner.apply(profile(SELLER, "xiaomei@example.cn", "zh-CN"))
    for envelope in story.envelopes:
        await runner.apply(envelope)
    mailbox = Mailbox(mail_dir, port=smtp_port).start()
    try:
        assert await sender.send_due() == 1
    finally:
        mailbox.stop()
    (mail,) = kept(mail_dir)
    assert mail.to == "xiaomei@example.cn"
    assert mail.subject == f"新订单 {story.order_id} 待发货"
    message = read(mail.path)
    assert "请在 2026-11-05 01:00 UTC 前交给承运商" in text_of(message)
    assert message["Content-Language"] == "zh"
    (row,) = await rows(db)
    assert (row["status"], row["recipient"], row["template"], row["attempts"]) == (
        "SENT",
        "seller",
        "new_order",
        1,
    )
    assert row["message_id"] == f"<{row['event_id']}.seller@shopflow>" == message["Message-ID"]


async def test_a_mail_waits_out_a_server_that_is_down_and_is_sent_once_it_is_back(
    notifications, mail_dir, smtp_port
) -> None:
    db, runner, sender = notifications
    await runner.apply(profile(SELLER, "xiaomei@example.cn", "en"))
    for envelope in Story(seller=SELLER).created(T0).paid(T0 + H).envelopes:
        await runner.apply(envelope)

    await sender.send_due()  # nothing listens on the port
    (row,) = await rows(db)
    assert row["status"] == "PENDING" and row["attempts"] == 1
    assert "Connection refused" in row["last_error"] or "Errno" in row["last_error"]

    async def tried_again() -> bool:
        await sender.send_due()
        (row,) = await rows(db)
        return bool(row["attempts"] >= 3 and row["status"] == "PENDING")

    await eventually(tried_again, within=10)  # backs off and tries again: never parked

    mailbox = Mailbox(mail_dir, port=smtp_port).start()
    try:

        async def sent() -> bool:
            await sender.send_due()
            return (await rows(db))[0]["status"] == "SENT"

        await eventually(sent, within=10)
    finally:
        mailbox.stop()
    (mail,) = kept(mail_dir)
    assert mail.subject.startswith("New order ")


async def test_a_replayed_event_mails_no_one_twice(notifications, mail_dir, smtp_port, infra):  # type: ignore[no-untyped-def]
    db, runner, sender = notifications
    story = Story(seller=SELLER).created(T0).paid(T0 + H)
    await runner.apply(profile(SELLER, "xiaomei@example.cn", "en"))
    for envelope in story.envelopes:
        await runner.apply(envelope)
    mailbox = Mailbox(mail_dir, port=smtp_port).start()
    try:
        await sender.send_due()
        # The same events again: the inbox lets none through ...
        assert [await runner.apply(e) for e in story.envelopes] == [False] * len(story.envelopes)
        # ... and past the inbox (a consumer that forgot its progress), the unique
        # (event, recipient) of the outbox keeps the mail single.
        forgetful = ConsumerRunner(
            db, make_settings(infra, "postgresql://unused"), "g-forgetful", [], reactions()
        )
        for envelope in story.envelopes:
            await forgetful.apply(envelope)
        assert await sender.send_due() == 0
    finally:
        mailbox.stop()
    assert len(kept(mail_dir)) == 1
    assert [r["status"] for r in await rows(db)] == ["SENT"]


async def test_a_mail_waits_for_a_buyer_seen_later_and_not_for_one_without_an_address(
    notifications, mail_dir, smtp_port
) -> None:
    db, runner, sender = notifications
    early = Story(seller=SELLER).created(T0, buyer_email="ann@example.com", buyer_language="en")
    early.paid(T0 + H).shipped(T0 + 3 * H)
    silent = Story(seller=SELLER).created(T0).paid(T0 + H).shipped(T0 + 3 * H)
    shipped = [e for e in early.envelopes if e.event_type == "ReadyToShip"]
    await runner.apply(shipped[0])  # the fulfillment topic ran ahead of the order topic
    for envelope in silent.envelopes:  # no buyer email given at checkout
        await runner.apply(envelope)
    mailbox = Mailbox(mail_dir, port=smtp_port).start()
    try:
        await sender.send_due()
        found = {(r["order_id"], r["recipient"]): r for r in await rows(db)}
        waiting = found[early.order_id, "buyer"]
        assert (waiting["status"], waiting["last_error"]) == ("PENDING", "recipient not known yet")
        # The seller has no profile yet: its new-order mail waits too.
        assert found[silent.order_id, "seller"]["status"] == "PENDING"
        # The buyer gave no address at checkout: dropped at once.
        assert found[silent.order_id, "buyer"]["status"] == "NO_ADDRESS"

        for envelope in early.envelopes:
            await runner.apply(envelope)

        async def delivered() -> list:
            await sender.send_due()
            return [m for m in kept(mail_dir) if m.to == "ann@example.com"]

        (mail,) = await eventually(delivered, within=10)
    finally:
        mailbox.stop()
    assert mail.subject == f"Your order {early.order_id} is on its way"
    assert "Tracking number: SPX1" in text_of(read(mail.path))
