"""A seller's stock: counts, reservations per order, shipping, and its fold and snapshot."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.fulfillment.domain import stock_codec
from services.fulfillment.domain.stock import (
    STOCK,
    AdjustStock,
    ConsumeShipped,
    ReleaseStock,
    ReserveStock,
    Stock,
    decide,
    evolve,
)
from shared.aggregate import DomainError
from shared.events.fulfillment import (
    Allocation,
    StockAdjusted,
    StockReleased,
    StockReserved,
)
from tests.unit.fulfillment.scenarios import T0, W1, W2, lines


def stock_with(levels: dict[tuple[uuid.UUID, str], int]) -> Stock:
    state = Stock()
    for (wh, sku), units in levels.items():
        state = STOCK.fold(decide(state, AdjustStock("s1", wh, sku, units, T0)), state)
    return state


def test_stock_reserves_once_per_order_and_releases() -> None:
    order = uuid.uuid4()
    state = stock_with({(W1, "A"): 5})
    events = decide(state, ReserveStock("s1", order, lines(A=2), T0))
    assert isinstance(events[0], StockReserved)
    state = STOCK.fold(events, state)
    assert decide(state, ReserveStock("s1", order, lines(A=2), T0)) == []
    assert state.available() == {(W1, "A"): 3}
    with pytest.raises(DomainError):
        decide(state, AdjustStock("s1", W1, "A", 1, T0))
    state = STOCK.fold(decide(state, ReleaseStock(order, T0)), state)
    assert state.available() == {(W1, "A"): 5}


def test_shipping_consumes_the_reservation_and_the_units() -> None:
    order = uuid.uuid4()
    state = stock_with({(W1, "A"): 5})
    state = STOCK.fold(decide(state, ReserveStock("s1", order, lines(A=2), T0)), state)
    state = STOCK.fold(decide(state, ConsumeShipped(order, W1, lines(A=2), T0)), state)
    assert state.on_hand[(W1, "A")] == 3 and state.available() == {(W1, "A"): 3}
    assert decide(state, ConsumeShipped(order, W1, lines(A=2), T0)) == []  # not twice


def test_shortage_decides_no_stock_event() -> None:
    assert (
        decide(stock_with({(W1, "A"): 1}), ReserveStock("s1", uuid.uuid4(), lines(A=2), T0)) == []
    )


ORDERS = [uuid.UUID(int=100 + i) for i in range(3)]
stock_events = st.one_of(
    st.builds(
        lambda wh, sku, units, previous: StockAdjusted(
            seller_id="s1", warehouse_id=wh, sku=sku, on_hand=units, previous=previous
        ),
        st.sampled_from([W1, W2]),
        st.sampled_from(["A", "B"]),
        st.integers(0, 9),
        st.integers(0, 9),
    ),
    st.builds(
        lambda wh, sku, units, shipped, order: StockAdjusted(
            seller_id="s1",
            warehouse_id=wh,
            sku=sku,
            on_hand=units,
            previous=units + shipped,
            reason="SHIPPED",
            order_id=order,
        ),
        st.sampled_from([W1, W2]),
        st.sampled_from(["A", "B"]),
        st.integers(0, 9),
        st.integers(1, 3),
        st.sampled_from(ORDERS),
    ),
    st.builds(
        lambda order, allocations: StockReserved(
            seller_id="s1", order_id=order, allocations=allocations
        ),
        st.sampled_from(ORDERS),
        st.lists(
            st.builds(
                Allocation,
                warehouse_id=st.sampled_from([W1, W2]),
                sku=st.sampled_from(["A", "B"]),
                quantity=st.integers(1, 3),
            ),
            max_size=3,
        ),
    ),
    st.builds(
        lambda order: StockReleased(seller_id="s1", order_id=order, allocations=[]),
        st.sampled_from(ORDERS),
    ),
)


@given(st.lists(stock_events, max_size=25), st.integers(0, 25))
@settings(max_examples=200, deadline=None)
def test_stock_folds_the_same_in_any_steps_and_never_changes_its_start(events, cut) -> None:
    """The stock's one-pass fold (`fold_all`) changes working copies of the maps in place:
    folding in one pass, evolving event by event (`evolve`, a pure step of its own) or from
    a prefix's state gives one state, and the state a fold started from is left as it was
    (what the behaviour is, the decide tests above pin)."""
    one_by_one = Stock()
    for event in events:
        one_by_one = evolve(one_by_one, event)
    assert STOCK.fold(events) == one_by_one

    prefix = STOCK.fold(events[:cut])
    before = (dict(prefix.on_hand), dict(prefix.reservations))
    assert STOCK.fold(events[cut:], prefix) == one_by_one
    assert (dict(prefix.on_hand), dict(prefix.reservations)) == before


@given(st.lists(stock_events, max_size=25))
@settings(max_examples=100, deadline=None)
def test_a_stock_snapshot_decodes_to_the_state_it_was_taken_of(events) -> None:
    state = STOCK.fold(events)
    assert STOCK.snapshots is not None
    encoded = json.loads(json.dumps(STOCK.snapshots.encode(state)))
    assert STOCK.snapshots.decode(encoded) == state


def test_the_stock_v1_snapshot_keeps_its_shape() -> None:
    """Snapshots already stored are read with this codec name: its shape stays as it is."""
    order = uuid.UUID(int=100)
    state = STOCK.fold(
        [
            StockAdjusted(seller_id="s1", warehouse_id=W1, sku="A", on_hand=5, previous=0),
            StockReserved(
                seller_id="s1",
                order_id=order,
                allocations=[Allocation(warehouse_id=W1, sku="A", quantity=2)],
            ),
        ]
    )
    assert STOCK.snapshots is not None and STOCK.snapshots.codec == stock_codec.CODEC == "stock-v1"
    assert STOCK.snapshots.encode(state) == {
        "seller_id": "s1",
        "on_hand": [[str(W1), "A", 5]],
        "reservations": [[str(order), [[str(W1), "A", 2]]]],
    }
