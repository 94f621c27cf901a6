"""The carriers' logistics ratings for operators, pure: counted from the order views' reviews
by the period they were posted in, once per carrier of the order's own packages, exactly."""

from __future__ import annotations

from datetime import timedelta

from services.analytics.domain.carrier_ratings import carrier_ratings
from services.analytics.domain.metrics import seller_metrics
from tests.stories import T0, Story
from tests.unit.analytics.views import document_of, facts

H = timedelta(hours=1)
DAY = timedelta(days=1)


def reviewed(
    carrier: str, logistics: int | None, rating: int = 5, at_day: int = 3, itself: bool = False
) -> Story:
    return (
        Story()
        .created(T0)
        .paid(T0 + H)
        .shipped(T0 + 5 * H, carrier=carrier, self_delivery=itself)
        .delivered(T0 + 2 * DAY)
        .aftersales(T0 + at_day * DAY, rating=rating, logistics_rating=logistics)
    )


def test_each_carrier_gets_the_count_sum_and_mean_of_its_deliveries_logistics_ratings() -> None:
    views = [
        document_of(s)
        for s in (
            reviewed("SPX", 5),
            reviewed("SPX", 2),
            reviewed("SPX", 4, rating=1),  # a poor product, a good delivery
            reviewed("GHN", 1),
            reviewed("GHN", None),  # rated the product only: no logistics rating to count
            reviewed("SPX", 1, itself=True),  # the seller delivered it itself: no carrier
        )
    ]
    assert carrier_ratings(views, T0, T0 + 30 * DAY) == [
        {"carrier": "GHN", "count": 1, "sum": 1, "average": 1.0},
        {"carrier": "SPX", "count": 3, "sum": 11, "average": 3.6667},
    ]


def test_a_review_counts_in_the_period_it_was_posted_in() -> None:
    views = [document_of(reviewed("SPX", 5, at_day=3)), document_of(reviewed("SPX", 1, at_day=9))]
    assert carrier_ratings(views, T0, T0 + 4 * DAY) == [
        {"carrier": "SPX", "count": 1, "sum": 5, "average": 5.0}
    ]
    assert carrier_ratings(views, T0 + 9 * DAY, T0 + 10 * DAY)[0]["sum"] == 1
    assert carrier_ratings(views, T0 + 4 * DAY, T0 + 9 * DAY) == []


def test_the_overall_rating_stays_the_one_the_view_and_the_sellers_metrics_count() -> None:
    view = document_of(reviewed("SPX", 1, rating=5))
    assert view["review"]["rating"] == 5 and view["review"]["logistics_rating"] == 1
    nrr = seller_metrics(
        facts(reviewed("SPX", 1, rating=5), reviewed("SPX", 5, rating=2)), T0, T0 + 30 * DAY
    )["negative_review_rate"]
    assert (nrr["numerator"], nrr["denominator"]) == (1, 2)  # the 2-star product, not the 1-star
