"""Fulfillment rules, pure: allocation, split, stock and the order's packages."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.fulfillment.domain import (
    FULFILLMENT,
    STOCK,
    AdjustStock,
    CancelFulfillment,
    ConsumeShipped,
    Fulfillment,
    ManualPackage,
    PlanPackages,
    PlanReplacement,
    RecordShortage,
    ReleaseStock,
    RequestFulfillment,
    ReserveStock,
    SplitManually,
    SplitRules,
    Stock,
    allocate,
    decide_fulfillment,
    decide_stock,
    decode_stock,
    encode_stock,
    evolve_stock,
    split,
)
from shared.aggregate import DomainError, InvalidCommand
from shared.events.common import Address
from shared.events.fulfillment import (
    Allocation,
    FulfillmentRequested,
    OrderLine,
    PackagesPlanned,
    ReplacementPlanned,
    Shortfall,
    SkuQuantity,
    StockAdjusted,
    StockReleased,
    StockReserved,
)

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
W1, W2, W3 = (uuid.UUID(int=i) for i in (1, 2, 3))
ADDRESS = Address(
    recipient_name="A", phone="+1 555", line1="x", city="c", postal_code="12345", country="US"
)


def stock_with(levels: dict[tuple[uuid.UUID, str], int]) -> Stock:
    state = Stock()
    for (wh, sku), units in levels.items():
        state = STOCK.fold(decide_stock(state, AdjustStock("s1", wh, sku, units)), state)
    return state


def lines(**skus: int) -> list[SkuQuantity]:
    return [SkuQuantity(sku=s, quantity=q) for s, q in skus.items()]


# --- allocation -----------------------------------------------------------------------------


def test_one_warehouse_that_covers_everything_is_preferred() -> None:
    available = {(W1, "A"): 5, (W2, "A"): 10, (W2, "B"): 1, (W1, "B"): 0}
    result = allocate(lines(A=3, B=1), available)
    assert result == [
        Allocation(warehouse_id=W2, sku="A", quantity=3),
        Allocation(warehouse_id=W2, sku="B", quantity=1),
    ]


def test_several_warehouses_when_none_covers_alone() -> None:
    available = {(W1, "A"): 2, (W2, "A"): 3, (W3, "B"): 1}
    result = allocate(lines(A=4, B=1), available)
    assert Counter((a.warehouse_id, a.sku, a.quantity) for a in result) == Counter(
        [(W2, "A", 3), (W1, "A", 1), (W3, "B", 1)]
    )


def test_shortage_reserves_nothing() -> None:
    result = allocate(lines(A=4, B=1), {(W1, "A"): 3, (W1, "B"): 1})
    assert result == [Shortfall(sku="A", requested=4, available=3)]


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


# --- split ----------------------------------------------------------------------------------


def test_split_by_weight_items_and_ship_alone() -> None:
    rules = SplitRules(max_weight_g=1000, max_items=3, ship_alone_skus=frozenset({"TV"}))
    boxes = split([("TV", 2, 9000), ("BOOK", 5, 300), ("PEN", 4, 10)], rules)
    assert [b for b in boxes if "TV" in b[0]] == [({"TV": 1}, 9000), ({"TV": 1}, 9000)]
    for items, weight in boxes:
        if "TV" not in items:
            assert weight <= 1000 and sum(items.values()) <= 3


def test_a_unit_over_the_weight_limit_travels_alone() -> None:
    assert split([("ANVIL", 2, 5000)], SplitRules(max_weight_g=1000)) == [({"ANVIL": 1}, 5000)] * 2


@settings(max_examples=300)
@given(
    skus=st.dictionaries(
        st.sampled_from(["A", "B", "C", "D", "E"]),
        st.tuples(st.integers(1, 40), st.integers(0, 3000)),
        min_size=1,
    ),
    max_weight=st.none() | st.integers(1, 5000),
    max_items=st.none() | st.integers(1, 10),
    alone=st.frozensets(st.sampled_from(["A", "B", "C", "D", "E"]), max_size=2),
)
def test_any_split_adds_up_to_the_order_and_keeps_the_limits(
    skus, max_weight, max_items, alone
) -> None:  # type: ignore[no-untyped-def]
    rules = SplitRules(max_weight_g=max_weight, max_items=max_items, ship_alone_skus=alone)
    boxes = split([(s, q, w) for s, (q, w) in skus.items()], rules)
    total: Counter[str] = Counter()
    for items, weight in boxes:
        total.update(items)
        assert weight == sum(skus[s][1] * q for s, q in items.items())
        units = sum(items.values())
        if set(items) & alone:
            assert units == 1
        elif units > 1:  # a single unit may exceed the limits: it travels alone
            assert max_items is None or units <= max_items
            assert max_weight is None or weight <= max_weight
    assert dict(total) == {s: q for s, (q, _) in skus.items()}


# --- stock ----------------------------------------------------------------------------------


def test_stock_reserves_once_per_order_and_releases() -> None:
    order = uuid.uuid4()
    state = stock_with({(W1, "A"): 5})
    events = decide_stock(state, ReserveStock("s1", order, lines(A=2)))
    assert isinstance(events[0], StockReserved)
    state = STOCK.fold(events, state)
    assert decide_stock(state, ReserveStock("s1", order, lines(A=2))) == []
    assert state.available() == {(W1, "A"): 3}
    with pytest.raises(DomainError):
        decide_stock(state, AdjustStock("s1", W1, "A", 1))
    state = STOCK.fold(decide_stock(state, ReleaseStock(order)), state)
    assert state.available() == {(W1, "A"): 5}


def test_shipping_consumes_the_reservation_and_the_units() -> None:
    order = uuid.uuid4()
    state = stock_with({(W1, "A"): 5})
    state = STOCK.fold(decide_stock(state, ReserveStock("s1", order, lines(A=2))), state)
    state = STOCK.fold(decide_stock(state, ConsumeShipped(order, W1, lines(A=2))), state)
    assert state.on_hand[(W1, "A")] == 3 and state.available() == {(W1, "A"): 3}
    assert decide_stock(state, ConsumeShipped(order, W1, lines(A=2))) == []  # not twice


def test_shortage_decides_no_stock_event() -> None:
    assert (
        decide_stock(stock_with({(W1, "A"): 1}), ReserveStock("s1", uuid.uuid4(), lines(A=2))) == []
    )


# --- the order's fulfillment ------------------------------------------------------------------


def requested(order_id: uuid.UUID | None = None) -> Fulfillment:
    event = FulfillmentRequested(
        order_id=order_id or uuid.uuid4(),
        seller_id="s1",
        buyer_id="b1",
        lines=[
            OrderLine(sku="A", quantity=3, weight_g=400),
            OrderLine(sku="B", quantity=1, weight_g=100),
        ],
        shipping_address=ADDRESS,
        currency="USD",
        placed_at=T0,
        dispatch_deadline=T0 + timedelta(hours=72),
        deliver_by=T0 + timedelta(days=9),
    )
    return FULFILLMENT.fold(decide_fulfillment(Fulfillment(), RequestFulfillment(event)))


def test_packages_are_planned_from_the_reservation_and_the_rules() -> None:
    state = requested()
    allocations = [
        Allocation(warehouse_id=W1, sku="A", quantity=2),
        Allocation(warehouse_id=W2, sku="A", quantity=1),
        Allocation(warehouse_id=W2, sku="B", quantity=1),
    ]
    events = decide_fulfillment(state, PlanPackages(allocations, SplitRules(max_weight_g=500)))
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
    assert decide_fulfillment(state, PlanPackages(allocations, SplitRules())) == []  # planned once


def test_an_exchange_waits_for_stock_then_gets_its_own_package_once() -> None:
    state = requested()
    state = FULFILLMENT.fold(
        decide_fulfillment(
            state,
            PlanPackages(
                [
                    Allocation(warehouse_id=W1, sku="A", quantity=3),
                    Allocation(warehouse_id=W1, sku="B", quantity=1),
                ],
                SplitRules(),
            ),
        ),
        state,
    )
    request_id, due = uuid.uuid4(), T0 + timedelta(days=10)
    items = [SkuQuantity(sku="A", quantity=1)]
    short = [Shortfall(sku="A", requested=1, available=0)]
    waiting = PlanReplacement(request_id, items, [], short, due)
    state = FULFILLMENT.fold(decide_fulfillment(state, waiting), state)
    assert state.replacements[request_id].status == "AWAITING_STOCK"
    assert decide_fulfillment(state, waiting) == []  # still waiting: nothing new

    reserved = [Allocation(warehouse_id=W2, sku="A", quantity=1)]
    command = PlanReplacement(request_id, items, reserved, [], due)
    events = decide_fulfillment(state, command)
    assert isinstance(events[0], ReplacementPlanned)
    [package] = events[0].packages
    assert (package.warehouse_id, package.items, package.weight_g) == (W2, items, 400)
    state = FULFILLMENT.fold(events, state)
    assert state.packages[package.package_id].replacement_for == request_id
    assert state.status == "PLANNED" and len(state.packages) == 2
    assert decide_fulfillment(state, command) == []  # planned once
    with pytest.raises(DomainError, match=r"A x3, B x1$"):  # the replacement is not re-split
        decide_fulfillment(state, SplitManually([ManualPackage(items)]))


def test_shortage_then_cancellation_cancels_planned_packages() -> None:
    state = requested()
    state = FULFILLMENT.fold(
        decide_fulfillment(state, RecordShortage([Shortfall(sku="A", requested=3, available=1)])),
        state,
    )
    assert state.status == "AWAITING_STOCK"
    assert decide_fulfillment(state, RecordShortage(list(state.shortfalls))) == []
    planned = FULFILLMENT.fold(
        decide_fulfillment(
            state,
            PlanPackages(
                [
                    Allocation(warehouse_id=W1, sku="A", quantity=3),
                    Allocation(warehouse_id=W1, sku="B", quantity=1),
                ],
                SplitRules(),
            ),
        ),
        state,
    )
    cancelled = FULFILLMENT.fold(
        decide_fulfillment(planned, CancelFulfillment("order cancelled")), planned
    )
    assert cancelled.status == "CANCELLED"
    assert {p.status for p in cancelled.packages.values()} == {"CANCELLED"}
    assert decide_fulfillment(cancelled, CancelFulfillment("again")) == []


# --- manual split ---------------------------------------------------------------------------


def planned_two_warehouses() -> Fulfillment:
    state = requested()
    allocations = [
        Allocation(warehouse_id=W1, sku="A", quantity=2),
        Allocation(warehouse_id=W2, sku="A", quantity=1),
        Allocation(warehouse_id=W2, sku="B", quantity=1),
    ]
    return FULFILLMENT.fold(
        decide_fulfillment(state, PlanPackages(allocations, SplitRules())), state
    )


def test_a_manual_split_must_add_up_exactly() -> None:
    state = planned_two_warehouses()
    with pytest.raises(InvalidCommand, match="add up exactly"):
        decide_fulfillment(state, SplitManually([ManualPackage(lines(A=3))]))
    with pytest.raises(InvalidCommand, match="add up exactly"):
        decide_fulfillment(state, SplitManually([ManualPackage(lines(A=4, B=1))]))


def test_a_manual_package_comes_from_one_warehouse() -> None:
    state = planned_two_warehouses()
    with pytest.raises(InvalidCommand, match="one warehouse"):
        decide_fulfillment(state, SplitManually([ManualPackage(lines(A=3, B=1))]))
    [event] = decide_fulfillment(
        state,
        SplitManually(
            [ManualPackage(lines(A=1)), ManualPackage(lines(A=1)), ManualPackage(lines(A=1, B=1))]
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
        decide_fulfillment(
            requested(),
            PlanPackages(
                [
                    Allocation(warehouse_id=W1, sku="A", quantity=3),
                    Allocation(warehouse_id=W1, sku="B", quantity=1),
                ],
                SplitRules(),
            ),
        ),
        requested(),
    )
    packages = [ManualPackage(lines(A=c)) for c in cuts] + [ManualPackage(lines(B=1))]
    try:
        [event] = decide_fulfillment(state, SplitManually(packages))
    except InvalidCommand:
        assert sum(cuts) != 3
        return
    assert sum(cuts) == 3
    total: Counter[str] = Counter()
    for p in event.packages:
        total.update({i.sku: i.quantity for i in p.items})
    assert total == Counter({"A": 3, "B": 1})


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
    """The stock's fold changes working copies of the maps in place: folding in one pass, a
    step per event (`evolve`) or from a prefix's state gives one state, and the state a fold
    started from is left as it was (what the behaviour is, the decide tests above pin)."""
    one_by_one = Stock()
    for event in events:
        one_by_one = evolve_stock(one_by_one, event)
    assert STOCK.fold(events) == one_by_one

    prefix = STOCK.fold(events[:cut])
    before = (dict(prefix.on_hand), dict(prefix.reservations))
    assert STOCK.fold(events[cut:], prefix) == one_by_one
    assert (dict(prefix.on_hand), dict(prefix.reservations)) == before


@given(st.lists(stock_events, max_size=25))
@settings(max_examples=100, deadline=None)
def test_a_stock_snapshot_decodes_to_the_state_it_was_taken_of(events) -> None:
    state = STOCK.fold(events)
    assert decode_stock(json.loads(json.dumps(encode_stock(state)))) == state
