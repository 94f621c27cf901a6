"""One package once planned: its carrier's reports, its dispatch deadline (overdue, moved)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.fulfillment.domain.fulfillment import (
    FULFILLMENT,
    Fulfillment,
    SetDispatchDeadline,
    decide,
)
from services.fulfillment.domain.package import NEXT_STATUSES, MarkDispatchOverdue, RecordTracking
from shared.aggregate import NotFound
from shared.events.fulfillment import (
    CARRIER_STATUSES,
    EVENT_BY_CARRIER_STATUS,
    PACKAGE_STATUSES,
    STATUS_BY_EVENT,
    STATUS_BY_EVENT_TYPE,
    DispatchDeadlineChanged,
    DispatchOverdue,
    TrackingAnomalyRecorded,
)
from tests.unit.fulfillment.scenarios import T0, planned, ship, shipped


def report(state: Fulfillment, package_id: uuid.UUID, status: str, hours: float):  # type: ignore[no-untyped-def]
    return decide(state, RecordTracking(package_id, status, T0 + timedelta(hours=hours), T0))  # type: ignore[arg-type]


def test_tracking_follows_the_carrier_and_ignores_repeats_and_stale_reports() -> None:
    state, pid = shipped()
    for status, hour in (
        ("IN_TRANSIT", 10),
        ("OUT_FOR_DELIVERY", 30),
        ("DELIVERY_FAILED", 31),
        ("OUT_FOR_DELIVERY", 50),
    ):
        events = report(state, pid, status, hour)
        assert len(events) == 1
        state = FULFILLMENT.fold(events, state)
        assert state.packages[pid].status == status
    assert report(state, pid, "OUT_FOR_DELIVERY", 51) == []  # a repeat
    assert report(state, pid, "IN_TRANSIT", 20) == []  # older than what we know
    state = FULFILLMENT.fold(report(state, pid, "DELIVERED", 52), state)
    assert state.packages[pid].status == "DELIVERED"


def test_an_impossible_transition_is_recorded_not_applied() -> None:
    state, pid = shipped()
    state = FULFILLMENT.fold(report(state, pid, "IN_TRANSIT", 10), state)
    state = FULFILLMENT.fold(report(state, pid, "DELIVERED", 20), state)
    [anomaly] = report(state, pid, "IN_TRANSIT", 30)
    assert isinstance(anomaly, TrackingAnomalyRecorded)
    assert (anomaly.current_status, anomaly.reported_status) == ("DELIVERED", "IN_TRANSIT")
    assert FULFILLMENT.fold([anomaly], state).packages[pid].status == "DELIVERED"
    planned_state, planned_pid = planned()
    with pytest.raises(NotFound):  # no tracking number yet: the carrier cannot have it
        report(planned_state, planned_pid, "IN_TRANSIT", 1)


def test_the_carrier_status_vocabulary_is_one() -> None:
    """Every carrier status records one event, which leaves that status on the package; the
    transitions speak the same vocabulary."""
    assert list(EVENT_BY_CARRIER_STATUS) == list(CARRIER_STATUSES)
    for status, event_type in EVENT_BY_CARRIER_STATUS.items():
        assert STATUS_BY_EVENT[event_type] == status
        assert STATUS_BY_EVENT_TYPE[event_type.event_type] == status
    assert set(STATUS_BY_EVENT.values()) <= set(PACKAGE_STATUSES)
    for current, following in NEXT_STATUSES.items():
        assert current in PACKAGE_STATUSES and following <= set(CARRIER_STATUSES)


def test_dispatch_overdue_once_and_extensions_move_the_deadline() -> None:
    state, pid = planned()
    deadline = state.packages[pid].dispatch_deadline
    assert decide(state, MarkDispatchOverdue(pid, deadline - timedelta(seconds=1))) == []
    moved_to = deadline + timedelta(hours=72)
    [changed] = decide(state, SetDispatchDeadline(moved_to, "provider switch", T0))
    assert isinstance(
        changed, DispatchDeadlineChanged
    ) and changed.dispatch_deadline == deadline + timedelta(hours=72)
    extended = FULFILLMENT.fold([changed], state)
    assert decide(extended, MarkDispatchOverdue(pid, deadline + timedelta(hours=1))) == []
    [overdue] = decide(state, MarkDispatchOverdue(pid, deadline))
    assert isinstance(overdue, DispatchOverdue)
    late = FULFILLMENT.fold([overdue], state)
    assert decide(late, MarkDispatchOverdue(pid, deadline + timedelta(days=1))) == []
    ready = FULFILLMENT.fold([ship(state, pid)], state)
    assert decide(ready, MarkDispatchOverdue(pid, deadline)) == []
