"""The notification consumer's reactions, keyed by event class: the events that mail
someone write their mails into the outbox (`mails.MAILS`), and the events that say where
people get mail keep the addresses (a seller's profile, an order's checkout)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.analytics.notifications import outbox
from services.analytics.notifications.mails import MAILS, MailRule
from shared.consumer import Reaction
from shared.events import Envelope, EventPayload
from shared.events.fulfillment import SellerProfileChanged, SellerProfileRegistered
from shared.events.order import OrderCreated


async def seller_profile(
    conn: AsyncConnection, event: SellerProfileRegistered | SellerProfileChanged, _: Envelope
) -> None:
    await outbox.remember_seller(conn, event.seller_id, event.email, event.language)


async def order_created(conn: AsyncConnection, event: OrderCreated, _: Envelope) -> None:
    await outbox.remember_order(
        conn,
        event.order_id,
        event.seller_id,
        event.buyer_id,
        event.buyer_email,
        event.buyer_language,
    )


def _writes_mails(rule: MailRule) -> Reaction:
    async def write(conn: AsyncConnection, event: Any, envelope: Envelope) -> None:
        await outbox.enqueue(conn, envelope.event_id, rule(event, envelope))

    return write


def reactions() -> dict[type[EventPayload], Reaction]:
    found: dict[type[EventPayload], Reaction] = {
        cls: _writes_mails(rule) for cls, rule in MAILS.items()
    }
    found[SellerProfileRegistered] = seller_profile
    found[SellerProfileChanged] = seller_profile
    found[OrderCreated] = order_created
    return found
