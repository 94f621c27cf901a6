"""The analytics projections, pure: an order's view folded from the events of every service,
the facts a seller's metrics are counted from, and the metric formulas (DOMAIN.md section 5).

An order view is a function of the *set* of events known for the order, so events arriving
in any order, from any topic, give the same view:
- the order's own streams (`order/`, `fulfillment/`, `aftersales/` + order id) are applied by
  stream version, and only as far as the versions are contiguous from 1: an event that comes
  before its predecessor is held (kept, counted in `held`) until the gap is filled;
- each aspect of the view comes from one stream (status from the order's, packages from
  fulfillment's, collection from pickup's parcels, cases from aftersales'), so no aspect
  depends on how two topics interleave;
- the timeline is every applied event sorted by (occurred_at, stream, version).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared.events import REGISTRY, Envelope

ORDER_STREAMS = ("order/", "fulfillment/", "aftersales/")
STREAM_RANK = {"order/": 0, "fulfillment/": 1, "aftersales/": 3}  # the rest (pickup): 2
TRACKING_STATUS = {
    "PackagePickedUp": "PICKED_UP",
    "InTransit": "IN_TRANSIT",
    "OutForDelivery": "OUT_FOR_DELIVERY",
    "DeliveryFailed": "DELIVERY_FAILED",
    "Delivered": "DELIVERED",
    "PackageLost": "LOST",
    "PackageDamaged": "DAMAGED",
    "ReturnedToSender": "RETURNED_TO_SENDER",
}


def applicable(envelopes: Iterable[Envelope]) -> tuple[list[Envelope], int]:
    """The events to apply, in application order, and how many are held for a gap."""
    by_stream: dict[str, dict[int, Envelope]] = defaultdict(dict)
    for e in envelopes:
        by_stream[e.stream_id].setdefault(e.stream_version, e)
    chosen: list[Envelope] = []
    held = 0
    for stream_id in sorted(by_stream, key=_stream_order):
        versions = by_stream[stream_id]
        if stream_id.startswith(ORDER_STREAMS):
            n = 1
            while n in versions:
                chosen.append(versions[n])
                n += 1
            held += len(versions) - (n - 1)
        else:
            chosen.extend(versions[v] for v in sorted(versions))
    return chosen, held


def _current(envelope: Envelope) -> dict[str, Any]:
    """The payload in its event type's current schema (upcast when stored older)."""
    current = envelope.event_type in REGISTRY and (
        envelope.schema_version >= REGISTRY.model(envelope.event_type).schema_version
    )
    if envelope.event_type in REGISTRY and not current:
        return envelope.decode().model_dump(mode="json")
    return envelope.payload


def _stream_order(stream_id: str) -> tuple[int, str]:
    return STREAM_RANK.get(stream_id[: stream_id.find("/") + 1], 2), stream_id


def _iso(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else value.isoformat()


@dataclass
class _Builder:
    order_id: str
    doc: dict[str, Any] = field(default_factory=dict)
    packages: dict[str, dict[str, Any]] = field(default_factory=dict)
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)

    def package(self, package_id: Any) -> dict[str, Any]:
        key = str(package_id)
        if key not in self.packages:
            self.packages[key] = {
                "package_id": key,
                "status": "UNKNOWN",
                "items": [],
                "warehouse_id": None,
                "handover": None,
                "carrier": None,
                "tracking_number": None,
                "tracking_valid": None,
                "ready_at": None,
                "late": None,
                "replacement_for": None,
                "pickup": {"status": None, "task_id": None, "collected_at": None, "overdue": False},
                "tracking": [],
                "documents": None,
            }
        return self.packages[key]


def build_view(order_id: str, envelopes: Iterable[Envelope]) -> dict[str, Any]:
    """The order view document (JSON-ready) from the events known for the order."""
    events, held = applicable(envelopes)
    b = _Builder(order_id)
    b.doc = {
        "order_id": order_id,
        "seller_id": None,
        "buyer_id": None,
        "status": None,
        "items": [],
        "subtotal": None,
        "shipping_fee": None,
        "total": None,
        "shipping_address": None,
        "created_at": None,
        "paid_at": None,
        "placed_at": None,
        "dispatch_deadline": None,
        "deliver_by": None,
        "delivered_at": None,
        "completed_at": None,
        "cancellation": None,
        "refunded": [],
        "review": None,
    }
    timeline = []
    for envelope in events:
        payload = _current(envelope)
        handler = _APPLY.get(envelope.event_type)
        if handler is not None:
            handler(b, payload, envelope)
        timeline.append(
            {
                "at": _iso(envelope.occurred_at),
                "event_type": envelope.event_type,
                "summary": summary(envelope.event_type, payload),
                "stream_id": envelope.stream_id,
                "version": envelope.stream_version,
            }
        )
    timeline.sort(key=lambda t: (t["at"], t["stream_id"], t["version"]))
    b.doc["packages"] = [b.packages[k] for k in sorted(b.packages)]
    b.doc["aftersales"] = [b.cases[k] for k in sorted(b.cases)]
    b.doc["open_aftersales_cases"] = sum(1 for c in b.cases.values() if c["open"])
    b.doc["timeline"] = timeline
    b.doc["events_applied"] = len(events)
    b.doc["held"] = held
    return b.doc


# --- applying each event type -------------------------------------------------------------

Apply = Callable[[_Builder, dict[str, Any], Envelope], None]
_APPLY: dict[str, Apply] = {}


def on(*event_types: str) -> Callable[[Apply], Apply]:
    def register(fn: Apply) -> Apply:
        for t in event_types:
            _APPLY[t] = fn
        return fn

    return register


@on("OrderCreated")
def _created(b: _Builder, p: dict[str, Any], _: Envelope) -> None:
    b.doc.update(
        seller_id=p["seller_id"],
        buyer_id=p["buyer_id"],
        status="UNPAID",
        items=[{k: i[k] for k in ("sku", "title", "quantity", "unit_price")} for i in p["items"]],
        subtotal=p["subtotal"],
        shipping_fee=p["shipping_fee"],
        total=p["total"],
        shipping_address=p["shipping_address"],
        created_at=p["created_at"],
    )


@on("OrderPaid")
def _paid(b: _Builder, p: dict[str, Any], _: Envelope) -> None:
    b.doc["paid_at"] = p["paid_at"]


@on("OrderPlaced")
def _placed(b: _Builder, p: dict[str, Any], _: Envelope) -> None:
    b.doc.update(
        placed_at=p["placed_at"],
        dispatch_deadline=p["dispatch_deadline"],
        deliver_by=p["deliver_by"],
    )


@on("DispatchDeadlineMoved")
def _moved(b: _Builder, p: dict[str, Any], _: Envelope) -> None:
    if p.get("dispatch_deadline"):
        b.doc.update(dispatch_deadline=p["dispatch_deadline"], deliver_by=p["deliver_by"])


@on("ShippingAddressChanged")
def _address(b: _Builder, p: dict[str, Any], _: Envelope) -> None:
    b.doc["shipping_address"] = p["shipping_address"]


@on("OrderStatusChanged")
def _status(b: _Builder, p: dict[str, Any], _: Envelope) -> None:
    b.doc["status"] = p["to_status"]
    if p["to_status"] == "DELIVERED" and b.doc["delivered_at"] is None:
        b.doc["delivered_at"] = p["changed_at"]


@on("OrderCancelled")
def _cancelled(b: _Builder, p: dict[str, Any], _: Envelope) -> None:
    b.doc["status"] = "CANCELLED"
    b.doc["cancellation"] = {
        "by": p["cancelled_by"],
        "reason_code": p["reason_code"],
        "seller_fault": p["seller_fault"],
        "at": p["cancelled_at"],
    }


@on("OrderCompleted")
def _completed(b: _Builder, p: dict[str, Any], _: Envelope) -> None:
    b.doc.update(status="COMPLETED", completed_at=p["completed_at"])


@on("PackagesPlanned", "ReplacementPlanned")
def _planned(b: _Builder, p: dict[str, Any], _: Envelope) -> None:
    for package_id in p.get("replaced", []):
        b.packages.pop(str(package_id), None)
    for planned in p["packages"]:
        package = b.package(planned["package_id"])
        package.update(
            status="PLANNED",
            items=planned["items"],
            warehouse_id=planned["warehouse_id"],
            dispatch_deadline=planned["dispatch_deadline"],
            replacement_for=p.get("request_id"),
        )


@on("PackagesCombined")
def _combined(b: _Builder, p: dict[str, Any], _: Envelope) -> None:
    items: dict[str, int] = defaultdict(int)
    for package_id in p["package_ids"]:
        package = b.package(package_id)
        package["status"] = "COMBINED"
        for item in package["items"]:
            items[item["sku"]] += item["quantity"]
        warehouse = package["warehouse_id"]
    combined = b.package(p["combined_package_id"])
    combined.update(
        status="PLANNED",
        items=[{"sku": s, "quantity": q} for s, q in sorted(items.items())],
        warehouse_id=warehouse,
        combined_orders=p["order_ids"],
    )


@on("PackagesUncombined")
def _uncombined(b: _Builder, p: dict[str, Any], _: Envelope) -> None:
    b.packages.pop(str(p["combined_package_id"]), None)
    for package_id in p["package_ids"]:
        b.package(package_id)["status"] = "PLANNED"


@on("PackagesCancelled")
def _packages_cancelled(b: _Builder, p: dict[str, Any], _: Envelope) -> None:
    for package_id in p["package_ids"]:
        b.package(package_id)["status"] = "CANCELLED"


@on("ReadyToShip")
def _ready(b: _Builder, p: dict[str, Any], _: Envelope) -> None:
    package = b.package(p["package_id"])
    package.update(
        status="READY_TO_SHIP",
        warehouse_id=p["warehouse_id"],
        handover=p["handover"],
        carrier=p["carrier"],
        tracking_number=p["tracking_number"],
        tracking_valid=p["tracking_valid"],
        ready_at=p["ready_at"],
        late=p["late"],
        documents={
            "shipping_label": f"/v1/packages/{p['package_id']}/documents?type=SHIPPING_LABEL",
            "packing_slip": f"/v1/packages/{p['package_id']}/documents?type=PACKING_SLIP",
        },
    )


@on("DispatchOverdue")
def _overdue(b: _Builder, p: dict[str, Any], _: Envelope) -> None:
    b.package(p["package_id"])["dispatch_overdue"] = True


@on(*TRACKING_STATUS)
def _tracked(b: _Builder, p: dict[str, Any], e: Envelope) -> None:
    package = b.package(p["package_id"])
    status = TRACKING_STATUS[e.event_type]
    package["status"] = status
    package["tracking"].append(
        {"status": status, "at": p["occurred_at"], "location": p.get("location")}
    )


@on("ParcelAwaited")
def _awaited(b: _Builder, p: dict[str, Any], _: Envelope) -> None:
    pickup = b.package(p["package_id"])["pickup"]
    waiting = "AWAITING_PICKUP" if p["handover"] == "PICKUP" else "AWAITING_DROP_OFF"
    pickup.update(status=pickup["status"] or waiting, task_id=p.get("task_id"))
    pickup.update(provider_code=p["provider_code"], run_date=_iso(p.get("run_date")))


@on("PickedUp", "DroppedOff")
def _collected(b: _Builder, p: dict[str, Any], e: Envelope) -> None:
    pickup = b.package(p["package_id"])["pickup"]
    if pickup["status"] != "AT_HUB":
        pickup["status"] = "PICKED_UP" if e.event_type == "PickedUp" else "DROPPED_OFF"
    pickup["collected_at"] = p["at"]


@on("ArrivedAtHub")
def _hub(b: _Builder, p: dict[str, Any], _: Envelope) -> None:
    pickup = b.package(p["package_id"])["pickup"]
    pickup.update(status="AT_HUB", hub_id=p["hub_id"], at_hub_at=p["at"])


@on("PickupOverdue")
def _pickup_overdue(b: _Builder, p: dict[str, Any], _: Envelope) -> None:
    b.package(p["package_id"])["pickup"]["overdue"] = True


@on("AftersalesRequested")
def _requested(b: _Builder, p: dict[str, Any], _: Envelope) -> None:
    b.cases[str(p["request_id"])] = {
        "request_id": str(p["request_id"]),
        "type": p["type"],
        "reason_code": p["reason_code"],
        "items": p["items"],
        "status": "REQUESTED",
        "open": True,
        "requested_at": p["requested_at"],
        "refund_amount": p["refund_amount"],
        "refunded": None,
        "outcome": None,
    }


_CASE_STATUS = {
    "AftersalesApproved": "APPROVED",
    "AftersalesRejected": "REJECTED",
    "AftersalesEscalated": "ESCALATED",
    "ReturnShipped": "RETURN_IN_TRANSIT",
    "ReturnReceived": "RETURN_RECEIVED",
}


@on(*_CASE_STATUS)
def _case_moved(b: _Builder, p: dict[str, Any], e: Envelope) -> None:
    case = b.cases.get(str(p["request_id"]))
    if case is not None:
        case["status"] = _CASE_STATUS[e.event_type]


@on("AftersalesClosed")
def _case_closed(b: _Builder, p: dict[str, Any], _: Envelope) -> None:
    case = b.cases.get(str(p["request_id"]))
    if case is not None:
        outcome = p["outcome"]
        case.update(
            status=outcome if outcome in ("REFUNDED", "EXCHANGED") else "CLOSED",
            outcome=outcome,
            open=False,
        )


@on("RefundIssued")
def _refund(b: _Builder, p: dict[str, Any], _: Envelope) -> None:
    request_id = p.get("request_id")
    b.doc["refunded"].append({"request_id": request_id, "amount": p["amount"], "at": p["at"]})
    case = b.cases.get(str(request_id))
    if case is not None:
        case["refunded"] = p["amount"]


@on("ReviewPosted")
def _review(b: _Builder, p: dict[str, Any], _: Envelope) -> None:
    if b.doc["review"] is None:
        b.doc["review"] = {"rating": p["rating"], "text": p.get("text"), "at": p["at"]}


# --- summaries for the timeline ----------------------------------------------------------


def _money(m: Mapping[str, Any] | None) -> str:
    return f"{m['amount']} {m['currency']}" if m else "-"


_SUMMARY: dict[str, Callable[[dict[str, Any]], str]] = {
    "OrderCreated": lambda p: (
        f"order created: {len(p['items'])} line(s), total {_money(p['total'])}"
    ),
    "OrderPaid": lambda p: f"paid {_money(p['amount'])}",
    "OrderPutOnHold": lambda p: (
        "on hold"
        + ("" if p["review_passed"] else f" for review ({len(p['review_failures'])} finding(s))")
    ),
    "OrderReviewed": lambda p: f"operator review: {p['decision']}",
    "OrderPlaced": lambda p: f"placed; dispatch by {p['dispatch_deadline']}",
    "OrderStatusChanged": lambda p: f"status {p['from_status']} -> {p['to_status']}",
    "OrderCancelled": lambda p: (
        f"cancelled by {p['cancelled_by']} ({p['reason_code']})"
        + (", seller's fault" if p["seller_fault"] else "")
    ),
    "OrderCompleted": lambda p: "completed" + (" automatically" if p["auto"] else " by the buyer"),
    "CancellationRequested": lambda p: f"buyer asks to cancel ({p['reason_code']})",
    "CancellationRejected": lambda p: f"cancellation refused: {p['reason']}",
    "DispatchDeadlineMoved": lambda p: f"dispatch deadline +{p['hours']} h ({p['reason']})",
    "PackageStatusRecorded": lambda p: f"package {str(p['package_id'])[:8]} {p['package_status']}",
    "AftersalesCaseRecorded": lambda p: "after-sales case " + ("opened" if p["open"] else "closed"),
    "OrderRefunded": lambda p: (
        f"refunded {_money(p['amount'])}" + (" (in full)" if p["fully_refunded"] else "")
    ),
    "PackagesPlanned": lambda p: f"{len(p['packages'])} package(s) planned",
    "ReplacementPlanned": lambda p: "replacement package planned for an exchange",
    "ReadyToShip": lambda p: (
        f"package {str(p['package_id'])[:8]} ready to ship, "
        f"{p['carrier']} {p['tracking_number']} ({p['handover']})"
    ),
    "PickedUp": lambda p: f"collected by {p['provider_code']} driver {p['driver_id']}",
    "DroppedOff": lambda p: f"dropped off at {p['provider_code']}",
    "ArrivedAtHub": lambda p: f"arrived at hub {p['hub_id']}",
    "AftersalesRequested": lambda p: (
        f"{p['type']} requested ({p['reason_code']}), refund {_money(p['refund_amount'])}"
    ),
    "AftersalesApproved": lambda p: "request approved" + (" automatically" if p["auto"] else ""),
    "AftersalesRejected": lambda p: f"request rejected: {p['reason']}",
    "RefundIssued": lambda p: f"refund issued: {_money(p['amount'])}",
    "AftersalesClosed": lambda p: f"request closed: {p['outcome']}",
    "ReviewPosted": lambda p: f"review: {p['rating']} star(s)",
}


def summary(event_type: str, payload: dict[str, Any]) -> str:
    make = _SUMMARY.get(event_type)
    if make is not None:
        try:
            return make(payload)
        except (KeyError, TypeError):
            pass
    if event_type in TRACKING_STATUS:
        return f"carrier: {TRACKING_STATUS[event_type]} ({payload.get('tracking_number')})"
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in event_type).strip()
    return words


# --- facts and metrics ---------------------------------------------------------------------


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class PackageFacts:
    ready_at: datetime | None
    tracking_valid: bool
    collected_at: datetime | None


@dataclass(frozen=True)
class OrderFacts:
    """What a seller's metrics are counted from, for one order (see `seller_metrics`)."""

    order_id: str
    seller_id: str
    created_at: datetime | None
    paid_at: datetime | None
    total: int
    currency: str
    units: Mapping[str, int]
    placed_at: datetime | None
    dispatched_at: datetime | None
    dispatched_late: bool
    delivered_at: datetime | None
    deliver_by: datetime | None
    cancelled: bool
    seller_fault: bool
    refunds: tuple[tuple[datetime, int], ...]
    returned: bool
    first_rating: int | None
    reviewed_at: datetime | None
    packages: tuple[PackageFacts, ...]

    def dates(self) -> list[datetime]:
        found = [
            self.created_at,
            self.paid_at,
            self.dispatched_at,
            self.delivered_at,
            self.deliver_by,
            self.reviewed_at,
            *(at for at, _ in self.refunds),
            *(p.ready_at for p in self.packages),
            *(p.collected_at for p in self.packages),
        ]
        return [d for d in found if d is not None]


def order_facts(view: Mapping[str, Any]) -> OrderFacts:
    originals = [
        p
        for p in view["packages"]
        if p["replacement_for"] is None and p["status"] not in ("CANCELLED", "COMBINED", "UNKNOWN")
    ]
    ready = [_dt(p["ready_at"]) for p in originals]
    dispatched = all(ready) and bool(ready)
    total = view["total"] or {"amount": 0, "currency": ""}
    return OrderFacts(
        order_id=view["order_id"],
        seller_id=view["seller_id"] or "",
        created_at=_dt(view["created_at"]),
        paid_at=_dt(view["paid_at"]),
        total=total["amount"],
        currency=total["currency"],
        units={i["sku"]: i["quantity"] for i in view["items"]},
        placed_at=_dt(view["placed_at"]),
        dispatched_at=max(r for r in ready if r) if dispatched else None,
        dispatched_late=any(p["late"] for p in originals),
        delivered_at=_dt(view["delivered_at"]),
        deliver_by=_dt(view["deliver_by"]),
        cancelled=view["cancellation"] is not None,
        seller_fault=bool(view["cancellation"] and view["cancellation"]["seller_fault"]),
        refunds=tuple((_dt(r["at"]), r["amount"]["amount"]) for r in view["refunded"]),  # type: ignore[misc]
        returned=any(c["type"] != "REFUND_ONLY" for c in view["aftersales"]),
        first_rating=view["review"]["rating"] if view["review"] else None,
        reviewed_at=_dt(view["review"]["at"]) if view["review"] else None,
        packages=tuple(
            PackageFacts(
                ready_at=_dt(p["ready_at"]),
                tracking_valid=p["tracking_valid"] is True,
                collected_at=_dt(p["pickup"]["collected_at"]),
            )
            for p in view["packages"]
            if p["ready_at"] is not None
        ),
    )


def rate(numerator: int, denominator: int) -> dict[str, Any]:
    return {
        "numerator": numerator,
        "denominator": denominator,
        "value": round(numerator / denominator, 6) if denominator else None,
    }


def _mean_hours(spans: Sequence[timedelta]) -> float | None:
    if not spans:
        return None
    return round(sum(s.total_seconds() for s in spans) / len(spans) / 3600, 4)


# The definitions the metrics endpoint documents; every window is [from, to) in UTC.
DEFINITIONS = {
    "orders": "orders created in the period",
    "gmv": "sum of the totals of orders paid in the period, per currency",
    "units_by_sku": "units of each SKU in orders paid in the period",
    "refunds": "sum of refunds issued in the period, per currency",
    "mean_hours_to_ready_to_ship": "orders fully ready to ship in the period: mean hours from "
    "placement to the last of their packages being ready to ship",
    "mean_hours_to_pickup": "packages collected (picked up or dropped off) in the period: mean "
    "hours from ready to ship to collection",
    "on_time_pickup_rate": "packages collected in the period within the pickup window (48 h) "
    "after ready to ship / packages collected in the period",
    "mean_hours_to_deliver": "orders delivered in the period: mean hours from fully ready to "
    "ship to delivery",
    "return_rate": "orders delivered in the period with a return or exchange request / orders "
    "delivered in the period",
    "refund_rate": "orders paid in the period that got any refund / orders paid in the period",
    "average_rating": "mean stars of the first reviews posted in the period",
    "late_dispatch_rate": "LDR: orders fully ready to ship in the period with a package ready "
    "after its dispatch deadline / orders fully ready to ship in the period",
    "valid_tracking_rate": "VTR: packages ready to ship in the period with a valid tracking "
    "number / packages ready to ship in the period",
    "on_time_delivery_rate": "OTDR: orders due (deliver-by date) in the period and not "
    "cancelled that were delivered by that date / those orders",
    "seller_fault_cancellation_rate": "SFCR: orders paid in the period later cancelled at the "
    "seller's fault / orders paid in the period",
    "negative_review_rate": "NRR: orders delivered in the period whose first review has 1-2 "
    "stars / orders delivered in the period",
}
THRESHOLDS = {
    "late_dispatch_rate": ("<=", 0.04),
    "valid_tracking_rate": (">=", 0.95),
    "on_time_delivery_rate": (">=", 0.80),
    "seller_fault_cancellation_rate": ("<=", 0.025),
}


def seller_metrics(
    facts: Iterable[OrderFacts],
    start: datetime,
    end: datetime,
    pickup_window: timedelta = timedelta(hours=48),
) -> dict[str, Any]:
    """The metrics of DEFINITIONS for the window [start, end)."""

    def within(at: datetime | None) -> bool:
        return at is not None and start <= at < end

    orders = 0
    gmv: dict[str, int] = defaultdict(int)
    refunds: dict[str, int] = defaultdict(int)
    units: dict[str, int] = defaultdict(int)
    to_rts: list[timedelta] = []
    to_pickup: list[timedelta] = []
    to_deliver: list[timedelta] = []
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    ratings: list[int] = []
    for f in facts:
        orders += within(f.created_at)
        if within(f.paid_at):
            gmv[f.currency] += f.total
            for sku, quantity in f.units.items():
                units[sku] += quantity
            counts["refund_rate"][1] += 1
            counts["refund_rate"][0] += bool(f.refunds)
            counts["seller_fault_cancellation_rate"][1] += 1
            counts["seller_fault_cancellation_rate"][0] += f.seller_fault
        for at, amount in f.refunds:
            if within(at):
                refunds[f.currency] += amount
        if within(f.dispatched_at):
            assert f.dispatched_at is not None
            if f.placed_at is not None:
                to_rts.append(f.dispatched_at - f.placed_at)
            counts["late_dispatch_rate"][1] += 1
            counts["late_dispatch_rate"][0] += f.dispatched_late
        for p in f.packages:
            if within(p.ready_at):
                counts["valid_tracking_rate"][1] += 1
                counts["valid_tracking_rate"][0] += p.tracking_valid
            if within(p.collected_at):
                assert p.collected_at is not None and p.ready_at is not None
                waited = p.collected_at - p.ready_at
                to_pickup.append(waited)
                counts["on_time_pickup_rate"][1] += 1
                counts["on_time_pickup_rate"][0] += waited <= pickup_window
        if within(f.delivered_at):
            assert f.delivered_at is not None
            if f.dispatched_at is not None:
                to_deliver.append(f.delivered_at - f.dispatched_at)
            for name, hit in (
                ("return_rate", f.returned),
                ("negative_review_rate", f.first_rating is not None and f.first_rating <= 2),
            ):
                counts[name][1] += 1
                counts[name][0] += hit
        if within(f.deliver_by) and not f.cancelled:
            assert f.deliver_by is not None
            counts["on_time_delivery_rate"][1] += 1
            counts["on_time_delivery_rate"][0] += (
                f.delivered_at is not None and f.delivered_at <= f.deliver_by
            )
        if within(f.reviewed_at) and f.first_rating is not None:
            ratings.append(f.first_rating)
    rates = (
        "on_time_pickup_rate",
        "return_rate",
        "refund_rate",
        "late_dispatch_rate",
        "valid_tracking_rate",
        "on_time_delivery_rate",
        "seller_fault_cancellation_rate",
        "negative_review_rate",
    )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "orders": orders,
        "gmv": [{"amount": a, "currency": c} for c, a in sorted(gmv.items())],
        "refunds": [{"amount": a, "currency": c} for c, a in sorted(refunds.items())],
        "units_by_sku": dict(sorted(units.items())),
        "mean_hours_to_ready_to_ship": _mean_hours(to_rts),
        "mean_hours_to_pickup": _mean_hours(to_pickup),
        "mean_hours_to_deliver": _mean_hours(to_deliver),
        "average_rating": {
            "sum": sum(ratings),
            "count": len(ratings),
            "value": round(sum(ratings) / len(ratings), 4) if ratings else None,
        },
        **{name: rate(*counts[name]) for name in rates},
    }
