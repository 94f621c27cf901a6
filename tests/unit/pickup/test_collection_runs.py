"""Collection runs: the run a ready parcel joins, and the run's task."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from services.pickup.domain.collection_runs import run_date, task_id_for
from services.pickup.domain.task import (
    TASK,
    AssignDriver,
    FlagDriverOverdue,
    OpenTask,
    decide,
)
from tests.unit.pickup.given import T0, WH


def test_runs_by_cutoff_in_the_regions_calendar_weekends_included() -> None:
    noon = time(12, 0)
    saturday_morning = datetime(2026, 11, 7, 3, 0, tzinfo=UTC)  # 10:00 Saturday in Hanoi
    assert run_date(saturday_morning, noon, "Asia/Ho_Chi_Minh") == date(2026, 11, 7)
    assert run_date(saturday_morning + timedelta(hours=3), noon, "Asia/Ho_Chi_Minh") == date(
        2026, 11, 8
    )
    assert task_id_for("WS", WH, date(2026, 11, 7)) == task_id_for("WS", WH, date(2026, 11, 7))
    assert task_id_for("WS", WH, date(2026, 11, 7)) != task_id_for("GHN", WH, date(2026, 11, 7))


def test_task_ids_are_the_ones_already_stored() -> None:
    assert task_id_for("WS", WH, date(2026, 11, 7)) == uuid.uuid5(WH, "task/WS/2026-11-07")


def test_a_run_opens_once_as_of_its_first_parcel_and_is_flagged_if_no_driver_takes_it() -> None:
    task_id = task_id_for("WS", WH, date(2026, 11, 2))
    ready_at = T0 - timedelta(hours=2)
    opened = decide(
        TASK.initial, OpenTask(task_id, "WS", WH, "s1", date(2026, 11, 2), ready_at, T0)
    )
    task = TASK.fold(opened)
    assert task.created_at == ready_at
    assert decide(task, OpenTask(task_id, "WS", WH, "s1", date(2026, 11, 2), T0, T0)) == []
    within = timedelta(hours=24)
    assert decide(task, FlagDriverOverdue(within, ready_at + timedelta(hours=23))) == []
    [late] = decide(task, FlagDriverOverdue(within, ready_at + within))
    assert decide(TASK.fold([late], task), FlagDriverOverdue(within, T0 + within * 2)) == []
    taken = TASK.fold(decide(task, AssignDriver("d1", "Minh", "+84 90", T0)), task)
    assert taken.driver_id == "d1"
    assert decide(taken, AssignDriver("d1", "Minh", "+84 90", T0)) == []
    assert decide(taken, FlagDriverOverdue(within, T0 + within * 2)) == []
