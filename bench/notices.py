"""What the simulated marketplace's people and systems hear, checked against the record: the
mails the analytics service sends (a real SMTP server, aiosmtpd, keeps them) and the webhook
deliveries each seller's endpoint (a receiver on 127.0.0.1) gets.

The record says, per order, what must have been mailed (the seller: the new order and each
after-sales request; the buyer: each package shipped and delivered, each after-sales decision)
and delivered to the seller's endpoint (each package shipped, delivered or lost, each refund
and after-sales request, and status changes in an unbroken chain ending at the order's final
status). Nothing of another seller's, nothing twice, every delivery signed with the seller's
secret. The simulated clock jumps days, so here nothing gives up on a mail or a delivery."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request, Response

from services.analytics.notifications.settings import MailSettings
from services.analytics.notifications.templates import language_of
from services.analytics.webhooks.rules import EVENT_ID_HEADER, KINDS
from services.analytics.webhooks.settings import WebhookSettings
from shared import embedded
from shared.mailbox import Mailbox, read
from shared.serve import BackgroundServer, serve_in_background
from shared.signatures import HEADER, TIMESTAMP_HEADER, verify

if TYPE_CHECKING:
    from bench.simulation import Truth, World

# Who reads mail in which language: the Chinese seller and half the buyers in Chinese.
SELLER_MAIL = {
    "sim-shop-pickup": ("orders@pickup-shop.example.cn", "zh-CN"),
    "sim-shop-dropoff": ("orders@dropoff-shop.example.com", "en"),
}
NEVER = 24 * 365 * 10  # hours: the clock jumps days between steps; nothing may give up


def mail_profile(seller_id: str) -> dict[str, str]:
    """Where a simulated seller's profile says its mail goes, in which language."""
    address, language = SELLER_MAIL[seller_id]
    return {"email": address, "language": language}


def buyer_mail(buyer_id: str) -> tuple[str, str]:
    """A buyer's address and language (`sim-buyer-<n>`: even n read Chinese)."""
    n = int(buyer_id.rsplit("-", 1)[1])
    return f"{buyer_id}@example.com", "zh-CN" if n % 2 == 0 else "en"


MAIL = MailSettings(
    smtp_host="127.0.0.1",
    send_interval_s=0.1,
    give_up_after_h=NEVER,
    address_wait_s=NEVER * 3600,
)
HOOKS = WebhookSettings(interval_s=0.1, retry_first_s=1, retry_longest_s=1, retry_for_hours=NEVER)


@dataclass
class Receiver:
    """Each seller's webhook endpoint (`/hooks/<seller>`): every request kept as it came."""

    received: dict[str, list[tuple[dict[str, str], bytes]]] = field(default_factory=dict)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hooks/{seller_id}")
        async def hook(seller_id: str, request: Request) -> Response:
            self.received.setdefault(seller_id, []).append(
                (dict(request.headers), await request.body())
            )
            return Response(status_code=204)

        return app


@dataclass
class Listeners:
    """The SMTP server and the webhook receiver a simulated day reports to."""

    mail_dir: Path
    mailbox: Mailbox
    receiver: Receiver
    server: BackgroundServer
    secrets: dict[str, str] = field(default_factory=dict)  # seller -> its endpoint's secret

    @property
    def mail_settings(self) -> MailSettings:
        return MAIL.model_copy(update={"smtp_port": self.mailbox.port})

    async def stop(self) -> None:
        await self.server.stop()
        self.mailbox.stop()
        shutil.rmtree(self.mail_dir, ignore_errors=True)


async def start_listeners() -> Listeners:
    mail_dir = Path(tempfile.mkdtemp(prefix="sf-sim-mail-"))
    mailbox = Mailbox(mail_dir, port=embedded.free_port()).start()
    receiver = Receiver()
    server = await serve_in_background(receiver.app())
    return Listeners(mail_dir, mailbox, receiver, server)


async def register_webhooks(w: World, listeners: Listeners) -> None:
    """Each seller registers one endpoint for every kind (the secret is shown once)."""
    for seller_id in SELLER_MAIL:
        hook = await w.call(
            "analytics",
            "POST",
            "/v1/webhooks",
            w.seller(seller_id),
            {"url": f"{listeners.server.base_url}/hooks/{seller_id}", "events": list(KINDS)},
            expect=(201,),
        )
        listeners.secrets[seller_id] = hook["secret"]


# --- what the record says ------------------------------------------------------------------


def expected_mails(truths: list[Truth]) -> Counter[tuple[str, str, str]]:
    """(address, language, template) -> how many."""
    mails: Counter[tuple[str, str, str]] = Counter()
    for t in truths:
        address, language = SELLER_MAIL[t.seller_id]
        seller = (address, language_of(language))
        address, language = buyer_mail(t.buyer_id)
        buyer = (address, language_of(language))
        if t.placed_at is not None:
            mails[(*seller, "new_order")] += 1
        if t.shipped:
            mails[(*buyer, "shipped")] += len(t.package_ids) + t.replacements
        if t.delivered:
            mails[(*buyer, "delivered")] += len(t.package_ids)
        mails[(*seller, "aftersales_requested")] += t.requests
        mails[(*buyer, "aftersales_approved")] += t.requests
    return +mails


def kept_mails(directory: Path) -> Counter[tuple[str, str, str]]:
    kept: Counter[tuple[str, str, str]] = Counter()
    for path in directory.glob("*.eml"):
        message = read(path)
        language = str(message["Content-Language"] or "")
        kept[(str(message["To"]), language, str(message["X-Shopflow-Template"]))] += 1
    return kept


@dataclass(frozen=True)
class OrderHooks:
    """What one order's deliveries to its seller's endpoint add up to."""

    shipped: int = 0
    delivered: int = 0
    lost: int = 0
    requests: int = 0
    refunded: int = 0
    final_status: str | None = None


def expected_hooks(truths: list[Truth]) -> dict[str, dict[str, OrderHooks]]:
    """seller -> order -> what its endpoint must have been told."""
    out: dict[str, dict[str, OrderHooks]] = {seller: {} for seller in SELLER_MAIL}
    for t in truths:
        packages = len(t.package_ids)
        out[t.seller_id][t.order_id] = OrderHooks(
            shipped=packages + t.replacements if t.shipped else 0,
            delivered=packages if t.delivered else 0,
            lost=packages if t.fate == "LOST" else 0,
            requests=t.requests,
            refunded=t.refunded,
            final_status=t.final_status,
        )
    return out


def received_hooks(listeners: Listeners, seller_id: str) -> tuple[dict[str, OrderHooks], list[str]]:
    """The orders' deliveries to `seller_id`'s endpoint, and what is wrong with them (unsigned,
    twice, a broken chain of status changes)."""
    secret = listeners.secrets[seller_id]
    problems: list[str] = []
    seen: set[str] = set()
    counts: dict[str, Counter[str]] = {}
    refunded: Counter[str] = Counter()
    status: dict[str, str] = {}
    for headers, raw in listeners.receiver.received.get(seller_id, []):
        timestamp = headers.get(TIMESTAMP_HEADER.lower(), "0")
        signed_at = datetime.fromtimestamp(int(timestamp), UTC) if timestamp.isdigit() else None
        if signed_at is None or not verify(
            secret, raw, timestamp, headers.get(HEADER.lower()), now=signed_at, tolerance_s=0
        ):
            problems.append(f"{seller_id}: a delivery not signed with its secret")
            continue
        event_id = headers.get(EVENT_ID_HEADER.lower(), "")
        if event_id in seen:
            problems.append(f"{seller_id}: event {event_id} delivered twice")
            continue
        seen.add(event_id)
        body: dict[str, Any] = json.loads(raw)
        order_id, data = str(body["order_id"]), body["data"]
        counts.setdefault(order_id, Counter())[body["event_type"]] += 1
        if body["kind"] == "refund.issued":
            refunded[order_id] += data["amount"]["amount"]
        if body["kind"] == "order.status_changed":
            if data["from_status"] != status.get(order_id):
                problems.append(
                    f"{seller_id}: {order_id} went {data['from_status']} -> {data['to_status']} "
                    f"after {status.get(order_id)} (out of order or missing)"
                )
            status[order_id] = data["to_status"]
    orders = {
        order_id: OrderHooks(
            shipped=c["ReadyToShip"],
            delivered=c["Delivered"],
            lost=c["PackageLost"],
            requests=c["AftersalesRequested"],
            refunded=refunded[order_id],
            final_status=status.get(order_id),
        )
        for order_id, c in counts.items()
    }
    return orders, problems


def differences(listeners: Listeners, truths: list[Truth]) -> list[str]:
    """Every mail and delivery that is not what the record says, empty when all match."""
    found = []
    want, got = expected_mails(truths), kept_mails(listeners.mail_dir)
    for key in sorted(want.keys() | got.keys()):
        if want[key] != got[key]:
            address, language, template = key
            found.append(
                f"mail {template} to {address} ({language}): {got[key]} sent, {want[key]} expected"
            )
    for seller_id, expected in expected_hooks(truths).items():
        received, problems = received_hooks(listeners, seller_id)
        found += problems
        for order_id in sorted(received.keys() - expected.keys()):
            found.append(f"{seller_id}'s endpoint got events of {order_id}, not its order")
        for order_id, hooks in expected.items():
            if received.get(order_id, OrderHooks()) != hooks:
                found.append(
                    f"{seller_id}'s endpoint, order {order_id}: got "
                    f"{received.get(order_id)}, expected {hooks}"
                )
    return found


def summary(listeners: Listeners) -> str:
    mails = sum(kept_mails(listeners.mail_dir).values())
    hooks = sum(len(r) for r in listeners.receiver.received.values())
    return f"{mails} mails sent, {hooks} webhook deliveries received"
