"""Collection runs: the day's run a ready parcel joins, and the run's task id (one per
provider, warehouse and day, so every parcel of that run finds the same task)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def run_date(ready_at: datetime, cutoff: time, timezone: str) -> date:
    """The run a parcel joins: today's if it was ready before the cut-off, else tomorrow's
    (weekends included), on the region's calendar."""
    local = ready_at.astimezone(ZoneInfo(timezone))
    return local.date() if local.time() < cutoff else local.date() + timedelta(days=1)


def task_id_for(provider_code: str, warehouse_id: uuid.UUID, day: date) -> uuid.UUID:
    return uuid.uuid5(warehouse_id, f"task/{provider_code}/{day.isoformat()}")
