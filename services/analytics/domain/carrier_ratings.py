"""The carriers' logistics ratings, for operators: the buyers' `logistics_rating` of the orders
each carrier delivered, counted from the order view documents (so exact, and the same after a
rebuild). A review counts in the period it was posted in, once for each carrier that carried
one of the order's own packages (not an exchange's replacement, not a package cancelled or
combined away; a self-delivered one has no carrier)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from services.analytics.domain.metrics import NOT_DISPATCHED
from shared.events.fulfillment import SELF_DELIVERY_CARRIER


def carriers_of(view: Mapping[str, Any]) -> set[str]:
    """The carriers of the order's own packages handed over (a view document)."""
    return {
        p["carrier"]
        for p in view["packages"]
        if p["carrier"]
        and p["handover"] != "SELF_DELIVERY"
        and p["carrier"] != SELF_DELIVERY_CARRIER
        and p["replacement_for"] is None
        and p["status"] not in NOT_DISPATCHED
    }


def carrier_ratings(
    views: Iterable[Mapping[str, Any]], start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Per carrier, by name: how many logistics ratings of reviews posted in [start, end), their
    sum and their mean."""
    stars: dict[str, list[int]] = defaultdict(list)
    for view in views:
        review = view["review"]
        if not review or review.get("logistics_rating") is None:
            continue
        posted = review["at"]
        posted_at = posted if isinstance(posted, datetime) else datetime.fromisoformat(posted)
        if not start <= posted_at < end:
            continue
        for carrier in carriers_of(view):
            stars[carrier].append(review["logistics_rating"])
    return [
        {
            "carrier": carrier,
            "count": len(ratings),
            "sum": sum(ratings),
            "average": round(sum(ratings) / len(ratings), 4),
        }
        for carrier, ratings in sorted(stars.items())
    ]
