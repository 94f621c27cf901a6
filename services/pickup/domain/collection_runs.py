"""Collection runs: the day's run a ready parcel joins, and the run's task id (one per
provider, warehouse and day, so every parcel of that run finds the same task).

A warehouse's run comes in its daily pickup window (agreed at review): a parcel ready before
the window starts goes the same day, one ready later the next day (weekends included)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def run_date(ready_at: datetime, window_start: time, timezone: str) -> date:
    """The run a parcel joins: today's if it was ready before the day's pickup window
    starts, else tomorrow's (weekends included), on the region's calendar."""
    local = ready_at.astimezone(ZoneInfo(timezone))
    return local.date() if local.time() < window_start else local.date() + timedelta(days=1)


def moved_run_date(joined: date | None, now: datetime, window_start: time, timezone: str) -> date:
    """The new provider's run a waiting parcel moves to at a cutover (`now`): the one it was
    due on, unless that day's window has begun; then the next run from now."""
    earliest = run_date(now, window_start, timezone)
    return max(joined, earliest) if joined else earliest


def task_id_for(provider_code: str, warehouse_id: uuid.UUID, day: date) -> uuid.UUID:
    return uuid.uuid5(warehouse_id, f"task/{provider_code}/{day.isoformat()}")
