"""An order's view, pure: one view whatever order its events arrive in, events held for a
gap, the view folded in one go or event by event, and the log's events decoded as the
registry decodes them."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.analytics.domain.arrival import applicable, recorded
from services.analytics.domain.metrics import order_facts
from services.analytics.domain.order_view import OrderView, evolve, fold
from services.analytics.read_model import Logged, decoded
from shared.events import REGISTRY, Envelope, EventPayload
from shared.events.aftersales import (
    AftersalesClosed,
    AftersalesRequested,
    RepairShipped,
    RequestedItem,
)
from shared.money import Money
from tests.stories import T0, Story, journey
from tests.unit.analytics.views import document_of

H = timedelta(hours=1)


def test_a_journey_makes_one_view_with_every_service_on_its_timeline() -> None:
    view = document_of(journey())
    assert view["status"] == "DELIVERED" and view["held"] == 0
    [package] = view["packages"]
    assert (package["status"], package["carrier"], package["pickup"]["status"]) == (
        "DELIVERED",
        "SPX",
        "PICKED_UP",
    )
    assert [t["event_type"] for t in view["timeline"]][:3] == [
        "OrderCreated",
        "OrderPaid",
        "OrderPlaced",
    ]
    assert view["review"]["rating"] == 2 and view["refunded"][0]["amount"]["amount"] == 300
    assert all(t["summary"] for t in view["timeline"])


def test_the_view_shows_the_shipping_option_the_buyer_chose() -> None:
    view = document_of(journey())
    assert view["shipping_option"] == "STANDARD"


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_the_view_does_not_depend_on_the_arrival_order(seed: int) -> None:
    story = journey()
    shuffled = list(story.envelopes)
    random.Random(seed).shuffle(shuffled)
    assert document_of(story, shuffled) == document_of(story)


def test_an_event_before_its_predecessor_is_held_then_applied() -> None:
    story = journey()
    paid = next(e for e in story.envelopes if e.event_type == "OrderPaid")
    without = [e for e in story.envelopes if e is not paid]
    early = document_of(story, without)
    assert early["status"] == "UNPAID" and early["held"] > 0  # the order's later events wait
    assert early["packages"]  # other streams are not held back
    assert document_of(story, [*without, paid]) == document_of(story)


def histories() -> list[tuple[uuid.UUID, list[EventPayload]]]:
    """Orders' events in the order a view applies them: delivered and reviewed, shipped late
    with an invalid tracking number, cancelled at the seller's fault."""
    stories = [
        journey(),
        Story().created().paid(T0).shipped(T0 + 80 * H, late=True, valid=False),
        Story().created().paid(T0).cancelled(T0 + H, seller_fault=True),
    ]
    return [
        (s.order_id, [r.event for r in applicable(recorded(e) for e in s.envelopes)[0] if r.event])
        for s in stories
    ]


@pytest.mark.parametrize(("order_id", "events"), histories())
def test_folding_a_view_in_one_go_equals_evolving_it_event_by_event(
    order_id: uuid.UUID, events: list[EventPayload]
) -> None:
    start = OrderView(order_id)
    one_by_one = start
    for event in events:
        one_by_one = evolve(one_by_one, event)
    assert fold(start, events) == one_by_one
    half = len(events) // 2
    assert fold(fold(start, events[:half]), events[half:]) == one_by_one
    assert start == OrderView(order_id) and OrderView(order_id).packages == {}  # untouched


def test_a_logged_event_is_decoded_as_the_registry_decodes_its_envelope() -> None:
    for envelope in journey().envelopes:
        logged = Logged(envelope.event_type, envelope.model_dump_json())
        assert decoded(logged) == recorded(envelope)


def _older_review(payload: dict[str, object]) -> tuple[Envelope, Logged]:
    """The journey's ReviewPosted, and the same stored in a schema older than any real one."""
    envelope = next(e for e in journey().envelopes if e.event_type == "ReviewPosted")
    older = envelope.model_copy(update={"schema_version": 0, "payload": payload})
    return envelope, Logged("ReviewPosted", older.model_dump_json())


@pytest.mark.parametrize("renamed", [False, True], ids=["same-shape", "renamed-field"])
def test_a_logged_event_of_an_older_schema_is_upcast_by_the_registry(
    monkeypatch: pytest.MonkeyPatch, renamed: bool
) -> None:
    """Version 0 counted stars from 0 (and, in one variant, called them `stars`): read
    straight into the current class it would be wrong, or not read at all."""
    envelope, _ = _older_review({})
    stars = "stars" if renamed else "rating"
    payload = {(stars if k == "rating" else k): v for k, v in envelope.payload.items()}
    payload[stars] = envelope.payload["rating"] - 1

    def upcast(old: dict[str, object]) -> dict[str, object]:
        new = {("rating" if k == stars else k): v for k, v in old.items()}
        return {**new, "rating": int(str(new["rating"])) + 1}

    # an upcaster from a version no stored event has, for this test only
    monkeypatch.setitem(REGISTRY._by_name["ReviewPosted"].upcasters, 0, upcast)
    _, logged = _older_review(payload)
    assert decoded(logged).event == envelope.decode()


def test_an_event_of_a_type_this_service_does_not_know_shows_on_the_timeline_only() -> None:
    story = journey()
    last = story.envelopes[-1]
    unknown = Envelope.model_validate(
        {
            **last.model_dump(),
            "event_id": uuid.uuid4(),
            "event_type": "ParcelWeighed",
            "stream_id": f"parcel/{story.package_id}",
            "stream_version": 2,
        }
    )
    assert decoded(Logged("ParcelWeighed", unknown.model_dump_json())).event is None
    view = document_of(story, [*story.envelopes, unknown])
    assert view["timeline"][-1]["summary"] == "parcel weighed"
    assert {k: v for k, v in view.items() if k not in ("timeline", "events_applied")} == {
        k: v for k, v in document_of(story).items() if k not in ("timeline", "events_applied")
    }


def test_the_view_shows_each_packages_estimated_delivery_date_and_the_orders() -> None:
    story = Story().created(T0).paid(T0 + H).shipped(T0 + 5 * H, estimate=date(2026, 11, 9))
    view = document_of(story)
    assert view["packages"][0]["estimated_delivery_date"] == "2026-11-09"
    assert view["estimated_delivery_date"] == "2026-11-09"


def test_an_order_shipped_before_estimates_has_none_and_an_unshipped_order_neither() -> None:
    assert (
        document_of(Story().created(T0).paid(T0 + H).shipped(T0 + 5 * H))["estimated_delivery_date"]
        is None
    )
    assert document_of(Story().created(T0).paid(T0 + H))["estimated_delivery_date"] is None


def test_a_delivery_without_proof_is_marked_in_the_view_for_disputes() -> None:
    shipped = Story().created(T0).paid(T0 + H).shipped(T0 + 5 * H)
    assert "delivered_without_proof" not in document_of(shipped)["packages"][0]
    [package] = document_of(shipped.delivered(T0 + 30 * H))["packages"]
    assert package["status"] == "DELIVERED"
    assert package["delivered_without_proof"] is True and package["delivery_proof"] is None
    assert package["delivery_recorded_by"] == "CARRIER"


def test_a_delivery_with_proof_shows_its_reference() -> None:
    story = Story().created(T0).paid(T0 + H).shipped(T0 + 5 * H)
    [package] = document_of(story.delivered(T0 + 30 * H, proof="sig:4711"))["packages"]
    assert package["delivered_without_proof"] is False and package["delivery_proof"] == "sig:4711"


def test_a_self_delivered_package_shows_the_sellers_proof() -> None:
    story = Story().created(T0).paid(T0 + H).shipped(T0 + 5 * H, self_delivery=True)
    view = document_of(story.self_delivered(T0 + 8 * H, proof="photo:door.jpg"))
    [package] = view["packages"]
    assert (package["handover"], package["tracking_number"], package["status"]) == (
        "SELF_DELIVERY",
        None,
        "DELIVERED",
    )
    assert package["delivery_proof"] == "photo:door.jpg"
    assert package["delivery_recorded_by"] == "SELLER"
    assert package["delivered_without_proof"] is False
    assert view["status"] == "DELIVERED"


def test_a_repair_closes_repaired_refunds_nothing_and_counts_as_a_return() -> None:
    story = Story().created(T0).paid(T0 + H).shipped(T0 + 5 * H).delivered(T0 + 50 * H)
    stream, rid, at = f"aftersales/{story.order_id}", uuid.uuid4(), T0 + 60 * H
    story.add(
        stream,
        AftersalesRequested(
            order_id=story.order_id,
            request_id=rid,
            buyer_id="b1",
            type="REPAIR",
            items=[RequestedItem(sku="A", quantity=1)],
            reason_code="QUALITY_PROBLEM",
            requested_at=at,
            answer_due=at,
            refund_amount=Money(amount=0, currency="USD"),
        ),
        at,
    )
    items = [RequestedItem(sku="A", quantity=1)]
    story.add(
        stream, RepairShipped(order_id=story.order_id, request_id=rid, items=items, at=at), at
    )
    closed = AftersalesClosed(order_id=story.order_id, request_id=rid, outcome="REPAIRED", at=at)
    story.add(stream, closed, at)
    view = document_of(story)
    [case] = view["aftersales"]
    assert (case["status"], case["outcome"], case["open"]) == ("REPAIRED", "REPAIRED", False)
    assert view["refunded"] == [] and view["timeline"][-2]["summary"] == "repair shipped"
    assert order_facts(view).returned  # the item went back: a return for the return rate
