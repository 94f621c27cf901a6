"""The order view document, JSON-ready, as the order-views API returns it: the view folded
from the events that apply, and the timeline of every applied event with its summary."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from pydantic_core import to_jsonable_python

from services.analytics.domain.arrival import applicable, decode
from services.analytics.domain.order_view import Case, OrderView, Package, fold
from services.analytics.domain.summary import summary
from shared.events import Envelope


def view_document(order_id: uuid.UUID, envelopes: Iterable[Envelope]) -> dict[str, Any]:
    """The order view document from the events known for the order, in any order."""
    applied, held = applicable(envelopes)
    events = [decode(envelope) for envelope in applied]
    view = fold(OrderView(order_id), (event for event in events if event is not None))
    timeline = [
        {
            "at": envelope.occurred_at.isoformat(),
            "event_type": envelope.event_type,
            "summary": summary(envelope.event_type, event),
            "stream_id": envelope.stream_id,
            "version": envelope.stream_version,
        }
        for envelope, event in zip(applied, events, strict=True)
    ]
    timeline.sort(key=lambda t: (t["at"], t["stream_id"], t["version"]))
    return {**document(view), "timeline": timeline, "events_applied": len(applied), "held": held}


def document(view: OrderView) -> dict[str, Any]:
    """The view without its timeline (what the seller's metrics are counted from)."""
    cancellation = view.cancellation
    doc = {
        "order_id": view.order_id,
        "seller_id": view.seller_id,
        "buyer_id": view.buyer_id,
        "status": view.status,
        "items": [
            {"sku": i.sku, "title": i.title, "quantity": i.quantity, "unit_price": i.unit_price}
            for i in view.items
        ],
        "subtotal": view.subtotal,
        "shipping_fee": view.shipping_fee,
        "total": view.total,
        "shipping_address": view.shipping_address,
        "created_at": view.created_at,
        "paid_at": view.paid_at,
        "placed_at": view.placed_at,
        "dispatch_deadline": view.dispatch_deadline,
        "deliver_by": view.deliver_by,
        "delivered_at": view.delivered_at,
        "completed_at": view.completed_at,
        "cancellation": cancellation._asdict() if cancellation else None,
        "refunded": [refund._asdict() for refund in view.refunded],
        "review": view.review._asdict() if view.review else None,
        "packages": [_package(view.packages[k]) for k in sorted(view.packages, key=str)],
        "aftersales": [_case(view.cases[k]) for k in sorted(view.cases, key=str)],
        "open_aftersales_cases": sum(1 for case in view.cases.values() if case.open),
    }
    json_ready: dict[str, Any] = to_jsonable_python(doc)
    return json_ready


def _package(package: Package) -> dict[str, Any]:
    pickup = package.pickup
    doc: dict[str, Any] = {
        "package_id": package.package_id,
        "status": package.status,
        "items": package.items,
        "warehouse_id": package.warehouse_id,
        "handover": package.handover,
        "carrier": package.carrier,
        "tracking_number": package.tracking_number,
        "tracking_valid": package.tracking_valid,
        "ready_at": package.ready_at,
        "late": package.late,
        "replacement_for": package.replacement_for,
        "pickup": {
            "status": pickup.status,
            "task_id": pickup.task_id,
            "collected_at": pickup.collected_at,
            "overdue": pickup.overdue,
        },
        "tracking": [t._asdict() for t in package.tracking],
        "documents": None,
    }
    # what only some packages have is left out of the others
    if pickup.provider_code is not None:
        doc["pickup"] |= {"provider_code": pickup.provider_code, "run_date": pickup.run_date}
    if pickup.hub_id is not None:
        doc["pickup"] |= {"hub_id": pickup.hub_id, "at_hub_at": pickup.at_hub_at}
    if package.ready_at is not None:
        path = f"/v1/packages/{package.package_id}/documents?type="
        doc["documents"] = {
            "shipping_label": path + "SHIPPING_LABEL",
            "packing_slip": path + "PACKING_SLIP",
        }
    if package.dispatch_deadline is not None:
        doc["dispatch_deadline"] = package.dispatch_deadline
    if package.combined_orders is not None:
        doc["combined_orders"] = package.combined_orders
    if package.dispatch_overdue:
        doc["dispatch_overdue"] = True
    return doc


def _case(case: Case) -> dict[str, Any]:
    return {
        "request_id": case.request_id,
        "type": case.type,
        "reason_code": case.reason_code,
        "items": case.items,
        "status": case.status,
        "open": case.open,
        "requested_at": case.requested_at,
        "refund_amount": case.refund_amount,
        "refunded": case.refunded,
        "outcome": case.outcome,
    }
