"""The dispatch deadline: counted from the order's creation ("下单后72小时内") unless the
policy says placement; the base SLA by the seller's programme (and market); extensions only
ever later, each grant once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.order.domain import seller_programme
from services.order.domain.order import ORDER
from services.order.domain.order_delivery import ExtendDispatch
from services.order.domain.order_intake import CreateOrder, EndRemorseWindow, OrderLine
from services.order.domain.order_policy import OrderPolicy
from services.order.domain.order_state import Order
from services.order.domain.seller_programme import SELLER_PROGRAMME, SetProgramme
from services.order.settings import OrderSettings
from shared.events import REGISTRY
from shared.events.order import DispatchDeadlineMoved, OrderPlaced
from tests.unit.order.builders import ADDRESS, created, decide, listing, paid

BEIJING = ZoneInfo("Asia/Shanghai")


def place(state: Order, policy: OrderPolicy = OrderPolicy()) -> OrderPlaced:
    assert state.remorse_until
    events = decide(state, EndRemorseWindow(now=state.remorse_until), policy)
    return next(e for e in events if isinstance(e, OrderPlaced))


def test_the_deadline_counts_from_the_orders_creation_not_its_placement() -> None:
    at = datetime(2026, 11, 2, 9, tzinfo=UTC)
    state = paid(created(at=at), at=at + timedelta(minutes=20))  # placed 80 min after creation
    assert place(state).dispatch_deadline == at + timedelta(hours=72)


def test_the_anchor_is_a_setting_placed_counts_from_placement() -> None:
    at = datetime(2026, 11, 2, 9, tzinfo=UTC)
    state = paid(created(at=at), at=at + timedelta(minutes=20))
    policy = OrderSettings(dispatch_deadline_from="placed").policy()
    assert state.remorse_until
    assert place(state, policy).dispatch_deadline == state.remorse_until + timedelta(hours=72)


def test_a_cross_border_seller_has_48_hours_a_local_seller_72() -> None:
    at = datetime(2026, 9, 18, 2, tzinfo=UTC)
    local = place(paid(created(at=at), at=at))
    cross = place(paid(created(at=at, programme="CROSS_BORDER"), at=at))
    assert local.dispatch_deadline == at + timedelta(hours=72)
    assert cross.dispatch_deadline == at + timedelta(hours=48)


def test_the_sla_is_configurable_per_market_and_programme() -> None:
    settings = OrderSettings(
        dispatch_sla_hours=60,
        cross_border_dispatch_sla_hours=36,
        dispatch_sla_hours_by_market={"us/CROSS_BORDER": 24},
    )
    policy = settings.policy()
    assert policy.dispatch_sla_for("CROSS_BORDER", "US") == timedelta(hours=24)
    assert policy.dispatch_sla_for("CROSS_BORDER", "GB") == timedelta(hours=36)
    assert policy.dispatch_sla_for("LOCAL", "US") == timedelta(hours=60)
    at = datetime(2026, 9, 18, 2, tzinfo=UTC)
    state = paid(created(at=at, programme="CROSS_BORDER", address=ADDRESS), at=at)
    assert place(state, policy).dispatch_deadline == at + timedelta(hours=24)
    with pytest.raises(ValueError):
        OrderSettings(dispatch_sla_hours_by_market={"US/EXPRESS": 1}).policy()


def test_an_order_created_18_sep_10h_is_due_23_sep_10h() -> None:
    """The guide's worked example: a cross-border pickup seller (2 days), whose region
    switches provider at 00:00 on 19 September (Beijing time): +3 days."""
    created_at = datetime(2026, 9, 18, 10, tzinfo=BEIJING)
    state = paid(created(at=created_at, programme="CROSS_BORDER"), at=created_at)
    switch = uuid.UUID(int=19)
    state = ORDER.fold(decide(state, ExtendDispatch(72, "switch", created_at, switch)), state)
    deadline = place(state).dispatch_deadline
    assert deadline == datetime(2026, 9, 23, 10, tzinfo=BEIJING)
    placed_state = ORDER.fold([place(state)], state)  # granted again (a redelivery): no change
    assert decide(placed_state, ExtendDispatch(72, "switch", created_at, switch)) == []


@given(
    grants=st.lists(
        st.tuples(st.integers(min_value=-48, max_value=24 * 30), st.integers(0, 3)),
        max_size=8,
    ),
    placed_after=st.integers(min_value=0, max_value=8),
)
def test_an_extension_never_shortens_the_deadline_and_a_grant_applies_once(
    grants: list[tuple[int, int]], placed_after: int
) -> None:
    state = paid(created(programme="CROSS_BORDER"))
    assert state.created_at
    granted: dict[int, int] = {}
    deadline: datetime | None = None
    for i, (hours, switch) in enumerate(grants):
        if i == placed_after:
            state = ORDER.fold([place(state)], state)
            deadline = state.dispatch_deadline
        events = decide(
            state, ExtendDispatch(hours, "switch", state.created_at, uuid.UUID(int=switch))
        )
        state = ORDER.fold(events, state)
        if hours > 0:
            granted.setdefault(switch, hours)
        if deadline is not None:
            assert state.dispatch_deadline is not None and state.dispatch_deadline >= deadline
            deadline = state.dispatch_deadline
    if state.dispatch_deadline is None:
        state = ORDER.fold([place(state)], state)
    assert state.created_at and state.dispatch_deadline
    expected = state.created_at + timedelta(hours=48 + sum(granted.values()))
    assert state.dispatch_deadline == expected


def test_a_seller_is_local_until_enrolled_and_setting_the_same_again_changes_nothing() -> None:
    assert SELLER_PROGRAMME.initial.programme == "LOCAL"
    at = datetime(2026, 9, 1, tzinfo=UTC)
    events = seller_programme.decide(
        SELLER_PROGRAMME.initial, SetProgramme("s1", "CROSS_BORDER", "op", at)
    )
    state = SELLER_PROGRAMME.fold(events)
    assert state.programme == "CROSS_BORDER"
    assert seller_programme.decide(state, SetProgramme("s1", "CROSS_BORDER", "op", at)) == []


def test_old_events_load_a_v1_order_was_a_local_sellers_and_a_v1_move_names_no_grant() -> None:
    command = CreateOrder(
        order_id=uuid.uuid4(),
        buyer_id="b1",
        seller_id="s1",
        lines=[OrderLine("A", 1)],
        listings={"A": listing("A")},
        shipping_address=ADDRESS,
        shipping_option="STANDARD",
        payment_method="CARD",
        now=datetime(2026, 9, 1, tzinfo=UTC),
        programme="CROSS_BORDER",
    )
    order_created = decide(Order(), command)[0]
    v1 = order_created.model_dump(mode="json")
    del v1["programme"]
    assert REGISTRY.decode("OrderCreated", 1, v1).programme == "LOCAL"  # type: ignore[attr-defined]
    moved = DispatchDeadlineMoved(order_id=uuid.uuid4(), hours=72, reason="switch")
    old = moved.model_dump(mode="json")
    del old["extension_id"]
    assert REGISTRY.decode("DispatchDeadlineMoved", 1, old) == moved
