"""The order view shows an order waiting for stock, clears it once the stock is reserved, and
an order still short when its wait ran out counts as a seller-fault cancellation."""

from __future__ import annotations

from datetime import timedelta

from services.analytics.domain.metrics import seller_metrics
from shared.events.fulfillment import Shortfall
from shared.events.order import OrderAwaitingStock, OrderCancelled, OrderStockReserved
from tests.stories import T0, Story
from tests.unit.analytics.views import document_of, facts

H = timedelta(hours=1)
SHORT = [Shortfall(sku="A", requested=2, available=1)]


def short_of_stock(story: Story) -> Story:
    event = OrderAwaitingStock(
        order_id=story.order_id,
        shortfalls=SHORT,
        since=T0 + H,
        cancel_at=T0 + 49 * H,
        recorded_at=T0 + H,
    )
    return story.add(f"order/{story.order_id}", event, T0 + H)


def test_the_view_shows_the_order_waiting_for_stock_until_it_is_reserved() -> None:
    story = short_of_stock(Story().created().paid(T0))
    view = document_of(story)
    assert view["status"] == "AWAITING_SHIPMENT" and view["awaiting_stock"] is True
    assert view["stock_shortage"] == {
        "since": "2026-11-02T01:00:00Z",
        "cancel_at": "2026-11-04T01:00:00Z",
        "shortfalls": [{"sku": "A", "requested": 2, "available": 1}],
    }
    assert view["timeline"][-1]["summary"].startswith("awaiting stock (A 1/2)")
    reserved = OrderStockReserved(order_id=story.order_id, waited_since=T0 + H, reserved_at=T0)
    story.add(f"order/{story.order_id}", reserved, T0 + 3 * H)
    view = document_of(story)
    assert view["awaiting_stock"] is False and view["stock_shortage"] is None


def test_an_order_cancelled_when_its_wait_for_stock_ran_out_counts_as_seller_fault() -> None:
    story = short_of_stock(Story().created().paid(T0))
    cancelled = OrderCancelled(
        order_id=story.order_id,
        cancelled_by="system",
        actor_id="system",
        reason_code="OUT_OF_STOCK",
        seller_fault=True,
        cancelled_at=T0 + 49 * H,
        was_paid=True,
    )
    story.add(f"order/{story.order_id}", cancelled, T0 + 49 * H)
    story.status("AWAITING_SHIPMENT", "CANCELLED", T0 + 49 * H)
    view = document_of(story)
    assert view["status"] == "CANCELLED" and view["awaiting_stock"] is False
    m = seller_metrics(facts(story, Story().created().paid(T0)), T0, T0 + timedelta(days=1))
    assert m["seller_fault_cancellation_rate"] == {"numerator": 1, "denominator": 2, "value": 0.5}
