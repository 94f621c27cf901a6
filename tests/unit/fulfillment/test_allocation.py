"""Which warehouses an order's units are reserved in."""

from __future__ import annotations

import uuid
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from services.fulfillment.domain.allocation import allocate, shortfalls
from shared.events.fulfillment import Allocation, Shortfall
from tests.unit.fulfillment.scenarios import W1, W2, W3, lines


def test_one_warehouse_that_covers_everything_is_preferred() -> None:
    available = {(W1, "A"): 5, (W2, "A"): 10, (W2, "B"): 1, (W1, "B"): 0}
    result = allocate(lines(A=3, B=1), available)
    assert result == [
        Allocation(warehouse_id=W2, sku="A", quantity=3),
        Allocation(warehouse_id=W2, sku="B", quantity=1),
    ]
    assert shortfalls(lines(A=3, B=1), available) == []


def test_several_warehouses_when_none_covers_alone() -> None:
    available = {(W1, "A"): 2, (W2, "A"): 3, (W3, "B"): 1}
    result = allocate(lines(A=4, B=1), available)
    assert Counter((a.warehouse_id, a.sku, a.quantity) for a in result) == Counter(
        [(W2, "A", 3), (W1, "A", 1), (W3, "B", 1)]
    )


def test_shortage_reserves_nothing() -> None:
    result = allocate(lines(A=4, B=1), {(W1, "A"): 3, (W1, "B"): 1})
    assert result == [Shortfall(sku="A", requested=4, available=3)]
    assert shortfalls(lines(A=4, B=1), {(W1, "A"): 3, (W1, "B"): 1}) == result


@settings(max_examples=300)
@given(
    available=st.dictionaries(
        st.tuples(st.sampled_from([W1, W2, W3]), st.sampled_from("ABCD")),
        st.integers(0, 20),
        max_size=12,
    ),
    wanted=st.dictionaries(st.sampled_from("ABCD"), st.integers(1, 30), min_size=1),
)
def test_allocation_never_oversells_and_covers_exactly(available, wanted) -> None:  # type: ignore[no-untyped-def]
    result = allocate(lines(**wanted), available)
    if result and isinstance(result[0], Shortfall):
        for shortfall in result:
            assert shortfall.available < shortfall.requested == wanted[shortfall.sku]
        return
    taken: Counter[tuple[uuid.UUID, str]] = Counter()
    per_sku: Counter[str] = Counter()
    for a in result:
        assert isinstance(a, Allocation)
        taken[(a.warehouse_id, a.sku)] += a.quantity
        per_sku[a.sku] += a.quantity
    assert dict(per_sku) == wanted
    for slot, units in taken.items():
        assert units <= available.get(slot, 0)
