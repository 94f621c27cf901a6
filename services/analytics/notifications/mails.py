"""Which events mail whom: pure functions, keyed by event class, from an event to the mails
it causes. A mail names its recipient by role (the order's seller or buyer), not by
address: addresses and languages are looked up when it is sent (`outbox.py`), so an event
seen before the profile or the order that gives the address still reaches it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from shared.events import Envelope, EventPayload
from shared.events.aftersales import AftersalesApproved, AftersalesRejected, AftersalesRequested
from shared.events.fulfillment import Delivered, ReadyToShip
from shared.events.order import CancellationRequested, OrderPlaced
from shared.events.webhooks import WebhookEndpointDisabled
from shared.money import Money

Recipient = Literal["seller", "buyer"]


@dataclass(frozen=True)
class Mail:
    """One mail to write: to the seller or the buyer of `order_id` (a seller mail may name
    the seller directly), with the template and the values it shows."""

    recipient: Recipient
    template: str
    order_id: uuid.UUID | None
    seller_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _day(day: date | None) -> str | None:
    return day.isoformat() if day else None


# ISO 4217 currencies without minor units (the rest of ours have two decimals).
_WHOLE = {"VND", "JPY", "KRW", "IDR", "CLP", "ISK", "UGX", "XAF", "XOF"}


def money_text(money: Money) -> str:
    """`90000 VND`, `19.90 CNY`: the amount as people read it."""
    if money.currency in _WHOLE:
        return f"{money.amount} {money.currency}"
    units, cents = divmod(abs(money.amount), 100)
    sign = "-" if money.amount < 0 else ""
    return f"{sign}{units}.{cents:02d} {money.currency}"


def new_order(event: OrderPlaced, envelope: Envelope) -> list[Mail]:
    lines = [f"{item.quantity} x {item.title} ({item.sku})" for item in event.items]
    return [
        Mail(
            "seller",
            "new_order",
            event.order_id,
            event.seller_id,
            {
                "order_id": str(event.order_id),
                "items": lines,
                "total": money_text(event.total),
                "dispatch_deadline": _when(event.dispatch_deadline),
            },
        )
    ]


def cancellation_requested(event: CancellationRequested, envelope: Envelope) -> list[Mail]:
    return [
        Mail(
            "seller",
            "cancellation_requested",
            event.order_id,
            envelope.seller_id,
            {
                "order_id": str(event.order_id),
                "reason_code": event.reason_code,
                "note": event.note or "-",
                "answer_by": _when(event.auto_approve_at),
            },
        )
    ]


def aftersales_requested(event: AftersalesRequested, envelope: Envelope) -> list[Mail]:
    return [
        Mail(
            "seller",
            "aftersales_requested",
            event.order_id,
            envelope.seller_id,
            {
                "order_id": str(event.order_id),
                "request_id": str(event.request_id),
                "type": event.type,
                "reason_code": event.reason_code,
                "refund": money_text(event.refund_amount),
                "answer_by": _when(event.answer_due),
            },
        )
    ]


def shipped(event: ReadyToShip, envelope: Envelope) -> list[Mail]:
    return [
        Mail(
            "buyer",
            "shipped",
            event.order_id,
            event.seller_id,
            {
                "order_id": str(event.order_id),
                "carrier": event.carrier,
                "tracking_number": event.tracking_number or "-",  # none: self-delivered
                "estimated_delivery": _day(event.estimated_delivery_date) or "-",
            },
        )
    ]


def delivered(event: Delivered, envelope: Envelope) -> list[Mail]:
    return [
        Mail(
            "buyer",
            "delivered",
            event.order_id,
            envelope.seller_id,
            {
                "order_id": str(event.order_id),
                "tracking_number": event.tracking_number or str(event.package_id),
                "delivered_at": _when(event.occurred_at),
            },
        )
    ]


def aftersales_approved(event: AftersalesApproved, envelope: Envelope) -> list[Mail]:
    return [
        Mail(
            "buyer",
            "aftersales_approved",
            event.order_id,
            envelope.seller_id,
            {"order_id": str(event.order_id), "request_id": str(event.request_id)},
        )
    ]


def aftersales_rejected(event: AftersalesRejected, envelope: Envelope) -> list[Mail]:
    return [
        Mail(
            "buyer",
            "aftersales_rejected",
            event.order_id,
            envelope.seller_id,
            {
                "order_id": str(event.order_id),
                "request_id": str(event.request_id),
                "reason": event.reason,
            },
        )
    ]


def endpoint_disabled(event: WebhookEndpointDisabled, envelope: Envelope) -> list[Mail]:
    """A seller's webhook endpoint that kept failing is off: the seller is told, by id."""
    return [
        Mail(
            "seller",
            "webhook_disabled",
            None,
            event.seller_id,
            {
                "url": event.url,
                "webhook_id": str(event.webhook_id),
                "reason": event.reason,
                "disabled_at": _when(event.disabled_at),
            },
        )
    ]


MailRule = Callable[[Any, Envelope], list[Mail]]

MAILS: dict[type[EventPayload], MailRule] = {
    OrderPlaced: new_order,
    CancellationRequested: cancellation_requested,
    AftersalesRequested: aftersales_requested,
    ReadyToShip: shipped,
    Delivered: delivered,
    AftersalesApproved: aftersales_approved,
    AftersalesRejected: aftersales_rejected,
    WebhookEndpointDisabled: endpoint_disabled,
}
