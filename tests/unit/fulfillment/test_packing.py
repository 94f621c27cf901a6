"""Which units travel in which package: the seller's automatic split rules."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from services.fulfillment.domain.packing import SplitRules, split


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
