"""The one-line summary of each event on an order view's timeline."""

from __future__ import annotations

from datetime import datetime

from pydantic_core import to_jsonable_python

from shared.events import EventPayload
from shared.events.aftersales import (
    AftersalesApproved,
    AftersalesClosed,
    AftersalesRejected,
    AftersalesRequested,
    RefundIssued,
    ReviewPosted,
)
from shared.events.fulfillment import (
    STATUS_BY_EVENT,
    PackagesPlanned,
    ReadyToShip,
    ReplacementPlanned,
    TrackingEvent,
)
from shared.events.order import (
    AftersalesCaseRecorded,
    CancellationRejected,
    CancellationRequested,
    DispatchDeadlineMoved,
    OrderAwaitingStock,
    OrderCancelled,
    OrderCompleted,
    OrderCreated,
    OrderPaid,
    OrderPlaced,
    OrderPutOnHold,
    OrderRefunded,
    OrderReviewed,
    OrderStatusChanged,
    OrderStockReserved,
    PackageStatusRecorded,
)
from shared.events.pickup import (
    ArrivedAtHub,
    DroppedOff,
    LabelDefectRecorded,
    PickedUp,
    RelabelFeeCharged,
)
from shared.money import Money


def summary(event_type: str, event: EventPayload | None) -> str:
    """What happened, in a few words; an event without its own summary (or of a type this
    service does not know, `event` None) is named in words: `PickupOverdue` "pickup overdue"."""
    match event:  # each service's events together, its most frequent first
        case OrderStatusChanged():
            return f"status {event.from_status} -> {event.to_status}"
        case OrderCreated():
            return f"order created: {len(event.items)} line(s), total {_money(event.total)}"
        case OrderPaid():
            return f"paid {_money(event.amount)}"
        case OrderPutOnHold() if event.review_passed:
            return "on hold"
        case OrderPutOnHold():
            return f"on hold for review ({len(event.review_failures)} finding(s))"
        case OrderReviewed():
            return f"operator review: {event.decision}"
        case OrderPlaced():
            return f"placed; dispatch by {_json_time(event.dispatch_deadline)}"
        case OrderCancelled():
            fault = ", seller's fault" if event.seller_fault else ""
            return f"cancelled by {event.cancelled_by} ({event.reason_code}){fault}"
        case OrderCompleted():
            return "completed" + (" automatically" if event.auto else " by the buyer")
        case CancellationRequested():
            return f"buyer asks to cancel ({event.reason_code})"
        case CancellationRejected():
            return f"cancellation refused: {event.reason}"
        case OrderAwaitingStock():
            short = ", ".join(f"{s.sku} {s.available}/{s.requested}" for s in event.shortfalls)
            return f"awaiting stock ({short}); cancelled {_json_time(event.cancel_at)} if short"
        case OrderStockReserved():
            return "stock reserved: no longer awaiting stock"
        case DispatchDeadlineMoved():
            return f"dispatch deadline +{event.hours} h ({event.reason})"
        case PackageStatusRecorded():
            return f"package {str(event.package_id)[:8]} {event.package_status}"
        case AftersalesCaseRecorded():
            return "after-sales case " + ("opened" if event.open else "closed")
        case OrderRefunded():
            in_full = " (in full)" if event.fully_refunded else ""
            return f"refunded {_money(event.amount)}{in_full}"
        case TrackingEvent():
            by = event.tracking_number or "by the seller"
            return f"carrier: {STATUS_BY_EVENT[type(event)]} ({by})"
        case ReadyToShip():
            return (
                f"package {str(event.package_id)[:8]} ready to ship, "
                f"{event.carrier} {event.tracking_number or '-'} ({event.handover})"
            )
        case PackagesPlanned():
            return f"{len(event.packages)} package(s) planned"
        case ReplacementPlanned():
            return "replacement package planned for an exchange"
        case PickedUp():
            return f"collected by {event.provider_code} driver {event.driver_id}"
        case DroppedOff():
            return f"dropped off at {event.provider_code}"
        case ArrivedAtHub():
            return f"arrived at hub {event.hub_id}"
        case LabelDefectRecorded():
            return f"label defect at hub {event.hub_id} ({event.reason_code})"
        case RelabelFeeCharged():
            return f"relabel fee {_money(event.fee)} charged to the seller"
        case AftersalesRequested():
            refund = _money(event.refund_amount)
            return f"{event.type} requested ({event.reason_code}), refund {refund}"
        case AftersalesApproved():
            return "request approved" + (" automatically" if event.auto else "")
        case AftersalesRejected():
            return f"request rejected: {event.reason}"
        case RefundIssued():
            return f"refund issued: {_money(event.amount)}"
        case AftersalesClosed():
            return f"request closed: {event.outcome}"
        case ReviewPosted():
            return f"review: {event.rating} star(s)"
    return "".join(f" {c.lower()}" if c.isupper() else c for c in event_type).strip()


def _money(money: Money) -> str:
    return f"{money.amount} {money.currency}"


def _json_time(at: datetime) -> str:
    """As the event's JSON has it (`2026-11-05T10:00:00Z`)."""
    text: str = to_jsonable_python(at)
    return text
