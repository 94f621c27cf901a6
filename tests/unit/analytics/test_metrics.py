"""A seller's metrics, pure: every formula on hand-built event sequences, and the span of an
order's dates by which a period finds its facts."""

from __future__ import annotations

from datetime import timedelta

from services.analytics.domain.arrival import recorded
from services.analytics.domain.document import view_document
from services.analytics.domain.metrics import date_span, order_facts, seller_metrics
from tests.stories import T0, Story, journey
from tests.unit.analytics.views import document_of, facts

H = timedelta(hours=1)
DAY = (T0, T0 + timedelta(days=1))


def test_late_dispatch_and_valid_tracking_rates() -> None:
    on_time = Story().created().paid(T0).shipped(T0 + 2 * H)
    also_on_time = Story().created().paid(T0).shipped(T0 + 4 * H)
    late = Story().created().paid(T0).shipped(T0 + 3 * H, late=True, valid=False)
    next_day = Story().created().paid(T0).shipped(T0 + 30 * H, late=True)
    m = seller_metrics(facts(on_time, also_on_time, late, next_day), *DAY)
    assert m["late_dispatch_rate"] == {"numerator": 1, "denominator": 3, "value": 0.333333}
    assert m["valid_tracking_rate"] == {"numerator": 2, "denominator": 3, "value": 0.666667}
    assert m["mean_hours_to_ready_to_ship"] == 3.0


def test_self_delivered_packages_count_in_neither_side_of_the_valid_tracking_rate() -> None:
    tracked = Story().created().paid(T0).shipped(T0 + 2 * H)
    untracked = Story().created().paid(T0).shipped(T0 + 3 * H, self_delivery=True)
    m = seller_metrics(facts(tracked, untracked), *DAY)
    assert m["valid_tracking_rate"] == {"numerator": 1, "denominator": 1, "value": 1.0}
    assert m["late_dispatch_rate"]["denominator"] == 2  # it still ships by its deadline


def test_on_time_delivery_seller_fault_cancellation_and_negative_reviews() -> None:
    # deliver-by = paid + 72 h + 6 days = T0 + 9 days
    due = (T0 + timedelta(days=9), T0 + timedelta(days=10))
    in_time = Story().created().paid(T0).shipped(T0 + H).delivered(T0 + timedelta(days=3))
    too_late = Story().created().paid(T0).shipped(T0 + H).delivered(T0 + timedelta(days=9, hours=1))
    undelivered = Story().created().paid(T0).shipped(T0 + H)
    cancelled = Story().created().paid(T0).cancelled(T0 + H, seller_fault=True)
    m = seller_metrics(facts(in_time, too_late, undelivered, cancelled), *due)
    assert m["on_time_delivery_rate"] == {"numerator": 1, "denominator": 3, "value": 0.333333}

    stories = facts(in_time, too_late, undelivered, cancelled, Story().created().paid(T0))
    m = seller_metrics(stories, *DAY)
    assert m["seller_fault_cancellation_rate"] == {"numerator": 1, "denominator": 5, "value": 0.2}
    assert m["orders"] == 5 and m["gmv"] == [{"amount": 5000, "currency": "USD"}]
    assert m["units_by_sku"] == {"A": 10}

    bad = (
        Story()
        .created()
        .paid(T0)
        .shipped(T0 + H)
        .delivered(T0 + 5 * H)
        .aftersales(T0 + 6 * H, rating=1)
    )
    good = (
        Story()
        .created()
        .paid(T0)
        .shipped(T0 + H)
        .delivered(T0 + 5 * H)
        .aftersales(T0 + 6 * H, rating=5)
    )
    unrated = Story().created().paid(T0).shipped(T0 + H).delivered(T0 + 5 * H)
    m = seller_metrics(facts(bad, good, unrated), *DAY)
    assert m["negative_review_rate"] == {"numerator": 1, "denominator": 3, "value": 0.333333}
    assert m["average_rating"] == {"sum": 6, "count": 2, "value": 3.0}
    assert m["mean_hours_to_deliver"] == 4.0


def test_pickup_returns_and_refunds() -> None:
    quick = Story().created().paid(T0).shipped(T0 + H).collected(T0 + 10 * H)
    slow = Story().created().paid(T0).shipped(T0 + H).collected(T0 + 50 * H)
    returned = (
        Story()
        .created()
        .paid(T0)
        .shipped(T0 + H)
        .delivered(T0 + 5 * H)
        .aftersales(T0 + 6 * H, refund=400)
    )
    week = (T0, T0 + timedelta(days=7))
    m = seller_metrics(facts(quick, slow, returned), *week)
    assert m["on_time_pickup_rate"] == {"numerator": 1, "denominator": 2, "value": 0.5}
    assert m["mean_hours_to_pickup"] == 29.0
    assert m["return_rate"] == {"numerator": 1, "denominator": 1, "value": 1.0}
    assert m["refund_rate"] == {"numerator": 1, "denominator": 3, "value": 0.333333}
    assert m["refunds"] == [{"amount": 400, "currency": "USD"}]


def test_an_empty_period_has_no_rates_rather_than_zero() -> None:
    m = seller_metrics(facts(journey()), T0 + timedelta(days=30), T0 + timedelta(days=31))
    assert m["orders"] == 0 and m["late_dispatch_rate"]["value"] is None


def test_days_add_up_to_the_period() -> None:
    stories = facts(*(journey() for _ in range(3)))
    total = seller_metrics(stories, T0, T0 + timedelta(days=7))
    days = [
        seller_metrics(stories, T0 + timedelta(days=d), T0 + timedelta(days=d + 1))
        for d in range(7)
    ]
    assert sum(d["orders"] for d in days) == total["orders"] == 3
    for name in ("late_dispatch_rate", "valid_tracking_rate", "negative_review_rate"):
        assert sum(d[name]["numerator"] for d in days) == total[name]["numerator"]
        assert sum(d[name]["denominator"] for d in days) == total[name]["denominator"]


def test_an_orders_date_span_is_that_of_the_dates_its_facts_count() -> None:
    stories = [
        journey(),
        Story().created().paid(T0).shipped(T0 + 80 * H, late=True).collected(T0 + 90 * H),
        Story().created().paid(T0).cancelled(T0 + H, seller_fault=True).aftersales(T0 + 2 * H),
        Story().created(),
        # reaching the hub is the last of its dates (a parcel long lost on the first mile)
        Story().created().paid(T0).shipped(T0 + H).collected(T0 + 2 * H).at_hub(T0 + 300 * H),
    ]
    for story in stories:
        view, _ = view_document(story.order_id, [recorded(e) for e in story.envelopes])
        dates = order_facts(document_of(story)).dates()
        assert date_span(view) == (min(dates), max(dates))
    creation_unknown = Story().created().paid(T0)
    paid_only = [e for e in creation_unknown.envelopes if e.event_type != "OrderCreated"]
    view, _ = view_document(creation_unknown.order_id, [recorded(e) for e in paid_only])
    assert date_span(view) == (None, None)  # no facts are counted before the creation is known


def test_label_defect_rate_counts_the_packages_received_at_a_hub_in_the_period() -> None:
    defective = Story().created().paid(T0).shipped(T0 + H).collected(T0 + 2 * H)
    defective.at_hub(T0 + 3 * H).label_defect(T0 + 4 * H)
    clean = Story().created().paid(T0).shipped(T0 + H).collected(T0 + 2 * H).at_hub(T0 + 3 * H)
    # the defect recorded on the next day counts for the day the parcel reached the hub
    late_found = Story().created().paid(T0).shipped(T0 + H).collected(T0 + 2 * H)
    late_found.at_hub(T0 + 5 * H).label_defect(T0 + 30 * H, "WRONG_LABEL")
    not_at_hub = Story().created().paid(T0).shipped(T0 + H).collected(T0 + 2 * H)
    next_day = Story().created().paid(T0).shipped(T0 + H).collected(T0 + 2 * H)
    next_day.at_hub(T0 + 26 * H).label_defect(T0 + 27 * H)
    stories = facts(defective, clean, late_found, not_at_hub, next_day)
    m = seller_metrics(stories, *DAY)
    assert m["label_defect_rate"] == {"numerator": 2, "denominator": 3, "value": 0.666667}
    m = seller_metrics(stories, T0 + timedelta(days=1), T0 + timedelta(days=2))
    assert m["label_defect_rate"] == {"numerator": 1, "denominator": 1, "value": 1.0}


def test_the_order_view_shows_the_defect_and_the_relabel_fee() -> None:
    story = Story().created().paid(T0).shipped(T0 + H).collected(T0 + 2 * H).at_hub(T0 + 3 * H)
    doc = document_of(story.label_defect(T0 + 4 * H))
    [package] = doc["packages"]
    assert package["pickup"]["label_defect"] == "UNREADABLE_LABEL"
    assert package["pickup"]["relabel_fee"] == {"amount": 500, "currency": "CNY"}
    assert [t["event_type"] for t in doc["timeline"]][-2:] == [
        "LabelDefectRecorded",
        "RelabelFeeCharged",
    ]
