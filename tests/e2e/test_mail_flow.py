"""Email over HTTP: an order's journey through the running order, fulfillment and analytics
services, with a real SMTP server (aiosmtpd) on 127.0.0.1. The seller, whose profile gives
an email and Chinese, gets the new order to ship in Chinese; the buyer, who gave an email
and English at checkout, gets the shipment with its tracking number."""

from __future__ import annotations

import functools
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.analytics.app import create_analytics_app
from services.analytics.notifications.settings import MailSettings
from services.fulfillment.app import create_fulfillment_app
from services.order.app import create_order_app
from shared import embedded
from shared.clock import SimulatedClock
from shared.mailbox import Mailbox, kept, read, text_of
from tests.conftest import eventually
from tests.e2e.journeys import auth, keep_profile, lamp_order, lamp_shop, planned_packages

SELLER_ID = "shop-mail-e2e"


async def test_the_seller_is_mailed_the_new_order_and_the_buyer_the_shipment(
    order_db, fulfillment_db, analytics_db, serve_services
) -> None:
    port = embedded.free_port()
    folder = Path(tempfile.mkdtemp(prefix="sf-mail-"))
    mailbox = Mailbox(folder, port=port).start()
    mail = MailSettings(smtp_host="127.0.0.1", smtp_port=port, send_interval_s=0.1)
    clock = SimulatedClock(start=datetime(2026, 11, 2, 9, tzinfo=UTC))
    try:
        (orders, fulfillment, _), settings = await serve_services(
            clock,
            (create_order_app, order_db),
            (create_fulfillment_app, fulfillment_db),
            (functools.partial(create_analytics_app, mail_settings=mail), analytics_db),
        )
        secret = settings[0].effective_jwt_secret
        seller = auth(secret, "seller", "staff-1", seller_id=SELLER_ID)
        buyer = auth(secret, "buyer", "buyer-1")
        await keep_profile(fulfillment, seller, email="xiaomei@example.cn", language="zh-CN")
        await lamp_shop(orders, fulfillment, seller)
        order = await lamp_order(
            orders, buyer, SELLER_ID, buyer_email="lan@example.com", buyer_language="en"
        )
        clock.advance(timedelta(hours=1, seconds=1))  # the remorse window ends: placed

        def mails_to(address: str) -> list:
            return [m for m in kept(folder) if m.to == address]

        (new_order,) = await eventually(lambda: mails_to("xiaomei@example.cn"), within=60)
        assert new_order.subject == f"新订单 {order['order_id']} 待发货"
        assert "1 x 台灯 (LAMP)" in text_of(read(new_order.path))

        plan = await planned_packages(fulfillment, buyer, order["order_id"])
        (package,) = plan["packages"]
        r = await fulfillment.post(
            f"/v1/packages/{package['package_id']}/ship",
            headers=seller,
            json={"handover": "PICKUP"},
        )
        assert r.status_code == 200, r.text
        tracking = r.json()["tracking_number"]

        (shipped,) = await eventually(lambda: mails_to("lan@example.com"), within=60)
        assert shipped.subject == f"Your order {order['order_id']} is on its way"
        assert f"Tracking number: {tracking}" in text_of(read(shipped.path))
        assert "Estimated delivery: by 20" in text_of(read(shipped.path))
        assert len(mails_to("xiaomei@example.cn")) == 1  # nothing twice
    finally:
        mailbox.stop()
