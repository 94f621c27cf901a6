"""A seller's metrics (DOMAIN.md section 5): the facts each order contributes, taken from its
view document, the documented definitions and thresholds, and the formulas over a window.
Facts are kept as the view document without its timeline (`core`), so the metrics of any
period are counted from them alone."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from services.analytics.domain.order_view import UNKNOWN, OrderView
from shared.events.aftersales import RequestType
from shared.events.fulfillment import PackageStatus


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class PackageFacts:
    ready_at: datetime | None
    tracking_valid: bool
    collected_at: datetime | None
    at_hub_at: datetime | None = None
    label_defect: bool = False  # the hub recorded a label defect on it
    tracked: bool = True  # a carrier tracks it: not a SELF_DELIVERY (no tracking number at all)


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
            *(p.at_hub_at for p in self.packages),
        ]
        return [d for d in found if d is not None]


def date_span(view: OrderView) -> tuple[datetime | None, datetime | None]:
    """The first and the last of the dates the order's facts count (`OrderFacts.dates` of its
    document), from its view: a period's metrics read the orders whose span meets it. (The
    dispatch date is the last of the ready dates, which count already.)"""
    if not view.seller_id:
        return None, None
    ready = [p for p in view.packages.values() if p.ready_at is not None]
    review = view.review
    dates = [
        d
        for d in (
            view.created_at,
            view.paid_at,
            view.delivered_at,
            view.deliver_by,
            review.at if review is not None else None,
            *(refund.at for refund in view.refunded),
            *(p.ready_at for p in ready),
            *(p.pickup.collected_at for p in ready),
            *(p.pickup.at_hub_at for p in ready),
        )
        if d is not None
    ]
    return min(dates, default=None), max(dates, default=None)


# Packages that do not travel as planned for the order: left out of its dispatch.
NOT_DISPATCHED: frozenset[PackageStatus | Literal["UNKNOWN"]] = frozenset(
    {"CANCELLED", "COMBINED", UNKNOWN}
)
NOTHING_RETURNED: RequestType = "REFUND_ONLY"


def order_facts(view: Mapping[str, Any]) -> OrderFacts:
    """The facts of an order view document (`document.document`, JSON-ready)."""
    originals = [
        p
        for p in view["packages"]
        if p["replacement_for"] is None and p["status"] not in NOT_DISPATCHED
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
        returned=any(c["type"] != NOTHING_RETURNED for c in view["aftersales"]),
        first_rating=view["review"]["rating"] if view["review"] else None,
        reviewed_at=_dt(view["review"]["at"]) if view["review"] else None,
        packages=tuple(
            PackageFacts(
                ready_at=_dt(p["ready_at"]),
                tracking_valid=p["tracking_valid"] is True,
                collected_at=_dt(p["pickup"]["collected_at"]),
                at_hub_at=_dt(p["pickup"].get("at_hub_at")),
                label_defect=p["pickup"].get("label_defect") is not None,
                tracked=p["handover"] != "SELF_DELIVERY",
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
    "return_rate": "orders delivered in the period with a return, exchange or repair request / "
    "orders delivered in the period",
    "refund_rate": "orders paid in the period that got any refund / orders paid in the period",
    "average_rating": "mean stars of the first reviews posted in the period",
    "late_dispatch_rate": "LDR: orders fully ready to ship in the period with a package ready "
    "after its dispatch deadline / orders fully ready to ship in the period",
    "valid_tracking_rate": "VTR: packages ready to ship in the period with a valid tracking "
    "number / packages ready to ship in the period (self-delivered packages, which no carrier "
    "tracks, count in neither)",
    "on_time_delivery_rate": "OTDR: orders due (deliver-by date) in the period and not "
    "cancelled that were delivered by that date / those orders",
    "seller_fault_cancellation_rate": "SFCR: orders paid in the period later cancelled at the "
    "seller's fault / orders paid in the period",
    "negative_review_rate": "NRR: orders delivered in the period whose first review has 1-2 "
    "stars / orders delivered in the period",
    "label_defect_rate": "packages received at a sorting hub in the period on which the hub "
    "recorded a label defect (wrong, unreadable, not matching the contents; relabelled at the "
    "seller's cost) / packages received at a sorting hub in the period",
}
THRESHOLDS = {
    "late_dispatch_rate": ("<=", 0.04),
    "valid_tracking_rate": (">=", 0.95),
    "on_time_delivery_rate": (">=", 0.80),
    "seller_fault_cancellation_rate": ("<=", 0.025),
    "label_defect_rate": ("<=", 0.01),
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
            if within(p.ready_at) and p.tracked:
                counts["valid_tracking_rate"][1] += 1
                counts["valid_tracking_rate"][0] += p.tracking_valid
            if within(p.collected_at):
                assert p.collected_at is not None and p.ready_at is not None
                waited = p.collected_at - p.ready_at
                to_pickup.append(waited)
                counts["on_time_pickup_rate"][1] += 1
                counts["on_time_pickup_rate"][0] += waited <= pickup_window
            if within(p.at_hub_at):
                counts["label_defect_rate"][1] += 1
                counts["label_defect_rate"][0] += p.label_defect
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
        "label_defect_rate",
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
