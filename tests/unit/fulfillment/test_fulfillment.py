"""An order's fulfillment: planned from its reservation, short of stock, cancelled, split by
the seller, and an exchange's replacement package."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.fulfillment.domain.fulfillment import (
    FULFILLMENT,
    CancelFulfillment,
    Fulfillment,
    PlanPackages,
    RecordShortage,
    SplitManually,
    decide,
)
from services.fulfillment.domain.packing import ManualPackage, SplitRules
from services.fulfillment.domain.replacement import PlanReplacement
from shared.aggregate import DomainError, InvalidCommand
from shared.events.fulfillment import (
    Allocation,
    PackagesPlanned,
    ReplacementPlanned,
    Shortfall,
    SkuQuantity,
)
from tests.unit.fulfillment.scenarios import T0, W1, W2, lines, requested


def test_packages_are_planned_from_the_reservation_and_the_rules() -> None:
    state = requested()
    allocations = [
        Allocation(warehouse_id=W1, sku="A", quantity=2),
        Allocation(warehouse_id=W2, sku="A", quantity=1),
        Allocation(warehouse_id=W2, sku="B", quantity=1),
    ]
    events = decide(state, PlanPackages(allocations, SplitRules(max_weight_g=500), T0))
    planned = events[0]
    assert isinstance(planned, PackagesPlanned)
    assert {p.warehouse_id for p in planned.packages} == {W1, W2}
    total: Counter[str] = Counter()
    for p in planned.packages:
        total.update({i.sku: i.quantity for i in p.items})
        assert p.dispatch_deadline == T0 + timedelta(hours=72)
    assert total == Counter({"A": 3, "B": 1})
    state = FULFILLMENT.fold(events, state)
    assert state.status == "PLANNED"
    assert decide(state, PlanPackages(allocations, SplitRules(), T0)) == []  # planned once


def test_an_exchange_waits_for_stock_then_gets_its_own_package_once() -> None:
    state = requested()
    state = FULFILLMENT.fold(
        decide(
            state,
            PlanPackages(
                [
                    Allocation(warehouse_id=W1, sku="A", quantity=3),
                    Allocation(warehouse_id=W1, sku="B", quantity=1),
                ],
                SplitRules(),
                T0,
            ),
        ),
        state,
    )
    request_id, due = uuid.uuid4(), T0 + timedelta(days=10)
    items = [SkuQuantity(sku="A", quantity=1)]
    short = [Shortfall(sku="A", requested=1, available=0)]
    waiting = PlanReplacement(request_id, items, [], short, due, T0)
    state = FULFILLMENT.fold(decide(state, waiting), state)
    assert state.replacements[request_id].status == "AWAITING_STOCK"
    assert decide(state, waiting) == []  # still waiting: nothing new

    reserved = [Allocation(warehouse_id=W2, sku="A", quantity=1)]
    command = PlanReplacement(request_id, items, reserved, [], due, T0)
    events = decide(state, command)
    assert isinstance(events[0], ReplacementPlanned)
    [package] = events[0].packages
    assert (package.warehouse_id, package.items, package.weight_g) == (W2, items, 400)
    state = FULFILLMENT.fold(events, state)
    assert state.packages[package.package_id].replacement_for == request_id
    assert state.status == "PLANNED" and len(state.packages) == 2
    assert decide(state, command) == []  # planned once
    with pytest.raises(DomainError, match=r"A x3, B x1$"):  # the replacement is not re-split
        decide(state, SplitManually([ManualPackage(items)], T0))


def test_shortage_then_cancellation_cancels_planned_packages() -> None:
    state = requested()
    state = FULFILLMENT.fold(
        decide(state, RecordShortage([Shortfall(sku="A", requested=3, available=1)], T0)),
        state,
    )
    assert state.status == "AWAITING_STOCK"
    assert decide(state, RecordShortage(list(state.shortfalls), T0)) == []
    planned = FULFILLMENT.fold(
        decide(
            state,
            PlanPackages(
                [
                    Allocation(warehouse_id=W1, sku="A", quantity=3),
                    Allocation(warehouse_id=W1, sku="B", quantity=1),
                ],
                SplitRules(),
                T0,
            ),
        ),
        state,
    )
    cancelled = FULFILLMENT.fold(decide(planned, CancelFulfillment("order cancelled", T0)), planned)
    assert cancelled.status == "CANCELLED"
    assert {p.status for p in cancelled.packages.values()} == {"CANCELLED"}
    assert decide(cancelled, CancelFulfillment("again", T0)) == []


# --- manual split ---------------------------------------------------------------------------


def planned_two_warehouses() -> Fulfillment:
    state = requested()
    allocations = [
        Allocation(warehouse_id=W1, sku="A", quantity=2),
        Allocation(warehouse_id=W2, sku="A", quantity=1),
        Allocation(warehouse_id=W2, sku="B", quantity=1),
    ]
    return FULFILLMENT.fold(decide(state, PlanPackages(allocations, SplitRules(), T0)), state)


def test_a_manual_split_must_add_up_exactly() -> None:
    state = planned_two_warehouses()
    with pytest.raises(InvalidCommand, match="add up exactly"):
        decide(state, SplitManually([ManualPackage(lines(A=3))], T0))
    with pytest.raises(InvalidCommand, match="add up exactly"):
        decide(state, SplitManually([ManualPackage(lines(A=4, B=1))], T0))


def test_a_manual_package_comes_from_one_warehouse() -> None:
    state = planned_two_warehouses()
    with pytest.raises(InvalidCommand, match="one warehouse"):
        decide(state, SplitManually([ManualPackage(lines(A=3, B=1))], T0))
    [event] = decide(
        state,
        SplitManually(
            [ManualPackage(lines(A=1)), ManualPackage(lines(A=1)), ManualPackage(lines(A=1, B=1))],
            T0,
        ),
    )
    assert isinstance(event, PackagesPlanned) and event.manual
    assert set(event.replaced) == set(state.packages)
    assert sorted(
        (p.warehouse_id, tuple((i.sku, i.quantity) for i in p.items)) for p in event.packages
    ) == sorted([(W1, (("A", 1),)), (W1, (("A", 1),)), (W2, (("A", 1), ("B", 1)))])
    after = FULFILLMENT.fold([event], state)
    assert set(after.packages) == {p.package_id for p in event.packages}
    assert sum(p.weight_g for p in after.packages.values()) == 3 * 400 + 100


@settings(max_examples=100)
@given(cuts=st.lists(st.integers(1, 3), min_size=1, max_size=3))
def test_any_accepted_manual_split_adds_up_to_the_order(cuts: list[int]) -> None:  # type: ignore[no-untyped-def]
    state = FULFILLMENT.fold(
        decide(
            requested(),
            PlanPackages(
                [
                    Allocation(warehouse_id=W1, sku="A", quantity=3),
                    Allocation(warehouse_id=W1, sku="B", quantity=1),
                ],
                SplitRules(),
                T0,
            ),
        ),
        requested(),
    )
    packages = [ManualPackage(lines(A=c)) for c in cuts] + [ManualPackage(lines(B=1))]
    try:
        [event] = decide(state, SplitManually(packages, T0))
    except InvalidCommand:
        assert sum(cuts) != 3
        return
    assert sum(cuts) == 3
    total: Counter[str] = Counter()
    for p in event.packages:
        total.update({i.sku: i.quantity for i in p.items})
    assert total == Counter({"A": 3, "B": 1})
